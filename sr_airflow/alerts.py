"""Alerts: a failed run of a shipped DAG, and an RPO breach, sent through any Airflow notifier.

``sr_airflow.toml`` names the notifier (any ``BaseNotifier`` subclass: SMTP, Slack, a webhook...) and its
arguments::

    [alerts]
    notifier = "airflow.providers.slack.notifications.slack.SlackNotifier"
    rpo_target = "26h"          # default: [ui] rpo_target (the backups page's), else 26h
    [alerts.notifier_kwargs]
    slack_conn_id = "slack_oncall"
    text = "{{ sr_alert.message }}"

The notifier is built when an alert is sent (a DAG file only keeps its class path) and called with the Airflow
context plus ``sr_alert`` — ``kind`` (``dag_failure`` or ``rpo_breach``), ``title``, ``message`` and, for a
breach, ``breaches`` — so its templated fields can use ``{{ sr_alert.message }}``. The message names DAGs, runs,
tasks, databases, snapshots and ages, never a connection's credentials; the notifier's arguments are never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sr_airflow.engine.errors import InvalidArgumentError

log = logging.getLogger(__name__)

SECTION = "alerts"
KEYS = ("notifier", "notifier_kwargs", "rpo_target")


@dataclass(frozen=True)
class AlertSettings:
    """``[alerts]`` of sr_airflow.toml: the notifier's class path and arguments (None: no alerts)."""

    notifier: str | None = None
    notifier_kwargs: dict[str, Any] = field(default_factory=dict)
    rpo_target: Any = None


def load_alert_settings(path: Path | None = None) -> AlertSettings:
    """``[alerts]`` of the sr_airflow.toml that ``dag_defaults`` reads; a bad value names the file and key."""
    from sr_airflow.dag_defaults import _read_config, config_path

    path = path or config_path()
    section = _read_config(path).get(SECTION, {})
    where = f"sr_airflow config {path} [{SECTION}]"
    if not isinstance(section, dict):
        raise InvalidArgumentError(f"{where} must be a table.")
    unknown = sorted(set(section) - set(KEYS))
    if unknown:
        raise InvalidArgumentError(f"{where} has unknown key {unknown[0]!r}; known keys: {', '.join(KEYS)}.")
    notifier = section.get("notifier")
    if notifier is not None and (not isinstance(notifier, str) or "." not in notifier.strip(".")):
        raise InvalidArgumentError(f"{where}.notifier must be a class path such as "
                                   f"\"airflow.providers.smtp.notifications.smtp.SmtpNotifier\", got {notifier!r}.")
    kwargs = section.get("notifier_kwargs", {})
    if not isinstance(kwargs, dict):
        raise InvalidArgumentError(f"{where}.notifier_kwargs must be a table.")
    return AlertSettings(notifier=notifier, notifier_kwargs=kwargs, rpo_target=section.get("rpo_target"))


def rpo_target_seconds(path: Path | None = None) -> float:
    """The RPO target of the breach check: ``[alerts] rpo_target``, else the backups page's ``[ui] rpo_target``,
    else its default (26 hours)."""
    from sr_airflow.dag_defaults import _read_config, config_path
    from sr_airflow.ui.settings import DEFAULT_RPO_TARGET, parse_duration

    path = path or config_path()
    settings = load_alert_settings(path)
    if settings.rpo_target is not None:
        return parse_duration(settings.rpo_target, f"sr_airflow config {path} [{SECTION}].rpo_target")
    page = _read_config(path).get("ui", {})
    value = page.get("rpo_target", DEFAULT_RPO_TARGET) if isinstance(page, dict) else DEFAULT_RPO_TARGET
    return parse_duration(value, f"sr_airflow config {path} [ui].rpo_target")


