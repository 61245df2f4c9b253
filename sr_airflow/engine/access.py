"""Users, roles, grants and resource groups: read from StarRocks' SHOW statements into plain records.

StarRocks backs none of them up. What it shows (3.5 e223275f78; the same texts at 3.3 and 3.4):
- ``SHOW USERS``: one column, ``UserIdentity.toString`` (``'u'@'%'``, ``'u'@['domain']``).
- ``SHOW ROLES``: Name, Builtin, Comment ("NULL" when none; ``ShowExecutor.visitShowRolesStatement``).
- ``SHOW GRANTS FOR 'u'@'h'`` / ``FOR ROLE r``: UserIdentity, Catalog, Grants. The first row may list role
  memberships (catalog NULL): ``GRANT 'r1', 'r2' TO 'u'@'%'`` or ``GRANT 'r1' TO  ROLE r0`` (``TO ROLE r0`` at 4.0)
  (``AuthorizationMgr.getGranteeRoleDetailsFor*``, ``AstToStringBuilder.visitGrantRevokeRoleStatement``); then one
  row per privilege entry, ``GRANT <privileges> ON <object> TO USER 'u'@'%' | ROLE 'r'[ WITH GRANT OPTION]``
  (``ShowExecutor.privilegeToRowString``, ``AstToStringBuilder.visitGrantRevokePrivilegeStatement``): names are
  printed unquoted, objects as ``SYSTEM``, ``TABLE db.t``, ``ALL TABLES IN DATABASE db``, ``ALL DATABASES``, ...
  (``TablePEntryObject.toStringImpl``, ``DbPEntryObject.toString``, ``CatalogPEntryObject.toString``). A grant on a
  table that was dropped (and so on one a RESTORE re-created under a new id) is no longer shown.
- ``SHOW RESOURCE GROUPS ALL``: one row per classifier (``ResourceGroup.showClassifier``), titles by release line
  (3.3: cpu_core_limit ... type; 3.4+: cpu_weight, exclusive_cpu_cores, ...), classifiers as
  ``(id=1, weight=2.0, user=u, role=r, query_type in (INSERT, SELECT), db='d1,d2', source_ip=10.0.0.0/8, ...)``
  (``ResourceGroupClassifier.toString``). ``default_wg`` and ``default_mv_wg`` are builtin (``BUILTIN_WG_NAMES``).
This module parses those texts; ``engine/access_sql.py`` writes them back as replayable SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

BUILTIN_ROLES = frozenset({"root", "db_admin", "cluster_admin", "user_admin", "public",
                           "security_admin"})  # PrivilegeBuiltinConstants; security_admin from 4.0
BUILTIN_USERS = frozenset({"root"})
BUILTIN_RESOURCE_GROUPS = frozenset({"default_wg", "default_mv_wg"})
_IN_DATABASE = ("TABLES", "VIEWS", "MATERIALIZED VIEWS", "FUNCTIONS")
_SINGULAR = {"TABLES": "TABLE", "VIEWS": "VIEW", "MATERIALIZED VIEWS": "MATERIALIZED VIEW", "FUNCTIONS": "FUNCTION"}
_NAMED_OBJECTS = ("CATALOG", "RESOURCE GROUP", "STORAGE VOLUME", "WAREHOUSE", "RESOURCE")
_IDENTITY = re.compile(r"^'(?P<user>.*)'@(?:'(?P<host>.*)'|\['(?P<domain>.*)'\])$")
_CLASSIFIER = re.compile(
    r"^\(id=(?P<id>-?\d+), weight=[^,)]+(?:, user=(?P<user>.*?))?(?:, role=(?P<role>.*?))?"
    r"(?:, query_type in \((?P<query_type>[A-Z_, ]*)\))?(?:, db='(?P<db>.*?)')?(?:, source_ip=(?P<source_ip>[^,)]*))?"
    r"(?:, plan_cpu_cost_range=(?P<cpu>\[[^)]*\)))?(?:, plan_mem_cost_range=(?P<mem>\[[^)]*\)))?\)$")
# SHOW RESOURCE GROUPS columns that are CREATE RESOURCE GROUP properties, with the value meaning "not set"
_GROUP_PROPERTIES = {"cpu_weight": None, "cpu_core_limit": None, "exclusive_cpu_cores": "0", "mem_limit": None,
                     "max_cpu_cores": "null", "big_query_cpu_second_limit": "0", "big_query_scan_rows_limit": "0",
                     "big_query_mem_limit": "0", "concurrency_limit": "null", "spill_mem_limit_threshold": "100%",
                     "type": "NORMAL"}


@dataclass(frozen=True)
class Grantee:
    """A role (``host`` None) or a user identity."""

    name: str
    host: str | None = None
    domain: bool = False

    @property
    def is_role(self) -> bool:
        return self.host is None

    @property
    def shown(self) -> str:
        """As StarRocks prints it in SHOW GRANTS' rows (a user: ``UserIdentity.toString``)."""
        if self.is_role:
            return self.name
        return f"'{self.name}'@['{self.host}']" if self.domain else f"'{self.name}'@'{self.host}'"

    def to_dict(self) -> dict[str, Any]:
        if self.is_role:
            return {"role": self.name}
        return {"user": self.name, "host": self.host, **({"domain": True} if self.domain else {})}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Grantee:
        if "role" in data:
            return cls(str(data["role"]))
        return cls(str(data["user"]), str(data.get("host", "%")), bool(data.get("domain", False)))


