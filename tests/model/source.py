"""The source database the state machine changes: its tables (range-partitioned by day, duplicate-key or
primary-key), views and functions as plain Python state, and the statements that change them. The model never
predicts content: it reads it back (``content.py``); this state only says which changes are valid next."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sr_airflow.engine.quoting import quote_identifier as qi
from sr_airflow.engine.quoting import quote_string as qs

DAY0 = dt.date(2024, 1, 1)
KEYS = ("DUPLICATE", "PRIMARY")
VALUE_TYPES = ("INT", "VARCHAR(16)", "BIGINT", "DOUBLE")


def day(offset: int) -> dt.date:
    return DAY0 + dt.timedelta(days=offset)


def partition_name(offset: int) -> str:
    return f"p{day(offset):%Y%m%d}"


def partition_clause(offset: int) -> str:
    return f"PARTITION {partition_name(offset)} VALUES [('{day(offset)}'), ('{day(offset + 1)}'))"


def literal(sql_type: str, n: int) -> str:
    if sql_type.startswith("VARCHAR"):
        return qs(f"s{n}")
    if sql_type == "DOUBLE":
        return f"{n}.5"
    return str(n)


@dataclass
class SourceTable:
    key: str
    days: set[int]
    values: list[tuple[str, str]] = field(default_factory=lambda: [("v", "VARCHAR(16)")])  # after id and day
    ids: list[int] = field(default_factory=list)  # ids inserted so far (primary-key tables upsert on reuse)
    column_names: int = 0  # numbering of added columns

    @property
    def partition_names(self) -> list[str]:
        return [partition_name(d) for d in sorted(self.days)]


class Source:
    """Statements on database ``database`` through ``sql`` (runs one statement)."""

    def __init__(self, database: str, sql):
        self.database = database
        self.sql = sql
        self.tables: dict[str, SourceTable] = {}
        self.views: set[str] = set()
        self.functions: set[str] = set()
        self._names = 0
        self._rows = 0

    def _name(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}{self._names}"

    def _table(self, name: str) -> str:
        return f"{qi(self.database)}.{qi(name)}"

    # ---- tables and partitions
    def create_table(self, key: str, days: list[int]) -> str:
        name = self._name("t")
        key_clause = "DUPLICATE KEY(id)" if key == "DUPLICATE" else "PRIMARY KEY(id, day)"
        not_null = " NOT NULL" if key == "PRIMARY" else ""
        self.sql(f"CREATE TABLE {self._table(name)} (id INT{not_null}, day DATE{not_null}, v VARCHAR(16)) "
                 f"{key_clause} PARTITION BY RANGE(day) ({', '.join(partition_clause(d) for d in sorted(days))}) "
                 "DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES (\"replication_num\" = \"1\")")
        self.tables[name] = SourceTable(key, set(days))
        return name

    def drop_table(self, name: str) -> None:
        self.sql(f"DROP TABLE {self._table(name)}")
        del self.tables[name]

    def add_partition(self, name: str, offset: int) -> None:
        self.sql(f"ALTER TABLE {self._table(name)} ADD {partition_clause(offset)}")
        self.tables[name].days.add(offset)

    def drop_partition(self, name: str, offset: int) -> None:
        self.sql(f"ALTER TABLE {self._table(name)} DROP PARTITION {qi(partition_name(offset))}")
        self.tables[name].days.discard(offset)

    # ---- rows
    def insert(self, name: str, offset: int, rows: int, reuse: bool) -> None:
        table = self.tables[name]
        values = []
        for i in range(rows):
            if reuse and table.ids and table.key == "PRIMARY":
                row_id = table.ids[i % len(table.ids)]
            else:
                self._rows += 1
                row_id = self._rows
                table.ids.append(row_id)
            self._rows += 1
            cells = [str(row_id), f"'{day(offset)}'", *(literal(t, self._rows) for _, t in table.values)]
            values.append(f"({', '.join(cells)})")
        columns = ", ".join(qi(c) for c in ["id", "day", *(c for c, _ in table.values)])
        self.sql(f"INSERT INTO {self._table(name)} ({columns}) VALUES {', '.join(values)}")

    def delete_some(self, name: str, offset: int) -> None:
        self.sql(f"DELETE FROM {self._table(name)} PARTITION {qi(partition_name(offset))} WHERE id % 2 = 0")

    def truncate_partition(self, name: str, offset: int) -> None:
        self.sql(f"TRUNCATE TABLE {self._table(name)} PARTITION ({qi(partition_name(offset))})")

    # ---- schema changes
    def add_column(self, name: str, sql_type: str) -> None:
        table = self.tables[name]
        table.column_names += 1
        column = f"c{table.column_names}"
        self.sql(f"ALTER TABLE {self._table(name)} ADD COLUMN {qi(column)} {sql_type} DEFAULT \"0\"")
        table.values.append((column, sql_type))

    def drop_column(self, name: str, column: str) -> None:
        self.sql(f"ALTER TABLE {self._table(name)} DROP COLUMN {qi(column)}")
        table = self.tables[name]
        table.values = [(c, t) for c, t in table.values if c != column]

    def rename_column(self, name: str, column: str) -> None:
        table = self.tables[name]
        table.column_names += 1
        new = f"c{table.column_names}"
        self.sql(f"ALTER TABLE {self._table(name)} RENAME COLUMN {qi(column)} TO {qi(new)}")
        table.values = [(new if c == column else c, t) for c, t in table.values]

    def set_comment(self, name: str, comment: str) -> None:
        self.sql(f"ALTER TABLE {self._table(name)} COMMENT = {qs(comment)}")

    # ---- views and functions
    def create_view(self, table: str) -> str:
        name = self._name("v")
        self.sql(f"CREATE VIEW {self._table(name)} AS SELECT id, day FROM {qi(table)} WHERE id > {self._names}")
        self.views.add(name)
        return name

    def drop_view(self, name: str) -> None:
        self.sql(f"DROP VIEW {self._table(name)}")
        self.views.discard(name)

    def create_function(self) -> str:
        name = self._name("f")
        self.sql(f"CREATE FUNCTION {self._table(name)}(INT) RETURNS INT PROPERTIES (\"symbol\" = \"Model{name}\", "
                 "\"type\" = \"StarrocksJar\", \"file\" = \"http://127.0.0.1:1/udf.jar\")")
        self.functions.add(name)
        return name

    def drop_function(self, name: str) -> None:
        self.sql(f"DROP FUNCTION {self._table(name)}(INT)")
        self.functions.discard(name)
