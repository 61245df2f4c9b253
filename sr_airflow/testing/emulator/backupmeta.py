"""`__meta` as StarRocks writes it (read back by `metareader`).

`BackupMeta.write` (the `Writable` default, `Text.writeString`): a 4-byte big-endian length, then the UTF-8 GSON
text of `BackupMeta` (`GsonUtils.GSON`): `tblNameMap` (a `HashMap<String, Table>` of the copied tables, views and
MVs, each with its `clazz` tag from `TABLE_TYPE_ADAPTER_FACTORY`), `functions` (`clazz` from
`FUNCTION_TYPE_RUNTIME_ADAPTER_FACTORY`) and `catalogs`. Read at the 3.5 point e223275f (the 3.4 point afccab88 has
the same classes; 4.0 312b0d9e too), and at the 3.3 point 1a2f1f5d75 for the partition shape.

Field names and order follow the `@SerializedName` fields of each class (a class's own fields, then its
superclass's); `HashMap` fields in Java's hash order (`javajson`). What is left out (written by StarRocks, not
needed by a restore and not modelled here): `bfColumns`/`colocateGroup`/`sessionId` when unset (GSON leaves nulls
out anyway), the deprecated `partitionColumns` column copies at 3.4+, `TableIndexes`' index definitions, and a
materialized view's refresh context and base-table version maps beyond their ids.
"""

from __future__ import annotations

import struct

from . import sqltypes
from .javajson import drop_nulls, gson_text, long_keys, string_keys
from .metastore import Column, ExternalCatalog, Function, Index, Partition, Table
from .partitionkeys import serialize_range

BACKEND_ID = 10001
INVALID_SHARD_GROUP_ID = -1  # PhysicalPartition.INVALID_SHARD_GROUP_ID
TABLE_TYPE = {"OLAP": "OLAP", "VIEW": "VIEW", "MATERIALIZED_VIEW": "MATERIALIZED_VIEW"}  # Table.TableType names


# -- writing
def meta_bytes(meta: dict) -> bytes:
    """`Text.writeString(out, GSON.toJson(this))`: the length (an int, big-endian) and the UTF-8 text."""
    body = gson_text(drop_nulls(meta)).encode("utf-8")
    return struct.pack(">i", len(body)) + body


def backup_meta(tables: list[dict], functions: list[dict], catalogs: list[dict],
                line: tuple[int, int] = (3, 5)) -> dict:
    """`BackupMeta`: `tblNameMap` (HashMap<String, Table>), `functions`, `catalogs` (the last two since 3.4)."""
    meta = {"tblNameMap": string_keys({t["name"]: t for t in tables}), "functions": functions, "catalogs": catalogs}
    if line < (3, 4):
        del meta["functions"], meta["catalogs"]
    return meta


def column_gson(column: Column, is_key: bool, keys_type: str, line: tuple[int, int] = (3, 5),
                implicit: bool | None = None) -> dict:
    """`Column` (Column.java @SerializedName fields in order). A value column's aggregate is what
    `CreateTableAnalyzer` sets: NONE in duplicate-key tables, REPLACE in unique/primary-key tables (both marked
    `isAggregationTypeImplicit`), the declared one in aggregate tables; key columns have none. 3.3 (1a2f1f5d75)
    has no `columnId` and declares `uniqueId` last; 3.4 (afccab88) declares it after `type`."""
    aggregate = None
    if not is_key:
        aggregate = {"DUP_KEYS": "NONE", "UNIQUE_KEYS": "REPLACE", "PRIMARY_KEYS": "REPLACE"}.get(
            keys_type, (column.agg or "NONE").upper())
    if implicit is None:
        implicit = not is_key and keys_type in ("DUP_KEYS", "UNIQUE_KEYS", "PRIMARY_KEYS")
    default_expr = None
    default = column.default
    if default is not None and default.upper() in ("CURRENT_TIMESTAMP", "NOW()"):
        default_expr, default = {"expr": "now()"}, None
    gson_type = sqltypes.gson_type(sqltypes.parse_type(column.sr_type, column.agg))
    if line < (3, 4):
        gson_type = _without_struct_field_ids(gson_type)
    head = {"name": column.name, "columnId": column.name}  # ColumnIdAdapter: a ColumnId is written as its text
    if line < (3, 4):
        head = {"name": column.name}
    body = {"type": gson_type, "aggregationType": aggregate, "isAggregationTypeImplicit": implicit,
            "isKey": is_key, "isAllowNull": column.nullable, "isAutoIncrement": column.auto_increment,
            "defaultValue": default, "defaultExpr": default_expr, "comment": column.comment,
            "stats": {"avgSerializedSize": -1.0, "maxSize": -1, "numDistinctValues": -1, "numNulls": -1}}
    if line < (3, 4):
        return {**head, **body, "uniqueId": column.unique_id}
    if line < (3, 5):
        return {**head, "type": gson_type, "uniqueId": column.unique_id, **body}
    return {**head, "uniqueId": column.unique_id, **body}


