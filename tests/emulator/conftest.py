"""Emulator tests: an emulator process shared by the package (a fresh bucket or database per test), a second one
per module, cursors on them through a real MySQL client, and a fresh bucket on the session's S3 server
(tests/conftest.py)."""

from __future__ import annotations

import uuid

import boto3
import pytest

from tests.support.emulator_client import start_server


@pytest.fixture(scope="session")
def s3_client(s3_server):
    return boto3.client("s3", endpoint_url=s3_server.endpoint_url, aws_access_key_id="test",
                        aws_secret_access_key="test", region_name="us-east-1")


@pytest.fixture()
def bucket(s3_client) -> str:
    """A fresh, empty bucket for one test."""
    name = f"bkt-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def emulator(tmp_path_factory, s3_server):
    server = start_server(tmp_path_factory, s3_server)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def emulator_b(tmp_path_factory, s3_server):
    """A second frontend, fresh for each module (the restore side: modules check its repositories and jobs)."""
    server = start_server(tmp_path_factory, s3_server)
    yield server
    server.stop()


@pytest.fixture()
def cur(emulator):
    conn = emulator.connect()
    yield conn.cursor()
    conn.close()


@pytest.fixture()
def cur_b(emulator_b):
    conn = emulator_b.connect()
    yield conn.cursor()
    conn.close()
