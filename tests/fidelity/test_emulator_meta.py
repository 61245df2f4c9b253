"""The emulator's `__meta.<md5>` (BackupMeta: length prefix + GSON) against `fixtures/meta_3.5.json` and
`fixtures/column_types.json`: `clazz` tags, Column / type GSON per declared type, index metadata with a rollup and a
synchronous MV, `fullSchema`, partitions with physical sub-partitions, a view, an asynchronous MV and a function."""

from __future__ import annotations

import pytest

from tests.fidelity.helpers import (
    ASYNC_MV,
    FUNCTION,
    ROLLUP,
    SALES_DDL,
    SALES_LOADS,
    SYNC_MV,
    VIEW,
    Session,
    load_fixture,
    take_snapshot,
)

META = load_fixture("meta_3.5.json")
TYPES = load_fixture("column_types.json")
FIX = META["tblNameMap"]
FIX_COLUMNS = {c["name"]: c for t in ("all_types", "agg_types") for c in FIX[t]["fullSchema"]}
FIX_PART = next(iter(FIX["sales"]["idToPartition"].values()))
FIX_PHYSICAL = next(iter(FIX_PART["idToSubPartition"].values()))
FIX_META = FIX["sales"]["indexIdToMeta"]

# Every @SerializedName of the classes at 3.5 e223275f78 (Table, OlapTable, MaterializedView): nothing else may appear.
TABLE_FIELDS = {"clazz", "id", "name", "type", "createTime", "fullSchema", "comment", "mvs"}
OLAP_FIELDS = TABLE_FIELDS | {
    "state", "indexIdToMeta", "indexNameToId", "keysType", "partitionInfo", "idToPartition",
    "defaultDistributionInfo", "tempPartitions", "bfColumns", "bfFpp", "colocateGroup", "indexes", "baseIndexId",
    "tableProperty", "maxColUniqueId", "maxIndexId", "sessionId"}
MV_FIELDS = OLAP_FIELDS | {
    "dbId", "refreshScheme", "baseTableIds", "baseTableInfos", "active", "inactiveReason", "viewDefineSql",
    "simpleDefineSql", "originalViewDefineSql", "partitionRefTableExprs", "maxMVRewriteStaleness",
    "partitionExprMaps", "queryOutputIndices", "warehouseId"}


@pytest.fixture(scope="module")
def snap(emulator, s3, bucket):
    sess = Session(emulator, s3, bucket)
    sess.run(*TYPES["tables"].values(), SALES_DDL, *SALES_LOADS, ROLLUP, SYNC_MV, VIEW, ASYNC_MV, FUNCTION)
    snapshot = take_snapshot(sess, "snap_meta")
    snapshot.db = sess.db
    yield snapshot
    sess.close()


def test_framing_and_top_level(snap):
    assert int.from_bytes(snap.meta_bytes[:4], "big") == len(snap.meta_bytes) - 4
    assert set(snap.meta) == set(META)
    assert snap.meta["catalogs"] == []
    assert set(snap.meta["tblNameMap"]) == set(FIX)


@pytest.mark.parametrize("name", sorted(FIX))
def test_table_clazz_type_and_keys(snap, name):
    table, fixture = snap.meta["tblNameMap"][name], FIX[name]
    assert (table["clazz"], table["type"], table["name"]) == (fixture["clazz"], fixture["type"], name)
    allowed = {"OlapTable": OLAP_FIELDS, "MaterializedView": MV_FIELDS, "View": TABLE_FIELDS | {"i", "m", "s"}}
    assert set(fixture) <= set(table) <= allowed[fixture["clazz"]], sorted(set(table) ^ set(fixture))


@pytest.mark.parametrize("column", TYPES["columns"], ids=lambda c: c["declared"])
def test_column_gson_per_declared_type(snap, column):
    table = snap.meta["tblNameMap"][column["table"]]
    found = {c["name"]: c for c in table["fullSchema"]}
    assert column["column"] in found, f"{column['declared']} column missing from fullSchema"
    actual, expected = found[column["column"]], FIX_COLUMNS[column["column"]]
    assert actual["type"] == column["gson_type"]
    assert set(actual) == set(expected)
    for key in ("columnId", "aggregationType", "isAggregationTypeImplicit", "isKey", "isAllowNull",
                "isAutoIncrement", "comment", "stats"):
        assert actual.get(key) == expected.get(key), key


def test_unique_ids_and_max(snap):
    table = snap.meta["tblNameMap"]["all_types"]
    ids = [c["uniqueId"] for c in table["fullSchema"]]
    assert ids == list(range(len(ids))), "OlapTableFactory: column.setUniqueId(table.incAndGetMaxColUniqueId())"
    assert table["maxColUniqueId"] == max(ids)


