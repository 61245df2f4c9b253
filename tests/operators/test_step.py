"""The light Python steps of the shipped DAGs, through dag.test(): XComArgs and templates reach the function,
and a false condition skips only the direct downstream tasks."""

from __future__ import annotations

import pytest

from tests.operators.dags import sr_operator_test_dags as dags
from tests.support.dags import run_dag


@pytest.fixture(autouse=True)
def _db(airflow_db):
    return airflow_db


def test_a_true_condition_lets_the_gated_task_run_with_its_rendered_arguments():
    states, _ = run_dag(dags.steps_go)
    assert states == {"source": "success", "gate": "success", "gated": "success", "after": "success",
                      "collect": "success"}
    assert dags.RESULTS["steps_go"] == 42


def test_a_false_condition_skips_the_direct_downstream_and_later_tasks_follow_their_trigger_rule():
    states, dag_run = run_dag(dags.steps_stop)
    assert states == {"source": "success", "gate": "success", "gated": "skipped", "after": "success",
                      "collect": "success"}
    assert dags.RESULTS["steps_stop"] is None
    gate = next(ti for ti in dag_run.get_task_instances() if ti.task_id == "gate")
    assert gate.xcom_pull(task_ids="gate", key="skipmixin_key") == {"skipped": ["gated"]}


def test_a_step_needs_a_callable():
    from sr_airflow.operators.step import StepOperator

    with pytest.raises(TypeError, match="python_callable must be callable"):
        StepOperator(task_id="x", python_callable="not a function")
