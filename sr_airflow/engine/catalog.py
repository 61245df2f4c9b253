"""The backup catalog's model: one ``CatalogEntry`` per snapshot, and the ``Catalog`` of a repository. Pure Python.

An entry records what its snapshot holds, partition by partition, with the versions read from the snapshot's own
job-info file (exact, not a clock), what was dropped since its parent (tombstones), and how it was made. Only an
entry with status ``ok`` is a usable snapshot: a pending, failed or deleting one is never planned on or restored.
"""

from __future__ import annotations

import json
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from itertools import islice
from operator import le
from types import MappingProxyType
from typing import Any

from sr_airflow.engine.errors import InvalidArgumentError, SnapshotNotFoundError
from sr_airflow.engine.jobinfo import JobInfo

CATALOG_FORMAT_VERSION = 1


class SnapshotKind(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"


class EntryStatus(StrEnum):
    """``pending``: the job was submitted, not yet proven finished; ``ok``: finished and its job info read;
    ``failed``: cancelled or unreadable; ``deleting``: retention started removing it (a crash leaves this record)."""

    PENDING = "pending"
    OK = "ok"
    FAILED = "failed"
    DELETING = "deleting"

    @property
    def is_good(self) -> bool:
        return self is EntryStatus.OK


PhysicalPartitions = tuple[tuple[int | None, int | None], ...]


@dataclass(frozen=True, slots=True)
class PartitionRecord:
    """A partition held by a snapshot, as its job info records it: ``partition_id`` the logical id, ``version``
    the default physical partition's visible version, ``physical_partitions`` the ``(physical id, version)`` of
    each physical partition (``JobInfo``'s ``PartitionInfo.physical_partitions``; empty in entries written before
    they were recorded). Rows and size come from partitions_meta."""

    table: str
    partition: str
    partition_id: int | None
    version: int | None
    row_count: int | None = None
    data_size: int | None = None
    table_id: int | None = None
    physical_partitions: PhysicalPartitions = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.table, self.partition)


NULL_INT = -(2**63)  # None in a PartitionRecords integer column (no partition id, version or size is this low)
_INT_FIELDS = ("partition_id", "version", "row_count", "data_size", "table_id")
# A held version that equals nothing: a partition recorded without its version is always backed up again.
UNKNOWN_VERSION = object()


