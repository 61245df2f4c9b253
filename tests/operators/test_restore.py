"""StarRocksRestoreOperator through dag.test(): a migration to a second emulator, renames, refusals, MVs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sr_airflow.engine.catalog import SnapshotKind
from sr_airflow.operators.backup import StarRocksBackupOperator
from sr_airflow.storage import get_storage
from sr_airflow.storage.catalog_store import CatalogStore
from tests.operators.dags import sr_operator_test_dags as dags
from tests.support.dags import run_dag
from tests.support.s3 import BUCKET, S3_KEY, S3_SECRET
from tests.support.task_context import task_context


def _backup(emu, label: str) -> None:
    emu.sql(f"BACKUP DATABASE sales SNAPSHOT {label} TO repo_r")
    emu.wait_state("BACKUP", "sales", ("FINISHED",))


@pytest.fixture(scope="module")
def clusters(sales_db, shared_target_emulator, s3_server):
    emulator = sales_db
    emulator.sql("CREATE MATERIALIZED VIEW sales.mv1 REFRESH ASYNC AS "
                 "SELECT day, sum(amount) AS total FROM orders GROUP BY day")
    emulator.create_repository("repo_r", s3_server, "restore-tests")
    _backup(emulator, "snap_full")
    shared_target_emulator.create_repository("repo_r", s3_server, "restore-tests", read_only=True)
    return emulator, shared_target_emulator


def _restores(emu) -> int:
    return emu.count("RESTORE")


def test_restore_migrates_a_database_to_another_cluster(clusters):
    _, target = clusters
    states, _ = run_dag(dags.restore_to_target)
    assert states["restore"] == "success"
    assert target.sql("SELECT count(*), sum(amount) FROM sales.orders")[0][0] == 3
    result = dags.RESULTS["restore_to_target.restore"]
    assert result["database"] == "sales"
    assert result["backup_timestamp"]
    assert result["inactive_materialized_views"] == {}
    assert set(result["phase_seconds"]) >= {"download", "total"}


def test_restore_with_a_database_rename(clusters):
    source, _ = clusters
    states, _ = run_dag(dags.restore_renamed)
    assert states["restore"] == "success"
    assert source.sql("SELECT count(*) FROM sales_copy.orders")[0][0] == 3
    assert any("DATABASE `sales` AS `sales_copy`" in q for q in source.queries() if q.startswith("RESTORE"))


def test_existing_tables_without_allow_overwrite_are_refused_before_restore(clusters, capsys):
    _, target = clusters
    target.sql("INSERT INTO sales.orders VALUES (99, 1, '2024-01-20')")
    before = _restores(target)
    states, _ = run_dag(dags.restore_again_refused)
    assert states["restore"] == "failed"
    assert _restores(target) == before
    assert target.sql("SELECT count(*) FROM sales.orders")[0][0] == 4  # untouched
    assert "table(s) mv1, orders already exist; set allow_overwrite=True" in capsys.readouterr().out


def test_a_different_schema_is_refused_before_restore_even_with_allow_overwrite(clusters, aws_conn, capsys):
    _, target = clusters
    target.sql("CREATE DATABASE other",
               "CREATE TABLE other.orders (id INT, note VARCHAR(20)) DUPLICATE KEY(id) "
               "DISTRIBUTED BY HASH(id) BUCKETS 1",
               "INSERT INTO other.orders VALUES (1, 'mine')")
    before = _restores(target)
    states, _ = run_dag(dags.restore_other_schema)
    assert states["restore"] == "failed"
    assert _restores(target) == before  # refused before RESTORE was sent
    assert target.sql("SELECT id, note FROM other.orders") == ((1, "mine"),)
    assert "table(s) orders exist with a different schema than the snapshot holds" in capsys.readouterr().out


def test_allow_overwrite_restores_over_tables_of_the_same_schema(clusters, aws_conn):
    _, target = clusters
    before = _restores(target)
    states, _ = run_dag(dags.restore_overwrite)
    assert states["restore"] == "success"
    assert _restores(target) == before + 1
    assert target.sql("SELECT count(*) FROM sales.orders")[0][0] == 3  # the snapshot's rows again


def test_verify_passes_on_the_restored_tables_against_the_snapshot_and_the_source(clusters, aws_conn):
    states, _ = run_dag(dags.verify_target)
    assert states["verify"] == "success"
    result = dags.RESULTS["verify_target"]
    assert result == {"ok": True, "partitions_checked": 2, "mismatches": []}


def test_verify_fails_when_the_target_changed_after_the_restore(clusters, aws_conn, capsys):
    _, target = clusters
    target.sql("INSERT INTO sales.orders VALUES (100, 5, '2024-02-20')")
    states, _ = run_dag(dags.verify_target)
    assert states["verify"] == "failed"
    out = capsys.readouterr().out
    assert "Restore of snapshot 'snap_full' into database 'sales' does not verify" in out
    assert "table 'orders' partition 'p2': version expected" in out


def test_materialized_views_are_reactivated_once_their_base_tables_are_restored(clusters):
    _, target = clusters
    states, _ = run_dag(dags.restore_mv_then_base)
    assert states["mv_first"] == "success" and states["base_then"] == "success"
    first = dags.RESULTS["restore_mv_then_base.mv_first"]
    assert "mv1" in first["inactive_materialized_views"]
    assert first["inactive_materialized_views"]["mv1"]
    second = dags.RESULTS["restore_mv_then_base.base_then"]
    assert second["reactivated_materialized_views"] == ["mv1"]
    assert second["inactive_materialized_views"] == {}
    rows = target.sql("SELECT IS_ACTIVE FROM information_schema.materialized_views "
                      "WHERE TABLE_SCHEMA = 'mvdb' AND TABLE_NAME = 'mv1'")
    assert rows == (("true",),)


def test_a_restore_onto_a_busy_database_fails_with_on_busy_fail(clusters, capsys):
    source, _ = clusters
    with source.slow_jobs(3.0):
        source.sql("BACKUP DATABASE sales SNAPSHOT busy_for_restore TO repo_r")
        before = _restores(source)
        states, _ = run_dag(dags.restore_busy_fail)
    assert states["restore"] == "failed"
    assert _restores(source) == before
    assert "Restore into database 'sales' refused: another job is running" in capsys.readouterr().out
    source.wait_state("BACKUP", "sales", ("FINISHED",))


def test_a_chain_from_the_catalog_is_restored_link_by_link(clusters, aws_conn, s3_server):
    source, _ = clusters
    states, _ = run_dag(dags.backup_for_chain)
    assert states["backup"] == "success"
    full = dags.RESULTS["backup_for_chain"]["snapshot_label"]
    source.sql("INSERT INTO sales.orders VALUES (4, 1.5, '2024-02-15')")
    p2_at_backup = _versions(source, "sales")["p2"]
    storage = get_storage(f"s3://{BUCKET}/restore-tests", endpoint=s3_server.endpoint_url,
                          aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET, region_name="us-east-1")
    store = CatalogStore(storage, "repo_r")
    # the incremental is the backup operator's work (one partition, recorded in the full's chain), as a plan
    # from sr_incremental_backup would hand it over
    StarRocksBackupOperator(
        task_id="backup", starrocks_conn_id="sr_main", repository="repo_r", database="sales",
        tables=[{"name": "orders", "partitions": ["p2"]}], snapshot_label="snap_incr1", snapshot_kind="incremental",
        parent_label=full, catalog_scope=dict(store.get(full).scope), storage_conn_id=aws_conn, deferrable=False,
        poll_interval=0.1, max_poll_interval=0.5).execute(task_context("chain_incr1"))
    incremental = store.get("snap_incr1")
    assert (incremental.snapshot_kind, incremental.parent_label, incremental.is_good) == (SnapshotKind.INCREMENTAL,
                                                                                          full, True)
    assert {p.partition: p.version for p in incremental.partitions} == {"p2": p2_at_backup}

    before = _restores(source)
    states, _ = run_dag(dags.restore_chain)
    assert states["restore"] == "success"
    result = dags.RESULTS["restore_chain.restore"]
    assert result["chain"] == [full, "snap_incr1"]
    assert _restores(source) == before + 2
    assert source.sql("SELECT count(*) FROM sales_pitr.orders")[0][0] == 4
    assert _versions(source, "sales_pitr")["p2"] == p2_at_backup  # the source's p2 as the incremental took it


def _versions(emu, database: str) -> dict[str, int]:
    return dict(emu.sql("SELECT PARTITION_NAME, VISIBLE_VERSION FROM information_schema.partitions_meta "
                        f"WHERE DB_NAME = '{database}' AND TABLE_NAME = 'orders'"))


COLUMN_TYPES = json.loads((Path(__file__).parents[1] / "fidelity" / "fixtures" / "column_types.json").read_text())


def _typed_tables(database: str, *changes: tuple[str, str]) -> tuple[str, ...]:
    """The golden CREATE TABLEs of every column type (tests/fidelity/fixtures/column_types.json) in ``database``,
    with ``changes`` (old text, new text) applied."""
    statements = []
    for name, ddl in COLUMN_TYPES["tables"].items():
        for old, new in changes:
            ddl = ddl.replace(old, new)
        statements.append(ddl.replace(f"CREATE TABLE {name}", f"CREATE TABLE {database}.{name}", 1))
    return tuple(statements)


@pytest.fixture(scope="module")
def typed_snapshot(clusters):
    source, target = clusters
    source.sql("CREATE DATABASE typed", *_typed_tables("typed"), "INSERT INTO typed.all_types (k1) VALUES (1)")
    source.sql("BACKUP DATABASE typed SNAPSHOT snap_types TO repo_r")
    source.wait_state("BACKUP", "typed", ("FINISHED",))
    return source, target


def test_restore_into_existing_tables_of_every_column_type_of_the_same_schema(typed_snapshot, aws_conn):
    _, target = typed_snapshot
    # at the RESTORE's replication_num (none given: 3), not the golden tables' 1: StarRocks overwrites a partition
    # only at its own (RestoreJob.genFileMappingWhenBackupReplicasEqual)
    target.sql("CREATE DATABASE typed", *_typed_tables("typed", (' PROPERTIES ("replication_num" = "1")', "")))
    before = _restores(target)
    states, _ = run_dag(dags.restore_types)
    assert states["restore"] == "success"
    assert _restores(target) == before + 1
    assert target.sql("SELECT count(*) FROM typed.all_types")[0][0] == 1


@pytest.mark.parametrize("change,reason", [
    (("c_varchar VARCHAR(100)", "c_varchar VARCHAR(101)"),
     "all_types: column 'c_varchar' is varchar(101) in the table, varchar(100) in the snapshot"),
    (("c_decimal64 DECIMAL64(18, 4)", "c_decimal64 DECIMAL64(18, 5)"),
     "all_types: column 'c_decimal64' is decimal(18, 5) in the table, decimal(18, 4) in the snapshot"),
])
def test_a_length_or_scale_change_in_any_typed_table_is_refused_before_restore(typed_snapshot, aws_conn, capsys,
                                                                               change, reason):
    _, target = typed_snapshot
    target.sql("DROP DATABASE IF EXISTS typed_changed", "CREATE DATABASE typed_changed",
               *_typed_tables("typed_changed", change))
    before = _restores(target)
    states, _ = run_dag(dags.restore_types_changed)
    assert states["restore"] == "failed"
    assert _restores(target) == before  # refused before RESTORE was sent
    out = capsys.readouterr().out
    assert "table(s) all_types exist with a different schema than the snapshot holds" in out and reason in out
