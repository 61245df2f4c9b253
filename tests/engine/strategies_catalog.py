"""Hypothesis strategies for catalog histories and database states, shared by the engine tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from sr_airflow.engine.catalog import Catalog, CatalogEntry, EntryStatus, PartitionRecord, SnapshotKind, Tombstone
from sr_airflow.engine.retention import RetentionPolicy
from sr_airflow.engine.timestamps import format_backup_timestamp

START = datetime(2024, 1, 1, tzinfo=UTC)
TABLES = ["orders", "users", "events", "t`q"]
PARTITIONS = [f"p{i}" for i in range(6)]


def make_entry(label: str, moment: datetime, *, snapshot_kind=SnapshotKind.FULL, parent=None, status=EntryStatus.OK,
               database="db1", partitions=(), tombstones=(), group=None) -> CatalogEntry:
    # an OK snapshot has its time; so has one retention began deleting (it was OK before)
    timed = EntryStatus(status) in (EntryStatus.OK, EntryStatus.DELETING)
    return CatalogEntry(label=label, repository="repo", database=database, snapshot_kind=snapshot_kind, status=status,
                        backup_timestamp=format_backup_timestamp(moment) if timed else None,
                        backup_time=moment if timed else None, parent_label=parent, partitions=tuple(partitions),
                        tombstones=tuple(tombstones), created_at=moment, updated_at=moment,
                        scope={"tables": list(group)} if group else {})


PARENTS = ["good of its chain"] * 5 + ["any earlier", "other database", "orphan", "none"]


@st.composite
def histories(draw, max_len: int = 14, databases=("db1", "db2"), messy: bool = False) -> Catalog:
    """A catalog as overlapping runs build it, and as time and failures leave it: an incremental mostly names as
    parent an earlier good snapshot of its chain group (the newest, or an older one when two runs planned from the
    same catalog: siblings), but some name any earlier entry (failed, pending, being deleted, another group's),
    another database's snapshot, or a label no longer in the catalog (an orphan); some drop a partition or a table
    (tombstones); some jobs fail, are still pending, or were being deleted by retention (``deleting``); several
    snapshots may share one timestamp. Without ``messy``: only well-formed chains (good parents of the same chain
    group, distinct times, no ``deleting`` entries), as the restore-chain properties assume."""
    n = draw(st.integers(1, max_len))
    moment = START
    entries: list[CatalogEntry] = []
    for i in range(n):
        moment += timedelta(hours=draw(st.integers(0 if messy else 1, 80)))  # 0: the previous one's timestamp
        db = draw(st.sampled_from(databases))
        group = draw(st.sampled_from([None, None, ("orders",), ("events", "users")]))
        status = draw(st.sampled_from([EntryStatus.OK] * 6 + [EntryStatus.FAILED, EntryStatus.PENDING]
                                      + [EntryStatus.DELETING] * messy))
        how = draw(st.sampled_from(PARENTS)) if messy else PARENTS[0]
        parent = None
        if how == "good of its chain":
            bases = [e for e in entries if e.database == db and e.chain_tables == group and e.is_good]
            if bases and draw(st.integers(0, 9)) < 7:
                parent = draw(st.sampled_from(bases[-3:])).label
        elif how == "any earlier" and entries:
            parent = draw(st.sampled_from(entries)).label
        elif how == "other database":
            others = [e for e in entries if e.database != db and e.is_good]
            parent = draw(st.sampled_from(others)).label if others else None
        elif how == "orphan":
            parent = f"gone_{i:03d}"
        incremental = parent is not None
        kind = SnapshotKind.INCREMENTAL if incremental else SnapshotKind.FULL
        parts = tuple(PartitionRecord(t, f"p{i % 6}", 1000 + i, i + 2) for t in (group or ("orders",)))
        tombstones = ()
        if incremental and draw(st.integers(0, 4)) == 0:
            table = draw(st.sampled_from(group or TABLES))
            tombstones = (Tombstone(table, draw(st.none() | st.sampled_from(PARTITIONS))),)
        entries.append(make_entry(f"snap_{i:03d}", moment, snapshot_kind=kind, parent=parent, status=status,
                                  database=db,
                                  partitions=parts, tombstones=tombstones, group=group))
    return Catalog(entries)


@st.composite
def retention_policies(draw) -> RetentionPolicy:
    opt = st.none() | st.integers(0, 6)
    keep_last, daily, weekly, monthly = draw(opt), draw(opt), draw(opt), draw(opt)
    max_age = draw(st.none() | st.integers(1, 40).map(lambda d: timedelta(days=d)))
    if all(v is None for v in (keep_last, daily, weekly, monthly, max_age)):
        keep_last = 1
    return RetentionPolicy(keep_last=keep_last, keep_daily=daily, keep_weekly=weekly, keep_monthly=monthly,
                           max_age=max_age, pending_grace=timedelta(hours=draw(st.integers(0, 72))))


# A database state: (table, partition) -> (partition id, visible version)
db_states = st.dictionaries(
    st.tuples(st.sampled_from(TABLES), st.sampled_from(PARTITIONS)),
    st.tuples(st.integers(1, 10_000), st.integers(1, 50)),
    min_size=1, max_size=16,
)


@st.composite
def changes(draw, state: dict) -> tuple[dict, set, set, set]:
    """A random change to ``state``: (new state, changed-or-new keys, dropped partition keys, dropped tables)."""
    new = dict(state)
    changed: set = set()
    for key in list(new):
        action = draw(st.sampled_from(["keep", "keep", "bump", "drop", "recreate"]))
        pid, version = new[key]
        if action == "bump":
            new[key] = (pid, version + draw(st.integers(1, 5)))
            changed.add(key)
        elif action == "drop":
            del new[key]
        elif action == "recreate":  # dropped and added again: new id, version back to a small number
            new[key] = (pid + 100_000, draw(st.integers(1, 50)))
            changed.add(key)
    added = draw(st.dictionaries(st.tuples(st.sampled_from(TABLES), st.sampled_from(PARTITIONS)),
                                 st.tuples(st.integers(200_000, 300_000), st.integers(1, 50)), max_size=4))
    for key, value in added.items():
        if key not in new:
            new[key] = value
            changed.add(key)
        elif key not in state:
            pass
    new_tables = {t for t, _ in new}
    dropped_tables = {t for t, _ in state if t not in new_tables}
    dropped_parts = {k for k in state if k not in new and k[0] in new_tables}
    return new, changed, dropped_parts, dropped_tables


def rows_for(state: dict, database: str = "db1") -> list[tuple]:
    """partitions_meta rows in PARTITIONS_META_COLUMNS order."""
    return [(database, t, p, pid, v, "2024-01-01 00:00:00", v * 10, f"{v}.5KB", False)
            for (t, p), (pid, v) in sorted(state.items())]