class PartitionRecords(Sequence[PartitionRecord]):
    """The partitions one snapshot holds, kept by column: table and partition names dictionary-encoded, the
    integers in ``array('q')`` (``NULL_INT`` for None). A full snapshot of a million partitions takes about
    60 MB this way instead of a Python object per partition. Reads as an immutable sequence of
    ``PartitionRecord`` (built on access); ``tables`` and ``match_keys_of`` serve the planner without building any.

    Physical partitions: the common one, a partition with one physical partition at the partition's version, is
    kept as one id in the ``physical_id`` column; any other (several physical partitions) in a small dict by
    position; ``NULL_INT`` and no dict entry means none recorded.
    """

    __slots__ = ("_tables", "_table_codes", "_names", "_name_codes", "_ints", "_physical_id", "_physical_other",
                 "_spans")

    def __init__(self, records: Iterable[PartitionRecord] = ()):
        tables: dict[str, int] = {}
        names: dict[str, int] = {}
        table_codes, name_codes, physical_id = array("i"), array("i"), array("q")
        other: dict[int, PhysicalPartitions] = {}
        ints = tuple(array("q") for _ in _INT_FIELDS)
        for position, r in enumerate(records):
            table_codes.append(tables.setdefault(r.table, len(tables)))
            name_codes.append(names.setdefault(r.partition, len(names)))
            for column, value in zip(ints, (r.partition_id, r.version, r.row_count, r.data_size, r.table_id),
                                     strict=True):
                column.append(NULL_INT if value is None else value)
            physical_id.append(_compact_physical_id(r.physical_partitions, r.version))
            if physical_id[-1] == NULL_INT and r.physical_partitions:
                other[position] = tuple(r.physical_partitions)
        self._set(tuple(tables), table_codes, tuple(names), name_codes, ints, physical_id, other)

    @classmethod
    def from_columns(cls, tables: Sequence[str], table_codes: array, names: Sequence[str], name_codes: array,
                     ints: Sequence[array], physical_id: array | None = None,
                     physical_other: Mapping[int, PhysicalPartitions] | None = None) -> PartitionRecords:
        """Built straight from columns (the catalog's Parquet reader): codes index ``tables`` / ``names``;
        ``ints`` are the ``array('q')`` columns partition_id, version, row_count, data_size, table_id;
        ``physical_id`` the single physical id of each partition (``NULL_INT``: see ``physical_other``, which
        holds the partitions recorded otherwise by position; both None: no physical partitions recorded)."""
        if physical_id is None:
            physical_id = array("q", [NULL_INT]) * len(table_codes)
        if len(ints) != len(_INT_FIELDS) or any(len(c) != len(table_codes) for c in (name_codes, physical_id, *ints)):
            raise InvalidArgumentError("partition columns must all have one value per partition.")
        self = cls.__new__(cls)
        self._set(tuple(tables), table_codes, tuple(names), name_codes, tuple(ints), physical_id,
                  dict(physical_other or {}))
        return self

    def _set(self, tables, table_codes, names, name_codes, ints, physical_id, physical_other) -> None:
        self._tables, self._table_codes, self._names, self._name_codes = tables, table_codes, names, name_codes
        self._ints, self._physical_id, self._physical_other = ints, physical_id, physical_other
        self._spans: dict[str, range | array] | None = None

    def __len__(self) -> int:
        return len(self._table_codes)

    def __iter__(self) -> Iterator[PartitionRecord]:
        tables, names = self._tables, self._names
        for i, (tc, nc, *ints) in enumerate(zip(self._table_codes, self._name_codes, *self._ints, strict=True)):
            ints = [None if v == NULL_INT else v for v in ints]
            yield PartitionRecord(tables[tc], names[nc], *ints, physical_partitions=self._physical(i, ints[1]))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self)[index]
        i = range(len(self))[index]
        ints = [None if c[i] == NULL_INT else c[i] for c in self._ints]
        return PartitionRecord(self._tables[self._table_codes[i]], self._names[self._name_codes[i]], *ints,
                               physical_partitions=self._physical(i, ints[1]))

    def _physical(self, i: int, version: int | None) -> PhysicalPartitions:
        single = self._physical_id[i]
        if single != NULL_INT:
            return ((single, version),)
        return self._physical_other.get(i, ())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PartitionRecords | tuple | list):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PartitionRecords({len(self)} partitions of {len(self.tables())} tables)"

    def _table_spans(self) -> dict[str, range | array]:
        """Table -> the positions of its records: a range when the records come grouped by table (job info and
        the catalog files list them so), else an array of positions."""
        if self._spans is None:
            codes, spans = self._table_codes, {}
            if all(map(le, codes, islice(codes, 1, None))):
                starts = [bisect_left(codes, code) for code in range(len(self._tables))] + [len(codes)]
                for code, table in enumerate(self._tables):
                    if starts[code] < starts[code + 1]:
                        spans[table] = range(starts[code], starts[code + 1])
            else:
                by_code: dict[int, array] = {}
                for position, code in enumerate(codes):
                    by_code.setdefault(code, array("q")).append(position)
                spans = {self._tables[code]: positions for code, positions in by_code.items()}
            self._spans = spans
        return self._spans

    def tables(self) -> set[str]:
        """The tables this snapshot holds partitions of."""
        return set(self._table_spans())

    def match_keys_of(self, table: str) -> Iterator[tuple[str, Any]]:
        """``(partition, key)`` for each record of ``table``, in order, where ``key`` is what a partitions_meta
        row of that partition must show for the partition to be unchanged (the planner's rule, docs/catalog.md):

        - one physical partition: the pair ``(physical id, version)``, equal to a row's
          ``(PARTITION_ID, VISIBLE_VERSION)``;
        - several: a frozenset of such pairs, equal to the set of the partition's rows;
        - none recorded (entries written before physical partitions were): ``(partition_id, version)``.

        A version recorded as None reads as ``UNKNOWN_VERSION``, which equals nothing."""
        span = self._table_spans().get(table)
        if span is None:
            return iter(())
        columns = (self._name_codes, self._physical_id, self._ints[0], self._ints[1])
        if isinstance(span, range):
            codes, physical, ids, versions = (c[span.start:span.stop] for c in columns)
            positions: Sequence[int] = span
        else:
            codes, physical, ids, versions = ([c[i] for i in span] for c in columns)
            positions = span
        if NULL_INT in versions:
            versions = [UNKNOWN_VERSION if v == NULL_INT else v for v in versions]
        names = map(self._names.__getitem__, codes)
        if NULL_INT not in physical:
            return zip(names, zip(physical, versions, strict=True), strict=True)
        if physical.count(NULL_INT) == len(physical) and not (
                self._physical_other and any(p in self._physical_other for p in positions)):
            if NULL_INT in ids:  # none recorded (an entry written before physical partitions were)
                ids = [None if i == NULL_INT else i for i in ids]
            return zip(names, zip(ids, versions, strict=True), strict=True)
        keys = []
        for position, single, logical, version in zip(positions, physical, ids, versions, strict=True):
            if single != NULL_INT:
                keys.append((single, version))
            elif position in self._physical_other:
                keys.append(frozenset((p, UNKNOWN_VERSION if v is None else v)
                                      for p, v in self._physical_other[position]))
            else:
                keys.append((None if logical == NULL_INT else logical, version))
        return zip(names, keys, strict=True)

    def columns(self) -> dict[str, Any]:
        """The raw columns (for the catalog's Parquet writer): ``tables``/``names`` with their code arrays, the
        integer arrays by field name (``NULL_INT`` for None), ``physical_id`` and ``physical_other``."""
        return {"tables": self._tables, "table_codes": self._table_codes, "names": self._names,
                "name_codes": self._name_codes, **dict(zip(_INT_FIELDS, self._ints, strict=True)),
                "physical_id": self._physical_id, "physical_other": MappingProxyType(self._physical_other)}


