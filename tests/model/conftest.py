"""The model-based tests' servers: one source emulator per pytest process (connection ``sr_model``) with short job
phases, and the session's S3 server as the repositories' storage (connection ``s3_model``). Each example of a
state machine uses its own database and its own repository, so examples never see each other's snapshots."""

from __future__ import annotations

import os

import pytest

from tests.support.emulators import running_emulator
from tests.support.s3 import aws_connection_uri

MODEL_PHASE = 0.02  # seconds per job phase: restores of long chains stay fast


@pytest.fixture(scope="module")
def model_emulator(airflow_db, s3_server):
    with running_emulator("sr_model", s3_server, min_phase_seconds=MODEL_PHASE) as emu:
        yield emu


@pytest.fixture(scope="module")
def model_storage_conn(s3_server):
    key = "AIRFLOW_CONN_S3_MODEL"
    before = os.environ.get(key)
    os.environ[key] = aws_connection_uri(s3_server.endpoint_url)
    yield "s3_model"
    if before is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = before
