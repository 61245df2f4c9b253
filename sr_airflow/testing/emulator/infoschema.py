"""information_schema tables that the product and ordinary StarRocks clients read, served from the metastore through an
in-memory DuckDB.

Every table has every column of StarRocks' system-table definition (`catalog/system/information/*SystemTable.java`)
for the emulator's release line (`versions.py`), filled as StarRocks fills it: the FE builds thrift rows
(`service/InformationSchemaDataSource`, `FrontendServiceImpl.describeTable` / `setColumnDesc`) and the BE's schema
scanners (`be/src/exec/schema_scanner/schema_*_scanner.cpp`) turn them into columns, NULL where a scanner writes
NULL (an unset time, -1 "empty" numbers) and "" where it copies an unset thrift string. Read at the 3.5 point
e223275f78 unless a function says otherwise; the 3.3 / 3.4 / 4.0 differences come from `versions`.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
from sqlglot import exp

from . import beconfig, sqltypes, versions
from .errors import EmulatorError, analyzing_error
from .query import INFO_SCHEMA, to_duckdb
from .show import byte_size, in_map_order, mv_row, range_text

S, INT, T, BOOL, DOUBLE = "VARCHAR", "BIGINT", "TIMESTAMP", "BOOLEAN", "DOUBLE"

# Column types of the system tables (the names per release line come from `versions` where they differ).
_PARTITIONS_META_TYPES = {
    "PARTITION_ID": INT, "COMPACT_VERSION": INT, "VISIBLE_VERSION": INT, "VISIBLE_VERSION_TIME": T,
    "NEXT_VERSION": INT, "DATA_VERSION": INT, "VERSION_EPOCH": INT, "BUCKETS": INT, "REPLICATION_NUM": INT,
    "COOLDOWN_TIME": T, "LAST_CONSISTENCY_CHECK_TIME": T, "IS_IN_MEMORY": BOOL, "IS_TEMP": BOOL, "ROW_COUNT": INT,
    "ENABLE_DATACACHE": BOOL, "AVG_CS": DOUBLE, "P50_CS": DOUBLE, "MAX_CS": DOUBLE, "STORAGE_SIZE": INT,
    "TABLET_BALANCED": BOOL, "METADATA_SWITCH_VERSION": INT}
TABLES = [
    ("TABLE_CATALOG", S), ("TABLE_SCHEMA", S), ("TABLE_NAME", S), ("TABLE_TYPE", S), ("ENGINE", S),
    ("VERSION", INT), ("ROW_FORMAT", S), ("TABLE_ROWS", INT), ("AVG_ROW_LENGTH", INT), ("DATA_LENGTH", INT),
    ("MAX_DATA_LENGTH", INT), ("INDEX_LENGTH", INT), ("DATA_FREE", INT), ("AUTO_INCREMENT", INT), ("CREATE_TIME", T),
    ("UPDATE_TIME", T), ("CHECK_TIME", T), ("TABLE_COLLATION", S), ("CHECKSUM", INT), ("CREATE_OPTIONS", S),
    ("TABLE_COMMENT", S)]
SCHEMATA = [("CATALOG_NAME", S), ("SCHEMA_NAME", S), ("DEFAULT_CHARACTER_SET_NAME", S),
            ("DEFAULT_COLLATION_NAME", S), ("SQL_PATH", S)]
COLUMNS = [("TABLE_CATALOG", S), ("TABLE_SCHEMA", S), ("TABLE_NAME", S), ("COLUMN_NAME", S),
           ("ORDINAL_POSITION", INT), ("COLUMN_DEFAULT", S), ("IS_NULLABLE", S), ("DATA_TYPE", S),
           ("CHARACTER_MAXIMUM_LENGTH", INT), ("CHARACTER_OCTET_LENGTH", INT), ("NUMERIC_PRECISION", INT),
           ("NUMERIC_SCALE", INT), ("DATETIME_PRECISION", INT), ("CHARACTER_SET_NAME", S), ("COLLATION_NAME", S),
           ("COLUMN_TYPE", S), ("COLUMN_KEY", S), ("EXTRA", S), ("PRIVILEGES", S), ("COLUMN_COMMENT", S),
           ("COLUMN_SIZE", INT), ("DECIMAL_DIGITS", INT), ("GENERATION_EXPRESSION", S), ("SRS_ID", INT)]
TABLES_CONFIG = [("TABLE_SCHEMA", S), ("TABLE_NAME", S), ("TABLE_ENGINE", S), ("TABLE_MODEL", S),
                 ("PRIMARY_KEY", S), ("PARTITION_KEY", S), ("DISTRIBUTE_KEY", S), ("DISTRIBUTE_TYPE", S),
                 ("DISTRIBUTE_BUCKET", "INTEGER"), ("SORT_KEY", S), ("PROPERTIES", S), ("TABLE_ID", INT)]
VIEWS = [("TABLE_CATALOG", S), ("TABLE_SCHEMA", S), ("TABLE_NAME", S), ("VIEW_DEFINITION", S),
         ("CHECK_OPTION", S), ("IS_UPDATABLE", S), ("DEFINER", S), ("SECURITY_TYPE", S),
         ("CHARACTER_SET_CLIENT", S), ("COLLATION_CONNECTION", S)]


def _line(cluster) -> tuple[int, int]:
    return versions.release_line(cluster.options.version)


def _ts(epoch: float | None):
    """An epoch-seconds thrift time as the BE scanners show it: NULL when not positive."""
    return dt.datetime.fromtimestamp(int(epoch)) if epoch and epoch > 0 else None


def _tables_in_order(cluster):
    """(db, table) of every table StarRocks lists: synchronous MVs are indexes of their base table, not tables."""
    for db in cluster.metastore.databases.values():
        for table in db.tables.values():
            if table.kind == "MATERIALIZED_VIEW" and table.refresh == "ROLLUP":
                continue
            yield db, table


def column_sql(column) -> str:
    """`Column.toSql(null)` (= `Column.toString()`), which 3.4+ partitions_meta.PARTITION_KEY joins: the column's
    name, type, explicit aggregate, nullability, default and comment."""
    parts = [f"`{column.name}`", sqltypes.type_sql(sqltypes.parse_type(column.sr_type, column.agg))]
    if column.agg:
        parts.append(column.agg.upper())
    parts.append("NULL" if column.nullable else "NOT NULL")
    if column.auto_increment and column.default is None:
        parts.append("AUTO_INCREMENT")
    elif column.default is not None and column.default.upper() == "CURRENT_TIMESTAMP":
        parts.append("DEFAULT CURRENT_TIMESTAMP")
    elif column.default is not None:
        escaped = column.default.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(f'DEFAULT "{escaped}"')
    return " ".join(parts) + f' COMMENT "{column.comment or ""}"'


def _partitions_meta(cluster) -> tuple[list[tuple[str, str]], list[list]]:
    """`InformationSchemaDataSource.generatePartitionsMetaResponse` / `genPartitionMetaInfo` and
    `schema_partitions_meta_scanner.cpp`: tables in table-id order, per table its partitions then its temporary
    partitions, one row per physical partition; PARTITION_ID is the physical partition's id."""
    line = _line(cluster)
    names = versions.partitions_meta_columns(line)
    bytes_size = versions.partitions_meta_data_size_is_bytes(line)
    schema = [(n, INT if n == "DATA_SIZE" and bytes_size else _PARTITIONS_META_TYPES.get(n, S)) for n in names]
    rows = []
    tables = sorted((t.id, db.name, t) for db, t in _tables_in_order(cluster) if t.has_data)
    for _, db_name, table in tables:
        if line >= (3, 4):  # Joiner over Column objects: Column.toString
            key = ", ".join(column_sql(table.column(c)) for c in table.partition_columns if table.column(c))
        else:  # 3.3: PartitionsProcDir.findPartitionColNames
            key = ", ".join(table.partition_columns)
        distribution = ", ".join(table.distribution_columns) if table.distribution == "HASH" else "ALL KEY"
        formal = in_map_order([q for q in table.partitions if not q.is_temp])
        for p in formal + in_map_order([q for q in table.partitions if q.is_temp]):
            size = p.data_size if bytes_size else byte_size(p.data_size)
            values = {
                "DB_NAME": db_name, "TABLE_NAME": table.name, "PARTITION_NAME": p.name,
                "PARTITION_ID": p.physical_id, "COMPACT_VERSION": 0,
                "VISIBLE_VERSION": p.visible_version, "VISIBLE_VERSION_TIME": _ts(p.visible_version_time),
                "NEXT_VERSION": p.visible_version + 1, "DATA_VERSION": p.visible_version,
                "VERSION_EPOCH": p.version_epoch,
                "VERSION_TXN_TYPE": "TXN_NORMAL", "PARTITION_KEY": key, "PARTITION_VALUE": range_text(table, p),
                "DISTRIBUTION_KEY": distribution, "BUCKETS": len(p.tablet_ids),
                "REPLICATION_NUM": int(table.properties.get("replication_num", "3")), "STORAGE_MEDIUM": "HDD",
                # DataProperty.MAX_COOLDOWN_TIME_MS; getLastCheckTime() is 0 until a consistency check: NULL
                "COOLDOWN_TIME": dt.datetime(9999, 12, 31, 23, 59, 59), "LAST_CONSISTENCY_CHECK_TIME": None,
                "IS_IN_MEMORY": False, "IS_TEMP": p.is_temp, "DATA_SIZE": size, "ROW_COUNT": p.row_count,
                # shared-nothing: the cloud-native fields are left unset (thrift defaults 0 / false / "")
                "ENABLE_DATACACHE": False, "AVG_CS": 0.0, "P50_CS": 0.0, "MAX_CS": 0.0, "STORAGE_PATH": "",
                "STORAGE_SIZE": p.data_size, "TABLET_BALANCED": True, "METADATA_SWITCH_VERSION": 0}
            rows.append([values[n] for n in names])
    return schema, rows


