"""A snapshot's job-info file (``__info_<timestamp>.<md5>``, spec §4) as typed frozen dataclasses. Pure Python."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.timestamps import format_backup_timestamp, parse_backup_timestamp

__all__ = ["IndexInfo", "JobInfo", "PartitionInfo", "TableInfo", "format_backup_timestamp",
           "parse_backup_timestamp", "parse_job_info"]

_KNOWN_TOP = {"name", "database", "id", "backup_time", "backup_objects", "meta_version", "starrocks_meta_version",
              "backup_result"}


@dataclass(frozen=True)
class IndexInfo:
    name: str
    id: int | None
    schema_hash: int | None
    tablet_ids: tuple[int, ...]


@dataclass(frozen=True)
class PartitionInfo:
    """One partition as the snapshot holds it: ``id`` is the logical partition id and ``version`` the visible
    version of its default physical partition at backup time; ``sub_partitions`` are its physical partitions
    (``subPartitions``, keyed by physical id; each named here by that id)."""

    name: str
    id: int | None
    version: int | None
    indexes: tuple[IndexInfo, ...] = ()
    sub_partitions: tuple[PartitionInfo, ...] = ()

    @property
    def physical_partitions(self) -> tuple[tuple[int | None, int | None], ...]:
        """``(physical id, visible version)`` of each physical partition, sorted by id.

        ``BackupJobInfo.fromCatalog`` at 3.4 afccab88 / 3.5 e223275f78 writes every physical partition under
        ``subPartitions`` (since #50598 the first one has its own id, ``LocalMetastore``: ``getNextId()``). At 3.3
        1a2f1f5d75 a partition with one physical partition gets no ``subPartitions`` entry: the partition is its
        own physical partition (``Partition implements PhysicalPartition``), with the logical id. Partitions
        upgraded to 3.4 keep that id for their default physical partition (``Partition.gsonPostProcess``).
        """
        if self.sub_partitions:
            return tuple(sorted(((p.id, p.version) for p in self.sub_partitions),
                                key=lambda pair: (pair[0] is None, pair[0] or 0)))
        return ((self.id, self.version),)


@dataclass(frozen=True)
class TableInfo:
    name: str
    id: int | None
    partitions: tuple[PartitionInfo, ...] = ()
    auto_increment_id: int | None = None

    def partition(self, name: str) -> PartitionInfo | None:
        return next((p for p in self.partitions if p.name == name), None)

    @property
    def has_data(self) -> bool:
        """False for a logical view (StarRocks writes it with an empty ``partitions`` object)."""
        return bool(self.partitions)


@dataclass(frozen=True)
class JobInfo:
    """The parsed job info. ``timestamp`` is the ``yyyy-MM-dd-HH-mm-ss-SSS`` of the file name when known."""

    label: str
    database: str
    database_id: int | None
    backup_time: datetime
    tables: tuple[TableInfo, ...]
    meta_version: int | None = None
    starrocks_meta_version: int | None = None
    backup_result: str | None = None
    timestamp: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def succeeded(self) -> bool:
        return self.backup_result == "succeed"

    def table(self, name: str) -> TableInfo | None:
        return next((t for t in self.tables if t.name == name), None)

    def partition_versions(self) -> dict[tuple[str, str], int | None]:
        return {(t.name, p.name): p.version for t in self.tables for p in t.partitions}


def parse_job_info(data: bytes | str | dict[str, Any], *, timestamp: str | None = None) -> JobInfo:
    """Parse job-info JSON (full or brief form); raises InvalidArgumentError naming what is wrong."""
    if isinstance(data, dict):
        doc = data
    else:
        try:
            doc = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidArgumentError(f"job info is not valid JSON: {exc}.") from exc
    if not isinstance(doc, dict):
        raise InvalidArgumentError("job info must be a JSON object.")
    for key in ("name", "database", "backup_time"):
        if key not in doc:
            raise InvalidArgumentError(f"job info has no {key!r} field.")
    objects = doc.get("backup_objects")
    objects = {} if objects is None else objects
    if not isinstance(objects, dict):
        raise InvalidArgumentError("job info field 'backup_objects' must be an object.")
    tables = tuple(_table(name, body) for name, body in objects.items())
    try:
        backup_time = datetime.fromtimestamp(int(doc["backup_time"]) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidArgumentError(f"job info field 'backup_time' must be epoch milliseconds, got "
                                   f"{doc['backup_time']!r}.") from exc
    if timestamp is not None:
        parse_backup_timestamp(timestamp)
    return JobInfo(
        label=str(doc["name"]), database=str(doc["database"]), database_id=_int(doc.get("id")),
        backup_time=backup_time, tables=tables, meta_version=_int(doc.get("meta_version")),
        starrocks_meta_version=_int(doc.get("starrocks_meta_version")), backup_result=doc.get("backup_result"),
        timestamp=timestamp, extra={k: v for k, v in doc.items() if k not in _KNOWN_TOP},
    )


def _table(name: str, body: Any) -> TableInfo:
    body = body if isinstance(body, dict) else {}
    parts = body.get("partitions") or {}
    return TableInfo(name=name, id=_int(body.get("id")), auto_increment_id=_int(body.get("autoIncrementId")),
                     partitions=tuple(_partition(pn, pb) for pn, pb in _items(parts)))


def _partition(name: str, body: Any) -> PartitionInfo:
    body = body if isinstance(body, dict) else {}
    subs = tuple(_partition(sn, sb) for sn, sb in _items(body.get("subPartitions") or {}))
    return PartitionInfo(name=name, id=_int(body.get("id")), version=_int(body.get("version")),
                         indexes=tuple(_index(n, b) for n, b in _items(body.get("indexes") or {})),
                         sub_partitions=subs)


def _index(name: str, body: Any) -> IndexInfo:
    body = body if isinstance(body, dict) else {}
    tablets = body.get("tablets_order") or list((body.get("tablets") or {}).keys())
    return IndexInfo(name=name, id=_int(body.get("id")), schema_hash=_int(body.get("schema_hash")),
                     tablet_ids=tuple(int(t) for t in tablets))


def _items(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, list):
        return [(str(v.get("id", i)) if isinstance(v, dict) else str(i), v) for i, v in enumerate(value)]
    return []


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"job info has a non-integer id or version {value!r}.") from exc
