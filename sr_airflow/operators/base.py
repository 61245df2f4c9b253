"""What every StarRocks operator shares: the connection, the cached hook, and waiting on a job.

Waiting checks once synchronously; if the job is not done it defers to :class:`StarRocksJobTrigger`
(``deferrable=True``) or polls in the worker with the same backoff (``deferrable=False``). Either way the operator's
``method_name`` callback receives the same event dictionary. ``deferrable`` left unset follows Airflow's convention
for library operators, ``[operators] default_deferrable`` (false in a stock Airflow); the shipped DAGs pass
``deferrable`` from sr_airflow.toml (``[defaults] deferrable``, true unless set). Before deferring, a task asks the
API server whether a triggerer runs (``operators/triggerer_health.py``); when it reports none, the task logs one
warning and polls in its worker rather than waiting for a triggerer that never comes.

A DAG file needs only the operator classes, so the job watch, its trigger and the engine are imported by the
methods that use them: parsing a DAG loads neither ``airflow.triggers`` nor the engine's planning modules.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.configuration import conf

if TYPE_CHECKING:
    from sr_airflow.engine.jobwatch import Backoff, JobWatch

DEFAULT_CONN_ID = "starrocks_default"


def default_deferrable() -> bool:
    return conf.getboolean("operators", "default_deferrable", fallback=False)


class StarRocksTaskMixin:
    """What the StarRocks operators and sensors share: ``starrocks_conn_id`` in every subclass's template fields
    (the shipped DAGs choose the cluster per run), the cached hook, and ``deferrable``.

    ``deferrable`` None means ``[operators] default_deferrable``, read when the task first needs it rather than
    in ``__init__``: a DAG file builds every task at each parse, and the lookup would cost each of them.
    """

    _deferrable: bool | None = None
    starrocks_conn_id: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = tuple(getattr(cls, "template_fields", ()))
        if "starrocks_conn_id" not in fields:
            cls.template_fields = (*fields, "starrocks_conn_id")

    @property
    def deferrable(self) -> bool:
        if self._deferrable is None:
            self._deferrable = default_deferrable()
        return self._deferrable

    @deferrable.setter
    def deferrable(self, value: bool | None) -> None:
        self._deferrable = value

    def will_defer(self) -> bool:
        """``deferrable``, unless the API server reports that no triggerer runs: then one warning, and the wait
        polls in this worker (an unanswered question defers as asked)."""
        if not self.deferrable:
            return False
        from sr_airflow.operators.triggerer_health import api_base_url, triggerer_running

        if triggerer_running(conf) is False:
            self.log.warning(
                "No triggerer is running (Airflow's API server at %s reports none): this task waits in its worker "
                "instead of deferring, holding a worker slot. Start `airflow triggerer`, or set deferrable = false "
                "in sr_airflow.toml's [defaults] to wait in the worker without asking.", api_base_url(conf))
            self._deferrable = False
            return False
        return True

    @cached_property
    def hook(self):
        from sr_airflow.hooks.starrocks import StarRocksHook

        return StarRocksHook(starrocks_conn_id=self.starrocks_conn_id)


class StarRocksBaseOperator(StarRocksTaskMixin, BaseOperator):
    """Base of the StarRocks operators: connection, hook, deferrable waiting and cancel on kill.

    :param starrocks_conn_id: the StarRocks connection (type ``starrocks``).
    :param deferrable: wait in the triggerer (no worker slot) instead of polling in the worker (default:
        ``[operators] default_deferrable``); with no triggerer running, the worker polls after one warning.
    :param poll_interval: first interval between status checks, seconds (doubles up to ``max_poll_interval``).
    :param max_poll_interval: the longest interval between status checks, seconds.
    :param wait_timeout: give up waiting after this many seconds (None: wait as long as StarRocks' own timeout).
    """

    ui_color = "#d6ecff"

    def __init__(self, *, starrocks_conn_id: str = DEFAULT_CONN_ID, deferrable: bool | None = None,
                 poll_interval: float = 2.0, max_poll_interval: float = 60.0, wait_timeout: float | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.starrocks_conn_id = starrocks_conn_id
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.wait_timeout = wait_timeout
        self._watching: JobWatch | None = None

    @property
    def backoff(self) -> Backoff:
        from sr_airflow.engine.jobwatch import Backoff

        return Backoff(self.poll_interval, self.max_poll_interval)

    def wait_for(self, context: Any, watch: JobWatch, method_name: str, *, cancel_on_kill: bool = False) -> Any:
        """Check once; then defer, or poll here; finally call ``method_name(context, event)``."""
        from sr_airflow.engine.jobwatch import wait_sync

        self._watching = watch if cancel_on_kill else None
        event = watch.event(watch.poll(self.hook))
        if event is None and self.will_defer():
            from sr_airflow.triggers.job import StarRocksJobTrigger

            trigger = StarRocksJobTrigger(
                starrocks_conn_id=self.starrocks_conn_id, job_type=watch.job_type, database=watch.database,
                label=watch.label, job_id=watch.job_id, repository=watch.repository, absent=watch.absent,
                poll_interval=self.poll_interval, max_poll_interval=self.max_poll_interval,
                cancel_on_kill=cancel_on_kill,
            )
            timeout = timedelta(seconds=self.wait_timeout) if self.wait_timeout else None
            self.log.info("Deferring: waiting for %s %r.", watch.job_type, watch.label or watch.database)
            self.defer(trigger=trigger, method_name=method_name, timeout=timeout)
        if event is None:
            event = wait_sync(self.hook, watch, self.backoff, self.log, timeout=self.wait_timeout, checked=True)
        return getattr(self, method_name)(context, event)

    def on_kill(self) -> None:
        """The task was killed while waiting in the worker: cancel the StarRocks job it started."""
        watch = self._watching
        if watch is None:
            return
        from sr_airflow.engine.jobwatch import cancel_if_ours

        try:
            statement = cancel_if_ours(self.hook, watch)
        except Exception as exc:  # noqa: BLE001 - on_kill must not mask the kill itself
            self.log.warning("Could not cancel %s %r on kill: %s", watch.job_type, watch.label, exc)
            return
        if statement:
            self.log.info("Task killed: sent %r.", statement)
