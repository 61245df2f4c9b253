"""Every BACKUP / RESTORE / repository error the emulator implements: StarRocks' exact wording, code and SQL state.

The code and state follow the path each error takes in StarRocks (3.5 e223275f78; sr_airflow/testing/emulator/errors.py
explains the rule): `ErrorReport.reportDdlException` / `reportSemanticException` set the ErrorCode on the session's
QueryState, so BackupHandler's refusals and the analyzers' ERR_COMMON_ERROR checks answer 5064 (42000) and
ERR_BAD_DB_ERROR 5501 (3F000); a plain `new SemanticException(..)` or a parser error answers MysqlErrPacket's
1064 (HY000). The SQL state is read through mysql-connector-python (PyMySQL drops it)."""

from __future__ import annotations

import pytest

from tests.support.emulator_client import connector_connection, error_of, error_reply, repo_sql, run, wait_job

ANALYZING = "Getting analyzing error. Detail message: "
PLAIN = (1064, "HY000")  # no ErrorCode on the QueryState: MysqlErrPacket's default
COMMON = (5064, "42000")  # ErrorCode.ERR_COMMON_ERROR
BAD_DB = (5501, "3F000")  # ErrorCode.ERR_BAD_DB_ERROR


@pytest.fixture()
def mcur(emulator):
    connection = connector_connection(emulator)
    yield connection.cursor()
    connection.close()


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
def test_parse_time_errors(mcur, setup, sql, message):
    # ParsingException -> ConnectProcessor: AnalysisException, no ErrorCode
    code, state, text = error_reply(mcur, sql)
    assert (code, state) == PLAIN
    assert text.startswith("Getting syntax error") and text.endswith(f"Detail message: {message}.")


