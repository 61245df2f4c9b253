"""Loads and DML against one table: partition routing, expression partitions on demand, versions."""

from __future__ import annotations

import datetime as dt
import decimal
import re
import time

from sqlglot import exp

from . import sqltypes
from .datastore import PARTITION_COLUMN, DataStore, physical, q
from .ddl import UNITS, add_unit
from .errors import EmulatorError
from .metastore import Metastore, Table
from .query import Rewriter, parse, to_duckdb, where_sql


def _lit(value: str, sr_type: str) -> str:
    text = value.replace("'", "''")
    return f"CAST('{text}' AS {sqltypes.to_duckdb(sr_type)})"


_INSERT_PARTITIONS = re.compile(r"^(\s*INSERT\s+(?:INTO|OVERWRITE)\s+(?:TABLE\s+)?[`\w.]+)\s+(TEMPORARY\s+)?"
                                r"PARTITIONS?\s*\(([^)]*)\)", re.IGNORECASE)


def split_insert_partitions(sql: str) -> tuple[str, list[str] | None, bool]:
    """`INSERT INTO t [TEMPORARY] PARTITION (p1, p2) ...` without its partition list, the list, and whether the
    partitions are temporary (StarRocks.g4 `insertStatement`: `partitionNames` after the table)."""
    match = _INSERT_PARTITIONS.match(sql)
    if match is None:
        return sql, None, False
    names = [n.strip().strip("`'\"") for n in match.group(3).split(",") if n.strip()]
    return match.group(1) + sql[match.end():], names, bool(match.group(2))


def route_expression(table: Table, candidates: list | None = None) -> str:
    """A DuckDB expression giving each row's partition name (NULL when no partition takes it); `candidates`: only
    these partitions (formal or temporary) take rows."""
    if table.partition_type == "UNPARTITIONED" and candidates is None:
        return f"'{table.partitions[0].name}'"
    if candidates is not None:
        return _case(table, candidates)
    cols = [table.column(c) for c in table.partition_columns]
    if table.partition_type == "EXPR":
        if table.partition_function:
            fmt = UNITS[table.partition_function][0]
            return f"'p' || strftime(date_trunc('{table.partition_function}', {q(cols[0].name)}), '{fmt}')"
        parts = " || '_' || ".join(
            f"regexp_replace(CAST({q(c.name)} AS VARCHAR), '[^0-9A-Za-z_]', '', 'g')" for c in cols)
        return f"'p' || {parts}"
    if table.partition_type == "RANGE":
        tree = _range_tree(table, cols[0])
        if tree is not None:
            return tree
    return _case(table, [p for p in table.partitions if not p.is_temp])


def _case(table: Table, partitions: list) -> str:
    """A flat CASE over `partitions` (first match wins)."""
    if table.partition_type in ("UNPARTITIONED", "EXPR") and partitions:
        if table.partition_type == "UNPARTITIONED":
            return f"'{partitions[0].name}'"
        names = ", ".join("'" + p.name.replace("'", "''") + "'" for p in partitions)
        route = route_expression(table)
        return f"CASE WHEN {route} IN ({names}) THEN {route} END"
    cols = [table.column(c) for c in table.partition_columns]
    branches = []
    for p in partitions:
        if table.partition_type == "RANGE":
            col = cols[0]
            cond = []
            if p.lower:
                cond.append(f"{q(col.name)} >= {_lit(p.lower[0], col.sr_type)}")
            if p.upper:
                cond.append(f"{q(col.name)} < {_lit(p.upper[0], col.sr_type)}")
            cond.append(f"{q(col.name)} IS NOT NULL" if not cond else "TRUE")
            branches.append(f"WHEN {' AND '.join(cond)} THEN '{p.name}'")
        else:
            alts = []
            for value in p.values:
                pairs = zip(cols, value, strict=False)
                alts.append("(" + " AND ".join(f"{q(c.name)} = {_lit(v, c.sr_type)}" for c, v in pairs) + ")")
            if alts:
                branches.append(f"WHEN {' OR '.join(alts)} THEN '{p.name}'")
    if not branches:
        return "NULL"
    return "CASE " + " ".join(branches) + " END"


