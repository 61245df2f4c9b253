"""StarRocksRetentionOperator: apply a retention policy to a repository, through the catalog (dry run first)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sr_airflow.engine.errors import SrAirflowError
from sr_airflow.operators.base import StarRocksBaseOperator

if TYPE_CHECKING:
    from sr_airflow.engine.retention import RetentionPolicy


class StarRocksRetentionOperator(StarRocksBaseOperator):
    """Delete the snapshots a policy no longer keeps, never one that a kept snapshot depends on.

    The plan and the deletion are the storage layer's (``engine/retention.py``): entries are marked ``deleting`` in
    the catalog, ``DROP SNAPSHOT`` is sent where the server has it (4.2+), the files are deleted through storage,
    then the entry is removed. ``dry_run`` (the default) only plans and logs.

    :param repository: the repository.
    :param storage_conn_id: storage connection of the repository location.
    :param location: the repository location (default: as SHOW REPOSITORIES shows it).
    :param keep_last: keep the newest N good snapshots (per database).
    :param keep_daily: keep the newest snapshot of each of the last N days.
    :param keep_weekly: keep the newest snapshot of each of the last N ISO weeks.
    :param keep_monthly: keep the newest snapshot of each of the last N months.
    :param max_age_days: keep nothing older than this.
    :param databases: only these databases (default: every database in the catalog).
    :param dry_run: plan and log only (default True).
    """

    template_fields: Sequence[str] = ("repository", "storage_conn_id", "location", "databases", "keep_last",
                                      "keep_daily", "keep_weekly", "keep_monthly", "max_age_days", "dry_run")

    def __init__(self, *, repository: str, storage_conn_id: str, keep_last: int | None = None,
                 keep_daily: int | None = None, keep_weekly: int | None = None, keep_monthly: int | None = None,
                 max_age_days: float | None = None, databases: Sequence[str] | None = None, dry_run: bool = True,
                 location: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keep_last, self.keep_daily, self.keep_weekly = keep_last, keep_daily, keep_weekly
        self.keep_monthly, self.max_age_days = keep_monthly, max_age_days
        self.repository = repository
        self.storage_conn_id = storage_conn_id
        self.location = location
        self.databases = databases
        self.dry_run = dry_run

    @property
    def policy(self) -> RetentionPolicy:
        from sr_airflow.engine.coerce import as_optional_int
        from sr_airflow.engine.retention import RetentionPolicy

        return RetentionPolicy(
            keep_last=as_optional_int("keep_last", self.keep_last),
            keep_daily=as_optional_int("keep_daily", self.keep_daily),
            keep_weekly=as_optional_int("keep_weekly", self.keep_weekly),
            keep_monthly=as_optional_int("keep_monthly", self.keep_monthly),
            max_age=timedelta(days=self.max_age_days) if self.max_age_days is not None else None,
        )

    def execute(self, context: Any) -> dict[str, Any]:
        from sr_airflow.engine.coerce import as_bool
        from sr_airflow.engine.retention import RetentionExecutor
        from sr_airflow.operators.repository_storage import repository_storage
        from sr_airflow.storage.catalog_store import CatalogStore

        storage = repository_storage(self.hook, self.repository, self.storage_conn_id, location=self.location)
        executor = RetentionExecutor(storage, CatalogStore(storage, self.repository), execute=self.hook.execute,
                                     server_version=str(self.hook.server_version()))
        self.dry_run = as_bool("dry_run", self.dry_run)
        report = executor.run(self.policy, now=datetime.now(UTC), dry_run=self.dry_run, databases=self.databases)
        result = {"dry_run": report.dry_run, "keep": list(report.plan.keep), "delete": list(report.plan.delete),
                  "deleted": list(report.deleted), "objects_deleted": report.objects_deleted,
                  "failures": dict(report.failures)}
        self.log.info("Retention of %r: keep %r, %s %r.", self.repository, result["keep"],
                      "would delete" if self.dry_run else "deleted", result["delete"] if self.dry_run
                      else result["deleted"])
        if report.failures:
            raise SrAirflowError(f"Retention of repository {self.repository!r} could not delete "
                                 f"{', '.join(sorted(report.failures))}.")
        return result
