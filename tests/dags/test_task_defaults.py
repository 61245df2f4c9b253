"""sr_airflow.toml's `deferrable`, `retries` and `retry_delay_s` reach every task of the shipped DAGs that wait on
a job (their `default_args`), parsed as the DAG processor parses them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.dags import load_shipped_dag

WAITING_DAGS = ("sr_full_backup", "sr_incremental_backup", "sr_migration", "sr_restore", "sr_restore_drill")


@pytest.mark.parametrize("dag_id", WAITING_DAGS)
def test_retries_and_deferral_from_the_config_reach_every_task(dag_id, tmp_path, monkeypatch):
    built_in = load_shipped_dag(dag_id, "", tmp_path, monkeypatch)
    assert "retries" not in built_in.default_args and "retry_delay" not in built_in.default_args
    assert {t.retries for t in built_in.tasks} == {airflow_default_retries()}  # [core] default_task_retries
    assert {t.deferrable for t in waiting(built_in)} == {True}
    dag = load_shipped_dag(dag_id, "[defaults]\nretries = 1\nretry_delay_s = 5\ndeferrable = false\n", tmp_path,
                           monkeypatch)
    assert {(t.retries, t.retry_delay) for t in dag.tasks} == {(1, timedelta(seconds=5))}
    assert {t.deferrable for t in waiting(dag)} == {False}


def waiting(dag) -> list:
    """The StarRocks operators and sensors of ``dag`` (the tasks that may wait on a job)."""
    tasks = [t for t in dag.tasks if hasattr(t, "deferrable")]
    assert tasks, f"{dag.dag_id} has no task that waits"
    return tasks


def airflow_default_retries() -> int:
    from airflow.providers.standard.operators.empty import EmptyOperator

    return EmptyOperator(task_id="plain").retries
