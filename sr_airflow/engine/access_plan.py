"""Which exported users, roles, grants and resource groups a replay applies, and which the target holds already.

``apply_access``: ``none`` applies nothing; ``roles`` the roles, what is granted to roles (privileges and parent
roles) and the resource groups; ``all`` also the users, their privileges and their role memberships.

Scope: a restore of one database (``databases`` = {backed-up name: restored name}) keeps what is outside every
database (SYSTEM, catalogs, resource groups, ...) and what is on that database (renamed to the restored name), and
leaves out what is on another database or on every database (``ALL DATABASES``, ``ALL TABLES IN ALL DATABASES``):
applied on the target those would reach data this restore did not bring. A resource group whose classifier names
another database is left out for the same reason. ``databases`` None: the whole export (no renames).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sr_airflow.engine.access import (
    AccessExport,
    Grantee,
    GrantObject,
    PrivilegeGrant,
    ResourceGroup,
    Role,
    RoleGrant,
    parse_show_grants,
)
from sr_airflow.engine.access_sql import records_in_order, render_record
from sr_airflow.engine.errors import InvalidArgumentError

APPLY_MODES = ("none", "roles", "all")


def check_mode(mode: str | None) -> str:
    mode = (mode or "none").strip().lower()
    if mode not in APPLY_MODES:
        raise InvalidArgumentError(f"apply_access must be one of {', '.join(APPLY_MODES)}, got {mode!r}.")
    return mode


@dataclass(frozen=True)
class Skipped:
    statement: str
    reason: str


def _in_mode(record: Any, mode: str) -> bool:
    if mode == "all":
        return True
    if isinstance(record, Grantee):
        return False
    if isinstance(record, (RoleGrant, PrivilegeGrant)):
        return record.grantee.is_role
    return True


def _scoped_object(on: GrantObject, databases: Mapping[str, str]) -> tuple[GrantObject | None, str]:
    if on.database is None:
        return on, ""
    if on.database == "*":
        return None, "on every database; this replay's scope is " + ", ".join(sorted(databases))
    if on.database not in databases:
        return None, f"on database {on.database}, outside this replay's scope"
    return replace(on, database=databases[on.database]), ""


def _scoped_group(group: ResourceGroup, databases: Mapping[str, str]) -> tuple[ResourceGroup | None, str]:
    classifiers = []
    for classifier in group.classifiers:
        outside = [d for d in classifier.databases if d not in databases]
        if outside:
            return None, f"a classifier names database {outside[0]}, outside this replay's scope"
        classifiers.append(replace(classifier, databases=tuple(databases[d] for d in classifier.databases)))
    return replace(group, classifiers=tuple(classifiers)), ""


def select_records(export: AccessExport, mode: str, databases: Mapping[str, str] | None = None
                   ) -> tuple[list[Any], list[Skipped]]:
    """The records to apply, in replay order, and those the scope leaves out (with the reason)."""
    mode = check_mode(mode)
    if mode == "none":
        return [], []
    chosen, skipped = [], []
    for record in records_in_order(export):
        if not _in_mode(record, mode):
            continue
        if databases is not None and isinstance(record, PrivilegeGrant):
            on, reason = _scoped_object(record.on, databases)
            if on is None:
                skipped.append(Skipped(render_record(record), reason))
                continue
            record = replace(record, on=on)
        if databases is not None and isinstance(record, ResourceGroup):
            group, reason = _scoped_group(record, databases)
            if group is None:
                skipped.append(Skipped(render_record(record), reason))
                continue
            record = group
        chosen.append(record)
    return chosen, skipped


@dataclass
class TargetAccess:
    """What the target holds: user identities, roles, resource group names, and per grantee the privileges
    (``(privilege, object)`` pairs) and roles granted."""

    users: set[tuple[str, str | None]]
    roles: set[str]
    resource_groups: set[str]
    privileges: dict[Grantee, set[tuple[str, GrantObject, bool]]]
    memberships: dict[Grantee, set[str]]

    def add_grants(self, grantee: Grantee, rows: Iterable[Any]) -> None:
        """Record the target's ``SHOW GRANTS FOR`` rows of ``grantee``."""
        held = self.privileges.setdefault(grantee, set())
        roles = self.memberships.setdefault(grantee, set())
        for record in parse_show_grants(grantee, rows, self.roles):
            if isinstance(record, PrivilegeGrant):
                held.update((p, record.on, record.grant_option) for p in record.privileges)
            elif isinstance(record, RoleGrant):
                roles.update(record.roles)

    def holds(self, record: Any) -> bool:
        if isinstance(record, Role):
            return record.name in self.roles
        if isinstance(record, Grantee):
            return (record.name, record.host) in self.users
        if isinstance(record, ResourceGroup):
            return record.name in self.resource_groups
        if isinstance(record, RoleGrant):
            return set(record.roles) <= self.memberships.get(record.grantee, set())
        if isinstance(record, PrivilegeGrant):
            held = self.privileges.get(record.grantee, set())
            return all((p, record.on, record.grant_option) in held for p in record.privileges)
        raise TypeError(type(record).__name__)


def grantees_of(records: Iterable[Any]) -> list[Grantee]:
    """The users and roles whose grants the existence check must read on the target, once each."""
    seen: dict[Grantee, None] = {}
    for record in records:
        if isinstance(record, (RoleGrant, PrivilegeGrant)):
            seen.setdefault(record.grantee)
    return list(seen)
