"""StarRocksRpoCheckOperator: after a backup, alert when a database's newest good snapshot is older than the RPO
target (``sr_airflow.alerts``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sr_airflow.operators.base import StarRocksBaseOperator


class StarRocksRpoCheckOperator(StarRocksBaseOperator):
    """Read the catalog; for each of ``databases`` whose newest OK snapshot is older than the RPO target (or that
    has none), send one RPO-breach alert through the ``[alerts]`` notifier. A breach does not fail the task (the
    alert is the signal; a failed backup already fails its run); a notifier that fails does. XCom: the breaches.

    :param databases: the databases to check.
    :param repository: the repository whose catalog is read.
    :param storage_conn_id: storage connection of the repository location.
    :param location: the repository location (default: as SHOW REPOSITORIES shows it).
    :param rpo_target: seconds (default: ``[alerts] rpo_target`` of sr_airflow.toml, see ``alerts``).
    :param plan_task_id: the run's plan task (``sr_incremental_backup``): a database its plan found unchanged
        since its newest snapshot is current whatever that snapshot's age (a quiet database is no breach).
    """

    template_fields: Sequence[str] = ("databases", "repository", "storage_conn_id", "location")

    def __init__(self, *, databases: Any, repository: str, storage_conn_id: str | None,
                 location: str | None = None, rpo_target: float | None = None, plan_task_id: str | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "all_done")  # a failed backup is when the RPO matters most
        super().__init__(**kwargs)
        self.databases = databases
        self.repository = repository
        self.storage_conn_id = storage_conn_id
        self.location = location
        self.rpo_target = rpo_target
        self.plan_task_id = plan_task_id

    def execute(self, context: Any) -> list[dict[str, Any]]:
        from sr_airflow.alerts import breach_alert, load_alert_settings, rpo_target_seconds, send_alert
        from sr_airflow.operators.repository_storage import repository_storage
        from sr_airflow.reporting.catalog_view import rpo_rows
        from sr_airflow.storage.catalog_store import CatalogStore

        target = float(self.rpo_target) if self.rpo_target else rpo_target_seconds()
        wanted = list(dict.fromkeys(self.databases or []))
        storage = repository_storage(self.hook, self.repository, self.storage_conn_id, location=self.location)
        rows = {r["database"]: r for r in rpo_rows(CatalogStore(storage, self.repository).load(),
                                                   now=datetime.now(UTC), target=target)}
        unchanged = self._unchanged(context)
        breaches = []
        for database in wanted:
            if database in unchanged:
                self.log.info("RPO of %r met: this run's plan found nothing changed since its newest snapshot.",
                              database)
                continue
            row = rows.get(database) or {"database": database, "newest_ok": None, "taken_at": None,
                                         "age_seconds": None, "target_seconds": target}
            if row["newest_ok"] is None or row["age_seconds"] > target:
                breaches.append({k: row[k] for k in ("database", "newest_ok", "taken_at", "age_seconds",
                                                     "target_seconds")})
            else:
                self.log.info("RPO of %r met: newest good snapshot %s is %.0f s old (target %.0f s).", database,
                              row["newest_ok"], row["age_seconds"], target)
        if breaches:
            alert = breach_alert(self.dag_id, context["dag_run"].run_id, breaches, target)
            self.log.warning("%s", alert["message"])
            send_alert(load_alert_settings(), context, alert)
        return breaches

    def _unchanged(self, context: Any) -> set[str]:
        """The databases this run's plans found unchanged (empty plans); none without a plan task or its XCom."""
        if not self.plan_task_id:
            return set()
        plans = context["ti"].xcom_pull(task_ids=self.plan_task_id) or []
        if isinstance(plans, dict):
            plans = [plans]
        return {p["database"] for p in plans if isinstance(p, dict) and p.get("empty")
                and not p.get("excluded_tables") and not p.get("unrecorded_drops")}
