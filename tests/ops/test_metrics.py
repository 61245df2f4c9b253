"""Metrics through Airflow's own StatsD client: a full backup, a point-in-time restore and a restore of one snapshot
through dag.test() on the emulator and the S3 server, with ``[metrics] statsd_on`` pointed at a UDP socket; the
lines carry the numbers the catalog recorded and the RESTORE jobs' phases as SHOW RESTORE reports them."""

from __future__ import annotations

import textwrap
from datetime import datetime

import pytest

from sr_airflow.storage import get_storage
from sr_airflow.storage.catalog_store import CatalogStore
from tests.support.dags import states
from tests.support.s3 import BUCKET
from tests.support.seeds import defaults_config as config
from tests.support.seeds import seed_sales

pytestmark = pytest.mark.slow

PREFIX = "airflow.sr_airflow"
# A RESTORE job's phases: the SHOW RESTORE times that start and end each (StarRocks' RestoreJob.getInfo order).
RESTORE_PHASES = {"prepare_meta": ("CreateTime", "MetaPreparedTime"),
                  "snapshot": ("MetaPreparedTime", "SnapshotFinishedTime"),
                  "download": ("SnapshotFinishedTime", "DownloadFinishedTime"),
                  "commit": ("DownloadFinishedTime", "FinishedTime"),
                  "total": ("CreateTime", "FinishedTime")}
SLOW_PHASE = 1.0  # every RESTORE phase lasts a second or more: its whole-second SHOW times differ by 1 or more


def catalog_entry(aws_conn: str, prefix: str, database: str):
    store = CatalogStore(get_storage(f"s3://{BUCKET}/{prefix}", conn_id=aws_conn), f"{prefix}_repo")
    [entry] = store.load().entries(database, good_only=True)
    return entry


def show_restore_seconds(emu, database: str) -> dict[str, float]:
    """Each phase's seconds of the database's RESTORE job, read from SHOW RESTORE over the MySQL protocol."""
    conn = emu.server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"SHOW RESTORE FROM {database}")
            columns = [d[0] for d in cur.description]
            [row] = [dict(zip(columns, r, strict=True)) for r in cur.fetchall()]
    finally:
        conn.close()
    assert row["State"] == "FINISHED"
    at = {name: datetime.strptime(row[name], "%Y-%m-%d %H:%M:%S") for pair in RESTORE_PHASES.values() for name in pair}
    return {phase: (at[end] - at[start]).total_seconds() for phase, (start, end) in RESTORE_PHASES.items()}


def assert_restore_phases(statsd, database: str, expected: dict[str, float]) -> None:
    assert all(seconds > 0 for seconds in expected.values()), expected
    for phase, seconds in expected.items():
        [(millis, kind)] = statsd.values(f"{PREFIX}.restore.duration.{phase}.{database}")
        assert kind == "ms" and millis == pytest.approx(seconds * 1000, abs=0.001), phase
    tagged = sorted(v for v, _ in statsd.values(f"{PREFIX}.restore.duration"))
    assert tagged == pytest.approx(sorted(s * 1000 for s in expected.values()), abs=0.001)


def drain(statsd) -> None:
    statsd.receive()
    statsd.lines.clear()


def snapshot_restore_dag(tmp_path, monkeypatch, **arguments):
    """A DAG of one StarRocksRestoreOperator (the single-snapshot path), written to a DAG folder of its own: Airflow
    3.3 runs only DAGs that live in a bundle."""
    import runpy

    import airflow.settings

    folder = tmp_path / "snapshot_restore_dags"
    folder.mkdir()
    path = folder / "metrics_snapshot_restore.py"
    path.write_text(textwrap.dedent(f"""
        import pendulum
        from airflow.sdk import DAG

        from sr_airflow.operators.restore import StarRocksRestoreOperator

        with DAG("metrics_snapshot_restore", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
                 catchup=False) as dag:
            StarRocksRestoreOperator(task_id="restore", deferrable=False, poll_interval=0.2, max_poll_interval=0.5,
                                     **{arguments!r})
        """))
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(folder))
    monkeypatch.setattr(airflow.settings, "DAGS_FOLDER", str(folder))
    return runpy.run_path(str(path))["dag"]


