"""Metrics through Airflow's own StatsD client: a full backup and a point-in-time restore through dag.test() on
the emulator and the S3 server, with ``[metrics] statsd_on`` pointed at a UDP socket; the lines carry the numbers
the catalog recorded."""

from __future__ import annotations

import pytest

from sr_airflow.storage import get_storage
from sr_airflow.storage.catalog_store import CatalogStore
from tests.support.dags import states
from tests.support.s3 import BUCKET
from tests.support.seeds import seed_sales

pytestmark = pytest.mark.slow

PREFIX = "airflow.sr_airflow"


def config(emu, aws_conn: str, prefix: str, database: str) -> str:
    return f"""
[defaults]
starrocks_conn_id = "{emu.conn_id}"
repository = "{prefix}_repo"
location = "s3://{BUCKET}/{prefix}"
storage_conn_id = "{aws_conn}"
databases = ["{database}"]
"""


def catalog_entry(aws_conn: str, prefix: str, database: str):
    store = CatalogStore(get_storage(f"s3://{BUCKET}/{prefix}", conn_id=aws_conn), f"{prefix}_repo")
    [entry] = store.load().entries(database, good_only=True)
    return entry


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
    run = restore.test(run_conf={"database": "m_sales", "target_database": "m_sales_copy"})
    assert states(run) == {"create_repository": "success", "restore": "success", "restored": "success",
                           "verify": "success"}
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
