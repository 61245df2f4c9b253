"""Point-in-time resolution by partition (engine/resolve.py): siblings, tombstones, objects, the job order StarRocks
accepts, and a property over random histories planned from stale catalogs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sr_airflow.engine.catalog import (
    Catalog,
    PartitionRecord,
    SnapshotKind,
    SnapshotObjects,
    TableCensus,
    Tombstone,
)
from sr_airflow.engine.errors import RestoreRefusedError, SnapshotNotFoundError
from sr_airflow.engine.planner import PlanPolicy, plan_backup, tombstones_now
from sr_airflow.engine.resolve import needed_labels, resolve_point_in_time
from sr_airflow.engine.statements import RestoreRequest, render_restore
from tests.engine.strategies_catalog import START, make_entry

H = timedelta(hours=1)
INC = SnapshotKind.INCREMENTAL
NEVER = PlanPolicy(max_incrementals=None, max_full_age=None)


def _rec(table, partition, pid, version, rows=None):
    return PartitionRecord(table, partition, pid, version, rows)


def _with_objects(entry, **objects):
    return entry.__class__(**{**entry.__dict__, "objects": SnapshotObjects(**objects).to_dict()})


def _partitions(plan) -> dict:
    return {k: (h.record.partition_id, h.record.version, h.label) for k, h in plan.state.items()}


def test_siblings_planned_from_one_parent_both_count():
    # two incrementals planned from the same parent (an overlapping run), each holding a different partition:
    # a restore of the newest holds both, each partition moved once
    catalog = Catalog([
        make_entry("full", START, partitions=[_rec("t", "p1", 1, 2), _rec("t", "p2", 2, 2), _rec("t", "p3", 3, 2)]),
        make_entry("inc_a", START + H, snapshot_kind=INC, parent="full", partitions=[_rec("t", "p1", 1, 3)]),
        make_entry("inc_b", START + 2 * H, snapshot_kind=INC, parent="full", partitions=[_rec("t", "p2", 2, 3)]),
    ])
    plan = resolve_point_in_time(catalog, "db1")
    assert _partitions(plan) == {("t", "p1"): (1, 3, "inc_a"), ("t", "p2"): (2, 3, "inc_b"),
                                 ("t", "p3"): (3, 2, "full")}
    assert plan.target.label == "inc_b"
    # the oldest job holding the table creates it, the incrementals add theirs, oldest first
    assert [(s.label, [(t.table, t.partitions, t.whole_table) for t in s.tables], s.creates) for s in plan.steps] == [
        ("full", [("t", ("p3",), False)], ("t",)), ("inc_a", [("t", ("p1",), True)], ()),
        ("inc_b", [("t", ("p2",), True)], ())]
    moved = [p for s in plan.steps for t in s.tables for p in t.partitions]
    assert sorted(moved) == ["p1", "p2", "p3"]  # each partition exactly once
    statement = render_restore(RestoreRequest(label="full", repository="r", scope=plan.steps[0].to_scope(
        target_database="copy"), backup_timestamp=plan.steps[0].backup_timestamp))
    assert "DATABASE `db1` AS `copy` ON (ALL VIEWS, ALL FUNCTIONS, TABLE `t` PARTITION (`p3`))" in statement


def test_a_point_in_time_reads_only_snapshots_at_or_before_it_and_applies_tombstones():
    catalog = Catalog([
        make_entry("full", START, partitions=[_rec("a", "p1", 1, 2), _rec("a", "p2", 2, 2), _rec("b", "b", 3, 2)]),
        make_entry("inc_1", START + H, snapshot_kind=INC, parent="full", partitions=[_rec("a", "p1", 1, 3)],
                   tombstones=[Tombstone("a", "p2")]),
        make_entry("inc_2", START + 2 * H, snapshot_kind=INC, parent="inc_1", partitions=[_rec("c", "c", 4, 2)],
                   tombstones=[Tombstone("b")]),
        make_entry("inc_bad", START + 3 * H, snapshot_kind=INC, parent="inc_2", status="failed"),
        make_entry("full_2", START + 4 * H, partitions=[_rec("c", "c", 4, 5)]),
    ])
    at = resolve_point_in_time(catalog, "db1", START + H + timedelta(minutes=5))
    assert _partitions(at) == {("a", "p1"): (1, 3, "inc_1"), ("b", "b"): (3, 2, "full")}
    assert at.labels == ("full", "inc_1")
    later = resolve_point_in_time(catalog, "db1", START + 3 * H)
    assert _partitions(later) == {("a", "p1"): (1, 3, "inc_1"), ("c", "c"): (4, 2, "inc_2")}
    assert _partitions(resolve_point_in_time(catalog, "db1")) == {("c", "c"): (4, 5, "full_2")}  # a full ends
    only_c = resolve_point_in_time(catalog, "db1", START + 3 * H, tables=["c"])
    assert only_c.labels == ("inc_2",) and only_c.requested_tables == ("c",)
    with pytest.raises(SnapshotNotFoundError, match=r"Table\(s\) zzz of database 'db1' are in no snapshot"):
        resolve_point_in_time(catalog, "db1", START + 3 * H, tables=["zzz"])
    with pytest.raises(SnapshotNotFoundError, match="No good full snapshot of database 'db1' covers 2023"):
        resolve_point_in_time(catalog, "db1", START.replace(year=2023))
    with pytest.raises(SnapshotNotFoundError, match="The catalog has no good snapshot of database 'other'"):
        resolve_point_in_time(catalog, "other")


def test_an_incremental_without_a_full_before_it_is_not_a_restore_point():
    catalog = Catalog([make_entry("orphan", START, snapshot_kind=INC, parent="gone", partitions=[_rec("t", "p", 1,
                                                                                                      2)])])
    with pytest.raises(SnapshotNotFoundError, match="No good full snapshot"):
        resolve_point_in_time(catalog, "db1")


def test_objects_come_from_the_newest_snapshot_holding_them():
    full = _with_objects(make_entry("full", START, partitions=[_rec("t", "p1", 1, 2)]),
                         tables={"t": TableCensus("s1", "range")}, views={"v": "d1"},
                         functions={"f": "x"}, held={"views": ("v",), "functions": ("f",)})
    inc = _with_objects(make_entry("inc", START + H, snapshot_kind=INC, parent="full", partitions=[_rec("t", "p1", 1,
                                                                                                        3)]),
                        tables={"t": TableCensus("s1", "range")}, views={"v": "d2", "w": "d3"},
                        held={"views": ("v", "w")}, reasons={"view v": "view_changed", "view w": "new_view"})
    plan = resolve_point_in_time(Catalog([full, inc]), "db1")
    # f was dropped (not in the newest census); v and w come from inc, with t's partition
    assert plan.objects == {"views": {"v": "inc", "w": "inc"}}
    assert [(s.label, dict(s.objects)) for s in plan.steps] == [("inc", {"views": ("v", "w")})]
    scope = plan.steps[0].to_scope()
    assert [(r.kind.value, r.name) for r in scope.objects] == [("TABLE", "t"), ("VIEW", "v"), ("VIEW", "w")]
    # entries recorded before objects were: the full's job brings every object it holds
    old = resolve_point_in_time(Catalog([make_entry("old", START, partitions=[_rec("t", "p1", 1, 2)])]), "db1")
    assert old.steps[0].all_objects and "ALL VIEWS" in render_restore(RestoreRequest(
        label="old", repository="r", scope=old.steps[0].to_scope(), backup_timestamp=old.steps[0].backup_timestamp))


def test_a_list_table_is_created_by_a_snapshot_holding_all_its_partitions():
    # StarRocks adds no partition to an existing non-range table on restore (RestoreJob.checkAndPrepareMeta):
    # the creating job names every partition, the newer copy overwrites its own afterwards
    info = {"tables": {"l": TableCensus("s", "list")}}
    full = _with_objects(make_entry("full", START, partitions=[_rec("l", "a", 1, 2), _rec("l", "b", 2, 2)]), **info)
    inc = _with_objects(make_entry("inc", START + H, snapshot_kind=INC, parent="full", partitions=[_rec("l", "a", 1,
                                                                                                        3)]),
                        **info)
    plan = resolve_point_in_time(Catalog([full, inc]), "db1")
    assert [(s.label, s.tables[0].partitions, s.creates) for s in plan.steps] == [
        ("full", ("a", "b"), ("l",)), ("inc", ("a",), ())]
    lonely = _with_objects(make_entry("inc2", START + 2 * H, snapshot_kind=INC, parent="inc",
                                      partitions=[_rec("l", "c", 5, 2)]), **info)
    with pytest.raises(RestoreRefusedError, match="Table 'l' is not range-partitioned and no single snapshot holds"):
        resolve_point_in_time(Catalog([full, inc, lonely]), "db1")


def test_a_table_of_two_recorded_schemas_is_refused_before_anything_is_sent():
    full = _with_objects(make_entry("full", START, partitions=[_rec("t", "p1", 1, 2), _rec("t", "p2", 2, 2)]),
                         tables={"t": TableCensus("old", "range")})
    inc = _with_objects(make_entry("inc", START + H, snapshot_kind=INC, parent="full", partitions=[_rec("t", "p1", 1,
                                                                                                        3)]),
                        tables={"t": TableCensus("new", "range")})
    with pytest.raises(RestoreRefusedError, match="Table 't' would be restored from snapshots of different schemas"):
        resolve_point_in_time(Catalog([full, inc]), "db1")


def test_excluded_tables_are_reported():
    full = _with_objects(make_entry("full", START, partitions=[_rec("t", "p1", 1, 2)]),
                         tables={"t": TableCensus()}, excluded={"u": "it has temporary partitions"})
    plan = resolve_point_in_time(Catalog([full]), "db1")
    assert plan.excluded == {"u": "left out of snapshot full: it has temporary partitions; not restored"}
    assert f"  left out: table u: {plan.excluded['u']}" in plan.describe()


# ---- the property: histories planned from stale catalogs, with overlapping runs

@st.composite
def planned_histories(draw):
    """(entries, truth): a database changing between backups; each backup planned by the real planner from the
    catalog as it stood some steps earlier (an overlapping run), holding the plan's partitions as they are when
    it runs (plus, sometimes, other partitions: a logical-date run), tombstones read when it runs; parents
    arbitrary; some jobs fail. ``truth[label]``: the database when that snapshot was taken."""
    ids = iter(range(1, 10_000))
    state = {(t, p): (next(ids), 2) for t in ("a", "b") for p in ("p1", "p2")}
    entries, truth = [], {}
    moment = START
    for i in range(draw(st.integers(1, 9))):
        for key in list(state):
            action = draw(st.sampled_from(["keep", "keep", "bump", "drop", "recreate"]))
            if action == "bump":
                state[key] = (state[key][0], state[key][1] + 1)
            elif action == "drop":
                del state[key]
            elif action == "recreate":
                state[key] = (next(ids), draw(st.integers(1, 3)))
        for key in draw(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from(["p1", "p2", "p3"])),
                                 max_size=2)):
            state.setdefault(key, (next(ids), 1))
        if not state:
            state[("a", "p1")] = (next(ids), 1)
        moment += timedelta(minutes=draw(st.integers(1, 90)))
        rows = [("db1", t, p, pid, v, None, v * 10, "1KB", False) for (t, p), (pid, v) in sorted(state.items())]
        stale = draw(st.integers(max(0, len(entries) - 3), len(entries)))
        policy = PlanPolicy(always_full=True) if draw(st.integers(0, 5)) == 0 else NEVER
        plan = plan_backup(Catalog(entries[:stale]), "db1", rows, now=moment, policy=policy)
        if plan.is_empty:
            continue
        keys = {p.key for p in plan.partitions}
        if plan.snapshot_kind is INC:
            keys |= set(draw(st.lists(st.sampled_from(sorted(state)), max_size=2)))
            tombstones = tombstones_now(Catalog(entries), "db1", rows)
        else:
            tombstones = ()
        records = [_rec(t, p, *state[(t, p)]) for t, p in sorted(keys)]
        status = draw(st.sampled_from(["ok"] * 5 + ["failed"]))
        labels = [e.label for e in entries]
        parent = draw(st.sampled_from(labels)) if plan.snapshot_kind is INC and labels else None
        if plan.snapshot_kind is INC and parent is None:
            parent = "nowhere"
        label = f"s{i:02d}"
        entries.append(make_entry(label, moment, snapshot_kind=plan.snapshot_kind, parent=parent, status=status,
                                  partitions=records,
                                  tombstones=tombstones))
        if status == "ok":
            truth[label] = dict(state)
    return entries, truth


@settings(max_examples=300, deadline=None)
@given(planned_histories())
def test_every_snapshot_moment_restores_the_database_as_it_was(history):
    entries, truth = history
    catalog = Catalog(entries)
    for entry in entries:
        if entry.label not in truth:
            continue
        try:
            plan = resolve_point_in_time(catalog, "db1", entry.backup_time)
        except SnapshotNotFoundError:
            assert not any(e.snapshot_kind is SnapshotKind.FULL and e.is_good and e.backup_time <= entry.backup_time
                           for e in entries)
            continue
        assert {k: (h.record.partition_id, h.record.version) for k, h in plan.state.items()} == truth[entry.label]
        moved = sorted((t.table, p) for s in plan.steps for t in s.tables for p in t.partitions)
        assert moved == sorted(plan.state)  # each partition exactly once
        assert len(plan.steps) == len(set(plan.labels))  # range tables: one job per snapshot
        # retention keeps what this point reads: the same answer from those entries alone
        kept = Catalog(e for e in entries if e.label in needed_labels(catalog, "db1", entry.backup_time))
        again = resolve_point_in_time(kept, "db1", entry.backup_time)
        assert again.state == plan.state and again.labels == plan.labels


def test_objects_held_by_a_full_recorded_without_census_come_with_it():
    full = make_entry("full", START, partitions=[_rec("t", "p1", 1, 2)])  # e.g. sr_full_backup's whole database
    inc = _with_objects(make_entry("inc", START + H, snapshot_kind=INC, parent="full", partitions=[_rec("t", "p1", 1,
                                                                                                        3)]),
                        tables={"t": TableCensus("s1", "range")}, views={"v": "d1", "w": "d2"},
                        held={"views": ("w",)}, reasons={"view w": "new_view"})
    plan = resolve_point_in_time(Catalog([full, inc]), "db1")
    assert plan.missing_objects == () and plan.objects == {"views": {"w": "inc"}}
    assert [(s.label, s.all_objects, dict(s.objects)) for s in plan.steps] == [
        ("full", True, {}), ("inc", False, {"views": ("w",)})]
