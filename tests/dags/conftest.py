"""DAG tests: a fresh pair of emulators per module (connections ``sr_dag_source`` and ``sr_dag_target``) and
``load_dag`` (tests/conftest.py) for the shipped DAG files."""

from __future__ import annotations

import pytest

from tests.support.emulators import FAST_PHASE, running_emulator


@pytest.fixture(scope="module")
def emulator(airflow_db, s3_server):
    with running_emulator("sr_dag_source", s3_server, min_phase_seconds=FAST_PHASE) as emu:
        yield emu


@pytest.fixture(scope="module")
def target_emulator(airflow_db, s3_server):
    with running_emulator("sr_dag_target", s3_server, min_phase_seconds=FAST_PHASE) as emu:
        yield emu
