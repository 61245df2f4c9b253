"""information_schema tables the product reads, served from the catalog through an in-memory DuckDB."""

from __future__ import annotations

import datetime as dt

import duckdb
from sqlglot import exp

from .errors import EmulatorError
from .query import INFO_SCHEMA, to_duckdb
from .show import byte_size, mv_row

S, INT, T, BOOL, DOUBLE = "VARCHAR", "BIGINT", "TIMESTAMP", "BOOLEAN", "DOUBLE"

PARTITIONS_META = [
    ("DB_NAME", S), ("TABLE_NAME", S), ("PARTITION_NAME", S), ("PARTITION_ID", INT), ("COMPACT_VERSION", INT),
    ("VISIBLE_VERSION", INT), ("VISIBLE_VERSION_TIME", T), ("NEXT_VERSION", INT), ("DATA_VERSION", INT),
    ("VERSION_EPOCH", INT), ("VERSION_TXN_TYPE", S), ("PARTITION_KEY", S), ("PARTITION_VALUE", S),
    ("DISTRIBUTION_KEY", S), ("BUCKETS", INT), ("REPLICATION_NUM", INT), ("STORAGE_MEDIUM", S), ("COOLDOWN_TIME", T),
    ("LAST_CONSISTENCY_CHECK_TIME", T), ("IS_IN_MEMORY", BOOL), ("IS_TEMP", BOOL), ("DATA_SIZE", S),
    ("ROW_COUNT", INT), ("ENABLE_DATACACHE", BOOL), ("AVG_CS", DOUBLE), ("P50_CS", DOUBLE),
    ("MAX_CS", DOUBLE), ("STORAGE_PATH", S)]
TABLES = [
    ("TABLE_CATALOG", S), ("TABLE_SCHEMA", S), ("TABLE_NAME", S), ("TABLE_TYPE", S), ("ENGINE", S),
    ("VERSION", INT), ("ROW_FORMAT", S), ("TABLE_ROWS", INT), ("AVG_ROW_LENGTH", INT), ("DATA_LENGTH", INT),
    ("MAX_DATA_LENGTH", INT), ("INDEX_LENGTH", INT), ("DATA_FREE", INT), ("AUTO_INCREMENT", INT), ("CREATE_TIME", T),
    ("UPDATE_TIME", T), ("CHECK_TIME", T), ("TABLE_COLLATION", S), ("CHECKSUM", INT), ("CREATE_OPTIONS", S),
    ("TABLE_COMMENT", S)]
MATERIALIZED_VIEWS = [(name, INT if name == "TABLE_ROWS" else S) for name in [
    "MATERIALIZED_VIEW_ID", "TABLE_SCHEMA", "TABLE_NAME", "REFRESH_TYPE", "IS_ACTIVE", "INACTIVE_REASON",
    "PARTITION_TYPE", "TASK_ID", "TASK_NAME", "LAST_REFRESH_START_TIME", "LAST_REFRESH_FINISHED_TIME",
    "LAST_REFRESH_DURATION", "LAST_REFRESH_STATE", "LAST_REFRESH_FORCE_REFRESH", "LAST_REFRESH_START_PARTITION",
    "LAST_REFRESH_END_PARTITION", "LAST_REFRESH_BASE_REFRESH_PARTITIONS", "LAST_REFRESH_MV_REFRESH_PARTITIONS",
    "LAST_REFRESH_ERROR_CODE", "LAST_REFRESH_ERROR_MESSAGE", "TABLE_ROWS", "MATERIALIZED_VIEW_DEFINITION",
    "EXTRA_MESSAGE", "QUERY_REWRITE_STATUS", "CREATOR"]]
SCHEMATA = [("CATALOG_NAME", S), ("SCHEMA_NAME", S), ("DEFAULT_CHARACTER_SET_NAME", S),
            ("DEFAULT_COLLATION_NAME", S), ("SQL_PATH", S)]
COLUMNS = [("TABLE_CATALOG", S), ("TABLE_SCHEMA", S), ("TABLE_NAME", S), ("COLUMN_NAME", S),
           ("ORDINAL_POSITION", INT), ("COLUMN_DEFAULT", S), ("IS_NULLABLE", S), ("DATA_TYPE", S),
           ("COLUMN_TYPE", S), ("COLUMN_KEY", S), ("COLUMN_COMMENT", S)]


def _ts(epoch: float | None):
    return dt.datetime.fromtimestamp(int(epoch)) if epoch else None


def _partitions_meta(cluster) -> list[list]:
    rows = []
    for db in cluster.catalog.databases.values():
        for table in db.tables.values():
            if not table.has_data:
                continue
            for p in table.partitions:
                rows.append([db.name, table.name, p.name, p.id, 0, p.visible_version, _ts(p.visible_version_time),
                             p.visible_version + 1, p.visible_version, 0, "TXN_NORMAL",
                             ", ".join(table.partition_columns), _value(table, p),
                             ", ".join(table.distribution_columns), len(p.tablet_ids),
                             int(table.properties.get("replication_num", "3")), "HDD",
                             dt.datetime(9999, 12, 31, 23, 59, 59), None, False, p.is_temp, byte_size(p.data_size),
                             p.row_count, False, 0.0, 0.0, 0.0, ""])
    return rows


def _value(table, p) -> str:
    from .show import range_text
    return range_text(table, p)


