"""SHOW BACKUP / RESTORE / SNAPSHOT / REPOSITORIES rows become typed objects (spec §2 formats)."""

from __future__ import annotations

import pendulum

from sr_airflow.engine.job_states import (
    BackupJobState,
    JobStatus,
    RestoreJobState,
    parse_progress,
    parse_show_backup,
    parse_show_restore,
)
from sr_airflow.engine.snapshots import parse_show_repositories, parse_snapshot_detail, parse_snapshot_listing

BACKUP_COLUMNS = ["JobId", "SnapshotName", "DbName", "State", "BackupObjs", "CreateTime", "SnapshotFinishedTime",
                  "UploadFinishedTime", "FinishedTime", "UnfinishedTasks", "Progress", "TaskErrMsg", "Status",
                  "Timeout"]
RESTORE_COLUMNS = ["JobId", "Label", "Timestamp", "DbName", "State", "AllowLoad", "ReplicationNum", "RestoreObjs",
                   "CreateTime", "MetaPreparedTime", "SnapshotFinishedTime", "DownloadFinishedTime", "FinishedTime",
                   "UnfinishedTasks", "Progress", "TaskErrMsg", "Status", "Timeout"]


def test_running_backup_row():
    row = ("10012", "sr_member_backup", "sr_hub", "UPLOADING", "[sr_hub.sr_member PARTITIONS (p1, p2)]",
           "2024-12-09 10:25:58", "2024-12-09 10:26:01", None, None, "10021=10001, 10022=10002",
           "[10021: 3/10], [10022: 5/7]", "[10023: connection reset]", "[OK]", "86400")
    (job,) = parse_show_backup(BACKUP_COLUMNS, [row], tz="Asia/Shanghai")
    assert job.state is BackupJobState.UPLOADING and job.state.is_running and not job.state.is_done
    assert job.create_time == pendulum.datetime(2024, 12, 9, 2, 25, 58, tz="UTC")
    assert job.upload_finished_time is None and job.finished_time is None
    assert job.unfinished_tasks == ("10021", "10022")
    assert (job.files_done, job.files_total) == (8, 17)
    assert job.task_errors == {"10023": "connection reset"}
    assert job.status.ok and job.timeout_s == 86400
    assert "UPLOADING" in job.describe() and "sr_member_backup" in job.describe()


def test_cancelled_restore_row_with_status_text():
    status = ("[COMMON_ERROR, msg: Table sr_member already exist but with different schema, errMsg: "
              "column k1 differs]")
    row = ("2", "snap", "2024-12-09-10-25-58-842", "sr_hub", "CANCELLED", "false", "3", "sr_member",
           "2024-12-09 10:25:58", "\\N", "\\N", "\\N", "2024-12-09 10:26:30", "", "", "", status, "86400")
    (job,) = parse_show_restore(RESTORE_COLUMNS, [row])
    assert job.state is RestoreJobState.CANCELLED and job.state.is_done and not job.state.succeeded
    assert job.status.code == "COMMON_ERROR"
    assert job.status.message.startswith("Table sr_member already exist but with different schema")
    assert job.meta_prepared_time is None and job.backup_timestamp == "2024-12-09-10-25-58-842"
    assert job.replication_num == 3 and job.allow_load is False and job.progress == ()


def test_status_forms():
    assert JobStatus.parse("[OK]").ok
    assert JobStatus.parse("[TIMEOUT, msg: ]") == JobStatus("TIMEOUT", "")
    assert JobStatus.parse("[COMMON_ERROR, msg: user cancelled, current state: DOWNLOADING]").message == (
        "user cancelled, current state: DOWNLOADING")
    assert str(JobStatus("BAD_FILE", "md5sum does not equal")) == "[BAD_FILE, msg: md5sum does not equal]"


def test_progress_sums_entries():
    assert parse_progress("[1: 0/4], [2: 4/4]")[1].done == 4
    assert parse_progress(None) == () and parse_progress("\\N") == ()


def test_snapshot_listing_with_several_timestamps_and_invalid_entries():
    rows = [("a", "2024-01-01-00-00-00-000\n2024-01-02-00-00-00-000\nInvalid: __info_x", "OK"),
            ("b", None, "ERROR: no snapshot")]
    a, b = parse_snapshot_listing(["Snapshot", "Timestamp", "Status"], rows)
    assert a.ok and a.timestamps == ("2024-01-01-00-00-00-000", "2024-01-02-00-00-00-000")
    assert a.invalid == ("__info_x",) and a.latest_timestamp == "2024-01-02-00-00-00-000"
    assert not b.ok and b.timestamps == () and b.latest_timestamp is None


def test_snapshot_detail():
    details = '{\n "backup_objects": {"sr_member": {"partitions": {}}}\n}'
    (d,) = parse_snapshot_detail(["Snapshot", "Timestamp", "Database", "Details", "Status"],
                                 [("a", "2024-01-01-00-00-00-000", "sr_hub", details, "OK")])
    assert d.ok and d.database == "sr_hub" and "sr_member" in d.details["backup_objects"]


def test_show_repositories():
    columns = ["RepoId", "RepoName", "CreateTime", "IsReadOnly", "Location", "Broker", "ErrMsg"]
    (r,) = parse_show_repositories(columns, [("1", "repo", "2024-01-01 00:00:00", "true", "s3a://b/p", "", None)])
    assert r.read_only and r.error is None and r.location == "s3a://b/p" and r.broker == ""
