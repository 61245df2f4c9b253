"""Faults on demand (ADMIN SET FRONTEND CONFIG ("emulator_..." = ...)), each seen through PyMySQL and the query log."""

from __future__ import annotations

import time

import pymysql
import pytest

from tests.support.emulator_client import as_dicts, repo_sql, run, wait_job
from tests.support.emulator_client import start_server as start_emulator
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def fe(tmp_path_factory, s3_server):
    server = start_emulator(tmp_path_factory, s3_server)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fcur(fe, s3_client):
    s3_client.create_bucket(Bucket="faults-bkt")
    conn = fe.connect()
    cursor = conn.cursor()
    run(cursor, repo_sql("faults_repo", "faults-bkt"))
    run(cursor, "CREATE DATABASE fdb")
    run(cursor, "CREATE TABLE fdb.t (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
    run(cursor, "INSERT INTO fdb.t VALUES (1, 1), (2, 2), (3, 3)")
    yield cursor
    conn.close()


def _faults(fe, name: str) -> list[dict]:
    return [f for f in fe.logged_faults() if f["fault"] == name]


def test_fail_next_job_at_state_with_status(fe, fcur):
    run(fcur, 'ADMIN SET FRONTEND CONFIG ("emulator_fail_next_job_at" = "UPLOADING", '
              '"emulator_fail_status" = "[COMMON_ERROR, msg: injected]")')
    run(fcur, "BACKUP DATABASE fdb SNAPSHOT failed_one TO faults_repo")
    job = wait_job(fcur, "BACKUP", "fdb")
    assert (job["State"], job["Status"]) == ("CANCELLED", "[COMMON_ERROR, msg: injected]")
    assert job["SnapshotFinishedTime"] is not None and job["UploadFinishedTime"] is None
    (fault,) = _faults(fe, "fail_job")
    assert fault["connection"] is None and fault["state"] == "UPLOADING" and fault["label"] == "failed_one"
    assert "statement" not in fault
    # one-shot: the next job runs normally; statements are still logged as before
    run(fcur, "BACKUP DATABASE fdb SNAPSHOT after_fail TO faults_repo")
    assert wait_job(fcur, "BACKUP", "fdb")["State"] == "FINISHED"
    assert "BACKUP DATABASE fdb SNAPSHOT after_fail TO faults_repo" in fe.logged_statements()


def test_fail_a_named_database_restore(fe, fcur):
    run(fcur, "CREATE DATABASE IF NOT EXISTS fother")
    run(fcur, 'ADMIN SET FRONTEND CONFIG ("emulator_fault_database" = "fdb_restored", '
              '"emulator_fail_next_job_at" = "DOWNLOADING", "emulator_fail_status" = "[BAD_FILE, msg: broken]")')
    run(fcur, "CREATE TABLE fother.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    run(fcur, "BACKUP DATABASE fother SNAPSHOT other_ok TO faults_repo")  # another database: not affected
    assert wait_job(fcur, "BACKUP", "fother")["State"] == "FINISHED"
    snapshot = as_dicts(fcur, "SHOW SNAPSHOT ON faults_repo WHERE SNAPSHOT = 'after_fail'")[0]
    run(fcur, f"RESTORE SNAPSHOT after_fail FROM faults_repo DATABASE fdb AS fdb_restored "
              f"PROPERTIES ('backup_timestamp' = '{snapshot['Timestamp']}')")
    job = wait_job(fcur, "RESTORE", "fdb_restored")
    assert (job["State"], job["Status"]) == ("CANCELLED", "[BAD_FILE, msg: broken]")
    assert run(fcur, "SHOW TABLES FROM fdb_restored") == []  # the cancelled restore dropped what it created


def test_slow_state(fe, fcur):
    run(fcur, 'ADMIN SET FRONTEND CONFIG ("emulator_slow_state" = "UPLOADING", "emulator_slow_seconds" = "1.5")')
    try:
        started = time.monotonic()
        run(fcur, "BACKUP DATABASE fdb SNAPSHOT slow_one TO faults_repo")
        wait_until(lambda: as_dicts(fcur, "SHOW BACKUP FROM fdb")[0]["State"] == "UPLOADING", 1.4,
                   "the backup reaching its slowed state UPLOADING")
        assert wait_job(fcur, "BACKUP", "fdb")["State"] == "FINISHED"
        assert time.monotonic() - started >= 1.5
    finally:
        run(fcur, 'ADMIN SET FRONTEND CONFIG ("emulator_slow_state" = "", "emulator_slow_seconds" = "0")')
    assert _faults(fe, "slow_state")[-1]["seconds"] == 1.5


def test_job_timeout_next_backup_and_restore(fe, fcur):
    run(fcur, 'ADMIN SET FRONTEND CONFIG ("emulator_job_timeout_next" = "true")')
    run(fcur, "BACKUP DATABASE fdb SNAPSHOT timed_out TO faults_repo")
    job = wait_job(fcur, "BACKUP", "fdb")
    assert (job["State"], job["Status"]) == ("CANCELLED", "[TIMEOUT, msg: ]")
    snapshot = as_dicts(fcur, "SHOW SNAPSHOT ON faults_repo WHERE SNAPSHOT = 'after_fail'")[0]
    run(fcur, 'ADMIN SET FRONTEND CONFIG ("emulator_job_timeout_next" = "true")')
    run(fcur, f"RESTORE SNAPSHOT after_fail FROM faults_repo DATABASE fdb AS fdb_timeout "
              f"PROPERTIES ('backup_timestamp' = '{snapshot['Timestamp']}')")
    job = wait_job(fcur, "RESTORE", "fdb_timeout")
    assert (job["State"], job["Status"]) == (
        "CANCELLED", "[TIMEOUT, msg: restore job with label: after_fail  timeout.]")
    assert len(_faults(fe, "job_timeout")) == 2


def test_drop_connections(fe, fcur):
    run(fcur, 'ADMIN SET FRONTEND CONFIG ("emulator_drop_connections" = "2")')
    for _ in range(2):
        conn = fe.connect()
        with pytest.raises(pymysql.err.OperationalError, match=r"^\(2013, 'Lost connection to MySQL server during "
                                                             r"query") as failure:
            conn.cursor().execute("SELECT 1")
        assert failure.value.args[0] == 2013
    conn = fe.connect()
    assert run(conn.cursor(), "SELECT 1") == [(1,)]
    conn.close()
    assert [f["statement_text"] for f in _faults(fe, "drop_connection")] == ["SELECT 1", "SELECT 1"]
    assert all(isinstance(f["connection"], int) for f in _faults(fe, "drop_connection"))


def test_refuse_connections(fe, fcur):
    run(fcur, 'ADMIN SET FRONTEND CONFIG ("emulator_refuse_connections_seconds" = "1")')
    started = time.monotonic()
    with pytest.raises(pymysql.err.OperationalError, match=r"^\(2013, 'Lost connection to MySQL server during "
                                                         r"query"):
        fe.connect()
    assert run(fcur, "SELECT 1") == [(1,)]  # an open connection keeps working
    conn = wait_until(fe.connect, 10, "a new connection accepted after the refusal window", interval=0.1,
                      ignore=(pymysql.err.OperationalError,))
    assert time.monotonic() - started >= 0.9  # refused for the configured second (0.1 s for timer granularity)
    assert run(conn.cursor(), "SELECT 1") == [(1,)]
    conn.close()
    refused = _faults(fe, "refuse_connection")
    assert refused and refused[0]["connection"] is None


def test_bad_fault_values_are_errors(fcur):
    with pytest.raises(pymysql.MySQLError, match="not a job state"):
        fcur.execute('ADMIN SET FRONTEND CONFIG ("emulator_fail_next_job_at" = "NOWHERE")')
    rows = {r[0]: r[2] for r in run(fcur, "ADMIN SHOW FRONTEND CONFIG LIKE 'emulator%'")}
    assert rows["emulator_fail_next_job_at"] == "" and rows["emulator_drop_connections"] == "0"
