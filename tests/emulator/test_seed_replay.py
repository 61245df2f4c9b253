"""Every SQL example of the StarRocks backup/restore document, in order, against two emulators sharing S3.

Backups run on the first instance, restores on the second, through the seed's exact statements (endpoint-less
`s3a://bucket_s3/backup` is redirected to the S3 API server by --s3-endpoint); only the restore timestamps are
replaced by the real ones.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.emulator_client import as_dicts, error_of, run, wait_job

SEED = Path(__file__).with_name("seed_statements.sql")
KEY = re.compile(
    r"^backup/__starrocks_repository_test_repo/(__repo_info|__ss_[a-z0-9_]+/(__meta\.[0-9a-f]{32}|"
    r"__info_\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-\d{3}\.[0-9a-f]{32}|__ss_content/__db_\d+/__tbl_\d+/__part_\d+/"
    r"__idx_\d+/__(\d+)/\3(\.hdr|_0\.dat)\.[0-9a-f]{32}))$")

SETUP = [
    "CREATE DATABASE sr_hub",
    "USE sr_hub",
    """CREATE TABLE sr_member (id INT NOT NULL, name VARCHAR(32), joined DATE NOT NULL)
       DUPLICATE KEY(id) PARTITION BY RANGE(joined)
       (PARTITION p1 VALUES LESS THAN ("2024-01-01"), PARTITION p2 VALUES LESS THAN ("2025-01-01"))
       DISTRIBUTED BY HASH(id) BUCKETS 2 PROPERTIES ("replication_num" = "1")""",
    """CREATE TABLE sr_pmc (id INT NOT NULL, role STRING) PRIMARY KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1""",
    "INSERT INTO sr_member VALUES (1, 'ann', '2023-03-01'), (2, 'bob', '2024-05-01'), (3, 'cy', '2024-06-01')",
    "INSERT INTO sr_member VALUES (4, 'dee', '2023-07-01')",
    "INSERT INTO sr_pmc VALUES (1, 'chair'), (2, 'member')",
    "CREATE MATERIALIZED VIEW sr_mv1 REFRESH ASYNC AS SELECT joined, count(*) AS n FROM sr_member GROUP BY joined",
    "CREATE MATERIALIZED VIEW sr_mv2 REFRESH MANUAL AS SELECT role, count(*) AS n FROM sr_pmc GROUP BY role",
    "CREATE VIEW sr_view1 AS SELECT id, name FROM sr_member WHERE id > 1",
    "CREATE VIEW sr_view2 AS SELECT m.name, p.role FROM sr_member m JOIN sr_pmc p ON m.id = p.id",
    """CREATE FUNCTION sr_udf1(INT) RETURNS INT PROPERTIES ("symbol" = "com.example.Udf1", "type" = "StarrocksJar",
       "file" = "http://files/udf1.jar")""",
    """CREATE FUNCTION sr_udf2(STRING) RETURNS STRING PROPERTIES ("symbol" = "com.example.Udf2",
       "type" = "StarrocksJar", "file" = "http://files/udf2.jar")""",
    """CREATE EXTERNAL CATALOG iceberg PROPERTIES ("type" = "iceberg", "iceberg.catalog.type" = "hive",
       "hive.metastore.uris" = "thrift://metastore:9083")""",
    """CREATE EXTERNAL CATALOG hive PROPERTIES ("type" = "hive", "hive.metastore.uris" = "thrift://metastore:9083")""",
]


def seed_statements() -> list[str]:
    text = "\n".join(line for line in SEED.read_text().splitlines() if not line.startswith("--"))
    return [s.strip() for s in text.split(";") if s.strip()]


def label_of(stmt: str) -> str:
    match = re.search(r"SNAPSHOT\s+(?:\w+\.)?(\w+)", stmt)
    return match.group(1)


@pytest.fixture(scope="module")
def seed_bucket(s3_client):
    s3_client.create_bucket(Bucket="bucket_s3")
    return "bucket_s3"


def test_seed_document_replay(emulator, emulator_b, seed_bucket, s3_client):
    a = emulator.connect().cursor()
    b = emulator_b.connect().cursor()
    for stmt in SETUP:
        run(a, stmt)
    statements = seed_statements()
    assert len(statements) == 54
    repo_statements = [s for s in statements if s.startswith("CREATE REPOSITORY")]
    outcomes = []
    for stmt in statements:
        if stmt.startswith("CREATE REPOSITORY"):
            try:
                run(a, stmt)
                outcomes.append("ok")
            except Exception as err:  # noqa: BLE001 - the outcome is asserted below
                outcomes.append(err.args[1])
            continue
        if stmt.startswith("BACKUP"):
            db = "" if "CATALOG" in stmt else "sr_hub"
            if "SNAPSHOT sr_hub." in stmt:
                code, message = error_of(a, stmt)
                assert (code, message) == (5064, f"Snapshot with name '{label_of(stmt)}' already exist in "
                                                 "repository")
                continue
            run(a, stmt)
            job = wait_job(a, "BACKUP", db)
            assert job["State"] == "FINISHED", job
            assert job["SnapshotName"] == label_of(stmt)
            continue
        if stmt.startswith("CANCEL BACKUP"):  # the latest job has finished: BackupJob.cancel's isDone() status
            code, message = error_of(a, stmt)
            assert code == 5064 and re.fullmatch(r"Failed to cancel job: Job with label \w+ can not be cancelled. "
                                                 r"state: FINISHED", message), message
            continue
        if stmt.startswith("CANCEL RESTORE"):  # no restore yet on that database, or a finished one
            code, message = error_of(b, stmt)
            assert code == 5064 and re.fullmatch(r"No restore is currently running|Failed to cancel job: Job with "
                                                 r"label \w+ can not be cancelled. state: FINISHED", message), message
            continue
        assert stmt.startswith("RESTORE"), stmt
        if "test_repo" not in [r[1] for r in run(b, "SHOW REPOSITORIES")]:
            run(b, repo_statements[1])  # the cluster being restored into gets the same repository
        label = label_of(stmt)
        if "backup_timestamp" not in stmt:
            assert error_of(b, stmt) == (5064, "Getting analyzing error. Detail message: Missing backup_timestamp "
                                               "property.")
            continue
        snapshot = as_dicts(b, f"SHOW SNAPSHOT ON test_repo WHERE SNAPSHOT = '{label}'")
        assert [s["Status"] for s in snapshot] == ["OK"]
        timestamp = snapshot[0]["Timestamp"]
        actual = re.sub(r'("backup_timestamp"\s*=\s*)"[^"]*"', rf'\1"{timestamp}"', stmt)
        run(b, actual)
        db = "" if "CATALOG" in stmt else ("sr_hub_new" if "AS sr_hub_new" in stmt else "sr_hub")
        job = wait_job(b, "RESTORE", db)
        assert job["State"] == "FINISHED", (stmt, job)
        assert job["Timestamp"] == timestamp

    assert outcomes[0].startswith("Failed to create repository: HDFS is not reachable from the emulator")
    assert outcomes[1] == "ok"
    assert outcomes[2:] == ["Failed to create repository: repository with same name already exist: test_repo"] * 4

    # data, versions, MV states and objects match between the clusters
    for table in ("sr_member", "sr_pmc"):
        query = f"SELECT * FROM sr_hub.{table} ORDER BY id"
        assert run(a, query) == run(b, query)
    versions = ("SELECT TABLE_NAME, PARTITION_NAME, VISIBLE_VERSION, ROW_COUNT FROM information_schema.partitions_meta "
                "WHERE DB_NAME = 'sr_hub' ORDER BY 1, 2")
    assert run(a, versions) == run(b, versions)
    assert ("sr_member", "p1", 3, 2) in run(b, versions)
    mvs = "SELECT TABLE_NAME, IS_ACTIVE FROM information_schema.materialized_views WHERE TABLE_SCHEMA = 'sr_hub'"
    assert sorted(run(b, mvs)) == [("sr_mv1", "true"), ("sr_mv2", "true")]
    assert run(b, "SELECT * FROM sr_hub.sr_view1 ORDER BY id") == run(a, "SELECT * FROM sr_hub.sr_view1 ORDER BY id")
    mv_rows = "SELECT * FROM sr_hub.sr_mv1 ORDER BY joined"
    assert run(b, mv_rows) == run(a, mv_rows)
    assert sorted(run(b, "SHOW FUNCTIONS FROM sr_hub")) == [("sr_udf1",), ("sr_udf2",)]
    assert [r[0] for r in run(b, "SHOW CATALOGS")] == ["default_catalog", "hive", "iceberg", "iceberg_new"]
    renamed = run(b, "SELECT * FROM sr_hub_new.sr_member_new ORDER BY id")
    assert renamed == run(a, "SELECT * FROM sr_hub.sr_member ORDER BY id")
    assert sorted(r[0] for r in run(b, "SHOW TABLES FROM sr_hub_new")) == [
        "sr_member", "sr_member_new", "sr_mv1", "sr_mv2", "sr_pmc", "sr_view1", "sr_view2"]

    # the repository's files follow StarRocks' layout
    keys = [o["Key"] for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=seed_bucket)
            for o in page.get("Contents", [])]
    assert keys and all(KEY.match(k) for k in keys), [k for k in keys if not KEY.match(k)]
    labels = {k.split("/")[2][len("__ss_"):] for k in keys if "/__ss_" in k}
    assert labels == {"sr_hub_backup", "sr_member_backup", "sr_core_backup", "sr_all_backup", "sr_par_backup",
                      "sr_mv1_backup", "sr_mv2_backup", "sr_mv3_backup", "sr_view1_backup", "sr_view2_backup",
                      "sr_view3_backup", "sr_udf1_backup", "sr_udf2_backup", "sr_udf3_backup", "iceberg_backup",
                      "iceberg_hive_backup", "all_catalog_backup"}
    par = [k for k in keys if "__ss_sr_par_backup/__ss_content" in k]
    assert len(par) == 4  # one partition (p1) x two tablets x (.hdr + .dat)
