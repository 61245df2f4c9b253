"""One trigger for every wait: a BACKUP or RESTORE job to end, a database to become free, a snapshot to appear.

It yields exactly one event ``{"status", "message", "job_type", "database", "label", "job_id", "state"}`` whose
status is ``success``, ``cancelled`` or ``error``, and never raises. What one poll means, the backoff and the
poke-style twin used when not deferring live in :mod:`sr_airflow.engine.jobwatch`.

In Airflow 3.3+ the triggerer shares one poll among the triggers that watch the same SHOW statement: the trigger
is a ``BaseEventTrigger`` whose ``shared_stream_key`` names the connection and the statement, so the triggerer
runs one :meth:`StarRocksJobTrigger.open_shared_stream` per key and feeds its polls to each trigger's
:meth:`~StarRocksJobTrigger.filter_shared_stream` (``airflow/jobs/triggerer_job_runner.py``,
``TriggerRunner.run_trigger``). Deferring tasks with a ``BaseEventTrigger`` is what Airflow's own providers do
(``SqsSensorTrigger``, ``FileDeleteTrigger``); its ``supports_triggerer_queue = False`` is for asset watchers and
is set back to True here, so a deferred task keeps its queue. Older triggerers call :meth:`run`, which polls the
same way for this trigger alone: same events. Each trigger keeps its own backoff (the shared poll is paced by
what its subscribers ask for, :mod:`sr_airflow.triggers.paced_polls`) and retries a bounded number of
connection errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Hashable
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from sr_airflow.engine.jobwatch import (
    Backoff,
    JobWatch,
    ProgressLog,
    cancel_if_ours,
    is_connection_error,
    watch_error_message,
)
from sr_airflow.triggers.paced_polls import EARLY_FRACTION, Poll, paced_polls, release, requests_for


class StarRocksJobTrigger(BaseEventTrigger):
    """Waits, off the worker, for a StarRocks job to end, a database to become free, or a snapshot to appear.

    :param starrocks_conn_id: the StarRocks connection.
    :param job_type: ``backup`` or ``restore`` (StarRocks' job type), ``any`` (no job running on the database)
        or ``snapshot`` (a snapshot listed OK).
    :param database: the job's database (None: external-catalog jobs).
    :param label: the job's (or snapshot's) label; None watches the database's latest job.
    :param job_id: the job id, when known (more precise than the label).
    :param repository: the repository (``snapshot`` watches).
    :param absent: what a job not shown means: ``error``, ``wait`` or ``done``.
    :param poll_interval: first interval between polls, seconds.
    :param max_poll_interval: the cap of the exponential backoff, seconds.
    :param backoff_factor: the growth of the interval after each poll.
    :param max_connection_errors: connection errors in a row tolerated before an error event.
    :param cancel_on_kill: cancel the watched job when a user kills the deferred task.
    """

    # BaseEventTrigger turns it off for asset watchers; a deferred task's trigger keeps the task's queue
    # (airflow/sdk/execution_time/task_runner.py, _defer_task).
    supports_triggerer_queue = True

    def __init__(self, *, starrocks_conn_id: str, job_type: str = "backup", database: str | None = None,
                 label: str | None = None, job_id: str | None = None, repository: str | None = None,
                 absent: str = "error", poll_interval: float = 2.0, max_poll_interval: float = 60.0,
                 backoff_factor: float = 2.0, max_connection_errors: int = 5, cancel_on_kill: bool = False,
                 kind: str | None = None):
        super().__init__()
        self.starrocks_conn_id = starrocks_conn_id
        # ``kind`` is the job type's name in triggers serialized before job_type: a task deferred across an
        # upgrade of the provider is resumed by the new triggerer from those stored arguments
        self.job_type = kind or job_type
        self.database = database
        self.label = label
        self.job_id = job_id
        self.repository = repository
        self.absent = absent
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.backoff_factor = backoff_factor
        self.max_connection_errors = max_connection_errors
        self.cancel_on_kill = cancel_on_kill

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "starrocks_conn_id": self.starrocks_conn_id,
                "job_type": self.job_type,
                "database": self.database,
                "label": self.label,
                "job_id": self.job_id,
                "repository": self.repository,
                "absent": self.absent,
                "poll_interval": self.poll_interval,
                "max_poll_interval": self.max_poll_interval,
                "backoff_factor": self.backoff_factor,
                "max_connection_errors": self.max_connection_errors,
                "cancel_on_kill": self.cancel_on_kill,
            },
        )

    def _watch(self) -> JobWatch:
        return JobWatch(job_type=self.job_type, database=self.database, label=self.label, job_id=self.job_id,
                        repository=self.repository, absent=self.absent)

    def _hook(self):
        from sr_airflow.hooks.starrocks import StarRocksHook

        return StarRocksHook(starrocks_conn_id=self.starrocks_conn_id)

    def shared_stream_key(self) -> Hashable | None:
        """Triggers of one connection watching the same SHOW statement(s) share one poll (None: bad arguments,
        which :meth:`run` reports as an error event)."""
        try:
            statements = self._watch().statements()
        except Exception:  # noqa: BLE001 - the standalone run() turns it into the error event
            return None
        return (f"{type(self).__module__}.{type(self).__qualname__}", self.starrocks_conn_id, *statements)

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Poll]:
        """The shared poll of a key: its statements, when a subscriber's request is due (kwargs of one trigger
        of the group: only the connection and the statements, both in the key, are used)."""
        trigger = cls(**kwargs)
        key = trigger.shared_stream_key()
        async for poll in paced_polls(key, trigger.starrocks_conn_id, trigger._watch().statements()):
            yield poll

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Poll]) -> AsyncIterator[TriggerEvent]:
        """This trigger's one event, read from the shared polls of its key."""
        yield TriggerEvent(await self._event(lambda watch: shared_stream, self.shared_stream_key()))

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll alone (a triggerer without shared streams): the same loop under a key of this trigger's own."""
        key = ("standalone", id(self))
        opened: list[AsyncGenerator[Poll, None]] = []

        def open_polls(watch: JobWatch) -> AsyncIterator[Poll]:
            opened.append(paced_polls(key, self.starrocks_conn_id, watch.statements()))
            return opened[0]

        try:
            event = await self._event(open_polls, key)
        finally:
            for polls in opened:
                await polls.aclose()
        # The polls have stopped before the event is yielded: a consumer that stops iterating leaves nothing behind.
        yield TriggerEvent(event)

    async def _event(self, polls_for: Callable[[JobWatch], AsyncIterator[Poll]], key: Hashable | None,
                     ) -> dict[str, Any]:
        try:
            watch = self._watch()
            backoff = Backoff(self.poll_interval, self.max_poll_interval, self.backoff_factor)
        except Exception as exc:  # noqa: BLE001 - a trigger reports, never raises
            message = f"Could not start watching {self.label or self.database!r}: {str(exc).rstrip('.')}."
            return {"status": "error", "message": message, "job_type": self.job_type, "database": self.database,
                    "label": self.label, "job_id": self.job_id, "state": None}
        try:
            return await self._wait(watch, backoff, polls_for(watch), key)
        except Exception as exc:  # noqa: BLE001 - the shared stream failed (Airflow ended its group)
            return watch.make_event("error", watch_error_message(watch, exc))

    async def _wait(self, watch: JobWatch, backoff: Backoff, polls: AsyncIterator[Poll], key: Hashable,
                    ) -> dict[str, Any]:
        """Ask for polls on this trigger's backoff and read them until the watch ends; return its event."""
        loop = asyncio.get_running_loop()
        progress = ProgressLog()
        interval: float | None = None
        errors = 0
        token = object()
        began = earliest = loop.time()
        requests_for(key).ask(token, earliest, began)
        try:
            async for poll in polls:
                if poll.started < began:
                    continue  # begun before this wait: its rows may predate the job this trigger waits for
                own = poll.started >= earliest  # a poll started earlier was asked for by another subscriber
                now = loop.time()
                failure = poll.error
                observation = None
                if failure is None:
                    try:
                        observation = watch.read(poll.results)
                    except Exception as exc:  # noqa: BLE001 - rows StarRocks should not have sent
                        failure = exc
                if observation is not None:
                    line = progress.update(observation.job)
                    if line:
                        self.log.info("%s", line)
                    event = watch.event(observation)
                    if event is not None:
                        return event
                if not own:
                    continue  # a poll this trigger did not ask for may end its wait, never count against it
                if failure is not None:
                    if not (is_connection_error(failure) and errors < self.max_connection_errors):
                        return watch.make_event("error", watch_error_message(watch, failure))
                    errors += 1
                    self.log.warning("Connection error %s/%s while watching %s: %s", errors,
                                     self.max_connection_errors, self.label or self.database, failure)
                else:
                    errors = 0
                # retries after a connection error keep doubling (time for the frontend to come back)
                interval = backoff.next(interval, None if failure is not None else now - began)
                due = now + interval
                earliest = due - EARLY_FRACTION * interval
                requests_for(key).ask(token, earliest, due)
        finally:
            requests = requests_for(key)
            requests.withdraw(token)
            release(key, requests)
        raise RuntimeError("the shared poll ended without an event")

    async def on_kill(self) -> None:
        """A user killed the deferred task (mark failed / clear / mark success): cancel the watched job."""
        if not self.cancel_on_kill:
            return
        statement = await asyncio.to_thread(lambda: cancel_if_ours(self._hook(), self._watch()))
        if statement:
            self.log.info("Task killed while deferred: sent %s.", statement)
