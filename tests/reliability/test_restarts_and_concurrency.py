"""Item 2: the frontend restarts while a backup is watched. Item 4: two runs, and a backfill of several dates,
aimed at one database at once."""

from __future__ import annotations

import threading

import pendulum
import pytest

from sr_airflow.engine.errors import JobFailedError
from sr_airflow.operators.backup import StarRocksBackupOperator
from sr_airflow.storage import get_storage
from sr_airflow.storage.catalog_store import CatalogStore
from tests.support.emulators import start_emulator
from tests.support.figures import count
from tests.support.s3 import BUCKET
from tests.support.task_context import task_context


@pytest.fixture(scope="module")
def emu2(airflow_db, s3_server):
    with start_emulator("sr_restart", s3_server, min_phase_seconds=0.5) as emu:
        emu.sql("CREATE DATABASE rdb",
                "CREATE TABLE rdb.t (id INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1",
                "INSERT INTO rdb.t VALUES (1), (2)")
        emu.create_repository("rrepo", s3_server, "restarts")
        yield emu


def _op(label: str | None, aws_conn: str | None = None, **kwargs) -> StarRocksBackupOperator:
    return StarRocksBackupOperator(task_id="backup", starrocks_conn_id="sr_restart", repository="rrepo",
                                   database="rdb", snapshot_label=label, deferrable=False, cancel_on_kill=False,
                                   poll_interval=0.1, max_poll_interval=0.5, storage_conn_id=aws_conn, **kwargs)


def _catalog(aws_conn: str):
    store = CatalogStore(get_storage(f"s3://{BUCKET}/restarts", conn_id=aws_conn), "rrepo")
    return store.load(), store


def _restarter(emu, state: str, back_when: threading.Event | None):
    """A thread that stops the frontend when the backup shows ``state`` and starts it again at once, or only when
    ``back_when`` is set. Its failure (e.g. the state never seen) is kept for the test to raise."""
    done: dict[str, object] = {}

    def restart():
        try:
            done["stopped_in"] = emu.wait_state("BACKUP", "rdb", (state,), timeout=60)
            emu.server.stop()
            if back_when is not None:
                assert back_when.wait(120), "the first attempt never ended while the frontend was away"
            emu.server.start()
            done["restarted"] = True
        except BaseException as exc:  # noqa: BLE001 - raised in the test's thread
            done["error"] = exc

    thread = threading.Thread(target=restart, daemon=True)
    thread.start()
    return thread, done


def _joined(thread: threading.Thread, done: dict, state: str) -> None:
    thread.join(120)
    if "error" in done:
        raise done["error"]
    assert done == {"stopped_in": state, "restarted": True}, done


@pytest.mark.slow
@pytest.mark.parametrize("state", ["SNAPSHOTING", "UPLOADING"])
def test_a_brief_frontend_restart_mid_backup_is_ridden_out(emu2, aws_conn, state):
    """The frontend is back at once; the watch's retries (2 s doubling to 30 s: about a minute) outlast any
    restart, so the first attempt itself succeeds: the job resumed from the frontend's journal."""
    label = f"restart_{state.lower()}"
    thread, done = _restarter(emu2, state, back_when=None)
    op = StarRocksBackupOperator(task_id="backup", starrocks_conn_id="sr_restart", repository="rrepo",
                                 database="rdb", snapshot_label=label, deferrable=False, cancel_on_kill=False,
                                 poll_interval=1.0, max_poll_interval=30.0, storage_conn_id=aws_conn)
    result = op.execute(task_context(label))
    _joined(thread, done, state)
    assert result["snapshot_label"] == label
    assert emu2.sql(f"SHOW SNAPSHOT ON rrepo WHERE SNAPSHOT = '{label}'")[0][2] == "OK"
    assert len([q for q in emu2.queries() if q.startswith("BACKUP ") and f"`{label}`" in q]) == 1
    catalog, store = _catalog(aws_conn)
    assert store.unreadable == [] and catalog.get(label).is_good
    count("item2 frontend restarts injected mid-job")
    count("item2 restarts ridden out by the first attempt")


@pytest.mark.slow
def test_a_frontend_away_longer_than_the_watch_fails_clearly_and_the_retry_adopts_the_job(emu2, aws_conn):
    """The frontend comes back only after the first attempt gave up (5 connection errors, about 2 s): that
    attempt fails naming the job, the catalog does not record the snapshot, and Airflow's retry of the same run
    adopts the resumed job (no second BACKUP) and records it."""
    state, label = "UPLOADING", "restart_outlasting"
    attempt_over = threading.Event()
    thread, done = _restarter(emu2, state, back_when=attempt_over)
    try:
        with pytest.raises(JobFailedError, match=rf"^Could not watch backup job {label} of database 'rdb': "
                                                 r"OperationalError: "):
            _op(label, aws_conn).execute(task_context(label))
    finally:
        attempt_over.set()
    _joined(thread, done, state)
    catalog, store = _catalog(aws_conn)
    assert store.unreadable == [] and label not in catalog
    result = _op(label, aws_conn).execute(task_context(label))
    assert result["snapshot_label"] == label
    sent = [q for q in emu2.queries() if q.startswith("BACKUP ") and f"`{label}`" in q]
    assert len(sent) == 1, sent
    catalog, store = _catalog(aws_conn)
    assert catalog.get(label).is_good
    count("item2 frontend restarts injected mid-job")
    count("item2 restarts outlasting the watch, failed clearly, then adopted by the retry")


