"""BACKUP / RESTORE behaviour across two emulators sharing an S3 bucket."""

from __future__ import annotations

import re

import pytest

from tests.support.emulator_client import as_dicts, error_of, repo_sql, run, wait_job
from tests.support.waiting import wait_until

PROGRESS = re.compile(r"^(\[\d+: \d+/\d+\](, )?)+$")


@pytest.fixture(scope="module")
def shared(emulator, emulator_b, s3_client):
    s3_client.create_bucket(Bucket="shared-bucket")
    a, b = emulator.connect().cursor(), emulator_b.connect().cursor()
    run(a, repo_sql("repo", "shared-bucket"))
    run(b, repo_sql("repo", "shared-bucket", read_only=True))
    run(a, "CREATE DATABASE src")
    run(a, """CREATE TABLE src.orders (d DATE NOT NULL, id INT NOT NULL, amount BIGINT) DUPLICATE KEY(d, id)
              PARTITION BY RANGE(d) (PARTITION p1 VALUES LESS THAN ("2024-01-01"),
                                     PARTITION p2 VALUES LESS THAN ("2025-01-01"))
              DISTRIBUTED BY HASH(id) BUCKETS 2""")
    for i in range(3):
        run(a, f"INSERT INTO src.orders VALUES ('2023-0{i + 1}-01', {i}, {i * 10}), ('2024-0{i + 1}-01', {i + 10}, 1)")
    return a, b


def slow(cursor, phase: str = "0.4", mbps: str = "0") -> None:
    run(cursor, f"ADMIN SET FRONTEND CONFIG ('emulator_min_phase_seconds' = '{phase}', "
                f"'emulator_throughput_mbps' = '{mbps}')")


def fast(cursor) -> None:
    slow(cursor, "0.05", "200")


def wait_state(cursor, kind: str, db: str, states: set[str], timeout: float = 60) -> dict:
    def reached() -> dict | None:
        rows = as_dicts(cursor, f"SHOW {kind} FROM {db}")
        return rows[0] if rows and rows[0]["State"] in states else None

    return wait_until(reached, timeout, f"{kind} of {db} reaching {states}", interval=0.02)


def timestamp(cursor, label: str) -> str:
    return as_dicts(cursor, f"SHOW SNAPSHOT ON repo WHERE SNAPSHOT = '{label}'")[0]["Timestamp"]


def test_legacy_syntax_partitions_versions(shared):
    a, b = shared
    assert error_of(a, "BACKUP DATABASE src SNAPSHOT bare_p TO repo ON (TABLE orders PARTITION p2, TABLE nope)") == (
        1064, "Getting analyzing error. Detail message: Incorrect table name 'nope'.")  # analyzeTableRef
    run(a, "BACKUP SNAPSHOT src.legacy_p1 TO repo ON (orders PARTITION (p1))")
    job = wait_job(a, "BACKUP", "src")
    assert job["State"] == "FINISHED" and job["Status"] == "[OK]" and job["Timeout"] == "86400"
    assert job["BackupObjs"] == "[src.ordersPARTITIONS (p1)]"
    assert job["UnfinishedTasks"] == "" and job["Progress"] == "" and job["TaskErrMsg"] == ""
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", job[k]) for k in
               ("CreateTime", "SnapshotFinishedTime", "UploadFinishedTime", "FinishedTime"))
    stamp = timestamp(b, "legacy_p1")
    run(b, f"RESTORE SNAPSHOT src.legacy_p1 FROM repo ON (orders PARTITION (p1) AS orders_p1) "
           f"PROPERTIES ('backup_timestamp' = '{stamp}', 'allow_load' = 'true', 'replication_num' = '1')")
    job = wait_job(b, "RESTORE", "src")
    assert (job["State"], job["AllowLoad"], job["ReplicationNum"], job["RestoreObjs"]) == (
        "FINISHED", "true", "1", "orders_p1 PARTITIONS [p1]")
    assert run(b, "SELECT id, amount FROM src.orders_p1 ORDER BY id") == [(0, 0), (1, 10), (2, 20)]
    meta = ("SELECT PARTITION_NAME, VISIBLE_VERSION, ROW_COUNT FROM information_schema.partitions_meta "
            "WHERE DB_NAME = 'src' AND TABLE_NAME = '{}' AND PARTITION_NAME = 'p1'")
    assert run(b, meta.format("orders_p1")) == run(a, meta.format("orders")) == [("p1", 4, 3)]
    # after a RESTORE on a db, SHOW BACKUP on that db is empty (only the latest job of a db is kept)
    assert run(b, "SHOW BACKUP FROM src") == []
    detail = as_dicts(b, f"SHOW SNAPSHOT ON repo WHERE SNAPSHOT = 'legacy_p1' AND TIMESTAMP = '{stamp}'")
    assert list(detail[0]) == ["Snapshot", "Timestamp", "Database", "Details", "Status"]
    assert detail[0]["Database"] == "src" and detail[0]["Status"] == "OK"
    # BackupJobInfo.getBrief: org.json toString(1), keys in HashMap order, a one-key object on one line
    assert '\n "backup_objects": {"orders": {"partitions": {"p1": {}}}}\n' in detail[0]["Details"]