_NUMERIC = {"TINYINT", "SMALLINT", "INT", "INTEGER", "BIGINT", "LARGEINT", "DECIMAL", "DECIMALV2", "DECIMAL32",
            "DECIMAL64", "DECIMAL128", "FLOAT", "DOUBLE"}


def _range_tree(table: Table, col) -> str | None:
    """Many non-overlapping RANGE partitions: a nested CASE that halves the candidates at each level (a 365-branch
    CASE made loading a daily-partitioned table slow). None when a flat CASE is as good or the bounds do not sort."""
    parts = [p for p in table.partitions if not p.is_temp]
    if len(parts) < 16:
        return None
    numeric = sqltypes.base_name(col.sr_type) in _NUMERIC

    def key(bound: str):
        return decimal.Decimal(bound) if numeric else bound  # DATE / DATETIME bounds are ISO text: they sort as text

    try:
        parts.sort(key=lambda p: (p.lower is not None, key(p.lower[0]) if p.lower else 0))
        for before, after in zip(parts, parts[1:], strict=False):
            if before.upper is None or after.lower is None or key(before.upper[0]) > key(after.lower[0]):
                return None  # overlapping (or unbounded in the middle): keep the flat CASE's first-match order
    except (decimal.InvalidOperation, TypeError):
        return None
    name = q(col.name)

    def leaf(p) -> str:
        cond = [f"{name} >= {_lit(p.lower[0], col.sr_type)}"] if p.lower else []
        cond += [f"{name} < {_lit(p.upper[0], col.sr_type)}"] if p.upper else []
        return f"CASE WHEN {' AND '.join(cond) or 'TRUE'} THEN '{p.name}' END"

    def node(lo: int, hi: int) -> str:
        if lo == hi:
            return leaf(parts[lo])
        mid = (lo + hi + 1) // 2
        return (f"CASE WHEN {name} < {_lit(parts[mid].lower[0], col.sr_type)} THEN {node(lo, mid - 1)} "
                f"ELSE {node(mid, hi)} END")

    return f"CASE WHEN {name} IS NULL THEN NULL ELSE {node(0, len(parts) - 1)} END"


