"""Running DAGs in the tests: the shipped DAG files parsed with a given sr_airflow.toml (as Airflow's DAG processor
would), ``dag.test()`` and the task states of a run."""

from __future__ import annotations

import runpy

from tests.support.airflow_env import SHIPPED_DAGS


def load_shipped_dag(dag_id: str, config: str, tmp_path, monkeypatch):
    """Parse ``dags/<dag_id>.py`` with ``config`` as its sr_airflow.toml; the settings last for the test."""
    path = tmp_path / "sr_airflow.toml"
    path.write_text(config)
    monkeypatch.setenv("SR_AIRFLOW_CONFIG", str(path))
    # dag.test() serialises the DAG by parsing the configured DAG folder: point it at the shipped DAGs.
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(SHIPPED_DAGS))
    import airflow.settings

    monkeypatch.setattr(airflow.settings, "DAGS_FOLDER", str(SHIPPED_DAGS))  # computed once when Airflow loads
    return runpy.run_path(str(SHIPPED_DAGS / f"{dag_id}.py"))["dag"]


def run_dag(dag):
    """Run ``dag`` with ``dag.test()`` and return ({task_id: state}, the dag run)."""
    dag_run = dag.test()
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}, dag_run


def states(dag_run) -> dict[str, str]:
    """{task_id or task_id[map_index]: state} of a finished run."""
    out: dict[str, str] = {}
    for ti in dag_run.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        out[key] = str(ti.state)
    return out
