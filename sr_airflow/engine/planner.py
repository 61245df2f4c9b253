"""Incremental planning: from the catalog and ``information_schema.partitions_meta`` rows, what to back up.

A partition goes into the next incremental when its physical partitions — the ``(PARTITION_ID, VISIBLE_VERSION)``
rows partitions_meta shows for it — differ from the physical partitions recorded in the job info of the snapshot
that last held it (``subPartitions``: physical id and version; read from the job info, not from a clock), or when
it is new. The rule and why it matches physical ids, not the job info's logical ``id``: docs/catalog.md.
Tables and partitions that the chain holds but the database no longer has become tombstones. A policy forces a
full backup when there is no good base, after N incrementals, or when the chain's full is older than D days.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import compress, groupby
from operator import attrgetter, itemgetter, ne
from typing import Any

from sr_airflow.engine.catalog import (
    OBJECT_KINDS,
    Catalog,
    CatalogEntry,
    SnapshotKind,
    SnapshotObjects,
    TableCensus,
    Tombstone,
    object_label,
    scope_entries,
)
from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.quoting import quote_string
from sr_airflow.engine.schema import DatabaseObjects, partitioning_of
from sr_airflow.engine.scope import ObjectKind, ObjectRef, Scope

PARTITIONS_META_COLUMNS = ("DB_NAME", "TABLE_NAME", "PARTITION_NAME", "PARTITION_ID", "VISIBLE_VERSION",
                           "VISIBLE_VERSION_TIME", "ROW_COUNT", "DATA_SIZE", "IS_TEMP", "PARTITION_VALUE")
TEMP_PARTITIONS_REASON = ("it has temporary partitions, and StarRocks refuses to back up such a table (Do not "
                          "support backing up table with temp partitions)")

_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGTP]?B?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "M": 1024**2, "MB": 1024**2, "G": 1024**3, "GB": 1024**3,
          "T": 1024**4, "TB": 1024**4, "P": 1024**5, "PB": 1024**5}


def partitions_meta_query(database: str, tables: Sequence[str] | None = None) -> str:
    """partitions_meta alone (rows in ``PARTITIONS_META_COLUMNS`` order): the backup's tombstones, verification and
    pre-flight read it; a plan reads these rows inside ``metadata.metadata_query``."""
    where = f"DB_NAME = {quote_string(database, argument='database')}"
    if tables:
        names = ", ".join(quote_string(t, argument="table") for t in tables)
        where += f" AND TABLE_NAME IN ({names})"
    return (f"SELECT {', '.join(PARTITIONS_META_COLUMNS)} FROM information_schema.partitions_meta "  # noqa: S608
            f"WHERE {where} ORDER BY TABLE_NAME, PARTITION_NAME")


@dataclass(frozen=True, slots=True)
class PartitionState:
    """One row of partitions_meta: a physical partition as the database has it now."""

    database: str
    table: str
    partition: str
    partition_id: int | None
    version: int | None
    version_time: Any = None
    row_count: int | None = None
    data_size: int | None = None
    is_temp: bool = False
    partition_value: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.table, self.partition)


def parse_data_size(value: Any) -> int | None:
    """``DATA_SIZE`` (a ByteSizeValue string such as ``1.2KB``) in bytes; None if absent or unreadable."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return int(value)
    match = _SIZE_RE.match(str(value))
    if not match:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def parse_partitions_meta(rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> list[PartitionState]:
    """Rows as tuples in ``PARTITIONS_META_COLUMNS`` order, or as mappings keyed by column name."""
    out = []
    for row in rows:
        r = ({k.upper(): v for k, v in row.items()} if isinstance(row, Mapping)
             else dict(zip(PARTITIONS_META_COLUMNS, row, strict=False)))
        missing = [c for c in ("DB_NAME", "TABLE_NAME", "PARTITION_NAME") if r.get(c) is None]
        if missing:
            raise InvalidArgumentError(f"partitions_meta row lacks {', '.join(missing)}: {row!r}.")
        out.append(PartitionState(
            database=str(r["DB_NAME"]), table=str(r["TABLE_NAME"]), partition=str(r["PARTITION_NAME"]),
            partition_id=_opt_int(r.get("PARTITION_ID")), version=_opt_int(r.get("VISIBLE_VERSION")),
            version_time=r.get("VISIBLE_VERSION_TIME"), row_count=_opt_int(r.get("ROW_COUNT")),
            data_size=parse_data_size(r.get("DATA_SIZE")), is_temp=_truthy(r.get("IS_TEMP")),
            partition_value=r.get("PARTITION_VALUE"),
        ))
    return out


@dataclass(frozen=True)
class PlanPolicy:
    """When to force a full: after ``max_incrementals`` incrementals on one full, or when the full is older than
    ``max_full_age``; None disables a rule. ``always_full`` turns planning off."""

    max_incrementals: int | None = 6
    max_full_age: timedelta | None = timedelta(days=7)
    always_full: bool = False

    def __post_init__(self) -> None:
        if self.max_incrementals is not None and self.max_incrementals < 0:
            raise InvalidArgumentError(f"max_incrementals must be 0 or more, got {self.max_incrementals}.")
        if self.max_full_age is not None and self.max_full_age <= timedelta(0):
            raise InvalidArgumentError(f"max_full_age must be positive, got {self.max_full_age}.")


@dataclass(frozen=True)
class TablePlan:
    """A table to back up: ``partitions`` named, or the whole table when ``whole_table``."""

    table: str
    partitions: tuple[str, ...]
    whole_table: bool


@dataclass(frozen=True)
class BackupPlan:
    """The next backup. ``objects`` is what the catalog records about the database beside partitions (its
    census: table fingerprints, views, materialized views, functions, what this backup holds of them and why,
    and ``excluded`` tables); ``ship`` the views, materialized views and functions this backup takes by name
    (kind -> names)."""

    database: str
    snapshot_kind: SnapshotKind
    parent_label: str | None
    tables: tuple[TablePlan, ...]
    tombstones: tuple[Tombstone, ...]
    reason: str
    partitions: tuple[PartitionState, ...] = ()
    temp_partition_tables: tuple[str, ...] = ()
    requested_tables: tuple[str, ...] | None = None
    objects: SnapshotObjects | None = None
    ship: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    table_group: tuple[str, ...] | None = None
    dropped_objects: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Nothing to back up (no job). A plan with drops is empty only when nothing is left in the database to
        carry them (``unrecorded_drops``): otherwise ``record_drops`` gave it something to back up."""
        return not self.tables and not any(self.ship.values())

    @property
    def unrecorded_drops(self) -> tuple[str, ...]:
        """What was dropped since the catalog's newest snapshot when this plan takes no snapshot to record it
        (a point-in-time restore to after the drop would bring it back), in words."""
        if not self.is_empty:
            return ()
        return tuple(object_label("tables", t.table) if t.partition is None else f"partition {t.table}.{t.partition}"
                     for t in self.tombstones) + self.dropped_objects

    @property
    def excluded(self) -> Mapping[str, str]:
        """Tables left out of this backup, with the reason."""
        if self.objects is not None:
            return self.objects.excluded
        return {t: TEMP_PARTITIONS_REASON for t in self.temp_partition_tables}

    @property
    def whole_database(self) -> bool:
        """A full of the whole database that can be sent as ``BACKUP DATABASE d`` (views, MVs, functions
        included): no table group, no table left out."""
        return self.snapshot_kind is SnapshotKind.FULL and self.table_group is None and not self.temp_partition_tables

    def catalog_scope(self) -> dict[str, Any]:
        """What to record as the catalog entry's ``scope``: ``tables`` names the table group of the chain."""
        scope: dict[str, Any] = {"database": self.database}
        if self.requested_tables is not None:
            scope["tables"] = list(self.requested_tables)
        return scope

    def to_scope(self) -> Scope:
        """The BACKUP scope: the whole database for an unfiltered full (views, MVs and functions included),
        else the planned tables, with their partitions unless the whole table is taken, and the objects."""
        if self.is_empty:
            raise InvalidArgumentError(f"the plan for database {self.database!r} has nothing to back up.")
        if self.whole_database:
            return Scope(database=self.database)
        return Scope(database=self.database, objects=scope_refs(self.tables, self.ship))

    def partition_stats(self) -> dict[tuple[str, str], tuple[int | None, int | None]]:
        """(table, partition) -> (row_count, data_size), for ``entry_from_job_info``: summed over the partition's
        physical partitions (partitions_meta has a row for each)."""
        stats: dict[tuple[str, str], tuple[int | None, int | None]] = {}
        for p in self.partitions:
            rows, size = stats.get(p.key, (0, 0))
            stats[p.key] = (None if rows is None or p.row_count is None else rows + p.row_count,
                            None if size is None or p.data_size is None else size + p.data_size)
        return stats


_OBJECT_KIND = {"views": ObjectKind.VIEW, "materialized_views": ObjectKind.MATERIALIZED_VIEW,
                "functions": ObjectKind.FUNCTION}


def scope_refs(tables: Iterable[TablePlan], objects: Mapping[str, Iterable[str]]) -> tuple[ObjectRef, ...]:
    """The ``ON (...)`` items of a BACKUP or RESTORE: each table with its partitions named (none when the table is
    taken whole), then the views, materialized views and functions by name (``objects``: kind -> names)."""
    refs = [ObjectRef.table(t.table, () if t.whole_table else t.partitions) for t in tables]
    for kind in OBJECT_KINDS:
        refs += [ObjectRef(_OBJECT_KIND[kind], name) for name in objects.get(kind, ())]
    return tuple(refs)
_NEW_REASON = {"views": "new_view", "materialized_views": "new_mv", "functions": "new_function"}
_CHANGED_REASON = {"views": "view_changed", "materialized_views": "mv_changed", "functions": "function_changed"}


def plan_backup(catalog: Catalog, database: str, rows: Iterable[Sequence[Any] | Mapping[str, Any]] |
                Iterable[PartitionState], *, now: datetime, policy: PlanPolicy | None = None,
                tables: Sequence[str] | None = None, exclude_tables: Sequence[str] = (),
                objects: DatabaseObjects | None = None, carry_drops: bool = True) -> BackupPlan:
    """The next backup of ``database``: full or incremental, with its tables, partitions, objects, tombstones.

    What the catalog holds is read by partition over every OK snapshot of the scope since the newest full
    (``catalog.scope_entries``), not along parent links: a partition goes into the next incremental when its
    physical partitions differ from those recorded by the newest snapshot holding it, or when it is new. A table
    whose schema fingerprint moved, a new table, and a list-partitioned table that gained a partition go whole;
    views, materialized views and functions that are new or changed go by name (``objects`` given: from the
    statements of ``engine/database_metadata.py`` and ``engine/schema.py``; without it, only partitions are compared). A
    table with temporary partitions is left out (StarRocks refuses to back it up) and named in ``excluded``.

    ``tables`` restricts the plan to those tables (a table group); ``exclude_tables`` leaves some out (e.g.
    materialized views, which partitions_meta lists like tables but BACKUP names differently).

    A drop (table, partition, view, materialized view, function) with nothing else changed still makes a
    snapshot: its catalog entry records the drop, or a restore to a moment after it would bring the object back
    (``record_drops``; ``carry_drops`` False leaves that out, for ``tombstones_now``).

    ``rows`` are best given as the query returns them (tuples in ``PARTITIONS_META_COLUMNS`` order): they are
    compared table by table with the catalog's columns as they are, and only the changed ones become
    ``PartitionState`` objects, so a database of a million partitions plans in about a second."""
    policy = policy or PlanPolicy()
    wanted = set(tables) if tables else None
    excluded = set(exclude_tables)
    requested = tuple(sorted(wanted)) if wanted is not None else None

    def in_scope(table: str) -> bool:
        return (wanted is None or table in wanted) and table not in excluded

    rows, access = _rows_and_access(rows)
    try:
        current, temp_tables = _current_by_table(rows, access, database, in_scope)
    except IndexError:  # rows without the trailing columns: padded, then read again
        width = len(PARTITIONS_META_COLUMNS)
        rows = [tuple(r) + (None,) * (width - len(r)) for r in rows]
        current, temp_tables = _current_by_table(rows, access, database, in_scope)
    entries = scope_entries(catalog, database, group=requested, exact_group=True)
    if entries and entries[0].snapshot_kind is not SnapshotKind.FULL:
        entries = []  # no full to build on
    base = entries[-1] if entries else None
    census = _Census(objects, current, access, temp_tables, entries)
    reason = _full_reason(entries, now, policy)
    if reason is not None:
        states = [s for group in current.values() for s in access.states(group)]
        kinds = {} if objects is None or requested is not None else {
            kind: tuple(sorted(objects.of_kind(kind))) for kind in OBJECT_KINDS}
        return BackupPlan(database, SnapshotKind.FULL, None, _table_plans(states, states), (), reason,
                          tuple(states), temp_tables, requested if not excluded else tuple(sorted(current)),
                          census.record(kinds, {}), kinds if temp_tables else {}, requested)

    chain = _HeldChain(entries)
    changed: list[PartitionState] = []
    plans: list[TablePlan] = []
    tombstones: list[Tombstone] = []
    reasons: dict[str, str] = {}
    for table, group in current.items():
        names = set(map(access.partition, group))
        held = chain.held(table)
        whole = census.whole_table_reason(table, held, names)
        if whole is not None:
            reasons[object_label("tables", table)] = whole
            table_changed = access.states(group)
        else:
            if held:  # rows whose (partition_id, version) equals the held pair are unchanged; the rest looked at
                suspects = list(compress(group, map(ne, map(held.get, map(access.partition, group)),
                                                    map(access.id_version, group))))
            else:
                suspects = group
            table_changed = _changed_rows(access.states(suspects), held, group, access, len(names))
        if table_changed:
            changed += table_changed
            parts = {s.partition for s in table_changed}
            plans.append(TablePlan(table, tuple(sorted(parts)), parts == names))
        tombstones += (Tombstone(table, p) for p in held.keys() - names)
    dropped = sorted(t for t in chain.tables() if t not in current and in_scope(t) and t not in temp_tables
                     and chain.held(t))
    tombstones = [Tombstone(t) for t in dropped] + sorted(tombstones, key=lambda t: (t.table, t.partition or ""))
    ship, object_reasons = census.changed_objects() if requested is None else ({}, {})
    reasons.update(object_reasons)
    count = len(changed) + sum(map(len, ship.values()))
    reason = (f"{len(changed)} partition(s) and {sum(map(len, ship.values()))} object(s) changed since "
              f"{base.label}" if count else f"nothing changed since {base.label}")
    plan = BackupPlan(database, SnapshotKind.INCREMENTAL, base.label, tuple(sorted(plans, key=lambda p: p.table)),
                      tuple(tombstones), reason, tuple(changed), temp_tables, requested,
                      census.record(ship, reasons), ship, requested,
                      census.dropped_objects() if requested is None else ())
    if carry_drops and plan.unrecorded_drops:
        plan = record_drops(plan, [s for group in current.values() for s in access.states(group)], objects)
    return plan


RECORDS_DROPS = "records_drops"  # the shipping reason of what a plan backs up only to record a drop


def record_drops(plan: BackupPlan, states: Sequence[PartitionState],
                 objects: DatabaseObjects | None = None) -> BackupPlan:
    """``plan`` with the least the database still holds to back up when it has drops and nothing else: a catalog
    entry needs a snapshot, and without one the drop is not recorded. Taken: the smallest partition of a
    range-partitioned table (a restore adds it to the table), else the smallest other table whole (a restore
    adds no partition to a list or unpartitioned table), else one view, materialized view or function by name.
    ``states``: the current partitions of the plan's tables in scope. Unchanged when the database is empty (the
    plan's ``unrecorded_drops`` stay; the backup task fails naming them)."""
    if not plan.unrecorded_drops:
        return plan
    partitioning = {t: i.partitioning for t, i in plan.objects.tables.items()} if plan.objects is not None else {}
    candidates: dict[tuple[str, str | None], list[PartitionState]] = {}
    for state in states:
        whole = partitioning.get(state.table) != "range"
        candidates.setdefault((state.table, None if whole else state.partition), []).append(state)
    what = ", ".join(plan.unrecorded_drops)
    if candidates:
        def weight(item):
            (table, partition), found = item
            return (sum(s.data_size or 0 for s in found), sum(s.row_count or 0 for s in found), table,
                    partition or "")

        (table, partition), taken = min(candidates.items(), key=weight)
        names = tuple(sorted({s.partition for s in taken}))
        all_names = {s.partition for s in states if s.table == table}
        plans: tuple[TablePlan, ...] = (TablePlan(table, names, set(names) == all_names),)
        ship: Mapping[str, tuple[str, ...]] = plan.ship
        carrier, label = (f"partition {table}.{partition}" if partition else f"table {table}"), \
            object_label("tables", table)
    else:
        kind, name = next(((k, n) for k in OBJECT_KINDS for n in sorted(objects.of_kind(k))), (None, None)) \
            if objects is not None else (None, None)
        if kind is None:
            return replace(plan, reason=f"{plan.reason}; {what} dropped, and nothing is left in the database to "
                                        "back up to record it")
        plans, taken, ship = (), [], {kind: (name,)}
        carrier = label = object_label(kind, name)
    objects_record = plan.objects
    if objects_record is not None:
        held = {**objects_record.held, **ship}
        objects_record = replace(objects_record, held=held, reasons={**objects_record.reasons, label: RECORDS_DROPS})
    return replace(plan, tables=plans, partitions=tuple(taken), ship=ship, objects=objects_record,
                   reason=f"{plan.reason}; {what} dropped: {carrier} is backed up to record it")


def tombstones_now(catalog: Catalog, database: str, rows: Iterable[Any], *, tables: Sequence[str] | None = None,
                   exclude_tables: Sequence[str] = ()) -> tuple[Tombstone, ...]:
    """What the catalog holds of ``database`` (or table group ``tables``) that the database no longer has, from
    partitions_meta rows read now. The backup operator calls it once its BACKUP holds the database's job slot,
    so the tombstones are those of the snapshot's moment, not of a plan made earlier (an overlapping run may
    have re-created a partition in between). A table with temporary partitions is not a dropped one."""
    plan = plan_backup(catalog, database, rows, now=datetime.max.replace(tzinfo=UTC),
                       policy=PlanPolicy(max_incrementals=None, max_full_age=None), tables=tables,
                       exclude_tables=exclude_tables, carry_drops=False)
    return plan.tombstones


class _Census:
    """The database's objects now beside what the catalog's entries recorded of them (``DatabaseObjects`` vs the
    entries' ``objects``)."""

    def __init__(self, objects: DatabaseObjects | None, current: Mapping[str, list], access: _RowAccess,
                 temp_tables: Sequence[str], entries: list[CatalogEntry]):
        self.objects = objects
        self.partitioning = {t: partitioning_of(access.value(group[0])) for t, group in current.items()}
        self.temp_tables = tuple(temp_tables)
        self.entries = entries
        self._held_prints: dict[str, str | None] | None = None

    def held_print(self, table: str) -> str | None:
        """The fingerprint recorded by the newest entry holding partitions of ``table`` (None: not recorded)."""
        if self._held_prints is None:
            prints: dict[str, str | None] = {}
            for entry in reversed(self.entries):
                census = entry.census
                for t in entry.partitions.tables():
                    if t not in prints:
                        info = census.tables.get(t) if census is not None else None
                        prints[t] = info.fingerprint if info is not None else None
            self._held_prints = prints
        return self._held_prints.get(table)

    def whole_table_reason(self, table: str, held: Mapping[str, Any], names: set[str]) -> str | None:
        if not held:
            return "new_table"
        now = self.objects.tables.get(table) if self.objects is not None else None
        before = self.held_print(table)
        if now is not None and before is not None and now != before:
            return "schema_changed"
        if self.partitioning.get(table) == "list" and not names <= held.keys():
            return "new_list_partition"
        return None

    def changed_objects(self) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
        if self.objects is None:
            return {}, {}
        ship: dict[str, tuple[str, ...]] = {}
        reasons: dict[str, str] = {}
        for kind in OBJECT_KINDS:
            names = []
            for name, now in sorted(self.objects.of_kind(kind).items()):
                before = next((e.census.of_kind(kind).get(name) for e in reversed(self.entries)
                               if e.census is not None and e.census.holds(kind, name)), _MISSING)
                if before is _MISSING or (before is not None and before != now):
                    names.append(name)
                    reasons[object_label(kind, name)] = (
                        _NEW_REASON[kind] if before is _MISSING else _CHANGED_REASON[kind])
            if names:
                ship[kind] = tuple(names)
        return ship, reasons

    def dropped_objects(self) -> tuple[str, ...]:
        """Views, materialized views and functions the newest recorded census lists and the database no longer
        has, in words."""
        recorded = next((e.census for e in reversed(self.entries) if e.census is not None), None)
        if self.objects is None or recorded is None:
            return ()
        return tuple(object_label(kind, name) for kind in OBJECT_KINDS for name in sorted(recorded.of_kind(kind))
                     if name not in self.objects.of_kind(kind))

    def record(self, held: Mapping[str, tuple[str, ...]], reasons: Mapping[str, str]) -> SnapshotObjects | None:
        excluded = {t: TEMP_PARTITIONS_REASON for t in self.temp_tables}
        if self.objects is None:
            return SnapshotObjects(excluded=excluded) if excluded else None
        tables = {t: TableCensus(self.objects.tables.get(t), self.partitioning.get(t), self.objects.colocation.get(t))
                  for t in sorted(set(self.partitioning) | set(self.temp_tables))}
        return SnapshotObjects(tables, *(dict(self.objects.of_kind(k)) for k in OBJECT_KINDS),
                               {k: tuple(v) for k, v in held.items()}, dict(reasons), excluded)


_MISSING = object()


def _changed_rows(suspects: list[PartitionState], held: dict[str, Any], group: list, access: _RowAccess,
                  partitions: int) -> list[PartitionState]:
    """The rows of the partitions that changed, among a table's ``suspects`` (rows not equal to their partition's
    held key). A partition held with several physical partitions is unchanged when its rows, as a set, equal the
    held set; a partition that changed brings all its rows (one per physical partition)."""
    names = set()
    several: dict[str, list[PartitionState]] = {}
    for state in suspects:
        key = held.get(state.partition)
        if isinstance(key, frozenset):
            several.setdefault(state.partition, []).append(state)
        elif key != (state.partition_id, state.version):
            names.add(state.partition)
    for name, states in several.items():
        if {(s.partition_id, s.version) for s in states} != held[name] or len(states) != len(held[name]):
            names.add(name)
    if not names:
        return []
    if len(group) == partitions and not several:  # one row per partition: the changed suspects are the rows
        return [s for s in suspects if s.partition in names]
    return access.states([r for r in group if access.partition(r) in names])


# IS_TEMP values that certainly mean "not temporary" (anything else goes through _truthy).
_NOT_TEMP = frozenset({None, 0, "", "0", "false", "False", "FALSE"})


@dataclass(frozen=True)
class _RowAccess:
    """How to read the planner's columns from one form of row, and how to make PartitionStates of some rows."""

    database: Callable[[Any], Any]
    table: Callable[[Any], Any]
    partition: Callable[[Any], Any]
    id_version: Callable[[Any], tuple[Any, Any]]
    is_temp: Callable[[Any], Any]
    states: Callable[[list], list[PartitionState]]
    value: Callable[[Any], Any]


_TUPLES = _RowAccess(itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(3, 4), itemgetter(8),
                     parse_partitions_meta, lambda row: row[9] if len(row) > 9 else None)
_STATES = _RowAccess(attrgetter("database"), attrgetter("table"), attrgetter("partition"),
                     attrgetter("partition_id", "version"), attrgetter("is_temp"), list,
                     attrgetter("partition_value"))


def _rows_and_access(rows: Iterable[Any]) -> tuple[list, _RowAccess]:
    """The rows as a list of tuples (or of PartitionStates), with the matching accessors."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return rows, _TUPLES
    if isinstance(rows[0], PartitionState):
        return rows, _STATES
    if isinstance(rows[0], Mapping):
        rows = [_mapping_row(r) for r in rows]
    return rows, _TUPLES


def _mapping_row(row: Mapping[str, Any]) -> tuple:
    upper = {k.upper(): v for k, v in row.items()}
    return tuple(upper.get(c) for c in PARTITIONS_META_COLUMNS)


def _current_by_table(rows: list, access: _RowAccess, database: str, in_scope: Callable[[str], bool]) -> \
        tuple[dict[str, list], tuple[str, ...]]:
    """Table -> its rows of ``database``, for the tables in scope without temporary partitions; and the tables in
    scope that have temporary partitions (left out)."""
    groups: dict[Any, list] = {}
    for table, run in groupby(rows, access.table):  # the query sorts by table: one run per table
        groups.setdefault(table, []).extend(run)
    current: dict[str, list] = {}
    temp_tables = set()
    for table, group in groups.items():
        databases = set(map(access.database, group))
        if table is None or None in databases or None in map(access.partition, group):
            access.states(group)  # raises, naming the incomplete row
        if not in_scope(table):
            continue
        if databases != {database}:
            group = [r for r in group if access.database(r) == database]
        temps = set(map(access.is_temp, group))
        if not temps <= _NOT_TEMP:
            flags = list(map(_truthy, map(access.is_temp, group)))
            if any(flags):  # StarRocks refuses to back up such a table: it is left out whole
                temp_tables.add(table)
                continue
        if group:
            current[table] = group
    return current, tuple(sorted(temp_tables))


class _HeldChain:
    """What a chain of catalog entries holds, read one table at a time from the entries' partition columns."""

    def __init__(self, chain: list[CatalogEntry]):
        self.chain = chain
        self.tombstones: list[dict[str, list[str | None]]] = []
        for entry in chain:
            by_table: dict[str, list[str | None]] = {}
            for tomb in entry.tombstones:
                by_table.setdefault(tomb.table, []).append(tomb.partition)
            self.tombstones.append(by_table)

    def held(self, table: str) -> dict[str, Any]:
        """Partition -> its match key (``PartitionRecords.match_keys_of``) of ``table`` after applying the chain
        (tombstones included)."""
        held: dict[str, Any] = {}
        for entry, tombstones in zip(self.chain, self.tombstones, strict=True):
            for partition in tombstones.get(table, ()):
                if partition is None:
                    held.clear()
                else:
                    held.pop(partition, None)
            held.update(entry.partitions.match_keys_of(table))
        return held

    def tables(self) -> set[str]:
        return set().union(*(entry.partitions.tables() for entry in self.chain))


def _full_reason(entries: list[CatalogEntry], now: datetime, policy: PlanPolicy) -> str | None:
    """Why the next backup must be a full (None: an incremental will do). ``entries``: the scope's OK entries from
    its newest full on (empty: none to build on)."""
    if policy.always_full:
        return "the policy asks for full backups only"
    if not entries:
        return "no good snapshot of this database to build on"
    incrementals = len(entries) - 1
    if policy.max_incrementals is not None and incrementals >= policy.max_incrementals:
        return f"{incrementals} incremental(s) since the last full (limit {policy.max_incrementals})"
    full = entries[0]
    if policy.max_full_age is not None and full.backup_time is not None and now - full.backup_time >= \
            policy.max_full_age:
        return f"the last full {full.label} is older than {policy.max_full_age}"
    return None


def _table_plans(selected: list[PartitionState], current: list[PartitionState]) -> tuple[TablePlan, ...]:
    by_table: dict[str, set[str]] = {}
    for s in selected:
        by_table.setdefault(s.table, set()).add(s.partition)
    all_parts: dict[str, set[str]] = {}
    for s in current:
        all_parts.setdefault(s.table, set()).add(s.partition)
    return tuple(TablePlan(t, tuple(sorted(ps)), set(ps) == all_parts.get(t, set()))
                 for t, ps in sorted(by_table.items()))


def _opt_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)
