"""Retention: which snapshots to keep (last N, daily/weekly/monthly, maximum age) and an executor that deletes the
rest. Never deleted: a snapshot that a restore to a kept point in time reads (by partition: the newest full
before it and every OK snapshot of its scope after that full, engine/resolve.py), a kept one's ancestors, and
the newest good full of each database. A dry run lists and changes nothing. Pure Python: storage and SQL are
reached through the small protocols below."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sr_airflow.engine.catalog import Catalog, CatalogEntry, EntryStatus, SnapshotKind, scope_entries
from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.quoting import quote_identifier
from sr_airflow.engine.resolve import needed_labels
from sr_airflow.engine.version import ServerVersion

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionPolicy:
    """Keep the union of: the newest ``keep_last`` snapshots, the newest snapshot of each of the last
    ``keep_daily`` days / ``keep_weekly`` ISO weeks / ``keep_monthly`` months (UTC) that have one; none older than
    ``max_age``. With only ``max_age``, every good snapshot younger than it is kept. Pending or failed entries
    younger than ``pending_grace`` are left alone (a job may still be running)."""

    keep_last: int | None = None
    keep_daily: int | None = None
    keep_weekly: int | None = None
    keep_monthly: int | None = None
    max_age: timedelta | None = None
    pending_grace: timedelta = timedelta(days=2)

    def __post_init__(self) -> None:
        for name in ("keep_last", "keep_daily", "keep_weekly", "keep_monthly"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise InvalidArgumentError(f"RetentionPolicy.{name} must be a whole number >= 0, got {value!r}.")
        if self.max_age is not None and self.max_age <= timedelta(0):
            raise InvalidArgumentError(f"RetentionPolicy.max_age must be positive, got {self.max_age}.")
        if not self.has_keep_rule and self.max_age is None:
            raise InvalidArgumentError("RetentionPolicy needs at least one of keep_last, keep_daily, keep_weekly, "
                                       "keep_monthly or max_age.")

    @property
    def has_keep_rule(self) -> bool:
        return any(v is not None for v in (self.keep_last, self.keep_daily, self.keep_weekly, self.keep_monthly))


@dataclass(frozen=True)
class RetentionPlan:
    keep: tuple[str, ...]
    delete: tuple[str, ...]
    reasons: dict[str, tuple[str, ...]] = field(default_factory=dict)


def plan_retention(catalog: Catalog, policy: RetentionPolicy, *, now: datetime,
                   databases: Iterable[str] | None = None) -> RetentionPlan:
    """Decide, per database, which catalog entries to keep and which to delete (newest first)."""
    reasons: dict[str, list[str]] = {}
    keep: set[str] = set()
    dbs = set(databases) if databases is not None else set(catalog.databases())

    def mark(entry: CatalogEntry, why: str) -> None:
        keep.add(entry.label)
        reasons.setdefault(entry.label, []).append(why)

    for db in dbs:
        entries = catalog.entries(db)
        for group in sorted({e.chain_tables for e in entries}, key=lambda g: (g is not None, g or ())):
            # each chain group (the whole database, or one table group) keeps its own snapshots
            members = [e for e in entries if e.chain_tables == group]
            _keep_rules(catalog, members, policy, now, mark)
        for e in entries:
            if e.status in (EntryStatus.PENDING, EntryStatus.FAILED) and _age(e, now) < policy.pending_grace:
                mark(e, f"{e.status.value} and younger than {policy.pending_grace}")
    # Until nothing more is kept (an ancestor kept for the second rule is a kept point for the first):
    read_for: set[str] = set()
    ancestors_of: set[str] = set()
    while not keep <= read_for or not keep <= ancestors_of:
        # a kept point in time keeps every snapshot its restore reads (engine/resolve.py): the newest full at or
        # before it and every OK snapshot of its scope after that full (siblings included), in its own database
        for label in sorted(keep - read_for):
            read_for.add(label)
            entry = catalog.get(label)
            if entry.is_good and entry.backup_time is not None:
                for needed in sorted(needed_labels(catalog, entry.database, entry.backup_time,
                                                   tables=entry.chain_tables)):
                    if needed != label:
                        mark(catalog.get(needed), f"read by a restore to {entry.label}")
        # and, for people reading the catalog, a kept snapshot's ancestors, whatever database records them
        for label in sorted(keep - ancestors_of):
            ancestors_of.add(label)
            entry, seen = catalog.get(label), {label}
            parent = entry.parent_label
            while parent is not None and parent in catalog and parent not in seen:
                seen.add(parent)
                mark(catalog.get(parent), f"needed by {entry.label}")
                parent = catalog.get(parent).parent_label
    in_scope = [e for e in catalog if e.database in dbs]
    delete = [e.label for e in reversed(in_scope) if e.label not in keep]
    for label in delete:
        reasons.setdefault(label, []).append("matched no keep rule")
    kept = tuple(e.label for e in in_scope if e.label in keep)
    return RetentionPlan(kept, tuple(delete), {k: tuple(v) for k, v in reasons.items()})


def _keep_rules(catalog: Catalog, entries: list[CatalogEntry], policy: RetentionPolicy, now: datetime,
                mark: Callable[[CatalogEntry, str], None]) -> None:
    usable = [e for e in entries if e.is_good and e.backup_time is not None
              and _restorable(catalog, e)]
    in_age = [e for e in usable if policy.max_age is None or now - e.backup_time <= policy.max_age]
    if policy.keep_last:
        for e in in_age[-policy.keep_last:]:
            mark(e, f"one of the last {policy.keep_last}")
    for count, name, bucket in ((policy.keep_daily, "daily", _day), (policy.keep_weekly, "weekly", _week),
                                (policy.keep_monthly, "monthly", _month)):
        if count:
            newest: dict[Any, CatalogEntry] = {}
            for e in in_age:
                newest[bucket(e.backup_time)] = e
            for b in sorted(newest)[-count:]:
                mark(newest[b], f"{name} {b}")
    if not policy.has_keep_rule:
        for e in in_age:
            mark(e, f"younger than {policy.max_age}")
    fulls = [e for e in usable if e.snapshot_kind is SnapshotKind.FULL]
    if fulls:
        mark(fulls[-1], "newest good full")


def _restorable(catalog: Catalog, entry: CatalogEntry) -> bool:
    """A point in time a restore can reach: a good full of its scope at or before it."""
    read = scope_entries(catalog, entry.database, entry.backup_time, tables=entry.chain_tables)
    return bool(read) and read[0].snapshot_kind is SnapshotKind.FULL


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def _week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def _month(moment: datetime) -> str:
    return f"{moment.year}-{moment.month:02d}"


def _age(entry: CatalogEntry, now: datetime) -> timedelta:
    moment = entry.backup_time or entry.created_at or entry.updated_at
    return timedelta.max if moment is None else now - moment


class SnapshotStorage(Protocol):
    def delete_snapshot(self, repo: str, label: str) -> Any: ...


class CatalogWriter(Protocol):
    repo: str

    def load(self) -> Catalog: ...

    def put(self, entry: CatalogEntry) -> None: ...

    def remove(self, label: str) -> None: ...


@dataclass(frozen=True)
class RetentionReport:
    plan: RetentionPlan
    dry_run: bool
    deleted: tuple[str, ...] = ()
    objects_deleted: int = 0
    delete_requests: int = 0
    used_drop_snapshot: bool = False
    failures: dict[str, str] = field(default_factory=dict)


def drop_snapshot_sql(label: str, repo: str) -> str:
    snapshot = quote_identifier(label, argument="snapshot")
    return f"DROP SNAPSHOT {snapshot} ON {quote_identifier(repo, argument='repository')}"


class RetentionExecutor:
    """Applies a retention plan: mark ``deleting`` in the catalog, ``DROP SNAPSHOT`` where the server has it
    (4.2+), delete the snapshot's files through storage, then remove the catalog entry."""

    def __init__(self, storage: SnapshotStorage, catalog_store: CatalogWriter, *,
                 execute: Callable[[str], Any] | None = None, server_version: str | ServerVersion | None = None):
        self.storage = storage
        self.catalog_store = catalog_store
        self.execute = execute
        if isinstance(server_version, str):
            server_version = ServerVersion.parse(server_version)
        # None: unknown, so DROP SNAPSHOT is tried once and a refusal means "not on this server".
        self._drop_supported: bool | None = None if server_version is None else server_version.has_drop_snapshot
        if execute is None:
            self._drop_supported = False

    def run(self, policy: RetentionPolicy, *, now: datetime, dry_run: bool = True,
            databases: Iterable[str] | None = None) -> RetentionReport:
        catalog = self.catalog_store.load()
        plan = plan_retention(catalog, policy, now=now, databases=databases)
        for label in plan.delete:
            log.info("Retention %s snapshot %s: %s.", "would delete" if dry_run else "deletes", label,
                     "; ".join(plan.reasons.get(label, ())))
        if dry_run:
            return RetentionReport(plan, True)
        repo = self.catalog_store.repo
        deleted, failures = [], {}
        objects = requests = 0
        used_drop = False
        for label in plan.delete:
            entry = catalog.get(label)
            try:
                if entry.status is not EntryStatus.DELETING:
                    self.catalog_store.put(entry.with_status(EntryStatus.DELETING, now=now))
                used_drop = self._drop(label, repo) or used_drop
                report = self.storage.delete_snapshot(repo, label)
                objects += getattr(report, "objects", 0)
                requests += getattr(report, "requests", 0)
                self.catalog_store.remove(label)
                deleted.append(label)
            except Exception as exc:  # noqa: BLE001 - one failure must not stop the others; it is reported
                log.error("Retention could not delete snapshot %s: %s", label, exc)
                failures[label] = f"{type(exc).__name__}: {exc}"
        return RetentionReport(plan, False, tuple(deleted), objects, requests, used_drop, failures)

    def _drop(self, label: str, repo: str) -> bool:
        if not self._drop_supported and self._drop_supported is not None:
            return False
        sql = drop_snapshot_sql(label, repo)
        try:
            self.execute(sql)  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - the server decides whether it knows DROP SNAPSHOT
            if self._drop_supported is None:
                log.info("The server does not accept DROP SNAPSHOT (%s); deleting through storage only.",
                         type(exc).__name__)
                self._drop_supported = False
                return False
            # The files are deleted through storage next, which is what counts; the server's view may lag.
            log.warning("DROP SNAPSHOT %s failed (%s); deleting through storage.", label, type(exc).__name__)
            return False
        self._drop_supported = True
        return True
