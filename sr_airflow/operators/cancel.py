"""StarRocksCancelJobOperator: CANCEL BACKUP / RESTORE of a database or of external catalogs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sr_airflow.engine.errors import JobFailedError
from sr_airflow.operators.base import StarRocksBaseOperator

NOTHING_RUNNING = ("No backup job is currently running", "No restore is currently running")


class StarRocksCancelJobOperator(StarRocksBaseOperator):
    """Cancel the BACKUP or RESTORE running on a database (or for external catalogs).

    :param job_type: ``backup`` or ``restore`` (StarRocks' job type).
    :param database: the database (omit with ``external_catalog=True``).
    :param external_catalog: cancel the external-catalog job (``FOR EXTERNAL CATALOG``).
    :param snapshot_label: cancel only if the running job has this label.
    :param missing_ok: nothing to cancel is a success (default) rather than an error.
    """

    template_fields: Sequence[str] = ("database", "snapshot_label")

    def __init__(self, *, job_type: str, database: str | None = None, external_catalog: bool = False,
                 snapshot_label: str | None = None, missing_ok: bool = True, **kwargs: Any) -> None:
        if job_type not in ("backup", "restore"):
            raise ValueError(f"job_type must be 'backup' or 'restore', got {job_type!r}.")
        super().__init__(**kwargs)
        self.job_type = job_type
        self.database = database
        self.external_catalog = external_catalog
        self.snapshot_label = snapshot_label
        self.missing_ok = missing_ok

    def execute(self, context: Any) -> dict[str, Any]:
        from sr_airflow.engine.jobwatch import JobWatch, Verdict

        database = None if self.external_catalog else self.database
        watch = JobWatch(job_type=self.job_type, database=database, label=self.snapshot_label)
        statement = watch.cancel_statement()  # validates database / external_catalog
        observation = watch.poll(self.hook)
        if observation.verdict is not Verdict.RUNNING:
            return self._nothing(observation.message)
        try:
            self.hook.execute(statement)
        except Exception as exc:
            if any(marker in str(exc) for marker in NOTHING_RUNNING):
                return self._nothing(str(exc))
            raise JobFailedError(f"Could not cancel the {self.job_type} of {database or 'external catalogs'!r}: "
                                 f"{str(exc).rstrip('.')}.") from None
        self.log.info("Cancelled: %s", observation.message)
        job = observation.job
        return {"cancelled": True, "label": job.label if job else None, "job_id": job.job_id if job else None}

    def _nothing(self, message: str) -> dict[str, Any]:
        if not self.missing_ok:
            raise JobFailedError(f"Nothing to cancel: {message.rstrip('.')}.")
        self.log.info("Nothing to cancel: %s", message)
        return {"cancelled": False, "label": None, "job_id": None}
