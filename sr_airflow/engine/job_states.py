"""SHOW BACKUP / SHOW RESTORE rows as typed jobs: one state vocabulary for the whole project."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from pendulum import DateTime

from sr_airflow.engine.timestamps import NULL_STRING, parse_show_time


class _JobStateMixin:
    @property
    def is_done(self) -> bool:
        """StarRocks' ``isDone()``: only FINISHED and CANCELLED are done; every other state is running."""
        return self.name in ("FINISHED", "CANCELLED")

    @property
    def is_running(self) -> bool:
        return not self.is_done

    @property
    def succeeded(self) -> bool:
        return self.name == "FINISHED"


class BackupJobState(_JobStateMixin, Enum):
    PENDING = "PENDING"
    SNAPSHOTING = "SNAPSHOTING"
    UPLOAD_SNAPSHOT = "UPLOAD_SNAPSHOT"
    UPLOADING = "UPLOADING"
    SAVE_META = "SAVE_META"
    UPLOAD_INFO = "UPLOAD_INFO"
    FINISHED = "FINISHED"
    CANCELLED = "CANCELLED"


class RestoreJobState(_JobStateMixin, Enum):
    PENDING = "PENDING"
    SNAPSHOTING = "SNAPSHOTING"
    DOWNLOAD = "DOWNLOAD"
    DOWNLOADING = "DOWNLOADING"
    COMMIT = "COMMIT"
    COMMITTING = "COMMITTING"
    FINISHED = "FINISHED"
    CANCELLED = "CANCELLED"


class JobType(Enum):
    """StarRocks' ``AbstractJob.JobType`` (3.5 e223275f78; its LAKE_* types are shared-data's)."""

    BACKUP = "BACKUP"
    RESTORE = "RESTORE"


_STATUS = re.compile(r"^\[(?P<code>[A-Z_]+)(?:, msg: (?P<msg>.*))?\]$", re.DOTALL)
_PROGRESS_ENTRY = re.compile(r"\[(?P<task>[^:\]]+): (?P<done>\d+)/(?P<total>\d+)\]")
_TASK_ERR_ENTRY = re.compile(r"\[(?P<task>[^:\]]+): (?P<msg>.*?)\](?:, |$)", re.DOTALL)


@dataclass(frozen=True)
class JobStatus:
    """The Status column: ``[OK]`` or ``[<ErrCode>, msg: <text>]``."""

    code: str
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.code == "OK"

    @classmethod
    def parse(cls, text: str | None) -> JobStatus:
        if text is None or text.strip() in ("", NULL_STRING):
            return cls("OK")
        match = _STATUS.match(text.strip())
        if not match:
            return cls("UNKNOWN", text.strip())
        return cls(match["code"], (match["msg"] or "").strip())

    def __str__(self) -> str:
        return f"[{self.code}]" if not self.message and self.ok else f"[{self.code}, msg: {self.message}]"


@dataclass(frozen=True)
class TaskProgress:
    """One upload or download task's ``[<taskId>: <doneFiles>/<totalFiles>]``."""

    task_id: str
    done: int
    total: int


def parse_progress(text: str | None) -> tuple[TaskProgress, ...]:
    if not text or text == NULL_STRING:
        return ()
    return tuple(
        TaskProgress(m["task"].strip(), int(m["done"]), int(m["total"])) for m in _PROGRESS_ENTRY.finditer(text)
    )


def parse_task_errors(text: str | None) -> dict[str, str]:
    if not text or text == NULL_STRING:
        return {}
    return {m["task"].strip(): m["msg"] for m in _TASK_ERR_ENTRY.finditer(text)}


