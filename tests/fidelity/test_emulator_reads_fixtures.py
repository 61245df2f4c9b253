"""The emulator reading snapshots as StarRocks writes them: the golden job-info files (3.5 with a partition of two
physical partitions, 3.3, and BackupJobInfoTest's old sample) uploaded by hand under a repository root, listed by
SHOW SNAPSHOT and summarised in its Details (`Repository.getSnapshotInfo`, `BackupJobInfo.getBrief` at 3.5
`e223275f78`), with `.part` leftovers shown as `Invalid: <file>`."""

from __future__ import annotations

import hashlib
import json
import struct

import pytest

from tests.fidelity.helpers import Session, load_fixture

TS = "2024-12-09-10-25-58-842"
PART_TS = "2024-12-09-11-00-00-000"
JOB_35 = load_fixture("job_info_3.5.json")
JOB_33 = load_fixture("job_info_3.3.json")
OLD_SAMPLE = load_fixture("BackupJobInfoTest_old_sample.json")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324 - StarRocks' checksum


def brief_of(job: dict) -> dict:
    """`toJson(false)`: no ids, each partition an empty object, autoIncrementId only when set; the versions are the
    reader's own constants (`FeConstants`), whatever the file held."""
    objects = {}
    for name, table in job["backup_objects"].items():
        brief = {"partitions": {p: {} for p in table["partitions"]}}
        if table.get("autoIncrementId") is not None:
            brief["autoIncrementId"] = table["autoIncrementId"]
        objects[name] = brief
    return {"name": job["name"], "database": job["database"], "backup_time": job["backup_time"],
            "backup_objects": objects, "meta_version": JOB_35["meta_version"],
            "starrocks_meta_version": JOB_35["starrocks_meta_version"], "backup_result": "succeed"}


@pytest.fixture(scope="module")
def repo(emulator, s3, bucket):
    sess = Session(emulator, s3, bucket)
    location = f"fidelity/{sess.repo}"
    root = f"{location}/__starrocks_repository_{sess.repo}"

    def put(key: str, body: bytes, checksum: bool = True) -> None:
        name = f"{root}/{key}.{md5(body)}" if checksum else f"{root}/{key}"
        s3.put_object(Bucket=bucket, Key=name, Body=body)

    def meta(name: str) -> bytes:
        body = json.dumps(load_fixture(name)).encode()
        return struct.pack(">i", len(body)) + body

    put("__repo_info", json.dumps({"name": sess.repo, "create_time": "2024-12-09 10:00:00"}).encode(), False)
    for label, job, meta_name in (("snap1", JOB_35, "meta_3.5.json"), ("snap33", JOB_33, "meta_3.3.json"),
                                  ("snap_mixed", JOB_35, "meta_3.5.json")):
        put(f"__ss_{label}/__info_{TS}", json.dumps(job, separators=(",", ":")).encode())
        put(f"__ss_{label}/__meta", meta(meta_name))
    put(f"__ss_snap_old/__info_{TS}", json.dumps(OLD_SAMPLE).encode())
    put(f"__ss_snap_mixed/__info_{PART_TS}.part", b"{}", False)
    put(f"__ss_snap_part/__info_{PART_TS}.part", b"{}", False)
    sess.create_repository(location)
    yield sess
    sess.close()


def test_show_snapshot_lists_every_snapshot_dir(repo):
    rows = {r[0]: (r[1], r[2]) for r in repo.run(f"SHOW SNAPSHOT ON {repo.repo}")}
    invalid = f"Invalid: __info_{PART_TS}.part"
    assert set(rows) == {"snap1", "snap33", "snap_old", "snap_mixed", "snap_part"}
    assert rows["snap1"] == rows["snap33"] == rows["snap_old"] == (TS, "OK")
    assert rows["snap_part"] == (invalid, "OK"), "a name without a 32-character checksum is listed as Invalid"
    assert set(rows["snap_mixed"][0].split("\n")) == {TS, invalid} and rows["snap_mixed"][1] == "OK"


@pytest.mark.parametrize("label,job", [("snap1", JOB_35), ("snap33", JOB_33), ("snap_old", OLD_SAMPLE)])
def test_details_are_the_brief_of_the_job_info(repo, label, job):
    rows = repo.dicts(f"SHOW SNAPSHOT ON {repo.repo} WHERE SNAPSHOT = '{label}' AND TIMESTAMP = '{TS}'")
    assert [(r["Snapshot"], r["Timestamp"], r["Database"], r["Status"]) for r in rows] == \
        [(label, TS, job["database"], "OK")]
    assert json.loads(rows[0]["Details"]) == brief_of(job)


def test_the_golden_brief_is_the_brief_of_the_golden_job_info():
    """The two fixtures agree with each other (the rule `brief_of` encodes is the one the emulator is held to)."""
    assert json.loads(load_fixture("job_info_brief_3.5.txt")) == brief_of(JOB_35)
