"""The emulator's job info (`__info_<ts>.<md5>`) and its brief form against `fixtures/job_info_*` and the ids
StarRocks puts in `partitions_meta` and content paths (README: `job_info_3.5.json`, `BackupJobInfo.fromCatalog` /
`toJson` at 3.4 `afccab88fd` and 3.5 `e223275f78`)."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.fidelity.helpers import ROLLUP, SALES_DDL, SALES_LOADS, VIEW, Session, load_fixture, take_snapshot

FIXTURE = load_fixture("job_info_3.5.json")
FIX_TABLE = FIXTURE["backup_objects"]["sales"]
FIX_PART = FIX_TABLE["partitions"]["p1"]
FIX_SUB = next(iter(FIX_PART["subPartitions"].values()))
FIX_INDEX = FIX_SUB["indexes"]["sales"]
FIX_VIEW = FIXTURE["backup_objects"]["v_sales"]
CONTENT = re.compile(load_fixture("repository_layout.json")["regex"]["tablet_dir"][:-1] + r"/(?P<file>[^/]+)$")

@pytest.fixture(scope="module")
def scenario(emulator, s3, bucket):
    """A range-partitioned table with a rollup and two loads into p1, a view, one BACKUP of the database."""
    sess = Session(emulator, s3, bucket)
    sess.run(SALES_DDL, *SALES_LOADS, ROLLUP, VIEW)
    meta_rows = sess.dicts("SELECT PARTITION_NAME, PARTITION_ID, VISIBLE_VERSION, IS_TEMP "
                           f"FROM information_schema.partitions_meta WHERE DB_NAME = '{sess.db}' "
                           "AND TABLE_NAME = 'sales'")
    started = time.time()
    snap = take_snapshot(sess, "snap1")
    yield sess, snap, meta_rows, started
    sess.close()


def test_top_level_keys_values_and_versions(scenario):
    sess, snap, _, started = scenario
    info = snap.info
    assert set(info) == set(FIXTURE)
    assert info["name"] == "snap1" and info["database"] == sess.db
    assert isinstance(info["id"], int) and info["id"] > 0
    assert isinstance(info["backup_time"], int) and abs(info["backup_time"] / 1000 - started) < 600
    assert info["meta_version"] == FIXTURE["meta_version"]
    assert info["starrocks_meta_version"] == FIXTURE["starrocks_meta_version"]
    assert info["backup_result"] == "succeed"
    assert set(info["backup_objects"]) == {"sales", "v_sales"}


def test_info_file_name_is_the_backup_time(scenario):
    """`__info_` + createTime formatted `yyyy-MM-dd-HH-mm-ss-SSS` (BackupJob.saveMetaInfo), the job's backup_time."""
    _, snap, _, _ = scenario
    name = snap.info_key.rsplit("/", 1)[1]
    ts = re.fullmatch(load_fixture("repository_layout.json")["regex"]["job_info"], name).group("timestamp")
    millis = snap.info["backup_time"]
    local = time.localtime(millis / 1000)
    assert ts == time.strftime("%Y-%m-%d-%H-%M-%S", local) + f"-{millis % 1000:03d}"


def test_table_partition_and_index_shapes(scenario):
    _, snap, _, _ = scenario
    table = snap.info["backup_objects"]["sales"]
    assert set(table) == set(FIX_TABLE), "autoIncrementId must be absent when null"
    assert isinstance(table["id"], int)
    assert set(table["partitions"]) == {"p1", "p2"}
    for name, part in table["partitions"].items():
        assert set(part) == set(FIX_PART), name
        assert part["indexes"] == {}, f"{name}: since 3.4 the partition-level indexes are left empty"
        assert part["version_hash"] == 0
        assert part["subPartitions"], name
        for key, sub in part["subPartitions"].items():
            assert set(sub) == set(FIX_SUB)
            assert key == str(sub["id"]), "subPartitions are keyed by the physical partition id"
            assert sub["id"] != part["id"], "a physical partition has its own id (LocalMetastore, #50598)"
            assert set(sub["indexes"]) == {"sales", "r1"}, "indexes are named after the table and the rollup"
            for index in sub["indexes"].values():
                assert set(index) == set(FIX_INDEX)
                assert isinstance(index["id"], int) and isinstance(index["schema_hash"], int)
                assert all(files == [] for files in index["tablets"].values())
                # `tablets` is an org.json object (HashMap order); `tablets_order` keeps the index's tablet order
                assert sorted(index["tablets_order"]) == sorted(index["tablets"])
                assert len(set(index["tablets_order"])) == len(index["tablets_order"])
                assert all(isinstance(t, str) and t.isdigit() for t in index["tablets_order"])
        (only,) = part["subPartitions"].values()  # one physical partition each here: it is the default one
        assert part["version"] == only["version"]
    p1, p2 = (next(iter(table["partitions"][n]["subPartitions"].values())) for n in ("p1", "p2"))
    assert (p1["version"], p2["version"]) == (3, 2), "init version 1, one more per load"


