"""The plan operator's other modes: ``logical_date`` (named partitions) and ``target`` (what a target cluster
lacks), and a plan as the backup task's arguments (XCom).

The ``changed`` mode is ``engine/planner.plan_backup``; these build on it. Imported by the plan operator
(``operators/plan.py``) when it runs, so parsing a DAG does not load the planner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sr_airflow.engine.catalog import Catalog, SnapshotKind, Tombstone, object_label
from sr_airflow.engine.planner import (
    RECORDS_DROPS,
    BackupPlan,
    PartitionState,
    PlanPolicy,
    TablePlan,
    plan_backup,
    record_drops,
)
from sr_airflow.engine.schema import DatabaseObjects


def plan_for_partitions(catalog: Catalog, database: str, states: list[PartitionState], partitions: Sequence[str],
                        table: str | None, *, now: datetime, policy: PlanPolicy,
                        exclude_tables: Sequence[str] = (), objects: DatabaseObjects | None = None) -> BackupPlan:
    """The ``logical_date`` plan: the named partitions (of ``table``, or of every table that has them), plus
    what must go whole whatever the date (new tables, schema changes) and new or changed objects.

    A full backup comes first when the database has no good base (a restore starts from a full). A named
    partition already held at its current version is left out, so a rerun of a date is a no-op.
    """
    base_plan = plan_backup(catalog, database, states, now=now, policy=policy, exclude_tables=exclude_tables,
                            objects=objects, carry_drops=False)
    if base_plan.snapshot_kind is SnapshotKind.FULL:
        return base_plan
    reasons = base_plan.objects.reasons if base_plan.objects is not None else {}
    whole = {t.table: t for t in base_plan.tables if reasons.get(object_label("tables", t.table), RECORDS_DROPS)
             != RECORDS_DROPS}
    changed = {p.key for p in base_plan.partitions}
    left_out = set(exclude_tables) | set(base_plan.temp_partition_tables) | set(whole)
    wanted = [s for s in states if s.partition in set(partitions) and (table is None or s.table == table)
              and s.table not in left_out and not s.is_temp]
    todo = [s for s in wanted if s.key in changed]
    by_table: dict[str, set[str]] = {}
    for s in todo:
        by_table.setdefault(s.table, set()).add(s.partition)
    tables = tuple(sorted([TablePlan(t, tuple(sorted(ps)), False) for t, ps in by_table.items()]
                          + list(whole.values()), key=lambda p: p.table))
    todo += [p for p in base_plan.partitions if p.table in whole]
    todo_keys = {s.key for s in todo if s.table not in whole}
    held = len({s.key for s in wanted}) - len(todo_keys)
    reason = (f"{len(todo_keys)} partition(s) of the data interval to back up, {held} already held at their version"
              if wanted else f"no partition named {', '.join(partitions)} in database {database}")
    if whole or base_plan.ship:
        reason += f"; also {len(whole)} table(s) whole and {sum(map(len, base_plan.ship.values()))} object(s)"
    plan = replace(base_plan, tables=tables, reason=reason, partitions=tuple(todo))
    in_scope = [s for s in states if s.table not in set(exclude_tables) | set(base_plan.temp_partition_tables)
                and not s.is_temp]
    return record_drops(plan, in_scope, objects)


def plan_against_target(database: str, source: list[PartitionState], target: list[PartitionState],
                        tables: Sequence[str] | None = None, exclude_tables: Sequence[str] = ()) -> BackupPlan:
    """The ``target`` plan (migration catch-up): source partitions the target lacks or holds at another version.

    RESTORE sets a restored partition's visible version to the backed-up one, so after a migration the two
    clusters' versions are comparable; partitions only the target has are reported as tombstones, not dropped.
    """
    wanted = set(tables) if tables else None

    def keep(s: PartitionState) -> bool:
        return not s.is_temp and s.table not in exclude_tables and (wanted is None or s.table in wanted)

    theirs = _versions_by_key(s for s in target if keep(s))  # ids differ between clusters: versions only
    mine = [s for s in source if keep(s)]
    my_versions = _versions_by_key(mine)
    todo = [s for s in mine if theirs.get(s.key) != my_versions[s.key]]
    by_table: dict[str, set[str]] = {}
    for s in todo:
        by_table.setdefault(s.table, set()).add(s.partition)
    target_tables = {t for t, _ in theirs}
    plans = tuple(TablePlan(t, tuple(sorted(ps)), t not in target_tables) for t, ps in sorted(by_table.items()))
    gone = sorted(set(theirs) - {s.key for s in mine})
    tombstones = tuple(Tombstone(t, p) for t, p in gone)
    reason = (f"{len({s.key for s in todo})} partition(s) differ from the target" if todo
              else "the target holds every partition at the source's version")
    return BackupPlan(database, SnapshotKind.INCREMENTAL, None, plans, tombstones, reason, tuple(todo),
                      requested_tables=tuple(sorted(wanted)) if wanted else None)


def _versions_by_key(states) -> dict[tuple[str, str], list]:
    """(table, partition) -> the sorted visible versions of its physical partitions (a row each)."""
    out: dict[tuple[str, str], list] = {}
    for s in states:
        out.setdefault(s.key, []).append(s.version)
    for versions in out.values():
        versions.sort(key=lambda v: (v is None, v or 0))
    return out


def plan_to_xcom(plan: BackupPlan, mode: str, group: Sequence[str] | None = None) -> dict[str, Any]:
    """The plan for the backup task. A full of the whole database takes it whole (``tables`` None): views,
    materialized views and functions too, which partitions_meta does not list; a full that must leave a table
    out names everything else. The catalog scope names a table group only when the user restricted the tables to
    ``group`` (leaving materialized views out does not make one). ``objects`` is the census the catalog
    records; ``tombstones_from_catalog`` asks the backup task to read the tombstones again once its BACKUP holds
    the database (``changed`` and ``logical_date`` modes)."""
    tables = None if plan.whole_database else [
        t.table if t.whole_table else {"name": t.table, "partitions": list(t.partitions)} for t in plan.tables]
    label_kind = ("full" if plan.snapshot_kind is SnapshotKind.FULL
                  else {"logical_date": "part", "target": "mig"}.get(mode, "incr"))
    return {
        "database": plan.database,
        "snapshot_kind": plan.snapshot_kind.value,
        "label_kind": label_kind,
        "parent_label": plan.parent_label,
        "tables": tables,
        "tombstones": [{"table": t.table, "partition": t.partition} for t in plan.tombstones],
        "partition_stats": [[t, p, rows, size] for (t, p), (rows, size) in plan.partition_stats().items()],
        "partitions": sum(len(t.partitions) for t in plan.tables),
        "catalog_scope": {"database": plan.database, **({"tables": sorted(group)} if group else {})},
        "reason": plan.reason,
        "empty": plan.is_empty,
        "views": list(plan.ship.get("views", ())) or None,
        "materialized_views": list(plan.ship.get("materialized_views", ())) or None,
        "functions": list(plan.ship.get("functions", ())) or None,
        "objects": plan.objects.to_dict() if plan.objects is not None else None,
        "excluded_tables": dict(plan.excluded),
        "unrecorded_drops": list(plan.unrecorded_drops) if mode != "target" else [],  # target: no catalog
        "tombstones_from_catalog": mode in ("changed",
                                            "logical_date") and plan.snapshot_kind is SnapshotKind.INCREMENTAL,
    }
