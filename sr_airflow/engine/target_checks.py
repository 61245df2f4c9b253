"""Checks made before a BACKUP or RESTORE is sent, so a refusal comes early, whole and clear. Pure Python.

- the cluster runs shared-nothing (shared-data clusters cannot BACKUP / RESTORE);
- a RESTORE target: tables that already exist are refused unless overwriting is allowed, and refused whatever the
  setting when their schema differs from the snapshot's (StarRocks itself finds that only late, in the job).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sr_airflow.engine import backup_meta
from sr_airflow.engine.column_types import ColumnDef
from sr_airflow.engine.errors import RestoreRefusedError, UnsupportedByServerError

__all__ = ["COLUMNS_QUERY_COLUMNS", "RUN_MODE_UNKNOWN", "SHOW_RUN_MODE", "ColumnDef", "check_restore_target",
           "check_run_mode", "columns_query", "parse_backup_meta", "parse_columns", "run_mode", "schema_difference"]

SHOW_RUN_MODE = "ADMIN SHOW FRONTEND CONFIG LIKE 'run_mode'"
RUN_MODE_UNKNOWN = "unknown"  # the run mode could not be read (no OPERATE on SYSTEM: visitAdminShowConfigStatement)
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


def run_mode(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """The ``run_mode`` value; "shared_nothing" when the server has no such item (before 3.0, no shared-data)."""
    names = [c.lower() for c in columns]
    for row in rows:
        record = dict(zip(names, row, strict=False))
        if str(record.get("key") or "").lower() == "run_mode":
            return str(record.get("value") or "").strip().lower() or "shared_nothing"
    return "shared_nothing"


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
    """The base-index columns of each table in a ``__meta`` file (``engine.backup_meta``), as COLUMN_TYPE strings."""
    return backup_meta.parse_backup_meta(data).schemas()


def schema_difference(existing: Sequence[ColumnDef], snapshot: Sequence[ColumnDef]) -> str | None:
    """Why a target table's columns differ from the snapshot's base schema, or None when RESTORE would take them.

    StarRocks' own check (``RestoreJob.checkAndPrepareMeta`` at 3.5 e223275f78, 3.4 afccab88 and 3.3 1a2f1f5d75)
    refuses an existing table when the base schemas differ in size, or when column ``i`` of one differs from
    column ``i`` of the other (``Column.equals``: name ignoring case, type with its length or precision and scale
    — ``ScalarType.equals`` —, aggregation, key, nullability, default, comment). So column order counts and
    name case does not. ``fullSchema``'s order is meaningless and rollup columns are not part of the base schema,
    which is why the snapshot side is the base index (``parse_backup_meta``). Only names and types are compared
    here (``information_schema.columns`` gives both); a difference in nullability, key, default or comment is
    still found by StarRocks in the job.
    """
    if len(existing) != len(snapshot):
        return f"{len(existing)} column(s) in the table, {len(snapshot)} in the snapshot"
    for position, (mine, theirs) in enumerate(zip(existing, snapshot, strict=True), start=1):
        (name_a, type_a), (name_b, type_b) = mine.normalised, theirs.normalised
        if name_a != name_b:
            return f"column {position} is {mine.name!r} in the table, {theirs.name!r} in the snapshot"
        if type_a != type_b:
            return f"column {mine.name!r} is {mine.type} in the table, {theirs.type} in the snapshot"
    return None


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
        reasons = {target: schema_difference(existing[target], snapshot_columns[source])
                   for source, target in targets.items() if target in existing and source in snapshot_columns}
        different = sorted(t for t, why in reasons.items() if why)
        if different:
            raise RestoreRefusedError(
                f"Restore into database {target_database!r} refused before submission: table(s) "
                f"{', '.join(different)} exist with a different schema than the snapshot holds "
                f"({'; '.join(f'{t}: {reasons[t]}' for t in different)}).")
    if present and not allow_overwrite:
        raise RestoreRefusedError(
            f"Restore into database {target_database!r} refused: table(s) {', '.join(present)} already exist; "
            "set allow_overwrite=True to overwrite their partitions.")
    return present
