"""The poke-style wait (deferrable=False) against the emulator: its intervals follow the elapsed-capped backoff."""

from __future__ import annotations

import time

from sr_airflow.engine.jobwatch import Backoff, JobWatch, wait_sync
from sr_airflow.hooks.starrocks import StarRocksHook
from tests.support.trigger_frontend import CONN_ID


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str, *args) -> None:
        self.lines.append(message % args)

    warning = info


def test_wait_sync_polls_at_most_10_percent_of_the_elapsed_wait_apart(frontend):
    frontend.create_database("sync_db")
    frontend.set_phase(0.4)  # a backup takes at least 6 × 0.4 s
    sleeps: list[tuple[float, float]] = []
    began = time.monotonic()

    def sleep(seconds: float) -> None:
        sleeps.append((time.monotonic() - began, seconds))
        time.sleep(seconds)  # the behaviour under test: wait_sync's own sleeps, recorded

    try:
        frontend.backup("sync_db", "sync_1")
        event = wait_sync(StarRocksHook(starrocks_conn_id=CONN_ID), JobWatch(database="sync_db", label="sync_1"),
                          Backoff(0.1, 5.0), Log(), sleep=sleep)
    finally:
        frontend.set_phase(0.05)
    waited = time.monotonic() - began
    assert (event["status"], event["state"]) == ("success", "FINISHED")
    assert waited >= 2.4 and len(sleeps) >= 5
    # plain doubling would have slept 0.1, 0.2, 0.4, 0.8, 1.6 s and then 3.2 s past a job of about 2.4 s
    for elapsed, seconds in sleeps:
        assert seconds <= max(0.1, 0.1 * elapsed) + 1e-6
    assert max(seconds for _, seconds in sleeps) <= 0.1 * waited + 1e-6


def test_wait_sync_after_the_callers_own_check_waits_one_interval_before_polling(frontend):
    frontend.create_database("sync_db2")
    frontend.backup("sync_db2", "sync_2")
    offset = frontend.log_size()
    called = time.time()
    event = wait_sync(StarRocksHook(starrocks_conn_id=CONN_ID), JobWatch(database="sync_db2", label="sync_2"),
                      Backoff(0.5, 5.0), Log(), checked=True)
    assert (event["status"], event["state"]) == ("success", "FINISHED")
    polls = [e for e in frontend.log_since(offset) if e.get("statement") == "SHOW BACKUP FROM `sync_db2`"]
    assert polls and polls[0]["time"] - called >= 0.5
