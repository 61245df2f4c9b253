"""Safe overwrite (``overwrite_mode``): a RESTORE over an existing table that fails at COMMIT, by swap and in place.

The seed (使用上の注意) warns that a RESTORE overwriting existing data and failing after COMMIT leaves the data
corrupt. As ``RestoreJob.cancelInternal`` (3.3 1a2f1f5d75 to 4.0 312b0d9e) does in every state, COMMITTING included,
the emulator sets a cancelled restore's existing tables back to NORMAL and drops the tables and partitions the job
created (tests/emulator/test_restore_replicas_and_cancel.py). The damage the seed means is in the tablets the
COMMITTING phase's MOVE tasks already replaced, which the emulator does not model (it moves no tablet before the
whole commit): its live table keeps its rows. A swap restores into a temporary table, so neither touches the live
table.
"""

from __future__ import annotations

import pytest

from sr_airflow.engine.errors import JobFailedError
from sr_airflow.engine.swap import SwapRefusedError
from sr_airflow.operators.restore import StarRocksRestoreChainOperator, StarRocksRestoreOperator
from tests.support.emulators import start_emulator
from tests.support.task_context import task_context

TABLE = ("(id INT, v INT, d DATE) DUPLICATE KEY(id) PARTITION BY RANGE(d) (PARTITION p1 VALUES LESS THAN "
         "('2024-02-01'), PARTITION p2 VALUES LESS THAN ('2024-03-01')) DISTRIBUTED BY HASH(id) BUCKETS 2")


@pytest.fixture(scope="module")
def swap_emu(airflow_db, s3_server):
    with start_emulator("sr_swap", s3_server) as emu:
        emu.sql("CREATE DATABASE src", f"CREATE TABLE src.t {TABLE}",
                "INSERT INTO src.t VALUES (1, 1, '2024-01-05'), (2, 2, '2024-02-10')")
        emu.create_repository("swrepo", s3_server, "restore-swap")
        emu.sql("BACKUP DATABASE src SNAPSHOT snap1 TO swrepo")
        emu.wait_state("BACKUP", "src", ("FINISHED",), timeout=60)
        yield emu


def _live(emu, database: str) -> None:
    """A live target table of the snapshot's schema holding other rows (and other versions) than the snapshot."""
    emu.sql(f"CREATE DATABASE {database}", f"CREATE TABLE {database}.t {TABLE}",
            f"INSERT INTO {database}.t VALUES (7, 7, '2024-01-07')", f"INSERT INTO {database}.t VALUES (8, 8, "
            "'2024-02-08')", f"INSERT INTO {database}.t VALUES (9, 9, '2024-02-09')")


def _state(emu, database: str) -> tuple:
    rows = emu.sql(f"SELECT id, v, d FROM {database}.t ORDER BY id")
    versions = emu.sql("SELECT PARTITION_NAME, VISIBLE_VERSION FROM information_schema.partitions_meta WHERE "
                       f"DB_NAME = '{database}' AND TABLE_NAME = 't' ORDER BY PARTITION_NAME")
    return rows, versions


def _tables(emu, database: str) -> list[str]:
    return sorted(r[0] for r in emu.sql(f"SHOW TABLES FROM {database}"))


def _operator(database: str, mode: str | None, aws_conn: str, **kwargs) -> StarRocksRestoreOperator:
    kwargs.setdefault("reactivate_materialized_views", False)
    return StarRocksRestoreOperator(task_id="restore", starrocks_conn_id="sr_swap", repository="swrepo",
                                    snapshot_label="snap1", database="src", target_database=database,
                                    tables=["t"], allow_overwrite=True, overwrite_mode=mode,
                                    storage_conn_id=aws_conn, deferrable=False, **kwargs)


