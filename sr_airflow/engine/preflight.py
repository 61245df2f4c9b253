"""Checks made before a BACKUP or RESTORE is sent, so a refusal comes early, whole and clear. Pure Python.

- the cluster runs shared-nothing (shared-data clusters cannot BACKUP / RESTORE);
- a RESTORE target: tables that already exist are refused unless overwriting is allowed, and refused whatever the
  setting when their schema differs from the snapshot's (StarRocks itself finds that only late, in the job).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sr_airflow.engine.errors import RestoreRefusedError, UnsupportedByServerError

SHOW_RUN_MODE = "ADMIN SHOW FRONTEND CONFIG LIKE 'run_mode'"
COLUMNS_QUERY_COLUMNS = ("TABLE_NAME", "COLUMN_NAME", "ORDINAL_POSITION", "COLUMN_TYPE")


def check_run_mode(columns: Sequence[str], rows: Sequence[Sequence[object]], *, server: str) -> None:
    """Refuse a shared-data cluster, from ``ADMIN SHOW FRONTEND CONFIG LIKE 'run_mode'``."""
    names = [c.lower() for c in columns]
    for row in rows:
        record = dict(zip(names, row, strict=False))
        value = str(record.get("value") or "").strip().lower()
        if str(record.get("key") or "").lower() == "run_mode" and value == "shared_data":
            raise UnsupportedByServerError(
                f"StarRocks at {server} runs in shared-data mode, which has no BACKUP or RESTORE; use its cluster "
                "snapshots instead.")


@dataclass(frozen=True)
class ColumnDef:
    name: str
    type: str

    @property
    def normalised(self) -> tuple[str, str]:
        return (self.name.lower(), "".join(self.type.lower().split()))


def columns_query(database: str, tables: Sequence[str]) -> str:
    """information_schema.columns of ``tables`` in ``database``, in ``COLUMNS_QUERY_COLUMNS`` order."""
    from sr_airflow.engine.quoting import quote_string

    names = ", ".join(quote_string(t, argument="table") for t in tables)
    return (f"SELECT {', '.join(COLUMNS_QUERY_COLUMNS)} FROM information_schema.columns "  # noqa: S608
            f"WHERE TABLE_SCHEMA = {quote_string(database, argument='database')} AND TABLE_NAME IN ({names}) "
            "ORDER BY TABLE_NAME, ORDINAL_POSITION")


def parse_columns(rows: Sequence[Sequence[object]]) -> dict[str, list[ColumnDef]]:
    out: dict[str, list[tuple[int, ColumnDef]]] = {}
    for table, column, position, column_type in rows:
        out.setdefault(str(table), []).append((int(position or 0), ColumnDef(str(column), str(column_type))))
    return {t: [c for _, c in sorted(cols, key=lambda x: x[0])] for t, cols in out.items()}


def parse_backup_meta(data: bytes) -> dict[str, list[ColumnDef]]:
    """The columns of each table in a snapshot's ``__meta`` file (4-byte big-endian length, then JSON).

    Reads ``columns`` entries with ``name`` and ``sr_type``/``type`` (the emulator), or StarRocks' GSON
    ``fullSchema`` / ``baseSchema`` entries with ``name`` and ``type``.
    """
    if len(data) >= 4:
        (length,) = struct.unpack(">I", data[:4])
        body = data[4:4 + length] if length <= len(data) - 4 else data
    else:
        body = data
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        doc = json.loads(data)
    tables = doc.get("tblNameMap") or {}
    return {name: _meta_columns(body) for name, body in tables.items() if isinstance(body, Mapping)}


def _meta_columns(table: Mapping) -> list[ColumnDef]:
    raw = table.get("columns") or table.get("fullSchema") or table.get("baseSchema") or []
    out = []
    for col in raw:
        if not isinstance(col, Mapping):
            continue
        kind = col.get("sr_type") or col.get("type") or ""
        if isinstance(kind, Mapping):
            kind = kind.get("type") or kind.get("typeName") or json.dumps(kind, sort_keys=True)
        out.append(ColumnDef(str(col.get("name")), str(kind)))
    return out


def _same_schema(mine: Sequence[ColumnDef], theirs: Sequence[ColumnDef]) -> bool:
    if len(mine) != len(theirs):
        return False
    for a, b in zip(mine, theirs, strict=True):
        name_a, type_a = a.normalised
        name_b, type_b = b.normalised
        if name_a != name_b:
            return False
        # A StarRocks GSON type may carry only the base type name: compare what both sides state.
        if "(" in type_a and "(" in type_b:
            if type_a != type_b:
                return False
        elif type_a.split("(")[0] != type_b.split("(")[0]:
            return False
    return True


def check_restore_target(*, target_database: str, targets: Mapping[str, str],
                         existing: Mapping[str, Sequence[ColumnDef]],
                         snapshot_columns: Mapping[str, Sequence[ColumnDef]] | None,
                         allow_overwrite: bool) -> list[str]:
    """Refuse a RESTORE whose target tables already exist (unless ``allow_overwrite``) or differ in schema.

    ``targets`` maps each table of the snapshot to restore to its target name; ``existing`` holds the columns of
    the target tables that exist now; ``snapshot_columns`` the snapshot's columns (None: not readable, so the
    schema is not compared). Returns the target tables that will be overwritten.
    """
    present = sorted(t for t in targets.values() if t in existing)
    if snapshot_columns is not None:
        different = sorted(
            target for source, target in targets.items()
            if target in existing and source in snapshot_columns
            and not _same_schema(existing[target], snapshot_columns[source])
        )
        if different:
            raise RestoreRefusedError(
                f"Restore into database {target_database!r} refused before submission: table(s) "
                f"{', '.join(different)} exist with a different schema than the snapshot holds.")
    if present and not allow_overwrite:
        raise RestoreRefusedError(
            f"Restore into database {target_database!r} refused: table(s) {', '.join(present)} already exist; "
            "set allow_overwrite=True to overwrite their partitions.")
    return present
