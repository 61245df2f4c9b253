"""The frontend's metastore: databases, tables, partitions, views, MVs, functions, external catalogs, repositories.

StarRocks keeps these in ``GlobalStateMgr``: databases and tables in ``LocalMetastore``, external catalogs in
``CatalogMgr`` (``server/``, 3.5 e223275f78); the emulator keeps them in one :class:`Metastore`. (In sr_airflow's own
words "catalog" is only the backup catalog, and StarRocks' catalogs are "external catalogs".)

Everything here is plain data saved as one JSON document (written atomically) so a restart finds it again. Between
two such snapshots, the frequent small changes (a table created or loaded, a database created, a job's state) are
appended to a journal of JSON lines that a restart replays on top of the snapshot: rewriting the whole document on
every CREATE TABLE made creating thousands of tables quadratic.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ERR_BAD_DB_ERROR, analyzing_error
from .javajson import hashmap_order, long_hash


@dataclass
class Column:
    name: str
    sr_type: str
    nullable: bool = True
    default: str | None = None
    agg: str | None = None
    comment: str = ""
    auto_increment: bool = False
    unique_id: int = -1  # Column.uniqueId


class GtidGenerator:
    """`transaction/GtidGenerator.nextGtid` (3.5 e223275f78): `(milliseconds since 2020-01-01 UTC) << 21 |
    (cluster id 0) << 13 | sequence`, the sequence counting up within one millisecond, time never going back."""

    EPOCH_MS = 1577836800000
    SEQUENCE_MASK = (1 << 13) - 1

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = -1
        self._sequence = 0

    def next(self) -> int:
        with self._lock:
            now = max(int(time.time() * 1000), self._last)
            if now == self._last:
                self._sequence = (self._sequence + 1) & self.SEQUENCE_MASK
                if self._sequence == 0:
                    now += 1
            else:
                self._sequence = 0
            self._last = now
            return ((now - self.EPOCH_MS) << 21) | self._sequence


GTIDS = GtidGenerator()


@dataclass
class Partition:
    id: int
    name: str
    tablet_ids: list[int]
    visible_version: int = 1
    visible_version_time: float = 0.0
    lower: list[str] | None = None  # range partitions; None is MIN
    upper: list[str] | None = None  # range partitions; None is MAXVALUE
    values: list[list[str]] = field(default_factory=list)  # list partitions
    row_count: int = 0
    data_size: int = 0
    is_temp: bool = False
    # The partition's (default) physical partition: since StarRocks #50598 (3.4+) `LocalMetastore.createPartition`
    # gives it its own id from the id counter (`physicalPartitionId = getNextId()`); on 3.3 it is the logical id.
    # SHOW PARTITIONS' PartitionId, partitions_meta's PARTITION_ID and the `__part_<id>` content paths show it.
    physical_id: int = 0
    rollup_tablets: dict[str, list[int]] = field(default_factory=dict)  # rollup index id -> its tablets here
    # PhysicalPartition.versionEpoch: a GTID drawn when the physical partition is made (constructor) or read back
    # without one (gsonPostProcess: `if (versionEpoch == 0) versionEpoch = nextVersionEpoch()`); loads keep it
    # (DatabaseTransactionMgr draws a new one only for replication transactions). partitions_meta.VERSION_EPOCH and
    # SHOW PARTITIONS' VersionEpoch show it.
    version_epoch: int = 0

    def __post_init__(self) -> None:
        if not self.physical_id:
            self.physical_id = self.id
        if not self.version_epoch:
            self.version_epoch = GTIDS.next()


@dataclass
class Index:
    """A rollup or synchronous-MV index of an OLAP table (`MaterializedIndexMeta`): its own id, schema and tablets
    in every partition."""
    id: int
    name: str
    columns: list[Column]
    keys_type: str = "DUP_KEYS"
    define_stmt: str = ""  # synchronous MVs: the CREATE MATERIALIZED VIEW statement (`OriginStatement`)
    view_define_sql: str = ""  # synchronous MVs: the SELECT (`MaterializedIndexMeta.viewDefineSql`)
    schema_hash: int = 0
    key_columns: list[str] = field(default_factory=list)

    @property
    def is_mv(self) -> bool:
        return bool(self.define_stmt)


@dataclass
class Table:
    id: int
    name: str
    kind: str  # OLAP, VIEW, MATERIALIZED_VIEW
    columns: list[Column] = field(default_factory=list)
    keys_type: str = "DUP_KEYS"
    key_columns: list[str] = field(default_factory=list)
    partition_type: str = "UNPARTITIONED"  # UNPARTITIONED, RANGE, LIST, EXPR
    partition_columns: list[str] = field(default_factory=list)
    partition_function: str = ""  # EXPR: date_trunc unit, or "" for column (list) expression partitioning
    partitions: list[Partition] = field(default_factory=list)
    distribution: str = "HASH"
    distribution_columns: list[str] = field(default_factory=list)
    buckets: int = 1
    properties: dict[str, str] = field(default_factory=dict)
    comment: str = ""
    base_index_id: int = 0
    state: str = "NORMAL"
    create_time: float = 0.0
    query_sql: str = ""  # views and MVs: the defining SELECT
    refresh: str = ""  # MVs: the REFRESH clause text; "ROLLUP" for synchronous MVs
    is_active: bool = True
    inactive_reason: str = ""
    sync_base: str = ""  # synchronous MVs: the base table name
    auto_increment_id: int = 0
    rollups: list[Index] = field(default_factory=list)  # OLAP tables: rollup and synchronous-MV indexes
    max_col_unique_id: int = -1  # OlapTable.maxColUniqueId: each column's uniqueId comes from it

    def rollup(self, name: str) -> Index | None:
        return next((r for r in self.rollups if r.name == name), None)

    @property
    def replication_num(self) -> int:
        return int(self.properties.get("replication_num", "3"))

    def partition(self, name: str) -> Partition | None:
        return next((p for p in self.partitions if p.name == name), None)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)

    @property
    def has_data(self) -> bool:
        return self.kind == "OLAP" or (self.kind == "MATERIALIZED_VIEW" and self.refresh != "ROLLUP")


@dataclass
class Function:
    name: str
    signature: str
    return_type: str
    create_sql: str
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class Database:
    id: int
    name: str
    tables: dict[str, Table] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)

    def table(self, name: str) -> Table | None:
        return self.tables.get(name)


@dataclass
class ExternalCatalog:
    name: str
    type: str
    properties: dict[str, str]
    comment: str = ""
    id: int = 0


@dataclass
class Repository:
    id: int
    name: str
    create_time: float
    read_only: bool
    location: str
    broker: str
    properties: dict[str, str]
    err_msg: str | None = None
    prefix: str = "__starrocks_repository_"  # or the legacy "__palo_repository_" (Repository.prefixRepo)


def _fields(cls) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


_COLUMN_FIELDS, _PARTITION_FIELDS = _fields(Column), _fields(Partition)
_INDEX_FIELDS = tuple(f for f in _fields(Index) if f != "columns")
_TABLE_FIELDS = tuple(f for f in _fields(Table) if f not in ("columns", "partitions", "rollups"))


def plain(obj) -> dict:
    """`dataclasses.asdict` for the metastore's flat dataclasses, without its deep copies (json.dumps reads the
    result right away, under the metastore lock)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def table_plain(table: Table) -> dict:
    data = {name: getattr(table, name) for name in _TABLE_FIELDS}
    data["columns"] = [{name: getattr(c, name) for name in _COLUMN_FIELDS} for c in table.columns]
    data["partitions"] = [{name: getattr(p, name) for name in _PARTITION_FIELDS} for p in table.partitions]
    data["rollups"] = [{**{name: getattr(r, name) for name in _INDEX_FIELDS},
                        "columns": [{name: getattr(c, name) for name in _COLUMN_FIELDS} for c in r.columns]}
                       for r in table.rollups]
    return data


