"""Every shipped DAG on every store the seed names: S3 (AWS form), MinIO (an S3 endpoint), GCS and HDFS.

One test per store runs, through ``dag.test()`` and against two emulator clusters, ``sr_full_backup`` ->
``sr_incremental_backup`` -> ``sr_restore`` (as of the full's moment, verified) -> a newer full (GCS and HDFS:
``sr_migration``'s; S3 and MinIO: ``sr_full_backup`` again) -> ``sr_retention`` (a deleting run), and after each
run looks at the store with its own client (boto3, google-cloud-storage, plain WebHDFS HTTP): the snapshot folders
StarRocks wrote, the catalog entries sr_airflow wrote (read with pyarrow, not the product's reader), and what
retention deleted. Each store's clusters reach only that store: the S3 cluster has ``--s3-endpoint`` (standing in for
AWS), the MinIO cluster no redirect at all (the statement's ``aws.s3.endpoint`` must be used), the GCS cluster
``--gcs-endpoint``, the HDFS cluster ``--webhdfs-endpoint``. Both S3 stores are a moto server that checks keys:
a request signed with anything but the connection's key is refused.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.dags import states
from tests.support.emulators import FAST_PHASE, Emulator
from tests.support.seeds import seed_daily

pytestmark = [pytest.mark.slow, pytest.mark.integration]

STORES = ["s3", "minio", "gcs", "hdfs"]
MIGRATION_STORES = {"gcs", "hdfs"}  # S3 (MinIO form) is tests/dags/test_sr_migration.py
REPO, DB, STORAGE_CONN = "matrix_repo", "matrix", "sr_matrix_storage"
SNAPSHOTS = f"__starrocks_repository_{REPO}"
ENTRIES = f"__sr_airflow_catalog_{REPO}/entries"
HDFS_USER, HDFS_PASSWORD = "sr_backup", "hdfs-secret"
GCS_HMAC = ("GOOG1EMATRIXHMACID", "matrix-hmac-secret")


# ---- the stores, each seen from outside through its own client -------------------------------------------------
class S3Outside:
    def __init__(self, client, bucket: str, prefix: str):
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def keys(self, under: str) -> set[str]:
        found: set[str] = set()
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                          Prefix=f"{self.prefix}/{under}"):
            found.update(item["Key"][len(self.prefix) + 1:] for item in page.get("Contents", []))
        return found

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")["Body"].read()


class GcsOutside:
    def __init__(self, endpoint: str, bucket: str, prefix: str):
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        self.client = storage.Client(project="matrix", credentials=AnonymousCredentials(),
                                     client_options={"api_endpoint": endpoint})
        self.bucket, self.prefix = bucket, prefix

    def keys(self, under: str) -> set[str]:
        blobs = self.client.list_blobs(self.bucket, prefix=f"{self.prefix}/{under}")
        return {b.name[len(self.prefix) + 1:] for b in blobs}

    def read(self, key: str) -> bytes:
        return self.client.bucket(self.bucket).blob(f"{self.prefix}/{key}").download_as_bytes()


class WebHdfsOutside:
    """Plain HTTP to the WebHDFS REST API (LISTSTATUS, OPEN), no client library."""

    def __init__(self, url: str, root: str):
        import requests

        self.session, self.url, self.root = requests.Session(), url, root

    def _call(self, path: str, op: str, **params):
        return self.session.get(f"{self.url}/webhdfs/v1/{self.root}/{path}".rstrip("/"),
                                params={"op": op, **params}, timeout=10)

    def statuses(self, under: str) -> dict[str, dict]:
        """Every file below folder-or-prefix ``under`` -> its FileStatus."""
        parent, _, stem = under.rstrip("/").rpartition("/")
        found: dict[str, dict] = {}
        pending = [(parent, stem)]
        while pending:
            folder, name_prefix = pending.pop()
            answer = self._call(folder, "LISTSTATUS")
            if answer.status_code == 404:
                continue
            answer.raise_for_status()
            for status in answer.json()["FileStatuses"]["FileStatus"]:
                if not status["pathSuffix"].startswith(name_prefix):
                    continue
                path = f"{folder}/{status['pathSuffix']}".lstrip("/")
                if status["type"] == "DIRECTORY":
                    pending.append((path, ""))
                else:
                    found[path] = status
        return found

    def keys(self, under: str) -> set[str]:
        return set(self.statuses(under))

    def read(self, key: str) -> bytes:
        answer = self._call(key, "OPEN")
        answer.raise_for_status()
        return answer.content


@dataclass
class Store:
    name: str
    location: str  # as the DAGs' sr_airflow.toml says it
    connection: dict  # the storage connection, as AIRFLOW_CONN_<ID> JSON
    outside: object
    emulator_redirects: dict[str, str] = field(default_factory=dict)
    product_env: dict[str, str] = field(default_factory=dict)  # what stands in for the cloud's DNS in this process
    statement_has: tuple[str, ...] = ()  # what its CREATE REPOSITORY must say


@pytest.fixture(scope="module")
def key_checking_s3():
    from sr_airflow.testing.servers import KeyCheckingS3Server

    with KeyCheckingS3Server() as server:
        yield server


@pytest.fixture(scope="module")
def gcs_api():
    from sr_airflow.testing.servers import GcsServer

    with GcsServer() as server:
        yield server


@pytest.fixture(scope="module")
def webhdfs():
    from sr_airflow.testing.webhdfs import WebHdfsServer

    with WebHdfsServer() as server:
        yield server


@pytest.fixture(scope="module", params=STORES)
def store(request) -> Store:
    name = request.param
    if name in ("s3", "minio"):
        server = request.getfixturevalue("key_checking_s3")
        bucket = f"matrix-{name}"
        server.client().create_bucket(Bucket=bucket)
        keys = {"login": server.access_key, "password": server.secret_key}
        outside = S3Outside(server.client(), bucket, "backups")
        if name == "s3":  # AWS as a user configures it: keys and a region, no endpoint
            return Store(name, f"s3://{bucket}/backups",
                         {"conn_type": "aws", **keys, "extra": {"region_name": "us-east-1"}}, outside,
                         {"s3_endpoint": server.endpoint_url}, {"AWS_ENDPOINT_URL_S3": server.endpoint_url},
                         (f'ON LOCATION "s3a://{bucket}/backups"', f'"aws.s3.access_key" = "{server.access_key}"',
                          '"aws.s3.region" = "us-east-1"'))
        return Store(name, f"s3://{bucket}/backups",
                     {"conn_type": "aws", **keys, "extra": {"endpoint_url": server.endpoint_url}}, outside,
                     statement_has=(f'ON LOCATION "s3://{bucket}/backups"',
                                    f'"aws.s3.endpoint" = "{server.endpoint_url}"'))
    if name == "gcs":
        server = request.getfixturevalue("gcs_api")
        outside = GcsOutside(server.endpoint_url, "matrix-gcs", "backups")
        outside.client.create_bucket("matrix-gcs")
        return Store(name, "gs://matrix-gcs/backups",
                     {"conn_type": "google_cloud_platform",
                      "extra": {"is_anonymous": True, "project": "matrix", "hmac_access_id": GCS_HMAC[0],
                                "hmac_secret": GCS_HMAC[1]}}, outside,
                     {"gcs_endpoint": server.endpoint_url},
                     {"STORAGE_EMULATOR_HOST": server.endpoint_url, "NO_GCE_CHECK": "True"},
                     ('ON LOCATION "s3a://matrix-gcs/backups"', '"fs.s3a.endpoint" = "storage.googleapis.com"',
                      f'"fs.s3a.access.key" = "{GCS_HMAC[0]}"'))
    server = request.getfixturevalue("webhdfs")
    host, port = server.url.removeprefix("http://").split(":")
    return Store(name, "hdfs://namenode:8020/matrix/backups",
                 {"conn_type": "webhdfs", "host": host, "port": int(port), "login": HDFS_USER,
                  "password": HDFS_PASSWORD}, WebHdfsOutside(server.url, "matrix/backups"),
                 {"webhdfs_endpoint": server.url},
                 statement_has=('ON LOCATION "hdfs://namenode:8020/matrix/backups"',
                                f'"username" = "{HDFS_USER}"'))


@pytest.fixture(scope="module")
def clusters(store, airflow_db):
    """A source and a target cluster that reach this store only."""
    from sr_airflow.testing.emulator.process import EmulatorServer

    started: list[Emulator] = []
    dirs = [Path(tempfile.mkdtemp(prefix=f"sr-matrix-{store.name}-")) for _ in range(2)]
    try:
        for conn_id, data_dir in zip(("sr_matrix_source", "sr_matrix_target"), dirs, strict=True):
            server = EmulatorServer(data_dir, min_phase_seconds=FAST_PHASE, **store.emulator_redirects)
            server.start()
            started.append(Emulator(server, conn_id, FAST_PHASE))
        yield tuple(started)
    finally:
        for emu in reversed(started):
            emu.stop()
        for data_dir in dirs:
            shutil.rmtree(data_dir, ignore_errors=True)


# ---- what the runs say, and what the store holds ---------------------------------------------------------------
def config(source: Emulator, target: Emulator, store: Store) -> str:
    return f"""
