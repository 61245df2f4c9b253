"""The create-repository operator in every form of the seed, each from an Airflow connection, against the emulator.

One ``dag.test()`` creates eight repositories on one cluster: HDFS with and without user/password, S3 with keys
(and with a wrong secret), S3 with an instance profile, S3 with an assumed role, GCS with HMAC keys, MinIO. The
statement each sent is compared, whole, with the seed's form; where the emulator can serve the form, the
repository's ``__repo_info`` is looked up in the store with the store's own client (the round trip):

- S3 goes to a moto server that checks keys (``--s3-endpoint`` stands in for AWS): a wrong secret is refused.
- MinIO goes to the endpoint of its connection, another server (a cluster ignoring ``aws.s3.endpoint`` would write
  to the redirect, where its bucket does not exist).
- HDFS goes through WebHDFS: the files are owned by the statement's ``username``, or, without one, by the
  emulator process's own user (Hadoop's login user, as ``HdfsFsManager`` leaves it without a username).
- Instance profile and assumed role are not served here (no instance metadata service, no STS): their statements
  are checked, and the CREATE fails as on a machine without an instance profile (the emulator's stand-in
  credentials are refused by the key-checking store).
"""

from __future__ import annotations

import getpass
import json
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.operators.dags import sr_repository_forms_dags as forms
from tests.support.dags import run_dag
from tests.support.emulators import Emulator

pytestmark = pytest.mark.integration

HDFS_USER, HDFS_PASSWORD = "hdfs_user", "hdfs-pass-1"
HMAC_ID, HMAC_SECRET = "GOOG1EFORMSHMACID", "forms-hmac-secret"
ROLE = "arn:aws:iam::123456789012:role/sr-backup"
MINIO_KEY, MINIO_SECRET = "minio-access", "minio-secret-key"


@pytest.fixture(scope="module")
def stores(s3_server):
    """The key-checking S3 server (AWS), the session's S3 server (the MinIO endpoint), the GCS API emulator and
    the WebHDFS double, each with its bucket."""
    from sr_airflow.testing.servers import GcsServer, KeyCheckingS3Server
    from sr_airflow.testing.webhdfs import WebHdfsServer
    from tests.support.s3 import s3_client

    with KeyCheckingS3Server() as aws, GcsServer() as gcs, WebHdfsServer() as webhdfs:
        aws.client().create_bucket(Bucket="forms-s3")
        s3_client(s3_server.endpoint_url).create_bucket(Bucket="forms-minio")
        gcs_client(gcs.endpoint_url).create_bucket("forms-gcs")
        yield {"aws": aws, "minio": s3_server, "gcs": gcs, "webhdfs": webhdfs}


@pytest.fixture(scope="module")
def cluster(stores, airflow_db):
    from sr_airflow.testing.emulator.process import EmulatorServer

    data_dir = Path(tempfile.mkdtemp(prefix="sr-forms-"))
    server = EmulatorServer(data_dir, min_phase_seconds=0.1, s3_endpoint=stores["aws"].endpoint_url,
                            gcs_endpoint=stores["gcs"].endpoint_url, webhdfs_endpoint=stores["webhdfs"].url)
    server.start()
    try:
        with Emulator(server, "sr_forms", 0.1) as emu:
            yield emu
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def gcs_client(endpoint: str):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(project="forms", credentials=AnonymousCredentials(),
                          client_options={"api_endpoint": endpoint})


def connections(stores) -> dict[str, dict]:
    aws = stores["aws"]
    host, port = stores["webhdfs"].url.removeprefix("http://").split(":")
    webhdfs = {"conn_type": "webhdfs", "host": host, "port": int(port)}
    region = {"region_name": "us-east-1"}
    return {
        "sr_form_hdfs_with_user": {**webhdfs, "login": HDFS_USER, "password": HDFS_PASSWORD},
        "sr_form_hdfs_without_user": webhdfs,
        "sr_form_s3_keys": {"conn_type": "aws", "login": aws.access_key, "password": aws.secret_key, "extra": region},
        "sr_form_s3_wrong_secret": {"conn_type": "aws", "login": aws.access_key, "password": "not-the-secret",
                                    "extra": region},
        "sr_form_s3_instance_profile": {"conn_type": "aws", "extra": region},
        "sr_form_s3_assumed_role": {"conn_type": "aws", "extra": {**region, "role_arn": ROLE}},
        "sr_form_gcs": {"conn_type": "google_cloud_platform",
                        "extra": {"hmac_access_id": HMAC_ID, "hmac_secret": HMAC_SECRET}},
        "sr_form_minio": {"conn_type": "aws", "login": MINIO_KEY, "password": MINIO_SECRET,
                          "extra": {"endpoint_url": stores["minio"].endpoint_url}},
    }


