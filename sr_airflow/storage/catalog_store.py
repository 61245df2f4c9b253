"""The catalog on storage: one Parquet file per entry, beside StarRocks' folder, never inside it.

``<location>/__sr_airflow_catalog_<repo>/entries/<label>.parquet``. Every write is one object PUT (atomic on S3
and GCS; write-temp-then-rename on HDFS), so a reader sees an entry whole or not at all and a crash mid-write
leaves the previous state readable. All files share one Arrow schema (``ENTRY_SCHEMA``), so the ``entries/``
folder reads as one Parquet dataset in pyarrow or DuckDB (``read_parquet('.../entries/*.parquet')``).
pyarrow is imported only inside the functions that use it.
"""

from __future__ import annotations

import io
import json
import logging
from array import array
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from sr_airflow.engine.catalog import (
    CATALOG_FORMAT_VERSION,
    NULL_INT,
    Catalog,
    CatalogEntry,
    EntryStatus,
    PartitionRecords,
    Tombstone,
    entry_from_job_info,
)
from sr_airflow.storage.base import TEMP_MARKER, RepositoryStorage
from sr_airflow.storage.location import catalog_root, join_key

log = logging.getLogger(__name__)

ENTRIES_DIR = "entries"
SUFFIX = ".parquet"


def entry_schema():
    """The Arrow schema of one catalog file (documented in docs/catalog.md)."""
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    physical = pa.struct([("id", pa.int64()), ("version", pa.int64())])
    partition = pa.struct([
        ("table", pa.string()), ("table_id", pa.int64()), ("partition", pa.string()),
        ("partition_id", pa.int64()), ("version", pa.int64()), ("row_count", pa.int64()),
        ("data_size", pa.int64()), ("physical_partitions", pa.list_(physical)),
    ])
    tombstone = pa.struct([("table", pa.string()), ("partition", pa.string())])
    # the stored column "kind" is CatalogEntry.snapshot_kind (named so before the rename; existing files keep it)
    return pa.schema([
        ("format_version", pa.int32()), ("label", pa.string()), ("repository", pa.string()),
        ("database", pa.string()), ("database_id", pa.int64()), ("kind", pa.string()), ("status", pa.string()),
        ("parent_label", pa.string()), ("backup_timestamp", pa.string()), ("backup_time", ts),
        ("source_address", pa.string()), ("source_version", pa.string()), ("scope_json", pa.string()),
        ("partitions", pa.list_(partition)), ("tombstones", pa.list_(tombstone)),
        ("verification_json", pa.string()), ("phase_seconds_json", pa.string()),
        ("dag_id", pa.string()), ("run_id", pa.string()), ("snapshot_bytes", pa.int64()),
        ("snapshot_objects", pa.int64()), ("created_at", ts), ("updated_at", ts), ("message", pa.string()),
        ("objects_json", pa.string()),  # added later: files without it read as {}
        ("access_file", pa.string()),  # added later: files without it read as None
    ])


PARTITION_INT_FIELDS = ("partition_id", "version", "row_count", "data_size", "table_id")