class TableWriter:
    """Applies one statement's rows to one table and moves the touched partitions' versions."""

    def __init__(self, metastore: Metastore, store: DataStore, db_name: str, table: Table):
        self.metastore = metastore
        self.store = store
        self.db_name = db_name
        self.table = table

    def _check_writable(self) -> None:
        if self.table.state != "NORMAL":
            raise EmulatorError(f"Table {self.table.name}'s state is not NORMAL: {self.table.state}")
        if not self.table.has_data or self.table.kind != "OLAP":
            raise EmulatorError(f"Getting analyzing error. Detail message: The data of '{self.table.name}' "
                                "cannot be inserted because it is not an OLAP table.")

    def insert(self, select_sql: str, columns: list[str] | None, overwrite: bool = False,
               partitions: list[str] | None = None, temporary: bool = False) -> int:
        """`select_sql` is DuckDB SQL producing the rows in the order of `columns` (or all columns); `partitions`:
        the statement's `[TEMPORARY] PARTITION (..)` list, the only partitions rows may go to."""
        self._check_writable()
        table = self.table
        self.targets = None
        if partitions is not None:
            self.targets = []
            for name in partitions:
                partition = table.partition(name)
                if partition is None or partition.is_temp != temporary:
                    kind = "temp partition" if temporary else "partition"
                    raise EmulatorError(f"Getting analyzing error. Detail message: Unknown {kind} '{name}' in "
                                        f"table '{table.name}'.")
                self.targets.append(partition)
        targets = columns or [c.name for c in table.columns]
        for name in targets:
            if table.column(name) is None:
                raise EmulatorError(f"Getting analyzing error. Detail message: Unknown column '{name}' "
                                    f"in '{table.name}'.")
        con = self.store
        with con.lock:
            con.execute(f"CREATE OR REPLACE TEMP TABLE __src AS {select_sql}")
            width = len(con.execute("SELECT * FROM __src LIMIT 0").description)
            if width != len(targets):
                con.execute("DROP TABLE __src")
                raise EmulatorError("Getting analyzing error. Detail message: Column count doesn't match value "
                                    "count.")
            aliases = ", ".join(f"c{i}" for i in range(width))
            projection = []
            for column in table.columns:
                duck = sqltypes.to_duckdb(column.sr_type)
                if column.name in targets or column.name.lower() in [t.lower() for t in targets]:
                    index = [t.lower() for t in targets].index(column.name.lower())
                    projection.append(f"CAST(c{index} AS {duck}) AS {q(column.name)}")
                elif column.auto_increment:  # ids from the table's counter (LocalMetastore's tableIdToIncrementId)
                    start = max(table.auto_increment_id, 1)
                    rows = con.fetchall("SELECT count(*) FROM __src")[0][0]
                    table.auto_increment_id = start + rows
                    projection.append(f"CAST({start - 1} + row_number() OVER () AS {duck}) AS {q(column.name)}")
                elif column.default == "CURRENT_TIMESTAMP":
                    projection.append(f"CAST(now() AS {duck}) AS {q(column.name)}")
                elif column.default is not None:
                    projection.append(f"CAST('{column.default}' AS {duck}) AS {q(column.name)}")
                else:
                    projection.append(f"CAST(NULL AS {duck}) AS {q(column.name)}")
            con.execute(f"CREATE OR REPLACE TEMP TABLE __stage AS SELECT {', '.join(projection)} "
                        f"FROM __src AS s({aliases})")
            con.execute("DROP TABLE __src")
            try:
                return self._apply_stage(overwrite)
            finally:
                con.execute("DROP TABLE IF EXISTS __stage")

    def _apply_stage(self, overwrite: bool) -> int:
        table, con = self.table, self.store
        for column in table.columns:
            if not column.nullable:
                nulls = con.fetchall(f"SELECT count(*) FROM __stage WHERE {q(column.name)} IS NULL")[0][0]
                if nulls:
                    raise EmulatorError("Insert has filtered data in strict mode. The column "
                                        f"'{column.name}' is NOT NULL but got NULL values.")
        if table.partition_type == "EXPR" and getattr(self, "targets", None) is None:
            self._create_expression_partitions()
        route = route_expression(table, getattr(self, "targets", None))
        con.execute(f"CREATE OR REPLACE TEMP TABLE __routed AS SELECT *, {route} AS {PARTITION_COLUMN} "
                    "FROM __stage")
        try:
            unrouted = con.fetchall(f"SELECT count(*) FROM __routed WHERE {PARTITION_COLUMN} IS NULL")[0][0]
            if unrouted:
                raise EmulatorError("Insert has filtered data in strict mode. "
                                    f"{unrouted} row(s) have no partition to go to in table {table.name}.")
            touched = {name for (name,) in con.fetchall(f"SELECT DISTINCT {PARTITION_COLUMN} FROM __routed")}
            target = physical(table.id)
            if overwrite:
                replaced = getattr(self, "targets", None) or [p for p in table.partitions if not p.is_temp]
                names = ", ".join("'" + p.name.replace("'", "''") + "'" for p in replaced)
                con.execute(f"DELETE FROM {target} WHERE {PARTITION_COLUMN} IN ({names})")
                touched |= {p.name for p in replaced}
            elif table.keys_type in ("PRIMARY_KEYS", "UNIQUE_KEYS"):
                keys = [q(k) for k in table.key_columns]
                part = ", ".join(keys)
                con.execute("CREATE OR REPLACE TEMP TABLE __dedup AS SELECT * EXCLUDE (__seq) FROM "
                            "(SELECT *, row_number() OVER () AS __seq FROM __routed) "
                            f"QUALIFY row_number() OVER (PARTITION BY {part} ORDER BY __seq DESC) = 1")
                con.execute("DROP TABLE __routed")
                con.execute("ALTER TABLE __dedup RENAME TO __routed")
                match = " AND ".join(f"r.{k} IS NOT DISTINCT FROM {target}.{k}" for k in keys)
                replaced = con.fetchall(f"SELECT DISTINCT {PARTITION_COLUMN} FROM {target} WHERE EXISTS "
                                        f"(SELECT 1 FROM __routed r WHERE {match})")
                touched |= {name for (name,) in replaced}
                con.execute(f"DELETE FROM {target} WHERE EXISTS (SELECT 1 FROM __routed r WHERE {match})")
            count = con.fetchall("SELECT count(*) FROM __routed")[0][0]
            cols = ", ".join(q(c.name) for c in table.columns)
            con.execute(f"INSERT INTO {target} ({cols}, {PARTITION_COLUMN}) SELECT {cols}, {PARTITION_COLUMN} "
                        "FROM __routed")
            if table.keys_type == "AGG_KEYS":
                self._aggregate(touched)
        finally:
            con.execute("DROP TABLE IF EXISTS __routed")
        self.commit(touched)
        return count

    def _aggregate(self, partitions: set[str]) -> None:
        """AGGREGATE KEY tables keep one row per key: SUM/MIN/MAX/REPLACE/REPLACE_IF_NOT_NULL of the rest."""
        table, con = self.table, self.store
        target = physical(table.id)
        keys = [q(k) for k in table.key_columns]
        exprs = []
        for column in table.columns:
            name = q(column.name)
            if column.name in table.key_columns:
                exprs.append(name)
                continue
            latest_non_null = f"arg_max({name}, CASE WHEN {name} IS NULL THEN NULL ELSE rowid END)"
            function = {"SUM": f"sum({name})", "MIN": f"min({name})", "MAX": f"max({name})",
                        "REPLACE": f"arg_max({name}, rowid)", "REPLACE_IF_NOT_NULL": latest_non_null,
                        }.get((column.agg or "REPLACE").upper(), f"any_value({name})")
            exprs.append(f"CAST({function} AS {sqltypes.to_duckdb(column.sr_type)}) AS {name}")
        names = ", ".join("'" + p.replace("'", "''") + "'" for p in partitions)
        con.execute(f"CREATE OR REPLACE TEMP TABLE __agg AS SELECT {', '.join(exprs)}, {PARTITION_COLUMN} "
                    f"FROM {target} WHERE {PARTITION_COLUMN} IN ({names}) "
                    f"GROUP BY {', '.join(keys)}, {PARTITION_COLUMN}")
        cols = ", ".join(q(c.name) for c in table.columns)
        con.execute(f"DELETE FROM {target} WHERE {PARTITION_COLUMN} IN ({names})")
        con.execute(f"INSERT INTO {target} ({cols}, {PARTITION_COLUMN}) SELECT {cols}, {PARTITION_COLUMN} "
                    "FROM __agg")
        con.execute("DROP TABLE __agg")

    def _create_expression_partitions(self) -> None:
        table, con = self.table, self.store
        route = route_expression(table)
        existing = {p.name for p in table.partitions}
        col = table.column(table.partition_columns[0])
        if table.partition_function:
            unit = table.partition_function
            rows = con.fetchall(f"SELECT DISTINCT {route}, date_trunc('{unit}', {q(col.name)}) FROM __stage "
                                f"WHERE {q(col.name)} IS NOT NULL")
            for name, start in sorted(rows, key=lambda r: r[0]):
                if name in existing:
                    continue
                moment = dt.datetime.combine(start, dt.time()) if not isinstance(start, dt.datetime) else start
                is_date = sqltypes.base_name(col.sr_type) == "DATE"
                fmt = "%Y-%m-%d" if is_date else "%Y-%m-%d %H:%M:%S"
                table.partitions.append(self.metastore.new_partition(
                    name, table.buckets, table=table, lower=[moment.strftime(fmt)],
                    upper=[add_unit(moment, unit).strftime(fmt)]))
                existing.add(name)
        else:
            cols = ", ".join(f"CAST({q(c)} AS VARCHAR)" for c in table.partition_columns)
            for row in sorted(con.fetchall(f"SELECT DISTINCT {route}, {cols} FROM __stage"), key=lambda r: str(r[0])):
                name, values = row[0], [v for v in row[1:]]
                if name is None or name in existing:
                    continue
                table.partitions.append(self.metastore.new_partition(name, table.buckets, table=table,
                                                                   values=[values]))
                existing.add(name)

    def delete(self, rewriter: Rewriter, where: exp.Expression | None, partitions: list[str] | None = None) -> int:
        self._check_writable()
        condition = where_sql(rewriter, where)
        if partitions:
            for name in partitions:
                if self.table.partition(name) is None:
                    raise EmulatorError(f"Getting analyzing error. Detail message: Unknown partition '{name}' in "
                                        f"table '{self.table.name}'.")
            names = ", ".join("'" + n.replace("'", "''") + "'" for n in partitions)
            condition = f"({condition}) AND {PARTITION_COLUMN} IN ({names})"
        target = physical(self.table.id)
        alias = q(self.table.name)
        with self.store.lock:
            touched = self.store.fetchall(f"SELECT {PARTITION_COLUMN}, count(*) FROM {target} AS {alias} "
                                          f"WHERE {condition} GROUP BY 1")
            self.store.execute(f"DELETE FROM {target} AS {alias} WHERE {condition}")
        self.commit({name for name, _ in touched} or self._all_names())
        return sum(count for _, count in touched)

    def update(self, rewriter: Rewriter, tree: exp.Update) -> int:
        self._check_writable()
        if self.table.keys_type != "PRIMARY_KEYS":
            raise EmulatorError("Getting analyzing error. Detail message: does not support update on "
                                f"non-primary-key table {self.table.name}.")
        condition = where_sql(rewriter, tree.args.get("where"))
        target = physical(self.table.id)
        alias = q(self.table.name)
        sets = []
        for assignment in tree.expressions:
            wrapper = rewriter.rewrite(exp.select(assignment.expression.copy()))
            sets.append(f"{q(assignment.this.name)} = {wrapper.expressions[0].sql(dialect='duckdb')}")
        with self.store.lock:
            touched = self.store.fetchall(f"SELECT {PARTITION_COLUMN}, count(*) FROM {target} AS {alias} "
                                          f"WHERE {condition} GROUP BY 1")
            self.store.execute(f"UPDATE {target} AS {alias} SET {', '.join(sets)} WHERE {condition}")
        self.commit({name for name, _ in touched} or self._all_names())
        return sum(count for _, count in touched)

    def truncate(self, partitions: list[str] | None) -> None:
        """Fresh partitions (new ids) in place of the named ones or of every formal one; truncating the whole table
        drops its temporary partitions (`LocalMetastore.truncateTableInternal`: `dropAllTempPartitions`)."""
        table = self.table
        if not partitions:
            for temp in [p for p in table.partitions if p.is_temp]:
                self.store.execute(f"DELETE FROM {physical(table.id)} WHERE {PARTITION_COLUMN} = ?", [temp.name])
                table.partitions.remove(temp)
        names = partitions or [p.name for p in table.partitions]
        for name in names:
            old = table.partition(name)
            if old is None or old.is_temp:
                raise EmulatorError(f"Getting analyzing error. Detail message: Partition '{name}' does not "
                                    f"exist in table '{table.name}'.")
            self.store.execute(f"DELETE FROM {physical(table.id)} WHERE {PARTITION_COLUMN} = ?", [name])
            fresh = self.metastore.new_partition(name, table.buckets, table=table, lower=old.lower, upper=old.upper,
                                               values=old.values)
            table.partitions[table.partitions.index(old)] = fresh

    def _all_names(self) -> set[str]:
        return {p.name for p in self.table.partitions[:1]}

    def commit(self, touched: set[str]) -> None:
        """One committed transaction: +1 visible version on each touched partition, fresh row counts."""
        now = time.time()
        for partition in self.table.partitions:
            if partition.name in touched:
                partition.visible_version += 1
                partition.visible_version_time = now
        refresh_stats(self.store, self.table)


def refresh_stats(store: DataStore, table: Table) -> None:
    stats = store.partition_stats(table)
    width = sum(sqltypes.row_width(sqltypes.to_duckdb(c.sr_type)) for c in table.columns)
    for partition in table.partitions:
        partition.row_count = stats.get(partition.name, 0)
        partition.data_size = partition.row_count * width


def insert_statement(rewriter: Rewriter, tree: exp.Insert) -> tuple[str | None, str, list[str] | None, str, bool]:
    """(db, table, columns, DuckDB SELECT of the rows, overwrite) of an INSERT."""
    target = tree.this
    columns = None
    if isinstance(target, exp.Schema):
        columns = [c.name for c in target.expressions]
        target = target.this
    source = tree.expression
    if isinstance(source, exp.Values):
        select_sql = to_duckdb(rewriter.rewrite(exp.select("*").from_(source.copy())))
    else:
        select_sql = to_duckdb(rewriter.rewrite(source.copy()))
    overwrite = bool(tree.args.get("overwrite"))
    return (target.db or None), target.name, columns, select_sql, overwrite


def insert_values_source(sql: str) -> exp.Expression:
    return parse(sql)
