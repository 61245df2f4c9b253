"""One trigger for every wait: a BACKUP or RESTORE job to end, a database to become free, a snapshot to appear.

The trigger polls with a backoff (:class:`Backoff`), through the triggerer's shared poll of its SHOW statement
(:mod:`sr_airflow.triggers.shared_poll`: watchers of one database share one poll and one kept-open connection),
retries a bounded number of connection errors, and yields exactly one event ``{"status", "message", "kind",
"database", "label", "job_id", "state"}`` whose status is ``success``, ``cancelled`` or ``error``; it never
raises. The operators and sensors use the same :class:`JobWatch` for their synchronous first check and for their
poke-style loops (:func:`wait_sync`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from sr_airflow.engine.jobs import parse_show_backup, parse_show_restore
from sr_airflow.engine.jobwatch import (
    Backoff,
    Observation,
    ProgressLog,
    Verdict,
    is_connection_error,
    observe,
    observe_snapshot,
)
from sr_airflow.engine.snapshots import parse_snapshot_listing
from sr_airflow.engine.statements import (
    render_cancel_backup,
    render_cancel_restore,
    render_show_backup,
    render_show_restore,
    render_show_snapshot,
)
from sr_airflow.triggers.shared_poll import EARLY_FRACTION, SharedPoll

#: What a watch waits for: a backup job, a restore job, any job on a database (to become free), a snapshot.
WATCH_KINDS = ("backup", "restore", "any", "snapshot")
#: What a watch reports when the job is not shown: an error, "wait" (keep polling) or "done" (success).
ABSENT_MODES = ("error", "wait", "done")


@dataclass(frozen=True)
class JobWatch:
    """What to watch and how to read one poll. ``database`` None watches external-catalog jobs."""

    kind: str = "backup"
    database: str | None = None
    label: str | None = None
    job_id: str | None = None
    repository: str | None = None
    absent: str = "error"

    def __post_init__(self) -> None:
        if self.kind not in WATCH_KINDS:
            raise ValueError(f"kind must be one of {', '.join(WATCH_KINDS)}, got {self.kind!r}.")
        if self.absent not in ABSENT_MODES:
            raise ValueError(f"absent must be one of {', '.join(ABSENT_MODES)}, got {self.absent!r}.")
        if self.kind == "snapshot" and not (self.repository and self.label):
            raise ValueError("a snapshot watch needs repository and label.")

    def statements(self) -> list[str]:
        """The SHOW statements one look at StarRocks sends (one, or two for ``any``)."""
        if self.kind == "snapshot":
            return [render_show_snapshot(self.repository, self.label)]
        shows = []
        if self.kind in ("backup", "any"):
            shows.append(render_show_backup(self.database))
        if self.kind in ("restore", "any"):
            shows.append(render_show_restore(self.database))
        return shows

    def poll(self, hook: Any) -> Observation:
        """One look at StarRocks (one or two SHOW statements)."""
        return self.read([hook.fetch(statement) for statement in self.statements()])

    def read(self, results: list[tuple[list[str], list[tuple]]]) -> Observation:
        """The verdict of one look: ``results`` holds the columns and rows of each of :meth:`statements`."""
        if self.kind == "snapshot":
            columns, rows = results[0]
            return observe_snapshot(parse_snapshot_listing(columns, rows), self.label, self.repository)
        observations = []
        parsers = {"backup": (parse_show_backup, "Backup"), "restore": (parse_show_restore, "Restore")}
        kinds = [kind for kind in ("backup", "restore") if self.kind in (kind, "any")]
        for kind, (columns, rows) in zip(kinds, results, strict=True):
            parse, name = parsers[kind]
            observations.append(observe(parse(columns, rows), database=self.database, label=self.label,
                                        job_id=self.job_id, kind=name))
        if self.kind != "any":
            return observations[0]
        running = [o for o in observations if o.verdict is Verdict.RUNNING]
        if running:
            return running[0]
        return Observation(Verdict.SUCCESS, None, f"No backup or restore job is running on database "
                                                  f"{self.database!r}.")

    def event(self, observation: Observation) -> dict[str, Any] | None:
        """The event that ends the wait, or None to keep waiting."""
        verdict = observation.verdict
        if verdict is Verdict.RUNNING or (verdict is Verdict.ABSENT and self.absent == "wait"):
            return None
        if verdict is Verdict.ABSENT:
            status = "success" if self.absent == "done" else "error"
        else:
            status = "success" if verdict is Verdict.SUCCESS else "cancelled"
        return self.make_event(status, observation.message, observation)

    def make_event(self, status: str, message: str, observation: Observation | None = None) -> dict[str, Any]:
        job = observation.job if observation else None
        return {
            "status": status,
            "message": message,
            "kind": self.kind,
            "database": self.database,
            "label": job.label if job else self.label,
            "job_id": job.job_id if job else self.job_id,
            "state": job.state.name if job else None,
        }

    def cancel_statement(self) -> str | None:
        """CANCEL BACKUP/RESTORE for the watched job's database (None when there is nothing to cancel)."""
        if self.kind == "backup":
            return render_cancel_backup(self.database, external_catalog=self.database is None)
        if self.kind == "restore":
            return render_cancel_restore(self.database, external_catalog=self.database is None)
        return None


def cancel_if_ours(hook: Any, watch: JobWatch) -> str | None:
    """Cancel the watched job if it is still running (never another job of the same database).

    Returns the CANCEL statement sent, or None.
    """
    statement = watch.cancel_statement()
    if statement is None or not (watch.label or watch.job_id):
        return None
    if watch.poll(hook).verdict is not Verdict.RUNNING:
        return None
    hook.execute(statement)
    return statement