def _database_plain(db: Database) -> dict:
    return {"id": db.id, "name": db.name, "tables": {k: table_plain(v) for k, v in db.tables.items()},
            "functions": {k: plain(v) for k, v in db.functions.items()}}


def _table_from(data: dict) -> Table:
    data = dict(data)
    data["columns"] = [Column(**c) for c in data.get("columns", [])]
    data["partitions"] = [Partition(**p) for p in data.get("partitions", [])]
    data["rollups"] = [Index(**{**r, "columns": [Column(**c) for c in r["columns"]]}) for r in data.get("rollups", [])]
    return Table(**data)


def table_from_dict(data: dict) -> Table:
    return _table_from(data)


def _database_from(data: dict) -> Database:
    return Database(
        id=data["id"], name=data["name"],
        tables={k: _table_from(v) for k, v in data.get("tables", {}).items()},
        functions={k: Function(**v) for k, v in data.get("functions", {}).items()},
    )


class Metastore:
    """All metadata of one emulated cluster (StarRocks' ``LocalMetastore`` and ``CatalogMgr``), under one re-entrant
    lock."""

    def __init__(self, path: Path, physical_ids: bool = True):
        self.path = path
        self.physical_ids = physical_ids  # 3.4+: a partition's physical partition has its own id (see Partition)
        self.lock = threading.RLock()
        self.next_id = 10001
        self.databases: dict[str, Database] = {}
        self.external_catalogs: dict[str, ExternalCatalog] = {}
        self.repositories: dict[str, Repository] = {}
        self.jobs: dict[str, dict] = {}  # "<dbId>" -> the latest job's persisted state
        self.config: dict[str, str] = {}
        self.users: dict[str, dict] = {}  # name -> {password, roles, default_roles, grants}
        self.roles: dict[str, dict] = {}  # name -> {grants, roles (parents), comment}
        self.resource_groups: dict[str, dict] = {}  # name -> resource_groups.py's fields
        self.generation = 0  # of the snapshot; journal lines carry the generation they follow
        self._journal = None  # opened by the first snapshot of this process
        self._snapshot_bytes = self._journal_bytes = 0
        if path.exists():
            self._load()

    def new_id(self) -> int:
        with self.lock:
            self.next_id += 1
            return self.next_id

    def database(self, name: str) -> Database:
        db = self.databases.get(name)
        if db is None:  # the analyzers' MetaUtils.getDatabase / checkDbNullAndReport: ERR_BAD_DB_ERROR
            raise analyzing_error(f"Unknown database '{name}'", ERR_BAD_DB_ERROR)
        return db

    def database_by_id(self, db_id: int) -> Database | None:
        return next((d for d in self.databases.values() if d.id == db_id), None)

    def new_partition(self, name: str, buckets: int, table: Table | None = None, partition_id: int | None = None,
                      replicas: int | None = None, **bounds) -> Partition:
        """A partition with its ids drawn in StarRocks' order (`LocalMetastore.createPartitionMap` then
        `createPartition`, 3.4 afccab88 / 3.5 e223275f): the logical id (unless the caller drew it earlier, as
        `OlapTableFactory` does for CREATE TABLE), on 3.4+ the physical partition's id, then for each index of
        the table (a `HashMap<Long, MaterializedIndex>`: hash order of the index ids) its tablets, each tablet
        followed by one id per replica (`createOlapTablets`: `new LocalTablet(getNextId())`, then
        `replicaId = getNextId()` per backend chosen; `replicas`, else the table's replication_num). 3.3
        (1a2f1f5d75) draws no physical id."""
        with self.lock:
            logical = partition_id if partition_id is not None else self.new_id()
            physical = self.new_id() if self.physical_ids else logical
            partition = Partition(id=logical, name=name, tablet_ids=[], visible_version_time=time.time(),
                                  physical_id=physical, **bounds)
            base = table.base_index_id if table is not None else 0
            if replicas is None:
                replicas = table.replication_num if table is not None else 3
            index_ids = [base] + [r.id for r in table.rollups] if table is not None else [base]
            for index_id in hashmap_order(index_ids, long_hash):
                tablets = self.new_tablets(max(buckets, 1), replicas)
                if index_id == base:
                    partition.tablet_ids = tablets
                else:
                    partition.rollup_tablets[str(index_id)] = tablets
            return partition

    def new_tablets(self, count: int, replicas: int) -> list[int]:
        """`count` tablet ids, each followed by `replicas` replica ids (`LocalMetastore.createOlapTablets`)."""
        tablets = []
        for _ in range(count):
            tablets.append(self.new_id())
            for _ in range(replicas):
                self.new_id()
        return tablets

    # -- persistence
    @property
    def journal_path(self) -> Path:
        return self.path.with_suffix(".journal")

    def save(self) -> None:
        """A full snapshot (atomic); the journal starts again empty."""
        with self.lock:
            self.generation += 1
            document = {
                "next_id": self.next_id,
                "generation": self.generation,
                "databases": {k: _database_plain(v) for k, v in self.databases.items()},
                "external_catalogs": {k: plain(v) for k, v in self.external_catalogs.items()},
                "repositories": {k: plain(v) for k, v in self.repositories.items()},
                "jobs": self.jobs,
                "config": self.config,
                "users": self.users,
                "roles": self.roles,
                "resource_groups": self.resource_groups,
            }
            text = json.dumps(document)
            temp = self.path.with_suffix(".tmp")
            temp.write_text(text)
            os.replace(temp, self.path)
            if self._journal is not None:
                self._journal.close()
            self._journal = open(self.journal_path, "w", encoding="utf-8")  # noqa: SIM115 - appended to until the next snapshot
            self._snapshot_bytes, self._journal_bytes = len(text), 0

    def save_table(self, db: Database, table: Table) -> None:
        """Journal one table (created, loaded): its whole definition, partitions and versions."""
        self._append({"op": "table", "db": db.name, "db_id": db.id, "table": table_plain(table)})

    def save_database(self, db: Database) -> None:
        """Journal a new (empty) database."""
        self._append({"op": "database", "db": db.name, "db_id": db.id})

    def save_job(self, key: str) -> None:
        """Journal the latest job of a database (`jobs[key]`)."""
        self._append({"op": "job", "key": key, "record": self.jobs[key]})

    def _append(self, entry: dict) -> None:
        with self.lock:
            if self._journal is None or self._journal_bytes > max(self._snapshot_bytes, 1 << 20):
                self.save()  # a snapshot when the journal outgrows it: each change is written a bounded number of times
                return
            line = json.dumps({"generation": self.generation, "next_id": self.next_id, **entry}) + "\n"
            self._journal.write(line)
            self._journal.flush()
            self._journal_bytes += len(line)

    def _load(self) -> None:
        document = json.loads(self.path.read_text())
        self.next_id = document["next_id"]
        self.generation = document.get("generation", 0)
        self.databases = {k: _database_from(v) for k, v in document["databases"].items()}
        self.external_catalogs = {k: ExternalCatalog(**v) for k, v in document["external_catalogs"].items()}
        self.repositories = {k: Repository(**v) for k, v in document["repositories"].items()}
        self.jobs = document.get("jobs", {})
        self.config = document.get("config", {})
        self.users = document.get("users", {})
        self.roles = document.get("roles", {})
        self.resource_groups = document.get("resource_groups", {})
        self._replay()

    def _replay(self) -> None:
        """The journal lines written after the snapshot (lines of an older generation were already in it)."""
        if not self.journal_path.exists():
            return
        for line in self.journal_path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                break  # the process stopped in the middle of this line: it never happened
            if entry.get("generation") != self.generation:
                continue
            self.next_id = max(self.next_id, entry["next_id"])
            if entry["op"] == "job":
                self.jobs[entry["key"]] = entry["record"]
                continue
            db = self.databases.get(entry["db"])
            if db is None or db.id != entry["db_id"]:
                db = self.databases[entry["db"]] = Database(id=entry["db_id"], name=entry["db"])
            if entry["op"] == "table":
                table = _table_from(entry["table"])
                db.tables[table.name] = table
