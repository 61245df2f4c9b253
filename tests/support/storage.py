"""Storage test helpers: a fast retry policy, a boto3 client for the S3 server, names unique across xdist workers,
and a sample catalog entry."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime

from sr_airflow.engine.catalog import CatalogEntry, EntryStatus, PartitionRecord, SnapshotKind, Tombstone
from sr_airflow.storage import RetryPolicy

FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)
SAMPLE_REPOSITORY = "test_repo"
_counter = itertools.count()


def boto_client(endpoint_url: str, **config):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint_url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(**config) if config else None)


def unique(prefix: str) -> str:
    """``<prefix>-<pid>-<n>``: no two tests of a run, on any worker, get the same name."""
    return f"{prefix}-{os.getpid()}-{next(_counter)}"


def sample_entry(label: str, status: EntryStatus = EntryStatus.OK, **kw) -> CatalogEntry:
    """A catalog entry of repository ``SAMPLE_REPOSITORY`` with one partition, one tombstone and every field set."""
    moment = datetime(2024, 12, 9, 10, 25, 58, 842000, tzinfo=UTC)
    return CatalogEntry(label=label, repository=SAMPLE_REPOSITORY, database="sr_hub",
                        snapshot_kind=kw.pop("snapshot_kind", SnapshotKind.FULL), status=status,
                        backup_timestamp="2024-12-09-10-25-58-842", backup_time=moment,
                        partitions=(PartitionRecord("t1", "p1", 301, 7, 100, 2048, 20000),),
                        tombstones=(Tombstone("old_table"),), scope={"database": "sr_hub"},
                        verification={"rows": 100}, phase_seconds={"backup": 12.5}, dag_id="d", run_id="r",
                        created_at=moment, updated_at=moment, **kw)
