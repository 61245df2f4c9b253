"""Overlapping runs of sr_incremental_backup (a backfill beside a scheduled run: Airflow 3 backfills obey their own
``--max-active-runs``, not the DAG's) through the DAG's own operators and ``backup_arguments``, against the
emulator and the S3 server: plans made from the same catalog state, backups in either order, then a restore by
partition and its verification."""

from __future__ import annotations

import itertools
import runpy

import pendulum
import pytest

from tests.support.airflow_env import SHIPPED_DAGS
from tests.support.s3 import BUCKET
from tests.support.seeds import seed_daily
from tests.support.task_context import task_context

FAST = {"deferrable": False, "poll_interval": 0.05, "max_poll_interval": 0.2}
RUNS = itertools.count(1)


class Runs:
    """The plan, backup, restore and verify tasks of the shipped DAGs, one fake DAG run per call."""

    def __init__(self, emu, aws_conn: str, s3_server, prefix: str, database: str):
        self.emu, self.aws_conn, self.database = emu, aws_conn, database
        self.repository, self.location = f"{prefix}_repo", f"s3://{BUCKET}/{prefix}"
        emu.create_repository(self.repository, s3_server, prefix)
        self.dag = runpy.run_path(str(SHIPPED_DAGS / "sr_incremental_backup.py"))

    def _context(self, kind: str) -> dict:
        return task_context(f"overlap__{self.database}__{kind}{next(RUNS)}", pendulum.now("UTC"))

    def plan(self, mode: str = "changed", partitions: list[str] | None = None) -> dict:
        from sr_airflow.operators.plan import StarRocksPlanBackupOperator

        op = StarRocksPlanBackupOperator(task_id="plan", starrocks_conn_id=self.emu.conn_id,
                                         repository=self.repository, database=self.database,
                                         storage_conn_id=self.aws_conn, location=self.location, mode=mode,
                                         partitions=partitions, max_incrementals=None, max_full_age_days=None)
        return op.execute(self._context("plan"))

    def backup(self, plan: dict) -> dict:
        from sr_airflow.operators.backup import StarRocksBackupOperator

        op = StarRocksBackupOperator(task_id="backup", starrocks_conn_id=self.emu.conn_id,
                                     repository=self.repository, storage_conn_id=self.aws_conn,
                                     location=self.location, cancel_on_kill=False,
                                     **self.dag["backup_arguments"](plan), **FAST)
        return op.execute(self._context("backup"))

    def restore(self, target: str, **kwargs) -> tuple[dict, dict]:
        from sr_airflow.operators.restore import StarRocksRestoreChainOperator

        context = self._context("restore")
        restore = StarRocksRestoreChainOperator(task_id="restore", starrocks_conn_id=self.emu.conn_id,
                                                repository=self.repository, database=self.database,
                                                target_database=target, storage_conn_id=self.aws_conn,
                                                location=self.location, cancel_on_kill=False, **kwargs, **FAST)
        result = restore.execute(context)
        if result.get("dry_run"):
            return result, {}
        return result, self.verify(target, result)

    def verify(self, target: str, result: dict, **kwargs) -> dict:
        from sr_airflow.operators.verify import StarRocksVerifyRestoreOperator

        verify = StarRocksVerifyRestoreOperator(task_id="verify", starrocks_conn_id=self.emu.conn_id,
                                                database=target, repository=self.repository,
                                                snapshot_label=result["snapshot_label"],
                                                point_in_time=result["point_in_time"], source_database=self.database,
                                                storage_conn_id=self.aws_conn, location=self.location, **kwargs,
                                                **FAST)
        return verify.execute(self._context("verify"))

    def rows(self, database: str) -> list[tuple]:
        return sorted(self.emu.sql(f"SELECT k, d FROM {database}.events"))


@pytest.fixture
def runs(emulator, aws_conn, s3_server):
    emulator.set_phase(0.02)  # this module's emulator: short job phases, the tests run many jobs
    database = f"overlap_{next(RUNS)}"
    seed_daily(emulator, database)
    return Runs(emulator, aws_conn, s3_server, database, database)


