"""S3-specific behaviour against the moto S3 server: batched DeleteObjects, retries, errors, S3Hook clients."""

from __future__ import annotations

import json

import pytest

from sr_airflow.storage import RetryPolicy, get_storage
from tests.storage.layouts import write_snapshot
from tests.support.storage import FAST_RETRY, boto_client, unique

pytestmark = pytest.mark.integration
REPO = "test_repo"


def _count(client, event: str) -> list[int]:
    calls = [0]

    def hook(**_kwargs):
        calls[0] += 1

    client.meta.events.register(event, hook)
    return calls


def test_deleting_2500_objects_takes_three_delete_requests(s3_server):
    bucket = unique("del")
    client = boto_client(s3_server.endpoint_url, max_pool_connections=16)
    client.create_bucket(Bucket=bucket)
    storage = get_storage(f"s3a://{bucket}/backup", client=client)
    snap = write_snapshot(storage, REPO, "big", content_files=2498, threads=16)
    assert len(snap.keys) == 2500
    sent = _count(client, "before-send.s3.DeleteObjects")
    report = storage.delete_snapshot(REPO, "big")
    assert (report.objects, report.requests, sent[0]) == (2500, 3, 3)
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def _failing_first(client, event: str, failures: int, status: int):
    """Inject HTTP errors a real server cannot be made to return on demand (a mock, for faults only)."""
    from botocore.awsrequest import AWSResponse

    seen = [0]

    class _Raw:
        def stream(self, **_kwargs):
            yield b""

    def hook(**_kwargs):
        seen[0] += 1
        if seen[0] <= failures:
            return AWSResponse("http://fault", status, {}, _Raw())
        return None

    client.meta.events.register(event, hook)
    return seen


def test_transient_errors_are_retried_with_backoff(s3_server):
    bucket = unique("retry")
    client = boto_client(s3_server.endpoint_url, retries={"total_max_attempts": 1})  # our layer retries, not boto
    client.create_bucket(Bucket=bucket)
    storage = get_storage(f"s3a://{bucket}/backup", client=client, retry=FAST_RETRY)
    storage.write("k", b"v")
    seen = _failing_first(client, "before-send.s3.GetObject", 2, 503)
    assert storage.read("k") == b"v"
    assert seen[0] == 3


def test_retries_are_bounded(s3_server):
    bucket = unique("bounded")
    client = boto_client(s3_server.endpoint_url, retries={"total_max_attempts": 1})
    client.create_bucket(Bucket=bucket)
    storage = get_storage(f"s3a://{bucket}/backup", client=client,
                          retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02))
    seen = _failing_first(client, "before-send.s3.PutObject", 99, 500)
    with pytest.raises(OSError, match="S3 error"):
        storage.write("k", b"v")
    assert seen[0] == 3


def test_permission_errors_are_not_retried(s3_server):
    bucket = unique("denied")
    client = boto_client(s3_server.endpoint_url, retries={"total_max_attempts": 1})
    client.create_bucket(Bucket=bucket)
    storage = get_storage(f"s3a://{bucket}/backup", client=client, retry=FAST_RETRY)
    seen = _failing_first(client, "before-send.s3.GetObject", 99, 403)
    with pytest.raises(PermissionError, match="Access denied"):
        storage.read("k")
    assert seen[0] == 1


def test_missing_bucket_is_file_not_found(s3_server):
    storage = get_storage("s3a://no-such-bucket-here/backup", client=boto_client(s3_server.endpoint_url))
    with pytest.raises(FileNotFoundError, match="no-such-bucket-here"):
        storage.read("x")


def test_client_from_an_airflow_aws_connection(s3_server, monkeypatch):
    bucket = unique("hook")
    boto_client(s3_server.endpoint_url).create_bucket(Bucket=bucket)
    monkeypatch.setenv("AIRFLOW_CONN_SR_TEST_AWS", json.dumps({
        "conn_type": "aws", "login": "AKIDTEST", "password": "secret-test",
        "extra": {"region_name": "us-east-1", "endpoint_url": s3_server.endpoint_url}}))
    storage = get_storage(f"s3a://{bucket}/backup", conn_id="sr_test_aws")
    storage.write("via/hook", b"ok")
    assert storage.read("via/hook") == b"ok"
    assert storage.client.meta.endpoint_url == s3_server.endpoint_url


def test_minio_endpoint_from_location_with_an_airflow_connection(s3_server, monkeypatch):
    bucket = unique("minio")
    boto_client(s3_server.endpoint_url).create_bucket(Bucket=bucket)
    monkeypatch.setenv("AIRFLOW_CONN_SR_TEST_MINIO", json.dumps({
        "conn_type": "aws", "login": "minio", "password": "minio123", "extra": {"region_name": "us-east-1"}}))
    storage = get_storage(f"s3://{bucket}/backup", conn_id="sr_test_minio", endpoint=s3_server.endpoint_url)
    storage.write("x", b"1")
    assert storage.list("")[0].key == "x"


def _delete_answer_with_errors(client, answers: list[tuple[str, str]]):
    """Answer the first DeleteObjects with per-key errors (moto never reports partial failures: a mock fault)."""
    from botocore.awsrequest import AWSResponse

    seen = [0]

    class _Raw:
        def __init__(self, body: bytes):
            self.body = body

        def stream(self, **_kwargs):
            yield self.body

    def hook(request=None, **_kwargs):
        seen[0] += 1
        if seen[0] > 1:
            return None
        errors = "".join(f"<Error><Key>{k}</Key><Code>{c}</Code><Message>injected</Message></Error>"
                         for k, c in answers)
        body = (f'<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/'
                f'2006-03-01/">{errors}</DeleteResult>').encode()
        return AWSResponse(request.url, 200, {"Content-Type": "application/xml"}, _Raw(body))

    client.meta.events.register("before-send.s3.DeleteObjects", hook)
    return seen


@pytest.mark.parametrize("code,retried", [("SlowDown", True), ("AccessDenied", False)])
def test_partial_delete_failures_are_not_silent(s3_server, code, retried):
    bucket = unique("partial")
    client = boto_client(s3_server.endpoint_url, retries={"total_max_attempts": 1})
    client.create_bucket(Bucket=bucket)
    storage = get_storage(f"s3a://{bucket}/backup", client=client, retry=FAST_RETRY)
    write_snapshot(storage, REPO, "snap", content_files=3)
    seen = _delete_answer_with_errors(client, [("backup/x", code)])
    if retried:
        report = storage.delete_snapshot(REPO, "snap")
        assert (report.objects, seen[0]) == (5, 2)
        assert storage.list("") == []
    else:
        with pytest.raises(PermissionError, match="S3 could not delete 1 object.s., e.g. 'backup/x': AccessDenied"):
            storage.delete_snapshot(REPO, "snap")
        assert seen[0] == 1
