"""StarRocks' repository layout on storage (spec §4), as pure functions over key names.

Under ``<location>/__starrocks_repository_<repo>/``: ``__repo_info``, and per snapshot ``__ss_<label>/`` holding
``__meta.<md5>``, ``__info_<yyyy-MM-dd-HH-mm-ss-SSS>.<md5>`` and ``__ss_content/...`` tablet files, each with a
``.<md5>`` suffix. SHOW SNAPSHOT's Timestamp and Status are computed here exactly as StarRocks computes them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

SNAPSHOT_DIR_PREFIX = "__ss_"
INFO_PREFIX = "__info_"
META_NAME = "__meta"
REPO_INFO_NAME = "__repo_info"
CONTENT_DIR = "__ss_content"
CHECKSUM_SEPARATOR = "."
TEMP_SUFFIX = "part"

_MD5_RE = re.compile(r"^[0-9a-fA-F]{32}$")


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def with_md5(name: str, data: bytes) -> str:
    """The stored name of a file: ``<name>.<md5hex>``."""
    return f"{name}{CHECKSUM_SEPARATOR}{md5_hex(data)}"


def split_md5(name: str) -> tuple[str, str] | None:
    """``(<name>, <md5>)`` if ``name`` ends in ``.<32 hex digits>``, else None (StarRocks' "Invalid" case)."""
    base, sep, checksum = name.rpartition(CHECKSUM_SEPARATOR)
    if not sep or not _MD5_RE.match(checksum):
        return None
    return base, checksum


def check_md5(key: str, data: bytes) -> None:
    """StarRocks' download check (``Repository.download``, 3.5 e223275f78): the stored name ends in ``.<md5>``
    (32 hex digits after the last ``.``) and that equals the md5 of the bytes; ValueError otherwise."""
    split = split_md5(key.rsplit("/", 1)[-1])
    if split is None:
        raise ValueError(f"file name should contains checksum: {key}.")
    actual = md5_hex(data)
    if actual != split[1]:  # DigestUtils.md5Hex is lower-case and compared with String.equals
        raise ValueError(f"md5sum does not equal for {key}: the name says {split[1]}, the content is {actual}.")


def one_stored_file(folder: str, name: str, listed: list[str]) -> str:
    """The stored name of file ``name`` among the names ``listed`` in ``folder``: as ``Repository.download`` does,
    every name starting with ``name`` counts (a leftover ``<name>.part`` too) and there must be exactly one, whose
    part before the checksum is ``name``; ValueError or FileNotFoundError otherwise."""
    path = f"{folder}/{name}"
    matches = [n for n in listed if n.startswith(name)]
    if not matches:
        raise FileNotFoundError(f"Expected one file with path: {path}. get: 0.")
    if len(matches) != 1:
        raise ValueError(f"Expected one file with path: {path}. get: {len(matches)} ({', '.join(sorted(matches))}).")
    split = split_md5(matches[0])
    if split is None:
        raise ValueError(f"file name should contains checksum: {folder}/{matches[0]}.")
    if split[0] != name:
        raise FileNotFoundError(f"File does not exist: {path}.")
    return matches[0]


def snapshot_dir_name(label: str) -> str:
    return SNAPSHOT_DIR_PREFIX + label


def label_from_dir(name: str) -> str | None:
    """The label of a ``__ss_<label>`` folder at the repository root (a snapshot may be labelled "content")."""
    name = name.rstrip("/")
    if name.startswith(SNAPSHOT_DIR_PREFIX) and len(name) > len(SNAPSHOT_DIR_PREFIX):
        return name[len(SNAPSHOT_DIR_PREFIX):]
    return None


@dataclass(frozen=True)
class InfoFile:
    """One ``__info_`` file of a snapshot: its stored name, and timestamp and md5 if the name is valid."""

    name: str
    timestamp: str | None
    md5: str | None
    size: int = 0

    @property
    def valid(self) -> bool:
        return self.timestamp is not None


def parse_info_name(name: str, size: int = 0) -> InfoFile | None:
    """Parse a file name in a snapshot folder; None if it is not an ``__info_`` file at all."""
    if not name.startswith(INFO_PREFIX):
        return None
    split = split_md5(name)
    if split is None:
        return InfoFile(name, None, None, size)
    return InfoFile(name, split[0][len(INFO_PREFIX):], split[1], size)


@dataclass(frozen=True)
class StoredSnapshot:
    """A snapshot folder as read from storage, in the terms of a ``SHOW SNAPSHOT ON repo`` row: ``timestamp`` is
    the timestamps joined by "\\n" (None on failure). (``engine.snapshots.SnapshotListing`` is the row as the
    frontend returns it.)"""

    label: str
    timestamps: tuple[str, ...]
    info_files: tuple[InfoFile, ...]
    error: str | None = None

    @property
    def timestamp(self) -> str | None:
        if self.error is not None:
            return None
        return "\n".join(
            f.timestamp if f.valid else f"Invalid: {f.name}" for f in self.info_files
        ) if self.info_files else ""

    @property
    def status(self) -> str:
        if self.error is not None:
            return f"ERROR: Failed to get info: {self.error}"
        return "OK" if self.info_files else "ERROR: no snapshot"

    @property
    def ok(self) -> bool:
        return self.status == "OK" and bool(self.timestamps)

    @property
    def latest_timestamp(self) -> str | None:
        return max(self.timestamps) if self.timestamps else None
