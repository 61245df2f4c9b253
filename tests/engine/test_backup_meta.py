"""Reading ``__meta`` (``BackupMeta``: length prefix + GSON) and the restore pre-flight's schema comparison."""

from __future__ import annotations

import json
import struct

import pytest

from sr_airflow.engine.backup_meta import parse_backup_meta
from sr_airflow.engine.column_types import ColumnDef
from sr_airflow.engine.errors import RestoreRefusedError
from sr_airflow.engine.target_checks import check_restore_target, schema_difference
from tests.engine.gson_types import INT, scalar


def column(name: str, gson_type: dict, key: bool = False) -> dict:
    """A ``Column`` as GSON writes it (``Column`` @SerializedName fields)."""
    return {"name": name, "columnId": name, "uniqueId": 0, "type": gson_type, "isKey": key, "isAllowNull": not key,
            "isAutoIncrement": False, "isAggregationTypeImplicit": False, "comment": ""}


def olap_table(name: str, base: list[dict], rollups: dict[str, list[dict]] | None = None, *,
               clazz: str = "OlapTable", table_id: int = 20000) -> dict:
    """An ``OlapTable``: fullSchema = base + rollup columns (in no meaningful order), base schema under
    ``indexIdToMeta[baseIndexId].schema``."""
    base_index = table_id + 1
    metas = {str(base_index): {"indexId": base_index, "schema": base, "schemaHash": 1, "keysType": "DUP_KEYS"}}
    names = {name: base_index}
    extra = []
    for offset, (rollup, columns) in enumerate((rollups or {}).items(), start=2):
        metas[str(table_id + offset)] = {"indexId": table_id + offset, "schema": columns, "schemaHash": offset}
        names[rollup] = table_id + offset
        extra += [c for c in columns if c["name"] not in {b["name"] for b in base}]
    return {"clazz": clazz, "id": table_id, "name": name, "type": "OLAP", "fullSchema": list(reversed(extra + base)),
            "indexIdToMeta": metas, "indexNameToId": names, "baseIndexId": base_index, "keysType": "DUP_KEYS"}


def meta_bytes(tables: dict[str, dict], functions: list | None = None) -> bytes:
    body = json.dumps({"tblNameMap": tables, "functions": functions or [], "catalogs": []}).encode()
    return struct.pack(">i", len(body)) + body  # Text.writeString: int length, then UTF-8


SALES_BASE = [column("dt", scalar("DATE"), key=True), column("id", scalar("BIGINT"), key=True),
              column("amount", scalar("DECIMAL64", precision=10, scale=2)),
              column("note", scalar("VARCHAR", length=20))]


def test_the_base_index_is_the_schema_not_full_schema():
    rollup = [column("dt", scalar("DATE"), key=True), column("sum_amount", scalar("DECIMAL128", 0, 38, 2))]
    mv = olap_table("mv_sales", [column("dt", scalar("DATE"), key=True), column("n", INT)], clazz="MaterializedView",
                    table_id=30000)
    view = {"clazz": "View", "id": 40000, "name": "v_sales", "type": "VIEW",
            "fullSchema": [column("dt", scalar("DATE")), column("ok", scalar("BOOLEAN"))], "inlineViewDef": "..."}
    meta = parse_backup_meta(meta_bytes({"sales": olap_table("sales", SALES_BASE, {"r_daily": rollup}),
                                         "mv_sales": mv, "v_sales": view}, functions=[{"name": "f"}]))
    sales = meta.tables["sales"]
    assert sales.columns == (ColumnDef("dt", "date"), ColumnDef("id", "bigint(20)"),
                             ColumnDef("amount", "decimal(10, 2)"), ColumnDef("note", "varchar(20)"))
    assert sales.rollups == ("r_daily",) and sales.clazz == "OlapTable"
    assert meta.tables["mv_sales"].columns == (ColumnDef("dt", "date"), ColumnDef("n", "int(11)"))
    assert meta.tables["v_sales"].columns == (ColumnDef("dt", "date"), ColumnDef("ok", "tinyint(1)"))
    assert meta.functions == ({"name": "f"},) and set(meta.schemas()) == {"sales", "mv_sales", "v_sales"}


@pytest.mark.parametrize("data,message", [
    (b"\x00\x00", "shorter than its 4-byte length prefix"),
    (struct.pack(">i", 99) + b"{}", "says 99 bytes follow"),
    (struct.pack(">i", 3) + b"{x}", "does not hold GSON JSON"),
    (meta_bytes({"t": {"clazz": "OlapTable", "baseIndexId": 5, "indexIdToMeta": {}}}),
     "no indexIdToMeta entry for its baseIndexId 5"),
    (meta_bytes({"t": {"clazz": "View", "fullSchema": [{"name": "a", "type": {"clazz": "Bogus"}}]}}),
     "table 't' column 'a': unknown column type class 'Bogus'"),
])
def test_a_bad_meta_file_is_refused_by_name(data, message):
    with pytest.raises(ValueError, match=message):
        parse_backup_meta(data)


def test_a_json_meta_without_the_length_prefix_is_not_taken():
    """Text.writeString always writes the prefix; raw JSON is not a __meta file."""
    with pytest.raises(ValueError, match="says .* bytes follow"):
        parse_backup_meta(json.dumps({"tblNameMap": {}}).encode())


SNAPSHOT = [ColumnDef("dt", "date"), ColumnDef("id", "bigint(20)"), ColumnDef("amount", "decimal(10, 2)"),
            ColumnDef("note", "varchar(20)")]


def test_schema_difference_follows_restorejob():
    assert schema_difference([ColumnDef("DT", "DATE"), *SNAPSHOT[1:]], SNAPSHOT) is None  # name case ignored
    assert schema_difference([*SNAPSHOT[:3], ColumnDef("note", "varchar(30)")], SNAPSHOT) == (
        "column 'note' is varchar(30) in the table, varchar(20) in the snapshot")
    assert schema_difference([*SNAPSHOT[:2], ColumnDef("amount", "decimal(10, 3)"), SNAPSHOT[3]], SNAPSHOT) == (
        "column 'amount' is decimal(10, 3) in the table, decimal(10, 2) in the snapshot")
    swapped = [SNAPSHOT[1], SNAPSHOT[0], *SNAPSHOT[2:]]  # RestoreJob compares column i with column i
    assert schema_difference(swapped, SNAPSHOT) == "column 1 is 'id' in the table, 'dt' in the snapshot"
    assert schema_difference(SNAPSHOT[:3], SNAPSHOT) == "3 column(s) in the table, 4 in the snapshot"


def test_a_target_with_another_scale_is_refused_with_the_reason():
    changed = [*SNAPSHOT[:2], ColumnDef("amount", "decimal(10, 4)"), SNAPSHOT[3]]
    with pytest.raises(RestoreRefusedError, match=r"t2 exist with a different schema than the snapshot holds "
                                                  r"\(t2: column 'amount' is decimal\(10, 4\) in the table"):
        check_restore_target(target_database="d", targets={"t": "t2"}, existing={"t2": changed},
                             snapshot_columns={"t": SNAPSHOT}, allow_overwrite=True)
    assert check_restore_target(target_database="d", targets={"t": "t2"}, existing={"t2": SNAPSHOT},
                                snapshot_columns={"t": SNAPSHOT}, allow_overwrite=True) == ["t2"]