def test_two_incrementals_planned_from_one_parent_restore_with_both_partitions(runs):
    """The sibling case: two logical-date runs (a backfill) plan from the same catalog — both name the full as
    parent — and each backs up its own day; the restore of the newest holds both days."""
    from sr_airflow.engine.database_metadata import metadata_query
    from sr_airflow.engine.schema import functions_query

    runs.backup(runs.plan())  # the full
    runs.emu.sql(f"INSERT INTO {runs.database}.events VALUES (20, '2024-01-02'), (30, '2024-01-03')")
    day_2 = runs.plan("logical_date", ["p20240102"])
    before = len(runs.emu.queries())
    day_3 = runs.plan("logical_date", ["p20240103"])  # planned before day_2's backup is recorded
    # what the plan read besides the session set-up, its repository's location and the server version: one
    # information_schema statement (partitions, MVs, columns, tables_config, views) and the functions, none per table
    metadata = [q for q in runs.emu.queries()[before:]
                if not q.startswith("SET ") and q not in ("SHOW REPOSITORIES", "SELECT current_version()")]
    assert metadata == [metadata_query(runs.database), functions_query(runs.database)]
    assert day_2["parent_label"] == day_3["parent_label"] is not None
    assert (day_2["tables"], day_3["tables"]) == ([{"name": "events", "partitions": ["p20240102"]}],
                                                  [{"name": "events", "partitions": ["p20240103"]}])
    runs.backup(day_2)
    newest = runs.backup(day_3)
    source = runs.rows(runs.database)

    dry, _ = runs.restore(f"{runs.database}_dry", dry_run=True)
    assert dry["plan"]["snapshot_label"] == newest["snapshot_label"]
    assert [sorted(p for t in job["tables"] for p in t["partitions"]) for job in dry["plan"]["jobs"]] == [
        ["dims", "p20240101", "p20240104"], ["p20240102"], ["p20240103"]]  # each partition once, newest holder
    assert not runs.emu.sql(f"SHOW DATABASES LIKE '{runs.database}_dry'")  # a dry run sends nothing

    result, verified = runs.restore(f"{runs.database}_copy")
    assert result["snapshot_label"] == newest["snapshot_label"]
    assert runs.rows(f"{runs.database}_copy") == source  # both days' new rows
    assert verified["ok"] and verified["partitions_checked"] == 5  # events' four days and dims
    # verification compares with what the snapshots recorded: a row more in one partition is caught
    runs.emu.sql(f"INSERT INTO {runs.database}_copy.events VALUES (99, '2024-01-02')")
    again = runs.verify(f"{runs.database}_copy", result, fail_on_mismatch=False)
    assert {(m["partition"], m["what"]) for m in again["mismatches"]} == {("p20240102", "version"),
                                                                          ("p20240102", "row_count")}


def test_overlapping_changed_runs_leave_no_gap(runs):
    """Run A plans while a partition is dropped (its plan sees a tombstone), the partition is re-created and
    loaded, run B plans (ships it) and backs up first, then A backs up: A's snapshot is the newest. Its tombstones
    are read when its job holds the database, not taken from its stale plan, so the re-created partition is
    restored."""
    db = runs.database
    runs.backup(runs.plan())  # the full
    runs.emu.sql(f"ALTER TABLE {db}.events DROP PARTITION p20240104",
                 f"INSERT INTO {db}.events VALUES (11, '2024-01-01')")
    plan_a = runs.plan()
    assert plan_a["tombstones"] == [{"table": "events", "partition": "p20240104"}]
    runs.emu.sql(f"ALTER TABLE {db}.events ADD PARTITION p20240104 VALUES LESS THAN ('2024-01-05')",
                 f"INSERT INTO {db}.events VALUES (44, '2024-01-04')")
    plan_b = runs.plan()
    assert plan_a["parent_label"] == plan_b["parent_label"]
    runs.backup(plan_b)
    newest = runs.backup(plan_a)
    source = runs.rows(db)
    assert (44, pendulum.date(2024, 1, 4)) in source

    result, verified = runs.restore(f"{db}_copy")
    assert result["snapshot_label"] == newest["snapshot_label"]
    assert runs.rows(f"{db}_copy") == source
    assert verified["ok"], verified["mismatches"]


def test_a_table_with_temporary_partitions_is_left_out_and_the_run_fails_naming_it(runs):
    """StarRocks refuses to back up a table with temporary partitions (BackupJob: "Do not support backing up table
    with temp partitions"): everything else is backed up and recorded, the table is named in the catalog and the
    task fails naming it; a restore says which snapshot left it out."""
    from sr_airflow.engine.errors import JobFailedError

    db = runs.database
    runs.backup(runs.plan())  # the full
    runs.emu.sql(f"ALTER TABLE {db}.events ADD TEMPORARY PARTITION tp VALUES LESS THAN ('2024-01-02')",
                 f"INSERT INTO {db}.dims VALUES (2, 'b')")
    plan = runs.plan()
    assert list(plan["excluded_tables"]) == ["events"] and plan["tables"] == ["dims"]
    with pytest.raises(JobFailedError, match=r"recorded, but left out table\(s\) events \(it has temporary"):
        runs.backup(plan)
    assert runs.emu.sql(f"SHOW BACKUP FROM {db}")[-1][3] == "FINISHED"  # dims was backed up

    result, _ = runs.restore(f"{db}_dry", dry_run=True)
    assert "events" in result["plan"]["excluded_tables"]
    assert "restored as of an earlier snapshot" in result["plan"]["excluded_tables"]["events"]