@pytest.mark.parametrize("sql, reply", [
    # BackupRestoreAnalyzer.analyzeLabelAndRepo: reportSemanticException(ERR_COMMON_ERROR)
    ("BACKUP DATABASE edb SNAPSHOT l1 TO nope", (*COMMON, ANALYZING + "Repository [nope] does not exist.")),
    # BackupRestoreAnalyzer.getDatabase: reportSemanticException(ERR_BAD_DB_ERROR)
    ("BACKUP DATABASE nodb SNAPSHOT l1 TO erepo", (*BAD_DB, ANALYZING + "Unknown database 'nodb'.")),
    # analyzeTableRef: new SemanticException(ERR_WRONG_TABLE_NAME.formatErrorMsg(..)): the text, not the code
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo ON (TABLE missing)",
     (*PLAIN, ANALYZING + "Incorrect table name 'missing'.")),
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo ON (VIEW missing)",
     (*PLAIN, ANALYZING + "Incorrect table name 'missing'.")),
    # analyzeTableRef: new SemanticException(.., PartitionNames pos): from PARTITION to its ")" (NodePosition keeps
    # the start column of the last token)
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo ON (TABLE t PARTITION (p9))",
     (*PLAIN, "Getting analyzing error from line 1, column 53 to line 1, column 66. Detail message: partition[p9] "
              "does not exist  in tablet.")),
    # analyzeTableRef: new SemanticException(.., TableName pos): the second name, one token ("at")
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo ON (TABLE t, TABLE t)",
     (*PLAIN, "Getting analyzing error at line 1, column 60. Detail message: Duplicated table: t.")),
    # analyzeTableRef: partitions of a view: reportSemanticException(ERR_WRONG_TABLE_NAME)
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo ON (TABLE v PARTITION (p1))",
     (1104, "42000", ANALYZING + "Incorrect table name 'v'.")),
    # FunctionRef.analyzeForBackup: reportSemanticException(ERR_COMMON_ERROR), FunctionName.toString "db.fn"
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo ON (FUNCTION nofn)",
     (*COMMON, ANALYZING + "Invalid backup function(s), function name: edb.nofn.")),
    ("BACKUP DATABASE empty_db SNAPSHOT l1 TO erepo", (*PLAIN, ANALYZING + "Database: empty_db is empty.")),
    # BackupRestoreAnalyzer.setPropTimeout / analyzeBackupProperties / visitRestoreStatement / parseInt:
    # reportSemanticException(ERR_COMMON_ERROR)
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo PROPERTIES ('timeout' = 'abc')",
     (*COMMON, ANALYZING + "Invalid timeout format: abc.")),
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo PROPERTIES ('timeout' = '60')",
     (*COMMON, ANALYZING + "timeout must be at least 10 min.")),
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo PROPERTIES ('type' = 'weekly')",
     (*COMMON, ANALYZING + "Invalid backup job type: weekly.")),
    ("BACKUP DATABASE edb SNAPSHOT l1 TO erepo PROPERTIES ('color' = 'red')",
     (*COMMON, ANALYZING + "Unknown backup job properties: [color].")),
    ("RESTORE SNAPSHOT done_label FROM erepo DATABASE edb",
     (*COMMON, ANALYZING + "Missing backup_timestamp property.")),
    ("RESTORE SNAPSHOT done_label FROM erepo DATABASE edb PROPERTIES ('backup_timestamp' = 't', 'x' = 'y')",
     (*COMMON, ANALYZING + "Unknown restore job properties: [x].")),
    ("RESTORE SNAPSHOT done_label FROM erepo DATABASE edb PROPERTIES ('backup_timestamp' = 't', "
     "'allow_load' = 'maybe')", (*COMMON, ANALYZING + "Invalid allow load value: maybe.")),
    ("RESTORE SNAPSHOT done_label FROM erepo DATABASE edb PROPERTIES ('backup_timestamp' = 't', "
     "'meta_version' = 'x')", (*COMMON, ANALYZING + "Invalid meta version format: x.")),
    ("RESTORE SNAPSHOT done_label FROM erepo DATABASE edb PROPERTIES ('backup_timestamp' = 't', "
     "'replication_num' = 'x')", (*COMMON, ANALYZING + "Invalid meta version format: x.")),
    # BackupHandler.process / backup: reportDdlException(ERR_COMMON_ERROR), the bare text
    ("RESTORE SNAPSHOT done_label FROM nope DATABASE edb PROPERTIES ('backup_timestamp' = 't')",
     (*COMMON, "Repository nope does not exist")),
    ("BACKUP DATABASE edb SNAPSHOT l1 TO ro_repo", (*COMMON, "Repository ro_repo is read only")),
    ("BACKUP DATABASE edb SNAPSHOT done_label TO erepo",
     (*COMMON, "Snapshot with name 'done_label' already exist in repository")),
    ("BACKUP DATABASE edb SNAPSHOT done_label TO erepo PROPERTIES ('type' = 'incremental')",
     (*COMMON, "Currently does not support incremental backup")),
    # BackupHandler.getAbstractJobByDbName: reportDdlException(ERR_BAD_DB_ERROR)
    ("CANCEL BACKUP FROM nodb", (*BAD_DB, "Unknown database 'nodb'")),
    # visitShowBackupStatement / visitShowRestoreStatement: getDatabase
    ("SHOW BACKUP FROM nodb", (*BAD_DB, ANALYZING + "Unknown database 'nodb'.")),
    ("SHOW RESTORE FROM nodb", (*BAD_DB, ANALYZING + "Unknown database 'nodb'.")),
    # RepositoryAnalyzer.visitDropRepositoryStatement: reportSemanticException(ERR_COMMON_ERROR)
    ("DROP REPOSITORY nope", (*COMMON, ANALYZING + "Repository does not exist.")),
    # ShowSnapshotAnalyzer: reportSemanticException(ERR_COMMON_ERROR) for the repository, new SemanticException
    # for the WHERE clause
    ("SHOW SNAPSHOT ON nope", (*COMMON, ANALYZING + "Repository [nope] does not exist.")),
    ("SHOW SNAPSHOT ON erepo WHERE SNAPSHOT = 'a' OR TIMESTAMP = 'b'",
     (*PLAIN, ANALYZING + "Where clause should looks like: SNAPSHOT = 'your_snapshot_name' [AND TIMESTAMP = "
                          "'2018-04-18-19-19-10'].")),
    ("SHOW SNAPSHOT ON erepo WHERE TIMESTAMP = 'b'",
     (*PLAIN, ANALYZING + "Where clause should looks like: SNAPSHOT = 'your_snapshot_name' [AND TIMESTAMP = "
                          "'2018-04-18-19-19-10'].")),
    # BackupHandler.createRepository: reportDdlException(ERR_COMMON_ERROR, "Failed to create repository: " + ..)
    ("CREATE REPOSITORY erepo WITH BROKER ON LOCATION 's3a://errors-bucket/x' PROPERTIES ('aws.s3.access_key' = "
     "'a', 'aws.s3.secret_key' = 'b')",
     (*COMMON, "Failed to create repository: repository with same name already exist: erepo")),
    # RepositoryAnalyzer.visitCreateRepositoryStatement: new SemanticException
    ("CREATE REPOSITORY r2 WITH BROKER ON LOCATION '' PROPERTIES ('aws.s3.access_key' = 'a')",
     (*PLAIN, ANALYZING + "You must specify a location on the repository.")),
])
def test_submit_time_errors(mcur, setup, sql, reply):
    assert error_reply(mcur, sql) == reply


