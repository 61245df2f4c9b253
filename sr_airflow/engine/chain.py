"""Restore-chain resolution: for a database (or some tables) and a point in time, the full snapshot, the ordered
incrementals to apply after it, and what to drop afterwards (tables and partitions dropped since). Pure Python."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sr_airflow.engine.catalog import Catalog, CatalogEntry, HeldPartition, apply_chain
from sr_airflow.engine.errors import SnapshotNotFoundError
from sr_airflow.engine.planner import TablePlan
from sr_airflow.engine.scope import ObjectRef, Scope


@dataclass(frozen=True)
class RestoreLink:
    """One RESTORE to run: the snapshot (label + backup_timestamp) and the tables/partitions to take from it."""

    entry: CatalogEntry
    tables: tuple[TablePlan, ...]

    @property
    def label(self) -> str:
        return self.entry.label

    @property
    def backup_timestamp(self) -> str:
        return self.entry.backup_timestamp or ""

    def to_scope(self, *, target_database: str | None = None, whole_database: bool = False) -> Scope:
        """The RESTORE scope of this link: the whole snapshot (``whole_database``) or its tables/partitions."""
        if whole_database:
            return Scope(database=self.entry.database, target_database=target_database)
        objects = tuple(ObjectRef.table(t.table, () if t.whole_table else t.partitions) for t in self.tables)
        return Scope(database=self.entry.database, objects=objects, target_database=target_database)


@dataclass(frozen=True)
class RestoreChain:
    """``entries``: the whole chain, full first. ``links``: the RESTOREs to run, in order (a snapshot holding
    nothing of the requested tables has none). ``drop_*``: to drop after the last RESTORE."""

    database: str
    target: CatalogEntry
    entries: tuple[CatalogEntry, ...]
    links: tuple[RestoreLink, ...]
    drop_tables: tuple[str, ...]
    drop_partitions: tuple[tuple[str, str], ...]
    final_state: dict[tuple[str, str], HeldPartition]
    requested_tables: tuple[str, ...] | None = None

    def scopes(self, *, target_database: str | None = None) -> list[tuple[RestoreLink, Scope]]:
        """One RESTORE scope per link, in order; the full of an unfiltered chain restores its whole snapshot
        (views, MVs and functions included)."""
        return [(link, link.to_scope(target_database=target_database,
                                     whole_database=i == 0 and link.entry is self.full
                                     and self.requested_tables is None))
                for i, link in enumerate(self.links)]

    @property
    def full(self) -> CatalogEntry:
        return self.entries[0]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(link.label for link in self.links)


def resolve_chain(catalog: Catalog, database: str, at: datetime | None = None, *,
                  tables: Sequence[str] | None = None, label: str | None = None) -> RestoreChain:
    """The chain restoring ``database`` as of ``at`` (newest good snapshot at or before it; None = newest), or as
    of snapshot ``label``. ``tables`` restricts it to those tables. Raises SnapshotNotFoundError if nothing covers."""
    if label is not None:
        target = catalog.get(label)
        if target.database != database:
            raise SnapshotNotFoundError(f"Snapshot {label!r} is of database {target.database!r}, not {database!r}.")
        if not catalog.chain_is_good(label):
            raise SnapshotNotFoundError(f"Snapshot {label!r} or a snapshot it depends on is not good or missing.")
    else:
        target = _newest_covering(catalog, database, at, set(tables) if tables else None)
    chain = catalog.chain_of(target.label)
    wanted = set(tables) if tables else None
    links = []
    state: dict[tuple[str, str], HeldPartition] = {}
    for i, entry in enumerate(chain):
        before_tables = {t for t, _ in state}
        state = apply_chain(chain[: i + 1])  # chains are short: recomputing keeps this obviously right
        records = [r for r in entry.partitions if wanted is None or r.table in wanted]
        if not records:
            continue  # nothing of the requested tables in this snapshot: no RESTORE for it
        by_table: dict[str, list[str]] = {}
        for r in records:
            by_table.setdefault(r.table, []).append(r.partition)
        plans = []
        for table, parts in sorted(by_table.items()):
            now_parts = {p for t, p in state if t == table}
            whole = table not in before_tables or set(parts) == now_parts
            plans.append(TablePlan(table, tuple(sorted(parts)), whole))
        links.append(RestoreLink(entry, tuple(plans)))
    final = apply_chain(chain)
    restored: set[tuple[str, str]] = {r.key for e in chain for r in e.partitions}
    if wanted is not None:
        final = {k: v for k, v in final.items() if k[0] in wanted}
        restored = {k for k in restored if k[0] in wanted}
        missing = sorted(wanted - {t for t, _ in restored})
        if missing:
            raise SnapshotNotFoundError(
                f"Table(s) {', '.join(missing)} of database {database!r} are in no snapshot of the chain ending "
                f"at {target.label!r}.")
    final_tables = {t for t, _ in final}
    drop_tables = tuple(sorted({t for t, _ in restored if t not in final_tables}))
    drop_parts = tuple(sorted(k for k in restored if k[0] in final_tables and k not in final))
    return RestoreChain(database, target, tuple(chain), tuple(links), drop_tables, drop_parts, final,
                        tuple(sorted(wanted)) if wanted is not None else None)


def _newest_covering(catalog: Catalog, database: str, at: datetime | None, wanted: set[str] | None) -> CatalogEntry:
    """Whole-database snapshots serve any request; a table group's snapshots serve requests for its tables."""
    everything = [e for e in catalog.entries(database, good_only=True) if e.backup_time is not None]
    good = [e for e in everything if e.chain_tables is None
            or (wanted is not None and wanted <= set(e.chain_tables))]
    if not good:
        hint = ("; only table-group snapshots exist: name the tables to restore" if everything and wanted is None
                else "")
        raise SnapshotNotFoundError(f"The catalog has no good snapshot of database {database!r}{hint}.")
    for entry in reversed(good):
        if (at is None or entry.backup_time <= at) and catalog.chain_is_good(entry.label):
            return entry
    oldest = good[0]
    raise SnapshotNotFoundError(
        f"No good snapshot of database {database!r} covers {at.isoformat() if at else 'now'}; the oldest good "
        f"one is {oldest.label!r} at {oldest.backup_time.isoformat()}.")
