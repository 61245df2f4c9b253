"""Pure rules behind the operators: label decisions, poll verdicts, progress lines, backoff, target checks,
MV order, verification comparisons and argument parsing. No server needed."""

from __future__ import annotations

import struct

import pymysql
import pytest

from sr_airflow.engine.errors import InvalidArgumentError, JobFailedError, RestoreRefusedError, UnsupportedByServerError
from sr_airflow.engine.job_states import parse_show_backup, parse_show_restore
from sr_airflow.engine.jobwatch import (
    Backoff,
    NextStep,
    ProgressLog,
    Verdict,
    decide_backup,
    is_busy_error,
    is_connection_error,
    observe,
    observe_snapshot,
    phase_seconds,
)
from sr_airflow.engine.mv import MaterializedViewState, activation_order
from sr_airflow.engine.scope import ObjectKind
from sr_airflow.engine.scope_args import scope_from_arguments
from sr_airflow.engine.snapshots import SnapshotListing
from sr_airflow.engine.target_checks import ColumnDef, check_restore_target, check_run_mode, parse_backup_meta
from sr_airflow.engine.verify import checksum_query, compare_checksums, compare_row_counts, compare_versions

COLUMNS = ["JobId", "SnapshotName", "DbName", "State", "BackupObjs", "CreateTime", "SnapshotFinishedTime",
           "UploadFinishedTime", "FinishedTime", "UnfinishedTasks", "Progress", "TaskErrMsg", "Status", "Timeout"]
LABEL = "full_sales_20240501T000000_0123456789"


def job(label=LABEL, state="UPLOADING", progress="", status="[OK]", times=(None, None, None, None)):
    row = ("11", label, "sales", state, "[sales.t]", times[0], times[1], times[2], times[3], "", progress, "",
           status, "86400")
    return parse_show_backup(COLUMNS, [row])[0]


def listing(label, status="OK", timestamps=("2024-05-01-00-00-01-000",)):
    return SnapshotListing(label, timestamps if status == "OK" else (), status)


class TestDecideBackup:
    def test_nothing_found_submits_the_base_label(self):
        decision = decide_backup(LABEL, [], [])
        assert (decision.step, decision.label) == (NextStep.SUBMIT, LABEL)

    def test_our_running_job_is_waited_for(self):
        decision = decide_backup(LABEL, [job(state="SNAPSHOTING")], [])
        assert (decision.step, decision.label) == (NextStep.WAIT, LABEL)

    def test_our_finished_job_is_done_without_resubmitting(self):
        assert decide_backup(LABEL, [job(state="FINISHED")], [listing(LABEL)]).step is NextStep.DONE

    def test_an_ok_snapshot_without_its_job_is_done(self):
        decision = decide_backup(LABEL, [job("someone_else", "FINISHED")], [listing(LABEL)])
        assert (decision.step, decision.label) == (NextStep.DONE, LABEL)

    def test_a_cancelled_job_makes_way_for_the_next_generation(self):
        decision = decide_backup(LABEL, [job(state="CANCELLED")], [listing(LABEL, "ERROR: no snapshot")])
        assert (decision.step, decision.label) == (NextStep.SUBMIT, LABEL + "_r1")
        decision = decide_backup(LABEL, [job(LABEL + "_r1", "CANCELLED")],
                                 [listing(LABEL, "ERROR: no snapshot"), listing(LABEL + "_r1", "ERROR: no snapshot")])
        assert decision.label == LABEL + "_r2"

    def test_another_running_job_makes_the_database_busy(self):
        decision = decide_backup(LABEL, [job("someone_else", "UPLOADING")], [])
        assert decision.step is NextStep.BUSY
        assert "someone_else" in decision.reason

    def test_all_generations_used_is_an_error(self):
        used = [listing(LABEL, "ERROR: no snapshot")] + [listing(f"{LABEL}_r{n}", "ERROR: no snapshot")
                                                         for n in range(1, 10)]
        with pytest.raises(JobFailedError, match="and its 9 generations are all used"):
            decide_backup(LABEL, [], used)


