"""ALTER TABLE column and comment changes: applied to the metadata and the rows, and none moves a partition's
visible version or id (SchemaChangeHandler / LocalMetastore at 3.5 e223275f78: fast schema evolution, a
SchemaChangeJobV2 at the partition's visible version, renameColumn and alterTableComment are metadata edits)."""

from __future__ import annotations

import datetime as dt

from tests.support.emulator_client import error_of, repo_sql, run, wait_job


def _versions(cur, db: str) -> list[tuple]:
    return run(cur, "SELECT PARTITION_NAME, PARTITION_ID, VISIBLE_VERSION FROM information_schema.partitions_meta "
                    f"WHERE DB_NAME = '{db}' ORDER BY PARTITION_NAME")


def test_column_changes_keep_versions_and_change_the_schema(cur):
    cur.execute("CREATE DATABASE sc_cols")
    cur.execute("CREATE TABLE sc_cols.t (k INT, d DATE, v VARCHAR(10)) DUPLICATE KEY(k) PARTITION BY RANGE(d) ("
                "PARTITION p1 VALUES LESS THAN ('2024-01-02'), PARTITION p2 VALUES LESS THAN ('2024-01-03')) "
                "DISTRIBUTED BY HASH(k) BUCKETS 1")
    cur.execute("INSERT INTO sc_cols.t VALUES (1, '2024-01-01', 'x'), (2, '2024-01-02', 'y')")
    before = _versions(cur, "sc_cols")
    cur.execute("ALTER TABLE sc_cols.t ADD COLUMN w INT DEFAULT '7' COMMENT 'new'")
    cur.execute("ALTER TABLE sc_cols.t RENAME COLUMN v TO label")
    cur.execute("ALTER TABLE sc_cols.t MODIFY COLUMN label VARCHAR(10) COMMENT 'renamed'")
    cur.execute("ALTER TABLE sc_cols.t ADD COLUMN (a INT, b VARCHAR(3))")
    cur.execute("ALTER TABLE sc_cols.t DROP COLUMN a")
    cur.execute("ALTER TABLE sc_cols.t COMMENT = 'events'")
    assert _versions(cur, "sc_cols") == before
    assert run(cur, "SELECT COLUMN_NAME, COLUMN_TYPE, COLUMN_COMMENT FROM information_schema.columns "
                    "WHERE TABLE_SCHEMA = 'sc_cols' ORDER BY ORDINAL_POSITION") == [
        ("k", "int(11)", ""), ("d", "date", ""), ("label", "varchar(10)", "renamed"), ("w", "int(11)", "new"),
        ("b", "varchar(3)", "")]
    assert run(cur, "SELECT k, d, label, w, b FROM sc_cols.t ORDER BY k") == [
        (1, dt.date(2024, 1, 1), "x", 7, None), (2, dt.date(2024, 1, 2), "y", 7, None)]
    assert run(cur, "SELECT TABLE_COMMENT FROM information_schema.tables WHERE TABLE_SCHEMA = 'sc_cols'") == [
        ("events",)]
    assert error_of(cur, "ALTER TABLE sc_cols.t DROP COLUMN zz") == (1064, "Column does not exists: zz")
    assert error_of(cur, "ALTER TABLE sc_cols.t RENAME COLUMN k TO d")[1] == "Duplicate column name 'd'"
    assert error_of(cur, "ALTER TABLE sc_cols.t ADD COLUMN w INT")[1] == \
        "Can not add column which already exists in base table: w"


def _restore(cur, label: str, target: str, on: str) -> dict:
    stamp = run(cur, f"SHOW SNAPSHOT ON sc_repo WHERE SNAPSHOT = '{label}'")[0][1]
    cur.execute(f"RESTORE SNAPSHOT {label} FROM sc_repo DATABASE sc_parts AS {target} ON ({on}) "
                f"PROPERTIES ('backup_timestamp' = '{stamp}')")
    return wait_job(cur, "RESTORE", target)


def test_a_restore_adds_partitions_to_an_existing_range_table_only(cur, bucket):
    """RestoreJob.checkAndPrepareMeta (3.5 e223275f): a partition absent from an existing table is added when the
    table is range-partitioned; for a list-partitioned one the job fails."""
    cur.execute(repo_sql("sc_repo", bucket))
    cur.execute("CREATE DATABASE sc_parts")
    cur.execute("CREATE TABLE sc_parts.r (k INT, d DATE) DUPLICATE KEY(k) PARTITION BY RANGE(d) (PARTITION a VALUES "
                "LESS THAN ('2024-01-02'), PARTITION b VALUES LESS THAN ('2024-01-03')) DISTRIBUTED BY HASH(k)")
    cur.execute("CREATE TABLE sc_parts.l (k INT, c VARCHAR(4) NOT NULL) DUPLICATE KEY(k) PARTITION BY LIST(c) ("
                "PARTITION a VALUES IN ('a'), PARTITION b VALUES IN ('b')) DISTRIBUTED BY HASH(k)")
    cur.execute("INSERT INTO sc_parts.r VALUES (1, '2024-01-01'), (2, '2024-01-02')")
    cur.execute("INSERT INTO sc_parts.l VALUES (1, 'a'), (2, 'b')")
    cur.execute("BACKUP DATABASE sc_parts SNAPSHOT sc_snap TO sc_repo ON (TABLE r, TABLE l)")
    assert wait_job(cur, "BACKUP", "sc_parts")["State"] == "FINISHED"
    assert _restore(cur, "sc_snap", "sc_copy", "TABLE r PARTITION (a), TABLE l PARTITION (a)")["State"] == \
        "FINISHED"
    assert _restore(cur, "sc_snap", "sc_copy", "TABLE r PARTITION (b)")["State"] == "FINISHED"
    assert run(cur, "SELECT k FROM sc_copy.r ORDER BY k") == [(1,), (2,)]
    job = _restore(cur, "sc_snap", "sc_copy", "TABLE l PARTITION (b)")
    assert (job["State"], job["Status"]) == (
        "CANCELLED", "[COMMON_ERROR, msg: No partition exist in single partitioned table l]")
