"""Watching BACKUP / RESTORE jobs: what to do with the job found by label, one poll's verdict, progress lines,
the polling backoff, and the watch itself (:class:`JobWatch`: which SHOW to send and what its rows mean), with
its poke-style loop (:func:`wait_sync`) and :func:`cancel_if_ours`. Pure Python (a hook is any object with
``fetch`` and ``execute``): the operators, the sensors and the trigger share these rules.

A retry of a backup task must find its own job instead of submitting a second one. Labels are deterministic
(``engine/labels.py``), so on every (re)execution :func:`decide_backup` looks at the database's latest job
(``SHOW BACKUP FROM db``) and at the repository's snapshots of the label's generations (``SHOW SNAPSHOT ON repo
WHERE SNAPSHOT IN (...)``) before anything is submitted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sr_airflow.engine.errors import InvalidArgumentError, JobFailedError, SnapshotNotFoundError
from sr_airflow.engine.job_states import BackupJob, RestoreJob, parse_show_backup, parse_show_restore
from sr_airflow.engine.labels import base_label, generations, with_generation
from sr_airflow.engine.snapshots import SnapshotListing, parse_snapshot_listing, usable_listing
from sr_airflow.engine.statements import (
    render_cancel_backup,
    render_cancel_restore,
    render_show_backup,
    render_show_restore,
    render_show_snapshot,
)

#: How many generation labels (``<label>_r<n>``) one run may use before it gives up.
MAX_GENERATIONS = 9

#: MySQL client error numbers that mean "the connection failed", not "the server refused the statement".
CONNECTION_ERRNOS = frozenset({2003, 2006, 2013, 2055})

BUSY_MARKERS = (
    "Can only run one backup or restore job",
    "Another backup or restore job is being submitted",
)


class NextStep(Enum):
    SUBMIT = "submit"
    WAIT = "wait"
    DONE = "done"
    BUSY = "busy"


@dataclass(frozen=True)
class LabelDecision:
    """What a (re)executed backup task does next, with the label it does it for."""

    step: NextStep
    label: str
    reason: str
    job: BackupJob | RestoreJob | None = None


def generation_labels(label: str) -> list[str]:
    """The label and every generation a run may use, oldest first."""
    return [with_generation(label, n) for n in range(MAX_GENERATIONS + 1)]


def decide_backup(label: str, jobs: Sequence[BackupJob], snapshots: Sequence[SnapshotListing]) -> LabelDecision:
    """Decide from the database's jobs and the repository's listings whether to submit, wait, or stop.

    - the latest job carries one of our labels: running → WAIT on it, FINISHED → DONE, CANCELLED → the label is
      spent (StarRocks keeps its ``__ss_`` folder), so SUBMIT the next generation;
    - a snapshot of one of our labels is listed OK → DONE (the job finished; a later job may hide it);
    - another job is running on the database → BUSY;
    - otherwise SUBMIT the first generation that no job and no folder has used.
    """
    family = set(generation_labels(label))
    ours = [job for job in jobs if job.label in family]
    running_ours = [job for job in ours if job.state.is_running]
    if running_ours:
        job = running_ours[-1]
        return LabelDecision(NextStep.WAIT, job.label, f"{job.describe()}; waiting for it.", job)
    finished = [job for job in ours if job.state.succeeded]
    if finished:
        job = finished[-1]
        return LabelDecision(NextStep.DONE, job.label, f"{job.describe()}; nothing to submit.", job)
    ok = [s for s in snapshots if s.label in family and s.ok and s.timestamps]
    if ok:
        listing = max(ok, key=lambda s: s.latest_timestamp or "")
        return LabelDecision(NextStep.DONE, listing.label,
                             f"Snapshot {listing.label!r} is already in the repository with status OK.")
    others = [job for job in jobs if job.label not in family and job.state.is_running]
    if others:
        job = others[-1]
        return LabelDecision(NextStep.BUSY, label, f"{job.describe()}.", job)
    used = set(generations(label, [j.label for j in ours] + [s.label for s in snapshots]))
    for candidate in generation_labels(label):
        if candidate not in used:
            reason = (f"Submitting {candidate!r}" + (f": {', '.join(sorted(used))} already used." if used else "."))
            return LabelDecision(NextStep.SUBMIT, candidate, reason)
    raise JobFailedError(
        f"Snapshot label {base_label(label)!r} and its {MAX_GENERATIONS} generations are all used by cancelled jobs.")


def is_busy_error(exc: BaseException) -> bool:
    """True if StarRocks refused a BACKUP / RESTORE because another job runs on the database."""
    return any(marker in str(exc) for marker in BUSY_MARKERS)


def is_connection_error(exc: BaseException) -> bool:
    """True for a failed or dropped connection (worth retrying); False for a statement the server refused."""
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    args = getattr(exc, "args", ())
    return bool(args) and isinstance(args[0], int) and args[0] in CONNECTION_ERRNOS


class Verdict(Enum):
    RUNNING = "running"
    SUCCESS = "success"
    CANCELLED = "cancelled"
    ABSENT = "absent"


@dataclass(frozen=True)
class Observation:
    """One poll's verdict on the watched job: running, finished, cancelled, or not (or no longer) there."""

    verdict: Verdict
    job: BackupJob | RestoreJob | None
    message: str