def test_intermediate_states_progress_and_snapshot_isolation(shared, emulator_b):
    a, b = shared
    slow(a, "0.3", "0.002")  # 2 KB/s: each tablet file takes a visible moment
    try:
        run(a, "BACKUP DATABASE src SNAPSHOT iso TO repo ON (TABLE orders)")
        seen = {wait_state(a, "BACKUP", "src", {"PENDING", "SNAPSHOTING", "UPLOAD_SNAPSHOT"})["State"]}
        wait_state(a, "BACKUP", "src", {"UPLOAD_SNAPSHOT", "UPLOADING"})
        run(a, "INSERT INTO src.orders VALUES ('2024-12-01', 99, 99)")  # after SNAPSHOTING: not in the snapshot
        uploading = wait_state(a, "BACKUP", "src", {"UPLOADING"})
        while uploading["State"] == "UPLOADING" and not uploading["Progress"]:  # between the last task and SAVE_META
            uploading = as_dicts(a, "SHOW BACKUP FROM src")[0]
        assert PROGRESS.match(uploading["Progress"]), uploading
        assert re.fullmatch(r"(\d+=10001(, )?)+", uploading["UnfinishedTasks"])
        assert error_of(a, "BACKUP DATABASE src SNAPSHOT other TO repo") == (
            5064, "Can only run one backup or restore job of a database at same time")  # ERR_COMMON_ERROR
        assert error_of(a, "DROP REPOSITORY repo") == (
            5064, "Backup or restore job is running on this repository. Can not drop it")
        for state in ("SAVE_META", "UPLOAD_INFO", "FINISHED"):
            seen.add(wait_state(a, "BACKUP", "src", {state, "FINISHED"})["State"])
        assert {"SAVE_META", "FINISHED"} <= seen
    finally:
        fast(a)
        wait_job(a, "BACKUP", "src")
    stamp = timestamp(b, "iso")
    run(b, "CREATE DATABASE iso_db")
    run(b, f"RESTORE SNAPSHOT iso FROM repo DATABASE src AS iso_db PROPERTIES ('backup_timestamp' = '{stamp}')")
    assert wait_job(b, "RESTORE", "iso_db")["State"] == "FINISHED"
    assert run(b, "SELECT count(*) FROM iso_db.orders WHERE id = 99") == [(0,)]
    assert run(b, "SELECT count(*) FROM iso_db.orders") == [(6,)]
    assert run(a, "SELECT count(*) FROM src.orders") == [(7,)]


