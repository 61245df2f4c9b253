"""StarRocksRestoreOperator: restore one snapshot: check the target first, restore with renames, wait, re-activate
materialized views."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sr_airflow import metrics
from sr_airflow.engine.errors import JobFailedError
from sr_airflow.operators.restore_base import (
    RESTORE_TEMPLATE_FIELDS,
    RestoreOperatorBase,
    snapshot_materialized_views,
    snapshot_schema,
)

if TYPE_CHECKING:
    from sr_airflow.engine.scope import Scope
    from sr_airflow.engine.snapshots import SnapshotDetail

JOB_ID_KEY = "restore_job_id"
SUBMITTED_KEY = "restore_submitted"


class StarRocksRestoreOperator(RestoreOperatorBase):
    """Restore a snapshot, after checking the target, and re-activate the materialized views it brings.

    Before RESTORE is sent: the timestamp is resolved (given, or the newest OK one of the label); target tables
    that exist with another schema than the snapshot's are refused (the snapshot's schema is read from its
    ``__meta`` file when ``storage_conn_id`` is given); existing tables are refused unless ``allow_overwrite``;
    the server must take the statement. A retry finds its own running job (``engine/restore_resume.py``: by label,
    timestamp and the job id kept in ``task_state_store``). After the job: inactive MVs of the target database are
    re-activated in dependency order; those still inactive are logged with their reasons and returned in XCom.

    A database as of a point in time, from the catalog, is ``StarRocksRestoreChainOperator``'s
    (``operators/restore_chain.py``). The arguments common to both are ``RestoreOperatorBase``'s
    (``operators/restore_base.py``); besides them:

    :param snapshot_label: the snapshot label (required).
    :param backup_timestamp: the snapshot's timestamp (default: the newest OK one).
    :param database: the snapshot's database (default: the one the snapshot records).
    :param materialized_views: ``"ALL"`` or a list of names or ``{"name", "alias"}``.
    :param views: ``"ALL"`` or a list of names or ``{"name", "alias"}``.
    :param functions: ``"ALL"`` or a list of names.
    :param external_catalogs: ``"ALL"`` or a list of names or ``{"name", "alias"}``.
    :param overwrite_mode: ``"swap"`` (the default where it can protect the table): the table is restored under a
        temporary name, checked against the snapshot (each partition present at the snapshot's version, none
        other), then put in place by ``ALTER TABLE t SWAP WITH tmp``, and the old table (now under the temporary
        name) is dropped only after the swap; a failure before the swap drops the temporary table and leaves the
        live table exactly as it was. A swap replaces whole tables, so it needs the tables named
        (``tables=[...]``), restored whole, and the snapshot holding every partition the live table has; otherwise
        the default falls back to in place with a warning, and an explicit ``"swap"`` is refused before anything
        is sent. ``"in_place"``: RESTORE writes into the live table. The seed (使用上の注意) warns: a RESTORE
        that overwrites existing data and fails after COMMIT leaves that data corrupt and unreadable; choose it
        only if you accept that risk.
    """

    template_fields: Sequence[str] = (*RESTORE_TEMPLATE_FIELDS, "backup_timestamp", "materialized_views", "views",
                                      "functions", "external_catalogs")

    def __init__(self, *, backup_timestamp: str | None = None, materialized_views: Any = None, views: Any = None,
                 functions: Any = None, external_catalogs: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.backup_timestamp = backup_timestamp
        self.materialized_views = materialized_views
        self.views = views
        self.functions = functions
        self.external_catalogs = external_catalogs

    # ---- what is restored, where
    def _timestamp(self) -> str:
        if self.backup_timestamp:
            return self.backup_timestamp
        return self.hook.usable_snapshot(self.repository, self.snapshot_label).latest_timestamp or ""

    def _detail(self, timestamp: str) -> SnapshotDetail:
        return self.hook.snapshot_detail(self.repository, self.snapshot_label, timestamp)

    def _scope(self, snapshot_database: str | None) -> Scope:
        from sr_airflow.engine.scope_args import scope_from_arguments

        database = self.database
        if not database and not self.external_catalogs:
            database = snapshot_database
        return scope_from_arguments(database=database, tables=self.tables,
                                    materialized_views=self.materialized_views, views=self.views,
                                    functions=self.functions, external_catalogs=self.external_catalogs,
                                    target_database=self.target_database)

    @staticmethod
    def _target(scope: Scope) -> str | None:
        return scope.target_database or scope.database

    def _targets(self, scope: Scope, snapshot_tables: list[str]) -> dict[str, str]:
        """Snapshot table -> target table for every table this restore writes."""
        from sr_airflow.engine.scope import ObjectKind

        named = [r for r in scope.objects if r.kind in (ObjectKind.TABLE, ObjectKind.MATERIALIZED_VIEW)]
        if named:
            return {r.name: r.alias or r.name for r in named}
        if scope.has_on_clause and ObjectKind.TABLE not in scope.all_of:
            return {}
        return {t: t for t in snapshot_tables}

    # ---- the steps
    def execute(self, context: Any) -> dict[str, Any]:
        from sr_airflow.engine.jobwatch import is_busy_error
        from sr_airflow.engine.restore_resume import submission_mark
        from sr_airflow.engine.statements import Syntax, render_restore
        from sr_airflow.engine.swap import swap_scope
        from sr_airflow.operators.privileges import check_privileges, restore_needs

        self.check_arguments()
        if not self.snapshot_label:
            raise ValueError("snapshot_label is required (a point in time from the catalog is "
                             "StarRocksRestoreChainOperator's).")
        version = self.hook.check_server(self.log)
        timestamp = self._timestamp()
        detail = self._detail(timestamp)
        scope = self._scope(detail.database)
        request = self.request(self.snapshot_label, scope, timestamp)
        statement = render_restore(request, Syntax.for_version(version))  # UnsupportedByServerError first
        target = self._target(scope)
        check_privileges(self.hook, restore_needs(self.hook, target, has_on=scope.has_on_clause,
                                                  materialized_views=self._activated(scope)),
                         self.log, where=self.starrocks_conn_id)
        own = self._own_job(context, target, timestamp)
        if own is not None:
            self.log.info("%s; waiting for it instead of submitting again.", own.describe())
            return self._wait_job(context, target)
        busy = self.running_job(target)
        if busy is not None:
            return self._busy(context, target, busy)
        snapshot_tables = list((detail.details.get("backup_objects") or {}).keys())
        overwritten = self._check_target(scope, snapshot_tables) if target else []
        swaps = self._swap_plan(scope, detail, overwritten, timestamp, snapshot_tables)
        if swaps:
            statement = render_restore(self.request(self.snapshot_label, swap_scope(scope, swaps), timestamp),
                                       Syntax.for_version(version))
        self.log.info("Restoring snapshot %r (%s) from %r into %r%s.", self.snapshot_label, timestamp,
                      self.repository, target or "external catalogs",
                      f", overwriting {', '.join(map(repr, overwritten))}" if overwritten else "")
        for live, temporary in swaps.items():
            self.log.info("Table %r is restored as %r, checked, then swapped in.", live, temporary)
        store = context.get("task_state_store")
        if store is not None:  # before sending: a kill right after RESTORE still lets the retry know the job
            store.set(SUBMITTED_KEY, submission_mark(self.snapshot_label, timestamp))
        self.create_legacy_target(target, version)
        try:
            self.hook.execute(statement)
        except Exception as exc:
            self.drop_temporaries(target, swaps)
            if is_busy_error(exc):
                return self._busy(context, target, str(exc))
            raise JobFailedError(f"Restore of snapshot {self.snapshot_label!r} was refused by StarRocks: "
                                 f"{str(exc).rstrip('.')}.") from None
        job = self.latest_job(target)
        if store is not None and job is not None:
            store.set(JOB_ID_KEY, job.job_id)
        return self._wait_job(context, target)

    def _activated(self, scope: Scope) -> list[str]:
        """The target names of the materialized views this restore brings back and then re-activates (pre-flight
        asks ALTER on them). What RESTORE takes (``BackupHandler.checkAndFilterRestoreObjsExistInSnapshot``, 3.5
        e223275f78): without ON everything; with ON the objects named (as TABLE or MATERIALIZED VIEW) and, for
        ``ALL MATERIALIZED VIEWS``, every MV of the snapshot's ``__meta`` (``ALL TABLES`` takes no MV:
        ``isOlapTable``). Which names are MVs is read from ``__meta``; without ``storage_conn_id`` only the
        objects named as materialized views are known. Not asked for root, nor when nothing is re-activated."""
        from sr_airflow.engine.scope import ObjectKind

        if not self.reactivate_materialized_views or (self.hook.connection.login or "root") == "root" or \
                not self._target(scope):
            return []
        named = {r.name: r.alias or r.name for r in scope.objects
                 if r.kind in (ObjectKind.TABLE, ObjectKind.MATERIALIZED_VIEW)}
        every = not scope.has_on_clause or ObjectKind.MATERIALIZED_VIEW in scope.all_of
        in_snapshot = snapshot_materialized_views(self.storage(), self.repository, self.snapshot_label) \
            if self.storage_conn_id and (every or named) else []
        chosen = {r.alias or r.name for r in scope.objects if r.kind is ObjectKind.MATERIALIZED_VIEW}
        chosen |= {named.get(name, name) for name in in_snapshot if every or name in named}
        return sorted(chosen)

    def _own_job(self, context: Any, target: str | None, timestamp: str):
        """This task's job from an earlier attempt (``engine/restore_resume.own_restore_job``)."""
        from sr_airflow.engine.restore_resume import own_restore_job

        store = context.get("task_state_store")
        return own_restore_job(self.hook.restore_jobs(target), self.snapshot_label, timestamp,
                               recorded_job_id=store.get(JOB_ID_KEY) if store is not None else None,
                               recorded_submission=store.get(SUBMITTED_KEY) if store is not None else None)

    def _check_target(self, scope: Scope, snapshot_tables: list[str]) -> list[str]:
        from sr_airflow.engine.target_checks import check_restore_target

        target = self._target(scope)
        targets = self._targets(scope, snapshot_tables)
        if not targets:
            return []
        existing = self.hook.table_columns(target, sorted(set(targets.values())))
        snapshot_columns = None
        if existing and self.storage_conn_id:
            snapshot_columns = snapshot_schema(self.storage(), self.repository, self.snapshot_label)
        elif existing:
            self.log.warning("No storage_conn_id: the schemas of existing tables %r are not compared with the "
                             "snapshot before RESTORE (StarRocks compares them in the job).", sorted(existing))
        return check_restore_target(target_database=target, targets=targets, existing=existing,
                                    snapshot_columns=snapshot_columns, allow_overwrite=self.overwrites)

    def _busy(self, context: Any, target: str | None, reason: str) -> dict[str, Any]:
        from sr_airflow.engine.jobwatch import JobWatch

        if self.on_busy == "fail":
            raise JobFailedError(f"Restore into database {target!r} refused: another job is running "
                                 f"({reason.rstrip('.')}).")
        self.log.info("Waiting for another job on database %r to end: %s", target, reason)
        return self.wait_for(context, JobWatch(job_type="any", database=target, absent="done"), "_busy_cleared")

    def _busy_cleared(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        if event.get("status") != "success":
            raise JobFailedError(event.get("message") or "Waiting for the database to become free failed.")
        return self.execute(context)

    # ---- safe overwrite (engine/swap.py)
    def _swap_plan(self, scope: Scope, detail: Any, overwritten: list[str], timestamp: str,
                   snapshot_tables: list[str]) -> dict[str, str]:
        """Live table -> temporary name for each overwritten table a swap protects ({}: overwrite in place)."""
        from sr_airflow.engine.swap import refuse_swap, swap_name, swap_token
        from sr_airflow.operators.verify import partition_states

        if not overwritten or self.overwrite_mode == "in_place":
            return {}
        target = self._target(scope)
        live: dict[str, set[str]] = {}
        for table, partition in partition_states(self.hook, target, overwritten):
            live.setdefault(table, set()).add(partition)
        objects = detail.details.get("backup_objects") or {}
        in_snapshot = {name: set(obj.get("partitions") or {}) for name, obj in objects.items()}
        why = refuse_swap(scope, overwritten, live, in_snapshot, self._targets(scope, snapshot_tables))
        if why:
            self.settle_swap_refusals(target, [why])
            return {}
        token = swap_token(self.snapshot_label, timestamp)
        swaps = {table: swap_name(table, token) for table in overwritten}
        self.drop_temporaries(target, swaps)  # left by an earlier attempt that failed before its swap
        return swaps

    def _pending_swaps(self, target: str | None, timestamp: str | None) -> dict[str, str]:
        """The temporary tables this restore created (found by name: the task may have been resumed)."""
        from sr_airflow.engine.scope_args import named_tables
        from sr_airflow.engine.swap import swap_name, swap_token

        named = named_tables(self.tables)
        if not target or not timestamp or self.overwrite_mode == "in_place" or not named:
            return {}
        token = swap_token(self.snapshot_label, timestamp)
        names = {live: swap_name(live, token) for live in named.values()}
        existing = self.hook.table_columns(target, sorted(names.values()))
        return {live: temporary for live, temporary in names.items() if temporary in existing}

    def _snapshot_versions(self, timestamp: str, swaps: dict[str, str]) -> dict[str, dict[str, list[int]]]:
        """Live table -> partition -> the versions the snapshot's job info records for what replaces it."""
        from sr_airflow.engine.swap import snapshot_partition_versions

        detail = self._detail(timestamp)
        objects = detail.details.get("backup_objects") or {}
        sources = {t: s for s, t in self._targets(self._scope(detail.database), list(objects)).items()}
        return {live: snapshot_partition_versions(objects.get(sources.get(live, live)) or {}) for live in swaps}

    # ---- the wait and the result
    def _wait_job(self, context: Any, target: str | None) -> dict[str, Any]:
        from sr_airflow.engine.jobwatch import JobWatch

        watch = JobWatch(job_type="restore", database=target, label=self.snapshot_label)
        return self.wait_for(context, watch, "execute_complete", cancel_on_kill=self.cancel_on_kill)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the wait: fail on a cancelled job or an error, else re-activate MVs and report."""
        from sr_airflow.engine.jobwatch import phase_seconds
        from sr_airflow.engine.scope_args import named_tables

        target = event.get("database")
        job = self.latest_job(target)
        timestamp = job.backup_timestamp if job else self.backup_timestamp
        swaps = self._pending_swaps(target, timestamp)
        if event.get("status") != "success":
            self.drop_temporaries(target, swaps)
            raise JobFailedError(event.get("message") or f"Restore {self.snapshot_label!r} failed.")
        result: dict[str, Any] = {
            "snapshot_label": self.snapshot_label,
            "backup_timestamp": timestamp,
            "database": target,
            "job_id": job.job_id if job else None,
            "phase_seconds": phase_seconds(job) if job else {},
            "reactivated_materialized_views": [],
            "inactive_materialized_views": {},
            "swapped_tables": sorted(swaps),
        }
        if swaps:
            self.swap_in(target, swaps, self._snapshot_versions(timestamp, swaps),
                         f"Restore of snapshot {self.snapshot_label!r}")
        if target:
            result["colocation"] = self.reapply_colocation(target, self.snapshot_label, named_tables(self.tables))
        if target and self.reactivate_materialized_views:
            result.update(self.reactivate(target))
        self.log.info("Restore of %r into %r finished; phases: %s.", self.snapshot_label, target,
                      result["phase_seconds"])
        if job is not None:
            source = self._source_database(target, job.backup_timestamp)
            metrics.restore_job_finished(database=source, target_database=target, repository=self.repository,
                                         phase_seconds=result["phase_seconds"])
            metrics.restore_finished(database=source, target_database=target, repository=self.repository, jobs=1,
                                     restored_bytes=self._restored_bytes(job.backup_timestamp))
        return result

    # ---- metrics
    def _source_database(self, target: str | None, timestamp: str) -> str:
        """The snapshot's database: as given, else the target (no rename), else the snapshot's own (SHOW SNAPSHOT);
        ``catalogs`` for a restore of external catalogs only, as the backup metrics name it."""
        if self.database:
            return self.database
        if not self.target_database:
            return target or "catalogs"
        try:
            return self._detail(timestamp).database or "catalogs"
        except Exception as exc:  # noqa: BLE001 - metrics never fail a restore that succeeded
            self.log.warning("Snapshot %r not read again for its database (%s); metrics name the target.",
                             self.snapshot_label, exc)
            return target

    def _restored_bytes(self, timestamp: str) -> int | None:
        """The bytes the catalog recorded for the snapshot's partitions, when the whole snapshot was restored and
        the repository's catalog (read with ``storage_conn_id``) holds its entry; otherwise None (not known)."""
        others = (self.materialized_views, self.views, self.functions, self.external_catalogs)
        whole = self.tables == "ALL" or (self.tables is None and not any(others))
        if not self.storage_conn_id or not whole:
            return None
        from sr_airflow.storage.catalog_store import CatalogStore

        try:
            entry = CatalogStore(self.storage(), self.repository).get(self.snapshot_label)
        except Exception as exc:  # noqa: BLE001 - a repository without a catalog: the bytes are not known
            self.log.info("Restored bytes not known (no catalog entry of %r: %s).", self.snapshot_label, exc)
            return None
        if entry.backup_timestamp != timestamp:
            return None
        return sum(p.data_size or 0 for p in entry.partitions)
