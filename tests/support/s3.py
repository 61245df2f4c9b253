"""The S3 side of the tests: the bucket the session's S3 server starts with, the keys the suite uses (moto accepts
any), and a client and an Airflow ``aws`` connection for it."""

from __future__ import annotations

import json
from urllib.parse import quote

BUCKET = "sr-backups"
S3_KEY, S3_SECRET = "test-access-key", "test-secret-key-123"


def s3_client(endpoint_url: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url, aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET,
                        region_name="us-east-1")


def aws_connection_uri(endpoint_url: str) -> str:
    """An Airflow ``aws`` connection (as an AIRFLOW_CONN_* value) to the S3 server at ``endpoint_url``."""
    extra = json.dumps({"endpoint_url": endpoint_url, "region_name": "us-east-1"})
    return f"aws://{S3_KEY}:{S3_SECRET}@/?__extra__={quote(extra)}"