def entry_to_parquet(entry: CatalogEntry) -> bytes:
    """One entry as a one-row Parquet file. The partitions column is built from the entry's columns, never
    from a Python object per partition."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = entry_schema()
    row: dict[str, Any] = {
        "format_version": CATALOG_FORMAT_VERSION, "label": entry.label, "repository": entry.repository,
        "database": entry.database, "database_id": entry.database_id, "kind": entry.snapshot_kind.value,
        "status": entry.status.value, "parent_label": entry.parent_label,
        "backup_timestamp": entry.backup_timestamp, "backup_time": entry.backup_time,
        "source_address": entry.source_address, "source_version": entry.source_version,
        "scope_json": entry.scope_json(),
        "partitions": [],
        "tombstones": [{"table": t.table, "partition": t.partition} for t in entry.tombstones],
        "verification_json": json.dumps(dict(entry.verification), sort_keys=True, default=str),
        "phase_seconds_json": json.dumps(dict(entry.phase_seconds), sort_keys=True),
        "dag_id": entry.dag_id, "run_id": entry.run_id, "snapshot_bytes": entry.snapshot_bytes,
        "snapshot_objects": entry.snapshot_objects, "created_at": entry.created_at,
        "updated_at": entry.updated_at, "message": entry.message, "objects_json": entry.objects_json(),
        "access_file": entry.access_file,
    }
    table = pa.Table.from_pylist([row], schema=schema)
    column = schema.field("partitions").type
    partitions = _partitions_array(entry.partitions, column.value_type)
    table = table.set_column(table.schema.get_field_index("partitions"), schema.field("partitions"),
                             pa.ListArray.from_arrays(pa.array([0, len(partitions)], pa.int32()), partitions,
                                                      type=column))
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def _partitions_array(records: PartitionRecords, struct_type):
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = records.columns()

    def names(values, codes):
        return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(values, pa.string())).cast(
            pa.string())

    def ints(values: array):
        raw = pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])
        if NULL_INT in values:
            raw = pc.if_else(pc.equal(raw, NULL_INT), pa.scalar(None, pa.int64()), raw)
        return raw

    fields = {"table": names(columns["tables"], columns["table_codes"]),
              "partition": names(columns["names"], columns["name_codes"]),
              **{name: ints(columns[name]) for name in PARTITION_INT_FIELDS}}
    fields["physical_partitions"] = _physical_array(columns, fields["version"],
                                                    struct_type.field("physical_partitions").type)
    return pa.StructArray.from_arrays([fields[f.name] for f in struct_type], fields=list(struct_type))


def _physical_array(columns: dict[str, Any], versions, list_type):
    """The ``physical_partitions`` column: built from the id column when every partition has one physical
    partition (offsets 0, 1, 2, ...: no Python object per partition), else row by row."""
    import pyarrow as pa

    single, other = columns["physical_id"], columns["physical_other"]
    if not other and NULL_INT not in single:
        ids = pa.Array.from_buffers(pa.int64(), len(single), [None, pa.py_buffer(single)])
        values = pa.StructArray.from_arrays([ids, versions], fields=list(list_type.value_type))
        return pa.ListArray.from_arrays(pa.array(range(len(single) + 1), pa.int32()), values, type=list_type)
    if not other and single.count(NULL_INT) == len(single):  # none recorded: an empty list each
        empty = pa.array([], list_type.value_type)
        return pa.ListArray.from_arrays(pa.array([0] * (len(single) + 1), pa.int32()), empty, type=list_type)
    version_list = versions.to_pylist()
    rows = []
    for position, (physical_id, version) in enumerate(zip(single, version_list, strict=True)):
        if physical_id != NULL_INT:
            rows.append([{"id": physical_id, "version": version}])
        else:
            rows.append([{"id": i, "version": v} for i, v in other.get(position, ())])
    return pa.array(rows, type=list_type)


def _partitions_from_arrow(struct) -> PartitionRecords:
    """The partitions of one entry from its Arrow struct array, column by column (no per-partition objects)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def codes_and_names(column) -> tuple[array, list[str]]:
        if not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(column)
        column = column.fill_null("") if column.null_count else column
        return _array_of("i", column.indices.cast(pa.int32())), column.dictionary.to_pylist()

    def ints(column) -> array:
        column = column.cast(pa.int64())
        return _array_of("q", column.fill_null(NULL_INT) if column.null_count else column)

    if struct is None or len(struct) == 0:
        return PartitionRecords()
    table_codes, tables = codes_and_names(struct.field("table"))
    name_codes, names = codes_and_names(struct.field("partition"))
    int_columns = [ints(struct.field(name)) for name in PARTITION_INT_FIELDS]
    physical_id, physical_other = _physical_from_arrow(struct, int_columns[1], ints)
    return PartitionRecords.from_columns(tables, table_codes, names, name_codes, int_columns, physical_id,
                                         physical_other)


def _physical_from_arrow(struct, versions: array, ints) -> tuple[array | None, dict[int, tuple]]:
    """The physical partitions column as ``PartitionRecords`` keeps it. Files written before the column existed
    have none (None: nothing recorded). The common case (one physical partition at the partition's version) is
    read column-wise; the rest row by row."""
    import pyarrow.compute as pc

    if struct.type.get_field_index("physical_partitions") < 0:
        return None, {}
    lists = struct.field("physical_partitions")
    lengths = pc.list_value_length(lists).fill_null(0)
    flat = lists.flatten()
    if len(flat) == 0:
        return None, {}
    if len(flat) == len(lists) and pc.all(pc.equal(lengths, 1)).as_py() and not flat.field("id").null_count:
        flat_versions = ints(flat.field("version"))
        if flat_versions == versions:
            return ints(flat.field("id")), {}
    single, other = array("q"), {}
    for position, pairs in enumerate(lists.to_pylist()):
        pairs = tuple((p["id"], p["version"]) for p in pairs or ())
        version = None if versions[position] == NULL_INT else versions[position]
        if len(pairs) == 1 and pairs[0][0] is not None and pairs[0][1] == version:
            single.append(pairs[0][0])
        else:
            single.append(NULL_INT)
            if pairs:
                other[position] = pairs
    return single, other


