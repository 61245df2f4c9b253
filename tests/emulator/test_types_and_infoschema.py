"""Column types and information_schema over the MySQL protocol, against values read from StarRocks' own source and
tests (fork turtacn/starrocks; 3.5 point e223275f78, 4.0 point 312b0d9e46 for the default release line).

Every expected value below is written out from the Java/C++ source or a StarRocks test named next to it, never
taken from the emulator's constants.
"""

from __future__ import annotations

import time

import pymysql
import pytest

from sr_airflow.testing.emulator import sqltypes
from sr_airflow.testing.emulator.show import byte_size
from tests.support.emulator_client import as_dicts, run

# catalog/TypeTest.testMysqlColumnType (3.5 point): the types StarRocks' own test builds, and what it asserts.
TYPE_TEST_SAMPLES = [("BOOLEAN", "tinyint(1)"), ("LARGEINT", "bigint(20) unsigned"), ("DECIMAL(18, 4)",
                     "decimal(18, 4)"), ("ARRAY<INT>", "array<int(11)>"), ("MAP<INT, INT>", "map<int(11),int(11)>"),
                     ("STRUCT<col1 INT>", "struct<col1 int(11)>")]

# catalog/system/information/*SystemTable.java, the `.column("...")` names in order (identical from 3.3 to 4.0 for
# these five tables).
SYSTEM_TABLE_COLUMNS = {
    "columns": ["TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME", "COLUMN_NAME", "ORDINAL_POSITION", "COLUMN_DEFAULT",
                "IS_NULLABLE", "DATA_TYPE", "CHARACTER_MAXIMUM_LENGTH", "CHARACTER_OCTET_LENGTH", "NUMERIC_PRECISION",
                "NUMERIC_SCALE", "DATETIME_PRECISION", "CHARACTER_SET_NAME", "COLLATION_NAME", "COLUMN_TYPE",
                "COLUMN_KEY", "EXTRA", "PRIVILEGES", "COLUMN_COMMENT", "COLUMN_SIZE", "DECIMAL_DIGITS",
                "GENERATION_EXPRESSION", "SRS_ID"],
    "tables": ["TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME", "TABLE_TYPE", "ENGINE", "VERSION", "ROW_FORMAT",
               "TABLE_ROWS", "AVG_ROW_LENGTH", "DATA_LENGTH", "MAX_DATA_LENGTH", "INDEX_LENGTH", "DATA_FREE",
               "AUTO_INCREMENT", "CREATE_TIME", "UPDATE_TIME", "CHECK_TIME", "TABLE_COLLATION", "CHECKSUM",
               "CREATE_OPTIONS", "TABLE_COMMENT"],
    "tables_config": ["TABLE_SCHEMA", "TABLE_NAME", "TABLE_ENGINE", "TABLE_MODEL", "PRIMARY_KEY", "PARTITION_KEY",
                      "DISTRIBUTE_KEY", "DISTRIBUTE_TYPE", "DISTRIBUTE_BUCKET", "SORT_KEY", "PROPERTIES", "TABLE_ID"],
    "views": ["TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME", "VIEW_DEFINITION", "CHECK_OPTION", "IS_UPDATABLE",
              "DEFINER", "SECURITY_TYPE", "CHARACTER_SET_CLIENT", "COLLATION_CONNECTION"],
    "schemata": ["CATALOG_NAME", "SCHEMA_NAME", "DEFAULT_CHARACTER_SET_NAME", "DEFAULT_COLLATION_NAME", "SQL_PATH"],
}