def test_index_metadata_with_rollup_and_synchronous_mv(snap):
    sales = snap.meta["tblNameMap"]["sales"]
    metas = sales["indexIdToMeta"]
    assert all(key == str(meta["indexId"]) for key, meta in metas.items())
    names = sales["indexNameToId"]
    assert set(names) == {"sales", "r1", "mv_sales_k1"}
    assert names["sales"] == sales["baseIndexId"] and str(sales["baseIndexId"]) in metas
    assert {str(i) for i in names.values()} == set(metas)
    for index_name, fixture_id in FIX["sales"]["indexNameToId"].items():
        meta = metas[str(names[index_name])]
        assert set(meta) == set(FIX_META[str(fixture_id)]), index_name
        assert meta["schemaId"] == meta["indexId"] and isinstance(meta["schemaHash"], int)
    schema = {n: [c["name"] for c in metas[str(i)]["schema"]] for n, i in names.items()}
    assert schema == {"sales": ["dt", "k1", "v"], "r1": ["k1", "v"], "mv_sales_k1": ["k1", "mv_sum_v"]}
    mv = metas[str(names["mv_sales_k1"])]
    assert mv["keysType"] == "AGG_KEYS"
    mv_sum = mv["schema"][1]
    assert (mv_sum["aggregationType"], mv_sum["type"]["type"]) == ("SUM", "BIGINT")
    assert mv["defineStmt"]["originStmt"].strip().rstrip(";") == SYNC_MV
    assert [c["name"] for c in sales["fullSchema"]] == ["dt", "k1", "v", "mv_sum_v"], \
        "fullSchema: base columns, then the other indexes' new columns (OlapTable.rebuildFullSchema)"


def test_partitions_hold_physical_partitions(snap):
    sales = snap.meta["tblNameMap"]["sales"]
    names = sales["indexNameToId"]
    for key, part in sales["idToPartition"].items():
        assert key == str(part["id"]) and set(part) == set(FIX_PART)
        assert str(part["dpid"]) in part["idToSubPartition"]
        for pkey, physical in part["idToSubPartition"].items():
            assert pkey == str(physical["id"]) and physical["id"] != part["id"]
            assert set(physical) == set(FIX_PHYSICAL)
            assert physical["parentId"] == part["id"]
            assert physical["name"] == f"{part['name']}_{physical['id']}"
            assert physical["baseIndex"]["id"] == sales["baseIndexId"]
            assert set(physical["idToVisibleRollupIndex"]) == {str(names["r1"]), str(names["mv_sales_k1"])}
            tablets = physical["baseIndex"]["tablets"]
            assert tablets and all(t["clazz"] == "LocalTablet" for t in tablets)


def test_meta_and_job_info_agree_on_ids(snap):
    tables = snap.meta["tblNameMap"]
    sales = snap.info["backup_objects"]["sales"]["partitions"]
    assert all(set(sub["indexes"]) == {"sales", "r1", "mv_sales_k1"}
               for part in sales.values() for sub in part["subPartitions"].values()), \
        "the rollup and the synchronous MV are indexes of the table's physical partitions"
    for name, obj in snap.info["backup_objects"].items():
        table = tables[name]
        assert obj["id"] == table["id"], name
        for pname, part in obj["partitions"].items():
            meta_part = table["idToPartition"][str(part["id"])]
            assert meta_part["name"] == pname
            for pid, sub in part["subPartitions"].items():
                physical = meta_part["idToSubPartition"][pid]
                indexes = {physical["baseIndex"]["id"]: physical["baseIndex"],
                           **{i["id"]: i for i in physical["idToVisibleRollupIndex"].values()}}
                for index_name, index in sub["indexes"].items():
                    assert table["indexNameToId"][index_name] == index["id"]
                    assert table["indexIdToMeta"][str(index["id"])]["schemaHash"] == index["schema_hash"]
                    assert [str(t["id"]) for t in indexes[index["id"]]["tablets"]] == index["tablets_order"]


def test_view(snap):
    view, fixture = snap.meta["tblNameMap"]["v_sales"], FIX["v_sales"]
    assert set(view) == set(fixture)
    assert "sales" in view["i"] and isinstance(view["m"], int) and view["s"] is False
    assert [c["name"] for c in view["fullSchema"]] == ["dt", "k1", "v"]


def test_asynchronous_mv_is_inactive_in_backup(snap):
    mv = snap.meta["tblNameMap"]["mv_daily"]
    assert mv["active"] is False
    assert mv["inactiveReason"] == FIX["mv_daily"]["inactiveReason"]
    assert [t["tableName"] for t in mv["baseTableInfos"]] == ["sales"]


def test_function(snap):
    (function,) = snap.meta["functions"]
    fixture = META["functions"][0]
    assert set(function) == set(fixture)
    assert function["clazz"] == "ScalarFunction"
    assert function["name"] == {"db": snap.db, "fn": "my_add"}
    assert function["argTypes"] == fixture["argTypes"] and function["retType"] == fixture["retType"]
    assert (function["binaryType"], function["symbolName"], function["location"]) == \
        ("SRJAR", "com.example.udf.MyAdd", {"location": "http://127.0.0.1:1/udf.jar"})
