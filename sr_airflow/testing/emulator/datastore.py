"""Row storage in DuckDB: one table `t_<tableId>` per table or async MV, with a `__sr_partition` column."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb

from . import sqltypes
from .metastore import Table

PARTITION_COLUMN = "__sr_partition"


# HLL, BITMAP and PERCENTILE columns are stored as BLOBs: the functions that make their values for a load give the
# value's text as bytes (the emulator keeps no sketch; a count of them is not StarRocks' estimate).
_SKETCH_MACROS = [
    "CREATE OR REPLACE TEMP MACRO hll_hash(x) AS CAST(CAST(x AS VARCHAR) AS BLOB)",
    "CREATE OR REPLACE TEMP MACRO hll_empty() AS CAST('' AS BLOB)",
    "CREATE OR REPLACE TEMP MACRO to_bitmap(x) AS CAST(CAST(x AS VARCHAR) AS BLOB)",
    "CREATE OR REPLACE TEMP MACRO bitmap_empty() AS CAST('' AS BLOB)",
    "CREATE OR REPLACE TEMP MACRO bitmap_hash(x) AS CAST(CAST(hash(x) AS VARCHAR) AS BLOB)",
    "CREATE OR REPLACE TEMP MACRO percentile_hash(x) AS CAST(CAST(x AS VARCHAR) AS BLOB)",
    "CREATE OR REPLACE TEMP MACRO percentile_empty() AS CAST('' AS BLOB)",
]


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def physical(table_id: int) -> str:
    return f"t_{table_id}"


class DataStore:
    """A DuckDB database file used by one thread at a time (callers hold `lock`)."""

    def __init__(self, path: Path):
        self.lock = threading.RLock()
        self.con = duckdb.connect(str(path))
        self.con.execute("SET preserve_insertion_order = false")
        for macro in _SKETCH_MACROS:
            self.con.execute(macro)

    def execute(self, sql: str, params: list | None = None):
        with self.lock:
            return self.con.execute(sql, params or [])

    def fetchall(self, sql: str, params: list | None = None) -> list[tuple]:
        with self.lock:
            return self.con.execute(sql, params or []).fetchall()

    def query(self, sql: str) -> tuple[list[tuple], list[str]]:
        with self.lock:
            cursor = self.con.execute(sql)
            rows = cursor.fetchall()
            names = [d[0] for d in cursor.description] if cursor.description else []
            return rows, names

    def create(self, table: Table) -> None:
        cols = ", ".join(f"{q(c.name)} {sqltypes.to_duckdb(c.sr_type)}" for c in table.columns)
        self.execute(f"CREATE OR REPLACE TABLE {physical(table.id)} ({cols}, {PARTITION_COLUMN} VARCHAR)")

    def create_like_query(self, table_id: int, select_sql: str, partition_name: str) -> list[tuple[str, str]]:
        """An async MV's storage from its query; returns (column, duckdb type) pairs."""
        with self.lock:
            self.con.execute(f"CREATE OR REPLACE TABLE {physical(table_id)} AS "
                             f"SELECT *, '{partition_name}' AS {PARTITION_COLUMN} FROM ({select_sql})")
            described = self.con.execute(f"DESCRIBE {physical(table_id)}").fetchall()
            return [(row[0], row[1]) for row in described if row[0] != PARTITION_COLUMN]

    def drop(self, table_id: int) -> None:
        self.execute(f"DROP TABLE IF EXISTS {physical(table_id)}")

    def user_columns(self, table: Table) -> str:
        return ", ".join(q(c.name) for c in table.columns)

    @staticmethod
    def parquet_columns(table: Table) -> str:
        """The columns as written to a tablet's Parquet file: Parquet has no 128-bit integer (DuckDB would write a
        HUGEINT as a DOUBLE, losing digits), so LARGEINT goes as its decimal text (read back by an INSERT's cast)."""
        return ", ".join(f"CAST({q(c.name)} AS VARCHAR) AS {q(c.name)}"
                         if sqltypes.to_duckdb(c.sr_type) == "HUGEINT" else q(c.name) for c in table.columns)

    def partition_stats(self, table: Table) -> dict[str, int]:
        rows = self.fetchall(f"SELECT {PARTITION_COLUMN}, count(*) FROM {physical(table.id)} GROUP BY 1")
        return {name: count for name, count in rows}

    def export_partitions(self, table: Table, parts: list[tuple[str, list[int], list[Path]]],
                          distribution: list[str]) -> None:
        """Write one Parquet file per tablet (bucket) of each `(partition, tablets, paths)`: one scan of the table
        into a temporary copy sorted by partition and bucket, so that each file's rows come from their own row
        groups (scanning the whole table once per partition made a 365-partition backup take minutes)."""
        cols = self.user_columns(table)
        by_count: dict[int, list[tuple[str, list[int], list[Path]]]] = {}
        for part in parts:
            by_count.setdefault(len(part[1]), []).append(part)
        with self.lock:
            for n, group in by_count.items():
                if n == 1:
                    bucket = "0"
                elif distribution:
                    bucket = f"hash({', '.join(q(c) for c in distribution)}) % {n}"
                else:
                    bucket = f"(row_number() OVER (PARTITION BY {PARTITION_COLUMN})) % {n}"
                names = [name for name, _, _ in group]
                marks = ", ".join("?" for _ in names)
                self.con.execute(f"CREATE OR REPLACE TEMP TABLE __export AS SELECT {cols}, {PARTITION_COLUMN}, "
                                 f"{bucket} AS __bucket FROM {physical(table.id)} WHERE {PARTITION_COLUMN} IN "
                                 f"({marks}) ORDER BY {PARTITION_COLUMN}, __bucket", names)
                for name, _, paths in group:
                    for index, path in enumerate(paths):
                        self.con.execute(f"COPY (SELECT {self.parquet_columns(table)} FROM __export WHERE "
                                         f"{PARTITION_COLUMN} = ? AND "
                                         f"__bucket = {index}) TO '{path}' (FORMAT parquet)", [name])
                self.con.execute("DROP TABLE __export")

    def export_index(self, table: Table, partition: str, columns: list[str], paths: list[Path]) -> None:
        """The tablets of a rollup / synchronous-MV index: the partition's rows of the index's base columns in the
        first tablet's Parquet file, the other tablets empty (a restore recomputes these indexes from the base
        index, so only their files, names and checksums matter)."""
        if not paths:
            return
        cols = ", ".join(q(c) for c in columns) or "1 AS __none"
        with self.lock:
            for index, path in enumerate(paths):
                limit = "" if index == 0 else " LIMIT 0"
                self.con.execute(f"COPY (SELECT {cols} FROM {physical(table.id)} WHERE {PARTITION_COLUMN} = ?"
                                 f"{limit}) TO '{path}' (FORMAT parquet)", [partition])

    def replace_partition(self, table: Table, partition: str, files: list[Path]) -> int:
        """Replace a partition's rows with the rows of Parquet files; returns the row count."""
        cols = self.user_columns(table)
        literal = partition.replace("'", "''")
        with self.lock:
            self.con.execute(f"DELETE FROM {physical(table.id)} WHERE {PARTITION_COLUMN} = ?", [partition])
            if files:
                paths = ", ".join(f"'{path}'" for path in files)
                self.con.execute(f"INSERT INTO {physical(table.id)} ({cols}, {PARTITION_COLUMN}) "
                                 f"SELECT {cols}, '{literal}' FROM read_parquet([{paths}])")
            return self.con.execute(f"SELECT count(*) FROM {physical(table.id)} WHERE {PARTITION_COLUMN} = ?",
                                    [partition]).fetchone()[0]

    def transaction(self):
        """BEGIN ... COMMIT (ROLLBACK on error) around a block, holding the lock."""
        store = self

        class _Transaction:
            def __enter__(self):
                store.lock.acquire()
                store.con.execute("BEGIN TRANSACTION")
                return store

            def __exit__(self, kind, value, traceback):
                try:
                    store.con.execute("ROLLBACK" if kind else "COMMIT")
                finally:
                    store.lock.release()

        return _Transaction()

    def close(self) -> None:
        with self.lock:
            self.con.close()