# One column per declared type: (declaration, COLUMN_TYPE, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH,
# CHARACTER_OCTET_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, COLUMN_SIZE, DECIMAL_DIGITS). From ScalarType.toSql /
# toMysqlColumnTypeString / toMysqlDataTypeString, Array/Map/StructType.toSql, Type.getPrecision / getColumnSize /
# getDecimalDigits, AstBuilder.getBaseType (STRING = varchar(65533)), createUnifiedDecimalType, and
# schema_columns_scanner.cpp (octet length = 3 x the length, for CHAR/VARCHAR only).
ALL_TYPES = [
    ("INT NOT NULL", "int(11)", "int", None, None, 10, 0, 10, 0),
    ("BOOLEAN", "tinyint(1)", "tinyint", None, None, None, 0, None, 0),
    ("TINYINT", "tinyint(4)", "tinyint", None, None, 3, 0, 3, 0),
    ("SMALLINT", "smallint(6)", "smallint", None, None, 5, 0, 5, 0),
    ("BIGINT", "bigint(20)", "bigint", None, None, 19, 0, 19, 0),
    ("LARGEINT", "bigint(20) unsigned", "bigint unsigned", None, None, 39, None, 39, None),
    ("FLOAT", "float", "float", None, None, 7, 7, 7, 7),
    ("DOUBLE", "double", "double", None, None, 15, 15, 15, 15),
    ("DECIMAL(18, 4)", "decimal(18, 4)", "decimal", None, None, 18, 4, 18, 4),
    ("DECIMAL(38, 9)", "decimal(38, 9)", "decimal", None, None, 38, 9, 38, 9),
    ("DECIMAL32(9, 2)", "decimal(9, 2)", "decimal", None, None, 9, 2, 9, 2),
    ("DECIMALV2(10, 3)", "decimal(10, 3)", "decimal", None, None, 10, 3, 10, 3),
    ("DECIMAL", "decimal(10, 0)", "decimal", None, None, 10, 0, 10, 0),
    ("DATE", "date", "date", None, None, None, None, None, None),
    ("DATETIME", "datetime", "datetime", None, None, None, None, None, None),
    ("CHAR(10)", "char(10)", "char", 10, 30, None, None, 10, None),
    ("VARCHAR(150)", "varchar(150)", "varchar", 150, 450, None, None, 150, None),
    ("VARCHAR", "varchar(1)", "varchar", 1, 3, None, None, 1, None),  # ColumnDef.analyze: unset length -> 1
    ("STRING", "varchar(65533)", "varchar", 65533, 196599, None, None, 65533, None),
    ("JSON", "json", "json", None, None, None, None, None, None),
    ("VARBINARY", "varbinary", "varbinary", None, None, None, None, None, None),
    ("VARBINARY(10)", "varbinary(10)", "varbinary", None, None, None, None, None, None),
    ("ARRAY<INT>", "array<int(11)>", "array", None, None, None, None, None, None),
    # ArrayType.toSql prints a decimal item with ScalarType.toString
    ("ARRAY<DECIMAL(10, 2)>", "array<DECIMAL64(10,2)>", "array", None, None, None, None, None, None),
    ("MAP<INT, INT>", "map<int(11),int(11)>", "map", None, None, None, None, None, None),
    ("STRUCT<col1 INT>", "struct<col1 int(11)>", "struct", None, None, None, None, None, None),
    ("MAP<VARCHAR(5), ARRAY<STRUCT<a BOOLEAN, b LARGEINT>>>",
     "map<varchar(5),array<struct<a boolean, b largeint(40)>>>", "map", None, None, None, None, None, None),
]
# AGGREGATE KEY columns: HLL's length is ScalarType.MAX_HLL_LENGTH (getColumnSize, but no CHARACTER_* since its thrift
# type is HLL); SUM over a decimal is widened to DECIMAL128(38, s) (ColumnDef.analyze, AggregateType.extendedPrecision).
AGG_TYPES = [
    ("HLL HLL_UNION", "hll", "hll", None, None, None, None, 16385, None),
    ("BITMAP BITMAP_UNION", "bitmap", "bitmap", None, None, None, None, None, None),
    ("PERCENTILE PERCENTILE_UNION", "percentile", "percentile", None, None, None, None, None, None),
    ("DECIMAL(10, 2) SUM", "decimal(38, 2)", "decimal", None, None, 38, 2, 38, 2),
]
SIZE_COLUMNS = ("COLUMN_TYPE", "DATA_TYPE", "CHARACTER_MAXIMUM_LENGTH", "CHARACTER_OCTET_LENGTH", "NUMERIC_PRECISION",
                "NUMERIC_SCALE", "COLUMN_SIZE", "DECIMAL_DIGITS")


