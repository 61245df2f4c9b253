"""Fidelity fixtures: one emulator for the whole package on the session's S3 server (tests/conftest.py), a fresh
database per test."""

from __future__ import annotations

import uuid

import boto3
import pytest

from tests.fidelity.helpers import Session, start_emulator


@pytest.fixture(scope="session")
def s3(s3_server):
    return boto3.client("s3", endpoint_url=s3_server.endpoint_url, aws_access_key_id="test",
                        aws_secret_access_key="test", region_name="us-east-1")


@pytest.fixture(scope="session")
def bucket(s3) -> str:
    name = f"fidelity-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def emulator(tmp_path_factory, s3_server):
    """The default emulator: the 3.5 line, whose formats the `*_3.5` fixtures describe."""
    server = start_emulator(tmp_path_factory, s3_server, "3.5.2")
    yield server
    server.stop()


@pytest.fixture()
def session(emulator, s3, bucket):
    """A fresh database (and repository name) on the package's emulator for one test."""
    sess = Session(emulator, s3, bucket)
    yield sess
    sess.close()
