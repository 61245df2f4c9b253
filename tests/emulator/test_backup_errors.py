"""Every BACKUP / RESTORE / repository error text the emulator implements (StarRocks' exact wording)."""

from __future__ import annotations

import pytest

from tests.support.emulator_client import error_of, repo_sql, run, wait_job

ANALYZING = "Getting analyzing error. Detail message: "


@pytest.fixture(scope="module")
def setup(emulator, s3_client):
    s3_client.create_bucket(Bucket="errors-bucket")
    cur = emulator.connect().cursor()
    run(cur, repo_sql("erepo", "errors-bucket"))
    run(cur, repo_sql("ro_repo", "errors-bucket", read_only=True))
    run(cur, "CREATE DATABASE edb")
    run(cur, "CREATE DATABASE empty_db")
    run(cur, "CREATE TABLE edb.t (k INT, v STRING) DUPLICATE KEY(k) PARTITION BY RANGE(k) "
             "(PARTITION p1 VALUES LESS THAN ('10')) DISTRIBUTED BY HASH(k)")
    run(cur, "CREATE VIEW edb.v AS SELECT * FROM edb.t")
    run(cur, "INSERT INTO edb.t VALUES (1, 'a')")
    run(cur, "BACKUP DATABASE edb SNAPSHOT done_label TO erepo")
    wait_job(cur, "BACKUP", "edb")
    stamp = run(cur, "SHOW SNAPSHOT ON erepo WHERE SNAPSHOT = 'done_label'")[0][1]
    return stamp


def syntax(message: str) -> str:
    return message


@pytest.mark.parametrize("sql, message", [
    ("BACKUP DATABASE edb SNAPSHOT edb.l1 TO erepo",
     "Specifying dbName before snapshot name is forbidden if the DbName is specified explicitly in BACKUP/RESTORE"),
    ("BACKUP SNAPSHOT edb.l1 TO erepo ON (t AS t2)", "Specifying alias for backup object is forbidden in BACKUP stmt"),
    ("RESTORE SNAPSHOT l1 FROM erepo ON (t) PROPERTIES ('backup_timestamp' = 'x')",
     "`ON` clause is forbidden if no Database explicitly specified in Restore stmt"),
    ("BACKUP EXTERNAL CATALOG (c1) DATABASE edb SNAPSHOT l1 TO erepo",
     "Can not sepcify database name for external catalog Backup/Restore"),
    ("RESTORE SNAPSHOT l1 FROM erepo EXTERNAL CATALOG (c1) ON (t) PROPERTIES ('backup_timestamp' = 'x')",
     "Can not sepcify `ON` clause for external catalog Backup/Restore"),
    ("CANCEL BACKUP", "No selected database for cancel BACKUP/RESTORE"),
])
def test_parse_time_errors(cur, setup, sql, message):
    code, text = error_of(cur, sql)
    assert code == 1064
    assert text.startswith("Getting syntax error") and text.endswith(f"Detail message: {message}.")