def observe(jobs: Sequence[BackupJob | RestoreJob], *, database: str | None, label: str | None = None,
            job_id: str | None = None, job_type: str = "Backup") -> Observation:
    """The watched job among ``jobs`` (one SHOW BACKUP / SHOW RESTORE): by ``job_id``, else ``label``, else the
    latest job of ``database``."""
    if job_id:
        found = [j for j in jobs if j.job_id == str(job_id)]
    elif label:
        found = [j for j in jobs if j.label == label]
    else:
        found = list(jobs)
    where = f" of database {database!r}" if database else ""
    if not found:
        what = f"{job_type.lower()} job {label!r}" if label else f"{job_type.lower()} job"
        message = f"No {what}{where} is shown by StarRocks."
        if database and jobs and (label or job_id):
            message += (f" It shows a database's latest job only, here {jobs[-1].label!r}: a job that ended before "
                        f"it was submitted is no longer shown.")
        return Observation(Verdict.ABSENT, None, message)
    job = found[-1]
    if job.state.is_running:
        return Observation(Verdict.RUNNING, job, f"{job.describe()}.")
    if job.state.succeeded:
        return Observation(Verdict.SUCCESS, job, f"{job.describe()}.")
    return Observation(Verdict.CANCELLED, job, f"{job.describe()}.")


def observe_snapshot(listings: Sequence[SnapshotListing], label: str, repository: str) -> Observation:
    """Whether snapshot ``label`` is visible with status OK in ``repository`` (``snapshots.usable_listing``)."""
    try:
        listing = usable_listing(listings, label, repository)
    except SnapshotNotFoundError as exc:
        return Observation(Verdict.RUNNING, None, f"{exc} Waiting for it.")
    return Observation(Verdict.SUCCESS, None, f"Snapshot {label!r} is visible in repository {repository!r} with "
                                              f"status OK (timestamps {', '.join(listing.timestamps)}).")


class ProgressLog:
    """Turns successive observations into log lines: each state change once, and done/total files while a job
    uploads or downloads, each time the count moves."""

    def __init__(self) -> None:
        self._last: tuple[str, str, int, int] | None = None

    def update(self, job: BackupJob | RestoreJob | None) -> str | None:
        if job is None:
            return None
        done, total = job.files_done, job.files_total
        key = (job.label, job.state.name, done, total)
        if key == self._last:
            return None
        previous, self._last = self._last, key
        moving = job.state.name in ("UPLOADING", "DOWNLOADING") and total
        if previous is not None and previous[:2] == key[:2]:
            return f"{job.label}: {job.state.name} {done}/{total} files." if moving else None
        line = f"{job.describe()}."
        if moving:
            line += f" {done}/{total} files."
        return line


@dataclass(frozen=True)
class Backoff:
    """Polling intervals: ``initial`` seconds, times ``factor`` after each poll, capped at ``maximum``.

    Given the seconds ``elapsed`` since the watch began, an interval is also capped at ``elapsed_fraction`` of
    them (never below ``initial``): a job is then seen done at most about 10% after its end, where plain
    doubling could poll a 63 s job at 62 s and next at 122 s. Retries after a connection error leave ``elapsed``
    out: they keep doubling, so that a few tolerated errors span a frontend's restart.
    """

    initial: float = 2.0
    maximum: float = 60.0
    factor: float = 2.0
    elapsed_fraction: float = 0.1

    def __post_init__(self) -> None:
        if not self.initial > 0 or self.maximum < self.initial or self.factor < 1:
            raise InvalidArgumentError(
                f"poll intervals need 0 < poll_interval <= max_poll_interval and a factor >= 1, got "
                f"{self.initial}, {self.maximum} and {self.factor}.")
        if not self.elapsed_fraction > 0:
            raise InvalidArgumentError(f"elapsed_fraction must be > 0, got {self.elapsed_fraction}.")

    def next(self, current: float | None, elapsed: float | None = None) -> float:
        """The interval after ``current`` (None: the first one); ``elapsed`` seconds since the watch began."""
        if current is None:
            return self.initial
        interval = min(self.maximum, current * self.factor)
        if elapsed is not None:
            interval = max(self.initial, min(interval, self.elapsed_fraction * elapsed))
        return interval


