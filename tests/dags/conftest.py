"""DAG tests share the operator tests' Airflow home, S3 server and emulator fixtures."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from tests.operators.conftest import (  # noqa: F401 - fixtures re-exported for this package
    BUCKET,
    S3_KEY,
    S3_SECRET,
    airflow_db,
    aws_conn,
    emulator,
    s3_server,
    target_emulator,
)

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture
def load_dag(tmp_path, monkeypatch):
    """Parse a shipped DAG file with a given sr_airflow.toml, as Airflow's DAG processor would."""

    def load(dag_id: str, config: str = ""):
        path = tmp_path / "sr_airflow.toml"
        path.write_text(config)
        monkeypatch.setenv("SR_AIRFLOW_CONFIG", str(path))
        # dag.test() serialises the DAG by parsing the configured DAG folder: point it at the shipped DAGs.
        monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS))
        import airflow.settings

        monkeypatch.setattr(airflow.settings, "DAGS_FOLDER", str(DAGS))  # computed once when Airflow loads
        return runpy.run_path(str(DAGS / f"{dag_id}.py"))["dag"]

    return load


def states(dag_run) -> dict[str, str]:
    out: dict[str, str] = {}
    for ti in dag_run.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        out[key] = str(ti.state)
    return out