def test_cancel_backup_then_label_is_taken(shared):
    a, _ = shared
    slow(a, "0.2", "0.002")
    try:
        run(a, "BACKUP DATABASE src SNAPSHOT cancelled_label TO repo")
        job = wait_state(a, "BACKUP", "src", {"UPLOADING"})
        while not re.search(r": [1-9]\d*/", job["Progress"]):
            job = wait_state(a, "BACKUP", "src", {"UPLOADING"})
        run(a, "CANCEL BACKUP FROM src")
    finally:
        fast(a)
        job = wait_job(a, "BACKUP", "src")
    assert (job["State"], job["Status"]) == ("CANCELLED", "[COMMON_ERROR, msg: user cancelled]")
    assert error_of(a, "BACKUP DATABASE src SNAPSHOT cancelled_label TO repo") == (
        5064, "Snapshot with name 'cancelled_label' already exist in repository")
    rows = as_dicts(a, "SHOW SNAPSHOT ON repo WHERE SNAPSHOT = 'cancelled_label'")
    assert rows == [{"Snapshot": "cancelled_label", "Timestamp": "", "Status": "ERROR: no snapshot"}]


def test_restore_conflicts_cancel_and_bad_file(shared, s3_client):
    a, b = shared
    run(a, "BACKUP DATABASE src SNAPSHOT full1 TO repo ON (TABLE orders)")
    assert wait_job(a, "BACKUP", "src")["State"] == "FINISHED"
    stamp = timestamp(b, "full1")
    props = f"PROPERTIES ('backup_timestamp' = '{stamp}')"
    run(b, "CREATE DATABASE conflict")
    run(b, "CREATE TABLE conflict.orders (d DATE NOT NULL, id INT NOT NULL, note STRING) DUPLICATE KEY(d, id) "
           "DISTRIBUTED BY HASH(id)")
    run(b, f"RESTORE SNAPSHOT full1 FROM repo DATABASE src AS conflict {props}")
    job = wait_job(b, "RESTORE", "conflict")
    assert job["State"] == "CANCELLED"
    assert job["Status"].startswith("[COMMON_ERROR, msg: Table orders already exist but with different schema")
    # user cancel while downloading
    slow(b, "0.5", "0.002")
    try:
        run(b, f"RESTORE SNAPSHOT full1 FROM repo DATABASE src AS cancel_db {props}")
        wait_state(b, "RESTORE", "cancel_db", {"DOWNLOADING"})
        run(b, "CANCEL RESTORE FROM cancel_db")
    finally:
        fast(b)
        job = wait_job(b, "RESTORE", "cancel_db")
    assert (job["State"], job["Status"]) == (
        "CANCELLED", "[COMMON_ERROR, msg: user cancelled, current state: DOWNLOADING]")
    assert run(b, "SHOW TABLES FROM cancel_db") == []
    # a corrupted tablet file: md5 of the content no longer matches its name
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket="shared-bucket",
                                                        Prefix="backup/__starrocks_repository_repo/__ss_full1/")
            ["Contents"]]
    dat = next(k for k in keys if k.endswith(tuple("0123456789abcdef")) and "_0.dat." in k)
    s3_client.put_object(Bucket="shared-bucket", Key=dat, Body=b"corrupted")
    run(b, f"RESTORE SNAPSHOT full1 FROM repo DATABASE src AS bad_db {props}")
    job = wait_job(b, "RESTORE", "bad_db")
    assert job["State"] == "CANCELLED"
    assert re.fullmatch(r"\[BAD_FILE, msg: md5sum does not equal\. local: [0-9a-f]{32}, remote: [0-9a-f]{32}\]",
                        job["Status"])