@pytest.mark.parametrize("sql, message", [
    ("BACKUP DATABASE edb SNAPSHOT l1 TO nope", ANALYZING + "Repository [nope] does not exist."),
    ("BACKUP DATABASE nodb SNAPSHOT l1 TO erepo", ANALYZING + "Unknown database 'nodb'."),
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo ON (TABLE missing)", ANALYZING + "Unknown table 'missing'."),
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo ON (TABLE t PARTITION (p9))",
     ANALYZING + "Unknown partition p9 in tablet."),
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo ON (TABLE v)",
     ANALYZING + "Table: v can not support backup restore, type: VIEW."),
    ("BACKUP DATABASE empty_db SNAPSHOT l1 TO erepo", ANALYZING + "Database: empty_db is empty."),
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo PROPERTIES ('timeout' = 'abc')",
     ANALYZING + "Invalid timeout format: abc."),
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo PROPERTIES ('timeout' = '60')",
     ANALYZING + "timeout must be at least 10 min."),
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo PROPERTIES ('type' = 'weekly')",
     ANALYZING + "Invalid backup job type: weekly."),
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo PROPERTIES ('color' = 'red')",
     ANALYZING + "Unknown backup job properties: [color]."),
    ("BACKUP DATABASE edb SNAPSHOT l1 TO ro_repo", "Repository ro_repo is read only"),
    ("BACKUP DATABASE edb SNAPSHOT done_label TO erepo",
     "Snapshot with name 'done_label' already exist in repository"),
    ("BACKUP DATABASE edb SNAPSHOT done_label TO erepo PROPERTIES ('type' = 'incremental')",
     "Currently does not support incremental backup"),
    ("RESTORE SNAPSHOT done_label FROM erepo DATABASE edb", ANALYZING + "Missing backup_timestamp property."),
    ("RESTORE SNAPSHOT done_label FROM erepo DATABASE edb PROPERTIES ('backup_timestamp' = 't', 'x' = 'y')",
     ANALYZING + "Unknown restore job properties: [x]."),
    ("RESTORE SNAPSHOT done_label FROM erepo DATABASE edb PROPERTIES ('backup_timestamp' = 't', "
     "'allow_load' = 'maybe')", ANALYZING + "Invalid allow load value: maybe."),
    ("RESTORE SNAPSHOT done_label FROM erepo DATABASE edb PROPERTIES ('backup_timestamp' = 't', "
     "'meta_version' = 'x')", ANALYZING + "Invalid meta version format: x."),
    ("DROP REPOSITORY nope", "Repository does not exist"),
    ("SHOW SNAPSHOT ON nope", ANALYZING + "Repository [nope] does not exist."),
    ("SHOW SNAPSHOT ON erepo WHERE SNAPSHOT = 'a' OR TIMESTAMP = 'b'",
     ANALYZING + "Where clause should looks like: SNAPSHOT = 'your_snapshot_name' [AND TIMESTAMP = "
                 "'2018-04-18-19-19-10']."),
    ("SHOW SNAPSHOT ON erepo WHERE TIMESTAMP = 'b'",
     ANALYZING + "Where clause should looks like: SNAPSHOT = 'your_snapshot_name' [AND TIMESTAMP = "
                 "'2018-04-18-19-19-10']."),
    ("CREATE REPOSITORY erepo WITH BROKER ON LOCATION 's3a://errors-bucket/x' PROPERTIES ('aws.s3.access_key' = "
     "'a', 'aws.s3.secret_key' = 'b')",
     "Failed to create repository: repository with same name already exist: erepo"),
    ("CREATE REPOSITORY r2 WITH BROKER ON LOCATION '' PROPERTIES ('aws.s3.access_key' = 'a')",
     "You must specify a location on the repository"),
])
def test_submit_time_errors(cur, setup, sql, message):
    assert error_of(cur, sql) == (1064, message)


def test_cancel_refusals(cur, setup):
    """BackupHandler.cancel (3.5 e223275f): the database's latest job answers; a finished one its own cancel()
    status (BackupJob.cancel: isDone()), one of the other kind "not running". Both are reported with
    ERR_COMMON_ERROR, whose code (5064) the reply carries."""
    assert error_of(cur, "CANCEL BACKUP FROM edb") == (
        5064, "Failed to cancel job: Job with label done_label can not be cancelled. state: FINISHED")
    assert error_of(cur, "CANCEL RESTORE FROM edb") == (5064, "No restore is currently running")


