"""StarRocksJobSensor: wait for a BACKUP or RESTORE of a database to end (poke or deferrable)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator

from sr_airflow.engine.errors import JobFailedError
from sr_airflow.operators.base import DEFAULT_CONN_ID, StarRocksTaskMixin

if TYPE_CHECKING:
    from sr_airflow.engine.jobwatch import JobWatch


class _StarRocksWatchSensor(StarRocksTaskMixin, BaseSensorOperator):
    """Shared by the StarRocks sensors: one :class:`JobWatch`, poked here or deferred to the trigger.

    The watch and the trigger are imported when the sensor runs: parsing a DAG does not load ``airflow.triggers``.
    It has no ``__init__`` of its own: Airflow copies the DAG's Params once per ``__init__`` in an operator's class
    chain at every parse, so each sensor takes ``starrocks_conn_id``, ``deferrable`` and ``max_poll_interval``
    itself and hands them to :meth:`_watch_settings`.
    """

    def _watch_settings(self, starrocks_conn_id: str, deferrable: bool | None, max_poll_interval: float) -> None:
        self.starrocks_conn_id = starrocks_conn_id
        self.deferrable = deferrable
        self.max_poll_interval = max_poll_interval

    def watch(self) -> JobWatch:
        raise NotImplementedError

    def _result(self, event: dict[str, Any]) -> Any:
        if event["status"] != "success":
            raise JobFailedError(event["message"])
        self.log.info("%s", event["message"])
        return event

    def poke(self, context: Any) -> bool:
        watch = self.watch()
        observation = watch.poll(self.hook)
        event = watch.event(observation)
        if event is None:
            self.log.info("%s", observation.message)
            return False
        self._result(event)
        return True

    def execute(self, context: Any) -> Any:
        if not self.will_defer():  # no triggerer running: poke in the worker (operators/base.py)
            return super().execute(context)
        watch = self.watch()
        event = watch.event(watch.poll(self.hook))
        if event is not None:
            return self._result(event)
        from sr_airflow.triggers.job import StarRocksJobTrigger

        trigger = StarRocksJobTrigger(
            starrocks_conn_id=self.starrocks_conn_id, job_type=watch.job_type, database=watch.database,
            label=watch.label,
            repository=watch.repository, absent=watch.absent, poll_interval=float(self.poke_interval),
            max_poll_interval=max(float(self.poke_interval), self.max_poll_interval),
        )
        self.defer(trigger=trigger, method_name="execute_complete", timeout=timedelta(seconds=self.timeout))
        return None

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        return self._result(event)


class StarRocksJobSensor(_StarRocksWatchSensor):
    """Wait until the BACKUP or RESTORE running on a database ends.

    Without ``snapshot_label``: succeeds as soon as no job of ``job_type`` runs on the database (a cancelled job counts
    as ended). With ``snapshot_label``: waits for that job to be shown and to finish; fails if it is cancelled.
    StarRocks shows only a database's latest job, so a job that ended just before the next one was submitted is
    never seen again: to wait for a backup, :class:`StarRocksSnapshotSensor` on its snapshot is the sure way.

    :param database: the database whose job to watch (None: external-catalog jobs).
    :param snapshot_label: the job's label (optional).
    :param job_type: ``backup``, ``restore`` or ``any`` (the default: either job type).
    :param starrocks_conn_id: the StarRocks connection.
    :param deferrable: wait in the triggerer instead of poking in the worker.
    :param max_poll_interval: the cap of the trigger's backoff, seconds (it starts at ``poke_interval``).
    """

    template_fields: Sequence[str] = ("database", "snapshot_label")

    def __init__(self, *, database: str | None, snapshot_label: str | None = None, job_type: str = "any",
                 starrocks_conn_id: str = DEFAULT_CONN_ID, deferrable: bool | None = None,
                 max_poll_interval: float = 60.0, **kwargs: Any) -> None:
        if job_type not in ("backup", "restore", "any"):
            raise ValueError(f"job_type must be 'backup', 'restore' or 'any', got {job_type!r}.")
        if job_type == "any" and snapshot_label:
            raise ValueError("snapshot_label needs job_type 'backup' or 'restore': a label names one job.")
        super().__init__(**kwargs)
        self._watch_settings(starrocks_conn_id, deferrable, max_poll_interval)
        self.database = database
        self.snapshot_label = snapshot_label
        self.job_type = job_type

    def watch(self) -> JobWatch:
        from sr_airflow.engine.jobwatch import JobWatch

        if self.snapshot_label:
            return JobWatch(job_type=self.job_type, database=self.database, label=self.snapshot_label, absent="wait")
        return JobWatch(job_type=self.job_type, database=self.database, absent="done")

    def _result(self, event: dict[str, Any]) -> Any:
        if not self.snapshot_label and event["status"] == "cancelled":  # without a label, cancelled is ended
            event = {**event, "status": "success"}
        return super()._result(event)

