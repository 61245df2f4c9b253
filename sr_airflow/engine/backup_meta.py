"""A snapshot's ``__meta`` file: the catalog objects StarRocks backed up, as the product needs them. Pure Python.

Format (read at the 3.5 point e223275f78; the same at 3.3 1a2f1f5d75 and 3.4 afccab88): ``BackupMeta`` is
written with ``Text.writeString`` (a 4-byte big-endian length, then that many bytes of UTF-8) holding
``GsonUtils.GSON.toJson(backupMeta)``: ``{"tblNameMap": {name: Table}, "functions": [...], "catalogs": [...]}``.
Each table carries its ``"clazz"`` (``OlapTable``, ``MaterializedView``, ``View``, ...). An ``OlapTable`` (and a
``MaterializedView``, which extends it) holds ``fullSchema`` — the base columns *plus* every rollup / synchronous
MV column, in no meaningful order (``OlapTable.rebuildFullSchema``) — and its real base schema in
``indexIdToMeta[baseIndexId].schema`` (``OlapTable.getBaseSchema`` → ``getSchemaByIndexId(baseIndexId)``;
``MaterializedIndexMeta.schema``), which is what ``information_schema.columns`` lists
(``FrontendServiceImpl.setColumnDesc`` iterates ``table.getBaseSchema()``). Other tables (``View``) have only
``fullSchema``, which ``Table.getBaseSchema`` returns.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sr_airflow.engine.column_types import ColumnDef, mysql_column_type
from sr_airflow.engine.errors import InvalidArgumentError

__all__ = ["BackupMeta", "MetaTable", "parse_backup_meta"]

_INDEXED_CLASSES = frozenset({"OlapTable", "MaterializedView", "LakeTable", "LakeMaterializedView",
                              "ExternalOlapTable"})


@dataclass(frozen=True)
class MetaTable:
    """One object of ``tblNameMap``: ``columns`` is its base-index schema with ``COLUMN_TYPE`` strings;
    ``rollups`` the names of its other indexes (rollups, synchronous MVs)."""

    name: str
    clazz: str
    id: int | None
    columns: tuple[ColumnDef, ...]
    rollups: tuple[str, ...] = ()


@dataclass(frozen=True)
class BackupMeta:
    tables: Mapping[str, MetaTable]
    functions: tuple[Any, ...] = ()
    external_catalogs: tuple[Any, ...] = field(default=())  # the GSON key is StarRocks' ``catalogs``

    def schemas(self) -> dict[str, list[ColumnDef]]:
        """Table name → base-index columns."""
        return {name: list(table.columns) for name, table in self.tables.items()}


def parse_backup_meta(data: bytes) -> BackupMeta:
    """Parse the bytes of a ``__meta`` file; raises InvalidArgumentError naming what is wrong."""
    if len(data) < 4:
        raise InvalidArgumentError(f"__meta is {len(data)} bytes long, shorter than its 4-byte length prefix.")
    (length,) = struct.unpack(">i", data[:4])
    if length < 0 or length > len(data) - 4:
        raise InvalidArgumentError(f"__meta says {length} bytes follow its length prefix, but {len(data) - 4} do.")
    try:
        doc = json.loads(data[4:4 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidArgumentError(f"__meta does not hold GSON JSON after its length prefix: {exc}.") from exc
    if not isinstance(doc, Mapping) or not isinstance(doc.get("tblNameMap", {}), Mapping):
        raise InvalidArgumentError("__meta must be a BackupMeta object with a 'tblNameMap' object.")
    tables = {str(name): _table(str(name), body) for name, body in (doc.get("tblNameMap") or {}).items()}
    return BackupMeta(tables, tuple(doc.get("functions") or ()), tuple(doc.get("catalogs") or ()))


def _table(name: str, body: Any) -> MetaTable:
    if not isinstance(body, Mapping):
        raise InvalidArgumentError(f"__meta table {name!r} is not an object.")
    clazz = str(body.get("clazz") or "")
    table_id = body.get("id")
    if clazz not in _INDEXED_CLASSES:
        return MetaTable(name, clazz, table_id, _columns(name, body.get("fullSchema") or []))
    metas = body.get("indexIdToMeta")
    base_id = body.get("baseIndexId")
    base = metas.get(str(base_id)) if isinstance(metas, Mapping) else None
    if not isinstance(base, Mapping):
        raise InvalidArgumentError(f"__meta table {name!r} ({clazz}) has no indexIdToMeta entry for its "
                                   f"baseIndexId {base_id!r}.")
    names = body.get("indexNameToId") or {}
    rollups = tuple(sorted(str(n) for n, i in names.items() if str(i) != str(base_id)))
    return MetaTable(name, clazz, table_id, _columns(name, base.get("schema") or []), rollups)


def _columns(table: str, raw: Any) -> tuple[ColumnDef, ...]:
    if not isinstance(raw, list):
        raise InvalidArgumentError(f"__meta table {table!r} has a schema that is not a list.")
    out = []
    for column in raw:
        if not isinstance(column, Mapping) or not column.get("name"):
            raise InvalidArgumentError(f"__meta table {table!r} has a column without a name: {column!r}.")
        try:
            out.append(ColumnDef(str(column["name"]), mysql_column_type(column.get("type"))))
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"__meta table {table!r} column {column['name']!r}: "
                                       f"{str(exc).rstrip('.')}.") from None
    return tuple(out)