def _catalog_backup(aws_conn: str, run_id: str) -> None:
    """A full backup of ``src`` recorded in swrepo's catalog (what sr_restore's point-in-time restores read)."""
    from sr_airflow.operators.backup import StarRocksBackupOperator

    StarRocksBackupOperator(task_id="backup", starrocks_conn_id="sr_swap", repository="swrepo", database="src",
                            storage_conn_id=aws_conn, deferrable=False, poll_interval=0.1,
                            max_poll_interval=0.5).execute(task_context(run_id))


def _fail_next_restore(emu, database: str, state: str) -> None:
    emu.sql(f'ADMIN SET FRONTEND CONFIG ("emulator_fault_database" = "{database}")',
            f'ADMIN SET FRONTEND CONFIG ("emulator_fail_next_job_at" = "{state}")')


@pytest.mark.parametrize("state", ["COMMIT", "COMMITTING"])
def test_swap_leaves_the_live_table_as_it_was_when_the_restore_fails(swap_emu, aws_conn, state):
    database = f"swap_fail_{state.lower()}"
    _live(swap_emu, database)
    before = _state(swap_emu, database)
    _fail_next_restore(swap_emu, database, state)
    with pytest.raises(JobFailedError, match=r"injected fault"):
        _operator(database, None, aws_conn).execute(task_context(f"swap_{state}"))  # swap: the default
    restores = [q for q in swap_emu.queries() if q.startswith("RESTORE") and database in q]
    assert len(restores) == 1 and "AS `t__sr_swap_" in restores[0]  # restored under the temporary name
    assert _state(swap_emu, database) == before  # rows and partitions_meta versions exactly as before
    # no temporary table left: dropped by the job's cancel (and by the operator, were one left)
    assert _tables(swap_emu, database) == ["t"]
    swap_emu.sql(f"INSERT INTO {database}.t VALUES (10, 10, '2024-01-10')")  # and the live table takes writes


def test_in_place_restore_failing_at_commit_is_undone_by_the_emulator(swap_emu, aws_conn):
    """At COMMIT the emulator's cancel undoes the restore (existing table back to NORMAL): no damage modelled."""
    database = "inplace_commit"
    _live(swap_emu, database)
    before = _state(swap_emu, database)
    _fail_next_restore(swap_emu, database, "COMMIT")
    with pytest.raises(JobFailedError, match=r"injected fault"):
        _operator(database, "in_place", aws_conn).execute(task_context("inplace_commit"))
    restores = [q for q in swap_emu.queries() if q.startswith("RESTORE") and database in q]
    assert len(restores) == 1 and "__sr_swap_" not in restores[0]
    assert _state(swap_emu, database) == before


def test_in_place_restore_failing_at_committing_gives_the_live_table_back(swap_emu, aws_conn):
    """The job's cancel sets the live table back to NORMAL (writes taken); the tablets StarRocks' MOVE tasks may
    already have replaced are not modelled (see the module docstring)."""
    database = "inplace_committing"
    _live(swap_emu, database)
    before = _state(swap_emu, database)
    _fail_next_restore(swap_emu, database, "COMMITTING")
    with pytest.raises(JobFailedError, match=r"injected fault"):
        _operator(database, "in_place", aws_conn).execute(task_context("inplace_committing"))
    assert _state(swap_emu, database) == before
    swap_emu.sql(f"INSERT INTO {database}.t VALUES (10, 10, '2024-01-10')")


def test_a_swap_restore_puts_the_snapshot_in_place_and_leaves_no_temporary_table(swap_emu, aws_conn):
    database = "swap_ok"
    _live(swap_emu, database)
    swap_emu.sql(f"CREATE MATERIALIZED VIEW {database}.mv_t REFRESH ASYNC AS SELECT d, sum(v) AS s FROM "
                 f"{database}.t GROUP BY d")
    snapshot = _state(swap_emu, "src")
    result = _operator(database, "swap", aws_conn, reactivate_materialized_views=True).execute(
        task_context("swap_ok"))
    assert result["swapped_tables"] == ["t"]
    assert _state(swap_emu, database) == snapshot  # the snapshot's rows at the snapshot's versions
    assert _tables(swap_emu, database) == ["mv_t", "t"]
    # the swap made the MV over t inactive (as StarRocks does); the restore re-activated it
    assert result["reactivated_materialized_views"] == ["mv_t"] and result["inactive_materialized_views"] == {}
    swaps = [q for q in swap_emu.queries() if "SWAP WITH" in q and database in q]
    assert len(swaps) == 1 and swaps[0].startswith(f"ALTER TABLE `{database}`.`t` SWAP WITH `t__sr_swap_")


