"""sr_restore through dag.test(): a point-in-time restore resolves the chain from the catalog, link by link."""

from __future__ import annotations

import time

import pendulum
import pytest

from tests.support.dags import states
from tests.support.seeds import incremental_config as config
from tests.support.seeds import restore_config, seed_daily

pytestmark = pytest.mark.slow


def rows_by_partition(emu, database: str) -> dict[str, tuple[int, int]]:
    rows = emu.sql("SELECT PARTITION_NAME, ROW_COUNT, VISIBLE_VERSION FROM information_schema.partitions_meta "
                   f"WHERE DB_NAME = '{database}' AND TABLE_NAME = 'events'")
    return {name: (count, version) for name, count, version in rows}


def test_point_in_time_restores_the_chain_into_another_cluster(emulator, target_emulator, aws_conn, load_dag):
    seed_daily(emulator, "pitr")
    backup = load_dag("sr_incremental_backup", config(emulator, aws_conn, "pitr", "pitr", "changed"))
    assert states(backup.test())["backup[0]"] == "success"  # full
    emulator.sql("INSERT INTO pitr.events VALUES (5, '2024-01-03'), (6, '2024-01-03')")
    assert states(backup.test())["backup[0]"] == "success"  # incremental 1
    at_first_incremental = rows_by_partition(emulator, "pitr")
    moment = pendulum.now("UTC").to_iso8601_string()
    time.sleep(1.1)  # the behaviour under test: the next snapshot is taken in a later second than `moment`
    emulator.sql("ALTER TABLE pitr.events DROP PARTITION p20240104",
                 "INSERT INTO pitr.events VALUES (7, '2024-01-01')")
    assert states(backup.test())["backup[0]"] == "success"  # incremental 2, with a tombstone
    latest = rows_by_partition(emulator, "pitr")

    restore = load_dag("sr_restore", restore_config(target_emulator, aws_conn, "pitr"))
    restores_before = target_emulator.count("RESTORE")
    dry = restore.test(run_conf={"database": "pitr", "point_in_time": moment, "target_database": "pitr_then",
                                 "dry_run": True})
    assert states(dry) == {"create_repository": "success", "restore": "success", "restored": "success",
                           "verify": "skipped", "apply_access": "skipped"}  # the plan only: nothing to verify
    planned = next(t for t in dry.get_task_instances() if t.task_id == "restore").xcom_pull(task_ids="restore")
    assert planned["dry_run"] and len(planned["plan"]["jobs"]) == 2
    assert target_emulator.count("RESTORE") == restores_before  # nothing sent

    restore = load_dag("sr_restore", restore_config(target_emulator, aws_conn, "pitr"))
    run = restore.test(run_conf={"database": "pitr", "point_in_time": moment, "target_database": "pitr_then",
                                 "verify": "versions"})
    assert states(run) == {"create_repository": "success", "restore": "success", "restored": "success",
                           "verify": "success", "apply_access": "success"}
    result = next(t for t in run.get_task_instances() if t.task_id == "restore").xcom_pull(task_ids="restore")
    assert len(result["chain"]) == 2  # the full and the first incremental, each partition from one of them
    assert rows_by_partition(target_emulator, "pitr_then") == at_first_incremental

    restore = load_dag("sr_restore", restore_config(target_emulator, aws_conn, "pitr"))  # a fresh parse, as
    # the scheduler gives each run: dag.test() keeps the previous run's conf in the DAG object's params
    run = restore.test(run_conf={"database": "pitr", "target_database": "pitr_now", "verify": "counts",
                                 "source_conn_id": emulator.conn_id})
    assert states(run) == {"create_repository": "success", "restore": "success", "restored": "success",
                           "verify": "success", "apply_access": "success"}
    result = next(t for t in run.get_task_instances() if t.task_id == "restore").xcom_pull(task_ids="restore")
    assert len(result["chain"]) == 3
    # the dropped partition is never restored (its tombstone ends it): nothing to drop afterwards
    assert "p20240104" not in str(result["plan"]["jobs"])
    assert not any("DROP PARTITION" in q.upper() for q in target_emulator.queries())
    assert rows_by_partition(target_emulator, "pitr_now") == latest
    assert sorted(r[0] for r in target_emulator.sql("SELECT k FROM pitr_now.dims")) == [1]


def test_restore_refuses_to_overwrite_an_existing_table_without_permission(emulator, target_emulator, aws_conn,
                                                                           load_dag):
    seed_daily(emulator, "guard")
    backup = load_dag("sr_incremental_backup", config(emulator, aws_conn, "guard", "guard", "changed"))
    assert states(backup.test())["backup[0]"] == "success"
    seed_daily(target_emulator, "guard")  # the same tables already exist on the target
    target_emulator.sql("INSERT INTO guard.events VALUES (42, '2024-01-02')")
    before = rows_by_partition(target_emulator, "guard")
    restores_before = target_emulator.count("RESTORE")
    restore = load_dag("sr_restore", restore_config(target_emulator, aws_conn, "guard"))
    run = restore.test(run_conf={"database": "guard"})
    assert states(run)["restore"] == "failed"
    assert target_emulator.count("RESTORE") == restores_before  # refused before RESTORE was sent
    assert rows_by_partition(target_emulator, "guard") == before  # existing data untouched


def test_replicas_timeout_and_allow_load_from_the_form_reach_the_restore(emulator, target_emulator, aws_conn,
                                                                          load_dag):
    """A snapshot of 3-replica tables restored into a 1-replica cluster: the form's replication_num (and timeout,
    allow_load) become the RESTORE statement's properties. (The emulator keeps the restored table's own
    replication_num property as backed up, so partitions_meta cannot show the replicas here.)"""
    emulator.sql("CREATE DATABASE rep3", "CREATE TABLE rep3.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) "
                 "BUCKETS 1 PROPERTIES (\"replication_num\" = \"3\")", "INSERT INTO rep3.t VALUES (1), (2)")
    backup = load_dag("sr_incremental_backup", config(emulator, aws_conn, "rep3", "rep3", "changed"))
    assert states(backup.test())["backup[0]"] == "success"

    restore = load_dag("sr_restore", restore_config(target_emulator, aws_conn, "rep3"))
    before = len(target_emulator.queries())
    run = restore.test(run_conf={"database": "rep3", "target_database": "rep1", "replication_num": 1,
                                 "timeout": 900, "allow_load": True})
    assert states(run) == {"create_repository": "success", "restore": "success", "restored": "success",
                           "verify": "success", "apply_access": "success"}
    restores = [q for q in target_emulator.queries()[before:] if q.startswith("RESTORE ")]
    assert len(restores) == 1, restores
    assert '"replication_num" = "1"' in restores[0]
    assert '"timeout" = "900"' in restores[0] and '"allow_load" = "true"' in restores[0]
    assert target_emulator.sql("SELECT count(*) FROM rep1.t") == ((2,),)
