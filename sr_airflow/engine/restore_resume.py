"""Finding a restore task's own RESTORE job again, beside :func:`sr_airflow.engine.jobwatch.decide_backup`.

A retried or resumed restore task must wait for the job an earlier attempt sent instead of sending a second one.
StarRocks shows a database's latest backup or restore job only (``BackupHandler.getJob(dbId)`` reads the map
``dbIdToBackupOrRestoreJob``, one job a database; 3.5 e223275f78), and a snapshot may be restored by anyone, so a job
is the task's own when its label and timestamp match and, once it has finished, when the task recorded sending
it (``task_state_store``: the job id, or ``<label>@<timestamp>`` kept just before RESTORE was sent).
"""

from __future__ import annotations

from collections.abc import Sequence

from sr_airflow.engine.job_states import RestoreJob
from sr_airflow.engine.jobwatch import LabelDecision, NextStep


def submission_mark(label: str, timestamp: str | None) -> str:
    """What a task records just before it sends the RESTORE of ``label`` at ``timestamp``."""
    return f"{label}@{timestamp or ''}"


def latest_restore_job(jobs: Sequence[RestoreJob], label: str) -> RestoreJob | None:
    """The latest job of ``label`` among those SHOW RESTORE listed (None: none of them)."""
    found = [job for job in jobs if job.label == label]
    return found[-1] if found else None


def own_restore_job(jobs: Sequence[RestoreJob], label: str, timestamp: str, *, recorded_job_id: str | None = None,
                    recorded_submission: str | None = None) -> RestoreJob | None:
    """The snapshot restore's own job from an earlier attempt, or None (submit).

    The latest job of ``label`` restoring ``timestamp``: still running, it is waited for (another task would not
    restore the same snapshot into the same database at the same time: the database takes one job); finished, it
    is the task's own only when the task recorded its id or its submission, else it is an older restore and a new
    one is sent. A cancelled job is never the task's to wait for.
    """
    job = latest_restore_job(jobs, label)
    if job is None or job.backup_timestamp != timestamp:
        return None
    if job.state.is_running:
        return job
    if not job.state.succeeded:
        return None
    if recorded_job_id == job.job_id or recorded_submission == submission_mark(label, timestamp):
        return job
    return None


def decide_chain_restore(jobs: Sequence[RestoreJob], labels: Sequence[str], *,
                         recorded_submission: str | None = None) -> LabelDecision:
    """What a (re)executed chain restore does with the jobs SHOW RESTORE lists on its target.

    The latest job of the first plan label that has one: running → WAIT on it; finished and recorded as sent
    by this task (``recorded_submission``) → DONE (an earlier attempt was killed before it saw the job end: the
    link is done); otherwise SUBMIT from where the task's own record of finished links says.
    """
    for label in labels:
        job = latest_restore_job(jobs, label)
        if job is None:
            continue
        if job.state.is_running:
            return LabelDecision(NextStep.WAIT, job.label, f"{job.describe()}; waiting for it instead of "
                                                           "submitting again.", job)
        if job.state.succeeded and recorded_submission == submission_mark(job.label, job.backup_timestamp):
            return LabelDecision(NextStep.DONE, job.label, f"{job.describe()}; it is this task's, sent by an "
                                                           "earlier attempt.", job)
        break
    return LabelDecision(NextStep.SUBMIT, "", "No job of this chain is running or left unseen.")