class TestObserve:
    def test_verdicts(self):
        assert observe([job(state="UPLOADING")], database="sales", label=LABEL).verdict is Verdict.RUNNING
        assert observe([job(state="FINISHED")], database="sales", label=LABEL).verdict is Verdict.SUCCESS
        cancelled = observe([job(state="CANCELLED", status="[COMMON_ERROR, msg: user cancelled]")],
                            database="sales", label=LABEL)
        assert cancelled.verdict is Verdict.CANCELLED
        assert cancelled.message == (f"Backup job {LABEL!r} of database 'sales' is CANCELLED with status "
                                     "[COMMON_ERROR, msg: user cancelled].")
        absent = observe([job("other")], database="sales", label=LABEL)
        assert absent.verdict is Verdict.ABSENT and LABEL in absent.message and "here 'other'" in absent.message
        assert "latest" not in observe([], database="sales", label=LABEL).message

    def test_snapshot_visibility(self):
        assert observe_snapshot([listing("s")], "s", "r").verdict is Verdict.SUCCESS
        waiting = observe_snapshot([listing("s", "ERROR: no snapshot")], "s", "r")
        assert waiting.verdict is Verdict.RUNNING and "ERROR: no snapshot" in waiting.message
        assert observe_snapshot([], "s", "r").verdict is Verdict.RUNNING

    def test_errors_are_told_apart(self):
        assert is_connection_error(pymysql.err.OperationalError(2003, "Can't connect"))
        assert not is_connection_error(pymysql.err.ProgrammingError(1064, "syntax"))
        assert is_busy_error(Exception("Can only run one backup or restore job of a database at same time"))


def test_progress_is_logged_once_per_state_and_per_count():
    progress = ProgressLog()
    first = progress.update(job(state="SNAPSHOTING"))
    assert first.startswith(f"Backup job {LABEL!r} of database 'sales' is SNAPSHOTING")
    assert progress.update(job(state="SNAPSHOTING")) is None
    line = progress.update(job(state="UPLOADING", progress="[1: 2/4], [2: 0/2]"))
    assert line.endswith("is UPLOADING with status [OK]. 2/6 files.")
    assert progress.update(job(state="UPLOADING", progress="[1: 2/4], [2: 0/2]")) is None
    assert progress.update(job(state="UPLOADING", progress="[1: 4/4], [2: 1/2]")) == f"{LABEL}: UPLOADING 5/6 files."


def test_backoff_grows_to_its_cap_and_refuses_bad_settings():
    backoff = Backoff(2, 60)
    intervals = [backoff.next(None)]
    for _ in range(6):
        intervals.append(backoff.next(intervals[-1]))
    assert intervals == [2, 4, 8, 16, 32, 60, 60]
    with pytest.raises(ValueError, match="poll intervals need 0 < poll_interval <= max_poll_interval"):
        Backoff(10, 5)


def test_phase_seconds_come_from_the_show_times():
    finished = job(state="FINISHED", times=("2024-05-01 00:00:00", "2024-05-01 00:00:05", "2024-05-01 00:01:05",
                                            "2024-05-01 00:01:06"))
    assert phase_seconds(finished) == {"snapshot": 5.0, "upload": 60.0, "save_meta": 1.0, "total": 66.0}


# SHOW RESTORE's columns and one row as StarRocks 3.5 writes them (ShowRestoreStmt.TITLE_NAMES,
# RestoreJob.getInfo, e223275f78): times by TimeUtils.longToTimeString, "NULL" for a time not reached yet.
RESTORE_COLUMNS = ["JobId", "Label", "Timestamp", "DbName", "State", "AllowLoad", "ReplicationNum", "RestoreObjs",
                   "CreateTime", "MetaPreparedTime", "SnapshotFinishedTime", "DownloadFinishedTime", "FinishedTime",
                   "UnfinishedTasks", "Progress", "TaskErrMsg", "Status", "Timeout"]


def restore_row(state, times):
    return ("12", LABEL, "2024-05-01-00-00-01-000", "sales_copy", state, "false", "3", "{}", *times, "", "", "",
            "[OK]", "86400")


