"""sr_incremental_backup through dag.test(): a drop with no other change still reaches the catalog (and a
point-in-time restore after it leaves the dropped object out, before it brings it back), a changed table comment
ships the table, and a run without a logical date."""

from __future__ import annotations

import time

import pendulum
import pytest

from dags.sr_incremental_backup import plan_inputs
from sr_airflow.storage import get_storage
from sr_airflow.storage.catalog_store import CatalogStore
from tests.support.dags import states
from tests.support.s3 import BUCKET, S3_KEY, S3_SECRET
from tests.support.seeds import incremental_config as config
from tests.support.seeds import restore_config, seed_daily


def plan_of(dag_run) -> dict:
    ti = next(t for t in dag_run.get_task_instances() if t.task_id == "plan")
    return ti.xcom_pull(task_ids="plan", map_indexes=0)


def newest_entry(s3_server, prefix: str):
    storage = get_storage(f"s3://{BUCKET}/{prefix}", endpoint=s3_server.endpoint_url, aws_access_key_id=S3_KEY,
                          aws_secret_access_key=S3_SECRET, region_name="us-east-1")
    return list(CatalogStore(storage, f"{prefix}_repo").load())[-1]


def restored_tables(emu, database: str) -> list[str]:
    return sorted(r[0] for r in emu.sql(f"SELECT TABLE_NAME FROM information_schema.tables WHERE TABLE_SCHEMA = "
                                        f"'{database}'"))


def restore(load_dag, emu, aws_conn, prefix: str, conf: dict):
    run = load_dag("sr_restore", restore_config(emu, aws_conn, prefix)).test(run_conf=conf)
    assert states(run)["restore"] == "success", states(run)
    return run


@pytest.mark.slow
def test_a_drop_alone_is_recorded_and_a_restore_after_it_leaves_the_object_out(emulator, target_emulator, aws_conn,
                                                                                 s3_server, load_dag):
    seed_daily(emulator, "drops")
    emulator.sql("CREATE VIEW drops.v_dims AS SELECT k FROM drops.dims")
    backup = load_dag("sr_incremental_backup", config(emulator, aws_conn, "drops", "drops", "changed"))
    assert states(backup.test())["backup[0]"] == "success"  # full
    before_drop = pendulum.now("UTC").to_iso8601_string()
    time.sleep(1.1)  # the behaviour under test: the drop's snapshot is taken in a later second than `before_drop`

    emulator.sql("DROP TABLE drops.dims")
    run = backup.test()
    plan = plan_of(run)
    assert plan["empty"] is False and {"table": "dims", "partition": None} in plan["tombstones"], plan
    assert states(run)["backup[0]"] == "success"
    assert [(t.table, t.partition) for t in newest_entry(s3_server, "drops").tombstones] == [("dims", None)]

    emulator.sql("DROP VIEW drops.v_dims")
    run = backup.test()
    assert plan_of(run)["empty"] is False and states(run)["backup[0]"] == "success"
    assert "v_dims" not in newest_entry(s3_server, "drops").census.views

    restore(load_dag, target_emulator, aws_conn, "drops", {"database": "drops", "target_database": "drops_now"})
    assert restored_tables(target_emulator, "drops_now") == ["events", "per_day"]  # no dims, no v_dims
    restore(load_dag, target_emulator, aws_conn, "drops",
            {"database": "drops", "target_database": "drops_then", "point_in_time": before_drop})
    assert restored_tables(target_emulator, "drops_then") == ["dims", "events", "per_day", "v_dims"]

    before = len([q for q in emulator.queries() if q.startswith("BACKUP")])
    run = backup.test()  # nothing changed since: no job
    assert plan_of(run)["empty"] is True and states(run)["backup[0]"] == "skipped"
    assert len([q for q in emulator.queries() if q.startswith("BACKUP")]) == before


@pytest.mark.slow
def test_a_changed_table_comment_ships_the_table_and_a_restore_brings_the_comment(emulator, target_emulator,
                                                                                  aws_conn, load_dag):
    seed_daily(emulator, "comments")
    backup = load_dag("sr_incremental_backup", config(emulator, aws_conn, "comments", "comments", "changed"))
    assert states(backup.test())["backup[0]"] == "success"  # full
    emulator.sql('ALTER TABLE comments.events COMMENT = "daily orders"')
    run = backup.test()
    plan = plan_of(run)
    assert plan["tables"] == ["events"] and plan["objects"]["reasons"]["table events"] == "schema_changed", plan
    assert states(run)["backup[0]"] == "success"

    restore(load_dag, target_emulator, aws_conn, "comments",
            {"database": "comments", "target_database": "comments_now"})
    comments = dict(target_emulator.sql("SELECT TABLE_NAME, TABLE_COMMENT FROM information_schema.tables "
                                        "WHERE TABLE_SCHEMA = 'comments_now' AND TABLE_NAME = 'events'"))
    assert comments == {"events": "daily orders"}


def test_changed_mode_runs_without_a_logical_date(emulator, aws_conn, load_dag):
    seed_daily(emulator, "no_date")
    backup = load_dag("sr_incremental_backup", config(emulator, aws_conn, "no-date", "no_date", "changed"))
    run = backup.test(logical_date=None)
    assert states(run)["plan_inputs"] == "success" and states(run)["backup[0]"] == "success"


def test_logical_date_mode_refuses_a_run_without_a_logical_date(emulator, aws_conn, load_dag):
    backup = load_dag("sr_incremental_backup", config(emulator, aws_conn, "no-date2", "no_date", "logical_date"))
    run = backup.test(logical_date=None)
    assert states(run)["plan_inputs"] == "failed"
    params = {"databases": ["no_date"], "mode": "logical_date", "partition_template": "p{{ ds_nodash }}"}
    with pytest.raises(ValueError, match=r"mode 'logical_date' needs a run with a logical date"):
        plan_inputs({"params": params, "logical_date": None, "task": None})
