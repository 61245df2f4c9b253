"""sr_retention through dag.test(): a dry run changes nothing; a real run keeps the newest and their chains."""

from __future__ import annotations

import boto3
import pytest

from tests.support.dags import states
from tests.support.s3 import BUCKET, S3_KEY, S3_SECRET
from tests.support.seeds import incremental_config as config
from tests.support.seeds import seed_daily

pytestmark = pytest.mark.slow


def keys(s3_server, prefix: str) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint_url, aws_access_key_id=S3_KEY,
                      aws_secret_access_key=S3_SECRET, region_name="us-east-1")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def test_dry_run_then_real_run(emulator, s3_server, aws_conn, load_dag):
    seed_daily(emulator, "ret_db")
    base = config(emulator, aws_conn, "ret", "ret_db", "changed")
    backup = load_dag("sr_incremental_backup", base + "full_every_n = 1\n")  # every other run is a new full
    labels = []
    for day in ("2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"):
        emulator.sql(f"INSERT INTO ret_db.events VALUES (100, '{day}')")
        run = backup.test()
        labels.append(next(t for t in run.get_task_instances() if t.task_id == "backup").xcom_pull(
            task_ids="backup", map_indexes=0)["snapshot_label"])
    assert [label.split("_")[0] for label in labels] == ["full", "incr", "full", "incr"]

    before = keys(s3_server, "ret/")
    retention = load_dag("sr_retention", base + "[sr_retention]\nkeep_last = 1\nkeep_daily = 0\nkeep_weekly = 0\n"
                                                "keep_monthly = 0\ndry_run = true\n")
    run = retention.test()
    assert states(run) == {"apply_retention": "success"}
    report = next(t for t in run.get_task_instances()).xcom_pull(task_ids="apply_retention")
    assert sorted(report["delete"]) == sorted(labels[:2]) and report["deleted"] == []
    assert keys(s3_server, "ret/") == before  # a dry run changes nothing

    run = retention.test(run_conf={"dry_run": False})
    report = next(t for t in run.get_task_instances()).xcom_pull(task_ids="apply_retention")
    assert sorted(report["deleted"]) == sorted(labels[:2])
    after = keys(s3_server, "ret/")
    for label in labels[:2]:
        assert not any(f"__ss_{label}/" in k or k.endswith(f"/{label}.parquet") for k in after)
    for label in labels[2:]:  # the newest is kept, and so is the full it depends on
        assert any(f"__ss_{label}/__info_" in k for k in after)
    listed = {row[0]: row[2] for row in emulator.sql("SHOW SNAPSHOT ON ret_repo")}
    assert set(listed) == set(labels[2:]) and set(listed.values()) == {"OK"}