def test_an_explicit_swap_the_operator_cannot_protect_is_refused_before_restore(swap_emu, aws_conn):
    database = "swap_partitions"
    _live(swap_emu, database)
    sent = swap_emu.count("RESTORE")
    op = StarRocksRestoreOperator(task_id="restore", starrocks_conn_id="sr_swap", repository="swrepo",
                                  snapshot_label="snap1", database="src", target_database=database,
                                  tables=[{"name": "t", "partitions": ["p1"]}], allow_overwrite=True,
                                  overwrite_mode="swap", storage_conn_id=aws_conn, deferrable=False)
    with pytest.raises(SwapRefusedError, match=r"overwrite_mode='swap' cannot protect it: table 't' is restored by "
                                               r"partition \(a swap replaces whole tables\)"):
        op.execute(task_context("swap_partitions"))
    assert swap_emu.count("RESTORE") == sent


def test_overwrite_mode_is_checked_at_construction():
    with pytest.raises(ValueError, match=r"overwrite_mode must be 'swap' or 'in_place', got 'replace'"):
        StarRocksRestoreOperator(task_id="r", repository="x", snapshot_label="s", overwrite_mode="replace")


def test_the_temporary_table_is_checked_against_the_snapshot_partition_by_partition():
    from sr_airflow.engine.swap import check_swapped_in, snapshot_partition_versions

    expected = snapshot_partition_versions({"partitions": {"p1": {"version": 2},
                                                           "p2": {"subPartitions": {"a": {"version": 3},
                                                                                    "b": {"version": 2}}}}})
    assert expected == {"p1": [2], "p2": [2, 3]}
    assert check_swapped_in("t", expected, {"p1": [2], "p2": [3, 2]}) == []
    assert check_swapped_in("t", expected, {"p1": [1], "p3": [2]}) == [
        "table 't' partition 'p1': version expected [2], found [1]", "table 't' partition 'p2' is missing",
        "table 't' partition 'p3' is not in the snapshot"]


def test_a_swap_is_refused_when_it_would_drop_partitions_the_snapshot_lacks():
    from sr_airflow.engine.scope_args import scope_from_arguments
    from sr_airflow.engine.swap import refuse_swap

    scope = scope_from_arguments(database="db", tables=["t", {"name": "u", "alias": "u2"}])
    assert refuse_swap(scope, ["t", "u2"], {"t": {"p1"}, "u2": {"p1"}}, {"t": {"p1"}, "u": {"p1"}},
                       {"t": "t", "u": "u2"}) is None
    assert refuse_swap(scope, ["u2"], {"u2": {"p1", "p9"}}, {"u": {"p1"}}, {"t": "t", "u": "u2"}) == (
        "table 'u2' has partition(s) p9 that the snapshot does not hold (a swap would drop them)")
    assert refuse_swap(scope_from_arguments(database="db"), ["t"], {}, {}, {"t": "t"}) == (
        "table 't' is not named in tables=[...] (a swap restores named tables under a temporary name)")