[defaults]
starrocks_conn_id = "{source.conn_id}"
repository = "{REPO}"
location = "{store.location}"
storage_conn_id = "{STORAGE_CONN}"
databases = ["{DB}"]
[sr_incremental_backup]
mode = "changed"
[sr_migration]
source_conn_id = "{source.conn_id}"
target_conn_id = "{target.conn_id}"
max_catch_up_rounds = 1
"""


def xcom(run, task_id: str, map_index: int = -1):
    ti = next(t for t in run.get_task_instances() if t.task_id == task_id and t.map_index == map_index)
    return ti.xcom_pull(task_ids=task_id, map_indexes=map_index)


def catalog_entries(store: Store) -> dict[str, dict]:
    """label -> its catalog row, read from the store's files with pyarrow."""
    import pyarrow.parquet as pq

    rows = {}
    for key in store.outside.keys(ENTRIES + "/"):
        assert key.endswith(".parquet"), key  # no temporary or foreign files left in the catalog
        table = pq.read_table(io.BytesIO(store.outside.read(key)),
                              columns=["label", "kind", "status", "parent_label", "database", "backup_time"])
        (row,) = table.to_pylist()
        rows[row["label"]] = row
    return rows


def snapshot_files(store: Store, label: str) -> set[str]:
    return {k.removeprefix(f"{SNAPSHOTS}/__ss_{label}/") for k in store.outside.keys(f"{SNAPSHOTS}/__ss_{label}/")}


