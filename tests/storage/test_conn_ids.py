"""Storage objects built from Airflow connection ids (GCSHook for GCS, an hdfs connection for WebHDFS)."""

from __future__ import annotations

import json

import pytest

from sr_airflow.storage import get_storage
from tests.support.storage import unique

pytestmark = pytest.mark.integration


def test_gcs_client_from_a_google_cloud_platform_connection(gcs_server, monkeypatch):
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.endpoint_url)
    monkeypatch.setenv("AIRFLOW_CONN_SR_TEST_GCP", json.dumps({
        "conn_type": "google_cloud_platform", "extra": {"is_anonymous": True, "project": "test-project",
                                                        "hmac_access_id": "GOOG1EXAMPLE", "hmac_secret": "s3cr3t"}}))
    bucket = unique("gcshook")
    storage = get_storage(f"gs://{bucket}/backup", conn_id="sr_test_gcp")
    storage.client.create_bucket(bucket)
    storage.write("via/hook", b"ok")
    assert storage.read("via/hook") == b"ok"
    assert type(storage.client).__module__.startswith("google.cloud.storage")


def test_hdfs_client_from_an_hdfs_connection(webhdfs_server, monkeypatch):
    host, port = webhdfs_server.url.removeprefix("http://").split(":")
    monkeypatch.setenv("AIRFLOW_CONN_SR_TEST_HDFS", json.dumps({
        "conn_type": "webhdfs", "host": host, "port": int(port), "login": "hdfs", "password": "hdfs-pass"}))
    storage = get_storage(f"hdfs://namenode:8020/{unique('hdfsconn')}", conn_id="sr_test_hdfs")
    storage.write("a/b", b"ok")
    assert storage.list("a")[0].key == "a/b"
    assert storage.client.url == webhdfs_server.url and storage.client._session.auth == ("hdfs", "hdfs-pass")


def test_gcs_deletes_in_batches_of_100_calls(gcs_server, monkeypatch):
    """201 objects -> 3 batch HTTP requests (100 + 100 + 1) to the emulator's /batch endpoint."""
    import requests

    from tests.storage.layouts import write_snapshot

    monkeypatch.setenv("NO_GCE_CHECK", "True")
    bucket = unique("gcsbatch")
    storage = get_storage(f"gs://{bucket}/backup", endpoint_url=gcs_server.endpoint_url)
    storage.client.create_bucket(bucket)
    snap = write_snapshot(storage, "repo", "big", content_files=199)
    posts = []
    real = requests.Session.request

    def counting(self, method, url, *args, **kwargs):
        if "/batch/" in url:
            posts.append(url)
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", counting)
    report = storage.delete_snapshot("repo", "big")
    assert (report.objects, report.requests, len(posts)) == (len(snap.keys), 3, 3)
    assert storage.list("") == []
