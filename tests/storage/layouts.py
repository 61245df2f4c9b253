"""Synthetic StarRocks repository layouts that follow spec §4 exactly, written through a RepositoryStorage."""

from __future__ import annotations

import json
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sr_airflow.storage.layout import md5_hex, with_md5
from sr_airflow.storage.location import join_key, repository_root


def job_info_doc(label: str, database: str, tables: dict[str, dict[str, tuple[int, int]]], *, db_id: int = 10001,
                 backup_time: datetime | None = None, brief: bool = False) -> dict:
    """``BackupJobInfo.toJson``: tables -> partition name -> (partition id, version)."""
    moment = backup_time or datetime(2024, 12, 9, 10, 25, 58, 842000, tzinfo=UTC)
    objects = {}
    for t_index, (table, parts) in enumerate(sorted(tables.items())):
        table_id = 20000 + t_index
        partitions = {}
        for name, (pid, version) in parts.items():
            if brief:
                partitions[name] = {}
                continue
            tablets = [pid * 10 + i for i in range(2)]
            partitions[name] = {
                "id": pid, "version": version, "version_hash": 0,
                "indexes": {table: {"id": table_id + 1, "schema_hash": 1234567,
                                    "tablets": {str(t): [] for t in tablets},
                                    "tablets_order": [str(t) for t in tablets]}},  # strings, as StarRocks writes
                "subPartitions": {str(pid): {"id": pid, "version": version,
                                             "indexes": {table: {"id": table_id + 1, "schema_hash": 1234567,
                                                                 "tablets": {}, "tablets_order": []}}}},
            }
        objects[table] = {"partitions": partitions} if brief else {
            "id": table_id, "autoIncrementId": 0, "partitions": partitions}
    doc = {"name": label, "database": database, "backup_time": int(moment.timestamp() * 1000),
           "backup_objects": objects, "meta_version": 104, "starrocks_meta_version": 1, "backup_result": "succeed"}
    if not brief:
        doc["id"] = db_id
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
    storage.write(join_key(repository_root(repo), "__repo_info"),
                  json.dumps({"name": repo, "create_time": "2024-12-09 10:00:00"}).encode())


def write_snapshot(storage, repo: str, label: str, *, database: str = "sr_hub",
                   tables: dict[str, dict[str, tuple[int, int]]] | None = None,
                   timestamp: str = "2024-12-09-10-25-58-842", content_files: int = 4, db_id: int = 10001,
                   with_info: bool = True, threads: int = 8) -> SyntheticSnapshot:
    tables = tables or {"sr_member": {"p1": (30001, 5), "p2": (30002, 3)}}
    folder = join_key(repository_root(repo), f"__ss_{label}")
    files: dict[str, bytes] = {}
    meta = backup_meta_bytes(sorted(tables))
    files[join_key(folder, with_md5("__meta", meta))] = meta
    info_key = ""
    if with_info:
        info = json.dumps(job_info_doc(label, database, tables, db_id=db_id)).encode()
        info_key = join_key(folder, with_md5(f"__info_{timestamp}", info))
        files[info_key] = info
    for i in range(content_files):
        payload = f"{label}-segment-{i}".encode() * 3
        tablet = 40000 + i
        path = join_key(folder, "__ss_content", f"__db_{db_id}", "__tbl_20000", "__part_30001", "__idx_20001",
                        f"__{tablet}", f"{tablet}_{i}.dat.{md5_hex(payload)}")
        files[path] = payload
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda kv: storage.write(*kv), files.items()))
    return SyntheticSnapshot(label, timestamp, sorted(files), sum(len(v) for v in files.values()), info_key)
