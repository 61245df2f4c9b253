"""The one information_schema statement a plan reads per database, and its rows split back by tag. Pure Python.

Planning needs six information_schema tables of a database: ``partitions_meta`` (the planner's partition versions),
``materialized_views``, ``columns``, ``tables_config``, ``tables`` (the table comment) and ``views`` (the objects
census, ``engine/schema.py``).
They are read as one ``SELECT ... UNION ALL SELECT ...`` with a common projection: a literal tag, the table name,
a second name (partition or column; NULL for the others) and up to ``WIDTH`` values, each CAST to VARCHAR and padded
with NULLs. ``SHOW FULL FUNCTIONS`` cannot join it (``information_schema.routines`` is StarRocks' dummy scanner,
always empty: ``be/src/exec/schema_scanner/schema_dummy_scanner.cpp``), so a plan sends two statements per database
whatever the number of tables.

Why StarRocks answers it as the five reads would (fork turtacn/starrocks, 3.5 point e223275f78): each branch's
``information_schema`` table becomes its own ``PhysicalSchemaScanOperator``, and
``PlanFragmentBuilder.visitPhysicalSchemaScan`` makes one ``SchemaScanNode`` per scan with that scan's own
conjuncts (``TABLE_SCHEMA = ...`` also pushed into the scan as ``setSchemaDb``; ``DB_NAME`` stays a conjunct);
``QueryAnalyzer.analyzeSetOperation`` names the result's columns after the first SELECT and types each column as
``TypeManager.getCommonSuperType`` of the branches' (all VARCHAR here). StarRocks' own tests read several
information_schema tables in one statement (``test/sql/test_information_schema/T/test_tables``: a join of
``tables`` and ``tables_config``) and plan a schema scan under a UNION ALL (``QueryQueueManagerTest
.testNeedCheckQueue``). The ORDER BY applies to the whole union (``analyzeOrderByClause`` over the set operation's
scope); columns are then put in ORDINAL_POSITION order here, since the position is text in the union.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.mv import MV_COLUMNS
from sr_airflow.engine.planner import PARTITIONS_META_COLUMNS
from sr_airflow.engine.quoting import quote_string
from sr_airflow.engine.schema import COLUMN_FIELDS, TABLE_CONFIG_FIELDS, TABLE_FIELDS, VIEW_FIELDS

WIDTH = 9  # the most values a branch carries (tables_config's)
OUTPUT_COLUMNS = ("ROW_TAG", "TABLE_NAME", "NAME", *(f"V{i}" for i in range(1, WIDTH + 1)))
# partitions_meta.IS_TEMP is a BOOLEAN: written as '1' / '0' rather than left to a BOOLEAN -> VARCHAR cast
_TEMP_FLAG = "CASE WHEN IS_TEMP THEN '1' ELSE '0' END"
_PARTITION_VALUES = PARTITIONS_META_COLUMNS[3:]  # after DB_NAME, TABLE_NAME, PARTITION_NAME


@dataclass(frozen=True)
class _Branch:
    """One information_schema table in the union: its rows become ``(tag, table, name, values...)``."""

    tag: str
    source: str
    database_column: str
    name_column: str | None
    values: tuple[str, ...]

    def select(self, database: str, first: bool) -> str:
        def expression(column: str) -> str:
            return _TEMP_FLAG if column == "IS_TEMP" else f"CAST({column} AS VARCHAR)"

        items = [quote_string(self.tag, argument="tag"), "TABLE_NAME",
                 self.name_column or "CAST(NULL AS VARCHAR)"]
        items += [expression(c) for c in self.values] + ["CAST(NULL AS VARCHAR)"] * (WIDTH - len(self.values))
        if first:
            items = [item if item == name else f"{item} AS {name}" for item, name in zip(items, OUTPUT_COLUMNS,
                                                                                         strict=True)]
        return (f"SELECT {', '.join(items)} FROM information_schema.{self.source} "  # noqa: S608
                f"WHERE {self.database_column} = {quote_string(database, argument='database')}")


BRANCHES = (
    _Branch("partition", "partitions_meta", "DB_NAME", "PARTITION_NAME", _PARTITION_VALUES),
    _Branch("materialized_view", "materialized_views", "TABLE_SCHEMA", None, MV_COLUMNS[1:]),
    _Branch("column", "columns", "TABLE_SCHEMA", "COLUMN_NAME", COLUMN_FIELDS[2:]),
    _Branch("table_config", "tables_config", "TABLE_SCHEMA", None, TABLE_CONFIG_FIELDS[1:]),
    _Branch("table", "tables", "TABLE_SCHEMA", None, TABLE_FIELDS[1:]),
    _Branch("view", "views", "TABLE_SCHEMA", None, VIEW_FIELDS[1:]),
)
_BY_TAG = {b.tag: b for b in BRANCHES}


def metadata_query(database: str) -> str:
    """The one information_schema statement of ``database`` (rows in ``OUTPUT_COLUMNS`` order)."""
    selects = [branch.select(database, first=index == 0) for index, branch in enumerate(BRANCHES)]
    return " UNION ALL ".join(selects) + " ORDER BY ROW_TAG, TABLE_NAME, NAME"


@dataclass(frozen=True)
class DatabaseMetadata:
    """The rows of ``metadata_query`` split back by tag, each in the column order of the single-table reads:
    ``partitions`` as ``PARTITIONS_META_COLUMNS`` (ids, versions and row counts as ints, IS_TEMP a bool, DB_NAME
    the database asked for), ``materialized_views`` as ``MV_COLUMNS``, ``columns`` as ``COLUMN_FIELDS`` (ordered by
    table and ORDINAL_POSITION, an int), ``tables_config`` as ``TABLE_CONFIG_FIELDS``, ``tables`` as
    ``TABLE_FIELDS``, ``views`` as ``VIEW_FIELDS``."""

    partitions: list[tuple] = field(default_factory=list)
    materialized_views: list[tuple] = field(default_factory=list)
    columns: list[tuple] = field(default_factory=list)
    tables_config: list[tuple] = field(default_factory=list)
    tables: list[tuple] = field(default_factory=list)
    views: list[tuple] = field(default_factory=list)

    def schema_rows(self) -> dict[str, list[tuple]]:
        """The rows ``schema.database_objects`` reads, by name (functions come from their own statement)."""
        return {"columns": self.columns, "tables_config": self.tables_config, "tables": self.tables,
                "views": self.views}


def split_metadata_rows(rows: Iterable[Sequence[Any]], database: str) -> DatabaseMetadata:
    """The rows of ``metadata_query(database)`` by tag (see ``DatabaseMetadata``)."""
    out = DatabaseMetadata()
    partitions, columns = out.partitions.append, out.columns.append
    others = {"materialized_view": out.materialized_views.append, "table_config": out.tables_config.append,
              "table": out.tables.append, "view": out.views.append}
    width = len(OUTPUT_COLUMNS)
    for row in rows:
        if len(row) != width:
            raise InvalidArgumentError(f"metadata row has {len(row)} values, not {width}: {row!r}.")
        tag = row[0]
        if tag == "partition":  # the many rows, in _PARTITION_VALUES order: one tuple built directly
            _, table, name, pid, version, time, count, size, temp, value = row[:10]
            partitions((database, table, name, _int(pid), _int(version), time, _int(count), size, temp == "1",
                        value))
        elif tag == "column":
            columns((row[1], row[2], _int(row[3]), *row[4:4 + len(_BY_TAG[tag].values) - 1]))
        elif tag in others:
            others[tag]((row[1], *row[3:3 + len(_BY_TAG[tag].values)]))
        else:
            raise InvalidArgumentError(f"metadata row of unknown tag {tag!r}: {row!r}.")
    out.columns.sort(key=lambda c: (c[0], c[2] if c[2] is not None else -1))
    return out


def _int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)