def test_restore_snapshot_checks(cur, setup):
    stamp = setup
    props = f"PROPERTIES ('backup_timestamp' = '{stamp}')"
    code, text = error_of(cur, f"RESTORE SNAPSHOT done_label FROM erepo DATABASE edb {props.replace(stamp, '2000')}")
    assert code == 1064
    assert text.startswith("Failed to get info of snapshot 'done_label' because: ")
    assert text.endswith(". Maybe specified wrong backup timestamp")
    code, text = error_of(cur, f"RESTORE SNAPSHOT no_label FROM erepo DATABASE edb {props}")
    assert text.startswith("Failed to get info of snapshot 'no_label' because: Expected one file with path: ")
    assert error_of(cur, f"RESTORE SNAPSHOT done_label FROM erepo DATABASE edb ON (TABLE zz) {props}") == (
        1064, "Table zz does not exist in snapshot done_label")
    assert error_of(cur, f"RESTORE SNAPSHOT done_label FROM erepo DATABASE edb ON (TABLE t PARTITION (p7)) "
                         f"{props}") == (1064, "Partition p7 of table t does not exist in snapshot done_label")
    assert error_of(cur, f"RESTORE SNAPSHOT done_label FROM erepo DATABASE other ON (TABLE t) {props}") == (
        1064, "target database: other is not existed in snapshot")
    assert error_of(cur, f"RESTORE SNAPSHOT done_label FROM erepo DATABASE edb ON (TABLE t AS x, TABLE t AS x) "
                         f"{props}") == (1064, "Duplicated alias name: x")
    assert error_of(cur, f"RESTORE SNAPSHOT done_label FROM erepo DATABASE edb ON (TABLE t TEMPORARY PARTITION "
                         f"(p1)) {props}") == (5064, "Do not support restoring temporary partitions")
    assert error_of(cur, f"RESTORE SNAPSHOT done_label FROM nope DATABASE edb {props}") == (
        1064, ANALYZING + "Repository [nope] does not exist.")


def test_unreachable_locations(cur, tmp_path_factory):
    assert error_of(cur, "CREATE REPOSITORY h WITH BROKER ON LOCATION 'hdfs://nn:8020/x' PROPERTIES "
                         "('username' = 'u', 'password' = 'p')") == (
        1064, "Failed to create repository: HDFS is not reachable from the emulator: hdfs://nn:8020/x (start it "
              "with --webhdfs-endpoint or EMULATOR_WEBHDFS_ENDPOINT to use a WebHDFS server)")
    code, text = error_of(cur, "CREATE REPOSITORY m WITH BROKER ON LOCATION 's3://bucket_minio/backup' PROPERTIES "
                               "('aws.s3.access_key' = 'a', 'aws.s3.secret_key' = 'b', "
                               "'aws.s3.endpoint' = 'http://127.0.0.1:9')")
    assert code == 1064 and text.startswith("Failed to create repository: ")
    code, text = error_of(cur, "CREATE REPOSITORY nob WITH BROKER ON LOCATION 's3a://no-such-bucket/x' PROPERTIES "
                               "('aws.s3.access_key' = 'a', 'aws.s3.secret_key' = 'b')")
    assert code == 1064 and "NoSuchBucket" in text
    assert {"h", "m", "nob"}.isdisjoint(r[1] for r in run(cur, "SHOW REPOSITORIES"))


def test_endpoint_less_location_without_redirect(tmp_path):
    from sr_airflow.testing.emulator.process import EmulatorServer

    with EmulatorServer(tmp_path / "plain", min_phase_seconds=0.05) as server:
        cursor = server.connect().cursor()
        code, text = error_of(cursor, "CREATE REPOSITORY aws WITH BROKER ON LOCATION 's3a://bucket_s3/backup' "
                                      "PROPERTIES ('aws.s3.use_instance_profile' = 'true', "
                                      "'aws.s3.region' = 'us-east-1')")
        assert code == 1064 and text.startswith("Failed to create repository: Unable to execute HTTP request")
        code, text = error_of(cursor, "CREATE REPOSITORY gcs WITH BROKER ON LOCATION 's3a://bucket_gcs/backup' "
                                      "PROPERTIES ('fs.s3a.access.key' = 'a', 'fs.s3a.secret.key' = 'b', "
                                      "'fs.s3a.endpoint' = 'storage.googleapis.com')")
        assert text.startswith("Failed to create repository: GCS through S3A (storage.googleapis.com) is not "
                               "emulated")
