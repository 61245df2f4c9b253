"""Emulators started as other release lines write those lines' formats: 3.3 (`1a2f1f5d75`), 3.4 (`afccab88fd`) and
4.0 (`312b0d9e46`) against `fixtures/job_info_3.3.json`, `meta_3.3.json`, `meta_3.5.json` (with the 3.4 and 4.0
differences named in the README), `partitions_meta.json` and `show_titles.json`."""

from __future__ import annotations

import pytest

from tests.fidelity.helpers import SALES_DDL, SALES_LOADS, VIEW, Session, load_fixture, start_emulator, take_snapshot

PARTITIONS = load_fixture("partitions_meta.json")
TITLES = load_fixture("show_titles.json")
JOB_33 = load_fixture("job_info_3.3.json")
META_33 = load_fixture("meta_3.3.json")
META_35 = load_fixture("meta_3.5.json")
SYSTEM_TABLES = load_fixture("information_schema_tables.json")["columns"]


@pytest.fixture(scope="module", params=["3.3.9", "3.4.3", "4.0.0"])
def line(request, tmp_path_factory, s3_server, s3, bucket):
    """(release line, session on an emulator of that line, snapshot of sales + view where views back up)."""
    version = request.param
    server = start_emulator(tmp_path_factory, s3_server, version)
    sess = Session(server, s3, bucket)
    try:
        sess.run(SALES_DDL, *SALES_LOADS)
        if version >= "3.4":
            sess.run(VIEW)
        snap = take_snapshot(sess, "snap_v")
        yield version[:3], sess, snap
    finally:
        sess.close()
        server.stop()


def test_partitions_meta_columns(line):
    version, sess, _ = line
    titles = sess.titles("SELECT * FROM information_schema.partitions_meta WHERE TABLE_NAME = 'none'")
    assert titles == PARTITIONS["columns"][version]


def test_materialized_views_columns(line):
    version, sess, _ = line
    titles = sess.titles("SELECT * FROM information_schema.materialized_views LIMIT 0")
    assert titles == SYSTEM_TABLES["materialized_views"][version]


def test_show_partitions_titles(line):
    version, sess, _ = line
    expected = [t.replace("{Range|List}", "Range") for t in TITLES[version]["SHOW PARTITIONS"]]
    assert sess.titles("SHOW PARTITIONS FROM sales") == expected


def test_job_info_shape(line):
    version, sess, snap = line
    parts = snap.info["backup_objects"]["sales"]["partitions"]
    meta_ids = {r["PARTITION_NAME"]: r["PARTITION_ID"] for r in sess.dicts(
        "SELECT PARTITION_NAME, PARTITION_ID FROM information_schema.partitions_meta "
        f"WHERE DB_NAME = '{sess.db}' AND TABLE_NAME = 'sales'")}
    if version == "3.3":
        fixture = JOB_33["backup_objects"]["sales"]["partitions"]["p1"]
        for name, part in parts.items():
            assert set(part) == set(fixture)
            assert part["subPartitions"] == {}, "3.3: one physical partition fills the partition-level indexes"
            assert set(part["indexes"]) == {"sales"}
            assert part["id"] == meta_ids[name], "3.3: the default physical partition is the partition itself"
            index = part["indexes"]["sales"]
            assert set(index) == set(fixture["indexes"]["sales"])
            assert all(files and all(isinstance(f, str) for f in files) for files in index["tablets"].values()), \
                "3.3 lists each tablet's snapshot files"
    else:
        for name, part in parts.items():
            assert part["indexes"] == {} and part["id"] != meta_ids[name]
            assert list(part["subPartitions"]) == [str(meta_ids[name])]
        assert snap.info["backup_objects"]["v_sales"]["partitions"] == {}


def test_meta_shape(line):
    version, _, snap = line
    if version == "3.3":
        assert set(snap.meta) == set(META_33), "3.3's BackupMeta has no functions or catalogs"
        column = snap.meta["tblNameMap"]["sales"]["fullSchema"][0]
        assert set(column) == set(META_33["tblNameMap"]["t33"]["fullSchema"][0]), "3.3's Column has no columnId"
        return
    assert set(snap.meta) == set(META_35)
    view = snap.meta["tblNameMap"]["v_sales"]
    fixture_view = set(META_35["tblNameMap"]["v_sales"])
    assert set(view) == (fixture_view - {"s"} if version == "3.4" else fixture_view), "View.security (s): 3.5+"
    physical = {k for p in snap.meta["tblNameMap"]["sales"]["idToPartition"].values()
                for sub in p["idToSubPartition"].values() for k in sub}
    fixture_physical = {k for p in META_35["tblNameMap"]["sales"]["idToPartition"].values()
                        for sub in p["idToSubPartition"].values() for k in sub}
    added_in_40 = {"metadataSwitchVersion", "bucketNum"}
    assert physical == (fixture_physical | added_in_40 if version == "4.0" else fixture_physical), \
        "PhysicalPartition gains metadataSwitchVersion and bucketNum at 4.0"
