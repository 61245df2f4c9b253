"""Fixtures for operator, sensor and trigger tests: a migrated Airflow metadata DB in a temporary AIRFLOW_HOME,
an S3 API server and StarRocks emulator processes, and helpers to run a DAG with ``dag.test()``."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="sr-airflow-home-"))
_AIRFLOW_ENV = {
    "AIRFLOW_HOME": str(_HOME),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME}/airflow.db",
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(Path(__file__).parent / "dags"),
    "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(_HOME / "logs"),
}
os.environ.update(_AIRFLOW_ENV)

if "airflow.settings" in sys.modules:  # another test package imported Airflow first: point it here too
    from airflow import settings as _settings

    _settings.configure_vars()
    _settings.configure_orm()

FAST_PHASE = 0.15
S3_KEY, S3_SECRET = "test-access-key", "test-secret-key-123"
BUCKET = "sr-backups"


@pytest.fixture(scope="session")
def airflow_db():
    """``airflow db migrate`` once per session (about 3 s); the temporary AIRFLOW_HOME goes at the end."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True,
                   env={**os.environ, **_AIRFLOW_ENV}, timeout=300)
    yield _HOME
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def s3_server():
    from sr_airflow.testing.servers import S3Server

    server = S3Server()
    server.start()
    try:
        import boto3

        boto3.client("s3", endpoint_url=server.endpoint_url, aws_access_key_id=S3_KEY,
                     aws_secret_access_key=S3_SECRET, region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield server
    finally:
        server.stop()


class Emulator:
    """One emulator process with helpers: SQL, the query log, and a connection id for Airflow."""

    def __init__(self, server, conn_id: str):
        self.server = server
        self.conn_id = conn_id
        self.phase = FAST_PHASE
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = f"starrocks://root:@127.0.0.1:{server.port}/"

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.stop()

    def sql(self, *statements: str) -> tuple[tuple, ...]:
        """Run statements on one connection; returns the rows of the last one."""
        return self.server.sql(*statements)

    def queries(self) -> list[str]:
        path = Path(self.server.query_log)
        if not path.exists():
            return []
        return [json.loads(line)["statement"] for line in path.read_text().splitlines() if line.strip()]

    def count(self, prefix: str) -> int:
        return sum(1 for q in self.queries() if q.lstrip().upper().startswith(prefix.upper()))

    def set_phase(self, seconds: float) -> None:
        """Every job phase lasts at least ``seconds`` from now on."""
        self.sql(f'ADMIN SET FRONTEND CONFIG ("emulator_min_phase_seconds" = "{seconds}")')
        self.phase = seconds

    @contextlib.contextmanager
    def slow_jobs(self, phase_seconds: float):
        """Every job phase lasts at least ``phase_seconds`` inside the block (a loaded machine stays in time)."""
        previous = self.phase
        self.set_phase(phase_seconds)
        try:
            yield
        finally:
            self.set_phase(previous)

    def create_repository(self, name: str, s3_server, prefix: str, read_only: bool = False) -> None:
        ro = "READ ONLY " if read_only else ""
        self.sql(f'CREATE {ro}REPOSITORY {name} WITH BROKER ON LOCATION "s3://{BUCKET}/{prefix}" PROPERTIES '
                 f'("aws.s3.access_key"="{S3_KEY}","aws.s3.secret_key"="{S3_SECRET}",'
                 f'"aws.s3.endpoint"="{s3_server.endpoint_url}")')

    def wait_state(self, kind: str, database: str, states: tuple[str, ...], timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            rows = self.sql(f"SHOW {kind} FROM {database}")
            if rows:
                state = rows[-1][3] if kind.upper() == "BACKUP" else rows[-1][4]
                if state in states:
                    return state
            time.sleep(0.05)
        raise AssertionError(f"{kind} of {database} never reached {states}; last state {state}.")


def _data_dir(name: str) -> Path:
    """A data directory of our own: pytest's basetemp can be pruned by a concurrent pytest session."""
    return Path(tempfile.mkdtemp(prefix=f"sr-emulator-{name}-"))


def _start_emulator(conn_id: str, s3_server, data_dir: Path, **kwargs) -> Emulator:
    """An emulator whose s3a:// locations without an endpoint go to the test S3 server."""
    from sr_airflow.testing.emulator.process import EmulatorServer

    server = EmulatorServer(data_dir, min_phase_seconds=kwargs.pop("min_phase_seconds", FAST_PHASE),
                            s3_endpoint=s3_server.endpoint_url, **kwargs)
    server.start()
    return Emulator(server, conn_id)


@contextlib.contextmanager
def _running_emulator(conn_id: str, s3_server):
    emu = _start_emulator(conn_id, s3_server, _data_dir(conn_id))
    try:
        yield emu
    finally:
        emu.server.stop()
        shutil.rmtree(emu.server.data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def emulator(airflow_db, s3_server):
    """A fresh emulator per test module, connection ``sr_main`` (other test packages use this one)."""
    with _running_emulator("sr_main", s3_server) as emu:
        yield emu


@pytest.fixture(scope="module")
def target_emulator(airflow_db, s3_server):
    """A fresh second emulator per test module, connection ``sr_target``."""
    with _running_emulator("sr_target", s3_server) as emu:
        yield emu


@pytest.fixture(scope="session")
def shared_emulator(airflow_db, s3_server):
    """The main emulator the operator test modules share (each uses its own repositories)."""
    with _running_emulator("sr_main", s3_server) as emu:
        yield emu


@pytest.fixture(scope="session")
def shared_target_emulator(airflow_db, s3_server):
    with _running_emulator("sr_target", s3_server) as emu:
        yield emu


@pytest.fixture
def aws_conn(s3_server, monkeypatch):
    """An ``aws`` connection to the S3 server (for the catalog and repository creation)."""
    extra = json.dumps({"endpoint_url": s3_server.endpoint_url, "region_name": "us-east-1"})
    from urllib.parse import quote

    monkeypatch.setenv("AIRFLOW_CONN_S3_TEST", f"aws://{S3_KEY}:{S3_SECRET}@/?__extra__={quote(extra)}")
    return "s3_test"


def run_dag(dag):
    """Run ``dag`` with ``dag.test()`` and return {task_id: state}."""
    dag_run = dag.test()
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}, dag_run


@pytest.fixture(scope="session")
def sales_db(shared_emulator):
    """Database ``sales`` on the shared main emulator, seeded once per session."""
    seed_sales(shared_emulator)
    return shared_emulator


def seed_sales(emu: Emulator, database: str = "sales") -> None:
    emu.sql(
        f"CREATE DATABASE {database}",
        f"CREATE TABLE {database}.orders (id INT, amount DECIMAL(10,2), day DATE) DUPLICATE KEY(id) "
        "PARTITION BY RANGE(day) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), "
        "PARTITION p2 VALUES LESS THAN ('2024-03-01')) DISTRIBUTED BY HASH(id) BUCKETS 2",
        f"INSERT INTO {database}.orders VALUES (1, 10.5, '2024-01-05'), (2, 20, '2024-02-10'), "
        "(3, 7.25, '2024-02-11')",
    )
