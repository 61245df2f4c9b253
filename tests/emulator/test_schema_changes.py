"""ALTER TABLE column and comment changes: applied to the metadata and the rows, and none moves a partition's
visible version or id (SchemaChangeHandler / LocalMetastore at 3.5 e223275f78: fast schema evolution, a
SchemaChangeJobV2 at the partition's visible version, renameColumn and alterTableComment are metadata edits)."""

from __future__ import annotations

import datetime as dt

from tests.support.emulator_client import error_of, run


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