def _tables(cluster) -> tuple[list, list[list]]:
    """`InformationSchemaDataSource.generateTablesInfoResponse` (+ `genNormalTableInfo` / `genDefaultConfigInfo`) and
    `schema_tables_scanner.cpp` (-1 -> NULL, times <= 0 -> NULL, unset strings -> "")."""
    base_type = versions.base_table_type(_line(cluster))
    rows = []
    for db, t in _tables_in_order(cluster):
        is_view = t.kind == "VIEW"
        kind = "VIEW" if t.kind in ("VIEW", "MATERIALIZED_VIEW") else base_type  # Table.getMysqlType
        if is_view:  # genDefaultConfigInfo
            count = avg = size = update = None
        else:
            count = sum(p.row_count for p in t.partitions)
            size = sum(p.data_size for p in t.partitions)
            avg = size // count if count else 0
            update = _ts(max((p.visible_version_time for p in t.partitions), default=0))
        rows.append(["def", db.name, t.name, kind, "" if is_view else "StarRocks", None, "", count, avg, size,
                     None, None, None, None, _ts(t.create_time), update, None, "utf8_general_ci", None, "",
                     t.comment or ""])
    return TABLES, rows


def _mvs(cluster) -> tuple[list, list[list]]:
    """`ShowMaterializedViewStatus.toThrift` rows, async and synchronous MVs, with the release line's columns."""
    names = versions.materialized_views_columns(_line(cluster))
    rows = []
    for db in cluster.metastore.databases.values():
        for t in db.tables.values():
            if t.kind == "MATERIALIZED_VIEW":
                row = mv_row(db.name, t, sum(p.row_count for p in t.partitions))
                extra = [row[9], ""]  # LAST_REFRESH_PROCESS_TIME (the refresh start), LAST_REFRESH_JOB_ID
                rows.append((row + extra)[:len(names)])
    return [(n, S) for n in names], rows


