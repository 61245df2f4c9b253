"""Incremental planning: the query, partitions_meta parsing, full-vs-incremental policy, and a property test."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sr_airflow.engine.catalog import Catalog, PartitionRecord, SnapshotKind, Tombstone
from sr_airflow.engine.planner import (
    PlanPolicy,
    parse_data_size,
    parse_partitions_meta,
    partitions_meta_query,
    plan_backup,
)
from sr_airflow.engine.quoting import quote_string
from tests.engine.strategies_catalog import START, changes, db_states, make_entry, rows_for

NEVER = PlanPolicy(max_incrementals=None, max_full_age=None)


def _full_from(state: dict, label: str = "full_1", moment=START):
    records = [PartitionRecord(t, p, pid, v) for (t, p), (pid, v) in sorted(state.items())]
    return make_entry(label, moment, partitions=records)


def test_query_is_one_select_with_the_database_quoted():
    hostile, table = 'sales" OR "1"="1', 'b"c'
    sql = partitions_meta_query(hostile, tables=["a", table])
    assert sql == ("SELECT DB_NAME, TABLE_NAME, PARTITION_NAME, PARTITION_ID, VISIBLE_VERSION, "
                   "VISIBLE_VERSION_TIME, ROW_COUNT, DATA_SIZE, IS_TEMP, PARTITION_VALUE "
                   "FROM information_schema.partitions_meta "
                   f"WHERE DB_NAME = {quote_string(hostile)} AND TABLE_NAME IN ({quote_string('a')}, "
                   f"{quote_string(table)}) ORDER BY TABLE_NAME, PARTITION_NAME")
    assert '\\"1\\"' in sql  # the quotes inside the name are escaped by quote_string


@pytest.mark.parametrize("text,expected", [("0B", 0), ("1.5KB", 1536), ("2 MB", 2 * 1024**2), ("3.000GB", 3 * 1024**3),
                                           ("1TB", 1024**4), ("junk", None), (None, None), (42, 42)])
def test_data_size_strings(text, expected):
    assert parse_data_size(text) == expected


def test_rows_as_tuples_or_mappings():
    tuples = parse_partitions_meta([("db", "t", "p1", 7, 3, None, 10, "1KB", "false")])
    maps = parse_partitions_meta([{"db_name": "db", "TABLE_NAME": "t", "PARTITION_NAME": "p1", "PARTITION_ID": 7,
                                   "VISIBLE_VERSION": 3, "ROW_COUNT": 10, "DATA_SIZE": "1KB", "IS_TEMP": 0}])
    assert tuples == maps and tuples[0].data_size == 1024 and tuples[0].is_temp is False
    with pytest.raises(ValueError, match="lacks TABLE_NAME"):
        parse_partitions_meta([{"DB_NAME": "db", "PARTITION_NAME": "p"}])


def test_no_base_means_full():
    plan = plan_backup(Catalog(), "db1", rows_for({("t", "p1"): (1, 2)}), now=START)
    assert (plan.snapshot_kind, plan.parent_label, plan.reason) == (SnapshotKind.FULL, None,
                                                           "no good snapshot of this database to build on")
    assert [(t.table, t.partitions, t.whole_table) for t in plan.tables] == [("t", ("p1",), True)]


def test_nothing_changed_gives_an_empty_incremental():
    state = {("t", "p1"): (1, 2), ("t", "p2"): (3, 4)}
    plan = plan_backup(Catalog([_full_from(state)]), "db1", rows_for(state), now=START + timedelta(hours=1),
                       policy=NEVER)
    assert plan.is_empty and plan.snapshot_kind is SnapshotKind.INCREMENTAL and plan.tombstones == ()
    assert plan.reason == "nothing changed since full_1"


def test_policy_forces_a_full_after_n_incrementals_or_d_days():
    state = {("t", "p1"): (1, 2)}
    full = _full_from(state)
    inc = make_entry("inc_1", START + timedelta(days=1), snapshot_kind=SnapshotKind.INCREMENTAL, parent="full_1",
                     partitions=[PartitionRecord("t", "p1", 1, 3)])
    catalog = Catalog([full, inc])
    rows = rows_for({("t", "p1"): (1, 4)})
    by_count = plan_backup(catalog, "db1", rows, now=START + timedelta(days=2),
                           policy=PlanPolicy(max_incrementals=1, max_full_age=None))
    assert by_count.snapshot_kind is SnapshotKind.FULL and "1 incremental(s)" in by_count.reason
    by_age = plan_backup(catalog, "db1", rows, now=START + timedelta(days=8),
                         policy=PlanPolicy(max_incrementals=None, max_full_age=timedelta(days=7)))
    assert by_age.snapshot_kind is SnapshotKind.FULL and "older than" in by_age.reason
    normal = plan_backup(catalog, "db1", rows, now=START + timedelta(days=2), policy=PlanPolicy())
    assert (normal.snapshot_kind, normal.parent_label) == (SnapshotKind.INCREMENTAL, "inc_1")
    with pytest.raises(ValueError, match="max_incrementals must be 0 or more"):
        PlanPolicy(max_incrementals=-1)


def test_versions_come_from_the_snapshot_not_the_plan():
    """A write between planning and the snapshot is in the job info's version, so the next plan does not redo it,
    and a write after the snapshot is found (peers using clocks lose one or the other)."""
    full = _full_from({("t", "p1"): (1, 5)})  # planned at version 4, the job info said 5
    plan = plan_backup(Catalog([full]), "db1", rows_for({("t", "p1"): (1, 5)}), now=START, policy=NEVER)
    assert plan.is_empty
    plan = plan_backup(Catalog([full]), "db1", rows_for({("t", "p1"): (1, 6)}), now=START, policy=NEVER)
    assert [p.key for p in plan.partitions] == [("t", "p1")]


def test_a_table_with_temporary_partitions_is_left_out_whole_and_named():
    # StarRocks refuses BACKUP of such a table (BackupJob: "Do not support backing up table with temp partitions"):
    # everything else is planned, the table is named with the reason, and the full names what it takes
    rows = sorted(rows_for({("t", "p1"): (1, 2), ("u", "p1"): (3, 2)})
                  + [("db1", "t", "tmp_p", 9, 1, None, 0, "0B", True)])
    plan = plan_backup(Catalog(), "db1", rows, now=START)
    assert [p.key for p in plan.partitions] == [("u", "p1")] and plan.temp_partition_tables == ("t",)
    assert list(plan.excluded) == ["t"] and "temporary partitions" in plan.excluded["t"]
    assert not plan.whole_database and [r.name for r in plan.to_scope().objects] == ["u"]
    # an incremental keeps what the catalog holds of the table: no tombstone for a table left out
    full = _full_from({("t", "p1"): (1, 2), ("u", "p1"): (3, 2)})
    later = plan_backup(Catalog([full]), "db1", rows, now=START + timedelta(hours=1), policy=NEVER)
    assert later.tombstones == () and later.is_empty and list(later.excluded) == ["t"]


def test_failed_and_pending_snapshots_are_never_a_base():
    state = {("t", "p1"): (1, 2)}
    failed = make_entry("full_bad", START, status="failed")
    plan = plan_backup(Catalog([failed]), "db1", rows_for(state), now=START)
    assert plan.snapshot_kind is SnapshotKind.FULL


@settings(max_examples=150, deadline=None)
@given(data=st.data(), state=db_states)
def test_plan_after_a_random_change_covers_exactly_the_change(data, state):
    new_state, changed, dropped_parts, dropped_tables = data.draw(changes(state))
    plan = plan_backup(Catalog([_full_from(state)]), "db1", rows_for(new_state), now=START, policy=NEVER)
    assert plan.snapshot_kind is SnapshotKind.INCREMENTAL and plan.parent_label == "full_1"
    assert set(plan.tombstones) == ({Tombstone(t) for t in dropped_tables}
                                    | {Tombstone(t, p) for t, p in dropped_parts})
    if changed or not plan.tombstones:
        assert {p.key for p in plan.partitions} == changed
        assert {(t.table, p) for t in plan.tables for p in t.partitions} == changed
        assert plan.is_empty == (not changed)
    elif new_state:  # a drop alone: one table of what is left is backed up to record it (no partitioning known)
        assert len(plan.tables) == 1 and plan.tables[0].whole_table and not plan.is_empty
        assert {p.key for p in plan.partitions} == {k for k in new_state if k[0] == plan.tables[0].table}
        assert plan.unrecorded_drops == ()
    else:  # everything dropped: nothing can carry the drop, and the plan says so
        assert plan.is_empty and len(plan.unrecorded_drops) == len(plan.tombstones)
    for table_plan in plan.tables:
        all_now = {p for (t, p) in new_state if t == table_plan.table}
        assert table_plan.whole_table == (set(table_plan.partitions) == all_now)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), state=db_states, steps=st.integers(1, 5))
def test_a_chain_of_planned_incrementals_tracks_the_database(data, state, steps):
    """Back up with the planner several times; the chain then holds every partition at its latest version."""
    from sr_airflow.engine.catalog import resolve_state

    entries = [_full_from(state)]
    moment = START
    for i in range(steps):
        state, *_ = data.draw(changes(state))
        moment += timedelta(hours=1)
        plan = plan_backup(Catalog(entries), "db1", rows_for(state), now=moment, policy=NEVER)
        if plan.is_empty and not plan.tombstones:
            continue
        records = [PartitionRecord(p.table, p.partition, p.partition_id, p.version) for p in plan.partitions]
        entries.append(make_entry(f"inc_{i}", moment, snapshot_kind=SnapshotKind.INCREMENTAL, parent=plan.parent_label,
                                  partitions=records, tombstones=plan.tombstones))
    held = resolve_state(Catalog(entries).chain_of(entries[-1].label))
    final = plan_backup(Catalog(entries), "db1", rows_for(state), now=moment, policy=NEVER)
    assert final.is_empty and final.tombstones == ()
    assert {k: (h.record.partition_id, h.record.version) for k, h in held.items()} == state


def test_plans_become_backup_scopes():
    from sr_airflow.engine.scope import ObjectRef, Scope

    state = {("t", "p1"): (1, 2), ("t", "p2"): (3, 4), ("u", "u"): (5, 1)}
    full = plan_backup(Catalog(), "db1", rows_for(state), now=START)
    assert full.to_scope() == Scope(database="db1")
    moved = dict(state) | {("t", "p2"): (3, 5), ("v", "v"): (6, 1)}
    inc = plan_backup(Catalog([_full_from(state)]), "db1", rows_for(moved), now=START, policy=NEVER)
    scope = inc.to_scope()
    assert scope == Scope(database="db1", objects=(ObjectRef.table("t", ("p2",)), ObjectRef.table("v")))
    scope.validate_for_backup()
    only = plan_backup(Catalog(), "db1", rows_for(state), now=START, tables=["t"])
    assert only.to_scope() == Scope(database="db1", objects=(ObjectRef.table("t"),))
    no_mv = plan_backup(Catalog(), "db1", rows_for(state), now=START, exclude_tables=["u"])
    assert no_mv.to_scope() == Scope(database="db1")  # a full takes the materialized view u with the database
    empty = plan_backup(Catalog([_full_from(state)]), "db1", rows_for(state), now=START, policy=NEVER)
    with pytest.raises(ValueError, match="has nothing to back up"):
        empty.to_scope()


def test_a_table_group_builds_on_its_own_chain():
    state = {("orders", "p1"): (1, 2), ("users", "u"): (2, 1)}
    group_full = make_entry("orders_full", START, partitions=[PartitionRecord("orders", "p1", 1, 2)],
                            group=("orders",))
    db_full = make_entry("db_full", START + timedelta(hours=1),
                         partitions=[PartitionRecord(t, p, i, v) for (t, p), (i, v) in state.items()])
    moved = state | {("orders", "p1"): (1, 3)}
    plan = plan_backup(Catalog([group_full, db_full]), "db1", rows_for(moved), now=START, policy=NEVER,
                       tables=["orders"])
    assert (plan.parent_label, [p.key for p in plan.partitions]) == ("orders_full", [("orders", "p1")])
    assert plan.catalog_scope() == {"database": "db1", "tables": ["orders"]}
    whole = plan_backup(Catalog([group_full, db_full]), "db1", rows_for(moved), now=START, policy=NEVER)
    assert whole.parent_label == "db_full" and whole.catalog_scope() == {"database": "db1"}


def test_rows_in_any_order_and_form_plan_the_same():
    """Rows not grouped by table, short tuples, mappings and numbers given as strings: the same plan."""
    full = _full_from({("a", "p1"): (1, 2), ("a", "p2"): (2, 2), ("b", "p1"): (3, 2)})
    interleaved = [("db1", "a", "p1", 1, 2), ("db1", "b", "p1", 3, 5), ("db1", "a", "p2", 2, 2),
                   ("other_db", "a", "p2", 2, 9)]
    as_strings = [("db1", "a", "p1", "1", "2"), ("db1", "b", "p1", "3", "5"), ("db1", "a", "p2", "2", "2")]
    as_maps = [{"db_name": "db1", "table_name": t, "partition_name": p, "partition_id": i, "visible_version": v}
               for _, t, p, i, v in interleaved[:3]]
    for rows in (interleaved, as_strings, as_maps, parse_partitions_meta(interleaved)):
        plan = plan_backup(Catalog([full]), "db1", rows, now=START, policy=NEVER)
        assert [p.key for p in plan.partitions] == [("b", "p1")], rows
        assert [(t.table, t.partitions, t.whole_table) for t in plan.tables] == [("b", ("p1",), True)]
        assert plan.tombstones == ()


def test_a_partition_recorded_without_its_version_is_backed_up_again():
    full = make_entry("full_1", START, partitions=[PartitionRecord("t", "p1", 1, None), PartitionRecord("t", "p2",
                                                                                                       None, 3)])
    rows = rows_for({("t", "p1"): (1, 2)}) + [("db1", "t", "p2", None, 3, None, 0, "0B", 0)]
    plan = plan_backup(Catalog([full]), "db1", rows, now=START, policy=NEVER)
    assert [p.key for p in plan.partitions] == [("t", "p1")]  # p2: no id on either side, same version
    rows = [("db1", "t", "p1", 1, None, None, 0, "0B", 0)]
    plan = plan_backup(Catalog([full]), "db1", rows, now=START, policy=NEVER)
    assert [p.key for p in plan.partitions] == [("t", "p1")] and plan.tombstones == (Tombstone("t", "p2"),)


def test_tombstones_in_the_chain_hide_what_their_parents_held():
    full = _full_from({("t", "p1"): (1, 2), ("t", "p2"): (2, 2), ("u", "p1"): (3, 2)})
    inc = make_entry("inc_1", START + timedelta(hours=1), snapshot_kind=SnapshotKind.INCREMENTAL, parent="full_1",
                     partitions=[PartitionRecord("u", "p1", 4, 1)], tombstones=[Tombstone("t", "p2"),
                                                                                Tombstone("u")])
    rows = rows_for({("t", "p1"): (1, 2), ("t", "p2"): (2, 2), ("u", "p1"): (4, 1)})
    plan = plan_backup(Catalog([full, inc]), "db1", rows, now=START + timedelta(hours=2), policy=NEVER)
    assert [p.key for p in plan.partitions] == [("t", "p2")]  # dropped by inc_1, back now: new to the chain
    assert [(t.table, t.partitions, t.whole_table) for t in plan.tables] == [("t", ("p2",), False)]
    gone = plan_backup(Catalog([full, inc]), "db1", [], now=START + timedelta(hours=2), policy=NEVER)
    assert gone.tombstones == (Tombstone("t"), Tombstone("u"))