def test_view_is_listed_with_empty_partitions(scenario):
    _, snap, _, _ = scenario
    view = snap.info["backup_objects"]["v_sales"]
    assert set(view) == set(FIX_VIEW)
    assert view["partitions"] == {}
    assert isinstance(view["id"], int)


def test_physical_ids_match_partitions_meta_and_logical_ids_do_not(scenario):
    _, snap, meta_rows, _ = scenario
    parts = snap.info["backup_objects"]["sales"]["partitions"]
    physical = {int(k): (name, sub["version"]) for name, p in parts.items() for k, sub in p["subPartitions"].items()}
    logical = {p["id"] for p in parts.values()}
    assert {r["PARTITION_ID"]: (r["PARTITION_NAME"], r["VISIBLE_VERSION"]) for r in meta_rows} == physical
    assert not logical & set(physical), "job info partition ids are logical, partitions_meta ids physical"


def test_content_paths_use_the_job_info_ids(scenario):
    _, snap, _, _ = scenario
    info = snap.info
    table = info["backup_objects"]["sales"]
    expected = {(int(pid), index["id"], int(tablet))
                for p in table["partitions"].values() for pid, sub in p["subPartitions"].items()
                for index in sub["indexes"].values() for tablet in index["tablets"]}
    seen = set()
    assert snap.content, "no tablet files under __ss_content"
    for path in snap.content:
        m = CONTENT.fullmatch(path)
        assert m, path
        assert int(m["db_id"]) == info["id"] and int(m["table_id"]) == table["id"], path
        seen.add((int(m["partition_id"]), int(m["index_id"]), int(m["tablet_id"])))
    assert seen == expected, "one __part_<physical id>/__idx_<id>/__<tablet> directory per job-info tablet"


def test_brief_form_in_show_snapshot(scenario):
    """SHOW SNAPSHOT ... AND TIMESTAMP: Details is `getBrief()` = `toJson(false).toString(1)`."""
    sess, snap, _, _ = scenario
    brief = json.loads(load_fixture("job_info_brief_3.5.txt"))
    ts = snap.info_key.rsplit("/", 1)[1].split(".")[0][len("__info_"):]
    rows = sess.dicts(f"SHOW SNAPSHOT ON {sess.repo} WHERE SNAPSHOT = 'snap1' AND TIMESTAMP = '{ts}'")
    assert [r["Status"] for r in rows] == ["OK"]
    details = json.loads(rows[0]["Details"])
    assert set(details) == set(brief)
    assert details["backup_objects"] == {"sales": {"partitions": {"p1": {}, "p2": {}}}, "v_sales": {"partitions": {}}}
    assert rows[0]["Details"].startswith('{\n "'), "org.json toString(1): one-space indentation"


def test_auto_increment_id_is_written_when_the_table_has_one(session):
    fixture = load_fixture("job_info_3.5_auto_increment.json")["backup_objects"]["events"]
    session.run("CREATE TABLE events (id BIGINT NOT NULL AUTO_INCREMENT, name VARCHAR(20) NULL) PRIMARY KEY(id) "
                "DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
                "INSERT INTO events (name) VALUES ('a'), ('b')")
    snap = take_snapshot(session, "snap_ai", on="events")
    table = snap.info["backup_objects"]["events"]
    assert set(table) == set(fixture)
    assert isinstance(table["autoIncrementId"], int) and table["autoIncrementId"] > 0