def parse_user_identity(text: str) -> Grantee:
    match = _IDENTITY.match(text.strip())
    if match is None:
        raise ValueError(f"not a StarRocks user identity: {text!r}")
    if match.group("domain") is not None:
        return Grantee(match.group("user"), match.group("domain"), domain=True)
    return Grantee(match.group("user"), match.group("host"))


@dataclass(frozen=True)
class GrantObject:
    """What a privilege is on. ``object_type`` (StarRocks' ``authorization/ObjectType``, 3.5 e223275f78): SYSTEM,
    CATALOG, DATABASE, TABLE, VIEW, MATERIALIZED VIEW, FUNCTION, RESOURCE GROUP, ...; ``database``: the database it
    lives in ("*" for every database, None for objects outside databases); ``name``: the object ("*" for all of its
    type). The export file keeps the key ``kind`` its first files were written with."""

    object_type: str
    database: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.object_type, "database": self.database, "name": self.name}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GrantObject:
        return cls(str(data["kind"]), data.get("database"), data.get("name"))


def parse_grant_object(text: str) -> GrantObject | None:
    """The object of a SHOW GRANTS row (the text between ON and TO), or None for a form not replayed (a single
    function, whose text is its signature)."""
    if text == "SYSTEM":
        return GrantObject("SYSTEM")
    if text == "ALL CATALOGS":
        return GrantObject("CATALOG", None, "*")
    if text == "ALL DATABASES":
        return GrantObject("DATABASE", "*")
    if text == "ALL RESOURCE GROUPS":
        return GrantObject("RESOURCE GROUP", None, "*")
    for plural in _IN_DATABASE:
        if text == f"ALL {plural} IN ALL DATABASES":
            return GrantObject(_SINGULAR[plural], "*", "*")
        prefix = f"ALL {plural} IN DATABASE "
        if text.startswith(prefix):
            return GrantObject(_SINGULAR[plural], text[len(prefix):], "*")
    if text.startswith("DATABASE "):
        return GrantObject("DATABASE", text[len("DATABASE "):])
    for object_type in ("MATERIALIZED VIEW", "TABLE", "VIEW"):
        if text.startswith(object_type + " "):
            database, dot, name = text[len(object_type) + 1:].partition(".")
            return GrantObject(object_type, database, name) if dot else None
    for object_type in _NAMED_OBJECTS:
        if text.startswith(object_type + " "):
            return GrantObject(object_type, None, text[len(object_type) + 1:])
    return None


@dataclass(frozen=True)
class PrivilegeGrant:
    grantee: Grantee
    privileges: tuple[str, ...]
    on: GrantObject
    grant_option: bool = False


@dataclass(frozen=True)
class RoleGrant:
    """Roles granted to a user or to another role (a role's parents)."""

    grantee: Grantee
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Unreplayable:
    """A SHOW GRANTS row this tool does not replay (kept in the file as a comment, reported)."""

    grantee: Grantee
    text: str


@dataclass(frozen=True)
class Classifier:
    user: str | None = None
    role: str | None = None
    query_types: tuple[str, ...] = ()
    databases: tuple[str, ...] = ()
    source_ip: str | None = None
    plan_cpu_cost_range: str | None = None
    plan_mem_cost_range: str | None = None


@dataclass(frozen=True)
class ResourceGroup:
    name: str
    properties: Mapping[str, str]
    classifiers: tuple[Classifier, ...] = ()


@dataclass(frozen=True)
class Role:
    name: str
    comment: str | None = None


@dataclass(frozen=True)
class AccessExport:
    users: tuple[Grantee, ...] = ()
    roles: tuple[Role, ...] = ()
    role_grants: tuple[RoleGrant, ...] = ()
    privilege_grants: tuple[PrivilegeGrant, ...] = ()
    resource_groups: tuple[ResourceGroup, ...] = ()
    unreplayable: tuple[Unreplayable, ...] = ()
    notes: tuple[str, ...] = field(default=())


def parse_show_users(rows: Iterable[Sequence[Any]]) -> list[Grantee]:
    """SHOW USERS rows without the builtin root."""
    users = [parse_user_identity(str(row[0])) for row in rows]
    return [u for u in users if u.name not in BUILTIN_USERS]


