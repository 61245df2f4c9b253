"""DAG tests: a fresh pair of emulators per module (connections ``sr_dag_source`` and ``sr_dag_target``) and
``load_dag`` for the shipped DAG files."""

from __future__ import annotations

import pytest

from tests.support.dags import load_shipped_dag
from tests.support.emulators import FAST_PHASE, running_emulator


@pytest.fixture(scope="module")
def emulator(airflow_db, s3_server):
    with running_emulator("sr_dag_source", s3_server, min_phase_seconds=FAST_PHASE) as emu:
        yield emu


@pytest.fixture(scope="module")
def target_emulator(airflow_db, s3_server):
    with running_emulator("sr_dag_target", s3_server, min_phase_seconds=FAST_PHASE) as emu:
        yield emu


@pytest.fixture
def load_dag(tmp_path, monkeypatch):
    """``load_dag(dag_id, config)``: parse a shipped DAG file with ``config`` as its sr_airflow.toml."""

    def load(dag_id: str, config: str = ""):
        return load_shipped_dag(dag_id, config, tmp_path, monkeypatch)

    return load
