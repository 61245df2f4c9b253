"""Point-in-time resolution by partition: what a database (or a table group) held at moment T, and the fewest
RESTORE jobs that bring it back, each partition once. Pure Python.

The rule (docs/catalog.md, "Restoring to a point in time"):

- The snapshots read are the OK entries of the scope taken at or before T, from the newest full at or before T
  on, in the order they were taken (``backup_time``, then label). A full holds every partition of its scope that
  existed when it was taken, so it ends everything before it; a tombstone ends the partition or table it names.
- Each partition that exists at T comes from the newest of those snapshots that holds it. Versions of one
  partition only grow, so that is also the newest version any of them holds; after an in-place restore, which
  sets a partition's version back, it is still what the partition was at T.
- Views, materialized views and functions are those the newest snapshot with a census (``objects``) lists, each
  taken from the newest snapshot at or before T that holds it.

Parent links are not read: two incrementals planned from the same parent (overlapping runs) both count.

The jobs: one RESTORE per snapshot that holds something chosen, naming exactly the chosen partitions
(``RESTORE ... ON (TABLE t PARTITION (...))``). StarRocks' ``RestoreJob.checkAndPrepareMeta`` (3.5,
e223275f78) decides the order: a table absent from the target is created from the snapshot's ``__meta`` with the
named partitions only (``dropPartitionAndReserveTablet`` for the rest); into an existing table of the same schema
a partition that exists is overwritten, and an absent one is added only if the table is RANGE-partitioned and
its range conflicts with none ("has conflict range with existing ranges"); for any other partitioning it fails
("No partition exist in single partitioned table"). So:

- a range-partitioned table is created by the oldest job holding one of its chosen partitions, later ones add;
- a list-partitioned table is created by a snapshot holding every chosen partition name (the planner ships the
  whole table when a list table gains a partition, so the newest such snapshot has them all); partitions newer
  elsewhere overwrite theirs afterwards — the only case where a partition is moved twice;
- each table's partitions must all come from snapshots of one schema (the planner ships the whole table after a
  schema change); otherwise StarRocks refuses ("already exist but with different schema") and so does this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sr_airflow.engine.catalog import (
    OBJECT_KINDS,
    Catalog,
    CatalogEntry,
    HeldPartition,
    SnapshotKind,
    object_label,
    resolve_state,
    scope_entries,
)
from sr_airflow.engine.errors import RestoreRefusedError, SnapshotNotFoundError
from sr_airflow.engine.planner import TablePlan, scope_refs
from sr_airflow.engine.scope import ObjectKind, Scope

Key = tuple[str, str]


@dataclass(frozen=True)
class RestoreStep:
    """One RESTORE job: ``tables`` (with the partitions taken from this snapshot), the tables it creates, and
    the views, materialized views and functions it brings (``all_objects``: every one the snapshot holds, for
    snapshots recorded before objects were)."""

    entry: CatalogEntry
    tables: tuple[TablePlan, ...]
    creates: tuple[str, ...] = ()
    objects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    all_objects: bool = False

    @property
    def label(self) -> str:
        return self.entry.label

    @property
    def backup_timestamp(self) -> str:
        return self.entry.backup_timestamp or ""

    @property
    def partition_count(self) -> int:
        return sum(len(t.partitions) for t in self.tables)

    def to_scope(self, *, target_database: str | None = None) -> Scope:
        """The ``RESTORE ... ON (...)`` scope: every table with its partitions named (or none, when the table is
        taken whole from this snapshot), then the objects."""
        # entries recorded before objects were do not say which of their tables are materialized views: those
        # come back as the tables the job info lists, the views and functions with ALL
        all_of = (ObjectKind.VIEW, ObjectKind.FUNCTION) if self.all_objects else ()
        return Scope(database=self.entry.database, objects=scope_refs(self.tables, self.objects), all_of=all_of,
                     target_database=target_database)

    def describe(self) -> str:
        parts = [f"{t.table} ({'whole' if t.whole_table else ', '.join(t.partitions)})" for t in self.tables]
        for kind in OBJECT_KINDS:
            parts += [object_label(kind, n) for n in self.objects.get(kind, ())]
        if self.all_objects:
            parts.append("all views and functions")
        created = f"; creates {', '.join(self.creates)}" if self.creates else ""
        return f"RESTORE {self.label} ({self.backup_timestamp}): {'; '.join(parts)}{created}"


@dataclass(frozen=True)
class PointInTimePlan:
    """What a database held at ``at`` (``state``: partition -> the snapshot holding it) and the RESTORE jobs, in
    order, that bring it back. ``target`` is the newest snapshot read (the point the restore stands for);
    ``excluded`` tables the snapshots could not hold (e.g. temporary partitions), with the reason."""

    database: str
    at: datetime | None
    target: CatalogEntry
    entries: tuple[CatalogEntry, ...]
    steps: tuple[RestoreStep, ...]
    state: Mapping[Key, HeldPartition]
    objects: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    excluded: Mapping[str, str] = field(default_factory=dict)
    missing_objects: tuple[str, ...] = ()
    requested_tables: tuple[str, ...] | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(s.label for s in self.steps)

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(sorted({t for t, _ in self.state}))

    def describe(self) -> list[str]:
        """The plan in a user's words, one line each (``dry_run`` prints these)."""
        when = self.at.isoformat() if self.at else "the newest snapshot"
        lines = [f"Restore of database {self.database} as of {when} (newest snapshot read: {self.target.label}): "
                 f"{len(self.state)} partition(s) of {len(self.tables)} table(s) in {len(self.steps)} RESTORE job(s)."]
        lines += [f"  {i}. {step.describe()}" for i, step in enumerate(self.steps, start=1)]
        lines += [f"  left out: table {t}: {why}" for t, why in sorted(self.excluded.items())]
        lines += [f"  not restorable: {name} (no snapshot at or before that time holds it)"
                  for name in self.missing_objects]
        return lines

    def to_dict(self) -> dict[str, Any]:
        """The plan for XCom: JSON-able, one item per job."""
        return {
            "database": self.database, "point_in_time": self.at.isoformat() if self.at else None,
            "snapshot_label": self.target.label, "backup_timestamp": self.target.backup_timestamp,
            "jobs": [{"snapshot_label": s.label, "backup_timestamp": s.backup_timestamp,
                      "tables": [{"name": t.table, "partitions": list(t.partitions), "whole": t.whole_table}
                                 for t in s.tables],
                      "creates": list(s.creates), "objects": {k: list(v) for k, v in s.objects.items()},
                      "all_objects": s.all_objects} for s in self.steps],
            "partitions": len(self.state), "excluded_tables": dict(self.excluded),
            "missing_objects": list(self.missing_objects),
        }


