"""The product as the shipped DAGs run it, called in-process: the operators of ``sr_full_backup``,
``sr_incremental_backup`` and ``sr_restore`` with the arguments those DAGs give them, executed with a fake task
context (no Airflow database, no scheduler). The plan-to-backup mapping is the incremental DAG's own
``backup_arguments``, loaded from the shipped DAG file, so the model drives exactly what a DAG run would."""

from __future__ import annotations

import itertools
import runpy
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pendulum

from tests.support.airflow_env import SHIPPED_DAGS
from tests.support.task_context import task_context

FAST_WAIT = {"deferrable": False, "poll_interval": 0.05, "max_poll_interval": 0.2}


@dataclass(frozen=True)
class Snapshot:
    """A backup the product finished: its label and the moment the catalog records for it."""

    label: str
    backup_timestamp: str

    @property
    def backup_time(self) -> pendulum.DateTime:
        from sr_airflow.engine.timestamps import parse_backup_timestamp

        return parse_backup_timestamp(self.backup_timestamp)


@dataclass
class Product:
    """One database of the source cluster ``conn_id`` backed up into ``repository`` (at ``location``, read with
    ``storage_conn_id``), restored into other databases of the same cluster."""

    conn_id: str
    storage_conn_id: str
    repository: str
    location: str
    database: str

    def __post_init__(self) -> None:
        self._runs = itertools.count(1)

    @cached_property
    def _incremental_dag(self) -> dict[str, Any]:
        return runpy.run_path(str(SHIPPED_DAGS / "sr_incremental_backup.py"))

    def _context(self, kind: str) -> dict:
        n = next(self._runs)
        # each call is its own DAG run: the label derives from the run id, as in Airflow
        return task_context(f"model__{self.database}__{kind}{n}", pendulum.now("UTC"))

    def full_backup(self) -> Snapshot:
        """What ``sr_full_backup``'s mapped backup task does for one database."""
        from sr_airflow.operators.backup import StarRocksBackupOperator

        op = StarRocksBackupOperator(task_id="backup", starrocks_conn_id=self.conn_id, repository=self.repository,
                                     database=self.database, storage_conn_id=self.storage_conn_id,
                                     label_kind="full", cancel_on_kill=False, **FAST_WAIT)
        result = op.execute(self._context("full"))
        return Snapshot(result["snapshot_label"], result["backup_timestamp"])

    def plan(self, partitions: list[str] | None = None) -> dict[str, Any]:
        """``sr_incremental_backup``'s plan task, its XCom: mode ``changed``, or ``logical_date`` for
        ``partitions`` (what a backfill run of a date plans: the partition the DAG's template names)."""
        from sr_airflow.operators.plan import StarRocksPlanBackupOperator

        defaults = self._incremental_dag["DEFAULTS"]
        op = StarRocksPlanBackupOperator(task_id="plan", starrocks_conn_id=self.conn_id, repository=self.repository,
                                         database=self.database, storage_conn_id=self.storage_conn_id,
                                         location=self.location, mode="logical_date" if partitions else "changed",
                                         partitions=partitions,
                                         max_incrementals=defaults["full_every_n"],
                                         max_full_age_days=defaults["full_every_days"])
        return op.execute(self._context("plan"))

    def backup(self, plan: dict[str, Any]) -> Snapshot | None:
        """``sr_incremental_backup``'s backup task for ``plan``; None when the plan is empty (the task skips)."""
        from airflow.sdk.exceptions import AirflowSkipException

        from sr_airflow.operators.backup import StarRocksBackupOperator

        try:
            arguments = self._incremental_dag["backup_arguments"](plan)
        except AirflowSkipException:
            return None
        op = StarRocksBackupOperator(task_id="backup", starrocks_conn_id=self.conn_id, repository=self.repository,
                                     storage_conn_id=self.storage_conn_id, cancel_on_kill=False, **arguments,
                                     **FAST_WAIT)
        result = op.execute(self._context("incr"))
        return Snapshot(result["snapshot_label"], result["backup_timestamp"])

    def restore(self, at: pendulum.DateTime, target_database: str) -> dict[str, Any]:
        """``sr_restore``'s restore and verify tasks: the database as of ``at`` into ``target_database``."""
        from sr_airflow.operators.restore import StarRocksRestoreChainOperator
        from sr_airflow.operators.verify import StarRocksVerifyRestoreOperator

        context = self._context("restore")
        restore = StarRocksRestoreChainOperator(task_id="restore", starrocks_conn_id=self.conn_id,
                                                repository=self.repository, database=self.database,
                                                target_database=target_database, point_in_time=at.isoformat(),
                                                storage_conn_id=self.storage_conn_id, cancel_on_kill=False,
                                                **FAST_WAIT)
        result = restore.execute(context)
        verify = StarRocksVerifyRestoreOperator(task_id="verify", starrocks_conn_id=self.conn_id,
                                                database=target_database, repository=self.repository,
                                                snapshot_label=result["snapshot_label"],
                                                storage_conn_id=self.storage_conn_id, **FAST_WAIT)
        result["verify"] = verify.execute(context)
        return result