def _without_struct_field_ids(gson: dict) -> dict:
    """3.3's StructField has no fieldId / fieldPhysicalName."""
    if gson.get("clazz") == "StructType":
        return {**gson, "fields": [{k: (_without_struct_field_ids(v) if k == "type" else v) for k, v in f.items()
                                    if k not in ("fieldId", "fieldPhysicalName")} for f in gson["fields"]]}
    if gson.get("clazz") == "ArrayType":
        return {**gson, "itemType": _without_struct_field_ids(gson["itemType"])}
    if gson.get("clazz") == "MapType":
        return {**gson, "keyType": _without_struct_field_ids(gson["keyType"]),
                "valueType": _without_struct_field_ids(gson["valueType"])}
    return gson


def _index_meta(index_id: int, columns: list[dict], schema_hash: int, keys_type: str, db_id: int,
                short_keys: int, define_stmt: str = "", view_sql: str = "") -> dict:
    """`MaterializedIndexMeta`. `dbId` is set by `RollupJobV2` only (rollups and synchronous MVs); the base index
    keeps 0."""
    return {"indexId": index_id, "schema": columns, "sortKeyUniqueIds": None, "schemaVersion": 0,
            "schemaHash": schema_hash, "schemaId": index_id, "shortKeyColumnCount": short_keys,
            "storageType": "COLUMN", "keysType": keys_type,
            "defineStmt": {"originStmt": define_stmt, "idx": 0} if define_stmt else None,
            "dbId": db_id, "viewDefineSql": view_sql or None, "isColocateMVIndex": False}


def _distribution(table: Table, buckets: int, line: tuple[int, int]) -> dict:
    """`HashDistributionInfo` (colIds, the deprecated distributionColumns left empty, bucketNum; 3.3:
    distributionColumns holds the Column objects and there is no colIds) or `RandomDistributionInfo` (b), then
    DistributionInfo's typeStr, type."""
    if table.distribution == "RANDOM":
        return {"clazz": "RandomDistributionInfo", "b": buckets, "typeStr": "RANDOM", "type": "RANDOM"}
    if line < (3, 4):
        keys = set(table.key_columns)
        columns = [column_gson(table.column(c), c in keys, table.keys_type, line)
                   for c in table.distribution_columns if table.column(c) is not None]
        return {"clazz": "HashDistributionInfo", "distributionColumns": columns, "bucketNum": buckets,
                "typeStr": "HASH", "type": "HASH"}
    return {"clazz": "HashDistributionInfo", "colIds": list(table.distribution_columns), "distributionColumns": [],
            "bucketNum": buckets, "typeStr": "HASH", "type": "HASH"}


def _tablets(tablet_ids: list[int], version: int, replicas: int, row_count: int) -> list[dict]:
    """`LocalTablet` (replicas, checkedVersion, isConsistent, then Tablet.id); each replica's id follows its
    tablet's (`createOlapTablets` draws them right after the tablet id)."""
    return [{"clazz": "LocalTablet",
             "replicas": [{"id": t + 1 + i, "backendId": BACKEND_ID, "version": version, "minReadableVersion": 0,
                           "dataSize": 0, "rowCount": row_count if i == 0 else 0, "state": "NORMAL",
                           "lastFailedVersion": -1, "lastSuccessVersion": version} for i in range(replicas)],
             "checkedVersion": -1, "isConsistent": True, "id": t} for t in tablet_ids]


