"""Fixtures: a real S3 API server process and emulator processes, driven through real MySQL clients."""

from __future__ import annotations

import time
import uuid

import boto3
import pymysql
import pytest

from sr_airflow.testing.emulator.process import EmulatorServer
from sr_airflow.testing.servers import S3Server

PHASE = 0.05


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


@pytest.fixture(scope="module")
def emulator(tmp_path_factory, s3_server):
    server = start_emulator(tmp_path_factory, s3_server)
    yield server
    server.stop()


@pytest.fixture(scope="module")
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
    cursor.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def wait_job(cursor, kind: str, db: str, timeout: float = 60.0) -> dict:
    """Poll SHOW BACKUP / SHOW RESTORE until the db's job (db "" = external catalogs) ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = as_dicts(cursor, f"SHOW {kind} FROM `{db}`" if db else f"SHOW {kind}")
        if not db:  # external-catalog jobs: the row with an empty DbName
            rows = [r for r in rows if r["DbName"] == ""]
        if rows and rows[0]["State"] in ("FINISHED", "CANCELLED"):
            return rows[0]
        time.sleep(0.05)
    raise TimeoutError(f"The {kind} job of {db} did not end within {timeout} s.")


def repo_sql(name: str, bucket: str, path: str = "backup", read_only: bool = False) -> str:
    ro = "READ ONLY " if read_only else ""
    return (f"CREATE {ro}REPOSITORY {name} WITH BROKER ON LOCATION 's3a://{bucket}/{path}' PROPERTIES "
            "('aws.s3.access_key' = 'test', 'aws.s3.secret_key' = 'test', 'aws.s3.region' = 'us-east-1')")


def error_of(cursor, sql: str) -> tuple[int, str]:
    try:
        cursor.execute(sql)
    except pymysql.MySQLError as err:
        return err.args[0], err.args[1]
    raise AssertionError(f"Expected an error from: {sql}")
