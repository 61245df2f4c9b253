"""The emulator as the trigger tests see it (Airflow connection ``sr_trig``): SQL, job-phase and fault switches,
and the query log read from an offset, so that a test counts exactly the statements its triggers sent."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.waiting import wait_until

CONN_ID = "sr_trig"


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
        """Query-log entries (statements and faults) written after ``offset`` bytes, once the log has stopped
        growing (a statement still in flight from a cancelled trigger lands first)."""
        sizes = [self.log_size()]

        def settled() -> bool:
            sizes.append(self.log_size())
            return sizes[-1] == sizes[-2]

        wait_until(settled, timeout=10, what="the query log to stop growing", interval=0.1)
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
        def reached() -> str | None:
            rows = self.sql(f"SHOW BACKUP FROM {database}")
            state = rows[-1][3] if rows else None
            return state if state in states else None

        return wait_until(reached, timeout, f"the backup of {database} reaching {states}")

    def wait_reachable(self, timeout: float = 30.0) -> None:
        """Until a new connection gets an answer (an injected refusal or drop has run out)."""
        wait_until(lambda: self.sql("SELECT 1"), timeout, "the frontend answering again", interval=0.2,
                   ignore=(Exception,))

    def create_database(self, name: str) -> None:
        self.sql(f"CREATE DATABASE {name}",
                 f"CREATE TABLE {name}.t (id INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1",
                 f"INSERT INTO {name}.t VALUES (1), (2)")
