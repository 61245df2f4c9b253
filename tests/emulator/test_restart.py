"""The metastore, rows, repositories, config and the latest jobs survive a restart on the same data directory."""

from __future__ import annotations

import os
import signal

import pytest

from sr_airflow.testing.emulator.process import EmulatorServer
from tests.support.emulator_client import PHASE, as_dicts, repo_sql, run, wait_job
from tests.support.waiting import wait_until


def test_restart_keeps_everything(tmp_path, s3_server, bucket):
    data_dir = tmp_path / "fe"
    with EmulatorServer(data_dir, s3_endpoint=s3_server.endpoint_url, min_phase_seconds=PHASE) as server:
        cur = server.connect().cursor()
        run(cur, repo_sql("keep_repo", bucket))
        run(cur, "CREATE DATABASE keep")
        run(cur, "CREATE TABLE keep.t (d DATETIME NOT NULL, v INT) DUPLICATE KEY(d) "
                 "PARTITION BY date_trunc('month', d) DISTRIBUTED BY HASH(v) BUCKETS 2")
        run(cur, "INSERT INTO keep.t VALUES ('2024-01-05 00:00:00', 1), ('2024-02-05 00:00:00', 2)")
        run(cur, "CREATE VIEW keep.v AS SELECT v FROM keep.t")
        run(cur, "BACKUP DATABASE keep SNAPSHOT before_restart TO keep_repo")
        finished = wait_job(cur, "BACKUP", "keep")
        partitions = run(cur, "SHOW PARTITIONS FROM keep.t")
        # a job still running when the process stops
        run(cur, "ADMIN SET FRONTEND CONFIG ('emulator_min_phase_seconds' = '30', 'emulator_throughput_mbps' = '50')")
        run(cur, "CREATE DATABASE busy")
        run(cur, "CREATE TABLE busy.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
        run(cur, "BACKUP DATABASE busy SNAPSHOT interrupted TO keep_repo")
        assert as_dicts(cur, "SHOW BACKUP FROM busy")[0]["State"] == "PENDING"
    with EmulatorServer(data_dir, s3_endpoint=s3_server.endpoint_url, min_phase_seconds=PHASE) as server:
        cur = server.connect().cursor()
        assert run(cur, "SELECT v FROM keep.t ORDER BY v") == [(1,), (2,)]
        assert run(cur, "SELECT v FROM keep.v ORDER BY v") == [(1,), (2,)]
        assert run(cur, "SHOW PARTITIONS FROM keep.t") == partitions
        assert [r[1] for r in run(cur, "SHOW REPOSITORIES")] == ["keep_repo"]
        assert as_dicts(cur, "SHOW BACKUP FROM keep") == [finished]
        assert run(cur, "SHOW SNAPSHOT ON keep_repo")[0][0] == "before_restart"
        assert run(cur, "ADMIN SHOW FRONTEND CONFIG LIKE 'emulator_throughput_mbps'")[0][2] == "50.0"
        # the job running at the stop carries on (journal replay) once the phases are short again
        run(cur, "ADMIN SET FRONTEND CONFIG ('emulator_min_phase_seconds' = '0.02')")
        job = wait_job(cur, "BACKUP", "busy")
        assert (job["SnapshotName"], job["State"], job["Status"]) == ("interrupted", "FINISHED", "[OK]")
        run(cur, "BACKUP DATABASE busy SNAPSHOT after_restart TO keep_repo")
        assert wait_job(cur, "BACKUP", "busy")["State"] == "FINISHED"
        run(cur, "CREATE TABLE keep.t2 (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
        new_ids = [r[0] for r in run(cur, "SELECT PARTITION_ID FROM information_schema.partitions_meta "
                                          "WHERE TABLE_NAME = 't2'")]
        assert new_ids[0] > max(int(p[0]) for p in partitions)


def _wait_state(cur, kind: str, db: str, state: str, timeout: float = 30.0) -> None:
    def reached() -> bool:
        rows = as_dicts(cur, f"SHOW {kind} FROM {db}")
        return bool(rows) and rows[0]["State"] == state

    wait_until(reached, timeout, f"{kind} of {db} reaching {state}")


def _stop(server: EmulatorServer, sig: int) -> None:
    if sig == signal.SIGKILL:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
    server.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_running_jobs_resume_after_restart(tmp_path, s3_server, bucket, sig):
    data_dir = tmp_path / "fe"
    slow = "ADMIN SET FRONTEND CONFIG ('emulator_slow_state' = '{}', 'emulator_slow_seconds' = '120')"
    server = EmulatorServer(data_dir, s3_endpoint=s3_server.endpoint_url, min_phase_seconds=PHASE).start()
    try:
        cur = server.connect().cursor()
        run(cur, repo_sql("resume_repo", bucket))
        run(cur, "CREATE DATABASE res")
        run(cur, "CREATE TABLE res.t (d DATE NOT NULL, v INT) DUPLICATE KEY(d) PARTITION BY RANGE(d) ("
                 "PARTITION p1 VALUES LESS THAN ('2024-02-01'), PARTITION p2 VALUES LESS THAN ('2024-03-01')) "
                 "DISTRIBUTED BY HASH(v) BUCKETS 2")
        run(cur, "INSERT INTO res.t VALUES ('2024-01-05', 1), ('2024-02-05', 2), ('2024-02-06', 3)")
        rows = run(cur, "SELECT d, v FROM res.t ORDER BY v")
        run(cur, slow.format("UPLOADING"))  # faults are not persisted: the restarted process runs at full speed
        run(cur, "BACKUP DATABASE res SNAPSHOT mid_upload TO resume_repo")
        _wait_state(cur, "BACKUP", "res", "UPLOADING")
        run(cur, "INSERT INTO res.t VALUES ('2024-01-09', 4)")  # after SNAPSHOTING: not in the snapshot
    finally:
        _stop(server, sig)
    server = EmulatorServer(data_dir, s3_endpoint=s3_server.endpoint_url, min_phase_seconds=PHASE).start()
    try:
        cur = server.connect().cursor()
        job = wait_job(cur, "BACKUP", "res")
        assert (job["SnapshotName"], job["State"], job["Status"]) == ("mid_upload", "FINISHED", "[OK]")
        stamp = as_dicts(cur, "SHOW SNAPSHOT ON resume_repo WHERE SNAPSHOT = 'mid_upload'")[0]["Timestamp"]
        restore = (f"RESTORE SNAPSHOT mid_upload FROM resume_repo DATABASE res AS res_copy "
                   f"PROPERTIES ('backup_timestamp' = '{stamp}')")
        if sig == signal.SIGTERM:
            run(cur, restore)
            assert wait_job(cur, "RESTORE", "res_copy")["State"] == "FINISHED"
            assert run(cur, "SELECT d, v FROM res_copy.t ORDER BY v") == rows
            return
        # a restore stopped mid-DOWNLOADING carries on too
        run(cur, slow.format("DOWNLOADING"))
        run(cur, restore)
        _wait_state(cur, "RESTORE", "res_copy", "DOWNLOADING")
    finally:
        _stop(server, sig)
    with EmulatorServer(data_dir, s3_endpoint=s3_server.endpoint_url, min_phase_seconds=PHASE) as server:
        cur = server.connect().cursor()
        job = wait_job(cur, "RESTORE", "res_copy")
        assert (job["State"], job["Status"]) == ("FINISHED", "[OK]"), job
        assert run(cur, "SELECT d, v FROM res_copy.t ORDER BY v") == rows


def test_tables_and_loads_are_journaled_not_rewritten(tmp_path, s3_server):
    """CREATE DATABASE / CREATE TABLE / INSERT append to the journal (the metastore document is not rewritten per
    statement) and survive SIGKILL, even with a half-written last journal line."""
    data_dir = tmp_path / "fe"
    server = EmulatorServer(data_dir, s3_endpoint=s3_server.endpoint_url, min_phase_seconds=PHASE).start()
    try:
        cur = server.connect().cursor()
        run(cur, "CREATE DATABASE jr")
        run(cur, "CREATE TABLE jr.t0 (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
        snapshot = (data_dir / "metastore.json").read_bytes()
        for index in range(1, 30):
            run(cur, f"CREATE TABLE jr.t{index} (k INT, v VARCHAR(8)) DUPLICATE KEY(k) PARTITION BY RANGE(k) ("
                     "PARTITION p1 VALUES LESS THAN ('10'), PARTITION p2 VALUES LESS THAN ('20')) "
                     "DISTRIBUTED BY HASH(k) BUCKETS 2")
        run(cur, "INSERT INTO jr.t7 VALUES (1, 'a'), (15, 'b')")
        run(cur, "INSERT INTO jr.t7 VALUES (16, 'c')")
        run(cur, "CREATE DATABASE jr2")
        assert (data_dir / "metastore.json").read_bytes() == snapshot
        tables = run(cur, "SHOW TABLES FROM jr")
        partitions = run(cur, "SHOW PARTITIONS FROM jr.t7")
        assert [(p[1], p[2]) for p in partitions] == [("p1", "2"), ("p2", "3")]
    finally:
        _stop(server, signal.SIGKILL)
    with open(data_dir / "metastore.journal", "a", encoding="utf-8") as journal:
        journal.write('{"generation": 1, "op": "table", "db": "jr", "tab')  # killed in the middle of a line
    for _ in range(2):  # after SIGKILL (journal replay), then after a clean stop (a fresh snapshot)
        with EmulatorServer(data_dir, s3_endpoint=s3_server.endpoint_url, min_phase_seconds=PHASE) as server:
            cur = server.connect().cursor()
            assert [r for r in run(cur, "SHOW TABLES FROM jr") if r[0] != "later"] == tables
            assert run(cur, "SHOW PARTITIONS FROM jr.t7") == partitions
            assert run(cur, "SELECT k, v FROM jr.t7 ORDER BY k") == [(1, "a"), (15, "b"), (16, "c")]
            assert "jr2" in [r[0] for r in run(cur, "SHOW DATABASES")]
            run(cur, "CREATE TABLE IF NOT EXISTS jr.later (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
            ids = [int(r[0]) for r in run(cur, "SHOW PARTITIONS FROM jr.later")]
            assert ids[0] > max(int(p[0]) for p in partitions)
