"""Reliability fixtures: an emulator per module (connection ``sr_rel``), the shipped DAG files parsed with a given
sr_airflow.toml, and an HTTP fault proxy in front of the S3 server. The Airflow home, the metadata database and the
S3 server come from tests/conftest.py; the network fault helpers from tests/support/."""

from __future__ import annotations

import pytest

from tests.support.dags import load_shipped_dag
from tests.support.emulators import start_emulator
from tests.support.http_faults import S3FaultProxy


@pytest.fixture(scope="module")
def emu(airflow_db, s3_server):
    with start_emulator("sr_rel", s3_server) as e:
        yield e


@pytest.fixture
def load_shipped(tmp_path, monkeypatch):
    """``load_shipped(dag_id, config)``: parse a shipped DAG file as Airflow's DAG processor would."""

    def load(dag_id: str, config: str):
        return load_shipped_dag(dag_id, config, tmp_path, monkeypatch)

    return load


@pytest.fixture
def s3_proxy(s3_server):
    proxy = S3FaultProxy(s3_server.endpoint_url).start()
    try:
        yield proxy
    finally:
        proxy.stop()