@pytest.mark.slow
def test_two_runs_on_one_database_never_run_two_jobs_the_second_waits_or_fails_clearly(emu2):
    before = emu2.count("BACKUP ")
    results: dict[str, object] = {}

    def run(name: str, **kwargs):
        try:
            results[name] = _op(f"conc_{name}", **kwargs).execute(task_context(f"conc_{name}"))
        except Exception as exc:  # noqa: BLE001 - checked below
            results[name] = exc

    first = threading.Thread(target=run, args=("a",))
    first.start()
    emu2.wait_state("BACKUP", "rdb", ("PENDING", "SNAPSHOTING", "UPLOAD_SNAPSHOT"), timeout=60)
    waiting = threading.Thread(target=run, args=("b",))
    failing = threading.Thread(target=run, args=("c",), kwargs={"on_busy": "fail"})
    waiting.start()
    failing.start()
    for t in (first, waiting, failing):
        t.join(120)
    assert results["a"]["snapshot_label"] == "conc_a" and results["b"]["snapshot_label"] == "conc_b"
    assert isinstance(results["c"], JobFailedError) and "another job is running" in str(results["c"])
    sent = [q for q in emu2.queries()[:] if q.startswith("BACKUP ")][before:]
    assert sorted(q.split("SNAPSHOT ")[1].split()[0] for q in sent) == ["`conc_a`", "`conc_b`"]
    # the waiting run's snapshot is the later one: it ran after the first job, never beside it
    assert results["a"]["backup_timestamp"] < results["b"]["backup_timestamp"]
    count("item4 concurrent runs on one database", len(results))
    count("item4 runs that waited for the other job, then succeeded",
          sum(1 for r in results.values() if isinstance(r, dict)) - 1)
    count("item4 runs refused clearly (on_busy='fail')",
          sum(1 for r in results.values() if isinstance(r, JobFailedError) and "another job is running" in str(r)))


def test_a_finished_job_hidden_by_the_next_job_on_the_database_is_found_in_the_repository(emu2):
    """SHOW BACKUP shows a database's latest job only: a watcher that looks after the next job was submitted no
    longer sees its own; the snapshot listing decides (the race CI met in the test above)."""
    emu2.sql("BACKUP SNAPSHOT rdb.hidden_a TO rrepo ON (t)")
    emu2.wait_state("BACKUP", "rdb", ("FINISHED",), timeout=60)
    emu2.sql("BACKUP SNAPSHOT rdb.hidden_b TO rrepo ON (t)")
    try:
        assert [row[1] for row in emu2.sql("SHOW BACKUP FROM rdb")] == ["hidden_b"]
        result = _op("hidden_a")._wait_job(task_context("hidden_a"), "hidden_a")
        assert result["snapshot_label"] == "hidden_a" and result["backup_timestamp"]
        with pytest.raises(JobFailedError, match="No backup job 'hidden_never'"):
            _op("hidden_never")._wait_job(task_context("hidden_never"), "hidden_never")
    finally:
        emu2.wait_state("BACKUP", "rdb", ("FINISHED", "CANCELLED"), timeout=60)


@pytest.mark.slow
def test_a_backfill_of_many_dates_on_one_database_serialises(emu2):
    dates = [pendulum.datetime(2024, 3, d, tz="UTC") for d in (1, 2, 3, 4)]
    results: dict[int, object] = {}
    before = emu2.count("BACKUP ")

    def run(i: int, moment):
        try:
            results[i] = _op(None, label_kind="part").execute(task_context(f"backfill__{moment}", moment))
        except Exception as exc:  # noqa: BLE001 - checked below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, m)) for i, m in enumerate(dates)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert all(isinstance(r, dict) for r in results.values()), results
    labels = [r["snapshot_label"] for r in results.values()]
    assert len(set(labels)) == 4
    sent = [q for q in emu2.queries() if q.startswith("BACKUP ")][before:]
    # a submission that raced another one was refused by the frontend (one job per database) and then waited
    assert {q.split("SNAPSHOT ")[1].split()[0].strip("`") for q in sent} == set(labels)
    count("item4 backfill submissions refused busy by the frontend, then waited", len(sent) - 4)
    listed = {row[0]: row[2] for row in emu2.sql("SHOW SNAPSHOT ON rrepo")}
    assert all(listed[label] == "OK" for label in labels)
    count("item4 backfill dates serialised on one database", sum(listed[label] == "OK" for label in labels))