def _compact_physical_id(physical: PhysicalPartitions, version: int | None) -> int:
    """The one physical id when ``physical`` is one partition at ``version`` (the common case), else NULL_INT."""
    if len(physical) == 1 and physical[0][0] is not None and physical[0][1] == version:
        return physical[0][0]
    return NULL_INT


@dataclass(frozen=True)
class Tombstone:
    """A table (``partition`` None) or a partition that existed in the parent chain and was dropped since."""

    table: str
    partition: str | None = None


OBJECT_KINDS = ("views", "materialized_views", "functions")


def object_label(kind: str, name: str) -> str:
    """An object of one of ``OBJECT_KINDS``, or of ``tables``, in words (``materialized view m``, ``table t``): the
    key of its shipping reason in ``SnapshotObjects.reasons``, and how plans name it."""
    return f"{kind[:-1].replace('_', ' ')} {name}"


@dataclass(frozen=True)
class TableCensus:
    """A table as the planner saw it: ``fingerprint`` of its schema (``engine/schema.py``), ``partitioning``
    (``range``, ``list``, ``unpartitioned`` or None when unknown), ``colocate_with``: its colocation group, which
    a RESTORE does not bring back (``engine/colocation.py``; None: none, or not recorded)."""

    fingerprint: str | None = None
    partitioning: str | None = None
    colocate_with: str | None = None


