"""The backend-agnostic conformance suite: every backend passes the same tests against its real test server."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sr_airflow.engine.catalog import CatalogEntry, EntryStatus, SnapshotKind
from sr_airflow.storage.catalog_store import CatalogStore
from sr_airflow.storage.layout import with_md5
from sr_airflow.storage.location import catalog_root, join_key, repository_root
from tests.storage.layouts import write_repo_info, write_snapshot
from tests.support.storage import SAMPLE_REPOSITORY as REPO
from tests.support.storage import sample_entry as _entry

pytestmark = pytest.mark.integration


def test_write_read_head_list(storage):
    storage.write("a/b/c.txt", b"hello")
    storage.write("a/d.txt", b"xy")
    assert storage.read("a/b/c.txt") == b"hello"
    assert storage.head("a/d.txt").size == 2
    assert storage.exists("a/b/c.txt") and not storage.exists("a/zzz")
    assert [(o.key, o.size) for o in storage.list("a")] == [("a/b/c.txt", 5), ("a/d.txt", 2)]
    shallow = storage.list("a", recursive=False)
    assert [(o.key, o.is_dir) for o in shallow] == [("a/b", True), ("a/d.txt", False)]
    storage.write("a/d.txt", b"replaced")
    assert storage.read("a/d.txt") == b"replaced"


def test_missing_objects_map_to_builtins(storage):
    with pytest.raises(FileNotFoundError, match="nope"):
        storage.read("nope/x.bin")
    assert storage.head("nope/x.bin") is None
    assert storage.list("nope") == []


def test_bad_keys_and_prefixes_are_refused(storage):
    with pytest.raises(ValueError, match=r"'\.\.'"):
        storage.read("../outside")
    with pytest.raises(ValueError, match="empty prefix"):
        storage.delete_prefix("/")


def test_list_snapshots_as_show_snapshot_computes_them(storage):
    write_repo_info(storage, REPO)
    write_snapshot(storage, REPO, "good", timestamp="2024-12-09-10-25-58-842")
    write_snapshot(storage, REPO, "unfinished", with_info=False)
    two = write_snapshot(storage, REPO, "twice", timestamp="2024-12-10-00-00-00-001")
    folder = join_key(repository_root(REPO), "__ss_twice")
    storage.write(join_key(folder, with_md5("__info_2024-12-11-00-00-00-002", b"{}")), b"{}")
    storage.write(join_key(repository_root(REPO), "__ss_bad", "__info_2024-12-12-00-00-00-000.part"), b"{}")
    rows = {s.label: s for s in storage.list_snapshots(REPO)}
    assert sorted(rows) == ["bad", "good", "twice", "unfinished"]
    assert (rows["good"].timestamp, rows["good"].status) == ("2024-12-09-10-25-58-842", "OK")
    assert (rows["unfinished"].timestamp, rows["unfinished"].status) == ("", "ERROR: no snapshot")
    assert rows["twice"].timestamp == f"{two.timestamp}\n2024-12-11-00-00-00-002"
    assert rows["bad"].timestamp == "Invalid: __info_2024-12-12-00-00-00-000.part"
    assert rows["bad"].status == "OK" and not rows["bad"].ok
    assert rows["twice"].latest_timestamp == "2024-12-11-00-00-00-002"


def test_read_job_info_checks_md5(storage):
    snap = write_snapshot(storage, REPO, "snap1", tables={"t1": {"p1": (301, 7)}, "t2": {"t2": (302, 2)}})
    info = storage.read_job_info(REPO, "snap1")
    assert info.label == "snap1" and info.database == "sr_hub" and info.timestamp == snap.timestamp
    assert info.partition_versions() == {("t1", "p1"): 7, ("t2", "t2"): 2}
    assert info.backup_time == datetime(2024, 12, 9, 10, 25, 58, 842000, tzinfo=UTC)
    with pytest.raises(FileNotFoundError, match="no job-info file"):
        storage.read_job_info(REPO, "snap1", timestamp="2000-01-01-00-00-00-000")
    doc = json.loads(storage.read(snap.info_key))
    doc["backup_objects"]["t1"]["partitions"]["p1"]["version"] = 8  # corrupted after the md5 was computed
    storage.write(snap.info_key, json.dumps(doc).encode())
    with pytest.raises(ValueError, match="md5sum does not equal"):
        storage.read_job_info(REPO, "snap1")


def test_snapshot_size(storage):
    snap = write_snapshot(storage, REPO, "sized", content_files=7)
    size = storage.snapshot_size(REPO, "sized")
    assert (size.bytes, size.objects) == (snap.total_bytes, len(snap.keys))


def test_delete_snapshot_is_complete_and_confined(storage):
    write_repo_info(storage, REPO)
    doomed = write_snapshot(storage, REPO, "doomed", content_files=12)
    write_snapshot(storage, REPO, "doomed_not", content_files=2)  # shares the label prefix
    storage.write(join_key(catalog_root(REPO), "entries", "doomed.parquet"), b"catalog")
    storage.write("unrelated/file", b"x")
    report = storage.delete_snapshot(REPO, "doomed")
    assert report.objects == len(doomed.keys)
    assert storage.list(join_key(repository_root(REPO), "__ss_doomed")) == []
    assert [s.label for s in storage.list_snapshots(REPO)] == ["doomed_not"]
    assert storage.exists(join_key(repository_root(REPO), "__repo_info"))
    assert storage.exists(join_key(catalog_root(REPO), "entries", "doomed.parquet"))
    assert storage.exists("unrelated/file")


def test_catalog_round_trip_beside_starrocks_folder(storage):
    store = CatalogStore(storage, REPO)
    first = _entry("snap_a")
    second = _entry("snap_b", snapshot_kind=SnapshotKind.INCREMENTAL, parent_label="snap_a")
    store.put(first)
    store.put(second)
    catalog = store.load()
    assert [e.label for e in catalog] == ["snap_a", "snap_b"]
    assert catalog.get("snap_a") == first and catalog.get("snap_b") == second
    keys = [o.key for o in storage.list("")]
    assert keys and all(k.startswith(catalog_root(REPO) + "/entries/") for k in keys)
    assert not any(k.startswith(repository_root(REPO)) for k in keys)
    store.put(second.with_status(EntryStatus.DELETING, now=datetime(2025, 1, 1, tzinfo=UTC)))
    assert store.get("snap_b").status is EntryStatus.DELETING
    store.remove("snap_b")
    assert store.labels() == ["snap_a"]


def test_catalog_crash_mid_write_leaves_previous_state_readable(storage, monkeypatch):
    store = CatalogStore(storage, REPO)
    pending = _entry("snap_c", EntryStatus.PENDING)
    store.put(pending)

    # A process dying mid-upload cannot be provoked on a real server from the client side: simulate it by failing
    # the backend's write primitive after part of the work (HDFS: after the temp file; others: before the PUT).
    real_put = storage._put

    def crashing_put(key, data):
        if storage.backend == "hdfs":
            storage.client.write("/" + key + ".__sr_tmp__crash", data=data[: len(data) // 2], overwrite=True)
        raise KeyboardInterrupt("simulated crash")

    monkeypatch.setattr(storage, "_put", crashing_put)
    with pytest.raises(KeyboardInterrupt, match="simulated crash"):
        store.put(pending.with_status(EntryStatus.OK))
    monkeypatch.setattr(storage, "_put", real_put)
    assert store.load().get("snap_c") == pending


def test_catalog_skips_a_torn_file_and_keeps_the_rest(storage):
    store = CatalogStore(storage, REPO)
    store.put(_entry("whole"))
    storage.write(store.entry_key("torn"), b"PAR1 truncated garbage")
    catalog = store.load()
    assert [e.label for e in catalog] == ["whole"]
    assert store.unreadable == [store.entry_key("torn")]


def test_legacy_palo_repository_prefix_is_used_when_its_repo_info_exists(storage):
    legacy = "__palo_repository_" + REPO
    storage.write(f"{legacy}/__repo_info", b'{"name": "test_repo", "create_time": "2019-01-01 00:00:00"}')
    info = b'{"name": "old", "database": "d", "backup_time": 1546300800000, "backup_objects": {}}'
    storage.write(f"{legacy}/__ss_old/{with_md5('__info_2019-01-01-00-00-00-000', info)}", info)
    assert storage.repository_root(REPO) == legacy
    assert [s.label for s in storage.list_snapshots(REPO)] == ["old"]
    assert storage.read_job_info(REPO, "old").label == "old"
    assert storage.delete_snapshot(REPO, "old").objects == 1


def test_a_legacy_snapshot_is_deleted_without_asking_for_the_root_first(storage):
    legacy = "__palo_repository_" + REPO
    storage.write(f"{legacy}/__repo_info", b'{"name": "test_repo", "create_time": "2019-01-01 00:00:00"}')
    storage.write(f"{legacy}/__ss_old/__meta.0123", b"m")
    storage.write(f"{legacy}/__ss_old/__ss_content/__db_1/t.dat", b"d")
    assert storage.delete_snapshot(REPO, "old").objects == 2
    assert [o.key for o in storage.list(legacy) if not o.is_dir] == [f"{legacy}/__repo_info"]
    assert storage.repository_root(REPO) == legacy


def test_deleting_a_snapshot_under_the_current_root_sends_no_root_check(storage, monkeypatch):
    root = repository_root(REPO)
    storage.write(f"{root}/__repo_info", b"{}")
    for i in range(3):
        storage.write(f"{root}/__ss_s1/__ss_content/f{i}.dat", b"d")
    storage.write(f"{root}/__ss_s2/__meta.0123", b"m")
    heads = []
    real_head = storage._head
    monkeypatch.setattr(storage, "_head", lambda key: heads.append(key) or real_head(key))
    assert storage.delete_snapshot(REPO, "s1").objects == 3
    assert storage.delete_snapshot(REPO, "missing").objects == 0
    assert heads == [] and storage.repository_root(REPO) == root
    assert [o.key for o in storage.list(root) if not o.is_dir] == [f"{root}/__repo_info", f"{root}/__ss_s2/__meta.0123"]


def test_transient_errors_are_retried_then_given_up(storage, monkeypatch):
    storage.write("r/k", b"v")
    real_get = storage._get
    calls = []

    # A dropped connection cannot be ordered from a real server: inject it into the read primitive.
    def flaky(key, failures):
        calls.append(key)
        if len(calls) <= failures:
            raise ConnectionError("connection reset by peer (injected)")
        return real_get(key)

    monkeypatch.setattr(storage, "_get", lambda key: flaky(key, 2))
    assert storage.read("r/k") == b"v" and len(calls) == 3
    calls.clear()
    monkeypatch.setattr(storage, "_get", lambda key: flaky(key, 99))
    with pytest.raises(ConnectionError, match="injected"):
        storage.read("r/k")
    assert len(calls) == storage.retry.attempts


def test_record_finished_reads_versions_and_size_from_storage(storage):
    store = CatalogStore(storage, REPO)
    pending = CatalogEntry(label="inc_7", repository=REPO, database="sr_hub", snapshot_kind=SnapshotKind.INCREMENTAL,
                           status=EntryStatus.PENDING, parent_label="full_1", dag_id="nightly", run_id="run_7",
                           created_at=datetime(2024, 12, 9, 10, 0, tzinfo=UTC), scope={"tables": ["t1"]})
    store.put(pending)
    with pytest.raises(FileNotFoundError, match="no job-info file"):
        store.record_finished("inc_7")  # the job has not uploaded its job info yet: not good
    assert store.get("inc_7").status is EntryStatus.PENDING
    snap = write_snapshot(storage, REPO, "inc_7", tables={"t1": {"p1": (301, 9)}})
    entry = store.record_finished("inc_7", partition_stats={("t1", "p1"): (5, 10)})
    assert (entry.status, entry.snapshot_kind, entry.parent_label, entry.dag_id, entry.run_id) == (
        EntryStatus.OK, SnapshotKind.INCREMENTAL, "full_1", "nightly", "run_7")
    assert [(p.key, p.version, p.row_count) for p in entry.partitions] == [(("t1", "p1"), 9, 5)]
    assert (entry.snapshot_bytes, entry.snapshot_objects) == (snap.total_bytes, len(snap.keys))
    assert store.get("inc_7") == entry and entry.created_at == pending.created_at
    failed = store.record_failed("inc_7", "CANCELLED: user cancelled")
    assert store.get("inc_7").status is EntryStatus.FAILED and failed.message == "CANCELLED: user cancelled"
