"""``[alerts]`` of sr_airflow.toml, read as a DAG file reads it: pure, no server."""

from __future__ import annotations

import pytest

from sr_airflow.alerts import (
    DagFailureAlert,
    breach_alert,
    dag_failure_callback,
    failure_alert,
    load_alert_settings,
    rpo_target_seconds,
)
from sr_airflow.engine.errors import InvalidArgumentError


def write(tmp_path, text: str):
    path = tmp_path / "sr_airflow.toml"
    path.write_text(text)
    return path


def test_no_notifier_means_no_callback(tmp_path):
    assert dag_failure_callback(tmp_path / "missing.toml") is None
    assert dag_failure_callback(write(tmp_path, "[defaults]\nrepository = 'r'\n")) is None


def test_a_notifier_with_its_arguments_becomes_the_callback_without_showing_them(tmp_path):
    path = write(tmp_path, '[alerts]\nnotifier = "pkg.mod.Notifier"\n[alerts.notifier_kwargs]\ntoken = "s3cr3t"\n')
    callback = dag_failure_callback(path)
    assert isinstance(callback, DagFailureAlert)
    assert callback.settings.notifier_kwargs == {"token": "s3cr3t"}
    assert "s3cr3t" not in repr(callback)


@pytest.mark.parametrize(("text", "message"), [
    ('[alerts]\nnotifier = "Notifier"\n', r"\[alerts\]\.notifier must be a class path"),
    ('[alerts]\nnotifier = "a.B"\nnotifier_kwargs = 3\n', r"\[alerts\]\.notifier_kwargs must be a table"),
    ('[alerts]\nnotifer = "a.B"\n', r"\[alerts\] has unknown key 'notifer'; known keys: notifier, notifier_kwargs"),
    ('alerts = 1\n', r"\[alerts\] must be a table"),
])
def test_bad_values_are_named(tmp_path, text, message):
    with pytest.raises(InvalidArgumentError, match=message):
        load_alert_settings(write(tmp_path, text))


def test_the_rpo_target_is_the_alerts_else_the_pages_else_26_hours(tmp_path):
    assert rpo_target_seconds(write(tmp_path, "")) == 26 * 3600
    assert rpo_target_seconds(write(tmp_path, '[ui]\nrpo_target = "2h"\n')) == 7200
    assert rpo_target_seconds(write(tmp_path, '[ui]\nrpo_target = "2h"\n[alerts]\nrpo_target = "90m"\n')) == 5400
    with pytest.raises(InvalidArgumentError, match=r"\[alerts\]\.rpo_target must be a positive duration"):
        rpo_target_seconds(write(tmp_path, '[alerts]\nrpo_target = "soon"\n'))


def test_messages_name_the_run_and_the_snapshots():
    class Ti:
        task_id, map_index = "backup", 1

    class Dag:
        dag_id = "sr_full_backup"

    alert = failure_alert({"dag": Dag(), "run_id": "manual__1", "ti": Ti(), "reason": "task_failure"})
    assert alert["message"] == "DAG sr_full_backup run manual__1 failed at task backup[1] (task_failure)."
    breach = breach_alert("sr_full_backup", "manual__1", [
        {"database": "a", "newest_ok": "full_a_1", "taken_at": "2024-05-01T02:00:00+00:00", "age_seconds": 30 * 3600,
         "target_seconds": 26 * 3600},
        {"database": "b", "newest_ok": None, "taken_at": None, "age_seconds": None, "target_seconds": 26 * 3600}],
        26 * 3600)
    assert breach["title"] == "sr_airflow: RPO breached for a, b"
    assert breach["message"] == (
        "RPO target 26 h 0 min breached (seen by sr_full_backup run manual__1): a: newest good snapshot full_a_1 "
        "taken 2024-05-01T02:00:00+00:00, 30 h 0 min old; b: no good snapshot.")