def resolve_point_in_time(catalog: Catalog, database: str, at: datetime | None = None, *,
                          tables: Sequence[str] | None = None) -> PointInTimePlan:
    """The restore of ``database`` (or ``tables`` of it) as of ``at`` (None: the newest snapshot).
    Raises SnapshotNotFoundError when no full snapshot covers ``at`` or a named table is in none, and
    RestoreRefusedError when StarRocks would refuse the jobs (a table of two schemas, a list table whose
    partitions no one snapshot holds)."""
    wanted = set(tables) if tables else None
    entries = scope_entries(catalog, database, at, tables=tables)
    if not entries or entries[0].snapshot_kind is not SnapshotKind.FULL:
        raise SnapshotNotFoundError(_nothing_covers(catalog, database, at, tables))
    state = resolve_state(entries)
    census = next((e.census for e in reversed(entries) if e.census is not None), None)
    if census is not None:  # a materialized view's data comes with the view (RESTORE ... MATERIALIZED VIEW m)
        state = {k: v for k, v in state.items() if k[0] not in census.materialized_views}
    if wanted is not None:
        state = {k: v for k, v in state.items() if k[0] in wanted}
        missing = sorted(wanted - {t for t, _ in state})
        if missing:
            raise SnapshotNotFoundError(
                f"Table(s) {', '.join(missing)} of database {database!r} are in no snapshot at or before "
                f"{at.isoformat() if at else 'now'} (newest read: {entries[-1].label!r}).")
    by_label = {e.label: e for e in entries}
    objects, missing_objects, all_objects_of = _objects(entries, wanted)
    excluded = _excluded(entries, state, wanted)
    _check_one_schema(state, by_label)
    steps = _steps(state, by_label, entries, objects, all_objects_of)
    return PointInTimePlan(database, at, entries[-1], tuple(entries), tuple(steps), state, objects, excluded,
                           tuple(missing_objects), tuple(sorted(wanted)) if wanted is not None else None)


