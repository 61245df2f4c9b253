"""sr_full_backup through dag.test() against an emulator process and an S3 server process."""

from __future__ import annotations

import boto3
import pytest

from tests.support.dags import states
from tests.support.s3 import BUCKET, S3_KEY, S3_SECRET


def seed(emu, database: str) -> None:
    emu.sql(f"CREATE DATABASE IF NOT EXISTS {database}",
            f"CREATE TABLE {database}.t (k INT, d DATE) DUPLICATE KEY(k) PARTITION BY RANGE(d) "
            "(PARTITION p1 VALUES LESS THAN ('2024-02-01'), PARTITION p2 VALUES LESS THAN ('2024-03-01')) "
            "DISTRIBUTED BY HASH(k) BUCKETS 1",
            f"INSERT INTO {database}.t VALUES (1, '2024-01-02'), (2, '2024-02-03')")


@pytest.fixture(scope="module")
def two_databases(emulator):
    seed(emulator, "full_a")
    seed(emulator, "full_b")
    return emulator


def test_backs_up_each_database_checks_and_catalogues_the_snapshots(two_databases, s3_server, aws_conn, load_dag):
    emu = two_databases
    dag = load_dag("sr_full_backup", f"""
[defaults]
starrocks_conn_id = "{emu.conn_id}"
repository = "full_repo"
location = "s3://{BUCKET}/full-dag"
storage_conn_id = "{aws_conn}"
databases = ["full_a", "full_b"]
""")
    assert dag.schedule == "0 2 * * *"  # configured databases make it a nightly DAG
    before = emu.count("BACKUP")
    dag_run = dag.test()
    assert states(dag_run) == {"databases": "success", "create_repository": "success", "backup[0]": "success",
                               "backup[1]": "success", "check_snapshots": "success", "export_access": "success"}
    assert emu.count("BACKUP") == before + 2
    checked = next(ti for ti in dag_run.get_task_instances() if ti.task_id == "check_snapshots").xcom_pull(
        task_ids="check_snapshots")
    labels = sorted(c["snapshot_label"] for c in checked)
    assert [label.split("_20")[0] for label in labels] == ["full_full_a", "full_full_b"]
    assert all(c["files"] > 0 and c["size_bytes"] > 0 for c in checked)
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint_url, aws_access_key_id=S3_KEY,
                      aws_secret_access_key=S3_SECRET, region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="full-dag/")["Contents"]]
    for label in labels:
        assert any(f"__starrocks_repository_full_repo/__ss_{label}/__info_" in k for k in keys)
        assert any("__sr_airflow_catalog" in k and label in k for k in keys)


def test_without_configured_databases_the_dag_is_unscheduled_and_a_run_says_why(emulator, aws_conn, load_dag):
    dag = load_dag("sr_full_backup", f'[defaults]\nstarrocks_conn_id = "{emulator.conn_id}"\n')
    assert dag.schedule is None
    dag_run = dag.test()
    assert states(dag_run)["databases"] == "failed"


def test_bad_configuration_is_one_clear_import_error(load_dag):
    with pytest.raises(ValueError, match=r"\[sr_full_backup\]\.databases must be a list of non-empty strings"):
        load_dag("sr_full_backup", '[sr_full_backup]\ndatabases = "sr_hub"\n')
