"""StarRocksRestoreChainOperator: restore a database as of a point in time from the catalog, one RESTORE a snapshot
of the chain (``engine/resolve.py`` chooses each partition's snapshot)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sr_airflow import metrics
from sr_airflow.engine.coerce import as_bool
from sr_airflow.engine.errors import JobFailedError, SnapshotNotFoundError
from sr_airflow.operators.restore_base import (
    RESTORE_TEMPLATE_FIELDS,
    RestoreOperatorBase,
    snapshot_materialized_views,
    snapshot_schema,
)

CHAIN_SUBMITTED_KEY = "restore_chain_submitted"
CHAIN_DONE_KEY = "restore_chain_links_done"
CHAIN_TARGET_KEY = "restore_chain_target"


class StarRocksRestoreChainOperator(RestoreOperatorBase):
    """Restore ``database`` (or ``tables``) as of ``point_in_time`` (or as of snapshot ``snapshot_label``) from
    the catalog, by partition (``engine/resolve.py``): each partition from the newest snapshot at or before that
    moment that holds it, one RESTORE per snapshot that holds something chosen, each partition once. The plan is
    logged before anything is sent and returned in XCom (``plan``).

    Existing target tables are refused unless ``allow_overwrite``, and compared with the schema of the snapshot
    whose job first touches each. A retried or resumed task finds its running link, or the link an earlier attempt
    sent and did not see end (``engine/restore_resume.decide_chain_restore``); the moment is pinned in
    ``task_state_store`` on first use, so a retry restores the same point even if new snapshots came since.
    The arguments common with the snapshot restore are ``RestoreOperatorBase``'s (``operators/restore_base.py``);
    besides them:

    :param database: the database to restore (required).
    :param storage_conn_id: storage connection of the repository, where the catalog is (required).
    :param point_in_time: ISO-8601 time (default: the newest good snapshot).
    :param snapshot_label: instead of ``point_in_time``: up to exactly this snapshot (the moment it was taken).
    :param overwrite_mode: a swap here takes an existing table restored whole by one RESTORE job of the plan and
        whose live partitions the plan all restores; others are overwritten in place (with a warning, or refused
        before anything is sent with an explicit ``"swap"``).
    :param dry_run: log and return the plan (``{"dry_run", "plan"}``), send nothing.
    """

    template_fields: Sequence[str] = (*RESTORE_TEMPLATE_FIELDS, "point_in_time", "dry_run")

    def __init__(self, *, database: str, storage_conn_id: str, point_in_time: str | None = None,
                 dry_run: bool = False, **kwargs: Any) -> None:
        if not (storage_conn_id and database):
            raise ValueError("A restore from the catalog needs storage_conn_id (to read the catalog) and database.")
        super().__init__(database=database, storage_conn_id=storage_conn_id, **kwargs)
        self.point_in_time = point_in_time
        self.dry_run = dry_run

    # ---- the plan
    def _point_plan(self, context: Any = None):
        """The point-in-time plan (``engine/resolve.py``). The moment is pinned in ``task_state_store`` on first
        use, so a resumed or retried task restores the same point even if new snapshots came since."""
        from sr_airflow.engine.resolve import resolve_point_in_time
        from sr_airflow.engine.scope_args import named_tables
        from sr_airflow.engine.timestamps import parse_point_in_time
        from sr_airflow.storage.catalog_store import CatalogStore

        named = named_tables(self.tables)
        catalog = CatalogStore(self.storage(), self.repository).load()
        store = context.get("task_state_store") if context is not None else None
        pinned = store.get(CHAIN_TARGET_KEY) if store is not None else None
        if pinned:
            at = parse_point_in_time(pinned)
        elif self.snapshot_label:  # "up to exactly this snapshot": the moment it was taken
            entry = catalog.get(self.snapshot_label)
            if entry.database != self.database or not entry.is_good:
                raise SnapshotNotFoundError(f"Snapshot {self.snapshot_label!r} is not a good snapshot of database "
                                            f"{self.database!r} in the catalog.")
            at = entry.backup_time
        else:
            at = parse_point_in_time(self.point_in_time) if self.point_in_time not in (None, "") else None
        plan = resolve_point_in_time(catalog, self.database, at, tables=list(named) if named else None)
        if store is not None and not pinned:
            store.set(CHAIN_TARGET_KEY, (at or plan.target.backup_time).isoformat())
        return plan

    # ---- the steps
    def execute(self, context: Any) -> dict[str, Any]:
        from sr_airflow.engine.jobwatch import JobWatch, NextStep
        from sr_airflow.engine.restore_resume import decide_chain_restore
        from sr_airflow.operators.privileges import check_privileges, restore_needs

        self.check_arguments()
        dry_run = as_bool("dry_run", self.dry_run)
        self.hook.check_server(self.log)
        plan = self._point_plan(context)
        target = self.target_database or plan.database
        for line in plan.describe():
            self.log.info("%s", line)
        for table, why in sorted(plan.excluded.items()):
            self.log.warning("Table %r: %s.", table, why)
        if dry_run:
            self.log.info("Dry run: nothing sent to %r.", target)
            return {"dry_run": True, "database": target, "plan": plan.to_dict()}
        check_privileges(self.hook, restore_needs(self.hook, target, materialized_views=self._activated(plan)),
                         self.log, where=self.starrocks_conn_id)  # each link has ON (...)
        store = context.get("task_state_store")
        done = store.get(CHAIN_DONE_KEY) if store is not None else None
        start = 0 if done is None else int(done) + 1
        submitted = store.get(CHAIN_SUBMITTED_KEY) if store is not None else None
        decision = decide_chain_restore(self.hook.restore_jobs(target), plan.labels, recorded_submission=submitted)
        if decision.step is NextStep.WAIT:
            self.log.info("%s", decision.reason)
            return self.wait_for(context, JobWatch(job_type="restore", database=target, label=decision.label),
                                 "_chain_link_done", cancel_on_kill=self.cancel_on_kill)
        if decision.step is NextStep.DONE:
            self.log.info("%s", decision.reason)
            return self._chain_link_done(context, {"status": "success", "label": decision.label})
        if start == 0:
            self._check_point_target(plan, target)
        return self._run_link(context, plan, start)

    def _activated(self, plan: Any) -> list[str]:
        """The materialized views the plan brings back and the restore then re-activates (pre-flight asks ALTER on
        them): those of the census, and, for a snapshot recorded without one (``all_objects``: its MVs come back
        among its tables), the tables its ``__meta`` file says are MVs. Not asked for root, nor when nothing is
        re-activated."""
        if not self.reactivate_materialized_views or (self.hook.connection.login or "root") == "root":
            return []
        names = set(plan.objects.get("materialized_views") or {})
        storage = None
        for step in plan.steps:
            if step.all_objects:
                storage = storage or self.storage()
                in_snapshot = set(snapshot_materialized_views(storage, self.repository, step.label))
                names |= {t.table for t in step.tables if t.table in in_snapshot}
        return sorted(names)

    def _check_point_target(self, plan: Any, target: str) -> None:
        """Existing target tables: refused unless ``allow_overwrite``, and then compared with the schema of the
        snapshot whose job creates (or first touches) each of them."""
        from sr_airflow.engine.target_checks import check_restore_target

        names = list(plan.tables)
        existing = self.hook.table_columns(target, names)
        columns: dict = {}
        storage = None  # opened once, for the first step that touches an existing table
        for step in plan.steps:
            mine = [t.table for t in step.tables if t.table in existing and t.table not in columns]
            if mine:
                storage = storage or self.storage()
                schema = snapshot_schema(storage, self.repository, step.label)
                columns.update({t: schema[t] for t in mine if t in schema})
        overwritten = check_restore_target(target_database=target, targets={t: t for t in names},
                                           existing=existing, snapshot_columns=columns if existing else None,
                                           allow_overwrite=self.overwrites)
        if not overwritten or self.overwrite_mode == "in_place":
            return
        self.settle_swap_refusals(target, list(self._chain_swap_refusals(plan, target, overwritten).values()))

    def _chain_swap_refusals(self, plan: Any, target: str, tables: Sequence[str]) -> dict[str, str]:
        """Existing table -> why a point-in-time restore cannot swap it: a swap here takes tables that come whole
        from one RESTORE job of the plan, and whose live partitions the plan all restores."""
        from sr_airflow.operators.verify import partition_states

        jobs = Counter(t.table for step in plan.steps for t in step.tables)
        planned: dict[str, set[str]] = {}
        for table, partition in plan.state:
            planned.setdefault(table, set()).add(partition)
        live: dict[str, set[str]] = {}
        for table, partition in partition_states(self.hook, target, list(tables)) if tables else ():
            live.setdefault(table, set()).add(partition)
        refused = {}
        for table in tables:
            extra = sorted(live.get(table, set()) - planned.get(table, set()))
            if jobs[table] > 1:
                refused[table] = (f"table {table!r} comes from {jobs[table]} RESTORE jobs (a swap is done for a "
                                  "table restored by one job)")
            elif extra:
                refused[table] = (f"table {table!r} has partition(s) {', '.join(extra)} that the point in time does "
                                  "not hold (a swap would drop them)")
        return refused

    def _step_swaps(self, plan: Any, target: str, index: int) -> dict[str, str]:
        """Live table -> temporary name for the existing tables job ``index`` restores under a temporary name:
        those only this job restores (so they existed before the restore began) that a swap can protect."""
        from sr_airflow.engine.swap import swap_name, swap_token

        if self.overwrite_mode == "in_place":
            return {}
        jobs = Counter(t.table for step in plan.steps for t in step.tables)
        names = [t.table for t in plan.steps[index].tables if jobs[t.table] == 1]
        if not names:
            return {}
        present = self.hook.table_columns(target, names)
        existing = [t for t in names if t in present]
        if not existing:
            return {}
        refused = self._chain_swap_refusals(plan, target, existing)
        token = swap_token(plan.target.label, plan.target.backup_timestamp or "")
        return {t: swap_name(t, token) for t in existing if t not in refused}

    @staticmethod
    def _planned_versions(plan: Any, swaps: dict[str, str]) -> dict[str, dict[str, list[int]]]:
        """Live table -> partition -> the versions the catalog records for the partition the plan restores."""
        out: dict[str, dict[str, list[int]]] = {}
        for (table, partition), held in plan.state.items():
            if table in swaps:
                record = held.record
                versions = [v for _, v in record.physical_partitions] or [record.version]
                out.setdefault(table, {})[partition] = sorted(v for v in versions if v is not None)
        return out

    def _run_link(self, context: Any, plan: Any, index: int) -> dict[str, Any]:
        from sr_airflow.engine.jobwatch import JobWatch
        from sr_airflow.engine.restore_resume import submission_mark
        from sr_airflow.engine.statements import Syntax, legacy_restore_scope, render_restore

        target = self.target_database or plan.database
        step = plan.steps[index]
        version = self.hook.server_version()
        syntax = Syntax.for_version(version)
        scope = step.to_scope(target_database=self.target_database)
        if syntax is Syntax.LEGACY:
            scope, left_out = legacy_restore_scope(scope)
            if left_out:
                self.log.warning("StarRocks %s restores tables and materialized views only: %s not restored.",
                                 version, ", ".join(left_out))
        request = self.request(step.label, scope, step.backup_timestamp)
        swaps = self._step_swaps(plan, target, index)
        if swaps:
            from sr_airflow.engine.swap import swap_scope

            request = replace(request, scope=swap_scope(scope, swaps))
            self.drop_temporaries(target, swaps)  # left by an earlier attempt that failed before its swap
            for live, temporary in swaps.items():
                self.log.info("Table %r is restored as %r, checked, then swapped in.", live, temporary)
        statement = render_restore(request, syntax)
        busy = self.running_job(target)
        if busy is not None:
            raise JobFailedError(f"Restore job {step.label!r} into database {target!r} refused: another job is "
                                 f"running ({busy.rstrip('.')}).")
        self.log.info("Job %s/%s: %s", index + 1, len(plan.steps), step.describe())
        store = context.get("task_state_store")
        if store is not None:  # before sending: a retry after a kill right after RESTORE knows the job is ours
            store.set(CHAIN_SUBMITTED_KEY, submission_mark(step.label, step.backup_timestamp))
        self.create_legacy_target(target, version)
        try:
            self.hook.execute(statement)
        except Exception as exc:
            raise JobFailedError(f"Restore job {step.label!r} was refused by StarRocks: "
                                 f"{str(exc).rstrip('.')}.") from None
        watch = JobWatch(job_type="restore", database=target, label=step.label)
        return self.wait_for(context, watch, "_chain_link_done", cancel_on_kill=self.cancel_on_kill)

    def _chain_link_done(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        plan = self._point_plan(context)
        target = self.target_database or plan.database
        index = list(plan.labels).index(event["label"]) if event.get("label") in plan.labels else None
        swaps = self._step_swaps(plan, target, index) if index is not None else {}
        if swaps:  # those this job created (none left once swapped in, by an earlier attempt)
            created = self.hook.table_columns(target, sorted(swaps.values()))
            swaps = {live: temporary for live, temporary in swaps.items() if temporary in created}
        if event.get("status") != "success":
            self.drop_temporaries(target, swaps)
            raise JobFailedError(event.get("message") or f"Restore job {event.get('label')!r} failed.")
        if swaps:
            self.swap_in(target, swaps, self._planned_versions(plan, swaps), f"Restore job {event['label']!r}")
        store = context.get("task_state_store")
        if store is not None:
            store.set(CHAIN_DONE_KEY, index)
        self.send_job_phases(target, event["label"], plan.database)
        if index + 1 < len(plan.steps):
            return self._run_link(context, plan, index + 1)
        point = plan.at or plan.target.backup_time
        result: dict[str, Any] = {
            "chain": list(plan.labels), "database": target, "snapshot_label": plan.target.label,
            "backup_timestamp": plan.target.backup_timestamp, "point_in_time": point.isoformat(),
            "plan": plan.to_dict(), "excluded_tables": dict(plan.excluded),
            "reactivated_materialized_views": [], "inactive_materialized_views": {},
        }
        result["colocation"] = self.reapply_colocation(target, plan.target, {t: t for t, _ in plan.state})
        if self.reactivate_materialized_views:
            result.update(self.reactivate(target))
        self.log.info("Restored database %r as of %s into %r in %d job(s).", plan.database, point.isoformat(),
                      target, len(plan.steps))
        metrics.restore_finished(database=plan.database, target_database=target, repository=self.repository,
                                 jobs=len(plan.steps),
                                 restored_bytes=sum(h.record.data_size or 0 for h in plan.state.values()))
        return result