def test_restore_phase_seconds_come_from_the_show_restore_times():
    times = ("2024-05-02 10:00:00", "2024-05-02 10:00:02", "2024-05-02 10:00:09", "2024-05-02 10:02:09",
             "2024-05-02 10:02:12")
    [finished] = parse_show_restore(RESTORE_COLUMNS, [restore_row("FINISHED", times)])
    assert phase_seconds(finished) == {"prepare_meta": 2.0, "snapshot": 7.0, "download": 120.0, "commit": 3.0,
                                       "total": 132.0}
    [downloading] = parse_show_restore(RESTORE_COLUMNS, [restore_row("DOWNLOADING", (*times[:3], "NULL", "NULL"))])
    assert phase_seconds(downloading) == {"prepare_meta": 2.0, "snapshot": 7.0}


class TestPreflight:
    def test_shared_data_is_refused(self):
        with pytest.raises(UnsupportedByServerError, match="runs in shared-data mode"):
            check_run_mode(["Key", "AliasNames", "Value"], [("run_mode", "[]", "shared_data")], server="fe:9030")
        check_run_mode(["Key", "AliasNames", "Value"], [("run_mode", "[]", "shared_nothing")], server="fe:9030")

    def test_existing_tables_need_allow_overwrite(self):
        cols = [ColumnDef("id", "int")]
        with pytest.raises(RestoreRefusedError, match=r"table\(s\) t already exist; set allow_overwrite=True"):
            check_restore_target(target_database="d", targets={"t": "t", "u": "u"}, existing={"t": cols},
                                 snapshot_columns=None, allow_overwrite=False)
        assert check_restore_target(target_database="d", targets={"t": "t"}, existing={"t": cols},
                                    snapshot_columns={"t": [ColumnDef("ID", "INT")]}, allow_overwrite=True) == ["t"]

    def test_a_different_schema_is_refused_even_with_allow_overwrite(self):
        with pytest.raises(RestoreRefusedError, match=r"table\(s\) t2 exist with a different schema"):
            check_restore_target(target_database="d", targets={"t": "t2"},
                                 existing={"t2": [ColumnDef("id", "int"), ColumnDef("note", "varchar(20)")]},
                                 snapshot_columns={"t": [ColumnDef("id", "int"), ColumnDef("note", "varchar(30)")]},
                                 allow_overwrite=True)

    def test_meta_files_of_starrocks_are_read(self):
        gson = (b'{"tblNameMap": {"t": {"clazz": "OlapTable", "baseIndexId": 2, "fullSchema": [], "indexIdToMeta": '
                b'{"2": {"schema": [{"name": "id", "type": {"clazz": "ScalarType", "type": "INT"}}]}}}}}')
        assert parse_backup_meta(struct.pack(">I", len(gson)) + gson) == {"t": [ColumnDef("id", "int(11)")]}


def test_materialized_views_are_activated_bases_first():
    views = [MaterializedViewState("mv_top", False, "r", "SELECT * FROM mv_mid"),
             MaterializedViewState("mv_mid", False, "r", "SELECT * FROM `mv_base` JOIN t"),
             MaterializedViewState("mv_base", False, "r", "SELECT * FROM t"),
             MaterializedViewState("mv_ok", True, "", "SELECT * FROM t")]
    assert activation_order(views) == ["mv_base", "mv_mid", "mv_top"]


class TestVerify:
    def test_versions_and_missing_partitions(self):
        mismatches = compare_versions({("t", "p1"): 3, ("t", "p2"): 2, ("t", "p3"): 1},
                                      {("t", "p1"): 3, ("t", "p2"): 4})
        assert [m.describe() for m in mismatches] == ["table 't' partition 'p2': version expected 2, found 4",
                                                      "table 't' partition 'p3': missing expected 1, found None"]

    def test_row_counts_and_checksums(self):
        assert compare_row_counts({("t", "p"): 5}, {("t", "p"): 5}) == []
        assert compare_row_counts({("t", "p"): 5}, {("t", "p"): 6})[0].what == "row_count"
        assert compare_checksums({"t": (2, 10)}, {"t": (2, 10)}) == []
        assert compare_checksums({"t": (2, 10)}, {"t": (2, 11)})[0].what == "checksum"
        sql = checksum_query("d", "t", ["a", "b`c"])
        assert sql.startswith("SELECT count(*), coalesce(sum(murmur_hash3_32(coalesce(CAST(`a` AS VARCHAR)")
        assert "`b``c`" in sql and sql.endswith("FROM `d`.`t`")


