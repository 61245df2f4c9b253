"""Synthetic StarRocks repository layouts, written through a RepositoryStorage.

Built independently of the product's layout code: paths are plain strings and checksums plain hashlib, following
StarRocks' ``backup/Repository.java`` at 3.5 ``e223275f78`` (``prefixRepo`` "__starrocks_repository_",
``PREFIX_SNAPSHOT_DIR`` "__ss_", ``FILE_META_INFO`` "__meta", ``PREFIX_JOB_INFO`` "__info_", ``DIR_SNAPSHOT_CONTENT``
"__ss_content", ``getRepoTabletPathBySnapshotInfo``, ``assembleFileNameWithSuffix``: "<name>.<md5 hex>"), as
``tests/fidelity/fixtures/repository_layout.json`` records them; job info as ``BackupJobInfo.toJson`` writes it at
3.4/3.5 (``tests/fidelity/fixtures/job_info_3.5.json``)."""

from __future__ import annotations

import hashlib
import json
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

# FeConstants.META_VERSION and StarRocksFEMetaVersion.VERSION_CURRENT at 3.5 e223275f78
META_VERSION, STARROCKS_META_VERSION = 92, 4


def _root(repo: str) -> str:
    return f"__starrocks_repository_{repo}"


def _md5_named(name: str, data: bytes) -> str:
    return f"{name}.{hashlib.md5(data, usedforsecurity=False).hexdigest()}"


def job_info_doc(label: str, database: str, tables: dict[str, dict[str, tuple[int, int]]], *, db_id: int = 10001,
                 backup_time: datetime | None = None, brief: bool = False) -> dict:
    """``BackupJobInfo.toJson(verbose=not brief)`` at 3.5: tables -> partition name -> (partition id, version).

    As at 3.4+, a partition's ``indexes`` is empty and its one physical partition (``subPartitions``, keyed by its
    id as a string) holds the indexes; a simplification: the physical id is the partition's own id (a real 3.4+
    FE gives it another one, ``job_info_3.5.json``). ``autoIncrementId`` is absent (null, no AUTO_INCREMENT column);
    the brief form has no ids and partitions as empty objects."""
    moment = backup_time or datetime(2024, 12, 9, 10, 25, 58, 842000, tzinfo=UTC)
    objects = {}
    for t_index, (table, parts) in enumerate(sorted(tables.items())):
        table_id = 20000 + t_index
        partitions = {}
        for name, (pid, version) in parts.items():
            if brief:
                partitions[name] = {}
                continue
            tablets = [str(pid * 10 + i) for i in range(2)]  # tablet ids as strings, as StarRocks writes them
            index = {"id": table_id + 1, "schema_hash": 1234567, "tablets": {t: [] for t in tablets},
                     "tablets_order": tablets}
            partitions[name] = {"id": pid, "version": version, "version_hash": 0, "indexes": {},
                                "subPartitions": {str(pid): {"id": pid, "version": version,
                                                             "indexes": {table: index}}}}
        objects[table] = {"partitions": partitions} if brief else {"id": table_id, "partitions": partitions}
    doc = {"name": label, "database": database}
    if not brief:
        doc["id"] = db_id
    doc |= {"backup_time": int(moment.timestamp() * 1000), "backup_objects": objects, "meta_version": META_VERSION,
            "starrocks_meta_version": STARROCKS_META_VERSION, "backup_result": "succeed"}
    return doc


def backup_meta_bytes(tables: list[str]) -> bytes:
    body = json.dumps({"tblNameMap": {t: {"name": t} for t in tables}, "functions": [], "catalogs": []}).encode()
    return struct.pack(">I", len(body)) + body


@dataclass
class SyntheticSnapshot:
    label: str
    timestamp: str
    keys: list[str] = field(default_factory=list)
    total_bytes: int = 0
    info_key: str = ""


def write_repo_info(storage, repo: str) -> None:
    storage.write(f"{_root(repo)}/__repo_info",
                  json.dumps({"name": repo, "create_time": "2024-12-09 10:00:00"}).encode())


def write_snapshot(storage, repo: str, label: str, *, database: str = "sr_hub",
                   tables: dict[str, dict[str, tuple[int, int]]] | None = None,
                   timestamp: str = "2024-12-09-10-25-58-842", content_files: int = 4, db_id: int = 10001,
                   with_info: bool = True, threads: int = 8) -> SyntheticSnapshot:
    tables = tables or {"sr_member": {"p1": (30001, 5), "p2": (30002, 3)}}
    folder = f"{_root(repo)}/__ss_{label}"
    files: dict[str, bytes] = {}
    meta = backup_meta_bytes(sorted(tables))
    files[f"{folder}/{_md5_named('__meta', meta)}"] = meta
    info_key = ""
    if with_info:
        info = json.dumps(job_info_doc(label, database, tables, db_id=db_id)).encode()
        info_key = f"{folder}/{_md5_named(f'__info_{timestamp}', info)}"
        files[info_key] = info
    for i in range(content_files):
        payload = f"{label}-segment-{i}".encode() * 3
        tablet = 40000 + i
        path = (f"{folder}/__ss_content/__db_{db_id}/__tbl_20000/__part_30001/__idx_20001/__{tablet}/"
                f"{_md5_named(f'{tablet}_{i}.dat', payload)}")
        files[path] = payload
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda kv: storage.write(*kv), files.items()))
    return SyntheticSnapshot(label, timestamp, sorted(files), sum(len(v) for v in files.values()), info_key)
