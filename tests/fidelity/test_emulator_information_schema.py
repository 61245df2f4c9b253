"""The emulator's `information_schema.columns` and `information_schema.partitions_meta`, and SHOW PARTITIONS, against
`fixtures/column_types.json`, `information_schema_columns.json`, `partitions_meta.json` and `show_titles.json`
(ColumnsSystemTable / FrontendServiceImpl.setColumnDesc / schema_columns_scanner.cpp; PartitionsMetaSystemTable /
InformationSchemaDataSource.genPartitionMetaInfo / schema_partitions_meta_scanner.cpp, 3.5 `e223275f78`)."""

from __future__ import annotations

import datetime
import re

import pytest

from tests.fidelity.helpers import ROLLUP, SALES_DDL, SALES_LOADS, SYNC_MV, Session, load_fixture

TYPES = load_fixture("column_types.json")
COLUMNS = load_fixture("information_schema_columns.json")
PARTITIONS = load_fixture("partitions_meta.json")
TITLES = load_fixture("show_titles.json")["3.5"]
SYSTEM_TABLES = load_fixture("information_schema_tables.json")["columns"]
TEMP_PARTITION = "ALTER TABLE sales ADD TEMPORARY PARTITION tp_mar VALUES [('2024-03-01'), ('2024-04-01'))"
DATA_SIZE = re.compile(r"^\d+(\.\d)?(B|KB|MB|GB|TB|PB)$")


@pytest.fixture(scope="module")
def sess(emulator, s3, bucket):
    session = Session(emulator, s3, bucket)
    session.run(*TYPES["tables"].values(), SALES_DDL, *SALES_LOADS, ROLLUP, SYNC_MV, TEMP_PARTITION)
    yield session
    session.close()


@pytest.fixture(scope="module")
def columns(sess) -> dict[str, list[dict]]:
    """The information_schema.columns rows of the scenario's tables, read once, by table."""
    rows = sess.dicts(f"SELECT * FROM information_schema.columns WHERE TABLE_SCHEMA = '{sess.db}' "
                      "ORDER BY TABLE_NAME, ORDINAL_POSITION")
    by_table: dict[str, list[dict]] = {}
    for row in rows:
        by_table.setdefault(row["TABLE_NAME"], []).append(row)
    return by_table


def test_columns_titles(sess):
    assert sess.titles("SELECT * FROM information_schema.columns WHERE TABLE_NAME = 'none'") == COLUMNS["columns"]


@pytest.mark.parametrize("table", sorted(SYSTEM_TABLES))
def test_other_system_table_titles(sess, table):
    """Every column of the `*SystemTable.java` definitions, in order."""
    assert sess.titles(f"SELECT * FROM information_schema.{table} LIMIT 0") == SYSTEM_TABLES[table]["3.5"]


@pytest.mark.parametrize("column", TYPES["columns"], ids=lambda c: c["declared"])
def test_column_type_and_sizes_per_declared_type(columns, column):
    rows = {r["COLUMN_NAME"]: r for r in columns[column["table"]]}
    assert column["column"] in rows, f"{column['declared']} column not listed"
    row = rows[column["column"]]
    assert {k: row[k] for k in column["information_schema"]} == column["information_schema"]


def test_key_nullable_and_positions(columns):
    for table, key in (("all_types", "DUP"), ("agg_types", "AGG")):
        rows = columns[table]
        assert [r["ORDINAL_POSITION"] for r in rows] == list(range(1, len(rows) + 1))
        assert rows[0]["COLUMN_NAME"] == "k1" and rows[0]["COLUMN_KEY"] == key and rows[0]["IS_NULLABLE"] == "NO"
        assert all(r["COLUMN_KEY"] == "" for r in rows[1:])
        expected_null = "NO" if table == "agg_types" else "YES"
        assert all(r["IS_NULLABLE"] == expected_null for r in rows[1:-1])


def test_sales_rows_whole_and_no_index_columns(sess, columns):
    """Every column of the three rows; rollup and synchronous-MV columns are not listed (`getBaseSchema()`)."""
    rows = columns["sales"]
    expected = [{**r, "TABLE_SCHEMA": sess.db} for r in COLUMNS["sales_rows"]]
    assert rows == expected


def test_sql_tester_test_column_default(sess):
    case = COLUMNS["sql_tester_test_column_default"]
    sess.run(case["ddl"])
    rows = sess.run(case["query"].replace("where table_name", f"where table_schema = '{sess.db}' and table_name"))
    assert [list(r) for r in rows] == case["rows"]


