"""CREATE TABLE in StarRocks' grammar: parsed into a metastore Table, and printed back for SHOW CREATE TABLE."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from . import sqltypes
from .errors import EmulatorError
from .metastore import Column, Partition, Table
from .tokens import Cursor

_KEYS = {"DUPLICATE": "DUP_KEYS", "AGGREGATE": "AGG_KEYS", "UNIQUE": "UNIQUE_KEYS", "PRIMARY": "PRIMARY_KEYS"}
_KEY_WORDS = {v: k for k, v in _KEYS.items()}
_AGGS = {"SUM", "MIN", "MAX", "REPLACE", "REPLACE_IF_NOT_NULL", "HLL_UNION", "BITMAP_UNION", "PERCENTILE_UNION"}
UNITS = {"day": ("%Y%m%d", 1), "month": ("%Y%m", 2), "year": ("%Y", 3), "hour": ("%Y%m%d%H", 0)}


@dataclass
class PartitionDef:
    name: str
    lower: list[str] | None = None
    upper: list[str] | None = None
    values: list[list[str]] = field(default_factory=list)
    less_than: bool = False


@dataclass
class TableDef:
    db: str | None
    name: str
    if_not_exists: bool
    table: Table  # ids not assigned yet
    partitions: list[PartitionDef]
    as_select: str = ""


def parse_type(cur: Cursor) -> str:
    start = cur.peek()
    cur.identifier()
    end = cur.tokens[cur.pos - 1].end
    if cur.at("("):
        _, close = cur.balanced()
        end = close + 1
    elif cur.peek() is not None and cur.peek().text == "<":
        depth = 0
        while True:
            token = cur.next()
            depth += {"<": 1, ">": -1}.get(token.text, 0) if token.kind == "op" else 0
            if depth == 0:
                end = token.end
                break
    return cur.sql[start.start:end]


def _column(cur: Cursor) -> Column:
    name = cur.identifier()
    sr_type = parse_type(cur)
    column = Column(name=name, sr_type=sr_type)
    while not (cur.done() or cur.at(",") or cur.at(")")):
        token = cur.peek()
        if token.upper in _AGGS:
            column.agg = cur.next().upper
        elif cur.accept("NOT", "NULL"):
            column.nullable = False
        elif cur.accept("NULL"):
            column.nullable = True
        elif cur.accept("AUTO_INCREMENT"):
            column.auto_increment = True
        elif cur.accept("KEY"):
            pass
        elif cur.accept("DEFAULT"):
            if cur.at("("):
                start, stop = cur.balanced()
                column.default = cur.sql[start:stop]
            elif cur.accept("CURRENT_TIMESTAMP"):
                column.default = "CURRENT_TIMESTAMP"
            else:
                column.default = cur.literal()
        elif cur.accept("COMMENT"):
            column.comment = cur.string()
        elif cur.accept("CHARSET") or cur.accept("CHARACTER", "SET") or cur.accept("COLLATE"):
            cur.identifier()
        else:
            cur.fail("a column attribute")
    return column


column_definition = _column  # ALTER TABLE ... ADD / MODIFY COLUMN read the same column definition


def _values(cur: Cursor) -> list[str]:
    cur.expect("(")
    values = [cur.literal()]
    while cur.accept(","):
        values.append(cur.literal())
    cur.expect(")")
    return values


def _partition_def(cur: Cursor, kind: str) -> PartitionDef:
    cur.expect("PARTITION")
    cur.accept("IF", "NOT", "EXISTS")
    name = cur.identifier()
    cur.expect("VALUES")
    if kind == "LIST":
        cur.expect("IN")
        cur.expect("(")
        items: list[list[str]] = []
        while True:
            items.append(_values(cur) if cur.at("(") else [cur.literal()])
            if cur.accept(")"):
                break
            cur.expect(",")
        return PartitionDef(name=name, values=items)
    if cur.accept("LESS", "THAN"):
        if cur.accept("MAXVALUE"):
            return PartitionDef(name=name, upper=None, less_than=True)
        upper = _values(cur)
        return PartitionDef(name=name, upper=None if upper == ["MAXVALUE"] else upper, less_than=True)
    cur.expect("[")
    lower = _values(cur)
    cur.expect(",")
    upper = _values(cur)
    cur.expect(")")
    return PartitionDef(name=name, lower=lower, upper=upper)


def _batch_partitions(cur: Cursor, column: Column) -> list[PartitionDef]:
    """START ("a") END ("b") EVERY (INTERVAL 1 DAY | n)."""
    cur.expect("START")
    start = _values(cur)[0]
    cur.expect("END")
    end = _values(cur)[0]
    cur.expect("EVERY")
    cur.expect("(")
    unit = None
    if cur.accept("INTERVAL"):
        step = int(cur.literal())
        unit = cur.identifier().lower()
    else:
        step = int(cur.literal())
    cur.expect(")")
    defs = []
    if unit is None:
        low, high = int(start), int(end)
        while low < high:
            defs.append(PartitionDef(name=f"p{low}", lower=[str(low)], upper=[str(min(low + step, high))]))
            low += step
        return defs
    fmt = UNITS.get(unit, UNITS["day"])[0]
    low = dt.datetime.fromisoformat(start if len(start) > 10 else start + " 00:00:00")
    high = dt.datetime.fromisoformat(end if len(end) > 10 else end + " 00:00:00")
    is_date = sqltypes.base_name(column.sr_type) == "DATE"
    while low < high:
        nxt = add_unit(low, unit, step)
        def text(d):
            return (d.strftime("%Y-%m-%d") if is_date else d.strftime("%Y-%m-%d %H:%M:%S"))
        defs.append(PartitionDef(name="p" + low.strftime(fmt), lower=[text(low)], upper=[text(min(nxt, high))]))
        low = nxt
    return defs


def add_unit(moment: dt.datetime, unit: str, step: int = 1) -> dt.datetime:
    if unit == "hour":
        return moment + dt.timedelta(hours=step)
    if unit == "day":
        return moment + dt.timedelta(days=step)
    if unit == "week":
        return moment + dt.timedelta(weeks=step)
    months = moment.month - 1 + step * (12 if unit == "year" else 1)
    return moment.replace(year=moment.year + months // 12, month=months % 12 + 1, day=1)


def parse_create_table(cur: Cursor) -> TableDef:
    """Parse after `CREATE TABLE`."""
    if_not_exists = cur.accept("IF", "NOT", "EXISTS")
    parts = cur.qualified()
    db, name = (parts[-2] if len(parts) > 1 else None), parts[-1]
    table = Table(id=0, name=name, kind="OLAP")
    cur.expect("(")
    while True:
        if cur.at("INDEX"):
            while not (cur.at(",") or cur.at(")")):
                if cur.at("("):
                    cur.balanced()
                else:
                    cur.next()
        else:
            table.columns.append(_column(cur))
        if cur.accept(")"):
            break
        cur.expect(",")
    defs: list[PartitionDef] = []
    as_select = ""
    while not cur.done():
        word = cur.peek().upper
        if cur.accept("ENGINE"):
            cur.expect("=")
            cur.identifier()
        elif word in _KEYS:
            cur.next()
            cur.expect("KEY")
            table.keys_type = _KEYS[word]
            start, stop = cur.balanced()
            table.key_columns = [c.strip().strip("`") for c in cur.sql[start:stop].split(",")]
        elif cur.accept("COMMENT"):
            table.comment = cur.string()
        elif cur.accept("PARTITION", "BY"):
            defs = _partition_by(cur, table)
        elif cur.accept("DISTRIBUTED", "BY"):
            if cur.accept("RANDOM"):
                table.distribution = "RANDOM"
            else:
                cur.expect("HASH")
                start, stop = cur.balanced()
                table.distribution_columns = [c.strip().strip("`") for c in cur.sql[start:stop].split(",")]
            if cur.accept("BUCKETS"):
                table.buckets = int(cur.literal())
        elif cur.accept("ORDER", "BY"):
            cur.balanced()
        elif cur.accept("PROPERTIES"):
            table.properties = cur.properties()
        elif cur.accept("AS"):
            as_select = cur.rest_text()
        else:
            cur.fail("PARTITION BY, DISTRIBUTED BY, PROPERTIES")
    if not table.key_columns and table.columns:
        table.key_columns = [table.columns[0].name]
    for key in table.key_columns:
        if table.column(key) is None:
            raise EmulatorError(f"Getting analyzing error. Detail message: Key column '{key}' does not exist "
                                f"in table '{name}'.")
    if table.keys_type == "DUP_KEYS" and not table.distribution_columns and table.distribution == "HASH":
        table.distribution = "RANDOM"
    if not table.distribution_columns and table.distribution == "HASH":
        table.distribution_columns = list(table.key_columns)
    return TableDef(db=db, name=name, if_not_exists=if_not_exists, table=table, partitions=defs,
                    as_select=as_select)


def _partition_by(cur: Cursor, table: Table) -> list[PartitionDef]:
    if cur.accept("RANGE") or cur.accept("LIST"):
        kind = cur.tokens[cur.pos - 1].upper
        table.partition_type = kind
        start, stop = cur.balanced()
        table.partition_columns = [c.strip().strip("`") for c in cur.sql[start:stop].split(",")]
        cur.expect("(")
        defs: list[PartitionDef] = []
        if cur.at(")"):
            cur.next()
            return defs
        while True:
            if cur.at("START"):
                defs.extend(_batch_partitions(cur, table.column(table.partition_columns[0])))
            else:
                defs.append(_partition_def(cur, kind))
            if cur.accept(")"):
                return defs
            cur.expect(",")
    table.partition_type = "EXPR"
    if cur.at("DATE_TRUNC") or cur.at("TIME_SLICE"):
        fn = cur.next().upper
        cur.expect("(")
        if fn == "DATE_TRUNC":
            unit = cur.string().lower()
            cur.expect(",")
            column = cur.identifier()
        else:
            column = cur.identifier()
            cur.expect(",")
            cur.expect("INTERVAL")
            cur.literal()
            unit = cur.identifier().lower()
        cur.expect(")")
        if unit not in UNITS:
            raise EmulatorError(f"Getting analyzing error. Detail message: Unsupported date_trunc unit: {unit}.")
        table.partition_function = unit
        table.partition_columns = [column]
        return []
    wrapped = cur.accept("(")
    columns = [cur.identifier()]
    while cur.accept(","):
        columns.append(cur.identifier())
    if wrapped:
        cur.expect(")")
    table.partition_columns = columns
    return []


def resolve_partitions(table: Table, defs: list[PartitionDef]) -> list[PartitionDef]:
    """Fill LESS THAN lower bounds (the previous upper bound) and check the names are unique."""
    seen: set[str] = set()
    if table.partition_type == "RANGE":
        col_type = table.column(table.partition_columns[0]).sr_type
        def key(d):
            return ((d.upper is None, sqltypes.python_value(d.upper[0], col_type) if d.upper else 0))
        previous: list[str] | None = None
        for d in sorted([d for d in defs if d.less_than], key=key):
            d.lower = previous
            previous = d.upper
    for d in defs:
        if d.name in seen:
            raise EmulatorError(f"Getting analyzing error. Detail message: Duplicate partition name {d.name}.")
        seen.add(d.name)
    return defs


# -- printing
def _q(name: str) -> str:
    return f"`{name}`"


def column_sql(column: Column) -> str:
    parts = [_q(column.name), column.sr_type]
    if column.agg:
        parts.append(column.agg)
    parts.append("NULL" if column.nullable else "NOT NULL")
    if column.auto_increment:
        parts.append("AUTO_INCREMENT")
    if column.default is not None:
        parts.append("DEFAULT CURRENT_TIMESTAMP" if column.default == "CURRENT_TIMESTAMP"
                     else f'DEFAULT "{column.default}"')
    parts.append(f'COMMENT "{column.comment}"')
    return " ".join(parts)


def _bound(values: list[str]) -> str:
    return "(" + ", ".join(f'"{v}"' for v in values) + ")"


def partition_clause(table: Table) -> str:
    cols = ", ".join(_q(c) for c in table.partition_columns)
    if table.partition_type == "EXPR":
        if table.partition_function:
            return f"PARTITION BY date_trunc('{table.partition_function}', {cols})"
        return f"PARTITION BY ({cols})"
    if table.partition_type == "RANGE":
        items = []
        for p in table.partitions:
            lower = _bound(p.lower) if p.lower else "(" + '"' + sqltypes.min_value(
                table.column(table.partition_columns[0]).sr_type) + '")'
            upper = _bound(p.upper) if p.upper else "(MAXVALUE)"
            items.append(f"PARTITION {p.name} VALUES [{lower}, {upper})")
        return f"PARTITION BY RANGE({cols})\n(" + ",\n".join(items) + ")"
    if table.partition_type == "LIST":
        items = []
        for p in table.partitions:
            vals = ", ".join(_bound(v) if len(v) > 1 else f'"{v[0]}"' for v in p.values)
            items.append(f"PARTITION {p.name} VALUES IN ({vals})")
        return f"PARTITION BY LIST({cols})(\n" + ",\n".join(items) + ")"
    return ""


def create_table_sql(table: Table) -> str:
    lines = [f"CREATE TABLE {_q(table.name)} ("]
    lines.append(",\n".join("  " + column_sql(c) for c in table.columns))
    lines.append(") ENGINE=OLAP")
    lines.append(f"{_KEY_WORDS[table.keys_type]} KEY(" + ", ".join(_q(c) for c in table.key_columns) + ")")
    if table.comment:
        lines.append(f'COMMENT "{table.comment}"')
    clause = partition_clause(table)
    if clause:
        lines.append(clause)
    if table.distribution == "RANDOM":
        lines.append(f"DISTRIBUTED BY RANDOM BUCKETS {table.buckets}")
    else:
        lines.append("DISTRIBUTED BY HASH(" + ", ".join(_q(c) for c in table.distribution_columns)
                     + f") BUCKETS {table.buckets}")
    # OlapTable.getCommonProperties: the table's replication_num, 3 (Config.default_replication_num) when never set
    props = {"replication_num": str(table.replication_num), **table.properties}
    lines.append("PROPERTIES (\n" + ",\n".join(f'"{k}" = "{v}"' for k, v in props.items()) + "\n);")
    return "\n".join(lines)


def schema_signature(table: Table) -> list[tuple]:
    """What must match for a restore to overwrite an existing table: names, StarRocks types (`DECIMAL(10,2)` and
    `DECIMAL64(10,2)` are one type; a VARCHAR length or decimal scale is not) and aggregates."""
    def type_key(column) -> str:
        try:
            return json.dumps(sqltypes.gson_type(sqltypes.parse_type(column.sr_type, column.agg)), sort_keys=True)
        except ValueError:
            return column.sr_type.upper().replace(" ", "")

    return [(c.name, type_key(c), (c.agg or "").upper() or None) for c in table.columns]


def new_partition_from_def(metastore, table: Table, d: PartitionDef) -> Partition:
    return metastore.new_partition(d.name, table.buckets, table=table, lower=d.lower, upper=d.upper, values=d.values)
