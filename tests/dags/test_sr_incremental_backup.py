"""sr_incremental_backup through dag.test(): changed partitions, nothing-changed runs, logical-date backfills."""

from __future__ import annotations

import pendulum
import pytest

from tests.support.dags import states
from tests.support.seeds import incremental_config as config
from tests.support.seeds import seed_daily


def plan_of(dag_run) -> dict:
    ti = next(t for t in dag_run.get_task_instances() if t.task_id == "plan")
    return ti.xcom_pull(task_ids="plan", map_indexes=0)


def backed_up(emu, database: str) -> list[str]:
    return [q for q in emu.queries() if q.startswith(f"BACKUP DATABASE `{database}`")]


def test_changed_mode_full_then_only_the_changed_partition_then_nothing(emulator, aws_conn, load_dag):
    seed_daily(emulator, "inc_changed")
    dag = load_dag("sr_incremental_backup", config(emulator, aws_conn, "inc-changed", "inc_changed", "changed"))

    first = dag.test()
    assert states(first)["backup[0]"] == "success"
    assert plan_of(first)["snapshot_kind"] == "full"
    assert backed_up(emulator, "inc_changed")[-1].endswith("TO `inc-changed_repo`")  # whole database

    emulator.sql("INSERT INTO inc_changed.events VALUES (5, '2024-01-03')",
                 "REFRESH MATERIALIZED VIEW inc_changed.per_day")  # the MV's version moves too
    second = dag.test()
    plan = plan_of(second)
    assert (plan["snapshot_kind"], plan["tables"]) == ("incremental", [{"name": "events", "partitions": ["p20240103"]}])
    assert states(second)["backup[0]"] == "success"
    assert "ON (TABLE `events` PARTITION (`p20240103`))" in backed_up(emulator, "inc_changed")[-1]

    before = len(backed_up(emulator, "inc_changed"))
    third = dag.test()
    assert plan_of(third)["empty"] is True
    assert states(third)["backup[0]"] == "skipped"
    assert len(backed_up(emulator, "inc_changed")) == before  # nothing changed: no job


@pytest.mark.slow
def test_logical_date_backfill_backs_up_each_date_partition_once(emulator, aws_conn, load_dag):
    seed_daily(emulator, "inc_dates")
    dag = load_dag("sr_incremental_backup", config(emulator, aws_conn, "inc-dates", "inc_dates", "logical_date"))
    days = [pendulum.datetime(2024, 1, d, tz="UTC") for d in (1, 2, 3)]
    kinds = []
    for day in days:
        emulator.sql(f"INSERT INTO inc_dates.events VALUES (9, '{day.to_date_string()}')")
        run = dag.test(logical_date=day, run_after=day)
        assert states(run)["backup[0]"] == "success"
        kinds.append((plan_of(run)["snapshot_kind"], plan_of(run)["tables"]))
    assert kinds[0][0] == "full"  # a chain starts with a full
    assert kinds[1:] == [("incremental", [{"name": "events", "partitions": ["p20240102"]}]),
                         ("incremental", [{"name": "events", "partitions": ["p20240103"]}])]

    before = len(backed_up(emulator, "inc_dates"))
    rerun = dag.test(logical_date=days[2], run_after=days[2])
    assert plan_of(rerun)["empty"] is True and states(rerun)["backup[0]"] == "skipped"
    assert len(backed_up(emulator, "inc_dates")) == before
