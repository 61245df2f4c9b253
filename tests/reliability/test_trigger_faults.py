"""Item 3 for deferrable waits: StarRocksJobTrigger runs in Airflow's TriggerRunner (through its shared stream)
against the emulator while the emulator's own fault switches (ADMIN SET FRONTEND CONFIG emulator_*) drop or
refuse connections, slow a phase, fail the job at a state or time it out. Only the trigger's public behaviour is
checked: it yields exactly one event and ends; connection faults are retried a bounded number of times (success
when the fault clears in time, one clear error event when it does not); a job that fails is reported as such,
never as a success."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

import pytest

from sr_airflow.testing.triggerer import InProcessTriggerer
from sr_airflow.triggers.job import StarRocksJobTrigger
from tests.support.emulators import start_emulator
from tests.support.figures import count
from tests.support.waiting import wait_until

FAST = {"poll_interval": 0.1, "max_poll_interval": 0.8, "max_connection_errors": 5}
_labels = itertools.count()


@pytest.fixture(scope="module")
def tf(airflow_db, s3_server):
    with start_emulator("sr_trigf", s3_server, min_phase_seconds=0.3) as emu:
        emu.sql("CREATE DATABASE tdb",
                "CREATE TABLE tdb.t (id INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1",
                "INSERT INTO tdb.t VALUES (1), (2)")
        emu.create_repository("trepo", s3_server, "trigger-faults")
        yield emu


def _faults(emu, name: str) -> int:
    return sum(1 for f in emu.server.logged_faults() if f.get("fault") == name)


def _admin(conn, key: str, value: str) -> None:
    with conn.cursor() as cur:
        cur.execute(f'ADMIN SET FRONTEND CONFIG ("{key}" = "{value}")')


def _backup(emu) -> str:
    if emu.sql("SHOW BACKUP FROM tdb"):  # one job per database: the previous one has ended
        emu.wait_state("BACKUP", "tdb", ("FINISHED", "CANCELLED"), timeout=60)
    label = f"tf_{next(_labels)}"
    emu.sql(f"BACKUP DATABASE tdb SNAPSHOT {label} TO trepo")
    return label


def _events(label: str, timeout: float = 60.0, **options) -> tuple[list[dict], float]:
    """Every event the trigger fires until it ends, run by Airflow's TriggerRunner (through its shared stream),
    and how long that took."""
    trigger = StarRocksJobTrigger(starrocks_conn_id="sr_trigf", job_type="backup", database="tdb", label=label,
                                  **{**FAST, **options})

    async def collect() -> list[dict]:
        triggerer = InProcessTriggerer()
        task = triggerer.start(trigger)
        await task
        return triggerer.events(task)

    started = time.monotonic()
    events = asyncio.run(asyncio.wait_for(collect(), timeout))
    return events, time.monotonic() - started


def test_dropped_connections_while_deferred_are_retried_and_the_success_event_comes(tf):
    label = _backup(tf)
    tf.wait_state("BACKUP", "tdb", ("SNAPSHOTING", "UPLOAD_SNAPSHOT", "UPLOADING"))
    before = _faults(tf, "drop_connection")
    tf.sql('ADMIN SET FRONTEND CONFIG ("emulator_drop_connections" = "3")')
    events, _ = _events(label)
    dropped = _faults(tf, "drop_connection") - before
    assert dropped == 3  # all three drops hit the trigger's polls (nothing else talks to the frontend)
    assert len(events) == 1 and events[0]["status"] == "success" and events[0]["label"] == label, events
    assert events[0]["state"] == "FINISHED"
    count("item3 trigger: connection faults injected by the emulator", dropped)
    count("item3 trigger: watches that survived the faults", 1)


def test_connections_refused_for_longer_than_the_retries_end_in_one_clear_error_event(tf):
    label = _backup(tf)
    keeper = tf.server.connect()  # open connections keep working: this one ends the fault
    try:
        before = _faults(tf, "refuse_connection")
        _admin(keeper, "emulator_refuse_connections_seconds", "60")
        try:
            events, elapsed = _events(label)
        finally:
            _admin(keeper, "emulator_refuse_connections_seconds", "0")
    finally:
        keeper.close()
    refused = _faults(tf, "refuse_connection") - before
    assert len(events) == 1, events
    event = events[0]
    assert event["status"] == "error" and event["label"] == label
    assert event["message"].startswith(f"Could not watch backup job {label} of database 'tdb'"), event["message"]
    assert elapsed < 30  # bounded: 5 retries with a backoff capped at 0.8 s, far below the 60 s outage
    assert 1 <= refused <= FAST["max_connection_errors"] + 1
    # the job itself was not touched by the watch giving up
    assert tf.wait_state("BACKUP", "tdb", ("FINISHED",), timeout=60) == "FINISHED"
    count("item3 trigger: connection faults injected by the emulator", refused)
    count("item3 trigger: lasting outages ending in one error event", 1)


def test_a_refusal_that_clears_within_the_retries_ends_in_success(tf):
    label = _backup(tf)
    before = _faults(tf, "refuse_connection")
    tf.sql('ADMIN SET FRONTEND CONFIG ("emulator_refuse_connections_seconds" = "0.8")')
    events, _ = _events(label)
    refused = _faults(tf, "refuse_connection") - before
    assert refused >= 1  # the trigger did meet the fault
    assert len(events) == 1 and events[0]["status"] == "success", events
    count("item3 trigger: connection faults injected by the emulator", refused)
    count("item3 trigger: watches that survived the faults", 1)


def test_a_slow_phase_is_waited_out(tf):
    tf.sql('ADMIN SET FRONTEND CONFIG ("emulator_slow_state" = "UPLOADING")',
           'ADMIN SET FRONTEND CONFIG ("emulator_slow_seconds" = "2")')
    try:
        label = _backup(tf)
        events, elapsed = _events(label)
    finally:
        tf.sql('ADMIN SET FRONTEND CONFIG ("emulator_slow_seconds" = "0")')
    assert len(events) == 1 and events[0]["status"] == "success", events
    assert elapsed >= 2.0
    count("item3 trigger: slow phases waited out", 1)


@pytest.mark.parametrize("state", ["SNAPSHOTING", "UPLOADING", "UPLOAD_INFO"])
def test_a_job_failed_at_a_state_is_reported_cancelled_with_its_status(tf, state):
    tf.sql('ADMIN SET FRONTEND CONFIG ("emulator_fault_database" = "tdb")',
           f'ADMIN SET FRONTEND CONFIG ("emulator_fail_next_job_at" = "{state}")',
           'ADMIN SET FRONTEND CONFIG ("emulator_fail_status" = "[COMMON_ERROR, msg: injected by the suite]")')
    label = _backup(tf)
    events, _ = _events(label)
    assert len(events) == 1, events
    assert events[0]["status"] == "cancelled" and events[0]["state"] == "CANCELLED", events
    assert "injected by the suite" in events[0]["message"]
    count("item3 trigger: failed jobs reported (never as success)", 1)


def test_a_job_timeout_is_reported_cancelled_with_the_timeout_status(tf):
    tf.sql('ADMIN SET FRONTEND CONFIG ("emulator_job_timeout_next" = "true")')
    label = _backup(tf)
    events, _ = _events(label)
    assert len(events) == 1 and events[0]["status"] == "cancelled", events
    assert "TIMEOUT" in events[0]["message"]
    count("item3 trigger: failed jobs reported (never as success)", 1)


def test_a_frontend_restart_while_deferred_is_ridden_out_and_the_resumed_job_reported_once(tf):
    """The frontend stops mid-job and starts again on its data dir (the job resumes from its journal): the
    trigger's kept connection dies, its polls are refused while the frontend is away, and it ends with one
    success event for the job that really finished, never an event from before the restart."""
    label = _backup(tf)
    tf.wait_state("BACKUP", "tdb", ("SNAPSHOTING", "UPLOAD_SNAPSHOT", "UPLOADING"))
    restarted = threading.Event()
    polls_before = tf.queries().count("SHOW BACKUP FROM `tdb`")

    def restart():
        wait_until(lambda: tf.queries().count("SHOW BACKUP FROM `tdb`") > polls_before, 30,
                   "the trigger's first poll (its connection is kept from then on)", interval=0.02)
        tf.server.stop()
        time.sleep(1.0)  # the behaviour under test: the frontend is away for a while
        tf.server.start()
        restarted.set()

    thread = threading.Thread(target=restart, daemon=True)
    thread.start()
    # 20 connection errors with the interval capped at 0.8 s: about 15 s of absence tolerated
    events, _ = _events(label, timeout=120, max_connection_errors=20)
    assert restarted.is_set()  # the event came after the restart: the job was still running when it stopped
    thread.join(60)
    assert len(events) == 1, events
    assert events[0]["status"] == "success" and events[0]["label"] == label and events[0]["state"] == "FINISHED"
    (job,) = tf.sql("SHOW BACKUP FROM tdb")
    assert job[1] == label and job[3] == "FINISHED"  # the frontend agrees after the restart
    assert tf.sql(f"SHOW SNAPSHOT ON trepo WHERE SNAPSHOT = '{label}'")[0][2] == "OK"
    count("item2 trigger: frontend restarts while deferred, ridden out", 1)
