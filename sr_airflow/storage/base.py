"""The storage interface: a handful of primitives per backend, every composite operation written once here.

Keys are relative to the repository location (``RepositoryLocation.path``) and pass through one normaliser.
Errors reach callers as built-ins: ``FileNotFoundError``, ``PermissionError``, ``ValueError`` (bad input or a bad
checksum), ``OSError`` for the rest. Transient errors (5xx, throttling, dropped connections) are retried with a
bounded exponential backoff.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeVar

from sr_airflow.storage import layout
from sr_airflow.storage.layout import StoredSnapshot
from sr_airflow.storage.location import (
    RepositoryLocation,
    choose_repository_root,
    join_key,
    legacy_repository_root,
    normalise_key,
    repository_root,
)
from sr_airflow.storage.retry import RetryPolicy, call_with_retries

if TYPE_CHECKING:
    from sr_airflow.engine.jobinfo import JobInfo

log = logging.getLogger(__name__)
T = TypeVar("T")

# A backend whose overwrite is not one atomic operation (HDFS) writes the complete new content to
# ``<key>.__sr_tmp__<id>`` first; readers that must survive a crash mid-swap (the catalog) look for it.
TEMP_MARKER = ".__sr_tmp__"


@dataclass(frozen=True)
class ObjectInfo:
    """One listed entry: ``key`` relative to the location; ``is_dir`` for a folder in a non-recursive listing."""

    key: str
    size: int = 0
    is_dir: bool = False

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class SnapshotSize:
    bytes: int
    objects: int


@dataclass(frozen=True)
class DeletionReport:
    """What a deletion did: objects removed and delete requests sent (S3: one per 1,000 keys)."""

    objects: int
    requests: int


class RepositoryStorage(ABC):
    """Objects of one repository location on one backend."""

    backend: ClassVar[str] = ""
    delete_batch_size: ClassVar[int] = 1000

    def __init__(self, location: RepositoryLocation, *, retry: RetryPolicy | None = None):
        self.location = location
        self.retry = retry or RetryPolicy()
        self._roots: dict[str, str] = {}

    # ---- primitives each backend implements (keys are full: location path included) ----
    @abstractmethod
    def _ls(self, prefix: str, recursive: bool) -> Iterable[ObjectInfo]:
        """Entries under ``prefix`` (a folder key, or "" for the bucket root), with full keys and sizes."""

    @abstractmethod
    def _get(self, key: str) -> bytes: ...

    @abstractmethod
    def _put(self, key: str, data: bytes) -> None:
        """Write ``data`` atomically: a reader sees the old object or the whole new one, never a part."""

    @abstractmethod
    def _delete(self, keys: list[str]) -> None:
        """Delete at most ``delete_batch_size`` keys in one request; missing keys are not an error."""

    @abstractmethod
    def _head(self, key: str) -> ObjectInfo | None: ...

    def _is_transient(self, exc: BaseException) -> bool:
        return isinstance(exc, (ConnectionError, TimeoutError))

    def _map_error(self, exc: Exception, key: str) -> Exception | None:
        """A built-in exception for ``exc``, or None to re-raise it unchanged."""
        return None

    def close(self) -> None:
        """Release clients; optional."""
        return None

    # ---- plumbing ----
    def _full(self, key: str) -> str:
        return join_key(self.location.path, normalise_key(key))

    def _relative(self, full_key: str) -> str:
        base = self.location.path
        if not base:
            return full_key
        if full_key == base:
            return ""
        if not full_key.startswith(base + "/"):
            raise ValueError(f"storage returned key {full_key!r} outside location {self.location.starrocks_uri}.")
        return full_key[len(base) + 1:]

    def _call(self, what: str, key: str, fn: Callable[[], T]) -> T:
        try:
            return call_with_retries(fn, is_transient=self._is_transient, policy=self.retry, what=f"{what} {key}")
        except Exception as exc:
            mapped = self._map_error(exc, key)
            if mapped is None or mapped is exc:
                raise
            raise mapped from exc

    # ---- the rich interface ----
    def list(self, prefix: str = "", *, recursive: bool = True) -> list[ObjectInfo]:
        """Entries under folder ``prefix`` (relative), sorted by key; keys are relative to the location."""
        full = self._full(prefix)
        found = self._call("list", full, lambda: list(self._ls(full, recursive)))
        out = [ObjectInfo(self._relative(o.key), o.size, o.is_dir) for o in found]
        return sorted(out, key=lambda o: o.key)

    def read(self, key: str) -> bytes:
        full = self._full(key)
        return self._call("read", full, lambda: self._get(full))

    def write(self, key: str, data: bytes) -> None:
        full = self._full(key)
        if not full:
            raise ValueError("write needs a non-empty key.")
        self._call("write", full, lambda: self._put(full, bytes(data)))

    def head(self, key: str) -> ObjectInfo | None:
        full = self._full(key)
        info = self._call("head", full, lambda: self._head(full))
        return None if info is None else ObjectInfo(self._relative(info.key), info.size, info.is_dir)

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def delete(self, keys: Iterable[str]) -> DeletionReport:
        """Delete ``keys`` in batches of ``delete_batch_size``; returns the objects and requests counted."""
        full = sorted({self._full(k) for k in keys})
        if any(not k for k in full):
            raise ValueError("delete refuses the location root itself.")
        requests = 0
        for start in range(0, len(full), self.delete_batch_size):
            batch = full[start:start + self.delete_batch_size]
            self._call("delete", batch[0], lambda batch=batch: self._delete(batch))
            requests += 1
        return DeletionReport(len(full), requests)

    def delete_prefix(self, prefix: str) -> DeletionReport:
        """Delete every object under folder ``prefix`` (relative, non-empty)."""
        if not normalise_key(prefix):
            raise ValueError("delete_prefix refuses an empty prefix: it would delete the whole location.")
        return self.delete(o.key for o in self.list(prefix) if not o.is_dir)

    # ---- StarRocks repository composites (spec §4) ----
    def repository_root(self, repo: str) -> str:
        """``__starrocks_repository_<repo>``, or the legacy ``__palo_repository_<repo>`` if its ``__repo_info``
        exists (StarRocks tries the legacy prefix first)."""
        if repo not in self._roots:
            legacy_info = join_key(legacy_repository_root(repo), layout.REPO_INFO_NAME)
            self._roots[repo] = choose_repository_root(repo, legacy_repo_info_exists=self.exists(legacy_info))
        return self._roots[repo]

    def list_snapshots(self, repo: str) -> list[StoredSnapshot]:
        """What ``SHOW SNAPSHOT ON repo`` would show, read straight from storage, sorted by label."""
        root = self.repository_root(repo)
        labels = [layout.label_from_dir(o.name) for o in self.list(root, recursive=False) if o.is_dir]
        return [self.snapshot(repo, label) for label in sorted(x for x in labels if x)]

    def snapshot(self, repo: str, label: str) -> StoredSnapshot:
        folder = join_key(self.repository_root(repo), layout.snapshot_dir_name(label))
        try:
            entries = self.list(folder, recursive=False)
        except (OSError, ValueError) as exc:
            return StoredSnapshot(label, (), (), error=str(exc))
        infos = tuple(sorted(
            (f for f in (layout.parse_info_name(o.name, o.size) for o in entries if not o.is_dir) if f),
            key=lambda f: f.name,
        ))
        return StoredSnapshot(label, tuple(f.timestamp for f in infos if f.valid), infos)

    def read_job_info_bytes(self, repo: str, label: str, timestamp: str | None = None) -> tuple[str, bytes]:
        """The job-info file's ``(timestamp, bytes)``, its md5 suffix checked; the newest if no timestamp given."""
        listing = self.snapshot(repo, label)
        if listing.error is not None:
            raise OSError(f"Failed to list snapshot {label!r} in repository {repo!r}: {listing.error}.")
        candidates = [f for f in listing.info_files if f.valid and (timestamp is None or f.timestamp == timestamp)]
        if not candidates:
            wanted = f" with timestamp {timestamp!r}" if timestamp else ""
            raise FileNotFoundError(f"Snapshot {label!r}{wanted} has no job-info file in repository {repo!r}.")
        if len(candidates) > 1 and timestamp is not None:
            raise ValueError(f"Expected one job-info file for snapshot {label!r} timestamp {timestamp!r}, "
                             f"got {len(candidates)}.")
        chosen = max(candidates, key=lambda f: f.timestamp or "")
        key = join_key(self.repository_root(repo), layout.snapshot_dir_name(label), chosen.name)
        data = self.read(key)
        layout.check_md5(key, data)
        return chosen.timestamp or "", data

    def read_meta_bytes(self, repo: str, label: str) -> bytes:
        """The bytes of snapshot ``label``'s ``__meta.<md5>`` file, found as StarRocks finds it (exactly one file
        named ``__meta*`` in the snapshot folder of the repository's root) and its md5 checked."""
        folder = join_key(self.repository_root(repo), self._snapshot_dir(label))
        try:
            listed = [o.name for o in self.list(folder, recursive=False) if not o.is_dir]
        except FileNotFoundError:
            listed = []
        key = join_key(folder, layout.one_stored_file(folder, layout.META_NAME, listed))
        data = self.read(key)
        layout.check_md5(key, data)
        return data

    def read_job_info(self, repo: str, label: str, timestamp: str | None = None) -> JobInfo:
        """The parsed job info of snapshot ``label`` (md5 checked)."""
        from sr_airflow.engine.jobinfo import parse_job_info

        ts, data = self.read_job_info_bytes(repo, label, timestamp)
        return parse_job_info(data, timestamp=ts)

    def snapshot_size(self, repo: str, label: str) -> SnapshotSize:
        _, objects = self._snapshot_objects(repo, label)
        return SnapshotSize(sum(o.size for o in objects), len(objects))

    def delete_snapshot(self, repo: str, label: str) -> DeletionReport:
        """Delete everything under ``__ss_<label>/`` of repository ``repo``: one listing, then batched deletes
        (no request to find the repository's root when the snapshot is under the current prefix)."""
        return self._delete_listed(*self._snapshot_objects(repo, label))

    def iter_snapshot_objects(self, repo: str, label: str) -> Iterator[ObjectInfo]:
        yield from self._snapshot_objects(repo, label)[1]

    def _delete_listed(self, folder: str, objects: list[ObjectInfo]) -> DeletionReport:
        """Delete folder ``folder`` whose objects were just listed; a backend that deletes a tree in one call
        overrides this."""
        return self.delete(o.key for o in objects)

    def _snapshot_objects(self, repo: str, label: str) -> tuple[str, list[ObjectInfo]]:
        """The folder of snapshot ``label`` and its objects. While the repository's root is unknown, the folder
        under the current ``__starrocks_repository_`` prefix is listed first: a snapshot found there settles the
        root (StarRocks writes there only when no legacy ``__palo_repository_`` root exists), so the legacy check
        costs a request only when that listing is empty."""
        if repo not in self._roots:
            folder = join_key(repository_root(repo), self._snapshot_dir(label))
            found = [o for o in self.list(folder) if not o.is_dir]
            if found:
                self._roots[repo] = repository_root(repo)
                return folder, found
            if self.repository_root(repo) == repository_root(repo):
                return folder, []
        folder = self._snapshot_folder(repo, label)
        return folder, [o for o in self.list(folder) if not o.is_dir]

    def _snapshot_folder(self, repo: str, label: str) -> str:
        return join_key(self.repository_root(repo), self._snapshot_dir(label))

    @staticmethod
    def _snapshot_dir(label: str) -> str:
        if not label or "/" in label:
            raise ValueError(f"snapshot label {label!r} must be non-empty and contain no '/'.")
        return layout.snapshot_dir_name(label)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location.starrocks_uri!r})"

