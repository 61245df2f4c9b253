"""A restored table's partitions as StarRocks leaves them (RestoreJob at 3.5 `e223275f78`): new logical and physical
ids from the id counter, each physical partition's visible version set to the backed-up one
(`PhysicalPartition.updateVersionForRestore`: visible = backed-up version, next = visible + 1), and a backup of the
restored table writing the same job-info shape (`fixtures/job_info_3.5.json`)."""

from __future__ import annotations

import pytest

from tests.fidelity.helpers import ROLLUP, SALES_DDL, SALES_LOADS, Session, Snapshot, load_fixture, take_snapshot
from tests.support.waiting import wait_until

FIX_PART = load_fixture("job_info_3.5.json")["backup_objects"]["sales"]["partitions"]["p1"]


def wait_restore(sess: Session, timeout: float = 60.0) -> dict:
    def ended() -> dict | None:
        rows = sess.dicts(f"SHOW RESTORE FROM {sess.db}")
        return rows[0] if rows and rows[0]["State"] in ("FINISHED", "CANCELLED") else None

    return wait_until(ended, timeout, "RESTORE ending", interval=0.02)


def physical_rows(sess: Session, table: str) -> dict[str, dict]:
    rows = sess.dicts("SELECT PARTITION_NAME, PARTITION_ID, VISIBLE_VERSION, NEXT_VERSION "
                      f"FROM information_schema.partitions_meta WHERE DB_NAME = '{sess.db}' AND TABLE_NAME = '{table}'")
    return {r["PARTITION_NAME"]: r for r in rows}


@pytest.fixture(scope="module")
def restored(emulator, s3, bucket):
    sess = Session(emulator, s3, bucket)
    sess.run(SALES_DDL, *SALES_LOADS, ROLLUP)
    first = take_snapshot(sess, "snap_r")
    ts = first.info_key.rsplit("/", 1)[1].split(".")[0][len("__info_"):]
    sess.run(f"RESTORE SNAPSHOT {sess.db}.snap_r FROM {sess.repo} ON (sales AS sales_r) "
             f"PROPERTIES ('backup_timestamp' = '{ts}', 'replication_num' = '1')")
    job = wait_restore(sess)
    assert job["State"] == "FINISHED", job
    sess.backup("snap_again", on="sales_r")
    again = Snapshot(sess, f"fidelity/{sess.repo}", "snap_again")
    yield sess, first, again
    sess.close()


def test_restored_versions_are_the_backed_up_versions(restored):
    sess, first, _ = restored
    backed_up = {name: next(iter(p["subPartitions"].values()))["version"]
                 for name, p in first.info["backup_objects"]["sales"]["partitions"].items()}
    rows = physical_rows(sess, "sales_r")
    assert {n: r["VISIBLE_VERSION"] for n, r in rows.items()} == backed_up == {"p1": 3, "p2": 2}
    assert all(r["NEXT_VERSION"] == r["VISIBLE_VERSION"] + 1 for r in rows.values())
    assert sess.run("SELECT COUNT(*) FROM sales_r") == [(3,)]


def test_restored_table_has_new_ids(restored):
    sess, first, again = restored
    old = first.info["backup_objects"]["sales"]
    new = again.info["backup_objects"]["sales_r"]
    old_ids = {old["id"]} | {p["id"] for p in old["partitions"].values()} | \
        {int(k) for p in old["partitions"].values() for k in p["subPartitions"]}
    new_physical = {r["PARTITION_ID"] for r in physical_rows(sess, "sales_r").values()}
    new_logical = {p["id"] for p in new["partitions"].values()}
    assert not (new_physical | new_logical | {new["id"]}) & old_ids
    assert not new_physical & new_logical, "a restored partition's physical partition has its own id too"


def test_backup_of_the_restored_table_has_the_same_shape(restored):
    sess, _, again = restored
    table = again.info["backup_objects"]["sales_r"]
    meta_ids = {n: r["PARTITION_ID"] for n, r in physical_rows(sess, "sales_r").items()}
    for name, part in table["partitions"].items():
        assert set(part) == set(FIX_PART) and part["indexes"] == {}
        assert list(part["subPartitions"]) == [str(meta_ids[name])]
        (sub,) = part["subPartitions"].values()
        assert set(sub["indexes"]) == {"sales_r", "r1"}, "the base index is named after the restored table"