def assert_snapshot_written(store: Store, label: str) -> None:
    files = snapshot_files(store, label)
    assert any(f.startswith("__info_") for f in files) and any(f.startswith("__meta.") for f in files), files
    assert any(f.startswith("__ss_content/") for f in files), files


def events(emu: Emulator, database: str) -> list[tuple]:
    return sorted(emu.sql(f"SELECT k, d FROM {database}.events"))


def succeeded(run) -> None:
    failed = {k: v for k, v in states(run).items() if v not in ("success", "skipped")}
    assert str(run.state) == "success" and not failed, states(run)


def timed_runs(load_dag, toml: str, seconds: dict[str, float]):
    """``run(dag_id, **dag_test_kwargs)``: a fresh parse of the shipped DAG (as the scheduler gives each run),
    ``dag.test()``, its wall time added to ``seconds`` (printed at the end, for the suite's time budget)."""

    def run(dag_id: str, **kwargs):
        started = time.monotonic()
        dag_run = load_dag(dag_id, toml).test(**kwargs)
        seconds[dag_id] = round(seconds.get(dag_id, 0.0) + time.monotonic() - started, 1)
        succeeded(dag_run)
        return dag_run

    return run


def test_every_dag_on_the_store(store: Store, clusters, load_dag, monkeypatch):
    source, target = clusters
    monkeypatch.setenv(f"AIRFLOW_CONN_{STORAGE_CONN.upper()}", json.dumps(store.connection))
    for key, value in store.product_env.items():
        monkeypatch.setenv(key, value)
    seconds: dict[str, float] = {}
    run_dag = timed_runs(load_dag, config(source, target, store), seconds)
    seed_daily(source, DB)
    at_full = events(source, DB)

    # 1. the nightly full backup: StarRocks' snapshot folder and sr_airflow's catalog entry in the store
    run = run_dag("sr_full_backup")
    full = xcom(run, "backup", 0)["snapshot_label"]
    created = [q for q in source.queries() if q.startswith(f"CREATE REPOSITORY `{REPO}`")]
    assert len(created) == 1 and all(part in created[0] for part in store.statement_has), created
    assert_snapshot_written(store, full)
    entries = catalog_entries(store)
    assert set(entries) == {full}
    assert (entries[full]["kind"], entries[full]["status"], entries[full]["database"]) == ("full", "ok", DB)
    if store.name == "hdfs":  # the emulator wrote as the statement's username, sr_airflow as the connection's login
        owners = {s["owner"] for s in store.outside.statuses(f"{SNAPSHOTS}/__ss_{full}/").values()}
        owners |= {s["owner"] for s in store.outside.statuses(ENTRIES + "/").values()}
        assert owners == {HDFS_USER}

    # 2. one partition changed: an incremental on the full
    source.sql(f"INSERT INTO {DB}.events VALUES (30, '2024-01-03')")
    run = run_dag("sr_incremental_backup")
    plan = xcom(run, "plan", 0)
    incremental = xcom(run, "backup", 0)["snapshot_label"]
    assert (plan["snapshot_kind"], plan["parent_label"]) == ("incremental", full)
    assert_snapshot_written(store, incremental)
    entries = catalog_entries(store)
    assert set(entries) == {full, incremental}
    assert (entries[incremental]["kind"], entries[incremental]["parent_label"]) == ("incremental", full)

    # 3. a point-in-time restore on the other cluster, as of the full's moment: the incremental is left out
    moment = entries[full]["backup_time"].isoformat()
    run = run_dag("sr_restore", run_conf={
        "starrocks_conn_id": target.conn_id, "database": DB, "target_database": f"{DB}_then",
        "point_in_time": moment, "verify": "versions"})
    assert xcom(run, "restore")["chain"] == [full] and xcom(run, "verify")["ok"] is True
    assert events(target, f"{DB}_then") == at_full
    assert set(catalog_entries(store)) == {full, incremental}  # a restore writes nothing to the store

    # 4. a newer full: the migration to the other cluster through the same store (its snapshot is a full of the
    # database), or the next night's sr_full_backup
    if store.name in MIGRATION_STORES:
        run = run_dag("sr_migration", run_conf={"database": DB, "target_database": f"{DB}_moved", "verify": "counts"})
        newest = xcom(run, "backup")["snapshot_label"]
        assert xcom(run, "verify")["ok"] is True and xcom(run, "final_check")["ok"] is True
        assert events(target, f"{DB}_moved") == events(source, DB)
    else:
        run = run_dag("sr_full_backup")
        newest = xcom(run, "backup", 0)["snapshot_label"]
    assert_snapshot_written(store, newest)
    entries = catalog_entries(store)
    assert set(entries) == {full, incremental, newest}
    assert (entries[newest]["kind"], entries[newest]["status"], entries[newest]["parent_label"]) == ("full", "ok", None)

    # 5. retention keeping the newest: the full and the incremental on it are deleted
    expected_gone = {full, incremental}
    run = run_dag("sr_retention", run_conf={"keep_last": 1, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0,
                                            "dry_run": False})
    result = xcom(run, "apply_retention")
    assert set(result["deleted"]) == expected_gone and result["keep"] == [newest]
    assert set(catalog_entries(store)) == {newest}
    for label in expected_gone:
        assert snapshot_files(store, label) == set(), label
    assert_snapshot_written(store, newest)
    shown = {row[0] for row in source.sql(f"SHOW SNAPSHOT ON {REPO}")}  # the cluster reads the same store
    assert shown == {newest}
    print(f"storage matrix, {store.name}: dag.test() seconds {seconds}")
