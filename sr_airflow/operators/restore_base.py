"""What the two restore operators share: their common arguments, the RESTORE they render, the checks on the target
database, the safe overwrite's swap-in, and the steps after a restore (colocation groups, materialized views).

``operators/restore_snapshot.py`` restores one snapshot; ``operators/restore_chain.py`` restores a database as of
a point in time from the catalog, one RESTORE a snapshot of the chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sr_airflow import metrics
from sr_airflow.engine.coerce import as_bool
from sr_airflow.engine.errors import JobFailedError, RestoreRefusedError, SnapshotNotFoundError
from sr_airflow.operators.base import StarRocksBaseOperator

if TYPE_CHECKING:
    from sr_airflow.engine.backup_meta import BackupMeta
    from sr_airflow.engine.job_states import RestoreJob
    from sr_airflow.engine.scope import Scope
    from sr_airflow.engine.statements import RestoreRequest
    from sr_airflow.engine.target_checks import ColumnDef

#: The template fields both restore operators have.
RESTORE_TEMPLATE_FIELDS = (
    "repository", "snapshot_label", "database", "target_database", "tables", "storage_conn_id", "location",
    "allow_overwrite", "overwrite_mode", "timeout", "replication_num", "allow_load",
)


def _snapshot_meta(storage: Any, repository: str, label: str) -> BackupMeta:
    """The snapshot's ``__meta`` file in ``storage`` (under the repository's root, legacy or not, with the file's
    md5 checked), parsed."""
    from sr_airflow.engine.backup_meta import parse_backup_meta

    try:
        data = storage.read_meta_bytes(repository, label)
    except FileNotFoundError as exc:
        raise SnapshotNotFoundError(f"Snapshot {label!r} has no readable __meta file in repository {repository!r}: "
                                    f"{str(exc).rstrip('.')}.") from None
    except ValueError as exc:  # StarRocks' download would fail the same way (BAD_FILE), later, in the job
        raise RestoreRefusedError(f"Restore of snapshot {label!r} refused before submission: its __meta file in "
                                  f"repository {repository!r} is unusable: {str(exc).rstrip('.')}.") from None
    return parse_backup_meta(data)


def snapshot_schema(storage: Any, repository: str, label: str) -> dict[str, list[ColumnDef]]:
    """The base-index columns of each table of the snapshot, from its ``__meta`` file."""
    return _snapshot_meta(storage, repository, label).schemas()


def snapshot_materialized_views(storage: Any, repository: str, label: str) -> list[str]:
    """The names of the materialized views in the snapshot's ``__meta`` file (``clazz`` ``MaterializedView`` /
    ``LakeMaterializedView``; a synchronous MV is an index of its table, not an object)."""
    tables = _snapshot_meta(storage, repository, label).tables
    return sorted(name for name, table in tables.items()
                  if table.clazz in ("MaterializedView", "LakeMaterializedView"))


class RestoreOperatorBase(StarRocksBaseOperator):
    """The arguments and steps both restore operators have (see their own docstrings for the rest).

    :param repository: the repository holding the snapshot(s).
    :param snapshot_label: the snapshot label.
    :param database: the snapshot's database.
    :param target_database: restore into this database instead (``DATABASE a AS b``).
    :param tables: ``"ALL"`` or a list of names or ``{"name", "partitions", "alias"}`` mappings.
    :param allow_overwrite: allow overwriting the partitions of existing tables of the same schema (a template
        may render it as text: ``"False"`` is false, ``engine/coerce.py``).
    :param overwrite_mode: how ``allow_overwrite`` overwrites an existing table (``engine/swap.py``): ``"swap"``
        restores under a temporary name, checks it, then swaps it in; ``"in_place"`` writes into the live table;
        empty: swap what a swap can protect.
    :param timeout: StarRocks' job timeout, seconds (at least 600).
    :param replication_num: replicas of restored tables.
    :param allow_load: allow loads into the target while restoring.
    :param on_busy: ``wait`` for another job on the target database to end, or ``fail``.
    :param reactivate_materialized_views: re-activate inactive MVs of the target after the restore.
    :param cancel_on_kill: cancel the RESTORE job when the task is killed.
    :param storage_conn_id: storage connection of the repository (schema checks from ``__meta``, the catalog).
    :param location: the repository location (default: as SHOW REPOSITORIES shows it).
    """

    def __init__(self, *, repository: str, snapshot_label: str | None = None, database: str | None = None,
                 target_database: str | None = None, tables: Any = None, allow_overwrite: bool = False,
                 overwrite_mode: str | None = None, timeout: int | None = None, replication_num: int | None = None,
                 allow_load: bool | None = None, on_busy: str = "wait", reactivate_materialized_views: bool = True,
                 cancel_on_kill: bool = True, storage_conn_id: str | None = None, location: str | None = None,
                 **kwargs: Any) -> None:
        from sr_airflow.engine.swap import check_overwrite_mode

        if overwrite_mode is None or (isinstance(overwrite_mode, str) and "{{" not in overwrite_mode):
            check_overwrite_mode(overwrite_mode)  # a template or a run's param (dag_params) is checked when run
        if on_busy not in ("wait", "fail"):
            raise ValueError(f"on_busy must be 'wait' or 'fail', got {on_busy!r}.")
        super().__init__(**kwargs)
        self.repository = repository
        self.snapshot_label = snapshot_label
        self.database = database
        self.target_database = target_database
        self.tables = tables
        self.allow_overwrite = allow_overwrite
        self.overwrite_mode = overwrite_mode
        self.timeout = timeout
        self.replication_num = replication_num
        self.allow_load = allow_load
        self.on_busy = on_busy
        self.reactivate_materialized_views = as_bool("reactivate_materialized_views", reactivate_materialized_views)
        self.cancel_on_kill = as_bool("cancel_on_kill", cancel_on_kill)
        self.storage_conn_id = storage_conn_id
        self.location = location

    # ---- the arguments, once rendered
    def check_arguments(self) -> None:
        """Refuse a bad rendered argument before anything is read or sent."""
        from sr_airflow.engine.swap import check_overwrite_mode

        check_overwrite_mode(self.overwrite_mode)
        self.job_properties()
        _ = self.overwrites

    @property
    def overwrites(self) -> bool:
        """``allow_overwrite`` as the boolean it stands for (a template may render it as text)."""
        return as_bool("allow_overwrite", self.allow_overwrite)

    def job_properties(self) -> dict[str, Any]:
        """The RESTORE job's properties, coerced from their rendered text (None: StarRocks' default)."""
        from sr_airflow.engine.coerce import as_optional_bool, as_optional_int

        return {"timeout_s": as_optional_int("timeout", self.timeout),
                "allow_load": as_optional_bool("allow_load", self.allow_load),
                "replication_num": as_optional_int("replication_num", self.replication_num)}

    def request(self, label: str, scope: Scope, timestamp: str | None) -> RestoreRequest:
        """The RESTORE of ``label`` at ``timestamp``."""
        from sr_airflow.engine.statements import RestoreRequest

        return RestoreRequest(label=label, repository=self.repository, scope=scope, backup_timestamp=timestamp,
                              **self.job_properties())

    def storage(self) -> Any:
        from sr_airflow.operators.repository_storage import repository_storage

        return repository_storage(self.hook, self.repository, self.storage_conn_id, location=self.location)

    # ---- the target database
    def latest_job(self, target: str | None, label: str | None = None) -> RestoreJob | None:
        """The latest RESTORE job of ``label`` (default: the snapshot label) on ``target``."""
        from sr_airflow.engine.restore_resume import latest_restore_job

        return latest_restore_job(self.hook.restore_jobs(target), label or self.snapshot_label)

    def create_legacy_target(self, target: str | None, version: Any) -> None:
        """Before 3.4 RESTORE does not create its target database (3.3 ``BackupHandler.process``: ERR_BAD_DB_ERROR
        for a missing one), so the operator does."""
        from sr_airflow.engine.statements import render_create_database

        if target and not version.has_object_backup_syntax:
            self.hook.execute(render_create_database(target))

    def running_job(self, target: str | None) -> str | None:
        """What runs on the target database now (None: nothing, or the database does not exist yet)."""
        from sr_airflow.engine.jobwatch import JobWatch

        if not target:
            return None
        try:
            observation = JobWatch(job_type="any", database=target, absent="done").poll(self.hook)
        except Exception as exc:  # noqa: BLE001 - RESTORE creates a missing database
            if "Unknown database" in str(exc):
                return None
            raise
        return observation.message if observation.job is not None else None

    # ---- safe overwrite (engine/swap.py)
    def drop_temporaries(self, target: str | None, swaps: dict[str, str]) -> None:
        from sr_airflow.engine.swap import render_drop_table

        for temporary in swaps.values():
            try:
                self.hook.execute(render_drop_table(target, temporary))
            except Exception as exc:  # noqa: BLE001 - the live table is untouched either way; say what is left
                self.log.warning("Temporary table %r.%r could not be dropped (%s); drop it by hand.", target,
                                 temporary, exc)

    def swap_in(self, target: str, swaps: dict[str, str], expected: dict[str, dict[str, list[int]]],
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
            self.drop_temporaries(target, swaps)
            raise JobFailedError(f"{what} into database {target!r} does not verify before the swap "
                                 f"({'; '.join(problems)}); the live tables are untouched.")
        for live, temporary in swaps.items():
            self.hook.execute(render_swap_table(target, live, temporary))
            self.log.info("Table %r.%r swapped in from %r; dropping the old table.", target, live, temporary)
            self.hook.execute(render_drop_table(target, temporary))

    def settle_swap_refusals(self, target: str, reasons: Sequence[str]) -> None:
        """What a swap cannot protect (``reasons``): refused before anything is sent when ``overwrite_mode='swap'``
        was asked for; otherwise overwritten in place, with a warning each."""
        from sr_airflow.engine.swap import SwapRefusedError

        if reasons and self.overwrite_mode == "swap":
            raise SwapRefusedError(f"Restore into database {target!r} refused before submission: overwrite_mode="
                                   f"'swap' cannot protect it: {'; '.join(reasons)}; set overwrite_mode="
                                   "'in_place' to accept an in-place overwrite.")
        for why in reasons:
            self.log.warning("Overwriting in place, not by swap: %s. A failure after COMMIT may leave the table "
                             "unreadable; set overwrite_mode='in_place' to choose this.", why)

    # ---- after the restore
    def send_job_phases(self, target: str, label: str, database: str) -> None:
        """The phases of the finished RESTORE job ``label`` (SHOW RESTORE); a failed look is logged, not raised."""
        from sr_airflow.engine.jobwatch import phase_seconds

        try:
            job = self.latest_job(target, label)
        except Exception as exc:  # noqa: BLE001 - metrics never fail a restore that succeeded
            self.log.warning("Phases of restore job %r not sent: %s", label, exc)
            return
        if job is not None:
            metrics.restore_job_finished(database=database, target_database=target, repository=self.repository,
                                         phase_seconds=phase_seconds(job))

    def reapply_colocation(self, database: str, snapshot: Any, targets: dict[str, str] | None) -> dict[str, Any]:
        """Set each restored table's colocation group again, as the catalog recorded it at backup time (a RESTORE
        drops it: ``engine/colocation.py``). ``snapshot`` is the catalog entry or its label. A table StarRocks
        refuses is reported with the error; nothing here fails the restore, which has already succeeded."""
        from sr_airflow.engine.colocation import ColocationOutcome, render_set_colocation, wanted_groups

        outcome = ColocationOutcome()
        entry = snapshot if not isinstance(snapshot, str) else self.catalog_entry(snapshot)
        census = entry.census if entry is not None else None
        if census is None:
            return outcome.to_dict()
        recorded = {t: i.colocate_with for t, i in census.tables.items()}
        wanted = wanted_groups(recorded, targets if targets is not None else {t: t for t in recorded})
        if not wanted:
            return outcome.to_dict()
        present = self.hook.table_columns(database, sorted(wanted))
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

    def catalog_entry(self, label: str) -> Any:
        """The catalog entry of ``label`` (None without ``storage_conn_id`` or when the catalog has none)."""
        if not self.storage_conn_id:
            self.log.info("No storage_conn_id: colocation groups are not set again (the catalog records them).")
            return None
        from sr_airflow.storage.catalog_store import CatalogStore

        try:
            return CatalogStore(self.storage(), self.repository).get(label)
        except Exception as exc:  # noqa: BLE001 - a snapshot taken without the catalog: nothing recorded
            self.log.info("Colocation groups not set again (no catalog entry of %r: %s).", label, exc)
            return None

    def reactivate(self, database: str) -> dict[str, Any]:
        """ALTER MATERIALIZED VIEW ... ACTIVE for each inactive MV, bases first; report the ones left inactive."""
        from sr_airflow.engine.mv import activation_order
        from sr_airflow.engine.statements import render_activate_materialized_view

        reactivated = []
        for name in activation_order(self.hook.materialized_views(database)):
            try:
                self.hook.execute(render_activate_materialized_view(database, name))
                reactivated.append(name)
                self.log.info("Materialized view %r.%r is active again.", database, name)
            except Exception as exc:  # noqa: BLE001 - one MV's failure must not hide the others
                self.log.warning("Materialized view %r.%r could not be activated: %s", database, name, exc)
        inactive = {v.name: v.inactive_reason for v in self.hook.materialized_views(database) if not v.is_active}
        for name, reason in inactive.items():
            self.log.warning("Materialized view %r.%r stays inactive: %s", database, name, reason)
        return {"reactivated_materialized_views": reactivated, "inactive_materialized_views": inactive}