class TestScopeArguments:
    def test_names_mappings_and_all(self):
        scope = scope_from_arguments(database="d", tables=["a", {"name": "b", "partitions": ["p1"], "alias": "c"}],
                                     materialized_views="ALL", views=["v"])
        assert [(r.kind, r.name, r.partitions, r.alias) for r in scope.objects] == [
            (ObjectKind.TABLE, "a", (), None), (ObjectKind.TABLE, "b", ("p1",), "c"), (ObjectKind.VIEW, "v", (), None)]
        assert scope.all_of == (ObjectKind.MATERIALIZED_VIEW,)
        assert scope_from_arguments(external_catalogs="all").all_external_catalogs

    def test_bad_arguments_name_themselves(self):
        with pytest.raises(InvalidArgumentError, match="tables must be 'ALL' or a list of names, got 'some'"):
            scope_from_arguments(database="d", tables="some")
        with pytest.raises(InvalidArgumentError, match="views item .* must have 'name'"):
            scope_from_arguments(database="d", views=[{"nom": "v"}])
        with pytest.raises(ValueError, match="partitions can only be given for a table"):
            scope_from_arguments(database="d", views=[{"name": "v", "partitions": ["p"]}])


class TestOperatorArguments:
    def test_bad_arguments_raise_value_error(self):
        from sr_airflow.engine.jobwatch import JobWatch
        from sr_airflow.operators.backup import StarRocksBackupOperator
        from sr_airflow.operators.cancel import StarRocksCancelJobOperator
        from sr_airflow.operators.verify import StarRocksVerifyRestoreOperator
        from sr_airflow.sensors.job import StarRocksJobSensor

        with pytest.raises(ValueError, match="on_busy must be 'wait' or 'fail', got 'queue'"):
            StarRocksBackupOperator(task_id="b", repository="r", database="d", on_busy="queue")
        with pytest.raises(ValueError, match="job_type must be 'backup' or 'restore', got 'export'"):
            StarRocksCancelJobOperator(task_id="c", job_type="export", database="d")
        with pytest.raises(ValueError, match="checksums=True needs source_conn_id"):
            StarRocksVerifyRestoreOperator(task_id="v", database="d", repository="r", snapshot_label="s",
                                           checksums=True)
        with pytest.raises(ValueError, match="snapshot_label needs job_type 'backup' or 'restore'"):
            StarRocksJobSensor(task_id="s", database="d", snapshot_label="l")
        with pytest.raises(ValueError, match="a snapshot watch needs repository and label"):
            JobWatch(job_type="snapshot")

    def test_backup_declares_the_backups_alias_and_defaults(self):
        from airflow.sdk import AssetAlias

        from sr_airflow.operators.backup import StarRocksBackupOperator

        op = StarRocksBackupOperator(task_id="b", repository="r", database="sales")
        assert op.outlets == [AssetAlias("starrocks-backups")]  # the database's Asset is named when it runs
        assert op.starrocks_conn_id == "starrocks_default" and op.deferrable is False
        templated = StarRocksBackupOperator(task_id="c", repository="r", database="{{ params.db }}")
        assert templated.outlets == [AssetAlias("starrocks-backups")]


def _shared_data_hook():
    """A StarRocksHook whose server answers run_mode = shared_data: the emulator cannot be put in that mode, so
    ``fetch`` stands in for the server."""
    from types import SimpleNamespace

    from sr_airflow.engine.version import ServerVersion
    from sr_airflow.hooks.starrocks import StarRocksHook

    class SharedDataHook(StarRocksHook):
        connection = SimpleNamespace(host="fe.example", port=9030)

        def server_version(self):
            return ServerVersion.parse("3.5.2-abc")

        def fetch(self, sql):
            assert sql == "ADMIN SHOW FRONTEND CONFIG LIKE 'run_mode'"
            return ["Key", "AliasNames", "Value", "Type", "IsMutable", "Comment"], [
                ("run_mode", "[]", "shared_data", "String", "false", "")]

    return SharedDataHook()


def test_a_shared_data_cluster_is_refused_before_anything_is_submitted():
    import logging

    with pytest.raises(UnsupportedByServerError, match="StarRocks at fe.example:9030 runs in shared-data mode"):
        _shared_data_hook().check_server(logging.getLogger("test"))