def _tables(cluster) -> list[list]:
    rows = []
    for db in cluster.catalog.databases.values():
        for t in db.tables.values():
            if t.kind == "MATERIALIZED_VIEW" and t.refresh == "ROLLUP":
                continue
            kind = "VIEW" if t.kind == "VIEW" else "BASE TABLE"
            count = sum(p.row_count for p in t.partitions)
            size = sum(p.data_size for p in t.partitions)
            rows.append(["def", db.name, t.name, kind, "StarRocks" if kind != "VIEW" else None, None, None, count,
                         size // count if count else 0, size, None, None, None, None, _ts(t.create_time), None,
                         None, "utf8_general_ci", None, None, t.comment])
    return rows


def _mvs(cluster) -> list[list]:
    rows = []
    for db in cluster.catalog.databases.values():
        for t in db.tables.values():
            if t.kind == "MATERIALIZED_VIEW":
                row = mv_row(db.name, t, sum(p.row_count for p in t.partitions))
                row[20] = int(row[20])
                rows.append(row)
    return rows


def _schemata(cluster) -> list[list]:
    names = ["information_schema", *sorted(cluster.catalog.databases)]
    return [["def", n, "utf8", "utf8_general_ci", None] for n in names]


def _columns(cluster) -> list[list]:
    rows = []
    for db in cluster.catalog.databases.values():
        for t in db.tables.values():
            for i, c in enumerate(t.columns, start=1):
                rows.append(["def", db.name, t.name, c.name, i, c.default, "YES" if c.nullable else "NO",
                             c.sr_type.split("(")[0].lower(), c.sr_type.lower(),
                             "PRI" if c.name in t.key_columns else "", c.comment])
    return rows


TABLES_CONFIG = [("TABLE_SCHEMA", S), ("TABLE_NAME", S), ("TABLE_ENGINE", S), ("TABLE_MODEL", S),
                 ("PRIMARY_KEY", S), ("PARTITION_KEY", S), ("DISTRIBUTE_KEY", S), ("DISTRIBUTE_TYPE", S),
                 ("DISTRIBUTE_BUCKET", INT), ("SORT_KEY", S), ("PROPERTIES", S), ("TABLE_ID", INT)]
VIEWS = [("TABLE_CATALOG", S), ("TABLE_SCHEMA", S), ("TABLE_NAME", S), ("VIEW_DEFINITION", S),
         ("CHECK_OPTION", S), ("IS_UPDATABLE", S), ("DEFINER", S), ("SECURITY_TYPE", S),
         ("CHARACTER_SET_CLIENT", S), ("COLLATION_CONNECTION", S)]


def _tables_config(cluster) -> list[list]:
    import json

    rows = []
    for db in cluster.catalog.databases.values():
        for t in db.tables.values():
            if not t.has_data:
                continue
            keys = ", ".join(f"`{k}`" for k in t.key_columns)
            rows.append([db.name, t.name, "StarRocks" if t.kind == "OLAP" else "MATERIALIZED_VIEW", t.keys_type,
                         keys, ", ".join(f"`{c}`" for c in t.partition_columns),
                         ", ".join(f"`{c}`" for c in t.distribution_columns), t.distribution, t.buckets, keys,
                         json.dumps({"replication_num": "3", **t.properties}), t.id])
    return rows


def _views(cluster) -> list[list]:
    return [["def", db.name, t.name, t.query_sql, "NONE", "NO", "root@%", "", "utf8", "utf8_general_ci"]
            for db in cluster.catalog.databases.values() for t in db.tables.values() if t.kind == "VIEW"]


SOURCES = {"tables_config": (TABLES_CONFIG, _tables_config), "views": (VIEWS, _views),
           "partitions_meta": (PARTITIONS_META, _partitions_meta), "tables": (TABLES, _tables),
           "materialized_views": (MATERIALIZED_VIEWS, _mvs), "schemata": (SCHEMATA, _schemata),
           "columns": (COLUMNS, _columns)}


def query(cluster, tree: exp.Expression):
    con = duckdb.connect()
    try:
        with cluster.lock:
            for table in list(tree.find_all(exp.Table)):
                if table.db.lower() != INFO_SCHEMA:
                    raise EmulatorError("Getting analyzing error. Detail message: the emulator cannot join "
                                        "information_schema with other tables.")
                name = table.name.lower()
                if name not in SOURCES:
                    raise EmulatorError(f"Getting analyzing error. Detail message: Unknown table "
                                        f"'information_schema.{table.name}'.")
                schema, build = SOURCES[name]
                rows = build(cluster)
                local = f"is_{name}"
                con.execute(f"CREATE TABLE {local} (" + ", ".join(f'"{c}" {t}' for c, t in schema) + ")")
                if rows:
                    marks = ", ".join("?" for _ in schema)
                    con.executemany(f"INSERT INTO {local} VALUES ({marks})", rows)
                table.replace(exp.Table(this=exp.to_identifier(local),
                                        alias=exp.TableAlias(this=exp.to_identifier(table.alias or table.name))))
        cursor = con.execute(to_duckdb(tree))
        rows = cursor.fetchall()
        return rows, [d[0] for d in cursor.description]
    except duckdb.Error as err:
        raise EmulatorError(f"Getting analyzing error. Detail message: {str(err).splitlines()[0]}.") from err
    finally:
        con.close()
