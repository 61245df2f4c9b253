"""The catalog, rows, repositories, config and the latest jobs survive a restart on the same data directory."""

from __future__ import annotations

from sr_airflow.testing.emulator.process import EmulatorServer

from .conftest import PHASE, as_dicts, repo_sql, run, wait_job


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
        job = as_dicts(cur, "SHOW BACKUP FROM busy")[0]
        assert (job["SnapshotName"], job["State"]) == ("interrupted", "CANCELLED")
        assert job["Status"] == "[COMMON_ERROR, msg: the emulator restarted while the job was running]"
        run(cur, "ADMIN SET FRONTEND CONFIG ('emulator_min_phase_seconds' = '0.02')")
        run(cur, "BACKUP DATABASE busy SNAPSHOT after_restart TO keep_repo")
        assert wait_job(cur, "BACKUP", "busy")["State"] == "FINISHED"
        run(cur, "CREATE TABLE keep.t2 (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
        new_ids = [r[0] for r in run(cur, "SELECT PARTITION_ID FROM information_schema.partitions_meta "
                                          "WHERE TABLE_NAME = 't2'")]
        assert new_ids[0] > max(int(p[0]) for p in partitions)