def needed_labels(catalog: Catalog, database: str, at: datetime, *, tables: Sequence[str] | None = None) -> set[str]:
    """Every entry a restore of ``database`` (or of ``tables``) as of ``at`` reads: the newest full at or before
    it and every OK entry of the scope after it. Retention keeps these for each kept point in time (an entry whose
    partitions are all superseded may still carry the tombstone that ends one)."""
    return {e.label for e in scope_entries(catalog, database, at, tables=tables)}


def _nothing_covers(catalog: Catalog, database: str, at: datetime | None, tables: Sequence[str] | None) -> str:
    good = [e for e in catalog.entries(database, good_only=True) if e.backup_time is not None]
    if not good:
        return f"The catalog has no good snapshot of database {database!r}."
    if not tables and all(e.chain_tables is not None for e in good):
        return (f"The catalog has no good snapshot of database {database!r} as a whole; only table-group "
                f"snapshots exist: name the tables to restore.")
    fulls = [e for e in good if e.snapshot_kind is SnapshotKind.FULL] or good
    return (f"No good full snapshot of database {database!r} covers {at.isoformat() if at else 'now'}; the "
            f"oldest good full one is {fulls[0].label!r} at {fulls[0].backup_time.isoformat()}.")


def _objects(entries: list[CatalogEntry], wanted: set[str] | None):
    """Views, materialized views and functions at the point (kind -> name -> the label holding it), the ones no
    snapshot holds, and the label whose job brings every object it holds (entries recorded before objects were:
    the full). A restore of named tables brings no objects."""
    if wanted is not None:
        return {}, [], None
    census_entry = next((e for e in reversed(entries) if e.census is not None), None)
    if census_entry is None:  # entries recorded before objects were: the full's views and functions
        return {}, [], entries[0].label
    census = census_entry.census
    found: dict[str, dict[str, str]] = {}
    missing = []
    for kind in OBJECT_KINDS:
        for name in sorted(census.of_kind(kind)):
            holder = next((e for e in reversed(entries) if e.census is not None and e.census.holds(kind, name)),
                          None)
            if holder is None:
                missing.append(object_label(kind, name))
            else:
                found.setdefault(kind, {})[name] = holder.label
    if missing and entries[0].census is None:  # a full recorded without census (sr_full_backup): it holds them
        return found, [], entries[0].label
    return found, missing, None


def _excluded(entries: list[CatalogEntry], state: Mapping[Key, HeldPartition],
              wanted: set[str] | None) -> dict[str, str]:
    """Tables a snapshot had to leave out (e.g. temporary partitions) that no later snapshot holds or drops, with
    the reason and what the restore does about it."""
    excluded: dict[str, str] = {}
    for entry in entries:
        if entry.snapshot_kind is SnapshotKind.FULL and entry.chain_tables is None:
            excluded.clear()
        for tomb in entry.tombstones:
            if tomb.partition is None:
                excluded.pop(tomb.table, None)
        for table in entry.partitions.tables():
            excluded.pop(table, None)
        for table, why in entry.excluded_tables.items():
            excluded[table] = f"left out of snapshot {entry.label}: {why}"
    restored = {t for t, _ in state}
    return {t: w + ("; restored as of an earlier snapshot" if t in restored else "; not restored")
            for t, w in excluded.items() if wanted is None or t in wanted}


def _table_info(entry: CatalogEntry, table: str):
    census = entry.census
    return census.tables.get(table) if census is not None else None