def _schemata(cluster) -> tuple[list, list[list]]:
    """`schema_schemata_scanner.cpp`: CATALOG_NAME "def", utf8 / utf8_general_ci, SQL_PATH NULL."""
    names = ["information_schema", *sorted(cluster.metastore.databases)]
    return SCHEMATA, [["def", n, "utf8", "utf8_general_ci", None] for n in names]


_KEY_PREFIX = {"DUP_KEYS": "DUP", "AGG_KEYS": "AGG", "UNIQUE_KEYS": "UNI", "PRIMARY_KEYS": "PRI"}


def _columns(cluster) -> tuple[list, list[list]]:
    """`FrontendServiceImpl.setColumnDesc` over `table.getBaseSchema()` (base-index columns only: no rollup or
    synchronous-MV columns) and `schema_columns_scanner.cpp`: TABLE_CATALOG NULL, COLUMN_KEY the first three
    letters of the keys type for key columns of native tables, DATA_TYPE / COLUMN_TYPE from
    `toMysqlDataTypeString` / `toMysqlColumnTypeString`, the size columns from `Type.getPrecision` /
    `getColumnSize` / `getDecimalDigits`."""
    rows = []
    for db, t in _tables_in_order(cluster):
        native = t.kind in ("OLAP", "MATERIALIZED_VIEW")
        for i, c in enumerate(t.columns, start=1):
            try:
                sr_type = sqltypes.parse_type(c.sr_type, c.agg)
            except sqltypes.InvalidType:  # a type the emulator's own statements made (CTAS of a DuckDB type)
                sr_type = sqltypes.ScalarType("VARCHAR", sqltypes.DEFAULT_STRING_LENGTH)
            sizes = sqltypes.columns_sizes(sr_type)
            key = _KEY_PREFIX.get(t.keys_type, "") if native and c.name in t.key_columns else ""
            rows.append([None, db.name, t.name, c.name, i, c.default, "YES" if c.nullable else "NO",
                         sqltypes.mysql_data_type(sr_type), sizes["CHARACTER_MAXIMUM_LENGTH"],
                         sizes["CHARACTER_OCTET_LENGTH"], sizes["NUMERIC_PRECISION"], sizes["NUMERIC_SCALE"], None,
                         None, None, sqltypes.mysql_column_type(sr_type), key, "", "", c.comment or "",
                         sizes["COLUMN_SIZE"], sizes["DECIMAL_DIGITS"], None, None])
    return COLUMNS, rows