def expected_statements(stores) -> dict[str, str]:
    """The seed's six forms (seed/backup_and_restore.ja.md, リポジトリの作成) with this test's names and values."""
    aws = stores["aws"]
    keys = f'"aws.s3.access_key" = "{aws.access_key}"'
    return {
        "hdfs_with_user": 'CREATE REPOSITORY `hdfs_with_user` WITH BROKER ON LOCATION '
                          f'"hdfs://namenode:8020/forms/with_user" PROPERTIES ("username" = "{HDFS_USER}", '
                          f'"password" = "{HDFS_PASSWORD}")',
        "hdfs_without_user": 'CREATE REPOSITORY `hdfs_without_user` WITH BROKER ON LOCATION '
                             '"hdfs://namenode:8020/forms/without_user"',
        "s3_keys": f'CREATE REPOSITORY `s3_keys` WITH BROKER ON LOCATION "s3a://forms-s3/keys" PROPERTIES ({keys}, '
                   f'"aws.s3.secret_key" = "{aws.secret_key}", "aws.s3.region" = "us-east-1")',
        "s3_wrong_secret": 'CREATE REPOSITORY `s3_wrong_secret` WITH BROKER ON LOCATION "s3a://forms-s3/wrong" '
                           f'PROPERTIES ({keys}, "aws.s3.secret_key" = "not-the-secret", '
                           '"aws.s3.region" = "us-east-1")',
        "s3_instance_profile": 'CREATE REPOSITORY `s3_instance_profile` WITH BROKER ON LOCATION '
                               '"s3a://forms-s3/profile" PROPERTIES ("aws.s3.use_instance_profile" = "true", '
                               '"aws.s3.region" = "us-east-1")',
        "s3_assumed_role": 'CREATE REPOSITORY `s3_assumed_role` WITH BROKER ON LOCATION "s3a://forms-s3/role" '
                           'PROPERTIES ("aws.s3.use_instance_profile" = "true", '
                           f'"aws.s3.iam_role_arn" = "{ROLE}", "aws.s3.region" = "us-east-1")',
        "gcs": 'CREATE REPOSITORY `gcs` WITH BROKER ON LOCATION "s3a://forms-gcs/gcs" PROPERTIES '
               f'("fs.s3a.access.key" = "{HMAC_ID}", "fs.s3a.secret.key" = "{HMAC_SECRET}", '
               '"fs.s3a.endpoint" = "storage.googleapis.com")',
        "minio": 'CREATE REPOSITORY `minio` WITH BROKER ON LOCATION "s3://forms-minio/minio" PROPERTIES '
                 f'("aws.s3.access_key" = "{MINIO_KEY}", "aws.s3.secret_key" = "{MINIO_SECRET}", '
                 f'"aws.s3.endpoint" = "{stores["minio"].endpoint_url}")',
    }


def s3_has(client, bucket: str, key: str) -> bool:
    return client.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) == 1


def webhdfs_owner(url: str, path: str) -> str | None:
    import requests

    answer = requests.get(f"{url}/webhdfs/v1{path}", params={"op": "GETFILESTATUS"}, timeout=10)
    return answer.json()["FileStatus"]["owner"] if answer.status_code == 200 else None


def test_every_seed_form_through_the_operator(stores, cluster, monkeypatch):
    from tests.support.s3 import s3_client

    for conn_id, conn in connections(stores).items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    states, _ = run_dag(forms.repository_forms)

    sent = {q.split("`")[1]: q for q in cluster.queries() if q.startswith("CREATE REPOSITORY")}
    assert sent == expected_statements(stores)
    served = {"hdfs_with_user", "hdfs_without_user", "s3_keys", "gcs", "minio"}
    refused = {"s3_wrong_secret", "s3_instance_profile", "s3_assumed_role"}
    assert states == {**dict.fromkeys(served, "success"), **dict.fromkeys(refused, "failed")}
    assert {row[1] for row in cluster.sql("SHOW REPOSITORIES")} == served

    info = "__starrocks_repository_{}/__repo_info"
    aws = stores["aws"].client()
    assert s3_has(aws, "forms-s3", "keys/" + info.format("s3_keys"))
    assert not any(s3_has(aws, "forms-s3", f"{p}/{info.format(n)}") for p, n in
                   [("wrong", "s3_wrong_secret"), ("profile", "s3_instance_profile"), ("role", "s3_assumed_role")])
    assert s3_has(s3_client(stores["minio"].endpoint_url), "forms-minio", "minio/" + info.format("minio"))
    blobs = [b.name for b in gcs_client(stores["gcs"].endpoint_url).list_blobs("forms-gcs", prefix="gcs/")]
    assert blobs == ["gcs/" + info.format("gcs")]
    webhdfs = stores["webhdfs"].url
    assert webhdfs_owner(webhdfs, "/forms/with_user/" + info.format("hdfs_with_user")) == HDFS_USER
    assert webhdfs_owner(webhdfs, "/forms/without_user/" + info.format("hdfs_without_user")) == getpass.getuser()