def partitions_meta(sess: Session, table: str = "sales") -> list[dict]:
    return sess.dicts(f"SELECT * FROM information_schema.partitions_meta WHERE DB_NAME = '{sess.db}' "
                      f"AND TABLE_NAME = '{table}' ORDER BY PARTITION_NAME")


def test_partitions_meta_titles(sess):
    titles = sess.titles("SELECT * FROM information_schema.partitions_meta WHERE TABLE_NAME = 'none'")
    assert titles == PARTITIONS["columns"]["3.5"]


def test_partitions_meta_rows(sess):
    rows = partitions_meta(sess)
    by_name = {r["PARTITION_NAME"]: r for r in rows}
    assert set(by_name) == {"p1", "p2", "tp_mar"} and len(rows) == 3
    fixture = {r["PARTITION_NAME"]: r for r in PARTITIONS["sales_rows"]}
    for name, row in by_name.items():
        expected = fixture[name]
        for column in ("DB_NAME", "PARTITION_ID", "VISIBLE_VERSION", "NEXT_VERSION", "DATA_VERSION",
                       "VERSION_EPOCH", "DATA_SIZE", "ROW_COUNT", "VISIBLE_VERSION_TIME", "VERSION_TXN_TYPE"):
            assert row[column] is not None, (name, column)
        for column in ("TABLE_NAME", "PARTITION_KEY", "PARTITION_VALUE", "DISTRIBUTION_KEY", "BUCKETS",
                       "REPLICATION_NUM", "STORAGE_MEDIUM", "COMPACT_VERSION", "LAST_CONSISTENCY_CHECK_TIME",
                       "VERSION_TXN_TYPE", "ENABLE_DATACACHE", "AVG_CS", "P50_CS", "MAX_CS", "STORAGE_PATH",
                       "IS_IN_MEMORY", "IS_TEMP"):
            assert row[column] == expected[column], (name, column)
        assert row["COOLDOWN_TIME"] == datetime.datetime(9999, 12, 31, 23, 59, 59)
        assert isinstance(row["VISIBLE_VERSION_TIME"], datetime.datetime)
        assert row["NEXT_VERSION"] == row["VISIBLE_VERSION"] + 1 and row["DATA_VERSION"] == row["VISIBLE_VERSION"]
        assert isinstance(row["DATA_SIZE"], str) and DATA_SIZE.match(row["DATA_SIZE"]), row["DATA_SIZE"]
        assert isinstance(row["PARTITION_ID"], int) and isinstance(row["VERSION_EPOCH"], int)
    assert (by_name["p1"]["VISIBLE_VERSION"], by_name["p2"]["VISIBLE_VERSION"]) == (3, 2)
    assert (by_name["p1"]["ROW_COUNT"], by_name["p2"]["ROW_COUNT"]) == (2, 1)


def test_sql_tester_test_partitions_meta(sess):
    case = PARTITIONS["sql_tester_test_partitions_meta"]
    for n, buckets in ((1, 2), (2, 1)):
        sess.run(f"CREATE TABLE partitions_meta_test{n} (k int(11) NOT NULL COMMENT \"\", "
                 "v int(11) NOT NULL COMMENT \"\") ENGINE=olap DUPLICATE KEY(k) PARTITION BY RANGE(v) "
                 "(PARTITION p1 VALUES [(\"-2147483648\"), (\"0\")), PARTITION p2 VALUES [(\"0\"), (\"10\")), "
                 "PARTITION p3 VALUES [(\"10\"), (\"2147483647\"))) "
                 f"DISTRIBUTED BY HASH(k) BUCKETS {buckets} PROPERTIES (\"replication_num\" = \"1\")")
    query = case["query"].replace("where table_name", f"where DB_NAME = '{sess.db}' and table_name")
    assert [list(r) for r in sess.run(query)] == case["rows"]


def test_show_partitions_titles_and_physical_ids(sess):
    titles = sess.titles("SHOW PARTITIONS FROM sales")
    assert titles == [t.replace("{Range|List}", "Range") for t in TITLES["SHOW PARTITIONS"]]
    # SHOW results are text columns (ShowResultSetMetaData of varchar); the ids compare as numbers
    shown = {r["PartitionName"]: int(r["PartitionId"]) for r in sess.dicts("SHOW PARTITIONS FROM sales")}
    meta = {r["PARTITION_NAME"]: r["PARTITION_ID"] for r in partitions_meta(sess) if not r["IS_TEMP"]}
    assert shown == meta, "SHOW PARTITIONS PartitionId is the physical partition id, as partitions_meta"
    temp = {r["PartitionName"] for r in sess.dicts("SHOW TEMPORARY PARTITIONS FROM sales")}
    assert temp == {"tp_mar"}
