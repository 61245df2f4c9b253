"""Item 7: every shipped DAG runs with every credential set to a unique marker (the StarRocks password, the S3
access key and secret key). No marker may appear in task logs (everything printed, plus the log folder), XCom,
rendered template fields (the whole Airflow metadata database is searched), catalog files or exception texts."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from urllib.parse import quote

import boto3
import pytest

from tests.support.dags import states
from tests.support.emulators import start_emulator
from tests.support.figures import count
from tests.support.s3 import BUCKET

PASSWORD = f"SRPW{uuid.uuid4().hex[:12]}"
ACCESS_KEY = f"AKIA{uuid.uuid4().hex[:16].upper()}"
SECRET_KEY = f"SECRET{uuid.uuid4().hex}"
MARKERS = (PASSWORD, ACCESS_KEY, SECRET_KEY)


@pytest.fixture(scope="module")
def secret_emu(airflow_db, s3_server):
    emu = start_emulator("sr_secret", s3_server, password=PASSWORD)
    os.environ["AIRFLOW_CONN_SR_SECRET"] = f"starrocks://root:{PASSWORD}@127.0.0.1:{emu.server.port}/"
    extra = json.dumps({"endpoint_url": s3_server.endpoint_url, "region_name": "us-east-1"})
    os.environ["AIRFLOW_CONN_S3_SECRET"] = f"aws://{ACCESS_KEY}:{SECRET_KEY}@/?__extra__={quote(extra)}"
    try:
        emu.sql("CREATE DATABASE sec_db",
                "CREATE TABLE sec_db.t (k INT, d DATE) DUPLICATE KEY(k) PARTITION BY RANGE(d) "
                "(PARTITION p1 VALUES LESS THAN ('2024-02-01'), PARTITION p2 VALUES LESS THAN ('2024-03-01')) "
                "DISTRIBUTED BY HASH(k) BUCKETS 1",
                "INSERT INTO sec_db.t VALUES (1, '2024-01-02'), (2, '2024-02-03')")
        yield emu
    finally:
        emu.server.stop()
        os.environ.pop("AIRFLOW_CONN_SR_SECRET", None)
        os.environ.pop("AIRFLOW_CONN_S3_SECRET", None)


@pytest.fixture(scope="module")
def secret_target(secret_emu, s3_server):
    """A second cluster (the migration's target) with the same password marker."""
    emu = start_emulator("sr_secret_t", s3_server, password=PASSWORD)
    os.environ["AIRFLOW_CONN_SR_SECRET_T"] = f"starrocks://root:{PASSWORD}@127.0.0.1:{emu.server.port}/"
    try:
        yield emu
    finally:
        emu.server.stop()
        os.environ.pop("AIRFLOW_CONN_SR_SECRET_T", None)


CONFIG = f"""
[defaults]
starrocks_conn_id = "sr_secret"
repository = "sec_repo"
location = "s3://{BUCKET}/secrets"
storage_conn_id = "s3_secret"
databases = ["sec_db"]
[sr_migration]
source_conn_id = "sr_secret"
target_conn_id = "sr_secret_t"
max_catch_up_rounds = 1
"""
# Each DAG's run conf; the order matters: the restore and the retention read what the backups wrote.
RUNS = {
    "sr_full_backup": None,
    "sr_incremental_backup": {"mode": "changed"},  # earlier tests in this Airflow home parse other defaults
    "sr_restore": {"database": "sec_db", "target_database": "sec_restored", "verify": "counts",
                   "source_conn_id": "sr_secret"},
    "sr_restore_drill": None,  # sec_db's newest point into sec_db__drill; its record is one of the catalog files
    "sr_retention": {"keep_last": 1, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0, "max_age_days": None,
                     "dry_run": False},
    "sr_migration": {"database": "sec_db", "verify": "checksums"},
}


def _search(where: str, data: bytes | str) -> None:
    blob = data.encode("utf-8", "replace") if isinstance(data, str) else data
    for marker in MARKERS:
        assert marker.encode() not in blob, f"a credential marker leaked into {where}"
    count("item7 places searched for 3 markers")


def _catalog_files(s3_server) -> list[bytes]:
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint_url, aws_access_key_id="x", aws_secret_access_key="y",
                      region_name="us-east-1")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="secrets/__sr_airflow_catalog_").get("Contents", [])
    return [s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed]


@pytest.mark.slow
@pytest.mark.parametrize("dag_id", list(RUNS))
def test_no_credential_reaches_logs_xcom_rendered_fields_catalog_or_errors(secret_emu, secret_target, s3_server,
                                                                           load_shipped, capfd, airflow_db, dag_id):
    if dag_id == "sr_incremental_backup":
        secret_emu.sql("INSERT INTO sec_db.t VALUES (3, '2024-02-04')")  # a change for it to back up
    dag = load_shipped(dag_id, CONFIG)
    dag_run = dag.test(run_conf=RUNS[dag_id])
    result = states(dag_run)
    assert set(result.values()) <= {"success", "skipped"} and "success" in result.values(), result
    out, err = capfd.readouterr()
    assert "sec_repo" in out + err or "sec_db" in out + err  # the task logs were captured
    _search("task logs (stdout/stderr)", out + err)
    for path in Path(airflow_db).rglob("*"):
        if path.is_file():  # the metadata DB (XCom, rendered fields, trigger kwargs) and every log file
            _search(str(path), path.read_bytes())
    files = _catalog_files(s3_server)
    assert files
    if dag_id == "sr_restore_drill":  # the drill record (catalog folder, drills/) is among the files searched
        assert any(b'"scratch_database": "sec_db__drill"' in data and dag_run.run_id.encode() in data
                   for data in files)
    for data in files:
        _search("a catalog file", data)
    # the frontend did receive the keys (CREATE REPOSITORY needs them): the markers are real and were used
    assert any(ACCESS_KEY in q for q in secret_emu.queries())
    if dag_id == "sr_migration":
        assert any(ACCESS_KEY in q for q in secret_target.queries())
        assert secret_target.sql("SELECT count(*) FROM sec_db.t") == secret_emu.sql("SELECT count(*) FROM sec_db.t")
    count("item7 DAG runs with credential markers")


def test_exception_texts_do_not_carry_credentials(secret_emu, s3_server, capfd):
    """A CREATE REPOSITORY the frontend refuses, and a storage call that S3 refuses: the errors name no secret."""
    from sr_airflow.operators.repository import StarRocksCreateRepositoryOperator
    from sr_airflow.storage import get_storage
    from tests.support.task_context import task_context

    op = StarRocksCreateRepositoryOperator(task_id="repo", starrocks_conn_id="sr_secret", repository="sec_bad",
                                           location="s3://no-such-bucket-here/x", storage_conn_id="s3_secret")
    texts = []
    for action in (lambda: op.execute(task_context("sec_err")),
                   lambda: get_storage("s3://no-such-bucket-here/x", conn_id="s3_secret").read("nothing")):
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - the text is what is checked
            texts.append(f"{type(exc).__name__}: {exc!r} {exc}")
    assert texts
    for text in texts:
        _search("an exception text", text)
    out, err = capfd.readouterr()
    _search("logs of the failing calls", out + err)
    count("item7 exception texts checked", len(texts))
