"""Fixtures for the trigger tests: an S3 API server and an emulator process (connection ``sr_trig``), so that
triggers poll a real frontend over the MySQL protocol and the emulator's query log shows every statement sent."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="sr-airflow-trig-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

CONN_ID = "sr_trig"
BUCKET = "trigger-tests"
S3_KEY, S3_SECRET = "test-access-key", "test-secret-key-123"


class Frontend:
    """The emulator with the few helpers these tests need."""

    def __init__(self, server):
        self.server = server

    def sql(self, *statements: str) -> tuple[tuple, ...]:
        """Run statements on one connection; returns the rows of the last one."""
        return self.server.sql(*statements)

    def log_size(self) -> int:
        path = Path(self.server.query_log)
        return path.stat().st_size if path.exists() else 0

    def log_since(self, offset: int) -> list[dict]:
        """Query-log entries (statements and faults) written after ``offset`` bytes."""
        time.sleep(0.3)  # the emulator appends from its own threads
        with open(self.server.query_log, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
        return [json.loads(line) for line in data.decode().splitlines() if line.strip()]

    def set_phase(self, seconds: float) -> None:
        self.sql(f'ADMIN SET FRONTEND CONFIG ("emulator_min_phase_seconds" = "{seconds}")')

    def set_fault(self, key: str, value: str) -> None:
        self.sql(f'ADMIN SET FRONTEND CONFIG ("{key}" = "{value}")')

    def backup(self, database: str, label: str) -> None:
        self.sql(f"BACKUP DATABASE {database} SNAPSHOT {label} TO trig_repo")

    def wait_backup(self, database: str, states: tuple[str, ...], timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            rows = self.sql(f"SHOW BACKUP FROM {database}")
            state = rows[-1][3] if rows else None
            if state in states:
                return state
            time.sleep(0.05)
        raise AssertionError(f"the backup of {database} never reached {states}; last state {state}.")

    def wait_reachable(self, timeout: float = 30.0) -> None:
        """Until a new connection gets an answer (an injected refusal or drop has run out)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sql("SELECT 1")
                return
            except Exception:  # noqa: BLE001 - refused or dropped: try again
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def create_database(self, name: str) -> None:
        self.sql(f"CREATE DATABASE {name}",
                 f"CREATE TABLE {name}.t (id INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1",
                 f"INSERT INTO {name}.t VALUES (1), (2)")


@pytest.fixture(scope="session")
def s3_server():
    import boto3

    from sr_airflow.testing.servers import S3Server

    with S3Server() as server:
        boto3.client("s3", endpoint_url=server.endpoint_url, aws_access_key_id=S3_KEY,
                     aws_secret_access_key=S3_SECRET, region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield server


@pytest.fixture(scope="module")
def frontend(s3_server):
    from sr_airflow.testing.emulator.process import EmulatorServer

    data_dir = Path(tempfile.mkdtemp(prefix="sr-emulator-trig-"))
    server = EmulatorServer(data_dir, s3_endpoint=s3_server.endpoint_url, min_phase_seconds=0.05).start()
    os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = f"starrocks://root:@127.0.0.1:{server.port}/"
    fe = Frontend(server)
    try:
        fe.sql(f'CREATE REPOSITORY trig_repo WITH BROKER ON LOCATION "s3://{BUCKET}/{data_dir.name}" PROPERTIES '
               f'("aws.s3.access_key"="{S3_KEY}","aws.s3.secret_key"="{S3_SECRET}",'
               f'"aws.s3.endpoint"="{s3_server.endpoint_url}")')
        yield fe
    finally:
        server.stop()
        os.environ.pop(f"AIRFLOW_CONN_{CONN_ID.upper()}", None)
        shutil.rmtree(data_dir, ignore_errors=True)
