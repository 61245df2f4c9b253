"""Operator, sensor and trigger tests: the two emulators the operator test DAGs name (connections ``sr_main`` and
``sr_target``, one each per pytest process, each module using its own repositories and databases) and the seeded
``sales`` database. The Airflow home, the metadata database and the S3 server come from tests/conftest.py."""

from __future__ import annotations

import pytest

from tests.support.emulators import FAST_PHASE, running_emulator
from tests.support.seeds import seed_sales


@pytest.fixture(scope="session")
def shared_emulator(airflow_db, s3_server):
    """The main emulator the operator test modules share (each uses its own repositories)."""
    with running_emulator("sr_main", s3_server, min_phase_seconds=FAST_PHASE) as emu:
        yield emu


@pytest.fixture(scope="session")
def shared_target_emulator(airflow_db, s3_server):
    with running_emulator("sr_target", s3_server, min_phase_seconds=FAST_PHASE) as emu:
        yield emu


@pytest.fixture(scope="session")
def sales_db(shared_emulator):
    """Database ``sales`` on the shared main emulator, seeded once per session."""
    seed_sales(shared_emulator)
    return shared_emulator
