"""StarRocksBackupOperator: one BACKUP per DAG run, found again (never submitted twice) by a retry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sr_airflow import metrics
from sr_airflow.engine.coerce import as_bool
from sr_airflow.engine.errors import JobFailedError
from sr_airflow.engine.labels import LABEL_KINDS
from sr_airflow.operators.backup_record import TOMBSTONES_KEY
from sr_airflow.operators.base import StarRocksBaseOperator

if TYPE_CHECKING:
    from sr_airflow.engine.scope import Scope
    from sr_airflow.engine.statements import BackupRequest

ON_BUSY = ("wait", "fail")
ASSET_SCHEME = "starrocks"
#: The outlet every backup declares; at run time it names the Asset of the database actually backed up, so a
#: mapped or templated ``database`` emits per-database events too (Airflow's AssetAlias, ``outlet_events``).
BACKUPS_ALIAS = "starrocks-backups"


def database_asset(conn_id: str, database: str):
    """The Asset a backup of ``database`` updates, named and addressed ``starrocks://<conn_id>/<database>``: the
    same Asset as ``Asset("starrocks://<conn_id>/<database>")`` in a downstream DAG's schedule."""
    from airflow.sdk import Asset

    uri = f"{ASSET_SCHEME}://{conn_id}/{database}"
    return Asset(name=uri, uri=uri)


def backups_alias():
    """The AssetAlias a backup declares as its outlet (see ``BACKUPS_ALIAS``)."""
    from airflow.sdk import AssetAlias

    return AssetAlias(BACKUPS_ALIAS)


def run_moment(context: Any):
    """The moment a run stands for: its logical date, or when it was asked to run (manual runs)."""
    dag_run = context["dag_run"]
    return context.get("logical_date") or dag_run.logical_date or dag_run.run_after