@dataclass(frozen=True)
class SnapshotObjects:
    """The catalog's ``objects`` of one entry, typed. ``tables``/``views``/``materialized_views``/``functions``
    are what the database held when the snapshot was planned (name -> fingerprint); ``held`` the views,
    materialized views and functions the snapshot itself holds; ``reasons`` why each table or object was
    shipped (``new_table``, ``schema_changed``, ``new_view``...); ``excluded`` the tables left out and why."""

    tables: Mapping[str, TableCensus] = field(default_factory=dict)
    views: Mapping[str, str | None] = field(default_factory=dict)
    materialized_views: Mapping[str, str | None] = field(default_factory=dict)
    functions: Mapping[str, str | None] = field(default_factory=dict)
    held: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reasons: Mapping[str, str] = field(default_factory=dict)
    excluded: Mapping[str, str] = field(default_factory=dict)

    def of_kind(self, kind: str) -> Mapping[str, str | None]:
        return getattr(self, kind)

    def holds(self, kind: str, name: str) -> bool:
        return name in self.held.get(kind, ())

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables": {t: {"fingerprint": i.fingerprint, "partitioning": i.partitioning,
                           **({"colocate_with": i.colocate_with} if i.colocate_with else {})}
                       for t, i in sorted(self.tables.items())},
            **{kind: dict(sorted(self.of_kind(kind).items())) for kind in OBJECT_KINDS},
            "held": {kind: sorted(self.held.get(kind, ())) for kind in OBJECT_KINDS},
            "reasons": dict(sorted(self.reasons.items())),
            "excluded": dict(sorted(self.excluded.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SnapshotObjects:
        tables = {t: TableCensus(i.get("fingerprint"), i.get("partitioning"), i.get("colocate_with")) for t, i in
                  (data.get("tables") or {}).items()}
        return cls(tables, *(dict(data.get(kind) or {}) for kind in OBJECT_KINDS),
                   {k: tuple(v) for k, v in (data.get("held") or {}).items() if v}, dict(data.get("reasons") or {}),
                   dict(data.get("excluded") or {}))


@dataclass(frozen=True)
class CatalogEntry:
    label: str
    repository: str
    database: str
    snapshot_kind: SnapshotKind
    status: EntryStatus
    backup_timestamp: str | None = None
    backup_time: datetime | None = None
    parent_label: str | None = None
    database_id: int | None = None
    source_address: str | None = None
    source_version: str | None = None
    scope: Mapping[str, Any] = field(default_factory=dict)
    partitions: PartitionRecords | Iterable[PartitionRecord] = ()
    tombstones: tuple[Tombstone, ...] = ()
    verification: Mapping[str, Any] = field(default_factory=dict)
    phase_seconds: Mapping[str, float] = field(default_factory=dict)
    dag_id: str | None = None
    run_id: str | None = None
    snapshot_bytes: int | None = None
    snapshot_objects: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    message: str | None = None
    objects: Mapping[str, Any] = field(default_factory=dict)
    # the users/roles/grants/resource-groups export beside this snapshot (engine/access_sql.py), a key relative to
    # the location; None: none was taken (entries written before it existed read as None)
    access_file: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "snapshot_kind", SnapshotKind(self.snapshot_kind))
        object.__setattr__(self, "status", EntryStatus(self.status))
        for name in ("scope", "verification", "phase_seconds", "objects"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        if not isinstance(self.partitions, PartitionRecords):
            object.__setattr__(self, "partitions", PartitionRecords(self.partitions))
        object.__setattr__(self, "tombstones", tuple(self.tombstones))
        if not self.label or "/" in self.label:
            raise InvalidArgumentError(f"catalog entry label {self.label!r} must be non-empty and contain no '/'.")
        if self.snapshot_kind is SnapshotKind.INCREMENTAL and not self.parent_label:
            raise InvalidArgumentError(f"incremental catalog entry {self.label!r} must name its parent_label.")
        if self.snapshot_kind is SnapshotKind.FULL and self.parent_label:
            raise InvalidArgumentError(f"full catalog entry {self.label!r} must not have a parent_label.")
        if self.parent_label == self.label:
            raise InvalidArgumentError(f"catalog entry {self.label!r} cannot be its own parent.")
        if self.status is EntryStatus.OK and (not self.backup_timestamp or self.backup_time is None):
            raise InvalidArgumentError(
                f"catalog entry {self.label!r} can be ok only with its backup_timestamp and backup_time.")
        for moment in (self.backup_time, self.created_at, self.updated_at):
            if moment is not None and moment.tzinfo is None:
                raise InvalidArgumentError(f"catalog entry {self.label!r} times must be time-zone aware.")

    @property
    def is_good(self) -> bool:
        return self.status.is_good

    @property
    def chain_tables(self) -> tuple[str, ...] | None:
        """The table group this snapshot's chain covers (``scope["tables"]``), None for the whole database.
        Chains of different groups of one database never mix."""
        tables = self.scope.get("tables")
        return tuple(sorted(tables)) if tables else None

    @property
    def sort_key(self) -> tuple[datetime, str]:
        moment = self.backup_time or self.created_at or datetime.min.replace(tzinfo=UTC)
        return (moment, self.label)

    def with_status(self, status: EntryStatus | str, *, now: datetime | None = None, **changes: Any) -> CatalogEntry:
        return replace(self, status=EntryStatus(status), updated_at=now or datetime.now(UTC), **changes)

    def scope_json(self) -> str:
        return json.dumps(dict(self.scope), sort_keys=True, default=str)

    def objects_json(self) -> str:
        return json.dumps(dict(self.objects), sort_keys=True, default=str)

    @property
    def census(self) -> SnapshotObjects | None:
        """What the database held when this snapshot was planned (tables with their schema fingerprints, views,
        materialized views, functions) and which of those objects the snapshot itself holds; None for entries
        written before it was recorded."""
        return SnapshotObjects.from_dict(self.objects) if self.objects.get("tables") is not None else None

    @property
    def excluded_tables(self) -> Mapping[str, str]:
        """Tables this backup had to leave out, with the reason (e.g. temporary partitions)."""
        return dict(self.objects.get("excluded") or {})


def entry_from_job_info(job_info: JobInfo, *, repository: str, snapshot_kind: SnapshotKind | str,
                        parent_label: str | None = None,
                        partition_stats: Mapping[tuple[str, str], tuple[int | None, int | None]] | None = None,
                        tombstones: Iterable[Tombstone] = (), now: datetime | None = None,
                        **fields: Any) -> CatalogEntry:
    """A good (``ok``) entry for a finished snapshot, versions taken from its job info.

    ``partition_stats`` maps (table, partition) to (row_count, data_size) from the planning query.
    """
    if job_info.timestamp is None:
        raise InvalidArgumentError(f"job info of {job_info.label!r} has no timestamp; read it from storage.")
    if job_info.backup_result not in (None, "succeed"):
        raise InvalidArgumentError(f"snapshot {job_info.label!r} backup_result is {job_info.backup_result!r}.")
    stats = partition_stats or {}
    records = PartitionRecords(
        PartitionRecord(t.name, p.name, p.id, p.version, *stats.get((t.name, p.name), (None, None)), table_id=t.id,
                        physical_partitions=p.physical_partitions)
        for t in job_info.tables for p in t.partitions
    )
    moment = now or datetime.now(UTC)
    return CatalogEntry(
        label=job_info.label, repository=repository, database=job_info.database,
        snapshot_kind=SnapshotKind(snapshot_kind),
        status=EntryStatus.OK, backup_timestamp=job_info.timestamp, backup_time=job_info.backup_time,
        parent_label=parent_label, database_id=job_info.database_id, partitions=records,
        tombstones=tuple(tombstones), created_at=fields.pop("created_at", moment), updated_at=moment, **fields,
    )


def stats_matching_job_info(job_info: JobInfo, states: Iterable[Any]) -> dict[tuple[str, str],
                                                                           tuple[int | None, int | None]]:
    """(table, partition) -> (row_count, data_size) of each partition the snapshot holds, from partitions_meta rows
    (``PartitionState``) read after the job, kept only where the partition's physical partitions are still at the
    ``(id, version)`` the job info recorded: then the rows are those of the snapshot (a load since would have
    moved the version). Summed over physical partitions."""
    rows: dict[tuple[str, str], list] = {}
    for state in states:
        rows.setdefault(state.key, []).append(state)
    stats = {}
    for table in job_info.tables:
        for partition in table.partitions:
            found = rows.get((table.name, partition.name), [])
            now = [(s.partition_id, s.version) for s in found]
            if found and len(now) == len(partition.physical_partitions) and \
                    set(now) == set(partition.physical_partitions) and None not in (
                    counts := [s.row_count for s in found]):
                sizes = [s.data_size for s in found]
                stats[(table.name, partition.name)] = (sum(counts), None if None in sizes else sum(sizes))
    return stats


@dataclass(frozen=True)
class HeldPartition:
    """Where a partition's data is after applying a chain: the record and the label of the snapshot holding it."""

    record: PartitionRecord
    label: str


def scope_entries(catalog: Catalog, database: str, at: datetime | None = None, *,
                  tables: Sequence[str] | None = None, group: Sequence[str] | None = None,
                  exact_group: bool = False) -> list[CatalogEntry]:
    """The OK entries a resolution at ``at`` reads, oldest first, from the newest full at or before ``at``.

    ``exact_group``: only entries of table group ``group`` (None: the whole database) — the planner's scope.
    Otherwise (a restore): whole-database entries, and, when ``tables`` are named, the table groups holding
    all of them."""
    wanted = set(tables) if tables else None

    def in_scope(entry: CatalogEntry) -> bool:
        if exact_group:
            return entry.chain_tables == (tuple(sorted(group)) if group else None)
        return full_covers(entry, wanted)

    good = [e for e in catalog.entries(database, good_only=True)
            if e.backup_time is not None and (at is None or e.backup_time <= at) and in_scope(e)]
    start = 0
    for i, entry in enumerate(good):
        if entry.snapshot_kind is SnapshotKind.FULL:  # in scope, so it covers the request (full_covers)
            start = i
    return good[start:]


def full_covers(entry: CatalogEntry, wanted: set[str] | None) -> bool:
    """A full ends what came before it for everything it covers: the whole database, or its table group when
    the request is within that group."""
    return entry.chain_tables is None or (wanted is not None and wanted <= set(entry.chain_tables))


def resolve_state(entries: Iterable[CatalogEntry]) -> dict[tuple[str, str], HeldPartition]:
    """Every partition the entries (oldest first) leave existing, each with the newest entry holding it."""
    state: dict[tuple[str, str], HeldPartition] = {}
    for entry in entries:
        if entry.snapshot_kind is SnapshotKind.FULL:
            group = entry.chain_tables
            if group is None:
                state.clear()
            else:
                for key in [k for k in state if k[0] in group]:
                    del state[key]
        for tomb in entry.tombstones:
            if tomb.partition is None:
                for key in [k for k in state if k[0] == tomb.table]:
                    del state[key]
            else:
                state.pop((tomb.table, tomb.partition), None)
        for record in entry.partitions:
            state[record.key] = HeldPartition(record, entry.label)
    return state


class Catalog:
    """All entries of one repository (any databases), with the chain relations between them."""

    def __init__(self, entries: Iterable[CatalogEntry] = ()):
        self._by_label: dict[str, CatalogEntry] = {}
        for entry in entries:
            if entry.label in self._by_label:
                raise InvalidArgumentError(f"catalog has two entries labelled {entry.label!r}.")
            self._by_label[entry.label] = entry

    def __iter__(self):
        return iter(sorted(self._by_label.values(), key=lambda e: e.sort_key))

    def __len__(self) -> int:
        return len(self._by_label)

    def __contains__(self, label: object) -> bool:
        return label in self._by_label

    def get(self, label: str) -> CatalogEntry:
        try:
            return self._by_label[label]
        except KeyError:
            raise SnapshotNotFoundError(f"Snapshot {label!r} is not in the catalog.") from None

    def entries(self, database: str | None = None, *, good_only: bool = False) -> list[CatalogEntry]:
        return [e for e in self if (database is None or e.database == database) and (e.is_good or not good_only)]

    def databases(self) -> list[str]:
        return sorted({e.database for e in self._by_label.values()})

    def chain_of(self, label: str) -> list[CatalogEntry]:
        """The entry and its ancestors, full first. Raises SnapshotNotFoundError if a link is missing."""
        chain: list[CatalogEntry] = []
        seen: set[str] = set()
        current: str | None = label
        while current is not None:
            if current in seen:
                raise InvalidArgumentError(f"catalog chain of {label!r} has a cycle at {current!r}.")
            seen.add(current)
            if current not in self._by_label:
                raise SnapshotNotFoundError(
                    f"Snapshot {label!r} depends on {current!r}, which is not in the catalog.")
            entry = self._by_label[current]
            chain.append(entry)
            current = entry.parent_label
        chain.reverse()
        return chain
