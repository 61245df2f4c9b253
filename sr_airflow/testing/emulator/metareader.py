"""The emulator's RESTORE reading a `__meta` written by StarRocks (or by the emulator as StarRocks writes it, see
`backupmeta`): the catalog objects of `BackupMeta` back into the emulator's tables, functions and external catalogs."""

from __future__ import annotations

import json
import struct

from . import sqltypes
from .metastore import Column, ExternalCatalog, Function, Index, Partition, Table
from .partitionkeys import deserialize_range


def read_meta(data: bytes) -> dict:
    """`BackupMeta.read`: `Text.readString` (a 4-byte big-endian length, then UTF-8 text) and the GSON object."""
    (length,) = struct.unpack(">i", data[:4])
    return json.loads(data[4:4 + length].decode("utf-8"))


def declared_type(gson: dict) -> str:
    """A declared column type that `sqltypes.gson_type` maps back to this GSON type object."""
    clazz = gson["clazz"]
    if clazz == "ArrayType":
        return f"ARRAY<{declared_type(gson['itemType'])}>"
    if clazz == "MapType":
        return f"MAP<{declared_type(gson['keyType'])},{declared_type(gson['valueType'])}>"
    if clazz == "StructType":
        return "STRUCT<" + ", ".join(f"{f['name']} {declared_type(f['type'])}" for f in gson["fields"]) + ">"
    primitive = gson["type"]
    if primitive in ("DECIMALV2", "DECIMAL32", "DECIMAL64", "DECIMAL128"):
        return f"{primitive}({gson['precision']},{gson['scale']})"
    if primitive in ("CHAR", "VARCHAR", "VARBINARY") and gson.get("len", -1) not in (-1, None):
        return f"{primitive}({gson['len']})"
    return primitive


def column_from_gson(data: dict) -> Column:
    """A Column of the emulator (its aggregate is set by the caller: only aggregate-key indexes keep one)."""
    default = "CURRENT_TIMESTAMP" if data.get("defaultExpr") else data.get("defaultValue")
    return Column(name=data["name"], sr_type=declared_type(data["type"]), nullable=data.get("isAllowNull", True),
                  default=default, comment=data.get("comment", ""), auto_increment=data.get("isAutoIncrement", False),
                  unique_id=data.get("uniqueId", -1))


