"""Retention: policy rules, the safety properties over random histories, and the executor on real storage code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings

from sr_airflow.engine.catalog import Catalog, EntryStatus, SnapshotKind
from sr_airflow.engine.errors import SnapshotNotFoundError
from sr_airflow.engine.resolve import resolve_point_in_time
from sr_airflow.engine.retention import (
    RetentionExecutor,
    RetentionPolicy,
    drop_snapshot_sql,
    plan_retention,
)
from sr_airflow.storage import RepositoryLocation, get_storage
from sr_airflow.storage.catalog_store import CatalogStore
from tests.engine.strategies_catalog import START, histories, make_entry, retention_policies
from tests.storage.layouts import write_snapshot

D = timedelta(days=1)
INC = SnapshotKind.INCREMENTAL


def _daily(n: int = 10) -> list:
    """A full every 4 days, incrementals between."""
    entries, parent = [], None
    for i in range(n):
        full = i % 4 == 0
        label = f"s{i:02d}"
        entries.append(make_entry(label, START + i * D, snapshot_kind=SnapshotKind.FULL if full else INC,
                                  parent=None if full else parent))
        parent = label
    return entries


def test_keep_last_keeps_the_dependencies():
    plan = plan_retention(Catalog(_daily()), RetentionPolicy(keep_last=1), now=START + 10 * D)
    assert plan.keep == ("s08", "s09")
    assert plan.delete == tuple(f"s{i:02d}" for i in range(7, -1, -1))
    assert "needed by s09" in plan.reasons["s08"] and "newest good full" in plan.reasons["s08"]


def test_gfs_buckets_and_max_age():
    entries = _daily(40)  # s00 is Monday 2024-01-01; s39 is Friday 2024-02-09 (ISO week 6)
    plan = plan_retention(Catalog(entries), RetentionPolicy(keep_weekly=2, max_age=timedelta(days=12)),
                          now=START + 40 * D)
    assert plan.reasons["s39"][0] == "weekly 2024-W06" and plan.reasons["s34"][0] == "weekly 2024-W05"
    # s39 needs s37..s36 (full); s34 (Sunday of week 5) needs s33, s32 (full)
    assert plan.keep == ("s32", "s33", "s34", "s36", "s37", "s38", "s39")
    monthly = plan_retention(Catalog(entries), RetentionPolicy(keep_monthly=2, keep_daily=1), now=START + 40 * D)
    assert monthly.reasons["s30"][0] == "monthly 2024-01" and "daily 2024-02-09" in monthly.reasons["s39"]


def test_pending_jobs_are_left_alone_within_the_grace_period():
    entries = _daily(2) + [make_entry("running", START + 2 * D, status="pending")]
    plan = plan_retention(Catalog(entries), RetentionPolicy(keep_last=1), now=START + 2 * D + timedelta(hours=3))
    assert "running" in plan.keep
    plan = plan_retention(Catalog(entries), RetentionPolicy(keep_last=1), now=START + 5 * D)
    assert "running" in plan.delete


def test_a_parent_recorded_under_another_database_is_kept_with_its_child():
    """Found by the messy histories: the ancestor walk stopped at a parent of another database, which that
    database's own plan deleted when it came first (one pair each way, whatever order the databases come in)."""
    entries = [make_entry("parent_in_1", START, database="db1", status="failed"),
               make_entry("parent_in_2", START, database="db2", status="failed"),
               make_entry("full_1", START + D, database="db1"), make_entry("full_2", START + D, database="db2"),
               make_entry("child_in_2", START + 2 * D, database="db2", snapshot_kind=INC, parent="parent_in_1"),
               make_entry("child_in_1", START + 2 * D, database="db1", snapshot_kind=INC, parent="parent_in_2")]
    plan = plan_retention(Catalog(entries), RetentionPolicy(keep_last=1), now=START + 3 * D)
    assert {"child_in_1", "child_in_2", "parent_in_1", "parent_in_2"} <= set(plan.keep)
    assert plan.reasons["parent_in_1"] == ("needed by child_in_2",)


@pytest.mark.parametrize("kwargs,message", [({}, "needs at least one"), ({"keep_last": -1}, "keep_last must be"),
                                            ({"max_age": timedelta(0)}, "max_age must be positive")])