def test_use_of_a_missing_database(mcur):
    """ConnectContext.changeCatalogDb (USE, COM_INIT_DB, the handshake's database): reportDdlException(
    ERR_BAD_DB_ERROR), whose message the reply carries bare."""
    assert error_reply(mcur, "USE no_such_db") == (*BAD_DB, "Unknown database 'no_such_db'")


def test_cancel_refusals(mcur, setup):
    """BackupHandler.cancel (3.5 e223275f): the database's latest job answers; a finished one its own cancel()
    status (BackupJob.cancel: isDone()), one of the other kind "not running". Both are reported with
    ERR_COMMON_ERROR, whose code (5064) and SQL state the reply carries."""
    assert error_reply(mcur, "CANCEL BACKUP FROM edb") == (
        *COMMON, "Failed to cancel job: Job with label done_label can not be cancelled. state: FINISHED")
    assert error_reply(mcur, "CANCEL RESTORE FROM edb") == (*COMMON, "No restore is currently running")


def test_restore_snapshot_checks(mcur, setup):
    """BackupHandler.process / restore / checkAndFilterRestore*: reportDdlException(ERR_COMMON_ERROR); the
    duplicate names are BackupRestoreAnalyzer.visitRestoreStatement's plain SemanticExceptions."""
    stamp = setup
    props = f"PROPERTIES ('backup_timestamp' = '{stamp}')"
    code, state, text = error_reply(mcur, f"RESTORE SNAPSHOT done_label FROM erepo DATABASE edb "
                                          f"{props.replace(stamp, '2000')}")
    assert (code, state) == COMMON
    assert text.startswith("Failed to get info of snapshot 'done_label' because: ")
    assert text.endswith(". Maybe specified wrong backup timestamp")
    code, state, text = error_reply(mcur, f"RESTORE SNAPSHOT no_label FROM erepo DATABASE edb {props}")
    assert text.startswith("Failed to get info of snapshot 'no_label' because: Expected one file with path: ")
    restore = "RESTORE SNAPSHOT done_label FROM erepo DATABASE edb ON"
    assert error_reply(mcur, f"{restore} (TABLE zz) {props}") == (
        *COMMON, "Table zz does not exist in snapshot done_label")
    assert error_reply(mcur, f"{restore} (VIEW zz) {props}") == (
        *COMMON, "Table zz does not exist in snapshot done_label")
    assert error_reply(mcur, f"{restore} (TABLE t PARTITION (p7)) {props}") == (
        *COMMON, "Partition p7 of table t does not exist in snapshot done_label")
    assert error_reply(mcur, f"{restore} (FUNCTION nofn) {props}") == (*COMMON, "Can not find restore function: nofn")
    assert error_reply(mcur, f"RESTORE SNAPSHOT done_label FROM erepo DATABASE other ON (TABLE t) {props}") == (
        *COMMON, "target database: other is not existed in snapshot")
    # BackupRestoreAnalyzer.visitRestoreStatement: a table named twice first, then the aliases; the position is the
    # second TableRef's: its object description, from TABLE to the alias
    assert error_reply(mcur, f"{restore} (TABLE t AS x, TABLE t AS x) {props}") == (
        *PLAIN, "Getting analyzing error from line 1, column 70 to line 1, column 81. Detail message: Duplicated "
                "table: t.")
    assert error_reply(mcur, f"{restore} (TABLE t AS x, TABLE u AS x) {props}") == (
        *PLAIN, "Getting analyzing error from line 1, column 70 to line 1, column 81. Detail message: Duplicated "
                "alias name: x.")
    assert error_reply(mcur, f"{restore} (TABLE t AS u, TABLE u) {props}")[2].endswith(  # an alias naming a table
        "Detail message: Duplicated alias name: u.")
    assert error_reply(mcur, f"{restore} (TABLE t TEMPORARY PARTITION (p1)) {props}") == (
        *COMMON, "Do not support restoring temporary partitions")


