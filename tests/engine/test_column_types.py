"""GSON column types of ``__meta`` → ``information_schema.columns.COLUMN_TYPE``, over every StarRocks column type.

Expected strings are read off the Java at the 3.5 point e223275f78: ``ScalarType.toMysqlColumnTypeString`` /
``toSql`` / ``toString``, ``ArrayType`` / ``MapType`` / ``StructType.toSql``, ``StructField.toSql``; the first six
cases are the literal samples of ``TypeTest.testMysqlColumnType``.
"""

from __future__ import annotations

import pytest

from sr_airflow.engine.column_types import mysql_column_type
from tests.engine.gson_types import INT, array, map_of, scalar, struct

CASES = [
    # TypeTest.testMysqlColumnType
    (scalar("BOOLEAN"), "tinyint(1)"),
    (scalar("LARGEINT"), "bigint(20) unsigned"),
    (scalar("DECIMAL64", precision=18, scale=4), "decimal(18, 4)"),
    (array(INT), "array<int(11)>"),
    (map_of(INT, INT), "map<int(11),int(11)>"),
    (struct(("col1", INT)), "struct<col1 int(11)>"),
    # every other column type
    (scalar("TINYINT"), "tinyint(4)"),
    (scalar("SMALLINT"), "smallint(6)"),
    (INT, "int(11)"),
    (scalar("BIGINT"), "bigint(20)"),
    (scalar("FLOAT"), "float"),
    (scalar("DOUBLE"), "double"),
    (scalar("DECIMALV2", precision=27, scale=9), "decimal(27, 9)"),
    (scalar("DECIMAL32", precision=9, scale=2), "decimal(9, 2)"),
    (scalar("DECIMAL128", precision=38, scale=10), "decimal(38, 10)"),
    (scalar("DATE"), "date"),
    (scalar("DATETIME"), "datetime"),
    (scalar("CHAR", length=10), "char(10)"),
    (scalar("VARCHAR", length=150), "varchar(150)"),
    (scalar("VARCHAR", length=65533), "varchar(65533)"),  # STRING
    (scalar("VARCHAR"), "varchar"),  # len -1
    (scalar("JSON"), "json"),
    (scalar("HLL"), "hll"),
    (scalar("BITMAP"), "bitmap"),
    (scalar("PERCENTILE"), "percentile"),
    (scalar("VARBINARY", length=100), "varbinary(100)"),
    (scalar("VARBINARY"), "varbinary"),
    (scalar("TIME"), "TIME"),  # default branch: the enum's description, upper case
    # inside a complex type the items are written by toSql, not by toMysqlColumnTypeString
    (array(scalar("BOOLEAN")), "array<boolean>"),
    (array(scalar("LARGEINT")), "array<largeint(40)>"),
    (array(scalar("DECIMAL64", precision=10, scale=2)), "array<DECIMAL64(10,2)>"),  # ScalarType.toString
    (array(scalar("DECIMALV2", precision=10, scale=2)), "array<DECIMAL(10,2)>"),
    (array(array(scalar("VARCHAR", length=20))), "array<array<varchar(20)>>"),
    (map_of(scalar("VARCHAR", length=20), scalar("DECIMAL32", precision=5, scale=1)),
     "map<varchar(20),decimal(5, 1)>"),
    (struct(("a", INT), ("b", array(scalar("DATE")))), "struct<a int(11), b array<date>>"),
    (struct(("a", INT), comment="it's"), "struct<a int(11) COMMENT 'it's'>"),
    (map_of(INT, struct(("x", scalar("BOOLEAN")))), "map<int(11),struct<x boolean>>"),
]


@pytest.mark.parametrize("gson,expected", CASES, ids=[c[1] for c in CASES])
def test_every_column_type_maps_as_starrocks_writes_column_type(gson, expected):
    assert mysql_column_type(gson) == expected


def test_lengths_precisions_and_scales_show_in_the_string():
    strings = {mysql_column_type(t) for t in (scalar("VARCHAR", length=20), scalar("VARCHAR", length=30),
                                              scalar("DECIMAL64", precision=10, scale=2),
                                              scalar("DECIMAL64", precision=10, scale=3),
                                              scalar("DECIMAL64", precision=12, scale=2),
                                              scalar("CHAR", length=1), scalar("CHAR", length=2))}
    assert len(strings) == 7


def test_nesting_stops_at_starrocks_depth():
    """Type.MAX_NESTING_DEPTH = 15: ArrayType.toSql writes ``array<...>`` from depth 15."""
    nested = INT
    for _ in range(17):
        nested = array(nested)
    assert mysql_column_type(nested) == "array<" * 15 + "array<...>" + ">" * 15


@pytest.mark.parametrize("gson,message", [
    ({"clazz": "PseudoType"}, "unknown column type class 'PseudoType'"),
    ({"type": "INT"}, "unknown column type class None"),
    ({"clazz": "ScalarType"}, "has no primitive type"),
    ({"clazz": "ArrayType"}, "lacks its 'itemType'"),
    (scalar("VARCHAR", length="x"), "non-integer 'len'"),  # type: ignore[arg-type]
    ("INT", "must be an object"),
])
def test_unreadable_types_are_refused_by_name(gson, message):
    with pytest.raises(ValueError, match=message):
        mysql_column_type(gson)