def test_bad_policies(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RetentionPolicy(**kwargs)


@settings(max_examples=200, deadline=None)
@given(catalog=histories(messy=True), policy=retention_policies())
def test_retention_safety_properties(catalog, policy):
    now = max(e.sort_key[0] for e in catalog) + timedelta(hours=1)
    plan = plan_retention(catalog, policy, now=now)
    kept = set(plan.keep)
    assert kept.isdisjoint(plan.delete) and kept | set(plan.delete) == {e.label for e in catalog}
    for label in kept:  # closed under dependencies
        parent = catalog.get(label).parent_label
        assert parent is None or parent not in catalog or parent in kept
    for db in catalog.databases():  # the newest good full of each chain group is kept
        for group in {e.chain_tables for e in catalog.entries(db)}:
            fulls = [e for e in catalog.entries(db, good_only=True)
                     if e.snapshot_kind is SnapshotKind.FULL and e.chain_tables == group]
            if fulls:
                assert fulls[-1].label in kept
    pruned = Catalog(e for e in catalog if e.label in kept)
    for label in kept:  # every kept point in time restores as before, by partition, from kept snapshots only
        entry = catalog.get(label)
        if not entry.is_good:
            continue
        try:
            before = resolve_point_in_time(catalog, entry.database, entry.backup_time, tables=entry.chain_tables)
        except SnapshotNotFoundError:
            continue  # not a restore point (no full of its scope before it), then or now
        after = resolve_point_in_time(pruned, entry.database, entry.backup_time, tables=entry.chain_tables)
        assert after.state == before.state and after.labels == before.labels and set(after.labels) <= kept


def test_sql_and_version_detection():
    assert drop_snapshot_sql("s`1", "repo") == "DROP SNAPSHOT `s``1` ON `repo`"
    with pytest.raises(ValueError, match="is not of the form MAJOR.MINOR.PATCH"):
        RetentionExecutor(None, None, execute=print, server_version="junk")


class _Sql:
    def __init__(self, fail: bool):
        self.fail, self.statements = fail, []

    def __call__(self, sql: str):
        self.statements.append(sql)
        if self.fail:
            raise RuntimeError("Getting syntax error at line 1, column 0. Detail message: DROP SNAPSHOT")
        return []


def _repository(name: str, n: int = 6):
    storage = get_storage(RepositoryLocation("memory", "memory", name, "backup"))
    store = CatalogStore(storage, "repo")
    for entry in _daily(n):
        write_snapshot(storage, "repo", entry.label, content_files=3, threads=1)
        store.put(entry.__class__(**{**entry.__dict__, "repository": "repo"}))
    storage.write("elsewhere/keep.me", b"x")
    return storage, store


@pytest.mark.parametrize("version,fails,expect_drop", [("4.2.0-x", False, True), ("3.5.2-x", False, False),
                                                       (None, True, False), (None, False, True)])
def test_executor_deletes_through_sql_and_storage(version, fails, expect_drop):
    storage, store = _repository(f"ret-{version}-{fails}")
    before = {o.key for o in storage.list("")}
    sql = _Sql(fails)
    executor = RetentionExecutor(storage, store, execute=sql, server_version=version)
    dry = executor.run(RetentionPolicy(keep_last=1), now=START + 6 * D, dry_run=True)
    assert dry.dry_run and dry.plan.delete == ("s03", "s02", "s01", "s00") and dry.deleted == ()
    assert {o.key for o in storage.list("")} == before and sql.statements == []
    report = executor.run(RetentionPolicy(keep_last=1), now=START + 6 * D, dry_run=False)
    assert report.deleted == ("s03", "s02", "s01", "s00") and report.failures == {}
    assert report.used_drop_snapshot is expect_drop
    assert [s.label for s in storage.list_snapshots("repo")] == ["s04", "s05"]
    assert store.labels() == ["s04", "s05"]
    assert storage.exists("elsewhere/keep.me")
    if version == "3.5.2-x":
        assert sql.statements == []
    elif fails:
        assert sql.statements == ["DROP SNAPSHOT `s03` ON `repo`"]  # tried once, then storage only
    else:
        assert sql.statements == [f"DROP SNAPSHOT `{x}` ON `repo`" for x in ("s03", "s02", "s01", "s00")]


def test_a_crash_mid_deletion_leaves_a_deleting_record_that_the_next_run_finishes(monkeypatch):
    storage, store = _repository("ret-crash", 6)
    executor = RetentionExecutor(storage, store)
    real = storage.delete_snapshot

    def crash_after_first_batch(repo, label):
        if label == "s02":  # storage lost in the middle of the run (a fault, not a server behaviour)
            raise ConnectionError("simulated loss of storage mid-deletion")
        return real(repo, label)

    monkeypatch.setattr(storage, "delete_snapshot", crash_after_first_batch)
    report = executor.run(RetentionPolicy(keep_last=1), now=START + 6 * D, dry_run=False)
    assert report.deleted == ("s03", "s01", "s00") and list(report.failures) == ["s02"]
    assert "ConnectionError" in report.failures["s02"]
    assert store.get("s02").status is EntryStatus.DELETING
    assert store.labels() == ["s02", "s04", "s05"]
    monkeypatch.undo()
    report = executor.run(RetentionPolicy(keep_last=1), now=START + 6 * D, dry_run=False)
    assert report.deleted == ("s02",) and report.failures == {}
    assert store.labels() == ["s04", "s05"]
    assert [s.label for s in storage.list_snapshots("repo")] == ["s04", "s05"]
