"""StarRocksBackupOperator through dag.test() against an emulator process and an S3 server process."""

from __future__ import annotations

import contextlib
import threading

import pendulum
import pytest

from tests.operators.dags import sr_operator_test_dags as dags
from tests.support.dags import run_dag
from tests.support.s3 import BUCKET, S3_KEY, S3_SECRET


@pytest.fixture(scope="module")
def sales(sales_db, s3_server):
    emulator = sales_db
    emulator.create_repository("repo_b", s3_server, "backup-tests")
    return emulator


@pytest.mark.parametrize("dag", [dags.backup_poke, dags.backup_deferred], ids=["poke", "deferrable"])
def test_backup_succeeds_and_reports_the_snapshot(sales, dag):
    before = sales.count("BACKUP")
    states, _ = run_dag(dag)
    assert states == {"backup": "success", "collect": "success"}
    result = dags.RESULTS[dag.dag_id]
    assert result["snapshot_label"].startswith("full_sales_")
    assert result["backup_timestamp"]
    assert set(result["phase_seconds"]) >= {"snapshot", "upload", "total"}
    assert sales.count("BACKUP") == before + 1
    rows = sales.sql(f"SHOW SNAPSHOT ON repo_b WHERE SNAPSHOT = '{result['snapshot_label']}'")
    assert rows[0][2] == "OK"


def _running_backups(emu) -> int:
    return sum(1 for q in emu.queries() if q.upper().startswith("BACKUP"))


def test_a_retry_finds_its_own_running_job_instead_of_submitting_a_second(sales):
    before = _running_backups(sales)
    states, dag_run = run_dag(dags.backup_retry)
    assert states["backup"] == "success"
    ti = next(t for t in dag_run.get_task_instances() if t.task_id == "backup")
    assert ti.try_number > 1  # the first attempt gave up, a later one found the job
    assert _running_backups(sales) == before + 1
    assert not dags.RESULTS["backup_retry"]["snapshot_label"].endswith("_r1")


def test_running_the_same_dag_run_again_reports_the_finished_snapshot(sales):
    moment = pendulum.datetime(2024, 5, 1, tz="UTC")
    dags.backup_fixed_run.test(run_after=moment, logical_date=moment)
    first = dags.RESULTS["backup_fixed_run"]
    before = _running_backups(sales)
    dag_run = dags.backup_fixed_run.test(run_after=moment, logical_date=moment)
    assert {t.task_id: str(t.state) for t in dag_run.get_task_instances()}["backup"] == "success"
    assert _running_backups(sales) == before
    assert dags.RESULTS["backup_fixed_run"]["snapshot_label"] == first["snapshot_label"]
    assert first["snapshot_label"].startswith("full_sales_20240501T000000_")


def _cancel_when(emu, state: str) -> threading.Thread:
    def cancel():
        emu.wait_state("BACKUP", "sales", (state,))
        emu.sql("CANCEL BACKUP FROM sales")

    thread = threading.Thread(target=cancel, daemon=True)
    thread.start()
    return thread


def test_a_job_cancelled_in_uploading_fails_the_task(sales, capsys):
    with sales.slow_jobs(0.6):
        thread = _cancel_when(sales, "UPLOADING")
        states, _ = run_dag(dags.backup_cancel_fails)
        thread.join(5)
    assert states["backup"] == "failed"
    assert sales.sql("SHOW BACKUP FROM sales")[-1][3] == "CANCELLED"
    assert "is CANCELLED with status [COMMON_ERROR, msg: user cancelled]" in capsys.readouterr().out


def test_a_retry_after_a_cancelled_job_submits_the_next_generation_label(sales):
    before = _running_backups(sales)
    with sales.slow_jobs(0.6):
        thread = _cancel_when(sales, "SNAPSHOTING")
        states, _ = run_dag(dags.backup_cancel_retry)
        thread.join(5)
    assert states["backup"] == "success"
    label = dags.RESULTS["backup_cancel_retry"]["snapshot_label"]
    assert label.endswith("_r1")
    assert _running_backups(sales) == before + 2
    listed = {row[0]: row[2] for row in sales.sql("SHOW SNAPSHOT ON repo_b")}
    assert listed[label] == "OK"
    assert listed.get(label[:-3], "not listed") in ("ERROR: no snapshot", "not listed")


