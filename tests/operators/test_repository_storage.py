"""The one rule for where a repository's files are (operators/repository_storage.py), against the emulator: the
task's location read with its connection's type; the cluster's location only as the fallback; a repository that
points elsewhere refused naming both."""

from __future__ import annotations

import json

import pytest
from airflow.sdk import Connection

from sr_airflow.engine.errors import InvalidArgumentError, SnapshotNotFoundError
from sr_airflow.operators.repository_storage import resolve_repository_location
from tests.support.s3 import BUCKET, S3_KEY, S3_SECRET

pytestmark = pytest.mark.integration

GOOGLE = Connection(conn_id="g", conn_type="google_cloud_platform",
                    extra=json.dumps({"hmac_access_id": "GOOG1E", "hmac_secret": "s"}))


def aws(endpoint: str | None = None) -> Connection:
    extra = {"endpoint_url": endpoint} if endpoint else {"region_name": "us-east-1"}
    return Connection(conn_id="a", conn_type="aws", login=S3_KEY, password=S3_SECRET, extra=json.dumps(extra))


@pytest.fixture(scope="module")
def hook(shared_emulator, s3_server):
    """The shared emulator with two repositories of this module: a MinIO-style one and GCS through S3A (its S3 API
    redirect stands in for storage.googleapis.com)."""
    from sr_airflow.hooks.starrocks import StarRocksHook

    shared_emulator.create_repository("rs_minio", s3_server, "rs-minio")
    shared_emulator.sql(f'CREATE REPOSITORY rs_gcs WITH BROKER ON LOCATION "s3a://{BUCKET}/rs-gcs" PROPERTIES '
                        '("fs.s3a.access.key" = "GOOG1E", "fs.s3a.secret.key" = "s", '
                        '"fs.s3a.endpoint" = "storage.googleapis.com")')
    return StarRocksHook(starrocks_conn_id=shared_emulator.conn_id)


def test_the_configured_location_is_used_with_the_connections_endpoint(hook, s3_server):
    place = resolve_repository_location(hook, "rs_minio", aws(s3_server.endpoint_url),
                                        location=f"s3a://{BUCKET}/rs-minio/")
    assert (place.backend, place.bucket, place.path, place.endpoint) == ("s3", BUCKET, "rs-minio",
                                                                         s3_server.endpoint_url)


def test_a_cluster_repository_pointing_elsewhere_is_refused_naming_both(hook, s3_server):
    with pytest.raises(InvalidArgumentError, match=(
            rf"^Repository 'rs_minio' on this cluster points at 's3://{BUCKET}/rs-minio', not at the configured "
            rf"location 's3://{BUCKET}/other' \(s3://{BUCKET}/other\); fix the location or drop and re-create the "
            r"repository\.$")):
        resolve_repository_location(hook, "rs_minio", aws(s3_server.endpoint_url), location=f"s3://{BUCKET}/other")


def test_an_s3a_location_shown_by_the_cluster_is_gcs_with_a_google_connection(hook):
    """The fallback reads SHOW REPOSITORIES' s3a:// location with the connection's type: GCS, not S3."""
    place = resolve_repository_location(hook, "rs_gcs", GOOGLE)
    assert (place.backend, place.bucket, place.path) == ("gcs", BUCKET, "rs-gcs")
    assert resolve_repository_location(hook, "rs_gcs", GOOGLE, location=f"gs://{BUCKET}/rs-gcs").backend == "gcs"


def test_a_repository_the_cluster_does_not_show_needs_a_location(hook):
    with pytest.raises(SnapshotNotFoundError, match=r"^Repository 'rs_absent' is not shown by SHOW REPOSITORIES on "
                                                    r"this cluster and the task was given no location"):
        resolve_repository_location(hook, "rs_absent", aws())
    place = resolve_repository_location(hook, "rs_absent", aws(), location=f"s3://{BUCKET}/absent")
    assert (place.backend, place.starrocks_uri) == ("s3", f"s3a://{BUCKET}/absent")