def _materialized_index(index_id: int, tablets: list[int], version: int, replicas: int, rows: int) -> dict:
    """`MaterializedIndex`: id, state, rowCount, tablets, shardGroupId."""
    return {"id": index_id, "state": "NORMAL", "rowCount": rows,
            "tablets": _tablets(tablets, version, replicas, rows), "shardGroupId": INVALID_SHARD_GROUP_ID}


def _version_fields(version: int, time_ms: int) -> dict:
    return {"visibleVersion": version, "visibleVersionTime": time_ms, "nextVersion": version + 1,
            "dataVersion": version, "nextDataVersion": version + 1, "versionEpoch": 0,
            "versionTxnType": "TXN_NORMAL"}


def _rollup_indexes(table: Table, partition: Partition, replicas: int) -> dict:
    return long_keys({str(r.id): _materialized_index(r.id, partition.rollup_tablets.get(str(r.id), []),
                                                     partition.visible_version, replicas, partition.row_count)
                      for r in table.rollups})


def partition_gson(table: Table, partition: Partition, line: tuple[int, int]) -> dict:
    """`Partition`. 3.4+ (#50598): the logical partition (id, name, state, dpid, idToSubPartition, distributionInfo)
    holding its `PhysicalPartition` (id, name `<partition>_<physicalId>`, parentId, shardGroupId, isImmutable,
    baseIndex, idToVisibleRollupIndex, idToShadowIndex, versions); the old physical fields of `Partition` stay at
    their defaults (`new Partition(id, name, distributionInfo)`). 3.3 (1a2f1f5d75): the partition is itself the
    physical one (its own baseIndex and versions, idToSubPartition empty, shardGroupId 0 from `createPartition`)."""
    replicas = table.replication_num
    time_ms = int(partition.visible_version_time * 1000)
    base = _materialized_index(table.base_index_id, partition.tablet_ids, partition.visible_version, replicas,
                               partition.row_count)
    rollups = _rollup_indexes(table, partition, replicas)
    distribution = _distribution(table, len(partition.tablet_ids), line)
    if line < (3, 4):
        versions = _version_fields(partition.visible_version, time_ms)
        return {"id": partition.id, "name": partition.name, "state": "NORMAL", "idToSubPartition": {},
                "distributionInfo": distribution, "shardGroupId": 0, "isImmutable": False, "baseIndex": base,
                "idToVisibleRollupIndex": rollups, "idToShadowIndex": {},
                **{k: versions[k] for k in ("visibleVersion", "visibleVersionTime", "nextVersion")}}
    physical = {"id": partition.physical_id, "name": f"{partition.name}_{partition.physical_id}",
                "parentId": partition.id, "shardGroupId": INVALID_SHARD_GROUP_ID, "isImmutable": False,
                "baseIndex": base, "idToVisibleRollupIndex": rollups, "idToShadowIndex": {},
                **_version_fields(partition.visible_version, time_ms)}
    if line >= (4, 0):  # 4.0 (312b0d9e): metadataSwitchVersion; bucketNum set by createPartition
        physical.update(metadataSwitchVersion=0, bucketNum=len(partition.tablet_ids))
    return {"id": partition.id, "name": partition.name, "state": "NORMAL", "dpid": partition.physical_id,
            "idToSubPartition": {str(partition.physical_id): physical}, "distributionInfo": distribution,
            "shardGroupId": INVALID_SHARD_GROUP_ID, "isImmutable": False, "idToVisibleRollupIndex": {},
            "idToShadowIndex": {}, "visibleVersion": 0, "visibleVersionTime": 0, "nextVersion": 0, "dataVersion": 0,
            "nextDataVersion": 0, "versionEpoch": 0}


