"""The frontend's metadata: databases, tables, partitions, views, MVs, functions, catalogs, repositories.

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

from .errors import EmulatorError


@dataclass
class Column:
    name: str
    sr_type: str
    nullable: bool = True
    default: str | None = None
    agg: str | None = None
    comment: str = ""
    auto_increment: bool = False


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


def _fields(cls) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


_COLUMN_FIELDS, _PARTITION_FIELDS = _fields(Column), _fields(Partition)
_TABLE_FIELDS = tuple(f for f in _fields(Table) if f not in ("columns", "partitions"))


def plain(obj) -> dict:
    """`dataclasses.asdict` for the catalog's flat dataclasses, without its deep copies (json.dumps reads the
    result right away, under the catalog lock)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def table_plain(table: Table) -> dict:
    data = {name: getattr(table, name) for name in _TABLE_FIELDS}
    data["columns"] = [{name: getattr(c, name) for name in _COLUMN_FIELDS} for c in table.columns]
    data["partitions"] = [{name: getattr(p, name) for name in _PARTITION_FIELDS} for p in table.partitions]
    return data


def _database_plain(db: Database) -> dict:
    return {"id": db.id, "name": db.name, "tables": {k: table_plain(v) for k, v in db.tables.items()},
            "functions": {k: plain(v) for k, v in db.functions.items()}}


def _table_from(data: dict) -> Table:
    data = dict(data)
    data["columns"] = [Column(**c) for c in data.get("columns", [])]
    data["partitions"] = [Partition(**p) for p in data.get("partitions", [])]
    return Table(**data)


def table_from_dict(data: dict) -> Table:
    return _table_from(data)


def _database_from(data: dict) -> Database:
    return Database(
        id=data["id"], name=data["name"],
        tables={k: _table_from(v) for k, v in data.get("tables", {}).items()},
        functions={k: Function(**v) for k, v in data.get("functions", {}).items()},
    )


class Catalog:
    """All metadata of one emulated cluster, guarded by one re-entrant lock."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.RLock()
        self.next_id = 10001
        self.databases: dict[str, Database] = {}
        self.catalogs: dict[str, ExternalCatalog] = {}
        self.repositories: dict[str, Repository] = {}
        self.jobs: dict[str, dict] = {}  # "<dbId>" -> the latest job's persisted state
        self.config: dict[str, str] = {}
        self.users: dict[str, dict] = {}  # name -> {password, roles, default_roles, grants}
        self.roles: dict[str, dict] = {}  # name -> {grants}
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
        if db is None:
            raise EmulatorError(f"Getting analyzing error. Detail message: Unknown database '{name}'.")
        return db

    def database_by_id(self, db_id: int) -> Database | None:
        return next((d for d in self.databases.values() if d.id == db_id), None)

    def new_partition(self, name: str, buckets: int, **bounds) -> Partition:
        tablets = [self.new_id() for _ in range(max(buckets, 1))]
        return Partition(id=self.new_id(), name=name, tablet_ids=tablets, visible_version_time=time.time(),
                         **bounds)

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
                "catalogs": {k: plain(v) for k, v in self.catalogs.items()},
                "repositories": {k: plain(v) for k, v in self.repositories.items()},
                "jobs": self.jobs,
                "config": self.config,
                "users": self.users,
                "roles": self.roles,
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
        self.catalogs = {k: ExternalCatalog(**v) for k, v in document["catalogs"].items()}
        self.repositories = {k: Repository(**v) for k, v in document["repositories"].items()}
        self.jobs = document.get("jobs", {})
        self.config = document.get("config", {})
        self.users = document.get("users", {})
        self.roles = document.get("roles", {})
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
