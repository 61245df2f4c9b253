"""One trigger for every wait: a BACKUP or RESTORE job to end, a database to become free, a snapshot to appear.

The trigger polls with an exponential backoff, runs the synchronous hook in a thread, retries a bounded number of
connection errors, and yields exactly one event ``{"status", "message", "kind", "database", "label", "job_id",
"state"}`` whose status is ``success``, ``cancelled`` or ``error``; it never raises. The operators and sensors
use the same :class:`JobWatch` for their synchronous first check and for their poke-style loops.
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

    def poll(self, hook: Any) -> Observation:
        """One look at StarRocks (one or two SHOW statements)."""
        if self.kind == "snapshot":
            columns, rows = hook.fetch(render_show_snapshot(self.repository, self.label))
            return observe_snapshot(parse_snapshot_listing(columns, rows), self.label, self.repository)
        observations = []
        if self.kind in ("backup", "any"):
            columns, rows = hook.fetch(render_show_backup(self.database))
            observations.append(observe(parse_show_backup(columns, rows), database=self.database,
                                        label=self.label, job_id=self.job_id, kind="Backup"))
        if self.kind in ("restore", "any"):
            columns, rows = hook.fetch(render_show_restore(self.database))
            observations.append(observe(parse_show_restore(columns, rows), database=self.database,
                                        label=self.label, job_id=self.job_id, kind="Restore"))
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
              timeout: float | None = None, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """The poke-style twin of :meth:`StarRocksJobTrigger.run`: poll until the watch ends; return its event."""
    progress = ProgressLog()
    interval: float | None = None
    errors = 0
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            observation = watch.poll(hook)
            errors = 0
        except Exception as exc:  # noqa: BLE001 - reported as an event, like the trigger does
            if is_connection_error(exc) and errors < max_connection_errors:
                errors += 1
                log.warning("Connection error %s/%s while watching %s: %s", errors, max_connection_errors,
                            watch.label or watch.database, exc)
                interval = backoff.next(interval)
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
        interval = backoff.next(interval)
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
            hook = await asyncio.to_thread(self._hook)
        except Exception as exc:  # noqa: BLE001 - a trigger reports, never raises
            message = f"Could not start watching {self.label or self.database!r}: {str(exc).rstrip('.')}."
            yield TriggerEvent({"status": "error", "message": message, "kind": self.kind, "database": self.database,
                                "label": self.label, "job_id": self.job_id, "state": None})
            return
        progress = ProgressLog()
        interval: float | None = None
        errors = 0
        while True:
            try:
                observation = await asyncio.to_thread(watch.poll, hook)
                errors = 0
            except Exception as exc:  # noqa: BLE001 - a trigger reports, never raises
                if is_connection_error(exc) and errors < self.max_connection_errors:
                    errors += 1
                    self.log.warning("Connection error %s/%s while watching %s: %s", errors,
                                     self.max_connection_errors, self.label or self.database, exc)
                    interval = backoff.next(interval)
                    await asyncio.sleep(interval)
                    continue
                yield TriggerEvent(watch.make_event("error", _error_message(watch, exc)))
                return
            line = progress.update(observation.job)
            if line:
                self.log.info("%s", line)
            event = watch.event(observation)
            if event is not None:
                yield TriggerEvent(event)
                return
            interval = backoff.next(interval)
            await asyncio.sleep(interval)

    async def on_kill(self) -> None:
        """A user killed the deferred task (mark failed / clear / mark success): cancel the watched job."""
        if not self.cancel_on_kill:
            return
        statement = await asyncio.to_thread(lambda: cancel_if_ours(self._hook(), self._watch()))
        if statement:
            self.log.info("Task killed while deferred: sent %s.", statement)
