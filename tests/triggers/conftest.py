"""Trigger tests: an emulator process per module (connection ``sr_trig``, a repository ``trig_repo`` on the
session's S3 server), so that triggers poll a real frontend over the MySQL protocol and the emulator's query log
shows every statement sent. Airflow's home and the S3 server come from tests/conftest.py."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.support.s3 import BUCKET, S3_KEY, S3_SECRET
from tests.support.trigger_frontend import CONN_ID, Frontend


@pytest.fixture(scope="module")
def frontend(s3_server, monkeypatch_module):
    from sr_airflow.testing.emulator.process import EmulatorServer

    data_dir = Path(tempfile.mkdtemp(prefix="sr-emulator-trig-"))
    server = EmulatorServer(data_dir, s3_endpoint=s3_server.endpoint_url, min_phase_seconds=0.05).start()
    monkeypatch_module.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", f"starrocks://root:@127.0.0.1:{server.port}/")
    fe = Frontend(server)
    try:
        fe.sql(f'CREATE REPOSITORY trig_repo WITH BROKER ON LOCATION "s3://{BUCKET}/triggers/{data_dir.name}" '
               f'PROPERTIES ("aws.s3.access_key"="{S3_KEY}","aws.s3.secret_key"="{S3_SECRET}",'
               f'"aws.s3.endpoint"="{s3_server.endpoint_url}")')
        yield fe
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch
