"""Storage fixtures: real test servers started as processes (the GCS emulator and the WebHDFS test double here; moto
S3 is tests/conftest.py's ``s3_server``), and one fresh storage location per test on each backend. A backend joins
the conformance suite by adding a case to ``BACKENDS`` and a branch in ``storage``."""

from __future__ import annotations

import pytest

from sr_airflow.storage import RepositoryLocation, get_storage
from tests.support.storage import FAST_RETRY, boto_client, unique

BACKENDS = ["s3_aws", "s3_minio", "gcs", "hdfs", "memory"]


@pytest.fixture(scope="session")
def gcs_server():
    from sr_airflow.testing.servers import GcsServer

    with GcsServer() as server:
        yield server


@pytest.fixture(scope="session")
def webhdfs_server():
    from sr_airflow.testing.webhdfs import WebHdfsServer

    with WebHdfsServer() as server:
        yield server


@pytest.fixture(params=BACKENDS)
def backend_name(request):
    return request.param


@pytest.fixture
def storage(request, backend_name):
    """A fresh, empty location on the backend named by ``backend_name``."""
    name = unique("bkt")
    if backend_name == "s3_aws":
        server = request.getfixturevalue("s3_server")
        client = boto_client(server.endpoint_url)
        client.create_bucket(Bucket=name)
        st = get_storage(f"s3://{name}/backup", client=client, retry=FAST_RETRY)
        assert st.location.starrocks_uri == f"s3a://{name}/backup"
    elif backend_name == "s3_minio":
        server = request.getfixturevalue("s3_server")
        boto_client(server.endpoint_url).create_bucket(Bucket=name)
        st = get_storage(f"s3://{name}/backup", endpoint=server.endpoint_url, region_name="us-east-1",
                         aws_access_key_id="minio", aws_secret_access_key="minio123", retry=FAST_RETRY)
        assert st.location.is_minio and st.location.starrocks_uri == f"s3://{name}/backup"
    elif backend_name == "gcs":
        server = request.getfixturevalue("gcs_server")
        st = get_storage(f"gs://{name}/backup", endpoint_url=server.endpoint_url, retry=FAST_RETRY)
        st.client.create_bucket(name)
        assert st.location.starrocks_uri == f"s3a://{name}/backup"
    elif backend_name == "hdfs":
        server = request.getfixturevalue("webhdfs_server")
        st = get_storage(f"hdfs://namenode:8020/{name}/backup", webhdfs_url=server.url, user="hdfs",
                         retry=FAST_RETRY)
    else:
        st = get_storage(RepositoryLocation("memory", "memory", name, "backup"), retry=FAST_RETRY)
    yield st
    st.close()