def test_show_snapshot_forms(shared, s3_client):
    a, b = shared
    run(a, "BACKUP DATABASE src SNAPSHOT twice TO repo ON (TABLE orders)")
    assert wait_job(a, "BACKUP", "src")["State"] == "FINISHED"
    root = "backup/__starrocks_repository_repo/__ss_twice/"
    info = next(k for k in (o["Key"] for o in s3_client.list_objects_v2(Bucket="shared-bucket", Prefix=root)
                            ["Contents"]) if "/__info_" in k)
    s3_client.copy_object(Bucket="shared-bucket", Key=info.replace("__info_20", "__info_19"),
                          CopySource={"Bucket": "shared-bucket", "Key": info})
    s3_client.put_object(Bucket="shared-bucket", Key=root + "__info_broken", Body=b"x")
    row = as_dicts(b, "SHOW SNAPSHOT ON repo WHERE SNAPSHOT = 'twice'")[0]
    stamps = row["Timestamp"].split("\n")
    assert len(stamps) == 3 and stamps[0].startswith("19") and stamps[2] == "Invalid: __info_broken"
    rows = run(b, "SHOW SNAPSHOT ON repo WHERE SNAPSHOT IN ('twice', 'full1', 'absent')")
    assert sorted(r[0] for r in rows) == ["full1", "twice"]
    everything = as_dicts(b, "SHOW SNAPSHOT ON repo")
    assert list(everything[0]) == ["Snapshot", "Timestamp", "Status"]
    assert {"legacy_p1", "iso", "full1", "twice", "cancelled_label"} <= {r["Snapshot"] for r in everything}
    failed = as_dicts(b, "SHOW SNAPSHOT ON repo WHERE SNAPSHOT = 'twice' AND TIMESTAMP = '1999-01-01-00-00-00-000'")
    # Repository.getSnapshotInfo: FeConstants.NULL_STRING (the text \N) where the info could not be read
    assert failed[0]["Database"] == failed[0]["Details"] == "\\N"
    assert failed[0]["Status"].startswith("Failed to get info: ")
    # SNAPSHOT = 'x' reads that snapshot without listing: a missing one is a row, not an empty result
    assert run(b, "SHOW SNAPSHOT ON repo WHERE SNAPSHOT = 'missing'") == [("missing", "", "ERROR: no snapshot")]


