"""Faults on demand, switched on by ADMIN SET FRONTEND CONFIG ("emulator_..." = "...") for reliability tests.

Faults live in memory only (a restart clears them); each one applied is written to the query log as a JSON line
`{"time", "connection", "fault", ...}`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

from .errors import EmulatorError

JOB_STATES = ("PENDING", "SNAPSHOTING", "UPLOAD_SNAPSHOT", "UPLOADING", "SAVE_META", "UPLOAD_INFO",
              "DOWNLOAD", "DOWNLOADING", "COMMIT", "COMMITTING")
DEFAULT_FAIL_STATUS = ("COMMON_ERROR", "injected fault")
_STATUS = re.compile(r"^\s*\[\s*(\w+)\s*,\s*msg:\s?(.*)\]\s*$", re.S)

KEYS = ("emulator_fail_next_job_at", "emulator_fail_status", "emulator_fault_database", "emulator_slow_state",
        "emulator_slow_seconds", "emulator_drop_connections", "emulator_refuse_connections_seconds",
        "emulator_job_timeout_next")


def parse_status(text: str) -> tuple[str, str]:
    match = _STATUS.match(text)
    if match:
        return match.group(1), match.group(2)
    return "COMMON_ERROR", text


class Faults:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fail_at: str | None = None
        self.fail_status: tuple[str, str] = DEFAULT_FAIL_STATUS
        self.database: str | None = None
        self.slow_state: str | None = None
        self.slow_seconds = 0.0
        self.drop_connections = 0
        self.refuse_until = 0.0
        self.timeout_next = False
        self.log: Callable[..., None] = lambda fault, connection=None, **details: None

    # -- switches
    def set(self, key: str, value: str) -> None:
        value = value.strip()
        with self.lock:
            try:
                if key == "emulator_fail_next_job_at":
                    self.fail_at = _state(value)
                elif key == "emulator_fail_status":
                    self.fail_status = parse_status(value) if value else DEFAULT_FAIL_STATUS
                elif key == "emulator_fault_database":
                    self.database = value or None
                elif key == "emulator_slow_state":
                    self.slow_state = _state(value)
                elif key == "emulator_slow_seconds":
                    self.slow_seconds = max(0.0, float(value or 0))
                elif key == "emulator_drop_connections":
                    self.drop_connections = max(0, int(value or 0))
                elif key == "emulator_refuse_connections_seconds":
                    seconds = float(value or 0)
                    self.refuse_until = time.monotonic() + seconds if seconds > 0 else 0.0
                elif key == "emulator_job_timeout_next":
                    self.timeout_next = value.lower() in ("true", "1", "yes")
            except ValueError as err:
                raise EmulatorError(f"Invalid value for config '{key}': {value}") from err

    def rows(self) -> list[list[str]]:
        refuse = max(0.0, self.refuse_until - time.monotonic()) if self.refuse_until else 0.0
        values = {"emulator_fail_next_job_at": self.fail_at or "",
                  "emulator_fail_status": f"[{self.fail_status[0]}, msg: {self.fail_status[1]}]",
                  "emulator_fault_database": self.database or "", "emulator_slow_state": self.slow_state or "",
                  "emulator_slow_seconds": str(self.slow_seconds),
                  "emulator_drop_connections": str(self.drop_connections),
                  "emulator_refuse_connections_seconds": f"{refuse:.1f}",
                  "emulator_job_timeout_next": "true" if self.timeout_next else "false"}
        return [[k, "[]", values[k], "String", "true", "emulator fault"] for k in KEYS]

    # -- taken by jobs
    def take_for_job(self, db_name: str) -> dict:
        """The one-shot job faults, consumed by the next job (of `emulator_fault_database` when set)."""
        with self.lock:
            if self.database and self.database != db_name:
                return {}
            taken: dict = {}
            if self.fail_at:
                taken["fail_at"] = self.fail_at
                taken["fail_status"] = list(self.fail_status)
                self.fail_at = None
            if self.timeout_next:
                taken["timeout"] = True
                self.timeout_next = False
            if taken:
                self.database = None
            return taken

    def slow_for(self, state: str) -> float:
        with self.lock:
            return self.slow_seconds if self.slow_state == state else 0.0

    # -- taken by the protocol side
    def take_drop(self) -> bool:
        with self.lock:
            if self.drop_connections > 0:
                self.drop_connections -= 1
                return True
            return False

    def refusing(self) -> bool:
        return bool(self.refuse_until) and time.monotonic() < self.refuse_until


def _state(value: str) -> str | None:
    if not value:
        return None
    state = value.upper()
    if state not in JOB_STATES:
        raise EmulatorError(f"Invalid value for config: '{value}' is not a job state ({', '.join(JOB_STATES)})")
    return state
