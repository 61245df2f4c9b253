"""Operations tests (metrics, restore drills, alerts): one emulator per module (connection ``sr_ops``), the shipped
DAGs parsed with a given sr_airflow.toml (``load_dag``, tests/conftest.py), and a UDP listener standing in for a
StatsD daemon."""

from __future__ import annotations

import pytest

from tests.support.emulators import FAST_PHASE, running_emulator
from tests.support.statsd import StatsdListener


@pytest.fixture(scope="module")
def emulator(airflow_db, s3_server):
    with running_emulator("sr_ops", s3_server, min_phase_seconds=FAST_PHASE) as emu:
        yield emu


@pytest.fixture
def statsd(monkeypatch):
    """A StatsD "daemon" on 127.0.0.1 and Airflow's metrics pointed at it, for this test only."""
    with StatsdListener() as listener:
        listener.configure_airflow(monkeypatch)
        yield listener


@pytest.fixture
def webhook():
    """A local HTTP server receiving the alerts (127.0.0.1, stopped after the test)."""
    from tests.support.webhook import WebhookServer

    with WebhookServer() as server:
        yield server