@pytest.mark.parametrize(("declared", "expected"), TYPE_TEST_SAMPLES)
def test_type_test_samples(declared, expected):
    assert sqltypes.mysql_column_type(sqltypes.parse_type(declared)) == expected


def test_gson_type_forms():
    """GSON of Column.type: `clazz` first (GsonUtils.COLUMN_TYPE_ADAPTER_FACTORY), the @SerializedName fields of
    ScalarType (type, len, precision, scale), ArrayType (itemType), MapType (keyType, valueType), StructType
    (fields, named) and StructField (name, type, fieldId, fieldPhysicalName; comment null so absent). A decimal
    declared as DECIMAL(p, s) is DECIMAL64 up to p = 18 and DECIMAL128 above (createUnifiedDecimalType)."""
    int_type = {"clazz": "ScalarType", "type": "INT", "len": -1, "precision": 0, "scale": 0}
    assert sqltypes.gson_type("DECIMAL(10, 2)") == {"clazz": "ScalarType", "type": "DECIMAL64", "len": -1,
                                                    "precision": 10, "scale": 2}
    assert sqltypes.gson_type("DECIMAL(19, 0)")["type"] == "DECIMAL128"
    assert sqltypes.gson_type("STRING") == {"clazz": "ScalarType", "type": "VARCHAR", "len": 65533, "precision": 0,
                                            "scale": 0}
    assert sqltypes.gson_type("ARRAY<INT>") == {"clazz": "ArrayType", "itemType": int_type}
    assert sqltypes.gson_type("MAP<INT, INT>") == {"clazz": "MapType", "keyType": int_type, "valueType": int_type}
    assert sqltypes.gson_type("STRUCT<c1 INT>") == {
        "clazz": "StructType", "fields": [{"name": "c1", "type": int_type, "fieldId": -1, "fieldPhysicalName": ""}],
        "named": True}
    assert list(sqltypes.gson_type("INT")) == ["clazz", "type", "len", "precision", "scale"]
    assert sqltypes.gson_type("DECIMAL(10, 2)", aggregate="SUM")["type"] == "DECIMAL128"


def test_declared_types_refused_as_starrocks_refuses_them():
    """TypeDef.analyzeScalarType / analyzeArrayType / analyzeMapType messages."""
    with pytest.raises(sqltypes.InvalidType, match=r"^Char size must be <= 255: 256$"):
        sqltypes.parse_type("CHAR(256)")
    with pytest.raises(sqltypes.InvalidType, match=r"^Varchar size must be > 0: -1$"):
        sqltypes.parse_type("ARRAY<VARCHAR>")
    with pytest.raises(sqltypes.InvalidType, match=r"^Invalid data type: array<hll>$"):
        sqltypes.parse_type("ARRAY<HLL>")
    with pytest.raises(sqltypes.InvalidType, match=r"^Invalid map.key's type: json, which should be base types$"):
        sqltypes.parse_type("MAP<JSON, INT>")