def wait_sync(hook: Any, watch: JobWatch, backoff: Backoff, log: Any, *, max_connection_errors: int = 5,
              timeout: float | None = None, sleep: Callable[[float], None] = time.sleep,
              checked: bool = False) -> dict[str, Any]:
    """The poke-style twin of :meth:`StarRocksJobTrigger.run`: poll until the watch ends; return its event.

    ``checked``: the caller has just looked once (and found the job running), so the first poll waits one
    interval instead of repeating that look at once.
    """
    progress = ProgressLog()
    interval: float | None = None
    errors = 0
    began = time.monotonic()
    deadline = None if timeout is None else began + timeout
    if checked:
        interval = backoff.next(None)
        sleep(interval)
    while True:
        try:
            observation = watch.poll(hook)
            errors = 0
        except Exception as exc:  # noqa: BLE001 - reported as an event, like the trigger does
            if is_connection_error(exc) and errors < max_connection_errors:
                errors += 1
                log.warning("Connection error %s/%s while watching %s: %s", errors, max_connection_errors,
                            watch.label or watch.database, exc)
                interval = backoff.next(interval)  # retries keep doubling: time for the frontend to come back
                sleep(interval)
                continue
            return watch.make_event("error", _error_message(watch, exc))
        line = progress.update(observation.job)
        if line:
            log.info("%s", line)
        event = watch.event(observation)
        if event is not None:
            return event
        if deadline is not None and time.monotonic() >= deadline:
            return watch.make_event("error", f"Timed out waiting: {observation.message}", observation)
        interval = backoff.next(interval, time.monotonic() - began)
        sleep(interval)


def _error_message(watch: JobWatch, exc: BaseException) -> str:
    what = f"snapshot {watch.label!r}" if watch.kind == "snapshot" else \
        f"{watch.kind} job {watch.label or watch.job_id or ''} of database {watch.database!r}".replace("  ", " ")
    text = str(exc).rstrip(".")
    return f"Could not watch {what}: {type(exc).__name__}: {text}."


class StarRocksJobTrigger(BaseTrigger):
    """Waits, off the worker, for a StarRocks job to end, a database to become free, or a snapshot to appear.

    :param starrocks_conn_id: the StarRocks connection.
    :param kind: ``backup``, ``restore``, ``any`` (no job running on the database) or ``snapshot``.
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

    def __init__(self, *, starrocks_conn_id: str, kind: str = "backup", database: str | None = None,
                 label: str | None = None, job_id: str | None = None, repository: str | None = None,
                 absent: str = "error", poll_interval: float = 2.0, max_poll_interval: float = 60.0,
                 backoff_factor: float = 2.0, max_connection_errors: int = 5, cancel_on_kill: bool = False):
        super().__init__()
        self.starrocks_conn_id = starrocks_conn_id
        self.kind = kind
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
                "kind": self.kind,
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
        return JobWatch(kind=self.kind, database=self.database, label=self.label, job_id=self.job_id,
                        repository=self.repository, absent=self.absent)

    def _hook(self):
        from sr_airflow.hooks.starrocks import StarRocksHook

        return StarRocksHook(starrocks_conn_id=self.starrocks_conn_id)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            watch = self._watch()
            backoff = Backoff(self.poll_interval, self.max_poll_interval, self.backoff_factor)
        except Exception as exc:  # noqa: BLE001 - a trigger reports, never raises
            message = f"Could not start watching {self.label or self.database!r}: {str(exc).rstrip('.')}."
            yield TriggerEvent({"status": "error", "message": message, "kind": self.kind, "database": self.database,
                                "label": self.label, "job_id": self.job_id, "state": None})
            return
        # The subscription ends before the event is yielded: a consumer that stops iterating leaves nothing behind.
        yield TriggerEvent(await self._wait(watch, backoff))

    async def _wait(self, watch: JobWatch, backoff: Backoff) -> dict[str, Any]:
        """Poll through the shared poll of the watch's statements until the watch ends; return its event."""
        loop = asyncio.get_running_loop()
        progress = ProgressLog()
        interval: float | None = None
        errors = 0
        began = due = earliest = loop.time()
        async with SharedPoll(self.starrocks_conn_id, watch.statements()) as poll:
            while True:
                outcomes = await poll.fetch(earliest, due)
                now = loop.time()
                failure = next((o.error for o in outcomes if o.error is not None), None)
                if failure is None:
                    try:
                        observation = watch.read([o.result for o in outcomes])
                    except Exception as exc:  # noqa: BLE001 - rows StarRocks should not have sent
                        failure = exc
                if failure is not None:
                    if not (is_connection_error(failure) and errors < self.max_connection_errors):
                        return watch.make_event("error", _error_message(watch, failure))
                    errors += 1
                    self.log.warning("Connection error %s/%s while watching %s: %s", errors,
                                     self.max_connection_errors, self.label or self.database, failure)
                else:
                    errors = 0
                    line = progress.update(observation.job)
                    if line:
                        self.log.info("%s", line)
                    event = watch.event(observation)
                    if event is not None:
                        return event
                # retries after a connection error keep doubling (time for the frontend to come back)
                interval = backoff.next(interval, None if failure is not None else now - began)
                due = now + interval
                earliest = due - EARLY_FRACTION * interval

    async def on_kill(self) -> None:
        """A user killed the deferred task (mark failed / clear / mark success): cancel the watched job."""
        if not self.cancel_on_kill:
            return
        statement = await asyncio.to_thread(lambda: cancel_if_ours(self._hook(), self._watch()))
        if statement:
            self.log.info("Task killed while deferred: sent %s.", statement)
