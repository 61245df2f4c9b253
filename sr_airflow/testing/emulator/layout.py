"""StarRocks' repository layout on storage (`backup/Repository.java`): paths, md5 suffixes, listings."""

from __future__ import annotations

import hashlib
import time

from .javajson import org_json, string_keys
from .storage import StorageError

PREFIX = "__starrocks_repository_"
LEGACY_PREFIX = "__palo_repository_"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324 - StarRocks' checksum, not security


def format_timestamp(epoch: float) -> str:
    """`yyyy-MM-dd-HH-mm-ss-SSS` in the process time zone."""
    local = time.localtime(epoch)
    return time.strftime("%Y-%m-%d-%H-%M-%S", local) + f"-{int(epoch * 1000) % 1000:03d}"


def format_time(epoch: float | None) -> str | None:
    if not epoch or epoch <= 0:
        return None
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


class RepoLayout:
    """Paths relative to the repository location, and the checksum-suffixed upload and download."""

    def __init__(self, store, repo_name: str, prefix: str = PREFIX):
        self.store = store
        self.root = (prefix or PREFIX) + repo_name

    def snapshot_dir(self, label: str) -> str:
        return f"{self.root}/__ss_{label}"

    def content_dir(self, label: str, db_id: int, tbl_id: int, part_id: int, idx_id: int, tablet_id: int) -> str:
        return (f"{self.snapshot_dir(label)}/__ss_content/__db_{db_id}/__tbl_{tbl_id}/__part_{part_id}/"
                f"__idx_{idx_id}/__{tablet_id}")

    def upload(self, path: str, data: bytes) -> str:
        """Write `<path>.<md5>` (the native S3 path writes the final name directly)."""
        final = f"{path}.{md5(data)}"
        self.store.put(final, data)
        return final

    def listing(self, prefix: str) -> dict[str, list[str]]:
        """The objects under `prefix`, by every name they extend with `.<suffix>` (for `download`): a restore lists
        the snapshot's content once instead of once per file."""
        found: dict[str, list[str]] = {}
        for path in self.store.list(prefix):
            start = path.rfind("/") + 1
            dot = path.find(".", start)
            while dot != -1:
                found.setdefault(path[:dot], []).append(path)
                dot = path.find(".", dot + 1)
        return found

    def download(self, path: str, listing: dict[str, list[str]] | None = None) -> bytes:
        """Find the one `<path>.<md5>` object (in `listing` if given), read it and check its md5."""
        if listing is None:
            matches = [p for p in self.store.list(path) if p.startswith(path + ".") and "/" not in p[len(path):]]
        else:
            matches = listing.get(path, [])
        if len(matches) != 1:
            raise StorageError(f"Expected one file with path: {path}. get: {len(matches)}")
        checksum = matches[0].rsplit(".", 1)[1]
        if len(checksum) != 32:
            raise StorageError(f"Invalid checksum of file: {matches[0]}")
        data = self.store.get(matches[0])
        actual = md5(data)
        if actual != checksum:
            raise ChecksumError(f"md5sum does not equal. local: {actual}, remote: {checksum}")
        return data

    def init_repository(self, name: str) -> str:
        """`Repository.initRepository` (3.5 e223275f): `__palo_repository_<name>/__repo_info` is tried first and
        kept when it exists; else `__starrocks_repository_<name>/__repo_info` is read if present or written
        (`JSONObject` of name and create_time, `toString()`). Returns the prefix the repository uses."""
        repo_name = self.root[len(PREFIX):] if self.root.startswith(PREFIX) else self.root[len(LEGACY_PREFIX):]
        legacy = f"{LEGACY_PREFIX}{repo_name}/__repo_info"
        if legacy in self.store.list(legacy):
            self.store.get(legacy)
            self.root = LEGACY_PREFIX + repo_name
            return LEGACY_PREFIX
        self.root = PREFIX + repo_name
        info = f"{self.root}/__repo_info"
        existing = self.store.list(info)
        if info in existing:
            self.store.get(info)
            return PREFIX
        body = string_keys({"name": name, "create_time": time.strftime("%Y-%m-%d %H:%M:%S")})
        self.store.put(info, org_json(body).encode())
        return PREFIX

    def snapshot_names(self) -> list[str]:
        return [d[len("__ss_"):] for d in self.store.dirs(f"{self.root}/__ss_")]

    def snapshot_exists(self, label: str) -> bool:
        return bool(self.store.list(self.snapshot_dir(label) + "/"))

    def info_timestamps(self, label: str) -> list[str]:
        """Timestamps of `__info_*` files, or `Invalid: <file>` for names without a valid checksum."""
        prefix = f"{self.snapshot_dir(label)}/__info_"
        found = []
        for path in sorted(self.store.list(prefix)):
            name = path[len(self.snapshot_dir(label)) + 1:]
            if "/" in name:
                continue
            stem, _, checksum = name.rpartition(".")
            if not stem or len(checksum) != 32:
                found.append(f"Invalid: {name}")
            else:
                found.append(stem[len("__info_"):])
        return found


class ChecksumError(StorageError):
    """A downloaded file whose md5 does not match its name (StarRocks' BAD_FILE)."""