def _tables_config(cluster) -> tuple[list, list[list]]:
    """`InformationSchemaDataSource.generateTablesConfigResponse` / `genNormalTableConfigInfo`: every table; only
    native tables and MVs get more than schema and name (the others keep thrift's "" and 0). TABLE_ENGINE is the
    TableType name, TABLE_MODEL the KeysType name, PRIMARY_KEY only for PRIMARY/UNIQUE KEY tables."""
    rows = []
    for db, t in _tables_in_order(cluster):
        if not t.has_data:
            rows.append([db.name, t.name, "", "", "", "", "", "", 0, "", "", 0])
            continue
        keys = ", ".join(f"`{k}`" for k in t.key_columns)
        primary = keys if t.keys_type in ("PRIMARY_KEYS", "UNIQUE_KEYS") else ""
        distribute_key = ", ".join(f"`{c}`" for c in t.distribution_columns) if t.distribution == "HASH" else ""
        rows.append([db.name, t.name, "OLAP" if t.kind == "OLAP" else "MATERIALIZED_VIEW", t.keys_type, primary,
                     ", ".join(f"`{c}`" for c in t.partition_columns), distribute_key, t.distribution, t.buckets,
                     keys, json.dumps({"replication_num": "3", **t.properties}, separators=(",", ":")), t.id])
    return TABLES_CONFIG, rows


def _views(cluster) -> tuple[list, list[list]]:
    """`FrontendServiceImpl.listTableStatus` (type VIEW: `db.getViews()`, `ddl_sql` = the view's definition) and
    `schema_views_scanner.cpp` ("def", "NONE", "NO", DEFINER and SECURITY_TYPE "", utf8, utf8_general_ci)."""
    return VIEWS, [["def", db.name, t.name, t.query_sql, "NONE", "NO", "", "", "utf8", "utf8_general_ci"]
                   for db in cluster.metastore.databases.values() for t in db.tables.values() if t.kind == "VIEW"]


def _be_configs(cluster) -> tuple[list, list[list]]:
    return beconfig.rows(cluster.options.version, cluster.knobs.be_config)


SOURCES = {"tables_config": _tables_config, "views": _views, "partitions_meta": _partitions_meta,
           "tables": _tables, "materialized_views": _mvs, "schemata": _schemata, "columns": _columns,
           "be_configs": _be_configs}


def _width(node: exp.Expression) -> int | None:
    """The number of columns an operand of a set operation gives (None: a ``*`` the emulator does not count)."""
    if isinstance(node, exp.SetOperation):
        return _width(node.this)
    if isinstance(node, exp.Subquery):
        return _width(node.this)
    if isinstance(node, exp.Select):
        if any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
               for e in node.expressions):
            return None
        return len(node.expressions)
    return None


