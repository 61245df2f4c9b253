"""Item 3: the frontend drops or refuses connections while a backup is being watched (a TCP proxy between the
operator and the emulator: connections reset, then the port closed). Short faults are retried with backoff; a
lasting one ends in one clear error after a bounded number of tries; the job keeps its run-derived label, so the
retry adopts it instead of submitting a second one (no orphan)."""

from __future__ import annotations

import os
import threading
import time

import pytest
import structlog.testing

from sr_airflow.engine.errors import JobFailedError
from sr_airflow.operators.backup import StarRocksBackupOperator
from tests.support.emulators import start_emulator
from tests.support.figures import count
from tests.support.task_context import task_context
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture(scope="module")
def net(airflow_db, s3_server):
    emu = start_emulator("sr_direct", s3_server, min_phase_seconds=0.5)
    proxy = TcpProxy(emu.server.port).start()
    os.environ["AIRFLOW_CONN_SR_PROXY"] = f"starrocks://root:@127.0.0.1:{proxy.port}/"
    try:
        emu.sql("CREATE DATABASE ndb",
                "CREATE TABLE ndb.t (id INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1",
                "INSERT INTO ndb.t VALUES (1)")
        emu.create_repository("nrepo", s3_server, "connection-faults")
        yield emu, proxy
    finally:
        proxy.stop()
        emu.server.stop()
        os.environ.pop("AIRFLOW_CONN_SR_PROXY", None)


def _operator(label: str) -> StarRocksBackupOperator:
    return StarRocksBackupOperator(task_id="backup", starrocks_conn_id="sr_proxy", repository="nrepo",
                                   database="ndb", snapshot_label=label, deferrable=False, cancel_on_kill=False,
                                   poll_interval=0.05, max_poll_interval=0.4)


def _when(emu, states: tuple[str, ...], action) -> threading.Thread:
    def run():
        emu.wait_state("BACKUP", "ndb", states, timeout=60)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _backups(emu, label: str) -> int:
    return sum(1 for q in emu.queries() if q.startswith("BACKUP ") and f"`{label}`" in q)


def _backup_labels(queries: list[str]) -> set[str]:
    """The labels of the BACKUP statements in ``queries`` (each one started a job: the frontend took them all)."""
    return {q.split(" SNAPSHOT ")[1].split()[0].strip("`") for q in queries if q.startswith("BACKUP ")}


def test_dropped_connections_while_watching_are_retried_and_the_backup_succeeds(net):
    emu, proxy = net
    resets: list[int] = []

    def flap():
        before = proxy.dropped
        proxy.drop_new = True
        proxy.drop()
        time.sleep(1.5)  # the behaviour under test: every poll in this window is reset by the "frontend"
        proxy.drop_new = False
        resets.append(proxy.dropped - before)

    thread = _when(emu, ("SNAPSHOTING", "UPLOAD_SNAPSHOT", "UPLOADING"), flap)
    with structlog.testing.capture_logs() as logs:  # the operator logs through Airflow's structlog loggers
        result = _operator("net_flap").execute(task_context("net_flap"))
    thread.join(10)
    assert result["snapshot_label"] == "net_flap"
    assert _backups(emu, "net_flap") == 1
    # each connection reset by the proxy is one connection error the watch met and retried
    errors = [e["event"] for e in logs if str(e.get("event", "")).startswith("Connection error ")]
    assert resets and resets[0] >= 1 and len(errors) == resets[0], (resets, errors)
    count("item3 connection faults injected (connections reset)", resets[0])
    count("item3 watches that survived dropped connections", 1)


def test_a_frontend_that_stays_unreachable_fails_clearly_and_the_retry_adopts_the_job(net):
    emu, proxy = net
    first = len(emu.queries())
    thread = _when(emu, ("UPLOAD_SNAPSHOT", "UPLOADING"), proxy.refuse)
    started = time.monotonic()
    with pytest.raises(JobFailedError, match=r"Could not watch backup job net_down of database 'ndb'.*"
                                             r"(?i:connect|refused|lost)"):
        _operator("net_down").execute(task_context("net_down"))
    elapsed = time.monotonic() - started
    thread.join(10)
    assert elapsed < 30  # bounded
    assert _backups(emu, "net_down") == 1
    # the job runs on; when the frontend is reachable again, the retry of the same run adopts it
    proxy.start()
    result = _operator("net_down").execute(task_context("net_down"))
    # orphans: jobs the frontend started in this test that no attempt's result took as its own
    started_jobs = _backup_labels(emu.queries()[first:])
    orphans = started_jobs - {result["snapshot_label"]}
    assert orphans == set(), f"jobs started that no attempt adopted: {sorted(orphans)}"
    assert result["snapshot_label"] == "net_down" and started_jobs == {"net_down"}
    assert _backups(emu, "net_down") == 1
    count("item3 lasting outages ending in one clear error", 1)
    count("item3 orphaned jobs (must be 0)", len(orphans))


def test_the_backoff_between_connection_retries_grows_and_is_bounded(net):
    from sr_airflow.engine.jobwatch import Backoff, JobWatch, wait_sync
    from sr_airflow.hooks.starrocks import StarRocksHook

    emu, proxy = net
    proxy.refuse()
    sleeps: list[float] = []

    class Log:
        def warning(self, *args):
            pass

        info = warning

    try:
        event = wait_sync(StarRocksHook(starrocks_conn_id="sr_proxy"), JobWatch(job_type="backup", database="ndb",
                          label="whatever"), Backoff(0.05, 0.4), Log(), sleep=sleeps.append)
    finally:
        proxy.start()
    assert event["status"] == "error" and "Could not watch backup job whatever of database 'ndb'" in event["message"]
    assert len(sleeps) == 5  # max_connection_errors
    assert sleeps == sorted(sleeps) and sleeps[0] < sleeps[-1] <= 0.4
    count("item3 connection faults injected (refused)", len(sleeps) + 1)
