"""StarRocksRestoreOperator: check the target first, restore with renames, wait, re-activate materialized views."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sr_airflow import metrics
from sr_airflow.engine.errors import JobFailedError, RestoreRefusedError, SnapshotNotFoundError
from sr_airflow.operators.backup import check_server
from sr_airflow.operators.base import StarRocksBaseOperator

if TYPE_CHECKING:
    from sr_airflow.engine.preflight import ColumnDef
    from sr_airflow.engine.scope import Scope

JOB_ID_KEY = "restore_job_id"
SUBMITTED_KEY = "restore_submitted"
CHAIN_SUBMITTED_KEY = "restore_chain_submitted"
CHAIN_DONE_KEY = "restore_chain_links_done"
CHAIN_TARGET_KEY = "restore_chain_target"


def latest_ok_timestamp(hook: Any, repository: str, label: str) -> str:
    """The newest backup_timestamp of snapshot ``label`` listed OK in ``repository``."""
    from sr_airflow.engine.snapshots import parse_snapshot_listing
    from sr_airflow.engine.statements import render_show_snapshot

    columns, rows = hook.fetch(render_show_snapshot(repository, label))
    listing = next((s for s in parse_snapshot_listing(columns, rows) if s.label == label), None)
    if listing is None or not listing.ok or not listing.timestamps:
        status = listing.status if listing else "not listed"
        raise SnapshotNotFoundError(f"Snapshot {label!r} is not usable in repository {repository!r} "
                                    f"(status: {status}).")
    return listing.latest_timestamp or ""


def read_snapshot_schema(hook: Any, storage_conn_id: str, repository: str, label: str, *,
                         location: str | None = None) -> dict[str, list[ColumnDef]]:
    """The base-index columns of each table of the snapshot, from its ``__meta`` file in the repository's storage
    (under the repository's root, legacy or not, with the file's md5 checked)."""
    from sr_airflow.operators.repository_storage import repository_storage

    return snapshot_schema(repository_storage(hook, repository, storage_conn_id, location=location), repository,
                           label)


def snapshot_schema(storage: Any, repository: str, label: str) -> dict[str, list[ColumnDef]]:
    """``read_snapshot_schema`` from a storage already opened."""
    from sr_airflow.engine.preflight import parse_backup_meta

    try:
        data = storage.read_meta_bytes(repository, label)
    except FileNotFoundError as exc:
        raise SnapshotNotFoundError(f"Snapshot {label!r} has no readable __meta file in repository {repository!r}: "
                                    f"{str(exc).rstrip('.')}.") from None
    except ValueError as exc:  # StarRocks' download would fail the same way (BAD_FILE), later, in the job
        raise RestoreRefusedError(f"Restore of snapshot {label!r} refused before submission: its __meta file in "
                                  f"repository {repository!r} is unusable: {str(exc).rstrip('.')}.") from None
    return parse_backup_meta(data)


class StarRocksRestoreOperator(StarRocksBaseOperator):
    """Restore a snapshot, after checking the target, and re-activate the materialized views it brings.

    Before RESTORE is sent: the timestamp is resolved (given, or the newest OK one of the label); target tables
    that exist with another schema than the snapshot's are refused (the snapshot's schema is read from its
    ``__meta`` file when ``storage_conn_id`` is given); existing tables are refused unless ``allow_overwrite``;
    the server must take the statement. A retry finds its own running job (by label, timestamp and the job id kept
    in ``task_state_store``). After the job: inactive MVs of the target database are re-activated in dependency
    order; those still inactive are logged with their reasons and returned in XCom.

    :param repository: the repository holding the snapshot.
    :param snapshot_label: the snapshot label.
    :param backup_timestamp: the snapshot's timestamp (default: the newest OK one).
    :param database: the snapshot's database (default: the one the snapshot records).
    :param target_database: restore into this database instead (``DATABASE a AS b``).
    :param tables: ``"ALL"`` or a list of names or ``{"name", "partitions", "alias"}`` mappings.
    :param materialized_views: ``"ALL"`` or a list of names or ``{"name", "alias"}``.
    :param views: ``"ALL"`` or a list of names or ``{"name", "alias"}``.
    :param functions: ``"ALL"`` or a list of names.
    :param external_catalogs: ``"ALL"`` or a list of names or ``{"name", "alias"}``.
    :param allow_overwrite: allow overwriting the partitions of existing tables of the same schema.
    :param overwrite_mode: how ``allow_overwrite`` overwrites an existing table (``engine/swap.py``). ``"swap"``
        (the default): the table is restored under a temporary name, checked against the snapshot (each partition
        present at the snapshot's version, none other), then put in place by ``ALTER TABLE t SWAP WITH tmp``, and
        the old table (now under the temporary name) is dropped only after the swap; a failure before the swap
        drops the temporary table and leaves the live table exactly as it was. A swap replaces whole tables, so it
        needs the tables named (``tables=[...]``), restored whole, and the snapshot holding every partition the
        live table has; otherwise the default falls back to in place with a warning, and an explicit ``"swap"``
        is refused before anything is sent. A point-in-time restore (``from_catalog``) overwrites in place only.
        ``"in_place"``: RESTORE writes into the live table. The seed (使用上の注意) warns: a RESTORE that
        overwrites existing data and fails after COMMIT leaves that data corrupt and unreadable; choose it only if
        you accept that risk.
    :param timeout: StarRocks' job timeout, seconds (at least 600).
    :param replication_num: replicas of restored tables.
    :param allow_load: allow loads into the target while restoring.
    :param on_busy: ``wait`` for another job on the target database to end, or ``fail``.
    :param reactivate_materialized_views: re-activate inactive MVs of the target after the restore.
    :param cancel_on_kill: cancel the RESTORE job when the task is killed.
    :param storage_conn_id: storage connection of the repository (for the schema check from ``__meta``).
    :param location: the repository location (default: as SHOW REPOSITORIES shows it).
    :param from_catalog: restore ``database`` (or ``tables``) as of ``point_in_time`` (or as of snapshot
        ``snapshot_label``) from the catalog, by partition (``engine/resolve.py``): each partition from the newest
        snapshot at or before that moment that holds it, one RESTORE per snapshot that holds something chosen,
        each partition once. The plan is logged before anything is sent and returned in XCom (``plan``).
    :param point_in_time: ISO-8601 time for ``from_catalog`` (default: the newest good snapshot).
    :param dry_run: with ``from_catalog``: log and return the plan (``{"dry_run", "plan"}``), send nothing.
    """

    template_fields: Sequence[str] = (
        "repository", "snapshot_label", "backup_timestamp", "database", "target_database", "tables",
        "materialized_views", "views", "functions", "external_catalogs", "storage_conn_id", "point_in_time",
        "allow_overwrite", "location", "dry_run", "overwrite_mode",
    )

    def __init__(self, *, repository: str, snapshot_label: str | None = None, backup_timestamp: str | None = None,
                 database: str | None = None, target_database: str | None = None, tables: Any = None,
                 materialized_views: Any = None, views: Any = None, functions: Any = None,
                 external_catalogs: Any = None, allow_overwrite: bool = False, timeout: int | None = None,
                 replication_num: int | None = None, allow_load: bool | None = None, on_busy: str = "wait",
                 reactivate_materialized_views: bool = True, cancel_on_kill: bool = True,
                 storage_conn_id: str | None = None, from_catalog: bool = False,
                 point_in_time: str | None = None, location: str | None = None, dry_run: bool = False,
                 overwrite_mode: str | None = None, **kwargs: Any) -> None:
        from sr_airflow.engine.swap import check_overwrite_mode

        if not (isinstance(overwrite_mode, str) and "{{" in overwrite_mode):  # a template is checked when run
            check_overwrite_mode(overwrite_mode)
        if on_busy not in ("wait", "fail"):
            raise ValueError(f"on_busy must be 'wait' or 'fail', got {on_busy!r}.")
        if from_catalog and not (storage_conn_id and database):
            raise ValueError("from_catalog=True needs storage_conn_id (to read the catalog) and database.")
        super().__init__(**kwargs)
        self.repository = repository
        self.snapshot_label = snapshot_label
        self.backup_timestamp = backup_timestamp
        self.database = database
        self.target_database = target_database
        self.tables = tables
        self.materialized_views = materialized_views
        self.views = views
        self.functions = functions
        self.external_catalogs = external_catalogs
        self.allow_overwrite = allow_overwrite
        self.overwrite_mode = overwrite_mode
        self.timeout = timeout
        self.replication_num = replication_num
        self.allow_load = allow_load
        self.on_busy = on_busy
        self.reactivate_materialized_views = reactivate_materialized_views
        self.cancel_on_kill = cancel_on_kill
        self.storage_conn_id = storage_conn_id
        self.location = location
        self.from_catalog = from_catalog
        self.point_in_time = point_in_time
        self.dry_run = dry_run

    # ---- what is restored, where
    def _timestamp(self) -> str:
        return self.backup_timestamp or latest_ok_timestamp(self.hook, self.repository, self.snapshot_label)

    def _detail(self, timestamp: str):
        from sr_airflow.engine.snapshots import parse_snapshot_detail
        from sr_airflow.engine.statements import render_show_snapshot

        columns, rows = self.hook.fetch(render_show_snapshot(self.repository, self.snapshot_label, timestamp))
        details = parse_snapshot_detail(columns, rows)
        if not details or not details[0].ok:
            status = details[0].status if details else "not listed"
            raise SnapshotNotFoundError(f"Snapshot {self.snapshot_label!r} at {timestamp} is not readable in "
                                        f"repository {self.repository!r} (status: {status}).")
        return details[0]

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
        from sr_airflow.engine.statements import RestoreRequest, Syntax, render_restore
        from sr_airflow.engine.swap import check_overwrite_mode, swap_scope

        check_overwrite_mode(self.overwrite_mode)
        if self.from_catalog:
            return self._execute_chain(context)
        if not self.snapshot_label:
            raise ValueError("snapshot_label is required unless from_catalog=True.")
        version = check_server(self.hook, self.log)
        timestamp = self._timestamp()
        detail = self._detail(timestamp)
        scope = self._scope(detail.database)
        request = RestoreRequest(label=self.snapshot_label, repository=self.repository, scope=scope,
                                 backup_timestamp=timestamp, timeout_s=self.timeout, allow_load=self.allow_load,
                                 replication_num=self.replication_num)
        statement = render_restore(request, Syntax.for_version(version))  # UnsupportedByServerError first
        target = self._target(scope)
        own = self._own_job(context, target, timestamp)
        if own is not None:
            self.log.info("%s; waiting for it instead of submitting again.", own.describe())
            return self._wait_job(context, target)
        busy = self._running_job(target)
        if busy is not None:
            return self._busy(context, target, busy)
        snapshot_tables = list((detail.details.get("backup_objects") or {}).keys())
        overwritten = self._check_target(scope, snapshot_tables) if target else []
        swaps = self._swap_plan(scope, detail, overwritten, timestamp, snapshot_tables)
        if swaps:
            request = RestoreRequest(label=self.snapshot_label, repository=self.repository,
                                     scope=swap_scope(scope, swaps), backup_timestamp=timestamp,
                                     timeout_s=self.timeout, allow_load=self.allow_load,
                                     replication_num=self.replication_num)
            statement = render_restore(request, Syntax.for_version(version))
        self.log.info("Restoring snapshot %r (%s) from %r into %r%s.", self.snapshot_label, timestamp,
                      self.repository, target or "external catalogs",
                      f", overwriting {', '.join(map(repr, overwritten))}" if overwritten else "")
        for live, temporary in swaps.items():
            self.log.info("Table %r is restored as %r, checked, then swapped in.", live, temporary)
        store = context.get("task_state_store")
        if store is not None:  # before sending: a kill right after RESTORE still lets the retry know the job
            store.set(SUBMITTED_KEY, f"{self.snapshot_label}@{timestamp}")
        self._create_legacy_target(target, version)
        try:
            self.hook.execute(statement)
        except Exception as exc:
            self._drop_temporaries(target, swaps)
            if is_busy_error(exc):
                return self._busy(context, target, str(exc))
            raise JobFailedError(f"Restore of snapshot {self.snapshot_label!r} was refused by StarRocks: "
                                 f"{str(exc).rstrip('.')}.") from None
        job = self._latest_job(target)
        if store is not None and job is not None:
            store.set(JOB_ID_KEY, job.job_id)
        return self._wait_job(context, target)

    def _latest_job(self, target: str | None, label: str | None = None):
        from sr_airflow.engine.jobs import parse_show_restore
        from sr_airflow.engine.statements import render_show_restore

        try:
            columns, rows = self.hook.fetch(render_show_restore(target))
        except Exception as exc:  # noqa: BLE001 - an unknown database has no jobs
            if "Unknown database" in str(exc):
                return None
            raise
        jobs = [j for j in parse_show_restore(columns, rows) if j.label == (label or self.snapshot_label)]
        return jobs[-1] if jobs else None

    def _create_legacy_target(self, target: str | None, version: Any) -> None:
        """Before 3.4 RESTORE does not create its target database (3.3 ``BackupHandler.process``: ERR_BAD_DB_ERROR
        for a missing one), so the operator does."""
        from sr_airflow.engine.statements import render_create_database

        if target and not version.has_object_backup_syntax:
            self.hook.execute(render_create_database(target))

    def _running_job(self, target: str | None) -> str | None:
        """What runs on the target database now (None: nothing, or the database does not exist yet)."""
        from sr_airflow.engine.jobwatch import JobWatch

        if not target:
            return None
        try:
            observation = JobWatch(kind="any", database=target, absent="done").poll(self.hook)
        except Exception as exc:  # noqa: BLE001 - RESTORE creates a missing database
            if "Unknown database" in str(exc):
                return None
            raise
        return observation.message if observation.job is not None else None

    def _own_job(self, context: Any, target: str | None, timestamp: str):
        """This task's job from an earlier attempt: still running, or finished with the job id it recorded."""
        job = self._latest_job(target)
        if job is None or job.backup_timestamp != timestamp:
            return None
        if job.state.is_running:
            return job
        store = context.get("task_state_store")
        if store is None or not job.state.succeeded:
            return None
        if store.get(JOB_ID_KEY) == job.job_id or store.get(SUBMITTED_KEY) == f"{self.snapshot_label}@{timestamp}":
            return job
        return None

    def _check_target(self, scope: Scope, snapshot_tables: list[str]) -> list[str]:
        from sr_airflow.engine.preflight import check_restore_target, columns_query, parse_columns

        target = self._target(scope)
        targets = self._targets(scope, snapshot_tables)
        if not targets:
            return []
        _, rows = self.hook.fetch(columns_query(target, sorted(set(targets.values()))))
        existing = parse_columns(rows)
        snapshot_columns = None
        if existing and self.storage_conn_id:
            snapshot_columns = read_snapshot_schema(self.hook, self.storage_conn_id, self.repository,
                                                    self.snapshot_label, location=self.location)
        elif existing:
            self.log.warning("No storage_conn_id: the schemas of existing tables %r are not compared with the "
                             "snapshot before RESTORE (StarRocks compares them in the job).", sorted(existing))
        return check_restore_target(target_database=target, targets=targets, existing=existing,
                                    snapshot_columns=snapshot_columns, allow_overwrite=self.allow_overwrite)

    def _busy(self, context: Any, target: str | None, reason: str) -> dict[str, Any]:
        from sr_airflow.engine.jobwatch import JobWatch

        if self.on_busy == "fail":
            raise JobFailedError(f"Restore into database {target!r} refused: another job is running "
                                 f"({reason.rstrip('.')}).")
        self.log.info("Waiting for another job on database %r to end: %s", target, reason)
        return self.wait_for(context, JobWatch(kind="any", database=target, absent="done"), "_busy_cleared")

    def _busy_cleared(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        if event.get("status") != "success":
            raise JobFailedError(event.get("message") or "Waiting for the database to become free failed.")
        return self.execute(context)

    # ---- safe overwrite (engine/swap.py)
    def _swap_plan(self, scope: Scope, detail: Any, overwritten: list[str], timestamp: str,
                   snapshot_tables: list[str]) -> dict[str, str]:
        """Live table -> temporary name for each overwritten table a swap protects ({}: overwrite in place)."""
        from sr_airflow.engine.swap import SwapRefusedError, refuse_swap, swap_name, swap_token
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
        if why and self.overwrite_mode == "swap":
            raise SwapRefusedError(f"Restore into database {target!r} refused before submission: overwrite_mode="
                                   f"'swap' cannot protect it: {why}; set overwrite_mode='in_place' to accept an "
                                   "in-place overwrite.")
        if why:
            self.log.warning("Overwriting in place, not by swap: %s. A failure after COMMIT may leave the table "
                             "unreadable; set overwrite_mode='in_place' to choose this.", why)
            return {}
        token = swap_token(self.snapshot_label, timestamp)
        swaps = {table: swap_name(table, token) for table in overwritten}
        self._drop_temporaries(target, swaps)  # left by an earlier attempt that failed before its swap
        return swaps

    def _pending_swaps(self, target: str | None, timestamp: str | None) -> dict[str, str]:
        """The temporary tables this restore created (found by name: the task may have been resumed)."""
        from sr_airflow.engine.preflight import columns_query, parse_columns
        from sr_airflow.engine.scope import ObjectKind
        from sr_airflow.engine.scope_args import scope_from_arguments
        from sr_airflow.engine.swap import swap_name, swap_token

        if not target or not timestamp or self.overwrite_mode == "in_place" or not isinstance(self.tables,
                                                                                               (list, tuple)):
            return {}
        scope = scope_from_arguments(database=target, tables=self.tables)
        token = swap_token(self.snapshot_label, timestamp)
        names = {(r.alias or r.name): swap_name(r.alias or r.name, token)
                 for r in scope.objects if r.kind is ObjectKind.TABLE}
        _, rows = self.hook.fetch(columns_query(target, sorted(names.values())))
        existing = parse_columns(rows)
        return {live: temporary for live, temporary in names.items() if temporary in existing}

    def _drop_temporaries(self, target: str | None, swaps: dict[str, str]) -> None:
        from sr_airflow.engine.swap import render_drop_table

        for temporary in swaps.values():
            try:
                self.hook.execute(render_drop_table(target, temporary))
            except Exception as exc:  # noqa: BLE001 - the live table is untouched either way; say what is left
                self.log.warning("Temporary table %r.%r could not be dropped (%s); drop it by hand.", target,
                                 temporary, exc)

    def _snapshot_versions(self, timestamp: str, swaps: dict[str, str]) -> dict[str, dict[str, list[int]]]:
        """Live table -> partition -> the versions the snapshot's job info records for what replaces it."""
        from sr_airflow.engine.swap import snapshot_partition_versions

        detail = self._detail(timestamp)
        objects = detail.details.get("backup_objects") or {}
        sources = {t: s for s, t in self._targets(self._scope(detail.database), list(objects)).items()}
        return {live: snapshot_partition_versions(objects.get(sources.get(live, live)) or {}) for live in swaps}

    def _swap_in(self, target: str, swaps: dict[str, str], expected: dict[str, dict[str, list[int]]],
                 what: str) -> None:
        """Check each temporary table against what it should hold (partitions and versions), then swap them in
        and drop the old tables; a table that does not check drops the temporaries, the live tables untouched."""
        from sr_airflow.engine.swap import check_swapped_in, render_drop_table, render_swap_table
        from sr_airflow.operators.verify import partition_states

        problems: list[str] = []
        for live, temporary in swaps.items():
            actual: dict[str, list[int]] = {}
            for (_, partition), states in partition_states(self.hook, target, [temporary]).items():
                actual[partition] = [s.version for s in states if s.version is not None]
            problems += check_swapped_in(live, expected.get(live, {}), actual)
        if problems:
            self._drop_temporaries(target, swaps)
            raise JobFailedError(f"{what} into database {target!r} does not verify before the swap "
                                 f"({'; '.join(problems)}); the live tables are untouched.")
        for live, temporary in swaps.items():
            self.hook.execute(render_swap_table(target, live, temporary))
            self.log.info("Table %r.%r swapped in from %r; dropping the old table.", target, live, temporary)
            self.hook.execute(render_drop_table(target, temporary))

    # ---- a point in time from the catalog
    def _point_plan(self, context: Any = None):
        """The point-in-time plan (``engine/resolve.py``). The moment is pinned in ``task_state_store`` on first
        use, so a resumed or retried task restores the same point even if new snapshots came since."""
        from sr_airflow.engine.resolve import resolve_point_in_time
        from sr_airflow.engine.timestamps import parse_point_in_time
        from sr_airflow.operators.repository_storage import repository_storage
        from sr_airflow.storage.catalog_store import CatalogStore

        tables = None
        if isinstance(self.tables, (list, tuple)):
            tables = [t if isinstance(t, str) else t["name"] for t in self.tables]
        storage = repository_storage(self.hook, self.repository, self.storage_conn_id, location=self.location)
        catalog = CatalogStore(storage, self.repository).load()
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
        plan = resolve_point_in_time(catalog, self.database, at, tables=tables)
        if store is not None and not pinned:
            store.set(CHAIN_TARGET_KEY, (at or plan.target.backup_time).isoformat())
        return plan

    def _execute_chain(self, context: Any) -> dict[str, Any]:
        from sr_airflow.engine.jobwatch import JobWatch

        check_server(self.hook, self.log)
        plan = self._point_plan(context)
        target = self.target_database or plan.database
        for line in plan.describe():
            self.log.info("%s", line)
        for table, why in sorted(plan.excluded.items()):
            self.log.warning("Table %r: %s.", table, why)
        if self.dry_run:
            self.log.info("Dry run: nothing sent to %r.", target)
            return {"dry_run": True, "database": target, "plan": plan.to_dict()}
        store = context.get("task_state_store")
        done = store.get(CHAIN_DONE_KEY) if store is not None else None
        start = 0 if done is None else int(done) + 1
        latest = self._latest_job_of(target, plan.labels)
        if latest is not None and latest.state.is_running:
            self.log.info("%s; waiting for it instead of submitting again.", latest.describe())
            return self.wait_for(context, JobWatch(kind="restore", database=target, label=latest.label),
                                 "_chain_link_done", cancel_on_kill=self.cancel_on_kill)
        if (latest is not None and latest.state.succeeded and store is not None
                and store.get(CHAIN_SUBMITTED_KEY) == f"{latest.label}@{latest.backup_timestamp}"):
            # an earlier attempt sent this job and was killed before it saw the job end
            self.log.info("%s; it is this task's, sent by an earlier attempt.", latest.describe())
            return self._chain_link_done(context, {"status": "success", "label": latest.label})
        if start == 0:
            self._check_point_target(plan, target)
        return self._run_link(context, plan, start)

    def _check_point_target(self, plan: Any, target: str) -> None:
        """Existing target tables: refused unless ``allow_overwrite``, and then compared with the schema of the
        snapshot whose job creates (or first touches) each of them."""
        from sr_airflow.engine.preflight import check_restore_target, columns_query, parse_columns
        from sr_airflow.operators.repository_storage import repository_storage

        names = list(plan.tables)
        _, rows = self.hook.fetch(columns_query(target, names)) if names else (None, [])
        existing = parse_columns(rows)
        columns: dict = {}
        storage = None  # opened once, for the first step that touches an existing table
        for step in plan.steps:
            mine = [t.table for t in step.tables if t.table in existing and t.table not in columns]
            if mine:
                if storage is None:
                    storage = repository_storage(self.hook, self.repository, self.storage_conn_id,
                                                 location=self.location)
                schema = snapshot_schema(storage, self.repository, step.label)
                columns.update({t: schema[t] for t in mine if t in schema})
        overwritten = check_restore_target(target_database=target, targets={t: t for t in names},
                                           existing=existing, snapshot_columns=columns if existing else None,
                                           allow_overwrite=self.allow_overwrite)
        if not overwritten or self.overwrite_mode == "in_place":
            return
        refused = self._chain_swap_refusals(plan, target, overwritten)
        if refused and self.overwrite_mode == "swap":
            from sr_airflow.engine.swap import SwapRefusedError

            raise SwapRefusedError(f"Restore into database {target!r} refused before submission: overwrite_mode="
                                   f"'swap' cannot protect it: {'; '.join(refused.values())}; set overwrite_mode="
                                   "'in_place' to accept an in-place overwrite.")
        for why in refused.values():
            self.log.warning("Overwriting in place, not by swap: %s. A failure after COMMIT may leave the table "
                             "unreadable; set overwrite_mode='in_place' to choose this.", why)

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
        from sr_airflow.engine.preflight import columns_query, parse_columns
        from sr_airflow.engine.swap import swap_name, swap_token

        if self.overwrite_mode == "in_place":
            return {}
        jobs = Counter(t.table for step in plan.steps for t in step.tables)
        names = [t.table for t in plan.steps[index].tables if jobs[t.table] == 1]
        if not names:
            return {}
        _, rows = self.hook.fetch(columns_query(target, names))
        existing = [t for t in names if t in parse_columns(rows)]
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

    def _latest_job_of(self, target: str, labels: Sequence[str]):
        for label in labels:
            job = self._latest_job(target, label)
            if job is not None:
                return job
        return None

    def _run_link(self, context: Any, plan: Any, index: int) -> dict[str, Any]:
        from sr_airflow.engine.jobwatch import JobWatch
        from sr_airflow.engine.statements import RestoreRequest, Syntax, legacy_restore_scope, render_restore

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
        request = RestoreRequest(label=step.label, repository=self.repository, scope=scope,
                                 backup_timestamp=step.backup_timestamp, timeout_s=self.timeout,
                                 allow_load=self.allow_load, replication_num=self.replication_num)
        swaps = self._step_swaps(plan, target, index)
        if swaps:
            from sr_airflow.engine.swap import swap_scope

            request = replace(request, scope=swap_scope(scope, swaps))
            self._drop_temporaries(target, swaps)  # left by an earlier attempt that failed before its swap
            for live, temporary in swaps.items():
                self.log.info("Table %r is restored as %r, checked, then swapped in.", live, temporary)
        statement = render_restore(request, syntax)
        busy = self._running_job(target)
        if busy is not None:
            raise JobFailedError(f"Restore job {step.label!r} into database {target!r} refused: another job is "
                                 f"running ({busy.rstrip('.')}).")
        self.log.info("Job %s/%s: %s", index + 1, len(plan.steps), step.describe())
        store = context.get("task_state_store")
        if store is not None:  # before sending: a retry after a kill right after RESTORE knows the job is ours
            store.set(CHAIN_SUBMITTED_KEY, f"{step.label}@{step.backup_timestamp}")
        self._create_legacy_target(target, version)
        try:
            self.hook.execute(statement)
        except Exception as exc:
            raise JobFailedError(f"Restore job {step.label!r} was refused by StarRocks: "
                                 f"{str(exc).rstrip('.')}.") from None
        watch = JobWatch(kind="restore", database=target, label=step.label)
        return self.wait_for(context, watch, "_chain_link_done", cancel_on_kill=self.cancel_on_kill)

    def _chain_link_done(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        plan = self._point_plan(context)
        target = self.target_database or plan.database
        index = list(plan.labels).index(event["label"]) if event.get("label") in plan.labels else None
        swaps = self._step_swaps(plan, target, index) if index is not None else {}
        if swaps:  # those this job created (none left once swapped in, by an earlier attempt)
            from sr_airflow.engine.preflight import columns_query, parse_columns

            _, rows = self.hook.fetch(columns_query(target, sorted(swaps.values())))
            created = parse_columns(rows)
            swaps = {live: temporary for live, temporary in swaps.items() if temporary in created}
        if event.get("status") != "success":
            self._drop_temporaries(target, swaps)
            raise JobFailedError(event.get("message") or f"Restore job {event.get('label')!r} failed.")
        if swaps:
            self._swap_in(target, swaps, self._planned_versions(plan, swaps), f"Restore job {event['label']!r}")
        store = context.get("task_state_store")
        if store is not None:
            store.set(CHAIN_DONE_KEY, index)
        self._send_job_phases(target, event["label"], plan.database)
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

    def _wait_job(self, context: Any, target: str | None) -> dict[str, Any]:
        from sr_airflow.engine.jobwatch import JobWatch

        watch = JobWatch(kind="restore", database=target, label=self.snapshot_label)
        return self.wait_for(context, watch, "execute_complete", cancel_on_kill=self.cancel_on_kill)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the wait: fail on a cancelled job or an error, else re-activate MVs and report."""
        from sr_airflow.engine.jobwatch import phase_seconds

        target = event.get("database")
        job = self._latest_job(target)
        swaps = self._pending_swaps(target, job.backup_timestamp if job else self.backup_timestamp)
        if event.get("status") != "success":
            self._drop_temporaries(target, swaps)
            raise JobFailedError(event.get("message") or f"Restore {self.snapshot_label!r} failed.")
        result: dict[str, Any] = {
            "snapshot_label": self.snapshot_label,
            "backup_timestamp": job.backup_timestamp if job else self.backup_timestamp,
            "database": target,
            "job_id": job.job_id if job else None,
            "phase_seconds": phase_seconds(job) if job else {},
            "reactivated_materialized_views": [],
            "inactive_materialized_views": {},
            "swapped_tables": sorted(swaps),
        }
        if swaps:
            timestamp = job.backup_timestamp if job else self.backup_timestamp
            self._swap_in(target, swaps, self._snapshot_versions(timestamp, swaps),
                          f"Restore of snapshot {self.snapshot_label!r}")
        if target:
            result["colocation"] = self.reapply_colocation(target, self.snapshot_label, self._named_targets())
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
    def _send_job_phases(self, target: str, label: str, database: str) -> None:
        """The phases of the finished RESTORE job ``label`` (SHOW RESTORE); a failed look is logged, not raised."""
        from sr_airflow.engine.jobwatch import phase_seconds

        try:
            job = self._latest_job(target, label)
        except Exception as exc:  # noqa: BLE001 - metrics never fail a restore that succeeded
            self.log.warning("Phases of restore job %r not sent: %s", label, exc)
            return
        if job is not None:
            metrics.restore_job_finished(database=database, target_database=target, repository=self.repository,
                                         phase_seconds=phase_seconds(job))

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
        from sr_airflow.operators.repository_storage import repository_storage
        from sr_airflow.storage.catalog_store import CatalogStore

        try:
            storage = repository_storage(self.hook, self.repository, self.storage_conn_id, location=self.location)
            entry = CatalogStore(storage, self.repository).get(self.snapshot_label)
        except Exception as exc:  # noqa: BLE001 - a repository without a catalog: the bytes are not known
            self.log.info("Restored bytes not known (no catalog entry of %r: %s).", self.snapshot_label, exc)
            return None
        if entry.backup_timestamp != timestamp:
            return None
        return sum(p.data_size or 0 for p in entry.partitions)

    def _named_targets(self) -> dict[str, str] | None:
        """Snapshot table -> target table for ``tables=[...]`` (None: the snapshot's tables, under their names)."""
        if not isinstance(self.tables, (list, tuple)):
            return None
        return {t: t for t in self.tables if isinstance(t, str)} | {
            t["name"]: t.get("alias") or t["name"] for t in self.tables if isinstance(t, dict)}

    def reapply_colocation(self, database: str, snapshot: Any, targets: dict[str, str] | None) -> dict[str, Any]:
        """Set each restored table's colocation group again, as the catalog recorded it at backup time (a RESTORE
        drops it: ``engine/colocation.py``). ``snapshot`` is the catalog entry or its label. A table StarRocks
        refuses is reported with the error; nothing here fails the restore, which has already succeeded."""
        from sr_airflow.engine.colocation import ColocationOutcome, render_set_colocation, wanted_groups
        from sr_airflow.engine.preflight import columns_query, parse_columns

        outcome = ColocationOutcome()
        entry = snapshot if not isinstance(snapshot, str) else self._catalog_entry(snapshot)
        census = entry.census if entry is not None else None
        if census is None:
            return outcome.to_dict()
        recorded = {t: i.colocate_with for t, i in census.tables.items()}
        wanted = wanted_groups(recorded, targets if targets is not None else {t: t for t in recorded})
        if not wanted:
            return outcome.to_dict()
        _, rows = self.hook.fetch(columns_query(database, sorted(wanted)))
        present = parse_columns(rows)
        for table, group in sorted(wanted.items()):
            if table not in present:
                continue
            try:
                self.hook.execute(render_set_colocation(database, table, group))
            except Exception as exc:  # noqa: BLE001 - one table's refusal must not hide the others
                outcome.failed[table] = str(exc)
                self.log.warning("Colocation group %r of table %r.%r could not be set again: %s", group, database,
                                 table, exc)
                continue
            outcome.applied[table] = group
            self.log.info("Table %r.%r is in colocation group %r again.", database, table, group)
        return outcome.to_dict()

    def _catalog_entry(self, label: str) -> Any:
        """The catalog entry of ``label`` (None without ``storage_conn_id`` or when the catalog has none)."""
        if not self.storage_conn_id:
            self.log.info("No storage_conn_id: colocation groups are not set again (the catalog records them).")
            return None
        from sr_airflow.operators.repository_storage import repository_storage
        from sr_airflow.storage.catalog_store import CatalogStore

        try:
            storage = repository_storage(self.hook, self.repository, self.storage_conn_id, location=self.location)
            return CatalogStore(storage, self.repository).get(label)
        except Exception as exc:  # noqa: BLE001 - a snapshot taken without the catalog: nothing recorded
            self.log.info("Colocation groups not set again (no catalog entry of %r: %s).", label, exc)
            return None

    def reactivate(self, database: str) -> dict[str, Any]:
        """ALTER MATERIALIZED VIEW ... ACTIVE for each inactive MV, bases first; report the ones left inactive."""
        from sr_airflow.engine.mv import activation_order, materialized_views_query, parse_materialized_views
        from sr_airflow.engine.statements import render_activate_materialized_view

        _, rows = self.hook.fetch(materialized_views_query(database))
        reactivated = []
        for name in activation_order(parse_materialized_views(rows)):
            try:
                self.hook.execute(render_activate_materialized_view(database, name))
                reactivated.append(name)
                self.log.info("Materialized view %r.%r is active again.", database, name)
            except Exception as exc:  # noqa: BLE001 - one MV's failure must not hide the others
                self.log.warning("Materialized view %r.%r could not be activated: %s", database, name, exc)
        _, rows = self.hook.fetch(materialized_views_query(database))
        inactive = {v.name: v.inactive_reason for v in parse_materialized_views(rows) if not v.is_active}
        for name, reason in inactive.items():
            self.log.warning("Materialized view %r.%r stays inactive: %s", database, name, reason)
        return {"reactivated_materialized_views": reactivated, "inactive_materialized_views": inactive}
