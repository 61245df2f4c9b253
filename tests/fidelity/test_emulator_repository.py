"""The emulator's repository on S3 against `fixtures/repository_layout.json` (backup/Repository.java and
RepositoryTest at 3.5 `e223275f78`): roots, `__repo_info`, checksum-suffixed names, no `.part` left, the legacy
`__palo_repository_` root, SHOW SNAPSHOT rows and the SHOW titles of `fixtures/show_titles.json`."""

from __future__ import annotations

import hashlib
import json
import re
import time

import pytest

from tests.fidelity.helpers import Session, Snapshot, load_fixture

LAYOUT = load_fixture("repository_layout.json")
TITLES = load_fixture("show_titles.json")["3.5"]
REGEX = {name: re.compile(pattern) for name, pattern in LAYOUT["regex"].items()}
TABLE = ("CREATE TABLE t (k INT NOT NULL, v VARCHAR(20) NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2 "
         "PROPERTIES ('replication_num' = '1')")


@pytest.fixture(scope="module")
def repo(emulator, s3, bucket):
    """One table backed up once into a fresh repository."""
    sess = Session(emulator, s3, bucket)
    sess.run(TABLE, "INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    location = sess.create_repository()
    sess.backup("snap_layout")
    yield sess, location, Snapshot(sess, location, "snap_layout")
    sess.close()


def test_root_and_repo_info(repo):
    sess, location, snap = repo
    keys = sess.keys(f"{location}/")
    roots = {k[len(location) + 1:].split("/", 1)[0] for k in keys}
    assert roots == {f"__starrocks_repository_{sess.repo}"}
    info_key = f"{snap.root}/__repo_info"
    assert info_key in keys, "__repo_info is uploaded directly, without a checksum suffix"
    info = json.loads(sess.get(info_key))
    assert set(info) == set(LAYOUT["repo_info"]["keys"]) and info["name"] == sess.repo
    time.strptime(info["create_time"], "%Y-%m-%d %H:%M:%S")


def test_every_snapshot_file_has_its_md5_and_no_part_is_left(repo):
    sess, _, snap = repo
    assert snap.keys
    for key in snap.keys:
        name = key.rsplit("/", 1)[1]
        assert not name.endswith(".part"), key
        stem, _, checksum = name.rpartition(".")
        assert stem and re.fullmatch(r"[0-9a-f]{32}", checksum), key
        assert hashlib.md5(sess.get(key)).hexdigest() == checksum, key  # noqa: S324 - StarRocks' checksum


def test_file_names(repo):
    _, _, snap = repo
    top = sorted(n for n in snap.names if "/" not in n)
    assert len(top) == 2
    assert REGEX["meta"].fullmatch(top[1]) and REGEX["job_info"].fullmatch(top[0]), top
    for path in snap.content:
        directory = path.rsplit("/", 1)[0]
        assert REGEX["tablet_dir"].fullmatch(directory), path


def test_show_snapshot_rows(repo):
    sess, _, snap = repo
    ts = REGEX["job_info"].fullmatch(snap.info_key.rsplit("/", 1)[1])["timestamp"]
    rows = sess.run(f"SHOW SNAPSHOT ON {sess.repo} WHERE SNAPSHOT = 'snap_layout'")
    assert [list(r) for r in rows] == [["snap_layout", ts, "OK"]]
    missing = sess.run(f"SHOW SNAPSHOT ON {sess.repo} WHERE SNAPSHOT = 'missing'")
    assert [list(r) for r in missing] == [["missing", "", LAYOUT["show_snapshot"]["status_no_info"]]], \
        "Repository.getSnapshotInfos: a name without __info_ files is a row with ERROR: no snapshot"


@pytest.mark.parametrize("statement,title", [
    ("SHOW BACKUP FROM {db}", "SHOW BACKUP"),
    ("SHOW RESTORE FROM {db}", "SHOW RESTORE"),
    ("SHOW REPOSITORIES", "SHOW REPOSITORIES"),
    ("SHOW SNAPSHOT ON {repo}", "SHOW SNAPSHOT"),
    ("SHOW SNAPSHOT ON {repo} WHERE SNAPSHOT = 'snap_layout' AND TIMESTAMP = '{ts}'",
     "SHOW SNAPSHOT (WHERE SNAPSHOT = .. AND TIMESTAMP = ..)"),
])
def test_show_titles(repo, statement, title):
    sess, _, snap = repo
    ts = REGEX["job_info"].fullmatch(snap.info_key.rsplit("/", 1)[1])["timestamp"]
    assert sess.titles(statement.format(db=sess.db, repo=sess.repo, ts=ts)) == TITLES[title]


def test_legacy_palo_root_is_used_when_its_repo_info_exists(session):
    """Repository.initRepository tries `__palo_repository_<repo>` first and keeps it when its __repo_info exists."""
    location = f"fidelity/{session.repo}"
    legacy = f"{location}/__palo_repository_{session.repo}"
    session.s3.put_object(Bucket=session.bucket, Key=f"{legacy}/__repo_info",
                          Body=json.dumps({"name": session.repo, "create_time": "2020-01-02 03:04:05"}).encode())
    session.run(TABLE, "INSERT INTO t VALUES (1, 'a')")
    session.create_repository(location)
    session.backup("snap_palo")
    keys = session.keys(f"{location}/")
    assert keys and all(k.startswith(f"{legacy}/") for k in keys), sorted(keys)[:5]
    names = {k[len(legacy) + 1:] for k in keys}
    assert any(REGEX["meta"].fullmatch(n.split("/", 1)[1]) for n in names if n.startswith("__ss_snap_palo/"))
    rows = session.run(f"SHOW SNAPSHOT ON {session.repo}")
    assert [r[0] for r in rows] == ["snap_palo"]
