"""The frontend's metadata: databases, tables, partitions, views, MVs, functions, catalogs, repositories.

Everything here is plain data saved as one JSON document (written atomically) so a restart finds it again.
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
    def save(self) -> None:
        with self.lock:
            document = {
                "next_id": self.next_id,
                "databases": {k: dataclasses.asdict(v) for k, v in self.databases.items()},
                "catalogs": {k: dataclasses.asdict(v) for k, v in self.catalogs.items()},
                "repositories": {k: dataclasses.asdict(v) for k, v in self.repositories.items()},
                "jobs": self.jobs,
                "config": self.config,
                "users": self.users,
                "roles": self.roles,
            }
            temp = self.path.with_suffix(".tmp")
            temp.write_text(json.dumps(document))
            os.replace(temp, self.path)

    def _load(self) -> None:
        document = json.loads(self.path.read_text())
        self.next_id = document["next_id"]
        self.databases = {k: _database_from(v) for k, v in document["databases"].items()}
        self.catalogs = {k: ExternalCatalog(**v) for k, v in document["catalogs"].items()}
        self.repositories = {k: Repository(**v) for k, v in document["repositories"].items()}
        self.jobs = document.get("jobs", {})
        self.config = document.get("config", {})
        self.users = document.get("users", {})
        self.roles = document.get("roles", {})