@contextlib.contextmanager
def _other_job(emu, label: str, phase_seconds: float):
    """Another BACKUP of sales runs (its phases slowed down) while the block runs."""
    with emu.slow_jobs(phase_seconds):
        emu.sql(f"BACKUP DATABASE sales SNAPSHOT {label} TO repo_b")
        yield


def test_on_busy_fail_refuses_while_another_job_runs(sales, capsys):
    before = _running_backups(sales) + 1
    with _other_job(sales, "someone_elses_backup_1", 3.0):
        states, _ = run_dag(dags.backup_busy_fail)
    assert states["backup"] == "failed"
    assert _running_backups(sales) == before
    assert "refused: another job is running" in capsys.readouterr().out
    sales.wait_state("BACKUP", "sales", ("FINISHED",))


def test_on_busy_wait_waits_for_the_other_job_then_backs_up(sales):
    before = _running_backups(sales) + 1
    with _other_job(sales, "someone_elses_backup_2", 0.8):
        states, _ = run_dag(dags.backup_busy_wait)
    assert states["backup"] == "success"
    assert _running_backups(sales) == before + 1
    listed = {row[0]: row[2] for row in sales.sql("SHOW SNAPSHOT ON repo_b")}
    assert listed["someone_elses_backup_2"] == "OK"
    assert listed[dags.RESULTS["backup_busy_wait"]["snapshot_label"]] == "OK"


def test_the_catalog_entry_is_written_with_the_snapshot_versions(sales, aws_conn, s3_server):
    states, _ = run_dag(dags.backup_catalog)
    assert states["backup"] == "success"
    result = dags.RESULTS["backup_catalog"]
    live = {(t, p): v for t, p, v in sales.sql("SELECT TABLE_NAME, PARTITION_NAME, VISIBLE_VERSION FROM "
                                               "information_schema.partitions_meta WHERE DB_NAME = 'sales'")}
    import boto3

    from sr_airflow.storage import get_storage
    from sr_airflow.storage.catalog_store import CatalogStore

    # the size is what the snapshot's folder holds, listed with boto3 (not the product's storage code)
    pages = boto3.client("s3", endpoint_url=s3_server.endpoint_url, aws_access_key_id=S3_KEY,
                         aws_secret_access_key=S3_SECRET, region_name="us-east-1").get_paginator(
        "list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"backup-tests/__starrocks_repository_repo_b/"
                                                          f"__ss_{result['snapshot_label']}/")
    assert result["size_bytes"] == sum(o["Size"] for page in pages for o in page.get("Contents", [])) > 0
    storage = get_storage(f"s3://{BUCKET}/backup-tests", endpoint=s3_server.endpoint_url,
                          aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET, region_name="us-east-1")
    entry = CatalogStore(storage, "repo_b").get(result["snapshot_label"])
    assert entry.backup_timestamp == result["backup_timestamp"]
    held = {(p.table, p.partition): p.version for p in entry.partitions}
    # every partition of orders, each at the version the table shows (nothing was written since the backup)
    assert {k for k in held if k[0] == "orders"} == {k for k in live if k[0] == "orders"} == {("orders", "p1"),
                                                                                              ("orders", "p2")}
    assert {k: held[k] for k in held} == {k: live[k] for k in held}


def test_retention_keeps_the_newest_catalogued_snapshot_and_deletes_the_older(sales, aws_conn):
    first = dags.RESULTS["backup_catalog"]["snapshot_label"]
    states, _ = run_dag(dags.backup_catalog)
    second = dags.RESULTS["backup_catalog"]["snapshot_label"]
    assert states["backup"] == "success" and second != first

    states, _ = run_dag(dags.retention_dry)
    assert states["retention"] == "success"
    plan = dags.RESULTS["retention_dry"]
    assert plan["keep"] == [second] and plan["delete"] == [first] and plan["deleted"] == []
    assert first in {row[0] for row in sales.sql("SHOW SNAPSHOT ON repo_b")}

    states, _ = run_dag(dags.retention_apply)
    assert states["retention"] == "success"
    assert dags.RESULTS["retention_apply"]["deleted"] == [first]
    listed = {row[0]: row[2] for row in sales.sql("SHOW SNAPSHOT ON repo_b")}
    assert first not in listed and listed[second] == "OK"