def phase_seconds(job: BackupJob | RestoreJob) -> dict[str, float]:
    """Seconds spent per phase, from the job's SHOW times (only the phases whose both ends are known).

    BACKUP: ``snapshot`` (CreateTime to SnapshotFinishedTime), ``upload`` (to UploadFinishedTime), ``save_meta``
    (to FinishedTime). RESTORE: ``prepare_meta`` (CreateTime to MetaPreparedTime), ``snapshot`` (to
    SnapshotFinishedTime), ``download`` (to DownloadFinishedTime), ``commit`` (to FinishedTime) — the times
    ``RestoreJob.getInfo`` writes (StarRocks 3.5 e223275f78). Both: ``total``, CreateTime to FinishedTime. The
    times have whole seconds, so a phase shorter than a second may read 0."""
    if isinstance(job, BackupJob):
        marks = [("snapshot", job.create_time, job.snapshot_finished_time),
                 ("upload", job.snapshot_finished_time, job.upload_finished_time),
                 ("save_meta", job.upload_finished_time, job.finished_time),
                 ("total", job.create_time, job.finished_time)]
    else:
        marks = [("prepare_meta", job.create_time, job.meta_prepared_time),
                 ("snapshot", job.meta_prepared_time, job.snapshot_finished_time),
                 ("download", job.snapshot_finished_time, job.download_finished_time),
                 ("commit", job.download_finished_time, job.finished_time),
                 ("total", job.create_time, job.finished_time)]
    return {name: float((end - start).total_seconds()) for name, start, end in marks
            if start is not None and end is not None}


#: What a watch waits for (its ``job_type``): a job of StarRocks' job type BACKUP or RESTORE (``AbstractJob.JobType``,
#: 3.5 e223275f78), ``any`` job on a database (to become free), or a ``snapshot`` to be listed OK.
JOB_TYPES = ("backup", "restore", "any", "snapshot")
#: What a watch reports when the job is not shown: an error, "wait" (keep polling) or "done" (success).
ABSENT_MODES = ("error", "wait", "done")


@dataclass(frozen=True)
class JobWatch:
    """What to watch and how to read one poll. ``database`` None watches external-catalog jobs."""

    job_type: str = "backup"
    database: str | None = None
    label: str | None = None
    job_id: str | None = None
    repository: str | None = None
    absent: str = "error"

    def __post_init__(self) -> None:
        if self.job_type not in JOB_TYPES:
            raise ValueError(f"job_type must be one of {', '.join(JOB_TYPES)}, got {self.job_type!r}.")
        if self.absent not in ABSENT_MODES:
            raise ValueError(f"absent must be one of {', '.join(ABSENT_MODES)}, got {self.absent!r}.")
        if self.job_type == "snapshot" and not (self.repository and self.label):
            raise ValueError("a snapshot watch needs repository and label.")

    def statements(self) -> list[str]:
        """The SHOW statements one look at StarRocks sends (one, or two for ``any``)."""
        if self.job_type == "snapshot":
            return [render_show_snapshot(self.repository, self.label)]
        shows = []
        if self.job_type in ("backup", "any"):
            shows.append(render_show_backup(self.database))
        if self.job_type in ("restore", "any"):
            shows.append(render_show_restore(self.database))
        return shows

    def poll(self, hook: Any) -> Observation:
        """One look at StarRocks (one or two SHOW statements)."""
        return self.read([hook.fetch(statement) for statement in self.statements()])

    def read(self, results: list[tuple[list[str], list[tuple]]]) -> Observation:
        """The verdict of one look: ``results`` holds the columns and rows of each of :meth:`statements`."""
        if self.job_type == "snapshot":
            columns, rows = results[0]
            return observe_snapshot(parse_snapshot_listing(columns, rows), self.label, self.repository)
        observations = []
        parsers = {"backup": (parse_show_backup, "Backup"), "restore": (parse_show_restore, "Restore")}
        job_types = [t for t in ("backup", "restore") if self.job_type in (t, "any")]
        for job_type, (columns, rows) in zip(job_types, results, strict=True):
            parse, name = parsers[job_type]
            observations.append(observe(parse(columns, rows), database=self.database, label=self.label,
                                        job_id=self.job_id, job_type=name))
        if self.job_type != "any":
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
            "job_type": self.job_type,
            "database": self.database,
            "label": job.label if job else self.label,
            "job_id": job.job_id if job else self.job_id,
            "state": job.state.name if job else None,
        }

    def cancel_statement(self) -> str | None:
        """CANCEL BACKUP/RESTORE for the watched job's database (None when there is nothing to cancel)."""
        if self.job_type == "backup":
            return render_cancel_backup(self.database, external_catalog=self.database is None)
        if self.job_type == "restore":
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
    """Poll until the watch ends and return its event: the poke-style twin of the deferred wait
    (``sr_airflow.triggers.job.StarRocksJobTrigger``).

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
            return watch.make_event("error", watch_error_message(watch, exc))
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


def watch_error_message(watch: JobWatch, exc: BaseException) -> str:
    """The message of the error event that ends a watch which could not poll."""
    what = f"snapshot {watch.label!r}" if watch.job_type == "snapshot" else \
        f"{watch.job_type} job {watch.label or watch.job_id or ''} of database {watch.database!r}".replace("  ", " ")
    text = str(exc).rstrip(".")
    return f"Could not watch {what}: {type(exc).__name__}: {text}."