def parse_show_roles(rows: Iterable[Sequence[Any]]) -> list[Role]:
    """SHOW ROLES rows (Name, Builtin, Comment) without the builtin roles."""
    roles = []
    for row in rows:
        name, builtin = str(row[0]), str(row[1]).lower() == "true"
        if builtin or name in BUILTIN_ROLES:
            continue
        comment = None if len(row) < 3 or row[2] in (None, "NULL", "") else str(row[2])
        roles.append(Role(name, comment))
    return roles


def _split_role_list(text: str, known: set[str]) -> tuple[str, ...] | None:
    """``'a', 'b'`` as StarRocks prints it (names unquoted inside single quotes): split on ``', '`` so that every
    part is a known role (a role name may itself hold ``', '``)."""
    if not (text.startswith("'") and text.endswith("'")):
        return None
    pieces = text[1:-1].split("', '")

    def solve(start: int) -> list[str] | None:
        if start == len(pieces):
            return []
        for end in range(start + 1, len(pieces) + 1):
            name = "', '".join(pieces[start:end])
            if name in known:
                rest = solve(end)
                if rest is not None:
                    return [name, *rest]
        return None

    found = solve(0)
    return tuple(found) if found is not None else None


def parse_show_grants(grantee: Grantee, rows: Iterable[Sequence[Any]], known_roles: Iterable[str]
                      ) -> list[PrivilegeGrant | RoleGrant | Unreplayable]:
    """The rows of ``SHOW GRANTS FOR`` one user or role, as records."""
    known = set(known_roles) | BUILTIN_ROLES
    records: list[PrivilegeGrant | RoleGrant | Unreplayable] = []
    role_suffixes = (f" TO  ROLE {grantee.name}", f" TO ROLE {grantee.name}") if grantee.is_role else (
        f" TO {grantee.shown}",)
    grant_suffix = f" TO ROLE '{grantee.name}'" if grantee.is_role else f" TO USER {grantee.shown}"
    for row in rows:
        text = str(row[2])
        option = text.endswith(" WITH GRANT OPTION")
        body = text[: -len(" WITH GRANT OPTION")] if option else text
        role_suffix = next((s for s in role_suffixes if body.endswith(s)), None)
        if body.startswith("GRANT '") and role_suffix and row[1] is None:
            roles = _split_role_list(body[len("GRANT "): -len(role_suffix)], known)
            records.append(RoleGrant(grantee, roles) if roles else Unreplayable(grantee, text))
            continue
        if not (body.startswith("GRANT ") and body.endswith(grant_suffix) and " ON " in body):
            records.append(Unreplayable(grantee, text))
            continue
        privileges, _, target = body[len("GRANT "): -len(grant_suffix)].partition(" ON ")
        on = parse_grant_object(target)
        if on is None:
            records.append(Unreplayable(grantee, text))
            continue
        records.append(PrivilegeGrant(grantee, tuple(p.strip() for p in privileges.split(",")), on, option))
    return records


def parse_classifier(text: str) -> Classifier | None:
    """``ResourceGroupClassifier.toString``; None for the placeholder row of a group without classifiers."""
    match = _CLASSIFIER.match(text.strip())
    if match is None:
        raise ValueError(f"unrecognised resource group classifier: {text!r}")
    if match.group("id") == "0" and not any(match.group(k) for k in ("user", "role", "query_type", "db",
                                                                       "source_ip", "cpu", "mem")):
        return None
    query_types = tuple(t.strip() for t in (match.group("query_type") or "").split(",") if t.strip())
    databases = tuple(d for d in (match.group("db") or "").split(",") if d)
    return Classifier(match.group("user"), match.group("role"), query_types, databases, match.group("source_ip"),
                      match.group("cpu"), match.group("mem"))


def parse_show_resource_groups(titles: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[ResourceGroup]:
    """SHOW RESOURCE GROUPS ALL (one row per classifier) as groups, builtin groups left out. Properties are the
    columns CREATE RESOURCE GROUP takes, kept as shown (``20.0%`` is a valid mem_limit) and left out when they
    show the value of "not set"; cpu_weight is 0 when exclusive_cpu_cores is set (``geNormalizedCpuWeight``)."""
    lower = [str(t).lower() for t in titles]
    groups: dict[str, ResourceGroup] = {}
    for row in rows:
        values = dict(zip(lower, (None if v is None else str(v) for v in row), strict=False))
        name = values["name"]
        if name in BUILTIN_RESOURCE_GROUPS:
            continue
        if name not in groups:
            props = {k: v for k, v in values.items() if k in _GROUP_PROPERTIES and v is not None
                     and v != _GROUP_PROPERTIES[k]}
            if props.get("exclusive_cpu_cores") and props.get("cpu_weight") == "0":
                props.pop("cpu_weight")
            if "type" in props:
                props["type"] = props["type"].lower()
            groups[name] = ResourceGroup(name, props)
        classifier = parse_classifier(values.get("classifiers") or "(id=0, weight=0.0)")
        if classifier is not None:
            groups[name] = replace(groups[name], classifiers=(*groups[name].classifiers, classifier))
    return list(groups.values())
