"""Restore-chain resolution."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings

from sr_airflow.engine.catalog import Catalog, PartitionRecord, SnapshotKind, Tombstone
from sr_airflow.engine.chain import resolve_chain
from sr_airflow.engine.errors import SnapshotNotFoundError
from tests.engine.strategies_catalog import START, histories, make_entry

H = timedelta(hours=1)
INC = SnapshotKind.INCREMENTAL


def _catalog() -> Catalog:
    return Catalog([
        make_entry("full_1", START, partitions=[PartitionRecord("a", "p1", 1, 2), PartitionRecord("a", "p2", 2, 2),
                                                PartitionRecord("b", "b", 3, 2)]),
        make_entry("inc_1", START + H, kind=INC, parent="full_1", partitions=[PartitionRecord("a", "p1", 1, 3)],
                   tombstones=[Tombstone("a", "p2")]),
        make_entry("inc_2", START + 2 * H, kind=INC, parent="inc_1", partitions=[PartitionRecord("c", "c", 4, 2)],
                   tombstones=[Tombstone("b")]),
        make_entry("inc_bad", START + 3 * H, kind=INC, parent="inc_2", status="failed"),
        make_entry("full_2", START + 4 * H, partitions=[PartitionRecord("c", "c", 4, 5)]),
    ])


def test_point_in_time_picks_the_newest_good_snapshot_at_or_before_it():
    chain = resolve_chain(_catalog(), "db1", START + 2 * H + timedelta(minutes=30))
    assert chain.labels == ("full_1", "inc_1", "inc_2")
    assert [(t.table, t.partitions, t.whole_table) for t in chain.links[0].tables] == [
        ("a", ("p1", "p2"), True), ("b", ("b",), True)]
    # after inc_1 table a is just p1 (p2 was dropped), all of it from inc_1: the whole table
    assert [(t.table, t.partitions, t.whole_table) for t in chain.links[1].tables] == [("a", ("p1",), True)]
    assert chain.drop_tables == ("b",) and chain.drop_partitions == (("a", "p2"),)
    assert {k: h.label for k, h in chain.final_state.items()} == {("a", "p1"): "inc_1", ("c", "c"): "inc_2"}
    assert chain.links[1].backup_timestamp == chain.links[1].entry.backup_timestamp


def test_newest_when_no_time_and_a_new_full_starts_a_new_chain():
    assert resolve_chain(_catalog(), "db1").labels == ("full_2",)


def test_exact_label_and_table_subset():
    chain = resolve_chain(_catalog(), "db1", label="inc_2", tables=["c"])
    assert chain.labels == ("inc_2",)  # full_1 and inc_1 hold nothing of c: no RESTORE for them
    assert chain.full.label == "full_1" and [e.label for e in chain.entries] == ["full_1", "inc_1", "inc_2"]
    assert [(t.table, t.partitions, t.whole_table) for t in chain.links[0].tables] == [("c", ("c",), True)]
    assert chain.drop_tables == () and chain.drop_partitions == ()
    with pytest.raises(SnapshotNotFoundError, match="Table.s. zzz of database 'db1' are in no snapshot"):
        resolve_chain(_catalog(), "db1", label="inc_2", tables=["zzz"])


def test_clear_errors_when_nothing_covers():
    with pytest.raises(SnapshotNotFoundError, match="No good snapshot of database 'db1' covers 2023"):
        resolve_chain(_catalog(), "db1", START.replace(year=2023))
    with pytest.raises(SnapshotNotFoundError, match="no good snapshot of database 'other'"):
        resolve_chain(_catalog(), "other")
    with pytest.raises(SnapshotNotFoundError, match="'inc_bad' or a snapshot it depends on is not good"):
        resolve_chain(_catalog(), "db1", label="inc_bad")
    with pytest.raises(SnapshotNotFoundError, match="'nope' is not in the catalog"):
        resolve_chain(_catalog(), "db1", label="nope")


def test_a_missing_parent_breaks_the_chain():
    catalog = Catalog([make_entry("inc_x", START, kind=INC, parent="gone")])
    with pytest.raises(SnapshotNotFoundError, match="No good snapshot"):
        resolve_chain(catalog, "db1")


@settings(max_examples=100, deadline=None)
@given(catalog=histories())
def test_every_good_snapshot_resolves_to_itself_through_good_links(catalog):
    for entry in catalog.entries(good_only=True):
        chain = resolve_chain(catalog, entry.database, entry.backup_time, tables=entry.chain_tables)
        assert chain.target.label == entry.label
        assert chain.full.kind is SnapshotKind.FULL and chain.entries[-1] == entry
        assert chain.links[0].entry == chain.full  # histories always give the full something to restore
        assert {e.chain_tables for e in chain.entries} == {entry.chain_tables}  # groups never mix
        assert all(link.entry.is_good for link in chain.links)
        assert [link.entry.backup_time for link in chain.links] == sorted(link.entry.backup_time
                                                                          for link in chain.links)


def test_an_incremental_restores_only_its_partitions_of_a_table_it_shares():
    catalog = Catalog([
        make_entry("f", START, partitions=[PartitionRecord("a", "p1", 1, 1), PartitionRecord("a", "p2", 2, 1)]),
        make_entry("i", START + H, kind=INC, parent="f", partitions=[PartitionRecord("a", "p2", 2, 4)]),
    ])
    chain = resolve_chain(catalog, "db1")
    assert [(t.table, t.partitions, t.whole_table) for t in chain.links[1].tables] == [("a", ("p2",), False)]
    assert {k: h.record.version for k, h in chain.final_state.items()} == {("a", "p1"): 1, ("a", "p2"): 4}


def test_scopes_for_each_restore():
    from sr_airflow.engine.scope import ObjectRef, Scope

    scopes = resolve_chain(_catalog(), "db1", START + 2 * H).scopes(target_database="db1_copy")
    assert [s for _, s in scopes] == [
        Scope(database="db1", target_database="db1_copy"),
        Scope(database="db1", objects=(ObjectRef.table("a"),), target_database="db1_copy"),
        Scope(database="db1", objects=(ObjectRef.table("c"),), target_database="db1_copy"),
    ]
    for _, scope in scopes:
        scope.validate_for_restore()
    only_c = resolve_chain(_catalog(), "db1", label="inc_2", tables=["c"]).scopes()
    assert [s for _, s in only_c] == [Scope(database="db1", objects=(ObjectRef.table("c"),))]


def test_table_groups_have_their_own_chains():
    orders = {"tables": ["orders"]}
    catalog = Catalog([
        make_entry("db_full", START, partitions=[PartitionRecord("orders", "p1", 1, 1)]),
        make_entry("g_full", START + H, partitions=[PartitionRecord("orders", "p1", 1, 2)], group=("orders",)),
        make_entry("db_inc", START + 2 * H, kind=INC, parent="db_full",
                   partitions=[PartitionRecord("orders", "p1", 1, 3)]),
    ])
    assert catalog.latest_good("db1").label == "db_inc" and catalog.latest_good("db1", ["orders"]).label == "g_full"
    assert catalog.get("g_full").scope == orders
    assert resolve_chain(catalog, "db1", START + H, tables=["orders"]).labels == ("g_full",)
    assert resolve_chain(catalog, "db1", START + H).labels == ("db_full",)  # a group never stands for the db
    only_groups = Catalog([catalog.get("g_full")])
    with pytest.raises(SnapshotNotFoundError, match="only table-group snapshots exist: name the tables"):
        resolve_chain(only_groups, "db1")
