"""The product's repository-layout rules on the golden ``repository_layout.json``: the root (legacy or current),
checksummed names and the md5 check, used wherever ``__meta`` and ``__info_`` are read (``RepositoryStorage``).
The storage here is the in-memory backend: these are layout rules, not a backend's behaviour."""

from __future__ import annotations

import json
import uuid

import pytest

from sr_airflow.storage.layout import check_md5, md5_hex, one_stored_file, parse_info_name, split_md5, with_md5
from sr_airflow.storage.location import RepositoryLocation, choose_repository_root, join_key
from sr_airflow.storage.memory import MemoryRepositoryStorage
from tests.fidelity.helpers import load_fixture

LAYOUT = load_fixture("repository_layout.json")
MD5 = LAYOUT["md5"]


def test_md5_names_valid_and_invalid():
    for name in MD5["valid"]:
        assert split_md5(name) is not None, name
    for name in MD5["invalid"]:
        assert split_md5(name) is None, name
    for content, digest in MD5["content_md5_examples"].items():
        assert md5_hex(content.encode()) == digest
    assert parse_info_name("__info_2018-04-12-20-46-45-000.0cc175b9c0f1b6a831c399e269772661").timestamp == (
        "2018-04-12-20-46-45-000")


def test_the_root_rule():
    assert choose_repository_root("repo", legacy_repo_info_exists=False) == LAYOUT["roots"]["current"].format(
        repo="repo")
    assert choose_repository_root("repo", legacy_repo_info_exists=True) == LAYOUT["roots"]["legacy"].format(
        repo="repo")


def test_the_md5_check():
    check_md5("x/__meta.0cc175b9c0f1b6a831c399e269772661", b"a")
    with pytest.raises(ValueError, match="md5sum does not equal for x/__meta.0cc1.*content is 92eb5ffee6ae2fec"):
        check_md5("x/__meta.0cc175b9c0f1b6a831c399e269772661", b"b")
    with pytest.raises(ValueError, match="file name should contains checksum: x/__meta.part"):
        check_md5("x/__meta.part", b"a")


@pytest.mark.parametrize("listed,error,message", [
    ([], FileNotFoundError, "Expected one file with path: f/__meta. get: 0"),
    (["__meta.0cc175b9c0f1b6a831c399e269772661", "__meta.part"], ValueError, "get: 2"),
    (["__meta.part"], ValueError, "file name should contains checksum: f/__meta.part"),
    (["__metadata.0cc175b9c0f1b6a831c399e269772661"], FileNotFoundError, "File does not exist: f/__meta"),
])
def test_one_stored_file_follows_repository_download(listed, error, message):
    with pytest.raises(error, match=message):
        one_stored_file("f", "__meta", listed)


def _storage() -> MemoryRepositoryStorage:
    return MemoryRepositoryStorage(RepositoryLocation.parse(f"memory://b{uuid.uuid4().hex[:8]}/loc"))


def _snapshot(storage, root: str, label: str, meta: bytes, info: bytes, *, meta_name: str | None = None) -> None:
    folder = join_key(root, f"__ss_{label}")
    storage.write(join_key(folder, meta_name or with_md5("__meta", meta)), meta)
    storage.write(join_key(folder, with_md5("__info_2024-12-09-10-25-58-842", info)), info)


INFO = json.dumps({"name": "snap", "database": "d", "backup_time": 1, "backup_objects": {},
                   "backup_result": "succeed"}).encode()


@pytest.mark.parametrize("legacy", [False, True])
def test_meta_and_job_info_are_read_under_the_root_the_repository_uses(legacy):
    storage = _storage()
    root = choose_repository_root("repo", legacy_repo_info_exists=legacy)
    if legacy:
        storage.write(join_key(root, "__repo_info"), json.dumps(LAYOUT["repo_info"]["example"]).encode())
    _snapshot(storage, root, "snap", b"\x00\x00\x00\x02{}", INFO)
    other = choose_repository_root("repo", legacy_repo_info_exists=not legacy)
    _snapshot(storage, other, "snap", b"\x00\x00\x00\x03{ }", INFO)  # the folder StarRocks does not use
    assert storage.read_meta_bytes("repo", "snap") == b"\x00\x00\x00\x02{}"
    assert storage.read_job_info("repo", "snap").label == "snap"


def test_a_meta_whose_md5_does_not_match_is_refused():
    storage = _storage()
    root = choose_repository_root("repo", legacy_repo_info_exists=False)
    _snapshot(storage, root, "snap", b"\x00\x00\x00\x02{}", INFO, meta_name=with_md5("__meta", b"other"))
    with pytest.raises(ValueError, match="md5sum does not equal for .*__ss_snap/__meta"):
        storage.read_meta_bytes("repo", "snap")
    with pytest.raises(FileNotFoundError, match="Expected one file with path: .*__ss_other/__meta. get: 0"):
        storage.read_meta_bytes("repo", "other")
    storage.write(join_key(root, "__ss_bad", with_md5("__info_2024-12-09-10-25-58-842", b"other")), INFO)
    with pytest.raises(ValueError, match="md5sum does not equal for .*__ss_bad/__info_2024"):
        storage.read_job_info("repo", "bad")


def test_the_snapshot_check_refuses_a_meta_a_restore_could_not_download():
    from sr_airflow.engine.errors import SrAirflowError
    from sr_airflow.operators.snapshot_check import check_snapshot

    storage = _storage()
    root = choose_repository_root("repo", legacy_repo_info_exists=False)
    _snapshot(storage, root, "good", b"\x00\x00\x00\x02{}", INFO)
    assert check_snapshot(storage, "repo", "good", None, deep=True)["files_md5_checked"] == 2
    _snapshot(storage, root, "bad", b"\x00\x00\x00\x02{}", INFO, meta_name=with_md5("__meta", b"other"))
    with pytest.raises(SrAirflowError, match="Snapshot 'bad' __meta is unreadable: md5sum does not equal"):
        check_snapshot(storage, "repo", "bad", None, deep=False)
    storage.write(join_key(root, "__ss_good", "__meta.part"), b"x")  # a leftover upload: two __meta* files
    with pytest.raises(SrAirflowError, match="Snapshot 'good' __meta is unreadable: Expected one file .* get: 2"):
        check_snapshot(storage, "repo", "good", None, deep=False)
