"""Operator arguments (plain JSON-able values, as templates render them) into a validated :class:`Scope`.

Each object argument is None (not asked), ``"ALL"`` (every object of that kind), or a list whose items are a name
or a mapping ``{"name": ..., "partitions": [...], "alias": ...}`` (partitions for tables only, alias for RESTORE).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.scope import ExternalCatalogRef, ObjectKind, ObjectRef, Scope

ALL = "ALL"
_KEYS = {"name", "partitions", "alias"}


def _refs(kind: ObjectKind, value: Any, argument: str) -> tuple[list[ObjectRef], bool]:
    if value is None:
        return [], False
    if isinstance(value, str):
        if value.strip().upper() == ALL:
            return [], True
        raise InvalidArgumentError(f"{argument} must be 'ALL' or a list of names, got {value!r}.")
    if not isinstance(value, (list, tuple)):
        raise InvalidArgumentError(f"{argument} must be 'ALL' or a list of names, got {type(value).__name__}.")
    refs = []
    for item in value:
        if isinstance(item, str):
            refs.append(ObjectRef(kind, item))
        elif isinstance(item, Mapping):
            unknown = set(item) - _KEYS
            if unknown or "name" not in item:
                raise InvalidArgumentError(
                    f"{argument} item {dict(item)!r} must have 'name' and only 'partitions' and 'alias' besides.")
            partitions = item.get("partitions") or ()
            if isinstance(partitions, str):
                partitions = (partitions,)
            refs.append(ObjectRef(kind, item["name"], tuple(partitions), item.get("alias")))
        else:
            raise InvalidArgumentError(f"{argument} item {item!r} must be a name or a mapping with 'name'.")
    return refs, False


def _external_catalogs(value: Any) -> tuple[list[ExternalCatalogRef], bool]:
    if value is None:
        return [], False
    if isinstance(value, str):
        if value.strip().upper() == ALL:
            return [], True
        raise InvalidArgumentError(f"external_catalogs must be 'ALL' or a list of names, got {value!r}.")
    refs = []
    for item in value:
        if isinstance(item, str):
            refs.append(ExternalCatalogRef(item))
        elif isinstance(item, Mapping) and "name" in item and set(item) <= {"name", "alias"}:
            refs.append(ExternalCatalogRef(item["name"], item.get("alias")))
        else:
            raise InvalidArgumentError(f"external_catalogs item {item!r} must be a name or {{'name', 'alias'}}.")
    return refs, False


def scope_from_arguments(*, database: str | None = None, tables: Any = None, materialized_views: Any = None,
                         views: Any = None, functions: Any = None, external_catalogs: Any = None,
                         target_database: str | None = None) -> Scope:
    """A Scope from operator arguments; nothing but ``database`` means the whole database."""
    objects: list[ObjectRef] = []
    all_of: list[ObjectKind] = []
    for kind, value, argument in ((ObjectKind.TABLE, tables, "tables"),
                                  (ObjectKind.MATERIALIZED_VIEW, materialized_views, "materialized_views"),
                                  (ObjectKind.VIEW, views, "views"),
                                  (ObjectKind.FUNCTION, functions, "functions")):
        refs, everything = _refs(kind, value, argument)
        objects += refs
        if everything:
            all_of.append(kind)
    catalogs, all_catalogs = _external_catalogs(external_catalogs)
    return Scope(database=database or None, objects=tuple(objects), all_of=tuple(all_of),
                 external_catalogs=tuple(catalogs), all_external_catalogs=all_catalogs,
                 target_database=target_database or None)


def scope_description(scope: Scope) -> dict[str, Any]:
    """A JSON-able description of a scope (for labels, XCom and the backup catalog). Its keys ``catalogs`` and
    ``all_catalogs`` are the external catalogs, under the names they had when this description went into label
    digests and recorded catalog entries: renaming them would change every label's digest (a retry would not find
    its own job) and the entries' recorded scope."""
    return {
        "database": scope.database,
        "objects": [{"kind": r.kind.value, "name": r.name, "partitions": list(r.partitions)} for r in scope.objects],
        "all_of": [k.value for k in scope.all_of],
        "catalogs": [c.name for c in scope.external_catalogs],
        "all_catalogs": scope.all_external_catalogs,
    }


def table_names(scope: Scope) -> list[str]:
    return [r.name for r in scope.objects if r.kind is ObjectKind.TABLE]


def named_tables(value: Any, argument: str = "tables") -> dict[str, str] | None:
    """Table -> the name it is restored under (its alias, else itself) for a ``tables`` argument that names
    tables; None when it names none (None, empty, ``"ALL"``). A single name stands for a list of one."""
    if not value:
        return None
    if isinstance(value, str):
        if value.strip().upper() == ALL:
            return None
        value = [value]
    refs, _ = _refs(ObjectKind.TABLE, value, argument)
    return {r.name: r.alias or r.name for r in refs}