def parse_unfinished_tasks(text: str | None) -> tuple[str, ...]:
    """``UnfinishedTasks`` is a Java map's entries ``taskId=beId`` joined by ``", "``; we keep the task ids."""
    if not text or text == NULL_STRING:
        return ()
    return tuple(part.split("=", 1)[0].strip() for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class _JobBase:
    job_id: str
    label: str
    database: str
    create_time: DateTime | None
    finished_time: DateTime | None
    unfinished_tasks: tuple[str, ...]
    progress: tuple[TaskProgress, ...]
    task_errors: Mapping[str, str]
    status: JobStatus
    timeout_s: int | None

    @property
    def files_done(self) -> int:
        return sum(p.done for p in self.progress)

    @property
    def files_total(self) -> int:
        return sum(p.total for p in self.progress)

    def describe(self) -> str:
        """One sentence for logs and errors: job type, label, database, state, Status."""
        job_type = "Backup" if isinstance(self, BackupJob) else "Restore"
        return (f"{job_type} job {self.label!r} of database {self.database!r} is {self.state.name} "
                f"with status {self.status}")


@dataclass(frozen=True)
class BackupJob(_JobBase):
    state: BackupJobState
    backup_objects: str
    snapshot_finished_time: DateTime | None
    upload_finished_time: DateTime | None

    job_type = JobType.BACKUP


@dataclass(frozen=True)
class RestoreJob(_JobBase):
    state: RestoreJobState
    backup_timestamp: str
    allow_load: bool
    replication_num: int | None
    restore_objects: str
    meta_prepared_time: DateTime | None
    snapshot_finished_time: DateTime | None
    download_finished_time: DateTime | None

    job_type = JobType.RESTORE


def _cell(row: Mapping[str, object], name: str) -> str | None:
    value = row.get(name)
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else str(value)
    return None if text == NULL_STRING else text


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _common(row: Mapping[str, object], tz) -> dict:
    return {
        "job_id": _cell(row, "JobId") or "",
        "database": _cell(row, "DbName") or "",
        "create_time": parse_show_time(_cell(row, "CreateTime"), tz),
        "finished_time": parse_show_time(_cell(row, "FinishedTime"), tz),
        "unfinished_tasks": parse_unfinished_tasks(_cell(row, "UnfinishedTasks")),
        "progress": parse_progress(_cell(row, "Progress")),
        "task_errors": parse_task_errors(_cell(row, "TaskErrMsg")),
        "status": JobStatus.parse(_cell(row, "Status")),
        "timeout_s": _int_or_none(_cell(row, "Timeout")),
    }


def backup_job_from_row(row: Mapping[str, object], tz="UTC") -> BackupJob:
    return BackupJob(
        label=_cell(row, "SnapshotName") or "",
        state=BackupJobState(_cell(row, "State")),
        backup_objects=_cell(row, "BackupObjs") or "",
        snapshot_finished_time=parse_show_time(_cell(row, "SnapshotFinishedTime"), tz),
        upload_finished_time=parse_show_time(_cell(row, "UploadFinishedTime"), tz),
        **_common(row, tz),
    )


def restore_job_from_row(row: Mapping[str, object], tz="UTC") -> RestoreJob:
    return RestoreJob(
        label=_cell(row, "Label") or "",
        state=RestoreJobState(_cell(row, "State")),
        backup_timestamp=_cell(row, "Timestamp") or "",
        allow_load=(_cell(row, "AllowLoad") or "false").lower() == "true",
        replication_num=_int_or_none(_cell(row, "ReplicationNum")),
        restore_objects=_cell(row, "RestoreObjs") or "",
        meta_prepared_time=parse_show_time(_cell(row, "MetaPreparedTime"), tz),
        snapshot_finished_time=parse_show_time(_cell(row, "SnapshotFinishedTime"), tz),
        download_finished_time=parse_show_time(_cell(row, "DownloadFinishedTime"), tz),
        **_common(row, tz),
    )


def rows_as_dicts(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> list[dict[str, object]]:
    return [dict(zip(columns, row, strict=False)) for row in rows]


def parse_show_backup(columns: Sequence[str], rows: Sequence[Sequence[object]], tz="UTC") -> list[BackupJob]:
    return [backup_job_from_row(row, tz) for row in rows_as_dicts(columns, rows)]


def parse_show_restore(columns: Sequence[str], rows: Sequence[Sequence[object]], tz="UTC") -> list[RestoreJob]:
    return [restore_job_from_row(row, tz) for row in rows_as_dicts(columns, rows)]