def test_mv_restored_without_base_stays_inactive(shared):
    a, b = shared
    run(a, "CREATE TABLE src.base (k INT, g STRING) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    run(a, "INSERT INTO src.base VALUES (1, 'x'), (2, 'y')")
    run(a, "USE src")
    run(a, "CREATE MATERIALIZED VIEW mvx REFRESH ASYNC AS SELECT g, count(*) AS n FROM base GROUP BY g")
    run(a, "BACKUP DATABASE src SNAPSHOT mv_only TO repo ON (MATERIALIZED VIEW mvx)")
    assert wait_job(a, "BACKUP", "src")["State"] == "FINISHED"
    run(a, "BACKUP DATABASE src SNAPSHOT base_only TO repo ON (TABLE base)")
    assert wait_job(a, "BACKUP", "src")["State"] == "FINISHED"
    run(b, f"RESTORE SNAPSHOT mv_only FROM repo DATABASE src AS mvdb ON (MATERIALIZED VIEW mvx) "
           f"PROPERTIES ('backup_timestamp' = '{timestamp(b, 'mv_only')}')")
    assert wait_job(b, "RESTORE", "mvdb")["State"] == "FINISHED"
    state = run(b, "SELECT IS_ACTIVE, INACTIVE_REASON FROM information_schema.materialized_views "
                   "WHERE TABLE_SCHEMA = 'mvdb'")
    assert state == [("false", "Cannot active the materialized view mvx after restore, please check whether its "
                               "base table has already been backup or restore:mvdb.base")]
    run(b, f"RESTORE SNAPSHOT base_only FROM repo DATABASE src AS mvdb ON (TABLE base) "
           f"PROPERTIES ('backup_timestamp' = '{timestamp(b, 'base_only')}')")
    assert wait_job(b, "RESTORE", "mvdb")["State"] == "FINISHED"
    run(b, "ALTER MATERIALIZED VIEW mvdb.mvx ACTIVE")
    assert run(b, "SHOW MATERIALIZED VIEWS FROM mvdb")[0][4] == "true"
    assert run(b, "SELECT * FROM mvdb.mvx ORDER BY g") == [("x", 1), ("y", 1)]


def test_read_only_repository_restores_but_never_backs_up(shared):
    _, b = shared
    rows = as_dicts(b, "SHOW REPOSITORIES")
    assert list(rows[0]) == ["RepoId", "RepoName", "CreateTime", "IsReadOnly", "Location", "Broker", "ErrMsg"]
    assert (rows[0]["RepoName"], rows[0]["IsReadOnly"], rows[0]["Location"], rows[0]["Broker"], rows[0]["ErrMsg"]) \
        == ("repo", "true", "s3a://shared-bucket/backup", "", None)
    run(b, "CREATE DATABASE IF NOT EXISTS robk")
    run(b, "CREATE TABLE robk.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    assert error_of(b, "BACKUP DATABASE robk SNAPSHOT nope TO repo") == (5064, "Repository repo is read only")


def test_storage_failure_sets_repository_errmsg(emulator, s3_client, bucket):
    cursor = emulator.connect().cursor()
    run(cursor, repo_sql("doomed", bucket))
    for item in s3_client.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3_client.delete_object(Bucket=bucket, Key=item["Key"])
    s3_client.delete_bucket(Bucket=bucket)
    code, text = error_of(cursor, "SHOW SNAPSHOT ON doomed")
    # Repository.getSnapshotInfos: new SemanticException while ShowExecutor runs it (no ErrorCode)
    assert code == 1064 and text.startswith("Getting analyzing error. Detail message: Failed to list snapshot in "
                                            "repo: doomed, err: ")
    row = as_dicts(cursor, "SHOW REPOSITORIES")
    err = next(r["ErrMsg"] for r in row if r["RepoName"] == "doomed")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: .*NoSuchBucket.*", err)
    run(cursor, "DROP REPOSITORY doomed")


def test_partition_kinds_roundtrip_and_replace_conflicts(emulator, emulator_b, s3_client, bucket):
    a, b = emulator.connect().cursor(), emulator_b.connect().cursor()
    run(a, repo_sql("kinds", bucket))
    run(b, repo_sql("kinds", bucket))
    run(a, "CREATE DATABASE kinds")
    run(a, "CREATE TABLE kinds.ev (ts DATETIME NOT NULL, id BIGINT, c STRING) DUPLICATE KEY(ts) "
           "PARTITION BY date_trunc('day', ts) DISTRIBUTED BY HASH(id) BUCKETS 3")
    run(a, "INSERT INTO kinds.ev VALUES ('2024-03-01 01:00:00', 1, 'x'), ('2024-03-02 01:00:00', 2, 'y')")
    run(a, "INSERT INTO kinds.ev VALUES ('2024-03-02 05:00:00', 3, 'z')")
    run(a, "CREATE TABLE kinds.li (id INT, city VARCHAR(8) NOT NULL) DUPLICATE KEY(id) PARTITION BY LIST(city) "
           "(PARTITION pa VALUES IN ('a', 'b'), PARTITION pc VALUES IN ('c')) DISTRIBUTED BY RANDOM BUCKETS 1")
    run(a, "INSERT INTO kinds.li VALUES (1, 'a'), (2, 'c')")
    run(a, "CREATE VIEW kinds.vv AS SELECT id FROM kinds.li")
    run(a, "ALTER TABLE kinds.li ADD TEMPORARY PARTITION tp VALUES IN ('z')")
    assert error_of(a, "BACKUP DATABASE kinds SNAPSHOT k0 TO kinds ON (TABLE li)") == (
        5064, "Do not support backing up table with temp partitions")  # BackupHandler: ERR_COMMON_ERROR
    assert [r[1] for r in run(a, "SHOW TEMPORARY PARTITIONS FROM kinds.li")] == ["tp"]
    run(a, "ALTER TABLE kinds.li DROP TEMPORARY PARTITION tp")
    run(a, "BACKUP DATABASE kinds SNAPSHOT k1 TO kinds")
    assert wait_job(a, "BACKUP", "kinds")["BackupObjs"] == "[kinds.ev], [kinds.li], [kinds.vv]"
    stamp = as_dicts(b, "SHOW SNAPSHOT ON kinds WHERE SNAPSHOT = 'k1'")[0]["Timestamp"]
    run(b, f"RESTORE SNAPSHOT k1 FROM kinds DATABASE kinds PROPERTIES ('backup_timestamp' = '{stamp}')")
    job = wait_job(b, "RESTORE", "kinds")
    assert (job["State"], job["RestoreObjs"]) == ("FINISHED", "ev PARTITIONS [p20240301, p20240302], "
                                                              "li PARTITIONS [pa, pc], vv")
    meta = ("SELECT TABLE_NAME, PARTITION_NAME, VISIBLE_VERSION, ROW_COUNT, PARTITION_VALUE FROM "
            "information_schema.partitions_meta WHERE DB_NAME = 'kinds' ORDER BY 1, 2")
    assert run(a, meta) == run(b, meta)
    assert ("ev", "p20240302", 3, 2) == run(b, meta)[1][:4]
    run(b, "INSERT INTO kinds.ev VALUES ('2024-03-09 00:00:00', 9, 'new')")  # expression partitions keep working
    assert run(b, "SELECT count(*) FROM kinds.ev PARTITION (p20240309)") == [(1,)]
    # a view name taken by a table, and a partition with another range
    run(b, "CREATE DATABASE clash")
    run(b, "CREATE TABLE clash.vv (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    run(b, f"RESTORE SNAPSHOT k1 FROM kinds DATABASE kinds AS clash ON (VIEW vv) "
           f"PROPERTIES ('backup_timestamp' = '{stamp}')")
    job = wait_job(b, "RESTORE", "clash")
    assert (job["State"], job["Status"]) == ("CANCELLED", "[BAD_REPLACE, msg: Table: vv has existed and it is not "
                                                          "a View]")
    run(b, "CREATE TABLE clash.li (id INT, city VARCHAR(8) NOT NULL) DUPLICATE KEY(id) PARTITION BY LIST(city) "
           "(PARTITION pa VALUES IN ('a')) DISTRIBUTED BY RANDOM BUCKETS 1")
    run(b, f"RESTORE SNAPSHOT k1 FROM kinds DATABASE kinds AS clash ON (TABLE li) "
           f"PROPERTIES ('backup_timestamp' = '{stamp}')")
    job = wait_job(b, "RESTORE", "clash")
    assert (job["State"], job["Status"]) == ("CANCELLED", "[COMMON_ERROR, msg: Partition pa in table li has "
                                                          "different range with partition in repository]")


def test_job_keeps_running_after_the_client_disconnects(emulator, bucket):
    conn = emulator.connect()
    cursor = conn.cursor()
    run(cursor, repo_sql("gone", bucket))
    run(cursor, "CREATE DATABASE gone_db")
    run(cursor, "CREATE TABLE gone_db.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    run(cursor, "INSERT INTO gone_db.t VALUES (1)")
    run(cursor, "BACKUP DATABASE gone_db SNAPSHOT bye TO gone")
    conn.close()
    other = emulator.connect().cursor()
    assert wait_job(other, "BACKUP", "gone_db")["State"] == "FINISHED"
    assert run(other, "SHOW SNAPSHOT ON gone")[0][::2] == ("bye", "OK")


def test_upload_info_errors_are_retried(emulator, s3_client, bucket):
    cursor = emulator.connect().cursor()
    run(cursor, repo_sql("flaky", bucket))
    run(cursor, "CREATE DATABASE flaky_db")
    run(cursor, "CREATE TABLE flaky_db.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    slow(cursor, "0.6", "0")
    try:
        run(cursor, "BACKUP DATABASE flaky_db SNAPSHOT retried TO flaky")
        wait_state(cursor, "BACKUP", "flaky_db", {"SAVE_META"})
        for item in s3_client.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3_client.delete_object(Bucket=bucket, Key=item["Key"])
        s3_client.delete_bucket(Bucket=bucket)
        wait_state(cursor, "BACKUP", "flaky_db", {"UPLOAD_INFO"})
        job = wait_until(lambda: next((j for j in as_dicts(cursor, "SHOW BACKUP FROM flaky_db")
                                       if "NoSuchBucket" in j["TaskErrMsg"]), None), 20,
                         "the upload error naming NoSuchBucket", interval=0.02)
        assert job["State"] == "UPLOAD_INFO" and job["TaskErrMsg"].startswith("[upload_info: ")
        s3_client.create_bucket(Bucket=bucket)
    finally:
        fast(cursor)
        job = wait_job(cursor, "BACKUP", "flaky_db")
    assert (job["State"], job["Status"], job["TaskErrMsg"]) == ("FINISHED", "[OK]", "")
    assert run(cursor, "SHOW SNAPSHOT ON flaky")[0][::2] == ("retried", "OK")