def table_from_gson(data: dict) -> Table:
    """The emulator's Table of a `tblNameMap` entry (ids are those of the backed-up cluster)."""
    clazz = data["clazz"]
    kind = {"OlapTable": "OLAP", "View": "VIEW", "MaterializedView": "MATERIALIZED_VIEW"}[clazz]
    table = Table(id=data["id"], name=data["name"], kind=kind, comment=data.get("comment", ""),
                  create_time=float(data.get("createTime", 0)))
    if clazz == "View":
        table.query_sql = data["i"]
        table.columns = [column_from_gson(c) for c in data.get("fullSchema", [])]
        return table
    metas = data["indexIdToMeta"]
    base = metas[str(data["baseIndexId"])]
    table.base_index_id = data["baseIndexId"]
    table.keys_type = data["keysType"]
    table.columns = [column_from_gson(c) for c in base["schema"]]
    keys_type = data["keysType"]
    for column, raw in zip(table.columns, base["schema"], strict=True):
        if keys_type == "AGG_KEYS" and raw.get("aggregationType") not in (None, "NONE"):
            column.agg = raw["aggregationType"]
        else:
            column.agg = None
    table.key_columns = [c["name"] for c in base["schema"] if c.get("isKey")]
    table.max_col_unique_id = data.get("maxColUniqueId", -1)
    # `colocateGroup` is not read back: a RESTORE drops it unless FE config enable_colocate_restore (default false)
    # is on (3.5, e223275f78: `RestoreJob.checkAndPrepareMeta` -> `remoteOlapTbl.setColocateGroup(null)`)
    table.properties = {k: v for k, v in data.get("tableProperty", {}).get("properties", {}).items()
                        if k != "replication_num" or v != "3"}
    dist = data["defaultDistributionInfo"]
    if dist["clazz"] == "RandomDistributionInfo":
        table.distribution, table.buckets = "RANDOM", dist["b"]
    else:
        table.distribution, table.buckets = "HASH", dist["bucketNum"]
        columns = dist.get("colIds") or [c["name"] for c in dist.get("distributionColumns", [])]  # 3.3: Columns
        table.distribution_columns = list(columns)
    info = data["partitionInfo"]
    table.partition_type = {"RangePartitionInfo": "RANGE", "ExpressionRangePartitionInfo": "EXPR",
                            "ExpressionRangePartitionInfoV2": "EXPR", "ListPartitionInfo": "LIST",
                            "SinglePartitionInfo": "UNPARTITIONED"}[info["clazz"]]
    table.partition_columns = list(info.get("colIds") or [c["name"] for c in info.get("partitionColumns", [])])
    if info["clazz"] == "ListPartitionInfo" and info.get("automaticPartition"):
        table.partition_type = "EXPR"
    if info["clazz"].startswith("ExpressionRange"):
        sql = (info.get("partitionExprs") or [{"expressionSql": ""}])[0].get("expressionSql", "")
        table.partition_function = sql.split("'")[1] if "'" in sql else ""
    ranges = {**info.get("serializedIdToRange", {}), **info.get("serializedIdToTempRange", {})}
    partitions = list(data.get("idToPartition", {}).values())
    temps = list(data.get("tempPartitions", {}).get("idToPartition", {}).values())
    for raw, is_temp in [(p, False) for p in partitions] + [(p, True) for p in temps]:
        pid = str(raw["id"])
        physical = next(iter(raw.get("idToSubPartition", {}).values()), raw)
        base_index = physical["baseIndex"]
        part = Partition(id=raw["id"], name=raw["name"], tablet_ids=[t["id"] for t in base_index["tablets"]],
                         visible_version=physical.get("visibleVersion", 1),
                         visible_version_time=physical.get("visibleVersionTime", 0) / 1000,
                         physical_id=physical["id"], is_temp=is_temp,
                         rollup_tablets={k: [t["id"] for t in v["tablets"]]
                                         for k, v in physical.get("idToVisibleRollupIndex", {}).items()})
        if pid in ranges:
            part.lower, part.upper = deserialize_range(ranges[pid])
            first = table.column(table.partition_columns[0])
            if part.lower is not None and part.lower[0] == sqltypes.min_value(first.sr_type):
                part.lower = None
        if pid in info.get("idToValues", {}):
            part.values = [[v] for v in info["idToValues"][pid]]
        if pid in info.get("idToMultiValues", {}):
            part.values = [list(v) for v in info["idToMultiValues"][pid]]
        table.partitions.append(part)
    table.partitions.sort(key=lambda p: p.id)
    for index_id, meta in metas.items():
        if int(index_id) == table.base_index_id:
            continue
        name = next(n for n, i in data["indexNameToId"].items() if i == int(index_id))
        define = (meta.get("defineStmt") or {}).get("originStmt", "")
        columns = [column_from_gson(c) for c in meta["schema"]]
        for column, raw in zip(columns, meta["schema"], strict=True):
            column.agg = raw.get("aggregationType") if raw.get("aggregationType") not in (None, "NONE") else None
            if meta["keysType"] != "AGG_KEYS":
                column.agg = None
        table.rollups.append(Index(id=int(index_id), name=name, columns=columns, keys_type=meta["keysType"],
                                   define_stmt=define, view_define_sql=meta.get("viewDefineSql") or "",
                                   schema_hash=meta.get("schemaHash", 0)))
    if clazz == "MaterializedView":
        scheme = data.get("refreshScheme", {})
        moment = "DEFERRED " if scheme.get("moment") == "DEFERRED" else ""
        table.refresh = moment + scheme.get("type", "ASYNC")
        table.query_sql = data.get("viewDefineSql", "")
        table.is_active = data.get("active", False)
        table.inactive_reason = data.get("inactiveReason", "")
    return table


def function_from_gson(data: dict) -> Function:
    args = [declared_type(t) for t in data.get("argTypes", [])]
    if data.get("hasVarArgs") and args:
        args[-1] += "..."
    name = data["name"]["fn"]
    returns = declared_type(data["retType"])
    props = {"symbol": data.get("symbolName") or "",
             "type": {"SRCJAR": "StarrocksJar", "PYTHON": "Python"}.get(data.get("binaryType", ""), "StarrocksJar")}
    if data.get("location"):
        props["file"] = data["location"]["location"]
    kind = "AGGREGATE " if data["clazz"] == "AggregateFunction" else ""
    signature = f"{name}({', '.join(args)})"
    prop_sql = ", ".join(f'"{k}" = "{v}"' for k, v in props.items())
    create = f"CREATE {kind}FUNCTION {signature} RETURNS {returns} PROPERTIES ({prop_sql})"
    return Function(name=name, signature=signature, return_type=returns, create_sql=create, properties=props)


def catalog_from_gson(data: dict) -> ExternalCatalog:
    config = dict(data.get("config", {}))
    return ExternalCatalog(name=data["name"], type=config.get("type", ""), properties=config,
                           comment=data.get("comment") or "", id=data.get("id", 0))
