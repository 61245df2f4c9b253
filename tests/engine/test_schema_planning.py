"""Schema and object changes seen by the planner (engine/schema.py, engine/planner.py): fingerprints from the metadata
queries' rows, whole tables and named objects in the next incremental, and the reasons the catalog records."""

from __future__ import annotations

from datetime import timedelta

from sr_airflow.engine.catalog import Catalog, PartitionRecord, SnapshotKind, Tombstone
from sr_airflow.engine.plan_modes import plan_for_partitions
from sr_airflow.engine.planner import RECORDS_DROPS, PlanPolicy, parse_partitions_meta, plan_backup
from sr_airflow.engine.schema import database_objects, functions_query, partitioning_of
from tests.engine.strategies_catalog import START, make_entry

NEVER = PlanPolicy(max_incrementals=None, max_full_age=None)
RANGE = "[types: [DATE]; keys: [2024-01-01]; ..types: [DATE]; keys: [2024-01-02]; )"


def _rows(state: dict, values: dict | None = None) -> list[tuple]:
    values = values or {}
    return [("db1", t, p, pid, v, None, v * 10, "1KB", False, values.get(t, RANGE))
            for (t, p), (pid, v) in sorted(state.items())]


def _objects(columns: list[tuple], views=(), functions=(), mvs=None, properties='{"replication_num":"3"}'):
    tables = sorted({c[0] for c in columns})
    return database_objects({
        "columns": columns,
        "tables_config": [(t, "OLAP", "DUP_KEYS", "", "`d`", "`k`", "HASH", 1, "`k`", properties) for t in tables],
        "views": list(views), "functions": list(functions)}, mvs or {})


COLUMNS = [("t", "k", 1, "int(11)", "YES", None, "DUP", ""), ("t", "d", 2, "date", "YES", None, "", "")]


def _recorded_full(state, objects):
    """The full the planner itself plans, recorded as the backup operator would (its census as objects)."""
    plan = plan_backup(Catalog(), "db1", _rows(state), now=START, objects=objects)
    assert plan.snapshot_kind is SnapshotKind.FULL and plan.whole_database
    records = [PartitionRecord(t, p, pid, v) for (t, p), (pid, v) in sorted(state.items())]
    entry = make_entry("full", START, partitions=records)
    return entry.__class__(**{**entry.__dict__, "objects": plan.objects.to_dict()})


def test_the_functions_statement_quotes_the_database():
    assert functions_query('db` OR 1') == "SHOW FULL FUNCTIONS FROM `db`` OR 1`"


def test_partitioning_from_the_partition_value():
    assert [partitioning_of(v) for v in (RANGE, "(('a'), ('b'))", "", None)] == ["range", "list", "unpartitioned",
                                                                               None]


def test_fingerprints_move_with_what_a_restore_recreates_only():
    base = _objects(COLUMNS).tables["t"]
    renamed = [("t", "k", 1, "int(11)", "YES", None, "DUP", ""), ("t", "day", 2, "date", "YES", None, "", "")]
    commented = [*COLUMNS[:1], ("t", "d", 2, "date", "YES", None, "", "the day")]
    added = [*COLUMNS, ("t", "v", 3, "varchar(8)", "YES", None, "", "")]
    assert len({base, _objects(renamed).tables["t"], _objects(commented).tables["t"],
                _objects(added).tables["t"], _objects(COLUMNS, properties='{"bloom_filter_columns":"k"}').tables["t"]}
               ) == 5
    # a restore sets replication_num itself (OlapTable.resetIdsForRestore): not part of the schema
    assert _objects(COLUMNS, properties='{"replication_num":"1"}').tables["t"] == base
    # materialized views are objects, not tables, even though columns and tables_config list them
    assert "mv" not in _objects([*COLUMNS, ("mv", "n", 1, "bigint(20)", "YES", None, "", "")],
                                mvs={"mv": "select 1"}).tables


def test_a_schema_change_without_a_version_move_ships_the_whole_table():
    state = {("t", "p1"): (1, 2), ("t", "p2"): (2, 2)}
    full = _recorded_full(state, _objects(COLUMNS))
    same = plan_backup(Catalog([full]), "db1", _rows(state), now=START + timedelta(hours=1), policy=NEVER,
                       objects=_objects(COLUMNS))
    assert same.is_empty
    added = [*COLUMNS, ("t", "v", 3, "varchar(8)", "YES", None, "", "")]
    plan = plan_backup(Catalog([full]), "db1", _rows(state), now=START + timedelta(hours=1), policy=NEVER,
                       objects=_objects(added))
    assert [(t.table, t.partitions, t.whole_table) for t in plan.tables] == [("t", ("p1", "p2"), True)]
    assert plan.objects.reasons == {"table t": "schema_changed"}
    assert plan.objects.tables["t"].fingerprint == _objects(added).tables["t"]


def test_new_tables_views_and_functions_go_into_the_next_incremental_with_their_reasons():
    state = {("t", "p1"): (1, 2)}
    full = _recorded_full(state, _objects(COLUMNS, views=[("v", "select 1")]))
    now = {**state, ("u", "u"): (9, 1)}
    columns = [*COLUMNS, ("u", "k", 1, "int(11)", "YES", None, "DUP", "")]
    objects = _objects(columns, views=[("v", "select 2"), ("w", "select 3")],
                       functions=[("f(INT)", "INT", "Scalar", "NULL", "{}")], mvs={"m": "select k from t"})
    plan = plan_backup(Catalog([full]), "db1", _rows(now, {"u": ""}), now=START + timedelta(hours=1),
                       policy=NEVER, objects=objects)
    assert [(t.table, t.whole_table) for t in plan.tables] == [("u", True)]
    assert dict(plan.ship) == {"views": ("v", "w"), "materialized_views": ("m",), "functions": ("f",)}
    assert plan.objects.reasons == {"table u": "new_table", "view v": "view_changed", "view w": "new_view",
                                    "materialized view m": "new_mv", "function f": "new_function"}
    assert [(r.kind.value, r.name) for r in plan.to_scope().objects] == [
        ("TABLE", "u"), ("VIEW", "v"), ("VIEW", "w"), ("MATERIALIZED VIEW", "m"), ("FUNCTION", "f")]
    assert plan.objects.held == {"views": ("v", "w"), "materialized_views": ("m",), "functions": ("f",)}