@pytest.fixture(scope="module")
def typed(emulator):
    """One database with a table of every type, an aggregate table, a view, an async MV and a synchronous MV."""
    conn = emulator.connect()
    cur = conn.cursor()
    run(cur, "DROP DATABASE IF EXISTS types_db")
    run(cur, "CREATE DATABASE types_db")
    run(cur, "USE types_db")
    columns = ",\n".join(f"c{i} {declared}" for i, (declared, *_) in enumerate(ALL_TYPES))
    run(cur, f"CREATE TABLE all_types ({columns}) DUPLICATE KEY(c0) DISTRIBUTED BY HASH(c0) BUCKETS 1")
    agg = ",\n".join(f"a{i} {declared}" for i, (declared, *_) in enumerate(AGG_TYPES))
    run(cur, f"CREATE TABLE agg_types (k INT NOT NULL, {agg}) AGGREGATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
    run(cur, "CREATE TABLE base (k INT NOT NULL COMMENT 'the key', g VARCHAR(8), v BIGINT) DUPLICATE KEY(k) "
             "PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN ('10'), PARTITION p2 VALUES LESS THAN ('20')) "
             "DISTRIBUTED BY HASH(k) BUCKETS 2")
    run(cur, "INSERT INTO base VALUES (1, 'a', 5), (11, 'b', 6)")
    run(cur, "CREATE VIEW vw AS SELECT k, v FROM base")
    run(cur, "CREATE MATERIALIZED VIEW smv AS SELECT g, sum(v) FROM base GROUP BY g")
    yield cur
    conn.close()


def _column_rows(cur, table: str) -> dict[str, dict]:
    rows = as_dicts(cur, "SELECT * FROM information_schema.columns WHERE TABLE_SCHEMA = 'types_db' "
                         f"AND TABLE_NAME = '{table}' ORDER BY ORDINAL_POSITION")
    return {r["COLUMN_NAME"]: r for r in rows}


def test_columns_of_every_type(typed):
    rows = _column_rows(typed, "all_types")
    for i, (declared, *expected) in enumerate(ALL_TYPES):
        got = [rows[f"c{i}"][name] for name in SIZE_COLUMNS]
        assert got == expected, declared
    aggregated = _column_rows(typed, "agg_types")
    for i, (declared, *expected) in enumerate(AGG_TYPES):
        assert [aggregated[f"a{i}"][name] for name in SIZE_COLUMNS] == expected, declared


def test_columns_row_shape(typed):
    """setColumnDesc + schema_columns_scanner.cpp: TABLE_CATALOG NULL, COLUMN_KEY = the first three letters of the
    keys type for key columns ("DUP", "AGG"), EXTRA / PRIVILEGES "", the unset ones NULL."""
    row = _column_rows(typed, "base")["k"]
    assert list(row) == SYSTEM_TABLE_COLUMNS["columns"]
    assert (row["TABLE_CATALOG"], row["ORDINAL_POSITION"], row["IS_NULLABLE"], row["COLUMN_KEY"], row["EXTRA"],
            row["PRIVILEGES"], row["COLUMN_COMMENT"], row["DATETIME_PRECISION"], row["CHARACTER_SET_NAME"],
            row["COLLATION_NAME"], row["GENERATION_EXPRESSION"], row["SRS_ID"]) == (
        None, 1, "NO", "DUP", "", "", "the key", None, None, None, None, None)
    assert _column_rows(typed, "base")["g"]["COLUMN_KEY"] == ""
    assert _column_rows(typed, "agg_types")["k"]["COLUMN_KEY"] == "AGG"


def test_columns_are_the_base_index_only(typed):
    """setColumnDesc iterates `table.getBaseSchema()`; a synchronous MV is an index of its base table, not a table
    (describeTable lists `db.getTableNamesViewWithLock()`), so neither its columns nor its name appear."""
    assert list(_column_rows(typed, "base")) == ["k", "g", "v"]
    assert run(typed, "SELECT count(*) FROM information_schema.columns WHERE TABLE_NAME = 'smv'") == [(0,)]
    assert list(_column_rows(typed, "vw")) == ["k", "v"]


def test_test_column_sql_tester_case(typed):
    """test/sql/test_information_schema/T/test_column and R/test_column (3.5 point), replayed."""
    run(typed, """CREATE TABLE `test_column_default` (
  `date` date NOT NULL DEFAULT "1970-01-01" COMMENT "",
  `device_id` varchar(150) NOT NULL DEFAULT "" COMMENT "",
  `server_ip` varchar(150) NOT NULL DEFAULT "" COMMENT "",
  `id` int(11) NOT NULL COMMENT "",
  `device_type` tinyint(4) NOT NULL COMMENT ""
) ENGINE=OLAP
DUPLICATE KEY(`date`, `device_id`)
DISTRIBUTED BY RANDOM
PROPERTIES (
"replication_num" = "1"
)""")
    rows = run(typed, "select COLUMN_NAME, DATA_TYPE, NUMERIC_SCALE, COLUMN_DEFAULT, COLUMN_COMMENT AS DESCRIPTION, "
                      "COLUMN_TYPE from INFORMATION_SCHEMA.COLUMNS where table_name = 'test_column_default'")
    assert rows == [("date", "date", None, "1970-01-01", "", "date"),
                    ("device_id", "varchar", None, "", "", "varchar(150)"),
                    ("server_ip", "varchar", None, "", "", "varchar(150)"),
                    ("id", "int", 0, None, "", "int(11)"),
                    ("device_type", "tinyint", 0, None, "", "tinyint(4)")]
    assert run(typed, "show full columns from test_column_default") == [
        ("date", "date", "", "NO", "YES", "1970-01-01", "", "", ""),
        ("device_id", "varchar(150)", "", "NO", "YES", "", "", "", ""),
        ("server_ip", "varchar(150)", "", "NO", "NO", "", "", "", ""),
        ("id", "int", "", "NO", "NO", None, "", "", ""),
        ("device_type", "tinyint", "", "NO", "NO", None, "", "", "")]


def test_desc_and_show_columns(typed):
    """DESC: IndexSchemaProcNode.fetchResult (Key "true"/"false"); SHOW COLUMNS: visitShowColumnStatement (Key
    "YES"/"NO"); Type `canonicalName().toLowerCase()` in both (decimals `decimal(p,s)` without a space)."""
    assert run(typed, "DESC base") == [("k", "int", "NO", "true", None, ""),
                                       ("g", "varchar(8)", "YES", "false", None, ""),
                                       ("v", "bigint", "YES", "false", None, "")]
    shown = {r[0]: r[1:4] for r in run(typed, "SHOW COLUMNS FROM all_types")}
    assert shown["c8"] == ("decimal(18,4)", "YES", "NO") and shown["c0"] == ("int", "NO", "YES")
    assert shown["c22"] == ("array<int>", "YES", "NO") and shown["c18"] == ("varchar(65533)", "YES", "NO")


def test_run_mode_config(typed):
    """The product's shared-data check reads Config.run_mode (default "shared_nothing", not mutable), a row as
    ConfigBase.getConfigInfo writes it: Key, AliasNames, Value, Type (simple class name), IsMutable, Comment."""
    assert run(typed, "ADMIN SHOW FRONTEND CONFIG LIKE 'run_mode'") == [
        ("run_mode", "[]", "shared_nothing", "String", "false", "")]


@pytest.mark.parametrize("table", sorted(SYSTEM_TABLE_COLUMNS))
def test_system_table_columns(typed, table):
    typed.execute(f"SELECT * FROM information_schema.{table} LIMIT 1")
    assert [d[0] for d in typed.description] == SYSTEM_TABLE_COLUMNS[table]


def test_tables_rows(typed):
    """generateTablesInfoResponse + schema_tables_scanner.cpp: -1 and unset times are NULL, unset strings "";
    4.0's Table.getMysqlType is "BASE TABLE" for OLAP tables and "VIEW" for views and MVs; a view has no engine
    (Table.getEngine null) and no sizes (genDefaultConfigInfo); a synchronous MV is no table."""
    rows = {r["TABLE_NAME"]: r for r in as_dicts(typed, "SELECT * FROM information_schema.tables "
                                                        "WHERE TABLE_SCHEMA = 'types_db'")}
    assert "smv" not in rows
    base, view = rows["base"], rows["vw"]
    assert (base["TABLE_CATALOG"], base["TABLE_TYPE"], base["ENGINE"], base["VERSION"], base["ROW_FORMAT"],
            base["TABLE_ROWS"], base["MAX_DATA_LENGTH"], base["INDEX_LENGTH"], base["DATA_FREE"],
            base["AUTO_INCREMENT"], base["CHECK_TIME"], base["TABLE_COLLATION"], base["CHECKSUM"],
            base["CREATE_OPTIONS"]) == ("def", "BASE TABLE", "StarRocks", None, "", 2, None, None, None, None, None,
                                        "utf8_general_ci", None, "")
    assert base["CREATE_TIME"] is not None and base["UPDATE_TIME"] is not None
    assert (view["TABLE_TYPE"], view["ENGINE"], view["TABLE_ROWS"], view["AVG_ROW_LENGTH"], view["DATA_LENGTH"],
            view["UPDATE_TIME"]) == ("VIEW", "", None, None, None, None)


def test_tables_config_rows(typed):
    """genNormalTableConfigInfo: TABLE_ENGINE the TableType name, TABLE_MODEL the KeysType name, PRIMARY_KEY empty
    unless PRIMARY/UNIQUE KEY, back-quoted key lists; a view keeps thrift's defaults ("" and 0)."""
    rows = {r["TABLE_NAME"]: r for r in as_dicts(typed, "SELECT * FROM information_schema.tables_config "
                                                        "WHERE TABLE_SCHEMA = 'types_db'")}
    base = rows["base"]
    assert (base["TABLE_ENGINE"], base["TABLE_MODEL"], base["PRIMARY_KEY"], base["PARTITION_KEY"],
            base["DISTRIBUTE_KEY"], base["DISTRIBUTE_TYPE"], base["DISTRIBUTE_BUCKET"], base["SORT_KEY"]) == (
        "OLAP", "DUP_KEYS", "", "`k`", "`k`", "HASH", 2, "`k`")
    assert [rows["vw"][c] for c in SYSTEM_TABLE_COLUMNS["tables_config"][2:]] == ["", "", "", "", "", "", 0, "",
                                                                                   "", 0]


def test_views_and_schemata_rows(typed):
    """schema_views_scanner.cpp: "def", "NONE", "NO", DEFINER and SECURITY_TYPE "", utf8, utf8_general_ci;
    schema_schemata_scanner.cpp: "def", utf8, utf8_general_ci, NULL."""
    view = as_dicts(typed, "SELECT * FROM information_schema.views WHERE TABLE_SCHEMA = 'types_db'")
    assert [(v["TABLE_CATALOG"], v["TABLE_NAME"], v["CHECK_OPTION"], v["IS_UPDATABLE"], v["DEFINER"],
             v["SECURITY_TYPE"], v["CHARACTER_SET_CLIENT"], v["COLLATION_CONNECTION"]) for v in view] == [
        ("def", "vw", "NONE", "NO", "", "", "utf8", "utf8_general_ci")]
    assert run(typed, "SELECT * FROM information_schema.schemata WHERE SCHEMA_NAME = 'types_db'") == [
        ("def", "types_db", "utf8", "utf8_general_ci", None)]


def test_partitions_meta_physical_ids_and_temp_partitions(typed):
    """generatePartitionsMetaResponse: per table its partitions, then its temporary partitions (IS_TEMP true), one
    row per physical partition, PARTITION_ID the physical partition's id, as SHOW PARTITIONS' PartitionId
    (PartitionsProcDir.getOlapPartitionInfo: physicalPartition.getId()); PARTITION_KEY joins Column.toString()."""
    run(typed, "ALTER TABLE base ADD TEMPORARY PARTITION tp2 VALUES LESS THAN ('20')")
    run(typed, "ALTER TABLE base ADD PARTITION p3 VALUES LESS THAN ('30')")  # a formal one after the temporary one
    rows = as_dicts(typed, "SELECT * FROM information_schema.partitions_meta WHERE DB_NAME = 'types_db' "
                           "AND TABLE_NAME = 'base'")
    # formal partitions come from idToPartition (a HashMap: their order among themselves is its bucket order)
    assert [bool(r["IS_TEMP"]) for r in rows] == [False, False, False, True]
    assert {r["PARTITION_NAME"] for r in rows[:3]} == {"p1", "p2", "p3"} and rows[3]["PARTITION_NAME"] == "tp2"
    shown = {r["PartitionName"]: int(r["PartitionId"]) for r in as_dicts(typed, "SHOW PARTITIONS FROM base")}
    shown.update({r["PartitionName"]: int(r["PartitionId"]) for r in as_dicts(typed,
                                                                             "SHOW TEMPORARY PARTITIONS FROM base")})
    assert {r["PARTITION_NAME"]: r["PARTITION_ID"] for r in rows} == shown
    first = rows[0]
    assert (first["PARTITION_KEY"], first["DISTRIBUTION_KEY"], first["VERSION_TXN_TYPE"],
            first["LAST_CONSISTENCY_CHECK_TIME"], first["STORAGE_PATH"], first["COMPACT_VERSION"]) == (
        '`k` int(11) NOT NULL COMMENT "the key"', "k", "TXN_NORMAL", None, "", 0)


def test_version_epoch_is_a_gtid_drawn_when_the_partition_is_made(typed):
    """PhysicalPartition's constructor: `versionEpoch = nextVersionEpoch()`, a GtidGenerator.nextGtid
    (`(ms since 2020-01-01) << 21 | cluster 0 << 13 | sequence`, 3.5 e223275f78); a normal load keeps it
    (DatabaseTransactionMgr draws a new one for replication transactions only). Shown alike by partitions_meta and
    SHOW PARTITIONS."""
    before = time.time()
    run(typed, "CREATE TABLE epochs (k INT) DUPLICATE KEY(k) PARTITION BY RANGE(k) (PARTITION e1 VALUES LESS THAN "
               "('10'), PARTITION e2 VALUES LESS THAN ('20')) DISTRIBUTED BY HASH(k) BUCKETS 1")
    after = time.time()
    query = ("SELECT PARTITION_NAME, VERSION_EPOCH FROM information_schema.partitions_meta WHERE DB_NAME = 'types_db' "
             "AND TABLE_NAME = 'epochs'")
    epochs = dict(run(typed, query))
    assert len(set(epochs.values())) == 2  # one GTID each
    for epoch in epochs.values():
        millis = (epoch >> 21) + 1577836800000
        assert before - 1 <= millis / 1000 <= after + 1, epoch
        assert epoch >> 13 & 0xFF == 0  # the cluster id bits
    shown = {r["PartitionName"]: int(r["VersionEpoch"]) for r in as_dicts(typed, "SHOW PARTITIONS FROM epochs")}
    assert shown == epochs
    run(typed, "INSERT INTO epochs VALUES (1)")
    assert dict(run(typed, query)) == epochs  # a load moves the version, not the epoch


@pytest.mark.parametrize(("size", "text"), [(0, "0B"), (1023, "1023B"), (1024, "1KB"), (1535, "1.4KB"),
                                             (2047, "1.9KB"), (2048, "2KB"), (5 * 2**20 + 900 * 2**10, "5.8MB"),
                                             (3 * 2**30, "3GB")])
def test_data_size_text(size, text):
    """partitions_meta.DATA_SIZE before 4.0 and SHOW PARTITIONS' DataSize: ByteSizeValue.toString, whose
    Strings.format1Decimals keeps the first decimal of String.valueOf(double) (truncated, not rounded) and drops a 0."""
    assert byte_size(size) == text


def test_partitions_meta_sql_tester_case(typed):
    """test/sql/test_information_schema/T/test_partitions_meta and R/test_partitions_meta (3.5 point), without its
    `max_get_partitions_meta_result_count` paging knob."""
    for name, buckets in (("partitions_meta_test1", 2), ("partitions_meta_test2", 1)):
        run(typed, f"""CREATE TABLE `{name}` (
  `k` int(11) NOT NULL COMMENT "",
  `v` int(11) NOT NULL COMMENT ""
)engine=olap
DUPLICATE KEY(`k`)
PARTITION BY RANGE(`v`)
(PARTITION p1 VALUES [("-2147483648"), ("0")),
PARTITION p2 VALUES [("0"), ("10")),
PARTITION p3 VALUES [("10"), ("2147483647")))
DISTRIBUTED BY HASH(`k`) BUCKETS {buckets}
PROPERTIES (
"replication_num" = "1"
)""")
    rows = run(typed, "select TABLE_NAME, PARTITION_NAME, DATA_VERSION, VERSION_TXN_TYPE from "
                      "INFORMATION_SCHEMA.PARTITIONS_META where table_name like '%partitions_meta_test%' "
                      "order by table_name asc, partition_name asc")
    assert rows == [(t, p, 1, "TXN_NORMAL") for t in ("partitions_meta_test1", "partitions_meta_test2")
                    for p in ("p1", "p2", "p3")]


def test_union_all_of_information_schema_tables(typed):
    """Several information_schema tables in one statement, as the product's planner reads them: each operand is its
    own schema scan with its own WHERE (PlanFragmentBuilder.visitPhysicalSchemaScan: one SchemaScanNode per scan;
    StarRocks' test/sql/test_information_schema/T/test_tables joins `tables` and `tables_config` in one statement),
    the result's columns named after the first SELECT (QueryAnalyzer.analyzeSetOperation), literal and CAST
    columns as written, and the ORDER BY applied to the whole union. Expected values from the fixture's statements:
    base's columns k, g, v at positions 1-3; p1 and p2 made at version 1 (Partition.PARTITION_INIT_VERSION) and
    loaded once."""
    sql = ("SELECT 'view' AS kind, TABLE_NAME AS name, CAST(NULL AS VARCHAR) AS detail FROM information_schema.views "
           "WHERE TABLE_SCHEMA = 'types_db' AND TABLE_NAME = 'vw' "
           "UNION ALL SELECT 'column', COLUMN_NAME, CAST(ORDINAL_POSITION AS VARCHAR) AS position "
           "FROM information_schema.columns WHERE TABLE_SCHEMA = 'types_db' AND TABLE_NAME = 'base' "
           "UNION ALL SELECT 'partition', PARTITION_NAME, CAST(VISIBLE_VERSION AS VARCHAR) "
           "FROM information_schema.partitions_meta WHERE DB_NAME = 'types_db' AND TABLE_NAME = 'base' "
           "AND PARTITION_NAME IN ('p1', 'p2') ORDER BY kind, name")
    typed.execute(sql)
    assert [d[0] for d in typed.description] == ["kind", "name", "detail"]
    assert list(typed.fetchall()) == [("column", "g", "2"), ("column", "k", "1"), ("column", "v", "3"),
                                      ("partition", "p1", "2"), ("partition", "p2", "2"), ("view", "vw", None)]


def test_union_operands_of_unequal_width_are_refused(typed):
    """QueryAnalyzer.analyzeSetOperation: `Operands have unequal number of columns` (a SemanticException)."""
    refusal = r"^\(1064, 'Getting analyzing error\. Detail message: Operands have unequal number of columns\.'\)$"
    with pytest.raises(pymysql.err.ProgrammingError, match=refusal):
        typed.execute("SELECT TABLE_NAME, TABLE_SCHEMA FROM information_schema.views UNION ALL "
                      "SELECT TABLE_NAME FROM information_schema.tables_config")


def test_information_schema_rows_load_whole_or_row_by_row():
    """infoschema._load: the rows go in as one Arrow table, or row by row when a column mixes types Arrow cannot
    hold together; either way DuckDB casts them to the declared column types."""
    import datetime as dt

    import duckdb

    from sr_airflow.testing.emulator import infoschema

    schema = [("A", "BIGINT"), ("B", "VARCHAR"), ("C", "TIMESTAMP")]
    for rows in ([[1, "x", dt.datetime(2025, 1, 2, 3, 4, 5)], [None, None, None]],  # Arrow
                 [[1, "x", dt.datetime(2025, 1, 2, 3, 4, 5)], ["2", 3, None]]):  # a mixed column: row by row
        con = duckdb.connect()
        con.execute('CREATE TABLE t ("A" BIGINT, "B" VARCHAR, "C" TIMESTAMP)')
        infoschema._load(con, "t", schema, rows)
        got = con.execute("SELECT * FROM t").fetchall()
        assert got == [(1, "x", dt.datetime(2025, 1, 2, 3, 4, 5)),
                       (None, None, None) if rows[1][0] is None else (2, "3", None)]
        con.close()