def _partition_info(table: Table, partitions: list[Partition], line: tuple[int, int] = (3, 5)) -> dict:
    """`PartitionInfo` subclasses: RangePartitionInfo (colIds, serializedIdToRange / serializedIdToTempRange: each
    range as the bytes `RangeUtils.writeRange` writes, `gsonPreProcess`), ExpressionRangePartitionInfo (its
    partitionExprs, then the range fields), ListPartitionInfo (colIds, idToMultiValues, idToValues, idToTemp,
    automaticPartition), SinglePartitionInfo; then PartitionInfo's type, idToDataProperty, idToReplicationNum,
    isMultiColumnPartition, idToInMemory, idToStorageCacheInfo (maps keyed by the logical partition id). 3.3
    (1a2f1f5d75) names the partition columns by `partitionColumns` (Column objects) instead of `colIds`."""
    ids = [str(p.id) for p in partitions]
    replicas = table.replication_num
    common = {
        "type": {"RANGE": "RANGE", "EXPR": "EXPR_RANGE" if table.partition_function else "LIST",
                 "LIST": "LIST", "UNPARTITIONED": "UNPARTITIONED"}[table.partition_type],
        "idToDataProperty": long_keys({i: {"storageMedium": "HDD", "cooldownTimeMs": 253402271999000}
                                       for i in ids}),
        "idToReplicationNum": long_keys({i: replicas for i in ids}),
        "isMultiColumnPartition": len(table.partition_columns) > 1,
        "idToInMemory": long_keys({i: False for i in ids}),
        "idToStorageCacheInfo": long_keys({i: {"enableCache": False, "asyncWriteBack": False} for i in ids}),
    }
    if table.partition_type == "UNPARTITIONED":
        return {"clazz": "SinglePartitionInfo", **common}
    columns = [table.column(c) for c in table.partition_columns]
    keys = set(table.key_columns)
    col_ids = {"colIds": list(table.partition_columns)} if line >= (3, 4) else {
        "partitionColumns": [column_gson(c, c.name in keys, table.keys_type, line) for c in columns]}
    if table.partition_type == "LIST" or (table.partition_type == "EXPR" and not table.partition_function):
        single = len(columns) == 1
        own = {**col_ids,
               "idToMultiValues": long_keys({str(p.id): p.values for p in partitions} if not single else {}),
               "idToValues": long_keys({str(p.id): [v[0] for v in p.values] for p in partitions} if single else {}),
               "idToTemp": long_keys({str(p.id): p.is_temp for p in partitions}),
               "automaticPartition": table.partition_type == "EXPR"}
        return {"clazz": "ListPartitionInfo", **own, **common}
    ranges = long_keys({str(p.id): serialize_range(columns, p.lower, p.upper) for p in partitions if not p.is_temp})
    temp = long_keys({str(p.id): serialize_range(columns, p.lower, p.upper) for p in partitions if p.is_temp})
    own = {**col_ids, "serializedIdToRange": ranges, "serializedIdToTempRange": temp}
    if table.partition_type == "EXPR":
        expr = f"date_trunc('{table.partition_function}', `{table.partition_columns[0]}`)"
        return {"clazz": "ExpressionRangePartitionInfo", "partitionExprs": [{"expressionSql": expr}], **own,
                **common}
    return {"clazz": "RangePartitionInfo", **own, **common}


def _index_columns(table: Table, rollup: Index, line: tuple[int, int]) -> list[dict]:
    """A rollup / MV index's schema: keys first (`MaterializedViewHandler.checkAndPrepareMaterializedView`); a
    duplicate-key rollup's value columns get NONE, marked implicit; a synchronous MV's aggregate columns keep their
    function."""
    keys = set(rollup_key_columns(table, rollup))
    result = []
    for column in rollup.columns:
        is_key = column.name in keys
        if rollup.is_mv:
            kind = "AGG_KEYS" if column.agg else rollup.keys_type
            result.append(column_gson(column, is_key, kind, line, implicit=False if column.agg else None))
        else:
            result.append(column_gson(column, is_key, rollup.keys_type, line))
    return result


