"""Item 9: S3 API faults injected by a real HTTP proxy in front of the S3 server (500 InternalError, 503 SlowDown,
503 ServiceUnavailable, connections closed without an answer) during catalog writes and retention."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from botocore.exceptions import ConnectionClosedError

from sr_airflow.engine.catalog import EntryStatus
from sr_airflow.engine.retention import RetentionExecutor, RetentionPolicy
from sr_airflow.storage.catalog_store import CatalogStore
from sr_airflow.storage.location import RepositoryLocation
from sr_airflow.storage.retry import RetryPolicy
from sr_airflow.storage.s3 import S3RepositoryStorage
from tests.engine.strategies_catalog import START, make_entry
from tests.storage.layouts import write_snapshot
from tests.support.figures import count
from tests.support.http_faults import FaultRule
from tests.support.s3 import BUCKET, S3_KEY, S3_SECRET

FAST = RetryPolicy(attempts=5, base_delay=0.02, max_delay=0.2)
_prefixes = itertools.count()
D = timedelta(days=1)


def _storage(endpoint: str, prefix: str) -> S3RepositoryStorage:
    location = RepositoryLocation("s3", "s3", BUCKET, prefix, endpoint)
    return S3RepositoryStorage(location, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=S3_KEY,
                               aws_secret_access_key=S3_SECRET, retry=FAST)


@pytest.fixture
def repo(s3_proxy):
    """A repository with six daily snapshots (a full every 4 days) and their catalog, written without faults."""
    prefix = f"faults-{next(_prefixes)}"
    storage = _storage(s3_proxy.endpoint_url, prefix)
    store = CatalogStore(storage, "repo")
    parent = None
    for i in range(6):
        full = i % 4 == 0
        label = f"s{i:02d}"
        write_snapshot(storage, "repo", label, content_files=3, threads=2)
        store.put(make_entry(label, START + i * D, snapshot_kind="full" if full else "incremental",
                             parent=None if full else parent))
        parent = label
    return storage, store


@pytest.mark.parametrize("fault", ["500", "503-slowdown", "503", "drop"])
def test_catalog_writes_are_retried_through_each_fault(s3_proxy, repo, fault):
    storage, store = repo
    entry = store.get("s05").with_status(EntryStatus.DELETING, now=START + 7 * D)
    s3_proxy.rules = [FaultRule(fault, method="PUT", path_contains="/entries/", times=3)]
    store.put(entry)
    assert s3_proxy.injected == {fault: 3}
    assert store.get("s05").status is EntryStatus.DELETING
    count("item9 faults injected", s3_proxy.injected[fault])
    count("item9 faults survived (retried to success)", s3_proxy.injected[fault])


@pytest.mark.parametrize("fault", ["500", "503-slowdown", "drop"])
def test_catalog_reads_and_listings_are_retried(s3_proxy, repo, fault):
    storage, store = repo
    s3_proxy.rules = [FaultRule(fault, method="GET", query_contains="list-type", times=2),
                      FaultRule(fault, method="GET", path_contains="/entries/", times=2)]
    catalog = store.load(threads=1)
    assert [e.label for e in catalog] == [f"s{i:02d}" for i in range(6)] and store.unreadable == []
    assert [rule.hits for rule in s3_proxy.rules] == [2, 2]
    count("item9 faults injected", s3_proxy.injected[fault])
    count("item9 faults survived (retried to success)", s3_proxy.injected[fault])


def test_a_write_that_never_gets_through_fails_clearly_and_leaves_the_previous_catalog_readable(s3_proxy, repo):
    storage, store = repo
    before = store.load()
    changed = store.get("s05").with_status(EntryStatus.FAILED, now=START + 7 * D, message="x")
    s3_proxy.rules = [FaultRule("drop", method="PUT", path_contains="/entries/", times=100)]
    # the last try's error, naming the entry's object (botocore's own: the backend does not map it to a built-in)
    with pytest.raises(ConnectionClosedError, match=r"^Connection was closed before we received a valid response "
                       r"from endpoint URL: \"http://127\.0\.0\.1:\d+/sr-backups/faults-\d+/__sr_airflow_catalog_repo/"
                       r"entries/s05\.parquet\"\.$"):
        store.put(changed)
    assert s3_proxy.injected["drop"] == FAST.attempts  # bounded: exactly the policy's attempts
    s3_proxy.rules = []
    after = store.load()
    assert [(e.label, e.status) for e in after] == [(e.label, e.status) for e in before]
    count("item9 faults injected", s3_proxy.injected["drop"])
    count("item9 persistent faults ending in a clear error, previous catalog intact", 1)


@pytest.mark.parametrize("fault", ["500", "503-slowdown", "503", "drop"])
def test_retention_survives_faults_on_deletes_and_catalog_writes(s3_proxy, repo, fault):
    storage, store = repo
    # S3 deletes are all DeleteObjects (POST ?delete), never DELETE: the snapshot's files of s03 first, then its
    # catalog entry (the second POST the first rule lets through)
    snapshot_files = FaultRule(fault, method="POST", query_contains="delete", times=1)
    status_write = FaultRule(fault, method="PUT", path_contains="/entries/", times=1)
    entry_removal = FaultRule(fault, method="POST", query_contains="delete", after=1, times=1)
    s3_proxy.rules = [snapshot_files, status_write, entry_removal]
    report = RetentionExecutor(storage, store).run(RetentionPolicy(keep_last=1), now=START + 6 * D,
                                                   dry_run=False)
    assert report.failures == {} and report.deleted == ("s03", "s02", "s01", "s00")
    assert store.labels() == ["s04", "s05"]
    assert [s.label for s in storage.list_snapshots("repo")] == ["s04", "s05"]
    assert [rule.hits for rule in s3_proxy.rules] == [1, 1, 1]  # each rule fired where it was aimed
    assert s3_proxy.injected == {fault: 3}
    count("item9 faults injected", s3_proxy.injected[fault])
    count("item9 faults survived (retried to success)", s3_proxy.injected[fault])


def test_a_deletion_cut_off_for_good_leaves_a_record_that_says_so_and_the_next_run_finishes(s3_proxy, repo):
    storage, store = repo
    # the DeleteObjects of one snapshot (s02) keeps failing: its files are half there at most
    s3_proxy.rules = [FaultRule("503", method="POST", query_contains="delete", after=2, times=FAST.attempts)]
    # (POST 1: the files of s03, POST 2: its catalog entry, POST 3: the files of s02)
    report = RetentionExecutor(storage, store).run(RetentionPolicy(keep_last=1), now=START + 6 * D,
                                                   dry_run=False)
    assert list(report.failures) == ["s02"] and "ServiceUnavailable" in report.failures["s02"]
    assert store.get("s02").status is EntryStatus.DELETING  # the record that says so
    assert set(store.labels()) == {"s02", "s04", "s05"}
    assert s3_proxy.rules[0].hits == FAST.attempts  # every try of s02's DeleteObjects failed
    count("item9 faults injected", sum(s3_proxy.injected.values()))
    deleting = [e.label for e in store.load() if e.status is EntryStatus.DELETING]
    assert deleting == ["s02"]
    count("item9 half-deleted snapshots left with a 'deleting' record", len(deleting))
    s3_proxy.rules = []
    report = RetentionExecutor(storage, store).run(RetentionPolicy(keep_last=1), now=START + 6 * D,
                                                   dry_run=False)
    assert report.deleted == ("s02",) and report.failures == {}
    assert store.labels() == ["s04", "s05"]
    assert [s.label for s in storage.list_snapshots("repo")] == ["s04", "s05"]