def test_backup_and_restore_send_the_catalogs_numbers(emulator, aws_conn, load_dag, statsd):
    seed_sales(emulator, "m_sales")
    backup = load_dag("sr_full_backup", config(emulator, aws_conn, "metrics", "m_sales"))
    assert states(backup.test())["backup[0]"] == "success"
    entry = catalog_entry(aws_conn, "metrics", "m_sales")

    assert entry.snapshot_bytes > 0
    assert statsd.values(f"{PREFIX}.backup.bytes") == [(entry.snapshot_bytes, "g")]
    assert statsd.values(f"{PREFIX}.backup.bytes.m_sales") == [(entry.snapshot_bytes, "g")]
    assert set(entry.phase_seconds) >= {"snapshot", "upload", "total"}
    for phase, seconds in entry.phase_seconds.items():
        [(millis, kind)] = statsd.values(f"{PREFIX}.backup.duration.{phase}.m_sales")
        assert kind == "ms" and millis == pytest.approx(seconds * 1000, abs=0.001)
    [(age, kind)] = statsd.values(f"{PREFIX}.snapshot.age.m_sales")
    assert kind == "g" and 0 <= age < 120

    restore = load_dag("sr_restore", config(emulator, aws_conn, "metrics", "m_sales"))
    with emulator.slow_jobs(SLOW_PHASE):
        run = restore.test(run_conf={"database": "m_sales", "target_database": "m_sales_copy"})
    assert states(run) == {"create_repository": "success", "restore": "success", "restored": "success",
                           "verify": "success", "apply_access": "success"}
    restored = sum(p.data_size for p in entry.partitions)
    assert restored > 0
    assert statsd.values(f"{PREFIX}.restore.count.m_sales") == [(1, "c")]
    assert statsd.values(f"{PREFIX}.restore.jobs.m_sales") == [(1, "c")]  # one full: one RESTORE job
    assert statsd.values(f"{PREFIX}.restore.bytes.m_sales") == [(restored, "c")]
    assert statsd.values(f"{PREFIX}.restore.bytes") == [(restored, "c")]
    assert statsd.values(f"{PREFIX}.verify.success.m_sales_copy") == [(1, "c")]
    assert statsd.values(f"{PREFIX}.verify.failure.m_sales_copy") == []
    assert statsd.values(f"{PREFIX}.verify.mismatches.m_sales_copy") == [(0, "g")]
    assert statsd.values(f"{PREFIX}.verify.partitions.m_sales_copy") == [(len(entry.partitions), "g")]
    assert_restore_phases(statsd, "m_sales", show_restore_seconds(emulator, "m_sales_copy"))


def test_a_restore_of_one_snapshot_sends_the_restore_metrics(emulator, aws_conn, load_dag, statsd, tmp_path,
                                                              monkeypatch):
    seed_sales(emulator, "m_one")
    backup = load_dag("sr_full_backup", config(emulator, aws_conn, "metrics_one", "m_one"))
    assert states(backup.test())["backup[0]"] == "success"
    entry = catalog_entry(aws_conn, "metrics_one", "m_one")
    drain(statsd)

    dag = snapshot_restore_dag(tmp_path, monkeypatch, starrocks_conn_id=emulator.conn_id,
                               repository="metrics_one_repo", snapshot_label=entry.label, database="m_one",
                               target_database="m_one_copy", storage_conn_id=aws_conn)
    with emulator.slow_jobs(SLOW_PHASE):
        assert states(dag.test()) == {"restore": "success"}
    restored = sum(p.data_size for p in entry.partitions)
    assert restored > 0
    assert statsd.values(f"{PREFIX}.restore.count.m_one") == [(1, "c")]
    assert statsd.values(f"{PREFIX}.restore.jobs.m_one") == [(1, "c")]
    assert statsd.values(f"{PREFIX}.restore.bytes.m_one") == [(restored, "c")]
    assert_restore_phases(statsd, "m_one", show_restore_seconds(emulator, "m_one_copy"))