def _olap_fields(table: Table, partitions: list[Partition], db_id: int, schema_hash, line: tuple[int, int]) -> dict:
    """OlapTable's own fields, in order (3.3 has no maxIndexId)."""
    keys = set(table.key_columns)
    base_columns = [column_gson(c, c.name in keys, table.keys_type, line) for c in table.columns]
    metas = {str(table.base_index_id): _index_meta(table.base_index_id, base_columns, schema_hash(table.columns),
                                                   table.keys_type, 0, len(table.key_columns))}
    names = {table.name: table.base_index_id}
    for rollup in table.rollups:
        metas[str(rollup.id)] = _index_meta(rollup.id, _index_columns(table, rollup, line),
                                            rollup.schema_hash or schema_hash(rollup.columns), rollup.keys_type,
                                            db_id, len(rollup_key_columns(table, rollup)), rollup.define_stmt,
                                            rollup.view_define_sql)
        names[rollup.name] = rollup.id
    formal = [p for p in partitions if not p.is_temp]
    temp = [p for p in partitions if p.is_temp]
    fields = {
        "state": "NORMAL",
        "indexIdToMeta": long_keys(metas),
        "indexNameToId": string_keys(names),
        "keysType": table.keys_type,
        "partitionInfo": _partition_info(table, partitions, line),
        "idToPartition": long_keys({str(p.id): partition_gson(table, p, line) for p in formal}),
        "defaultDistributionInfo": _distribution(table, table.buckets, line),
        "tempPartitions": {"idToPartition": long_keys({str(p.id): partition_gson(table, p, line) for p in temp})},
        "bfFpp": 0.0,
        "baseIndexId": table.base_index_id,
        "tableProperty": {"properties": string_keys({"replication_num": str(table.replication_num),
                                                     **{k: v for k, v in table.properties.items()
                                                        if k != "colocate_with"}}),
                          "hasDelete": False, "hasForbitGlobalDict": False},
        "maxColUniqueId": table.max_col_unique_id,
        "maxIndexId": max([table.base_index_id] + [r.id for r in table.rollups]),
    }
    if table.properties.get("colocate_with"):  # OlapTable.colocateGroup (after bfFpp), not a table property
        fields = _after(fields, "bfFpp", "colocateGroup", table.properties["colocate_with"])
    if line < (3, 4):
        del fields["maxIndexId"]
    return fields


def _table_fields(table: Table, full_schema: list[dict], mvs: list[dict]) -> dict:
    """Table's own fields: id, name, type, createTime (epoch seconds), fullSchema, comment, mvs (the ids of the
    asynchronous MVs over this table, `MvId`: dbId, id)."""
    return {"id": table.id, "name": table.name, "type": TABLE_TYPE[table.kind], "createTime": int(table.create_time),
            "fullSchema": full_schema, "comment": table.comment, "mvs": mvs}


def full_schema(table: Table, line: tuple[int, int] = (3, 5)) -> list[dict]:
    """`OlapTable.rebuildFullSchema`: the base index's columns, then each other index's columns not already there
    (by name)."""
    keys = set(table.key_columns)
    columns = [column_gson(c, c.name in keys, table.keys_type, line) for c in table.columns]
    seen = {c.name.lower() for c in table.columns}
    for rollup in table.rollups:
        for column, data in zip(rollup.columns, _index_columns(table, rollup, line), strict=True):
            if column.name.lower() not in seen:
                seen.add(column.name.lower())
                columns.append(data)
    return columns


def rollup_key_columns(table: Table, rollup: Index) -> list[str]:
    """The key columns of a rollup / MV index: as recorded when it was made, else (a synchronous MV) its
    non-aggregate columns, else its first column."""
    if rollup.key_columns:
        return list(rollup.key_columns)
    names = [c.name for c in rollup.columns if not c.agg] if rollup.is_mv else []
    return names or [c.name for c in rollup.columns[:1]]


def olap_table_gson(table: Table, partitions: list[Partition], db_id: int, schema_hash,
                    line: tuple[int, int] = (3, 5), mvs: list[dict] | None = None) -> dict:
    """`OlapTable` as `BackupJob` copies it (`selectiveCopy` of the backed-up partitions, visible indexes)."""
    return {"clazz": "OlapTable", **_olap_fields(table, partitions, db_id, schema_hash, line),
            **_table_fields(table, full_schema(table, line), mvs or [])}


def view_gson(view: Table, line: tuple[int, int] = (3, 5)) -> dict:
    """`View`: i (inlineViewDef), m (sqlMode: 32, ONLY_FULL_GROUP_BY, the session default), s (security, 3.5+),
    then Table's fields. A view's columns have no uniqueId (-1) and no key."""
    schema = []
    for column in view.columns:
        data = column_gson(column, False, "DUP_KEYS", line, implicit=False)
        data["aggregationType"] = None
        data["uniqueId"] = -1
        schema.append(data)
    own = {"i": view.query_sql, "m": 32, "s": False}
    if line < (3, 5):
        del own["s"]
    return {"clazz": "View", **own, **_table_fields(view, schema, [])}


