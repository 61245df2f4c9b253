"""The product's ``__meta`` reader, type mapping and schema comparison on the golden ``__meta`` and
``information_schema.columns`` fixtures (tests/fidelity/README.md). No server: pure parsers."""

from __future__ import annotations

import json
import struct

import pytest

from sr_airflow.engine.backup_meta import parse_backup_meta
from sr_airflow.engine.column_types import ColumnDef, mysql_column_type
from sr_airflow.engine.target_checks import parse_columns, schema_difference
from tests.fidelity.helpers import load_fixture

COLUMN_TYPES = load_fixture("column_types.json")["columns"]


def framed(doc: dict) -> bytes:
    """``Text.writeString``: a 4-byte big-endian length, then the UTF-8 GSON."""
    body = json.dumps(doc).encode()
    return struct.pack(">i", len(body)) + body


@pytest.mark.parametrize("case", COLUMN_TYPES, ids=[c["column"] for c in COLUMN_TYPES])
def test_every_column_type_maps_to_its_golden_column_type(case):
    assert mysql_column_type(case["gson_type"]) == case["information_schema"]["COLUMN_TYPE"]


def test_the_base_schemas_of_meta_35_show_the_golden_column_types():
    meta = parse_backup_meta(framed(load_fixture("meta_3.5.json")))
    types = {(t.name, c.name): c.type for t in meta.tables.values() for c in t.columns}
    for case in COLUMN_TYPES:
        assert types[(case["table"], case["column"])] == case["information_schema"]["COLUMN_TYPE"], case["column"]
    assert set(meta.tables) == {"all_types", "agg_types", "sales", "v_sales", "mv_daily"}
    assert meta.tables["v_sales"].clazz == "View" and meta.tables["mv_daily"].clazz == "MaterializedView"
    assert len(meta.functions) == 1


def test_rollup_and_synchronous_mv_columns_are_not_in_the_base_schema():
    doc = load_fixture("meta_3.5.json")
    sales = parse_backup_meta(framed(doc)).tables["sales"]
    full = [c["name"] for c in doc["tblNameMap"]["sales"]["fullSchema"]]
    assert "mv_sum_v" in full and "mv_sum_v" not in [c.name for c in sales.columns]
    assert sales.rollups == ("mv_sales_k1", "r1")
    rows = load_fixture("information_schema_columns.json")["sales_rows"]
    existing = parse_columns([(r["TABLE_NAME"], r["COLUMN_NAME"], r["ORDINAL_POSITION"], r["COLUMN_TYPE"])
                              for r in rows])
    assert schema_difference(existing["sales"], list(sales.columns)) is None


def test_typetest_mysql_column_type_cases():
    """The golden file's copy of ``TypeTest.testMysqlColumnType`` in GSON form."""
    gson = {"BOOLEAN": {"clazz": "ScalarType", "type": "BOOLEAN", "len": -1, "precision": 0, "scale": 0},
            "LARGEINT": {"clazz": "ScalarType", "type": "LARGEINT", "len": -1, "precision": 0, "scale": 0},
            "DECIMAL64(18, 4)": {"clazz": "ScalarType", "type": "DECIMAL64", "len": -1, "precision": 18, "scale": 4}}
    int_type = {"clazz": "ScalarType", "type": "INT", "len": -1, "precision": 0, "scale": 0}
    gson |= {"ARRAY<INT>": {"clazz": "ArrayType", "itemType": int_type},
             "MAP<INT, INT>": {"clazz": "MapType", "keyType": int_type, "valueType": int_type},
             "STRUCT<col1 INT>": {"clazz": "StructType", "named": False,
                                  "fields": [{"name": "col1", "type": int_type}]}}
    cases = load_fixture("information_schema_columns.json")["type_test_mysql_column_type"]["cases"]
    assert {declared: mysql_column_type(gson[declared]) for declared, _, _ in cases} == {
        declared: column_type for declared, column_type, _ in cases}


def test_meta_33_reads_too():
    meta = parse_backup_meta(framed(load_fixture("meta_3.3.json")))
    assert meta.tables and all(t.columns for t in meta.tables.values())


def test_a_changed_length_or_scale_is_a_difference():
    meta = parse_backup_meta(framed(load_fixture("meta_3.5.json")))
    snapshot = list(meta.tables["all_types"].columns)
    same = [ColumnDef(c.name, c.type) for c in snapshot]
    assert schema_difference(same, snapshot) is None
    for name, other in (("c_varchar", "varchar(101)"), ("c_decimal64", "decimal(18, 5)"), ("c_char", "char(11)")):
        changed = [ColumnDef(c.name, other) if c.name == name else c for c in snapshot]
        assert schema_difference(changed, snapshot).startswith(f"column {name!r} is {other} in the table")
