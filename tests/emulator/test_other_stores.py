"""GCS (JSON API, gcp-storage-emulator) and HDFS (WebHDFS, the project's test double) repositories: back up on one
emulator, restore on another, and read the layout through each store's own client."""

from __future__ import annotations

import re

import pytest

from sr_airflow.testing.emulator.process import EmulatorServer
from sr_airflow.testing.servers import GcsServer
from sr_airflow.testing.webhdfs import WebHdfsServer
from tests.support.emulator_client import PHASE, as_dicts, run, wait_job

MD5 = r"[0-9a-f]{32}"


@pytest.fixture(scope="module")
def gcs():
    with GcsServer() as server:
        yield server


@pytest.fixture(scope="module")
def webhdfs():
    with WebHdfsServer() as server:
        yield server


@pytest.fixture(scope="module")
def pair(tmp_path_factory, s3_server, gcs, webhdfs):
    servers = [EmulatorServer(tmp_path_factory.mktemp("stores"), s3_endpoint=s3_server.endpoint_url,
                              gcs_endpoint=gcs.endpoint_url, webhdfs_endpoint=webhdfs.url,
                              min_phase_seconds=PHASE).start() for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


def _gcs_client(gcs):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(project="test", credentials=AnonymousCredentials(),
                          client_options={"api_endpoint": gcs.endpoint_url})


def _round_trip(pair, repo_ddl: str, repo: str, db: str) -> None:
    a, b = (server.connect().cursor() for server in pair)
    run(a, repo_ddl)
    run(b, repo_ddl)
    run(a, f"CREATE DATABASE {db}")
    run(a, f"CREATE TABLE {db}.t (d DATE NOT NULL, v INT) DUPLICATE KEY(d) PARTITION BY RANGE(d) ("
           f"PARTITION p1 VALUES LESS THAN ('2024-02-01'), PARTITION p2 VALUES LESS THAN ('2024-03-01')) "
           f"DISTRIBUTED BY HASH(v) BUCKETS 2")
    run(a, f"INSERT INTO {db}.t VALUES ('2024-01-05', 1), ('2024-02-05', 2), ('2024-02-06', 3)")
    run(a, f"BACKUP DATABASE {db} SNAPSHOT snap1 TO {repo}")
    assert wait_job(a, "BACKUP", db)["State"] == "FINISHED"
    stamp = as_dicts(b, f"SHOW SNAPSHOT ON {repo} WHERE SNAPSHOT = 'snap1'")[0]["Timestamp"]
    run(b, f"RESTORE SNAPSHOT snap1 FROM {repo} DATABASE {db} PROPERTIES ('backup_timestamp' = '{stamp}')")
    job = wait_job(b, "RESTORE", db)
    assert job["State"] == "FINISHED", job
    assert run(b, f"SELECT d, v FROM {db}.t ORDER BY v") == run(a, f"SELECT d, v FROM {db}.t ORDER BY v")


def _check_layout(names: list[str], root: str) -> None:
    names = sorted(names)
    assert f"{root}/__repo_info" in names
    assert any(re.fullmatch(rf"{root}/__ss_snap1/__meta\.{MD5}", n) for n in names), names
    assert any(re.fullmatch(rf"{root}/__ss_snap1/__info_\d{{4}}(-\d\d){{5}}-\d{{3}}\.{MD5}", n) for n in names)
    content = [n for n in names if "/__ss_content/" in n]
    assert len(content) == 2 * 2 * 2  # 2 partitions x 2 tablets x (.hdr + .dat)
    pattern = (rf"{root}/__ss_snap1/__ss_content/__db_\d+/__tbl_\d+/__part_\d+/__idx_\d+/"
               rf"__(\d+)/(\d+)(\.hdr|_0\.dat)\.{MD5}")
    for name in content:
        match = re.fullmatch(pattern, name)
        assert match and match.group(1) == match.group(2), name


def test_gcs_repository_round_trip(pair, gcs):
    client = _gcs_client(gcs)
    client.create_bucket("gcs-repo-bkt")
    ddl = ('CREATE REPOSITORY gcs_repo WITH BROKER ON LOCATION "s3a://gcs-repo-bkt/sr/backup" PROPERTIES ('
           '"fs.s3a.access.key" = "GOOG1EXAMPLE", "fs.s3a.secret.key" = "secret", '
           '"fs.s3a.endpoint" = "storage.googleapis.com")')
    _round_trip(pair, ddl, "gcs_repo", "gcs_db")
    names = [b.name for b in client.list_blobs("gcs-repo-bkt", prefix="sr/backup/")]
    _check_layout([n[len("sr/backup/"):] for n in names], "__starrocks_repository_gcs_repo")


def test_hdfs_repository_round_trip(pair, webhdfs):
    from hdfs import InsecureClient

    ddl = ('CREATE REPOSITORY hdfs_repo WITH BROKER ON LOCATION "hdfs://namenode:8020/repo_dir/backup" '
           'PROPERTIES ("username" = "alice", "password" = "secret")')
    _round_trip(pair, ddl, "hdfs_repo", "hdfs_db")
    client = InsecureClient(webhdfs.url, user="alice")
    base = "/repo_dir/backup"
    names = [f"{top}/{f}"[len(base) + 1:] for top, _dirs, files in client.walk(base) for f in files]
    _check_layout(names, "__starrocks_repository_hdfs_repo")
