"""What a database holds, as the model compares it: per table its columns (name and type, in order), its row
count and an order-independent checksum of its rows; views by name and definition; functions by signature.

Read over the MySQL protocol from any cluster (the source emulator, or the database a restore wrote), so a source
moment and a restored database compare as plain values."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sr_airflow.engine.quoting import quote_identifier, quote_string


@dataclass(frozen=True)
class TableContent:
    columns: tuple[tuple[str, str], ...]
    comment: str
    rows: int
    checksum: int
    sample: tuple[str, ...] = field(default=(), compare=False)  # the sorted rows, for a readable failure


@dataclass(frozen=True)
class DatabaseContent:
    tables: dict[str, TableContent]
    views: dict[str, str]
    functions: tuple[str, ...]

    def differences(self, other: DatabaseContent) -> list[str]:
        """What ``other`` (the restored database) gets wrong, one line per difference; empty when equal."""
        out = []
        for name in sorted(set(self.tables) | set(other.tables)):
            mine, theirs = self.tables.get(name), other.tables.get(name)
            if mine is None or theirs is None:
                out.append(f"table {name}: expected {'absent' if mine is None else 'present'}, restored "
                           f"{'absent' if theirs is None else 'present'}")
            elif mine != theirs:
                out.append(f"table {name}: expected {_describe(mine)}, restored {_describe(theirs)}; rows only "
                           f"expected {sorted(set(mine.sample) - set(theirs.sample))[:8]}, rows only restored "
                           f"{sorted(set(theirs.sample) - set(mine.sample))[:8]}")
        if self.views != other.views:
            out.append(f"views: expected {self.views}, restored {other.views}")
        if self.functions != other.functions:
            out.append(f"functions: expected {list(self.functions)}, restored {list(other.functions)}")
        return out


def _describe(table: TableContent) -> str:
    return f"columns {list(table.columns)} comment {table.comment!r} rows={table.rows} checksum={table.checksum}"


def row_hash(row: tuple) -> int:
    """A 64-bit hash of a row's text; the table checksum is their sum modulo 2**64 (order-independent)."""
    return int.from_bytes(hashlib.blake2b(repr(row).encode(), digest_size=8).digest(), "big")


def read_content(cursor, database: str) -> DatabaseContent:
    """The content of ``database`` through ``cursor`` (a DB-API cursor on the cluster)."""
    db = quote_string(database)
    cursor.execute("SELECT TABLE_NAME, TABLE_TYPE, TABLE_COMMENT FROM information_schema.tables WHERE TABLE_SCHEMA = "
                   + db)
    kinds, comments = {}, {}
    for name, kind, comment in cursor.fetchall():
        kinds[name], comments[name] = kind, comment or ""
    cursor.execute("SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, ORDINAL_POSITION FROM information_schema.columns "
                   "WHERE TABLE_SCHEMA = " + db)
    columns: dict[str, list[tuple[int, str, str]]] = {}
    for table, column, column_type, position in cursor.fetchall():
        columns.setdefault(table, []).append((int(position), column, column_type))
    tables = {}
    for name, kind in sorted(kinds.items()):
        if kind != "BASE TABLE":
            continue
        cursor.execute(f"SELECT * FROM {quote_identifier(database)}.{quote_identifier(name)}")
        rows = [tuple(r) for r in cursor.fetchall()]
        tables[name] = TableContent(
            columns=tuple((c, t) for _, c, t in sorted(columns.get(name, []))),
            comment=comments[name],
            rows=len(rows),
            checksum=sum(row_hash(r) for r in rows) % 2**64,
            sample=tuple(sorted(repr(r) for r in rows)),
        )
    cursor.execute("SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.views WHERE TABLE_SCHEMA = " + db)
    views = {name: " ".join(str(definition).split()) for name, definition in cursor.fetchall()}
    cursor.execute(f"SHOW FULL FUNCTIONS FROM {quote_identifier(database)}")
    functions = tuple(sorted(str(row[0]) for row in cursor.fetchall()))
    return DatabaseContent(tables, views, functions)
