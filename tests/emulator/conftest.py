"""Fixtures: a real S3 API server process and emulator processes, driven through real MySQL clients."""

from __future__ import annotations

import uuid

import boto3
import pymysql
import pytest

from sr_airflow.testing.emulator import client
from sr_airflow.testing.emulator.client import repository_sql, rows_as_dicts
from sr_airflow.testing.emulator.process import EmulatorServer
from sr_airflow.testing.servers import S3Server

PHASE = 0.02


@pytest.fixture(scope="session")
def s3_server():
    with S3Server() as server:
        yield server


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


def start_emulator(tmp_path_factory, s3_server, **kwargs) -> EmulatorServer:
    data_dir = tmp_path_factory.mktemp("emulator")
    kwargs.setdefault("min_phase_seconds", PHASE)
    return EmulatorServer(data_dir, s3_endpoint=s3_server.endpoint_url, **kwargs).start()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory, s3_server):
    server = start_emulator(tmp_path_factory, s3_server)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def emulator_b(tmp_path_factory, s3_server):
    server = start_emulator(tmp_path_factory, s3_server)
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


def run(cursor, sql: str) -> list[tuple]:
    cursor.execute(sql)
    return list(cursor.fetchall())


def as_dicts(cursor, sql: str) -> list[dict]:
    return rows_as_dicts(cursor, sql)


def wait_job(cursor, kind: str, db: str, timeout: float = 60.0) -> dict:
    return client.wait_job(cursor, kind, db, timeout)


def repo_sql(name: str, bucket: str, path: str = "backup", read_only: bool = False) -> str:
    return repository_sql(name, bucket, path, read_only=read_only)


def error_of(cursor, sql: str) -> tuple[int, str]:
    try:
        cursor.execute(sql)
    except pymysql.MySQLError as err:
        return err.args[0], err.args[1]
    raise AssertionError(f"Expected an error from: {sql}")
