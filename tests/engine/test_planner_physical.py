"""The planner on 3.4+ ids: job info records logical partition ids with physical ones under ``subPartitions``;
partitions_meta shows the physical id (docs/catalog.md, "Which partitions changed")."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sr_airflow.engine.catalog import Catalog, PartitionRecord, SnapshotKind, entry_from_job_info
from sr_airflow.engine.jobinfo import parse_job_info
from sr_airflow.engine.planner import PlanPolicy, plan_backup
from tests.engine.strategies_catalog import START, changes, db_states, make_entry

NEVER = PlanPolicy(max_incrementals=None, max_full_age=None)
PHYSICAL = 500_000  # physical id = logical id + PHYSICAL, as LocalMetastore's next id would make them differ


def job_info_35(state: dict[tuple[str, str], tuple[int, list[tuple[int, int]]]]) -> dict:
    """``BackupJobInfo.toJson(true)`` at 3.5 e223275f78: (table, partition) -> (logical id, [(physical id,
    version), ...]); the partition's ``version`` is its default (first) physical partition's, the partition-level
    ``indexes`` empty, tablets under ``subPartitions.<physical id>.indexes``."""
    objects: dict = {}
    for (table, name), (logical, physical) in sorted(state.items()):
        subs = {str(pid): {"id": pid, "version": version, "indexes": {
            table: {"id": 9, "schema_hash": 1, "tablets": {str(pid * 10): []}, "tablets_order": [str(pid * 10)]}}}
            for pid, version in physical}
        part = {"id": logical, "version": physical[0][1], "version_hash": 0, "indexes": {}, "subPartitions": subs}
        objects.setdefault(table, {"id": 77, "partitions": {}})["partitions"][name] = part
    return {"name": "full_1", "database": "db1", "id": 1, "backup_time": 1704067200000, "backup_objects": objects,
            "meta_version": 1, "starrocks_meta_version": 1, "backup_result": "succeed"}


def full_entry(state: dict) -> object:
    info = parse_job_info(job_info_35(state), timestamp="2024-01-01-00-00-00-000")
    return entry_from_job_info(info, repository="repo", snapshot_kind=SnapshotKind.FULL, now=START)


def meta_rows(state: dict) -> list[tuple]:
    """partitions_meta: one row per physical partition, PARTITION_ID the physical id."""
    return [("db1", t, p, pid, version, None, 10, "1KB", False)
            for (t, p), (_, physical) in sorted(state.items()) for pid, version in physical]


def test_physical_ids_distinct_from_logical_ids_match():
    state = {("t", f"p{i}"): (100 + i, [(PHYSICAL + i, 2)]) for i in range(365)}
    entry = full_entry(state)
    assert entry.partitions[0].partition_id == 100 and entry.partitions[0].physical_partitions == ((PHYSICAL, 2),)
    assert plan_backup(Catalog([entry]), "db1", meta_rows(state), now=START, policy=NEVER).is_empty
    moved = state | {("t", "p7"): (107, [(PHYSICAL + 7, 3)])}
    plan = plan_backup(Catalog([entry]), "db1", meta_rows(moved), now=START, policy=NEVER)
    assert [p.key for p in plan.partitions] == [("t", "p7")] and plan.tables[0].partitions == ("p7",)


def test_a_partition_recreated_under_its_name_at_the_same_version_is_new():
    """Dropped and re-created, a partition starts again at version 1 and may reach the old version: only its new
    physical id tells it apart (same cluster)."""
    state = {("t", "p1"): (10, [(11, 3)]), ("t", "p2"): (12, [(13, 3)])}
    recreated = state | {("t", "p2"): (20, [(21, 3)])}
    plan = plan_backup(Catalog([full_entry(state)]), "db1", meta_rows(recreated), now=START, policy=NEVER)
    assert [p.key for p in plan.partitions] == [("t", "p2")]


def test_several_physical_partitions_match_as_a_set():
    state = {("t", "p1"): (10, [(11, 5), (12, 2)]), ("t", "p2"): (20, [(21, 4)])}
    entry = full_entry(state)
    assert entry.partitions[0].physical_partitions == ((11, 5), (12, 2))
    assert plan_backup(Catalog([entry]), "db1", meta_rows(state), now=START, policy=NEVER).is_empty
    for change in ([(11, 5), (12, 3)],  # the second physical partition took a load
                   [(11, 5), (12, 2), (13, 1)],  # a new physical partition
                   [(11, 5)]):  # one gone
        moved = state | {("t", "p1"): (10, change)}
        plan = plan_backup(Catalog([entry]), "db1", meta_rows(moved), now=START, policy=NEVER)
        assert {p.key for p in plan.partitions} == {("t", "p1")}, change
        assert plan.tables[0].partitions == ("p1",) and len(plan.partitions) == len(change)
        assert plan.partition_stats() == {("t", "p1"): (10 * len(change), 1024 * len(change))}
    grown = state | {("t", "p2"): (20, [(21, 4), (22, 1)])}  # held with one physical partition, now two
    plan = plan_backup(Catalog([entry]), "db1", meta_rows(grown), now=START, policy=NEVER)
    assert [p.partition_id for p in plan.partitions] == [21, 22] and plan.tables[0].partitions == ("p2",)


def test_a_33_job_info_without_sub_partitions_holds_the_logical_id_as_physical():
    """3.3 (1a2f1f5d75): one physical partition → no ``subPartitions`` entry; its id is the logical id, which is
    what partitions_meta shows there."""
    doc = job_info_35({("t", "p1"): (10, [(10, 4)])})
    doc["backup_objects"]["t"]["partitions"]["p1"]["subPartitions"] = {}
    info = parse_job_info(doc, timestamp="2024-01-01-00-00-00-000")
    assert info.table("t").partition("p1").physical_partitions == ((10, 4),)
    entry = entry_from_job_info(info, repository="repo", snapshot_kind="full", now=START)
    assert plan_backup(Catalog([entry]), "db1", [("db1", "t", "p1", 10, 4)], now=START, policy=NEVER).is_empty


def test_entries_recorded_before_physical_ids_compare_the_logical_id():
    """Old entries have no physical partitions: the recorded id and version are compared, as before (right on
    3.3, where the ids are equal; on 3.4+ the next incremental takes every partition once)."""
    old = make_entry("full_1", START, partitions=[PartitionRecord("t", "p1", 10, 4)])
    assert plan_backup(Catalog([old]), "db1", [("db1", "t", "p1", 10, 4)], now=START, policy=NEVER).is_empty
    plan = plan_backup(Catalog([old]), "db1", [("db1", "t", "p1", PHYSICAL, 4)], now=START, policy=NEVER)
    assert [p.key for p in plan.partitions] == [("t", "p1")]


@settings(max_examples=100, deadline=None)
@given(data=st.data(), state=db_states, steps=st.integers(1, 4))
def test_a_chain_on_distinct_physical_ids_tracks_the_database(data, state, steps):
    """Random changes (loads, drops, re-creations, new partitions), each incremental recorded from its job info:
    each plan holds exactly the partitions whose (id, version) moved since the last backup (a drop alone: what
    carries it), and the last plan is empty."""
    def physical(s):
        return {k: (pid, [(pid + PHYSICAL, v)]) for k, (pid, v) in s.items()}

    entries = [full_entry(physical(state))]
    moment = START
    for i in range(steps):
        previous = state
        state, *_ = data.draw(changes(state))
        moment += timedelta(hours=1)
        plan = plan_backup(Catalog(entries), "db1", meta_rows(physical(state)), now=moment, policy=NEVER)
        moved = {k for k, v in state.items() if previous.get(k) != v}
        if moved or not plan.tombstones:
            assert {p.key for p in plan.partitions} == moved
        else:  # a drop alone: partitions of one table still there, unchanged, carry it (planner.record_drops)
            assert len({p.table for p in plan.partitions}) <= 1 and {p.key for p in plan.partitions} <= set(state)
        if plan.is_empty and not plan.tombstones:
            continue
        held = {p.key: physical(state)[p.key] for p in plan.partitions}
        info = parse_job_info(job_info_35(held), timestamp="2024-01-01-00-00-00-000")
        records = entry_from_job_info(info, repository="repo", snapshot_kind="full", now=moment).partitions
        entries.append(make_entry(f"inc_{i}", moment, snapshot_kind=SnapshotKind.INCREMENTAL, parent=plan.parent_label,
                                  partitions=records, tombstones=plan.tombstones))
    final = plan_backup(Catalog(entries), "db1", meta_rows(physical(state)), now=moment, policy=NEVER)
    assert final.is_empty and final.tombstones == ()
