"""The catalog as rows: snapshots, RPO per database, the snapshots a point-in-time restore reads, one snapshot in
detail. Pure Python over ``engine.catalog`` and ``engine.resolve`` (no Airflow, no storage); every value is
JSON-able (times as ISO-8601 UTC strings), so the CLI's ``--json``, the backups page and the metrics share them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sr_airflow.engine.catalog import Catalog, CatalogEntry

RPO_STATES = ("green", "amber", "red", "unknown")

Target = float | int | timedelta | None


def iso(moment: datetime | None) -> str | None:
    """``moment`` as ISO-8601 in UTC (``2024-05-01T02:00:01.123000+00:00``), None for None."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def taken_at(entry: CatalogEntry) -> datetime | None:
    """When the snapshot was taken (its job info's backup time); None for an entry not yet finished."""
    return entry.backup_time


def entry_seconds(entry: CatalogEntry) -> float | None:
    """The time the BACKUP job took: its ``total`` phase (create to finish, ``engine/jobwatch.phase_seconds``),
    else the sum of the phases recorded; None when none were."""
    phases = {k: float(v) for k, v in entry.phase_seconds.items() if v is not None}
    if "total" in phases:
        return round(phases["total"], 3)
    return round(sum(phases.values()), 3) if phases else None


def snapshot_row(entry: CatalogEntry) -> dict[str, Any]:
    """One catalog entry as a row of ``snapshot_rows``."""
    return {
        "label": entry.label, "repository": entry.repository, "database": entry.database,
        "kind": entry.snapshot_kind.value, "scope": dict(entry.scope), "taken_at": iso(taken_at(entry)),
        "bytes": entry.snapshot_bytes, "seconds": entry_seconds(entry), "parent": entry.parent_label,
        "status": entry.status.value, "partition_count": len(entry.partitions), "message": entry.message,
    }


def snapshot_rows(catalog: Catalog, *, database: str | None = None, since: datetime | None = None,
                  until: datetime | None = None) -> list[dict[str, Any]]:
    """One row per catalog entry (any status), newest first. ``since``/``until`` (inclusive) filter on when the
    snapshot was taken, or, for an entry not yet finished, when it was created; an entry with neither time is
    left out by either filter."""
    rows = []
    for entry in sorted(catalog.entries(database), key=lambda e: e.sort_key, reverse=True):
        moment = entry.backup_time or entry.created_at
        if (since is not None or until is not None) and moment is None:
            continue
        if since is not None and moment < since:
            continue
        if until is not None and moment > until:
            continue
        rows.append(snapshot_row(entry))
    return rows


def _seconds(target: Target) -> float | None:
    if target is None:
        return None
    seconds = target.total_seconds() if isinstance(target, timedelta) else float(target)
    if seconds <= 0:
        raise ValueError(f"an RPO target must be positive, got {target!r}.")
    return seconds


def rpo_state(age_seconds: float | None, target_seconds: float | None) -> str:
    """``unknown`` without a target; ``red`` without an OK snapshot; else ``green`` up to the target, ``amber`` up
    to twice the target, ``red`` beyond."""
    if target_seconds is None:
        return "unknown"
    if age_seconds is None:
        return "red"
    if age_seconds <= target_seconds:
        return "green"
    if age_seconds <= 2 * target_seconds:
        return "amber"
    return "red"


def rpo_rows(catalog: Catalog, *, now: datetime, target: Target | Mapping[str, Target] = None,
             drills: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Per database of the catalog (sorted by name): its newest OK snapshot, that snapshot's age at ``now``
    against ``target`` (seconds or a timedelta; a mapping gives each database its own, a database missing from
    it has none), the RPO state (``rpo_state``) and the size trend (``sizes``: ``[taken_at, bytes]`` of every OK
    snapshot, oldest first). With ``drills`` (database -> its newest ``DrillRecord``, as
    ``storage.drill_store.last_drills`` gives them), each row also has ``last_drill``: that record's dict or None."""
    rows = []
    for database in catalog.databases():
        good = [e for e in catalog.entries(database, good_only=True) if e.backup_time is not None]
        newest = good[-1] if good else None
        age = (now - newest.backup_time).total_seconds() if newest else None
        wanted = _seconds(target.get(database) if isinstance(target, Mapping) else target)
        rows.append({
            "database": database, "newest_ok": newest.label if newest else None,
            "kind": newest.snapshot_kind.value if newest else None,
            "taken_at": iso(newest.backup_time) if newest else None,
            "age_seconds": None if age is None else round(age, 3), "target_seconds": wanted,
            "state": rpo_state(age, wanted), "ok_snapshots": len(good),
            "sizes": [[iso(e.backup_time), e.snapshot_bytes] for e in good],
        })
        if drills is not None:
            drill = drills.get(database)
            rows[-1]["last_drill"] = drill.to_dict() if drill is not None else None
    return rows


def chain_rows(catalog: Catalog, database: str, *, at: datetime | None = None,
               tables: list[str] | tuple[str, ...] | None = None) -> dict[str, Any]:
    """What a point-in-time restore of ``database`` (or of ``tables`` of it) at ``at`` (None: the newest) runs:
    ``resolve_point_in_time(...).to_dict()`` plus ``entries``, ``[label, kind, taken_at]`` of every snapshot it
    reads, oldest first. Raises SnapshotNotFoundError / RestoreRefusedError as the resolution does."""
    from sr_airflow.engine.resolve import resolve_point_in_time

    plan = resolve_point_in_time(catalog, database, at, tables=list(tables) if tables else None)
    return {**plan.to_dict(),
            "entries": [[e.label, e.snapshot_kind.value, iso(e.backup_time)] for e in plan.entries]}


def show_snapshot(catalog: Catalog, label: str) -> dict[str, Any]:
    """Snapshot ``label`` in detail: its row, its partitions (table, partition, version, rows, bytes), its
    tombstones, and the restore at its moment (``restore``, from ``chain_rows``; None with ``restore_error``
    when no restore stands at that moment, e.g. for an entry that is not OK). Raises SnapshotNotFoundError for
    a label not in the catalog."""
    from sr_airflow.engine.errors import RestoreRefusedError, SnapshotNotFoundError

    entry = catalog.get(label)
    restore, error = None, None
    if entry.is_good:
        try:
            restore = chain_rows(catalog, entry.database, at=entry.backup_time, tables=entry.chain_tables)
        except (SnapshotNotFoundError, RestoreRefusedError) as exc:
            error = str(exc)
    else:
        error = f"snapshot {label!r} is {entry.status.value}, not ok: no restore reads it."
    return {
        **snapshot_row(entry),
        "backup_timestamp": entry.backup_timestamp,
        "partitions": [{"table": p.table, "partition": p.partition, "version": p.version, "rows": p.row_count,
                            "bytes": p.data_size} for p in entry.partitions],
        "tombstones": [{"table": t.table, "partition": t.partition} for t in entry.tombstones],
        "restore": restore, "restore_error": error,
    }