def _array_of(typecode: str, column) -> array:
    """A fixed-width Arrow array without nulls copied into a Python ``array`` through its data buffer."""
    values = array(typecode)
    width = values.itemsize
    buffer = column.buffers()[1]
    values.frombytes(memoryview(buffer)[column.offset * width:(column.offset + len(column)) * width])
    return values


def entries_from_parquet(data: bytes) -> list[CatalogEntry]:
    """The entries of one catalog file. Partition and table names are read dictionary-encoded (as Parquet stores
    them) and the columns copied into ``PartitionRecords``: a million-partition entry keeps ~50 MB."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = [f"partitions.list.element.{f}" for f in ("table", "partition")]
    table = pq.read_table(pa.BufferReader(data), read_dictionary=names, use_threads=False)
    partitions = table.column("partitions")
    rows = table.drop_columns(["partitions"]).to_pylist()
    del table
    found = []
    for i, row in enumerate(rows):
        chunk, offset = _locate(partitions, i)
        found.append(_row_to_entry(row, _partitions_from_arrow(chunk[offset].values)))
    del partitions
    pa.default_memory_pool().release_unused()  # the decoder's scratch (~4x the columns) back to the system
    return found


def _locate(chunked, index: int):
    for chunk in chunked.chunks:
        if index < len(chunk):
            return chunk, index
        index -= len(chunk)
    raise IndexError(index)


def _row_to_entry(r: dict[str, Any], partitions: PartitionRecords) -> CatalogEntry:
    if (r.get("format_version") or 0) > CATALOG_FORMAT_VERSION:
        raise ValueError(f"catalog entry {r.get('label')!r} has format_version {r['format_version']}, newer than "
                         f"this sr_airflow ({CATALOG_FORMAT_VERSION}); upgrade sr_airflow.")
    return CatalogEntry(
        label=r["label"], repository=r["repository"], database=r["database"], snapshot_kind=r["kind"],
        status=r["status"],
        backup_timestamp=r["backup_timestamp"], backup_time=_aware(r["backup_time"]),
        parent_label=r["parent_label"], database_id=r["database_id"], source_address=r["source_address"],
        source_version=r["source_version"], scope=json.loads(r["scope_json"] or "{}"),
        partitions=partitions,
        tombstones=tuple(Tombstone(t["table"], t["partition"]) for t in r["tombstones"]),
        verification=json.loads(r["verification_json"] or "{}"),
        phase_seconds=json.loads(r["phase_seconds_json"] or "{}"), dag_id=r["dag_id"], run_id=r["run_id"],
        snapshot_bytes=r["snapshot_bytes"], snapshot_objects=r["snapshot_objects"],
        created_at=_aware(r["created_at"]), updated_at=_aware(r["updated_at"]), message=r["message"],
        objects=json.loads(r.get("objects_json") or "{}"), access_file=r.get("access_file"),
    )


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class CatalogStore:
    """Reads and writes the catalog of repository ``repo`` in ``storage``'s location."""

    def __init__(self, storage: RepositoryStorage, repo: str):
        self.storage = storage
        self.repo = repo
        self.root = catalog_root(repo)
        self.unreadable: list[str] = []

    def entry_key(self, label: str) -> str:
        return join_key(self.root, ENTRIES_DIR, quote(label, safe="-_.") + SUFFIX)

    def put(self, entry: CatalogEntry) -> None:
        """Create or replace the entry (one atomic object write)."""
        if entry.repository != self.repo:
            raise ValueError(f"catalog entry {entry.label!r} belongs to repository {entry.repository!r}, "
                             f"not {self.repo!r}.")
        self.storage.write(self.entry_key(entry.label), entry_to_parquet(entry))
        log.info("Catalog entry %s of repository %s recorded as %s.", entry.label, self.repo, entry.status.value)

    def record_finished(self, label: str, *, snapshot_kind: str | None = None, parent_label: str | None = None,
                        partition_stats: dict | None = None, tombstones: tuple[Tombstone, ...] = (),
                        timestamp: str | None = None, now: datetime | None = None, **fields: Any) -> CatalogEntry:
        """Mark snapshot ``label`` good: read its job info (md5 checked) and size from storage, keep what the
        pending entry said (snapshot kind, parent, scope, dag/run ids, created_at), write the ``ok`` entry, return it.
        Raises FileNotFoundError if the job info is not there (the job has not reached UPLOAD_INFO)."""
        pending = self.get(label) if self.storage.exists(self.entry_key(label)) else None
        info = self.storage.read_job_info(self.repo, label, timestamp)
        size = self.storage.snapshot_size(self.repo, label)
        kept = {} if pending is None else {
            "scope": pending.scope, "dag_id": pending.dag_id, "run_id": pending.run_id,
            "source_address": pending.source_address, "source_version": pending.source_version,
            "created_at": pending.created_at, "phase_seconds": pending.phase_seconds}
        snapshot_kind = snapshot_kind or (pending.snapshot_kind if pending else None)
        if snapshot_kind is None:
            raise ValueError(f"record_finished needs the snapshot kind of {label!r}: no pending entry gives it.")
        parent = parent_label if parent_label is not None else (pending.parent_label if pending else None)
        entry = entry_from_job_info(info, repository=self.repo, snapshot_kind=snapshot_kind, parent_label=parent,
                                    partition_stats=partition_stats, tombstones=tombstones, now=now,
                                    snapshot_bytes=size.bytes, snapshot_objects=size.objects,
                                    **{**{k: v for k, v in kept.items() if v is not None}, **fields})
        self.put(entry)
        return entry

    def record_failed(self, label: str, message: str, *, now: datetime | None = None) -> CatalogEntry:
        """Mark the pending entry of ``label`` failed, with ``message`` (never a good snapshot)."""
        entry = self.get(label).with_status(EntryStatus.FAILED, now=now, message=message)
        self.put(entry)
        return entry

    def get(self, label: str) -> CatalogEntry:
        entries = entries_from_parquet(self.storage.read(self.entry_key(label)))
        return entries[0]

    def remove(self, label: str) -> None:
        """Delete the entry and any temp file an interrupted HDFS swap left for it (so it cannot come back)."""
        key = self.entry_key(label)
        leftovers = [o.key for o in self.storage.list(join_key(self.root, ENTRIES_DIR))
                     if o.key.startswith(key + TEMP_MARKER)]
        self.storage.delete([key, *leftovers])

    def load(self, *, threads: int = 8) -> Catalog:
        """Every readable entry, files read in parallel. An unreadable file is logged and listed in
        ``self.unreadable``, not fatal."""
        from concurrent.futures import ThreadPoolExecutor

        self.unreadable = []
        objects = self.storage.list(join_key(self.root, ENTRIES_DIR))
        finals = {o.key for o in objects if o.key.endswith(SUFFIX)}
        # A temp file whose final file is missing holds the complete content of an interrupted HDFS swap.
        orphans = {o.key.split(TEMP_MARKER)[0]: o.key for o in objects if TEMP_MARKER in o.key}
        keys = sorted(finals) + sorted(tmp for final, tmp in orphans.items() if final not in finals)

        def read(key: str) -> list[CatalogEntry] | None:
            try:
                return entries_from_parquet(self.storage.read(key))
            except FileNotFoundError:
                return []  # deleted between list and read
            except Exception as exc:  # noqa: BLE001 - a torn or foreign file must not hide the others
                log.warning("Catalog file %s is unreadable (%s); skipped.", key, type(exc).__name__)
                return None

        entries: dict[str, CatalogEntry] = {}
        with ThreadPoolExecutor(max(1, threads)) as pool:
            for key, found in zip(keys, pool.map(read, keys), strict=True):
                if found is None:
                    self.unreadable.append(key)
                    continue
                for entry in found:
                    entries.setdefault(entry.label, entry)
        return Catalog(entries.values())

    def labels(self) -> list[str]:
        objects = self.storage.list(join_key(self.root, ENTRIES_DIR))
        return sorted(unquote(o.name[: -len(SUFFIX)]) for o in objects if o.name.endswith(SUFFIX))


__all__ = ["CatalogStore", "EntryStatus", "entry_schema", "entry_to_parquet", "entries_from_parquet"]