def mv_gson(mv: Table, partitions: list[Partition], db_id: int, schema_hash, reason: str,
            line: tuple[int, int] = (3, 5), bases: list[dict] | None = None) -> dict:
    """`MaterializedView`: its own fields (dbId, refreshScheme, baseTableInfos, active, inactiveReason,
    viewDefineSql, simpleDefineSql, originalViewDefineSql, maxMVRewriteStaleness, queryOutputIndices,
    warehouseId), then OlapTable's, then Table's. `BackupJob` stores MVs inactive with the backup reason.
    `bases`: `BaseTableInfo`s (catalogName, dbId, tableId, dbName, tableName) of the tables the MV reads."""
    refresh = mv.refresh.upper()
    kind = "MANUAL" if "MANUAL" in refresh else ("INCREMENTAL" if "INCREMENTAL" in refresh else "ASYNC")
    own = {"dbId": db_id,
           "refreshScheme": {"moment": "DEFERRED" if "DEFERRED" in refresh else "IMMEDIATE", "type": kind,
                             "asyncRefreshContext": {"baseTableVisibleVersionMap": {},
                                                     "baseTableInfoVisibleVersionMap": {},
                                                     "mvPartitionNameRefBaseTablePartitionMap": {},
                                                     "defineStartTime": False, "starTime": 0, "step": 0},
                             "lastRefreshTime": 0},
           "baseTableInfos": bases or [], "active": False, "inactiveReason": reason, "viewDefineSql": mv.query_sql,
           "simpleDefineSql": mv.query_sql, "originalViewDefineSql": mv.query_sql, "maxMVRewriteStaleness": 0,
           "queryOutputIndices": [], "warehouseId": 0}
    return {"clazz": "MaterializedView", **own, **_olap_fields(mv, partitions, db_id, schema_hash, line),
            **_table_fields(mv, full_schema(mv, line), [])}


def function_gson(function: Function, db_name: str, function_id: int) -> dict:
    """A Java UDF as `CreateFunctionAnalyzer.analyzeStarrocksJarUdf` makes it (`ScalarFunction.createUdf`:
    symbolName, prepareFnSymbol and closeFnSymbol "", isolated; `inputType` only for Python UDFs) or an
    `AggregateFunction`, then Function's fid, name (FunctionName: db, fn), retType, argTypes, argNames,
    hasVarArgs, userVisible, binaryType (SRJAR / PYTHON), location (HdfsURI: the file URL), checksum (the md5 the
    frontend computes of the file; the emulator does not fetch it: the `md5` property or "")."""
    props = {k.lower(): v for k, v in function.properties.items()}
    args = [a.strip() for a in function.signature[function.signature.index("(") + 1:-1].split(",") if a.strip()]
    var_args = bool(args) and args[-1].endswith("...")
    args = [a.removesuffix("...").strip() for a in args]
    python = props.get("type", "StarrocksJar").upper() == "PYTHON"
    common = {"fid": function_id, "name": {"db": db_name, "fn": function.name},
              "retType": sqltypes.gson_type(function.return_type), "argTypes": [sqltypes.gson_type(a) for a in args],
              "hasVarArgs": var_args, "userVisible": True, "binaryType": "PYTHON" if python else "SRJAR",
              "location": {"location": props["file"]} if "file" in props else None,
              "checksum": props.get("md5", "")}
    if "AGGREGATE" in function.create_sql.upper().split("FUNCTION")[0]:
        return {"clazz": "AggregateFunction", "symbolName": props.get("symbol"), "ignoresDistinct": False,
                "isAnalyticFn": False, "isAggregateFn": True, "returnsNonNullOnEmpty": False, **common}
    return {"clazz": "ScalarFunction", "symbolName": props.get("symbol"), "prepareFnSymbol": "",
            "closeFnSymbol": "", "isolated": True, "inputType": props.get("input", "scalar") if python else None,
            **common}


def catalog_gson(catalog: ExternalCatalog) -> dict:
    """`Catalog` (ExternalCatalog adds no serialized field): id, name, comment, config."""
    return {"id": catalog.id, "name": catalog.name, "comment": catalog.comment,
            "config": string_keys(dict(catalog.properties))}


def _after(fields: dict, key: str, new_key: str, value) -> dict:
    """``fields`` with ``new_key`` inserted right after ``key`` (GSON writes fields in declaration order)."""
    out = {}
    for k, v in fields.items():
        out[k] = v
        if k == key:
            out[new_key] = value
    return out