def test_a_list_table_that_gains_a_partition_goes_whole():
    # StarRocks adds no partition to an existing list table on restore: the newest snapshot must hold them all
    state = {("l", "a"): (1, 2)}
    full = _recorded_full(state, _objects([("l", "k", 1, "int(11)", "YES", None, "DUP", "")]))
    now = {**state, ("l", "b"): (2, 1)}
    plan = plan_backup(Catalog([full]), "db1", _rows(now, {"l": "(('a'))"}), now=START + timedelta(hours=1),
                       policy=NEVER, objects=_objects([("l", "k", 1, "int(11)", "YES", None, "DUP", "")]))
    assert [(t.table, t.partitions, t.whole_table) for t in plan.tables] == [("l", ("a", "b"), True)]
    assert plan.objects.reasons == {"table l": "new_list_partition"}


LIST_COLUMNS = [("l", "k", 1, "int(11)", "YES", None, "DUP", "")]


def _after_drop(state, now, objects_then, objects_now, values=None):
    full = _recorded_full(state, objects_then)
    return plan_backup(Catalog([full]), "db1", _rows(now, values), now=START + timedelta(hours=1), policy=NEVER,
                       objects=objects_now)


def test_a_dropped_partition_alone_is_carried_by_the_smallest_range_partition_or_non_range_table():
    # without a snapshot the drop is not recorded, and a restore to a later moment would bring the partition back
    state = {("t", "p1"): (1, 5), ("t", "p2"): (2, 2), ("t", "p3"): (3, 4)}
    now = {k: v for k, v in state.items() if k[1] != "p3"}
    plan = _after_drop(state, now, _objects(COLUMNS), _objects(COLUMNS))
    assert plan.tombstones == (Tombstone("t", "p3"),) and not plan.is_empty and plan.unrecorded_drops == ()
    assert [(t.table, t.partitions, t.whole_table) for t in plan.tables] == [("t", ("p2",), False)]  # 20 rows < 50
    assert [p.key for p in plan.partitions] == [("t", "p2")]
    assert plan.objects.reasons == {"table t": RECORDS_DROPS} and "partition t.p3 dropped" in plan.reason
    # a list table is never added to partition by partition on restore: it goes whole (here 10 rows, the least)
    with_list = {**state, ("l", "a"): (9, 1)}
    objects = _objects(COLUMNS + LIST_COLUMNS)
    plan = _after_drop(with_list, {**now, ("l", "a"): (9, 1)}, objects, objects, {"l": "(('a'))"})
    assert [(t.table, t.partitions, t.whole_table) for t in plan.tables] == [("l", ("a",), True)]


def test_a_dropped_view_alone_makes_a_snapshot_whose_census_leaves_it_out():
    state = {("t", "p1"): (1, 2)}
    plan = _after_drop(state, state, _objects(COLUMNS, views=[("v", "select 1")]), _objects(COLUMNS))
    assert plan.tombstones == () and plan.dropped_objects == ("view v",) and not plan.is_empty
    assert [t.table for t in plan.tables] == ["t"] and "v" not in plan.objects.views


def test_with_no_table_left_an_object_carries_the_drop_and_with_nothing_left_the_plan_names_it():
    state = {("t", "p1"): (1, 2)}
    plan = _after_drop(state, {}, _objects(COLUMNS, views=[("v", "select 1")]), _objects([], views=[
        ("v", "select 1")]))
    assert plan.tables == () and dict(plan.ship) == {"views": ("v",)} and plan.objects.held == {"views": ("v",)}
    assert plan.tombstones == (Tombstone("t"),) and not plan.is_empty
    empty = _after_drop(state, {}, _objects(COLUMNS), _objects([]))
    assert empty.is_empty and empty.unrecorded_drops == ("table t",)
    assert empty.reason.endswith("table t dropped, and nothing is left in the database to back up to record it")


def test_a_logical_date_run_carries_a_drop_only_when_its_date_ships_nothing():
    state = {("t", "p1"): (1, 2), ("t", "p2"): (2, 2), ("t", "p3"): (3, 2)}
    full = _recorded_full(state, _objects(COLUMNS))
    now = {("t", "p1"): (1, 2), ("t", "p2"): (2, 3)}  # p3 dropped, p2 loaded

    def plan_for(partition):
        return plan_for_partitions(Catalog([full]), "db1", parse_partitions_meta(_rows(now)), [partition], None,
                                   now=START + timedelta(hours=1), policy=NEVER, objects=_objects(COLUMNS))

    dated = plan_for("p2")
    assert [(t.table, t.partitions) for t in dated.tables] == [("t", ("p2",))]
    assert dated.tombstones == (Tombstone("t", "p3"),) and RECORDS_DROPS not in dated.objects.reasons.values()
    held = plan_for("p1")  # the date is held at its version: the drop still needs a snapshot
    assert [(t.table, t.partitions) for t in held.tables] == [("t", ("p1",))]
    assert held.objects.reasons == {"table t": RECORDS_DROPS} and not held.is_empty