class StarRocksBackupOperator(StarRocksBaseOperator):
    """Back up a database (or some of its objects, or external catalogs) into a repository and wait for it.

    The snapshot label is derived from the DAG run (``engine/labels.py``), so a retry finds its own job: a running
    job is waited for, a finished one is reported without resubmitting, a cancelled one makes way for the next
    generation label (``<label>_r1``...). Another job on the database is waited for (``on_busy="wait"``) or
    refused (``"fail"``). On success the snapshot is recorded in the catalog (when ``storage_conn_id`` is given)
    and XCom gets ``snapshot_label``, ``backup_timestamp``, ``size_bytes`` and ``phase_seconds``.

    :param repository: the repository to back up into.
    :param database: the database (omit for an external-catalog backup).
    :param tables: ``"ALL"`` or a list of names or ``{"name", "partitions"}`` mappings.
    :param materialized_views: ``"ALL"`` or a list of names.
    :param views: ``"ALL"`` or a list of names.
    :param functions: ``"ALL"`` or a list of names.
    :param external_catalogs: ``"ALL"`` or a list of catalog names (no database then).
    :param snapshot_label: an explicit label (default: derived from the DAG run).
    :param label_kind: the label's prefix: ``full``, ``incr``, ``part`` or ``mig``.
    :param timeout: StarRocks' job timeout in seconds (at least 600).
    :param on_busy: ``wait`` for another job on the database to end, or ``fail``.
    :param cancel_on_kill: cancel the StarRocks job when the task is killed.
    :param snapshot_kind: ``full`` or ``incremental``, as the catalog records it (a plan's ``snapshot_kind``).
    :param parent_label: the snapshot an incremental builds on (a plan's ``parent_label``).
    :param tombstones: tables/partitions dropped since the parent, ``[{"table", "partition"}]`` (from the plan).
    :param tombstones_from_catalog: read the tombstones again once the BACKUP holds the database's job slot,
        against every OK snapshot in the catalog (``operators/backup_record.py``), instead of ``tombstones``.
    :param partition_stats: ``[[table, partition, rows, bytes], ...]`` from the plan, kept in the catalog where
        partitions_meta after the job does not give them.
    :param objects: what the catalog records beside partitions (a plan's ``objects``: table fingerprints,
        views, materialized views, functions, reasons, excluded tables).
    :param excluded_tables: ``{table: reason}`` the plan left out; after the snapshot is recorded the task fails
        naming them (a nightly backup that silently skips a table would lose it).
    :param catalog_scope: the scope the catalog records (a plan's ``catalog_scope``: the chain's database or
        table group); default: this backup's own scope.
    :param storage_conn_id: storage connection of the repository location; when set, the snapshot's job info is
        read and its catalog entry written, and its size measured.
    :param location: the repository location the storage is opened at (``operators/repository_storage.py``);
        default: as SHOW REPOSITORIES shows it, read with ``storage_conn_id``.
    """

    template_fields: Sequence[str] = (
        "repository", "database", "tables", "materialized_views", "views", "functions", "external_catalogs",
        "snapshot_label", "storage_conn_id", "location", "label_kind", "snapshot_kind", "parent_label", "tombstones",
        "partition_stats", "catalog_scope", "objects", "excluded_tables", "tombstones_from_catalog",
    )
    template_fields_renderers = {"tables": "json", "materialized_views": "json", "views": "json",
                                 "functions": "json", "external_catalogs": "json"}

    def __init__(self, *, repository: str, database: str | None = None, tables: Any = None,
                 materialized_views: Any = None, views: Any = None, functions: Any = None,
                 external_catalogs: Any = None, snapshot_label: str | None = None, label_kind: str = "full",
                 timeout: int | None = None, on_busy: str = "wait", cancel_on_kill: bool = True,
                 storage_conn_id: str | None = None, location: str | None = None, snapshot_kind: str = "full",
                 parent_label: str | None = None,
                 tombstones: Any = None, partition_stats: Any = None, catalog_scope: Any = None,
                 objects: Any = None, excluded_tables: Any = None, tombstones_from_catalog: bool = False,
                 **kwargs: Any) -> None:
        if on_busy not in ON_BUSY:
            raise ValueError(f"on_busy must be 'wait' or 'fail', got {on_busy!r}.")
        if "{{" not in label_kind and label_kind not in LABEL_KINDS:  # a templated kind is checked when used
            raise ValueError(f"label_kind must be one of {', '.join(LABEL_KINDS)}, got {label_kind!r}.")
        if not kwargs.get("outlets"):  # a mapped task's partial gives outlets=None
            kwargs["outlets"] = [backups_alias()]
        super().__init__(**kwargs)
        self.repository = repository
        self.database = database
        self.tables = tables
        self.materialized_views = materialized_views
        self.views = views
        self.functions = functions
        self.external_catalogs = external_catalogs
        self.snapshot_label = snapshot_label
        self.label_kind = label_kind
        self.timeout = timeout
        self.on_busy = on_busy
        self.cancel_on_kill = as_bool("cancel_on_kill", cancel_on_kill)
        self.storage_conn_id = storage_conn_id
        self.location = location
        self.snapshot_kind = snapshot_kind
        self.parent_label = parent_label
        self.tombstones = tombstones
        self.partition_stats = partition_stats
        self.catalog_scope = catalog_scope
        self.objects = objects
        self.excluded_tables = excluded_tables
        self.tombstones_from_catalog = tombstones_from_catalog

    # ---- what this run backs up
    def scope(self) -> Scope:
        from sr_airflow.engine.scope_args import scope_from_arguments

        return scope_from_arguments(database=self.database, tables=self.tables,
                                    materialized_views=self.materialized_views, views=self.views,
                                    functions=self.functions, external_catalogs=self.external_catalogs)

    def base_label(self, context: Any, scope: Scope) -> str:
        from sr_airflow.engine.labels import snapshot_label
        from sr_airflow.engine.scope_args import scope_description

        if self.snapshot_label:
            return self.snapshot_label
        ti = context["ti"]
        fingerprint = {"scope": scope_description(scope), "task_id": self.task_id,
                       "map_index": getattr(ti, "map_index", -1)}
        return snapshot_label(label_kind=self.label_kind, database=scope.database or "catalogs",
                              moment=run_moment(context), dag_id=self.dag_id, run_id=context["dag_run"].run_id,
                              scope=fingerprint)

    def request(self, label: str, scope: Scope) -> BackupRequest:
        from sr_airflow.engine.coerce import as_optional_int
        from sr_airflow.engine.statements import BackupRequest

        return BackupRequest(label=label, repository=self.repository, scope=scope,
                             timeout_s=as_optional_int("timeout", self.timeout))

    # ---- the steps
    def execute(self, context: Any) -> dict[str, Any]:
        from sr_airflow.engine.statements import Syntax, render_backup

        scope = self.scope()
        label = self.base_label(context, scope)
        request = self.request(label, scope)
        request.validate()
        version = self.hook.check_server(self.log)
        render_backup(request, Syntax.for_version(version))  # UnsupportedByServerError before any submission
        if scope.database is not None:
            from sr_airflow.operators.privileges import backup_scope_needs, check_privileges

            # the catalog entry records the database's census (a plan's objects, or read after a whole full backup)
            census = bool(self.objects) or (self.snapshot_kind in (None, "full") and not scope.has_on_clause)
            check_privileges(self.hook, backup_scope_needs(scope, census=census), self.log,
                             where=self.starrocks_conn_id)
        self.log.info("Backup of %r into repository %r, label %r (StarRocks %s).",
                      scope.database or "external catalogs", self.repository, label, version)
        return self._advance(context)

    def _advance(self, context: Any) -> dict[str, Any]:
        from sr_airflow.engine.jobwatch import NextStep, decide_backup, generation_labels, is_busy_error
        from sr_airflow.engine.statements import Syntax, render_backup

        scope = self.scope()
        label = self.base_label(context, scope)
        jobs = self.hook.backup_jobs(scope.database)
        snapshots = self.hook.snapshots(self.repository, labels=generation_labels(label))
        if scope.database is None:  # external-catalog jobs: other databases' jobs do not block
            jobs = [j for j in jobs if j.label in set(generation_labels(label))]
        decision = decide_backup(label, jobs, snapshots)
        self.log.info("%s", decision.reason)
        if decision.step is NextStep.DONE:
            return self._finish(context, decision.label)
        if decision.step is NextStep.WAIT:
            return self._wait_job(context, decision.label)
        if decision.step is NextStep.BUSY:
            return self._busy(context, decision.reason)
        version = self.hook.server_version()
        syntax = Syntax.for_version(version)
        statement = render_backup(self.request(decision.label, self._submitted_scope(scope, syntax)), syntax)
        try:
            self.hook.execute(statement)
        except Exception as exc:
            if is_busy_error(exc):
                return self._busy(context, str(exc))
            raise JobFailedError(f"Backup {decision.label!r} of {scope.database or 'external catalogs'!r} was "
                                 f"refused by StarRocks: {str(exc).rstrip('.')}.") from None
        self.log.info("Submitted backup %r.", decision.label)
        store = context.get("task_state_store")
        if store is not None:
            store.set("snapshot_label", decision.label)
            # the job now holds the database's slot
            if as_bool("tombstones_from_catalog", self.tombstones_from_catalog) and self.storage_conn_id:
                store.set(TOMBSTONES_KEY, self._read_tombstones())
        return self._wait_job(context, decision.label)

    def _submitted_scope(self, scope: Scope, syntax: Any) -> Scope:
        """The scope sent. Before 3.4 a whole-database BACKUP takes every table of the database, views too, and
        StarRocks refuses views then (3.3 BackupRestoreAnalyzer.visitBackupStatement: ``db.getTables()``;
        BackupHandler.backup: ERR_NOT_OLAP_TABLE), so the legacy form names the tables and materialized views
        partitions_meta lists (the views are not backed up, as 3.3 cannot)."""
        import dataclasses

        from sr_airflow.engine.scope import ObjectRef
        from sr_airflow.engine.statements import Syntax

        if syntax is not Syntax.LEGACY or not scope.database or scope.has_on_clause:
            return scope
        names = sorted({state.table for state in self.hook.partitions_meta(scope.database)})
        if not names:
            return scope
        return dataclasses.replace(scope, objects=tuple(ObjectRef.table(name) for name in names))

    def _read_tombstones(self, storage: Any = None) -> list[dict[str, Any]]:
        from sr_airflow.operators.backup_record import read_tombstones
        from sr_airflow.operators.repository_storage import repository_storage

        if storage is None:
            storage = repository_storage(self.hook, self.repository, self.storage_conn_id, location=self.location)
        group = (self.catalog_scope or {}).get("tables") if isinstance(self.catalog_scope, dict) else None
        found = read_tombstones(self.hook, storage, self.repository, self.database, group)
        self.log.info("Tombstones of this snapshot, read while its job holds %r: %s.", self.database,
                      ", ".join(f"{t['table']}.{t['partition']}" if t["partition"] else t["table"] for t in found)
                      or "none")
        return found

    def _busy(self, context: Any, reason: str) -> dict[str, Any]:
        from sr_airflow.engine.jobwatch import JobWatch

        database = self.database or "external catalogs"
        if self.on_busy == "fail":
            raise JobFailedError(f"Backup of database {database!r} refused: another job is running "
                                 f"({reason.rstrip('.')}).")
        self.log.info("Waiting for another job on database %r to end: %s", database, reason)
        watch = JobWatch(job_type="any", database=self.database, absent="done")
        return self.wait_for(context, watch, "_busy_cleared")

    def _busy_cleared(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        if event.get("status") != "success":
            raise JobFailedError(event.get("message") or "Waiting for the database to become free failed.")
        return self._advance(context)

    def _wait_job(self, context: Any, label: str) -> dict[str, Any]:
        from sr_airflow.engine.jobwatch import JobWatch

        watch = JobWatch(job_type="backup", database=self.database, label=label)
        return self.wait_for(context, watch, "execute_complete", cancel_on_kill=self.cancel_on_kill)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the wait: fail on a cancelled job or an error, else record and report the snapshot."""
        if event.get("status") != "success":
            message = event.get("message") or f"Backup {event.get('label')!r} failed."
            if event.get("state") is None and event.get("label") and self._snapshot_ok(event["label"]):
                # SHOW BACKUP shows a database's latest job only: a job that finished just before another one
                # was submitted on the database is no longer shown, but its snapshot is in the repository.
                self.log.info("%s Snapshot %r is in repository %r with status OK.", message, event["label"],
                              self.repository)
                return self._finish(context, event["label"])
            raise JobFailedError(message)
        return self._finish(context, event["label"])

    def _snapshot_ok(self, label: str) -> bool:
        from sr_airflow.engine.errors import SnapshotNotFoundError
        from sr_airflow.engine.jobwatch import is_connection_error

        try:
            self.hook.usable_snapshot(self.repository, label)
        except SnapshotNotFoundError:
            return False
        except Exception as exc:
            if is_connection_error(exc):
                return False  # the watch's own error says why
            raise
        return True

    # ---- the result
    def _finish(self, context: Any, label: str) -> dict[str, Any]:
        from sr_airflow.engine.errors import SnapshotNotFoundError
        from sr_airflow.engine.jobwatch import phase_seconds

        job = next((j for j in self.hook.backup_jobs(self.database) if j.label == label), None)
        try:
            listing = self.hook.usable_snapshot(self.repository, label)
        except SnapshotNotFoundError as exc:
            raise JobFailedError(f"Backup {label!r} ended, but: {exc}") from None
        result: dict[str, Any] = {
            "snapshot_label": label,
            "backup_timestamp": listing.latest_timestamp,
            "repository": self.repository,
            "database": self.database,
            "job_id": job.job_id if job else None,
            "phase_seconds": phase_seconds(job) if job else {},
            "size_bytes": None,
        }
        if self.storage_conn_id:
            result["size_bytes"] = self.record_in_catalog(context, result)
        metrics.backup_finished(database=self.database, repository=self.repository,
                                snapshot_kind=self.snapshot_kind or "full", size_bytes=result["size_bytes"],
                                phase_seconds=result["phase_seconds"])
        self.log.info("Snapshot %r (timestamp %s) is in repository %r; phases: %s.", label,
                      result["backup_timestamp"], self.repository, result["phase_seconds"])
        context["ti"].xcom_push(key="snapshot_label", value=label)
        context["ti"].xcom_push(key="backup_timestamp", value=result["backup_timestamp"])
        self._emit_asset_event(context, result)
        if self.excluded_tables:
            left_out = "; ".join(f"{t} ({why})" for t, why in sorted(dict(self.excluded_tables).items()))
            raise JobFailedError(f"Snapshot {label!r} of {self.database!r} is recorded, but left out table(s) "
                                 f"{left_out}; a restore will say so. Remove the temporary partitions (REPLACE or "
                                 "DROP TEMPORARY PARTITION) so the next backup takes them.")
        return result

    def _emit_asset_event(self, context: Any, result: dict[str, Any]) -> None:
        """An event of the backed-up database's Asset through the ``BACKUPS_ALIAS`` outlet (Airflow registers it
        when the task succeeds); none for an external-catalog backup or when the outlets were chosen by hand."""
        from airflow.sdk import AssetAlias

        alias = next((o for o in self.outlets if isinstance(o, AssetAlias) and o.name == BACKUPS_ALIAS), None)
        if alias is None or not self.database:
            return
        asset = database_asset(self.starrocks_conn_id, self.database)
        context["outlet_events"][alias].add(asset, extra={"snapshot_label": result["snapshot_label"],
                                                          "backup_timestamp": result["backup_timestamp"]})
        self.log.info("Asset event: %s.", asset.uri)

    def record_in_catalog(self, context: Any, result: dict[str, Any]) -> int | None:
        """Read the snapshot's job info from storage and write its catalog entry; returns its size in bytes."""
        from sr_airflow.engine.catalog import SnapshotKind, Tombstone, entry_from_job_info
        from sr_airflow.engine.scope_args import scope_description
        from sr_airflow.operators.backup_record import census_of_whole_database, partition_stats_now
        from sr_airflow.operators.repository_storage import repository_storage
        from sr_airflow.storage.catalog_store import CatalogStore

        storage = repository_storage(self.hook, self.repository, self.storage_conn_id, location=self.location)
        label, timestamp = result["snapshot_label"], result["backup_timestamp"]
        job_info = storage.read_job_info(self.repository, label, timestamp)
        size = storage.snapshot_size(self.repository, label)
        tombstones = self.tombstones or []
        if as_bool("tombstones_from_catalog", self.tombstones_from_catalog):
            store = context.get("task_state_store")
            held = store.get(TOMBSTONES_KEY) if store is not None else None
            if held is None:  # the attempt that submitted was lost before it read them: read them now
                self.log.info("No tombstones kept from the submission of %r; reading them now.", label)
                held = self._read_tombstones(storage)
            tombstones = held
        stats = {(t, p): (rows, size) for t, p, rows, size in self.partition_stats or []}
        stats.update(partition_stats_now(self.hook, job_info))
        objects = dict(self.objects or {})
        if not objects and self.snapshot_kind in (None, "full") and self.database and not self.scope().has_on_clause:
            objects = census_of_whole_database(self.hook, self.database)
        entry = entry_from_job_info(
            job_info, repository=self.repository, snapshot_kind=SnapshotKind(self.snapshot_kind or "full"),
            parent_label=self.parent_label or None,
            tombstones=[Tombstone(t["table"], t.get("partition")) for t in tombstones],
            partition_stats=stats, objects=objects,
            scope=self.catalog_scope or scope_description(self.scope()), phase_seconds=result["phase_seconds"],
            dag_id=self.dag_id,
            run_id=context["dag_run"].run_id, snapshot_bytes=size.bytes, snapshot_objects=size.objects,
            source_version=str(self.hook.server_version()),
        )
        CatalogStore(storage, self.repository).put(entry)
        if entry.database and entry.backup_time is not None:  # the newest good snapshot of the database now
            metrics.snapshot_age(database=entry.database, repository=self.repository,
                                 age_seconds=(datetime.now(UTC) - entry.backup_time).total_seconds())
        return size.bytes
