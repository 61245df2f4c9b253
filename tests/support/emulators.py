"""An emulator process wrapped for the Airflow-facing tests: SQL, the query log, job-phase control and an Airflow
connection id (``AIRFLOW_CONN_<ID>``, set while the emulator runs and restored when it stops)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from tests.support.s3 import BUCKET, S3_KEY, S3_SECRET
from tests.support.waiting import wait_until

FAST_PHASE = 0.15  # the operator tests' minimum job phase (seconds)


class Emulator:
    """One emulator process with helpers: SQL, the query log, and a connection id for Airflow."""

    def __init__(self, server, conn_id: str, phase: float):
        self.server = server
        self.conn_id = conn_id
        self.phase = phase
        self._env_key = f"AIRFLOW_CONN_{conn_id.upper()}"
        self._env_before = os.environ.get(self._env_key)
        os.environ[self._env_key] = f"starrocks://root:@127.0.0.1:{server.port}/"

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the process and give the connection id back to whatever it named before."""
        self.server.stop()
        if self._env_before is None:
            os.environ.pop(self._env_key, None)
        else:
            os.environ[self._env_key] = self._env_before

    def sql(self, *statements: str) -> tuple[tuple, ...]:
        """Run statements on one connection; returns the rows of the last one."""
        return self.server.sql(*statements)

    def queries(self) -> list[str]:
        path = Path(self.server.query_log)
        if not path.exists():
            return []
        entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return [entry["statement"] for entry in entries if "statement" in entry]  # fault lines have none

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
        """Until the latest ``kind`` (BACKUP or RESTORE) job of ``database`` is in one of ``states``."""
        column = 3 if kind.upper() == "BACKUP" else 4
        seen: list[str | None] = [None]

        def reached() -> str | None:
            rows = self.sql(f"SHOW {kind} FROM {database}")
            seen[0] = rows[-1][column] if rows else None
            return seen[0] if seen[0] in states else None

        try:
            return wait_until(reached, timeout, f"{kind} of {database} reaching {states}")
        except AssertionError as exc:
            raise AssertionError(f"{kind} of {database} never reached {states}; last state {seen[0]}.") from exc


def start_emulator(conn_id: str, s3_server, *, min_phase_seconds: float = 0.1, data_dir: Path | None = None,
                   **kwargs) -> Emulator:
    """An emulator process whose s3a:// locations without an endpoint go to the test S3 server, registered as
    Airflow connection ``conn_id``; ``with`` it to stop it."""
    from sr_airflow.testing.emulator.process import EmulatorServer

    server = EmulatorServer(data_dir, min_phase_seconds=min_phase_seconds, s3_endpoint=s3_server.endpoint_url,
                            **kwargs)
    server.start()
    return Emulator(server, conn_id, min_phase_seconds)


@contextlib.contextmanager
def running_emulator(conn_id: str, s3_server, *, min_phase_seconds: float = 0.1, **kwargs):
    """``start_emulator`` in a data directory of its own that is removed afterwards (pytest's basetemp can be
    pruned by a concurrent pytest session)."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"sr-emulator-{conn_id}-"))
    try:
        with start_emulator(conn_id, s3_server, min_phase_seconds=min_phase_seconds, data_dir=data_dir,
                            **kwargs) as emu:
            yield emu
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def new_queries(emu: Emulator, before: int) -> list[str]:
    """The statements ``emu`` received after its first ``before``."""
    return emu.queries()[before:]