def send_alert(settings: AlertSettings, context: Any, alert: dict[str, Any]) -> bool:
    """Build the configured notifier and call it with ``context`` plus ``sr_alert``; False without a notifier."""
    if not settings.notifier:
        log.warning("No [alerts] notifier configured; not sent: %s", alert["message"])
        return False
    from airflow.sdk import BaseNotifier
    from airflow.sdk.module_loading import import_string

    try:
        cls = import_string(settings.notifier)
    except ImportError as exc:
        raise InvalidArgumentError(f"[{SECTION}] notifier {settings.notifier!r} cannot be imported: {exc}.") from None
    if not (isinstance(cls, type) and issubclass(cls, BaseNotifier)):
        raise InvalidArgumentError(f"[{SECTION}] notifier {settings.notifier!r} is not a BaseNotifier subclass.")
    context = {**context, "sr_alert": alert}
    if context.get("dag") is not None and not hasattr(context["dag"], "get_template_env"):
        # dag.test() hands DAG callbacks its serialized DAG ("a hack for now", airflow/sdk/definitions/dag.py
        # test()), which has no Jinja environment: the notifier renders with Airflow's default one instead.
        context["dag"] = None
    cls(**settings.notifier_kwargs)(context)
    log.info("Alert sent through %s: %s", settings.notifier, alert["title"])
    return True


def failure_alert(context: Any) -> dict[str, Any]:
    """The alert of a failed DAG run, from the DAG callback's context."""
    dag = context.get("dag")
    dag_id = getattr(dag, "dag_id", None) or "?"
    run_id = context.get("run_id") or getattr(context.get("dag_run"), "run_id", None)
    ti = context.get("ti") or context.get("task_instance")
    task = ""
    if ti is not None:
        index = getattr(ti, "map_index", -1)
        task = f" at task {ti.task_id}{f'[{index}]' if index is not None and index >= 0 else ''}"
    reason = context.get("reason")
    title = f"sr_airflow: {dag_id} failed"
    message = f"DAG {dag_id} run {run_id} failed{task}" + (f" ({reason})." if reason else ".")
    return {"kind": "dag_failure", "title": title, "message": message, "dag_id": dag_id, "run_id": run_id}


class DagFailureAlert:
    """The ``on_failure_callback`` of the shipped DAGs: sends ``failure_alert`` through the notifier."""

    def __init__(self, settings: AlertSettings):
        self.settings = settings
        self.__name__ = "sr_airflow_dag_failure_alert"  # Airflow logs the callback by name

    def __call__(self, context: Any) -> None:
        send_alert(self.settings, context, failure_alert(context))

    def __repr__(self) -> str:
        return f"DagFailureAlert({self.settings.notifier!r})"  # never the notifier's arguments


def dag_failure_callback(path: Path | None = None) -> DagFailureAlert | None:
    """The shipped DAGs' ``on_failure_callback``: None unless ``[alerts] notifier`` is set. Called when a DAG file
    is parsed: reads the file only, imports no notifier."""
    settings = load_alert_settings(path)
    return DagFailureAlert(settings) if settings.notifier else None


def breach_alert(dag_id: str, run_id: str, breaches: list[dict[str, Any]], target_seconds: float) -> dict[str, Any]:
    """The alert of an RPO breach: every database whose newest OK snapshot is older than the target (or that has
    none), with that snapshot and its age."""
    from sr_airflow.ui.units import human_seconds

    parts = []
    for row in breaches:
        if row["newest_ok"] is None:
            parts.append(f"{row['database']}: no good snapshot")
        else:
            parts.append(f"{row['database']}: newest good snapshot {row['newest_ok']} taken {row['taken_at']}, "
                         f"{human_seconds(row['age_seconds'])} old")
    names = ", ".join(row["database"] for row in breaches)
    return {"kind": "rpo_breach", "title": f"sr_airflow: RPO breached for {names}",
            "message": f"RPO target {human_seconds(target_seconds)} breached (seen by {dag_id} run {run_id}): "
                       + "; ".join(parts) + ".",
            "dag_id": dag_id, "run_id": run_id, "breaches": breaches}