def _check_one_schema(state: Mapping[Key, HeldPartition], by_label: Mapping[str, CatalogEntry]) -> None:
    """Refuse a plan whose table would mix partitions of snapshots with different recorded schemas."""
    prints: dict[str, dict[str, str]] = {}
    for (table, _), held in state.items():
        info = _table_info(by_label[held.label], table)
        if info is not None and info.fingerprint is not None:
            prints.setdefault(table, {})[info.fingerprint] = held.label
    for table, seen in sorted(prints.items()):
        if len(seen) > 1:
            raise RestoreRefusedError(
                f"Table {table!r} would be restored from snapshots of different schemas "
                f"({', '.join(sorted(seen.values()))}); StarRocks refuses that (already exist but with different "
                "schema). Restore to a point after the table's last schema change was backed up.")


def _partitioning(table: str, labels: Iterable[str], by_label: Mapping[str, CatalogEntry]) -> str | None:
    for label in sorted(labels, key=lambda lb: by_label[lb].sort_key, reverse=True):
        info = _table_info(by_label[label], table)
        if info is not None and info.partitioning:
            return info.partitioning
    return None


def _creators(chosen: dict[str, dict[str, set[str]]], by_label: Mapping[str, CatalogEntry],
              entries: list[CatalogEntry]) -> dict[str, str]:
    """Table -> the label whose job creates it. A range (or unknown) table: the oldest snapshot holding one of its
    chosen partitions. A list table spread over several snapshots: the newest snapshot holding every chosen name,
    whose job then names them all (``chosen`` is extended); every snapshot holding a newer copy of one of them is
    newer still, so its job comes later and overwrites. Either way every other job touching the table comes
    after its creator in the oldest-first order."""
    per_table: dict[str, set[str]] = {}
    for label, tables in chosen.items():
        for table in tables:
            per_table.setdefault(table, set()).add(label)
    creators = {}
    for table, labels in per_table.items():
        if len(labels) > 1 and _partitioning(table, labels, by_label) in ("list", "unpartitioned"):
            names = set().union(*(chosen[lb][table] for lb in labels))
            creator = _list_creator(table, names, entries)
            chosen.setdefault(creator, {}).setdefault(table, set()).update(names)
        else:
            creator = min(labels, key=lambda lb: by_label[lb].sort_key)
        creators[table] = creator
    return creators


def _steps(state: Mapping[Key, HeldPartition], by_label: Mapping[str, CatalogEntry], entries: list[CatalogEntry],
           objects: Mapping[str, Mapping[str, str]], all_objects_of: str | None) -> list[RestoreStep]:
    """One RESTORE job per snapshot holding something chosen, oldest first (each table's creator first)."""
    chosen: dict[str, dict[str, set[str]]] = {}  # label -> table -> partitions
    for (table, partition), held in state.items():
        chosen.setdefault(held.label, {}).setdefault(table, set()).add(partition)
    creators = _creators(chosen, by_label, entries)
    holders: dict[str, dict[str, list[str]]] = {}
    for kind, names in objects.items():
        for name, label in names.items():
            holders.setdefault(label, {}).setdefault(kind, []).append(name)
    order = sorted(set(chosen) | set(holders) | ({all_objects_of} if all_objects_of else set()),
                   key=lambda lb: by_label[lb].sort_key)
    steps: list[RestoreStep] = []
    for label in order:
        entry = by_label[label]
        take = chosen.get(label, {})
        held_names = {t: {r.partition for r in entry.partitions if r.table == t} for t in take}
        plans = tuple(TablePlan(t, tuple(sorted(p)), p == held_names[t]) for t, p in sorted(take.items()))
        creates = tuple(sorted(t for t in take if creators[t] == label))
        steps.append(RestoreStep(entry, plans, creates,
                                 {k: tuple(sorted(v)) for k, v in holders.get(label, {}).items()},
                                 label == all_objects_of))
    return steps


def _list_creator(table: str, names: set[str], entries: list[CatalogEntry]) -> str:
    """The newest snapshot holding every partition name of a non-range table (its creating job must name them
    all: StarRocks adds no partition to an existing non-range table on restore)."""
    for entry in reversed(entries):
        if names <= {r.partition for r in entry.partitions if r.table == table}:
            return entry.label
    raise RestoreRefusedError(
        f"Table {table!r} is not range-partitioned and no single snapshot holds all of its partitions "
        f"({', '.join(sorted(names))}); StarRocks cannot add a partition to such a table on restore (No partition "
        "exist in single partitioned table). Take a full backup.")