def test_a_point_in_time_restore_swaps_a_table_one_job_restores(swap_emu, aws_conn):
    """sr_restore's path (from the catalog): a failure at COMMITTING leaves the live table as it was; the rerun
    swaps the point in time in and verifies it against the catalog's versions."""
    _catalog_backup(aws_conn, "swap_pitr_backup")
    snapshot = _state(swap_emu, "src")
    database = "swap_pitr"
    _live(swap_emu, database)
    before = _state(swap_emu, database)

    def restore(run_id: str) -> dict:
        return StarRocksRestoreChainOperator(
            task_id="restore", starrocks_conn_id="sr_swap", repository="swrepo", database="src",
            target_database=database, allow_overwrite=True, storage_conn_id=aws_conn, deferrable=False,
            reactivate_materialized_views=False, poll_interval=0.1, max_poll_interval=0.5,
        ).execute(task_context(run_id))

    _fail_next_restore(swap_emu, database, "COMMITTING")
    with pytest.raises(JobFailedError, match=r"injected fault"):
        restore("swap_pitr_fail")
    assert _state(swap_emu, database) == before
    assert _tables(swap_emu, database) == ["t"]
    restore("swap_pitr_ok")
    assert _state(swap_emu, database) == snapshot
    assert _tables(swap_emu, database) == ["t"]
    restores = [q for q in swap_emu.queries() if q.startswith("RESTORE") and database in q]
    assert len(restores) == 2 and all("AS `t__sr_swap_" in q for q in restores)


def test_sr_restore_overwrites_by_swap_unless_told_in_place(swap_emu, aws_conn, load_dag):
    """The DAG's overwrite_mode param reaches the operator: empty swaps, in_place writes into the live table."""
    from tests.support.dags import states

    _catalog_backup(aws_conn, "swap_dag_backup")
    location = next(r for r in swap_emu.sql("SHOW REPOSITORIES") if r[1] == "swrepo")[4]
    config = (f'[defaults]\nstarrocks_conn_id = "sr_swap"\nrepository = "swrepo"\nlocation = "{location}"\n'
              f'storage_conn_id = "{aws_conn}"\n')
    for database, mode, temporary in (("swap_dag", None, True), ("swap_dag_in_place", "in_place", False)):
        _live(swap_emu, database)
        run = load_dag("sr_restore", config).test(run_conf={
            "database": "src", "target_database": database, "allow_overwrite": True, "overwrite_mode": mode,
            "verify": "versions"})
        assert states(run)["verify"] == "success"
        assert _state(swap_emu, database) == _state(swap_emu, "src")
        restore = [q for q in swap_emu.queries() if q.startswith("RESTORE") and f"AS `{database}`" in q][-1]
        assert ("AS `t__sr_swap_" in restore) is temporary


def test_emulator_swap_makes_the_async_mvs_over_either_table_inactive(swap_emu):
    """AlterJobExecutor.visitSwapTableClause (3.5 e223275f): inactiveReasonForBaseTableSwapped, 'base-table
    swapped: <name before the swap>', for the MVs over each of the two tables."""
    swap_emu.sql("CREATE DATABASE swap_mv", f"CREATE TABLE swap_mv.a {TABLE}", f"CREATE TABLE swap_mv.b {TABLE}",
                 "INSERT INTO swap_mv.a VALUES (1, 1, '2024-01-05')",
                 "CREATE MATERIALIZED VIEW swap_mv.mv_a REFRESH ASYNC AS SELECT id FROM swap_mv.a",
                 "CREATE MATERIALIZED VIEW swap_mv.mv_b REFRESH ASYNC AS SELECT id FROM swap_mv.b",
                 "ALTER TABLE swap_mv.a SWAP WITH b")
    assert swap_emu.sql("SELECT count(*) FROM swap_mv.b") == ((1,),)  # a's rows, now under b's name
    rows = swap_emu.sql("SELECT TABLE_NAME, IS_ACTIVE, INACTIVE_REASON FROM information_schema.materialized_views "
                        "WHERE TABLE_SCHEMA = 'swap_mv' ORDER BY TABLE_NAME")
    assert [tuple(r) for r in rows] == [("mv_a", "false", "base-table swapped: a"),
                                        ("mv_b", "false", "base-table swapped: b")]