def test_backup_of_a_view_named_as_a_table(cur, setup):
    """BackupRestoreAnalyzer.analyzeTableRef looks a name up whatever word named it, and BackupHandler.backup takes
    a view (`tbl.isOlapView()`) since 3.4: `ON (TABLE v)` backs the view up."""
    run(cur, "BACKUP DATABASE edb SNAPSHOT view_as_table TO erepo ON (TABLE v)")
    job = wait_job(cur, "BACKUP", "edb")
    assert (job["State"], job["BackupObjs"]) == ("FINISHED", "[edb.v]")


def test_unreachable_locations(mcur, cur):
    """BackupHandler.createRepository: reportDdlException(ERR_COMMON_ERROR, "Failed to create repository: " + ..)."""
    assert error_reply(mcur, "CREATE REPOSITORY h WITH BROKER ON LOCATION 'hdfs://nn:8020/x' PROPERTIES "
                             "('username' = 'u', 'password' = 'p')") == (
        *COMMON, "Failed to create repository: HDFS is not reachable from the emulator: hdfs://nn:8020/x (start it "
                 "with --webhdfs-endpoint or EMULATOR_WEBHDFS_ENDPOINT to use a WebHDFS server)")
    code, state, text = error_reply(mcur, "CREATE REPOSITORY m WITH BROKER ON LOCATION 's3://bucket_minio/backup' "
                                          "PROPERTIES ('aws.s3.access_key' = 'a', 'aws.s3.secret_key' = 'b', "
                                          "'aws.s3.endpoint' = 'http://127.0.0.1:9')")
    assert (code, state) == COMMON and text.startswith("Failed to create repository: ")
    code, state, text = error_reply(mcur, "CREATE REPOSITORY nob WITH BROKER ON LOCATION 's3a://no-such-bucket/x' "
                                          "PROPERTIES ('aws.s3.access_key' = 'a', 'aws.s3.secret_key' = 'b')")
    assert (code, state) == COMMON and "NoSuchBucket" in text
    assert {"h", "m", "nob"}.isdisjoint(r[1] for r in run(cur, "SHOW REPOSITORIES"))


def test_endpoint_less_location_without_redirect(tmp_path):
    from sr_airflow.testing.emulator.process import EmulatorServer

    with EmulatorServer(tmp_path / "plain", min_phase_seconds=0.05) as server:
        cursor = server.connect().cursor()
        code, text = error_of(cursor, "CREATE REPOSITORY aws WITH BROKER ON LOCATION 's3a://bucket_s3/backup' "
                                      "PROPERTIES ('aws.s3.use_instance_profile' = 'true', "
                                      "'aws.s3.region' = 'us-east-1')")
        assert code == 5064 and text.startswith("Failed to create repository: Unable to execute HTTP request")
        code, text = error_of(cursor, "CREATE REPOSITORY gcs WITH BROKER ON LOCATION 's3a://bucket_gcs/backup' "
                                      "PROPERTIES ('fs.s3a.access.key' = 'a', 'fs.s3a.secret.key' = 'b', "
                                      "'fs.s3a.endpoint' = 'storage.googleapis.com')")
        assert text.startswith("Failed to create repository: GCS through S3A (storage.googleapis.com) is not "
                               "emulated")