def check_set_operations(tree: exp.Expression) -> None:
    """``UNION [ALL]`` / ``INTERSECT`` / ``EXCEPT`` of SELECTs over information_schema tables, as StarRocks analyses
    them (``QueryAnalyzer.analyzeSetOperation``, 3.5 e223275f78): every operand gives as many columns as the first
    (else "Operands have unequal number of columns"); the result's columns carry the first operand's names (DuckDB
    names them so too) and the common super type of the operands' (``TypeManager.getCommonSuperType``; every
    operand the product sends CASTs to VARCHAR). Each operand's information_schema table is its own schema scan
    with its own conjuncts (``PlanFragmentBuilder.visitPhysicalSchemaScan``: one ``SchemaScanNode`` each): here each
    is loaded from the metastore below and the operands' WHERE clauses run as written."""
    for node in tree.find_all(exp.SetOperation):
        widths = (_width(node.this), _width(node.expression))
        if None not in widths and widths[0] != widths[1]:
            raise analyzing_error("Operands have unequal number of columns")


def _load(con, local: str, schema: list, rows: list) -> None:
    """The rows into DuckDB table ``local``: as one Arrow table (milliseconds for thousands of rows, where
    ``executemany`` takes seconds), or row by row when a column mixes types Arrow cannot hold together."""
    if not rows:
        return
    import pyarrow as pa  # here: the emulator starts without it (most of its processes never read these tables)

    try:
        batch = pa.table({f"c{i}": [row[i] for row in rows] for i in range(len(schema))})
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        con.executemany(f"INSERT INTO {local} VALUES ({', '.join('?' for _ in schema)})", rows)
        return
    con.register("is_rows", batch)
    try:
        con.execute(f"INSERT INTO {local} SELECT * FROM is_rows")
    finally:
        con.unregister("is_rows")


_DB_COLUMNS = ("TABLE_SCHEMA", "DB_NAME")


def _visible_rows(name: str, schema: list, rows: list, visible) -> list:
    """The rows the session may see: information_schema filters by privilege, it never refuses (a table's rows by
    `Authorizer.checkAnyActionOnTableLikeObject` in `InformationSchemaDataSource.generateTablesInfoResponse` /
    `generateTablesConfigResponse` / `generatePartitionsMetaResponse` and `FrontendServiceImpl.describeTable` /
    `listTableStatus` / `listMaterializedViewStatus`; schemata by `Authorizer.checkAnyActionOnOrInDb`, 3.5
    e223275f78). `visible(db, table, kind)`; table None for a database."""
    if visible is None:
        return rows
    names = [c for c, _ in schema]
    if name == "schemata":
        index = names.index("SCHEMA_NAME")
        return [r for r in rows if visible(r[index], None, None)]
    db_col = next((c for c in _DB_COLUMNS if c in names), None)
    if db_col is None or "TABLE_NAME" not in names:
        return rows  # be_configs: the whole table is checked (OPERATE), not its rows
    db_index, table_index = names.index(db_col), names.index("TABLE_NAME")
    return [r for r in rows if visible(r[db_index], r[table_index], None)]


def query(cluster, tree: exp.Expression, visible=None):
    """`visible(db, table_or_None, kind)`: whether the session sees a row (None: every row, as root)."""
    check_set_operations(tree)
    con = duckdb.connect()
    loaded: set[str] = set()
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
                local = f"is_{name}"
                if local not in loaded:  # a table named twice (a join, a union) is built once
                    schema, rows = SOURCES[name](cluster)
                    rows = _visible_rows(name, schema, rows, visible)
                    con.execute(f"CREATE TABLE {local} (" + ", ".join(f'"{c}" {t}' for c, t in schema) + ")")
                    _load(con, local, schema, rows)
                    loaded.add(local)
                table.replace(exp.Table(this=exp.to_identifier(local),
                                        alias=exp.TableAlias(this=exp.to_identifier(table.alias or table.name))))
        cursor = con.execute(to_duckdb(tree))
        rows = cursor.fetchall()
        return rows, [d[0] for d in cursor.description]
    except duckdb.Error as err:
        raise EmulatorError(f"Getting analyzing error. Detail message: {str(err).splitlines()[0]}.") from err
    finally:
        con.close()
