"""Metrics of backups, restores, verifications and drills, sent through Airflow's own metrics.

Whatever ``[metrics]`` configures — StatsD, Datadog, OpenTelemetry — receives them: every function here calls
``airflow.sdk.observability.stats`` (the module the Airflow 3.3 task runner initializes from ``[metrics]``,
``airflow/sdk/execution_time/task_runner.py`` ``main``), never a client of its own.

Names follow Airflow's metrics registry (``airflow/sdk/_shared/observability/metrics/metrics_template.yaml``): a
name without variables, the variables as tags (``pool.open_slots`` with tag ``pool_name``), and, while
``[metrics] legacy_names_on`` is true (Airflow's default), also the "legacy" name with the variables in it
(``pool.open_slots.<pool_name>``), which plain StatsD — it drops tags — can tell apart. A dot in a variable
becomes ``__`` there, as Airflow does. Metric names and their tags are listed in docs/operations.md ("Metrics").
Sending never fails a task: a broken metrics backend is logged and ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

log = logging.getLogger(__name__)

PREFIX = "sr_airflow"


def _legacy_names_on() -> bool:
    from airflow.sdk.configuration import conf

    return conf.getboolean("metrics", "legacy_names_on", fallback=True)


def _legacy_name(name: str, variables: tuple[str, ...], tags: Mapping[str, Any]) -> str:
    from airflow.sdk.observability.stats import normalize_name_for_stats

    parts = [str(tags[v]).replace(".", "__") for v in variables]
    return normalize_name_for_stats(".".join([name, *parts]), log_warning=False)


def _send(kind: str, name: str, value: Any, tags: Mapping[str, Any], legacy: tuple[str, ...]) -> None:
    """One metric, under its name with ``tags`` and (when legacy names are on) under its legacy name."""
    from airflow.sdk.observability import stats

    send: Callable[..., None] = {"gauge": stats.gauge, "incr": stats.incr, "timing": stats.timing}[kind]
    full = f"{PREFIX}.{name}"
    clean = {k: str(v) for k, v in tags.items() if v is not None}
    try:
        send(full, value, tags=clean)
        if legacy and _legacy_names_on():
            send(_legacy_name(full, legacy, clean), value, tags={k: v for k, v in clean.items() if k not in legacy})
    except Exception as exc:  # noqa: BLE001 - a metrics backend must never fail a backup or a restore
        log.warning("Metric %s not sent: %s", full, exc)


def backup_finished(*, database: str | None, repository: str, snapshot_kind: str, size_bytes: int | None,
                    phase_seconds: Mapping[str, float]) -> None:
    """A snapshot recorded: its size on storage (``sr_airflow.backup.bytes``) and the seconds of each job phase
    (``sr_airflow.backup.duration``, tag ``phase``: snapshot, upload, save_meta, total). The snapshot kind goes out
    as the tag ``kind`` and an external-catalog backup's database as ``catalogs`` (the names dashboards know)."""
    tags = {"database": database or "catalogs", "repository": repository, "kind": snapshot_kind}
    if size_bytes is not None:
        _send("gauge", "backup.bytes", size_bytes, tags, ("database",))
    for phase, seconds in sorted(phase_seconds.items()):
        _send("timing", "backup.duration", timedelta(seconds=seconds), {**tags, "phase": phase},
              ("phase", "database"))


def snapshot_age(*, database: str, repository: str, age_seconds: float) -> None:
    """Seconds since the newest good snapshot of ``database`` was taken (``sr_airflow.snapshot.age``)."""
    _send("gauge", "snapshot.age", round(age_seconds, 3), {"database": database, "repository": repository},
          ("database",))


def restore_finished(*, database: str, target_database: str | None, repository: str, jobs: int,
                     restored_bytes: int | None) -> None:
    """A restore done (point-in-time or of one snapshot): one more restore (``sr_airflow.restore.count``), its
    RESTORE jobs (``sr_airflow.restore.jobs``) and, when known, the bytes the catalog recorded for the partitions
    it brought back (``sr_airflow.restore.bytes``); counters, so a dashboard sums them over any period."""
    tags = {"database": database, "target_database": target_database, "repository": repository}
    _send("incr", "restore.count", 1, tags, ("database",))
    _send("incr", "restore.jobs", jobs, tags, ("database",))
    if restored_bytes is not None:
        _send("incr", "restore.bytes", restored_bytes, tags, ("database",))


def restore_job_finished(*, database: str, target_database: str | None, repository: str,
                         phase_seconds: Mapping[str, float]) -> None:
    """One RESTORE job finished: the seconds of each of its phases (``sr_airflow.restore.duration``, tag
    ``phase``: prepare_meta, snapshot, download, commit, total — ``engine/jobwatch.phase_seconds``), one sample
    per job, so a point-in-time restore of several jobs sends several."""
    tags = {"database": database, "target_database": target_database, "repository": repository}
    for phase, seconds in sorted(phase_seconds.items()):
        _send("timing", "restore.duration", timedelta(seconds=seconds), {**tags, "phase": phase},
              ("phase", "database"))


def verification_result(*, database: str, ok: bool, partitions_checked: int, mismatches: int) -> None:
    """A restore verified: ``sr_airflow.verify.success`` or ``sr_airflow.verify.failure`` (+1) and the number of
    mismatches found (``sr_airflow.verify.mismatches``)."""
    tags = {"database": database}
    _send("incr", f"verify.{'success' if ok else 'failure'}", 1, tags, ("database",))
    _send("gauge", "verify.mismatches", mismatches, tags, ("database",))
    _send("gauge", "verify.partitions", partitions_checked, tags, ("database",))


def drill_finished(*, database: str, ok: bool, rto_seconds: float) -> None:
    """A restore drill ended: ``sr_airflow.drill.success`` or ``sr_airflow.drill.failure`` (+1) and the time it
    took to restore and verify (``sr_airflow.drill.rto``)."""
    tags = {"database": database}
    _send("incr", f"drill.{'success' if ok else 'failure'}", 1, tags, ("database",))
    _send("timing", "drill.rto", timedelta(seconds=rto_seconds), tags, ("database",))
