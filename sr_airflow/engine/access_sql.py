"""Users, roles, grants and resource groups as replayable SQL, and the export file that holds them.

Every name goes through the engine's quoting (``quote_identifier`` for roles, databases, tables and resource groups;
``quote_string`` for user names, hosts, comments, classifier values and properties), so a hostile name stays a
name. Every statement is idempotent where StarRocks allows it (``CREATE ROLE IF NOT EXISTS``, ``CREATE USER IF NOT
EXISTS``, ``CREATE RESOURCE GROUP IF NOT EXISTS``; a GRANT of what is held already changes nothing).

The file: SQL, one statement per line, each after a ``-- @sr_airflow {json}`` line that describes it (the apply
reads those, renders the statements again with its own quoting and applies the restore's scope). Passwords are never
in it: StarRocks cannot show them. A ``CREATE USER`` is written commented out (run by hand it would make a user
without a password); sr_airflow's apply creates each user with a random password nobody knows and lists the users
that need one set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from sr_airflow.engine.access import (
    AccessExport,
    Classifier,
    Grantee,
    GrantObject,
    PrivilegeGrant,
    ResourceGroup,
    Role,
    RoleGrant,
    Unreplayable,
)
from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.quoting import quote_identifier, quote_string

FILE_FORMAT = 1
TAG = "-- @sr_airflow "
_PRIVILEGE = re.compile(r"^[A-Z][A-Z_ ]*$")
_PLURALS = {"TABLE": "TABLES", "VIEW": "VIEWS", "MATERIALIZED VIEW": "MATERIALIZED VIEWS", "FUNCTION": "FUNCTIONS"}
_TYPES = {"SYSTEM", "CATALOG", "DATABASE", "RESOURCE GROUP", "STORAGE VOLUME", "WAREHOUSE", "RESOURCE", *_PLURALS}
_QUERY_TYPE = re.compile(r"^[A-Z_]+$")


def render_grantee(grantee: Grantee) -> str:
    if grantee.is_role:
        return "ROLE " + quote_identifier(grantee.name, argument="role")
    host = quote_string(grantee.host or "%", argument="host")
    return "USER " + quote_string(grantee.name, argument="user") + "@" + (f"[{host}]" if grantee.domain else host)


def _user(grantee: Grantee) -> str:
    return render_grantee(grantee)[len("USER "):]


def render_object(on: GrantObject) -> str:
    if on.object_type not in _TYPES:
        raise InvalidArgumentError(f"grant object type {on.object_type!r} is not one sr_airflow replays.")
    if on.object_type == "SYSTEM":
        return "SYSTEM"
    if on.object_type == "DATABASE":
        return "ALL DATABASES" if on.database == "*" else "DATABASE " + quote_identifier(on.database or "")
    if on.object_type in _PLURALS:
        plural = _PLURALS[on.object_type]
        if on.database == "*":
            return f"ALL {plural} IN ALL DATABASES"
        database = quote_identifier(on.database or "", argument="database")
        if on.name == "*":
            return f"ALL {plural} IN DATABASE {database}"
        return f"{on.object_type} {database}.{quote_identifier(on.name or '', argument='object')}"
    if on.name == "*":
        plurals = {"CATALOG": "CATALOGS", "RESOURCE GROUP": "RESOURCE GROUPS"}
        return "ALL " + plurals.get(on.object_type, on.object_type + "S")
    return f"{on.object_type} {quote_identifier(on.name or '', argument='object')}"


def render_privilege_grant(grant: PrivilegeGrant) -> str:
    for privilege in grant.privileges:
        if not _PRIVILEGE.match(privilege):
            raise InvalidArgumentError(f"privilege {privilege!r} is not a StarRocks privilege name.")
    option = " WITH GRANT OPTION" if grant.grant_option else ""
    return (f"GRANT {', '.join(grant.privileges)} ON {render_object(grant.on)} TO {render_grantee(grant.grantee)}"
            f"{option}")


def render_role_grant(grant: RoleGrant) -> str:
    roles = ", ".join(quote_identifier(r, argument="role") for r in grant.roles)
    return f"GRANT {roles} TO {render_grantee(grant.grantee)}"


def render_create_role(role: Role) -> str:
    comment = f" COMMENT {quote_string(role.comment)}" if role.comment else ""
    return f"CREATE ROLE IF NOT EXISTS {quote_identifier(role.name, argument='role')}{comment}"


def render_create_user(user: Grantee, password: str | None = None) -> str:
    """``password`` is the apply's random one (never written to the file or a log)."""
    identified = f" IDENTIFIED BY {quote_string(password)}" if password else ""
    return f"CREATE USER IF NOT EXISTS {_user(user)}{identified}"


def _render_classifier(classifier: Classifier) -> str:
    parts = []
    for key in ("user", "role", "source_ip", "plan_cpu_cost_range", "plan_mem_cost_range"):
        value = getattr(classifier, key)
        if value:
            parts.append(f"{key} = {quote_string(value)}")
    if classifier.query_types:
        for query_type in classifier.query_types:
            if not _QUERY_TYPE.match(query_type):
                raise InvalidArgumentError(f"query_type {query_type!r} is not a StarRocks query type.")
        parts.append("query_type in (" + ", ".join(quote_string(t.lower()) for t in classifier.query_types) + ")")
    if classifier.databases:
        parts.append(f"db = {quote_string(','.join(classifier.databases))}")
    return "(" + ", ".join(parts) + ")"


def render_create_resource_group(group: ResourceGroup) -> str:
    to = (" TO " + ", ".join(_render_classifier(c) for c in group.classifiers)) if group.classifiers else ""
    props = ", ".join(f"{quote_string(k)} = {quote_string(v)}" for k, v in group.properties.items())
    return f"CREATE RESOURCE GROUP IF NOT EXISTS {quote_identifier(group.name, argument='resource group')}{to} " \
           f"WITH ({props})"


# -- the file
def _tag(record: Any) -> dict[str, Any]:
    if isinstance(record, Role):
        return {"kind": "role", "name": record.name, "comment": record.comment}
    if isinstance(record, Grantee):
        return {"kind": "user", "grantee": record.to_dict()}
    if isinstance(record, RoleGrant):
        return {"kind": "role_grant", "grantee": record.grantee.to_dict(), "roles": list(record.roles)}
    if isinstance(record, PrivilegeGrant):
        return {"kind": "grant", "grantee": record.grantee.to_dict(), "privileges": list(record.privileges),
                "on": record.on.to_dict(), "grant_option": record.grant_option}
    if isinstance(record, ResourceGroup):
        return {"kind": "resource_group", "name": record.name, "properties": dict(record.properties),
                "classifiers": [{k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(c).items() if v}
                                for c in record.classifiers]}
    return {"kind": "unreplayable", "grantee": record.grantee.to_dict(), "text": record.text}


def render_record(record: Any) -> str:
    if isinstance(record, Role):
        return render_create_role(record)
    if isinstance(record, Grantee):
        return render_create_user(record)
    if isinstance(record, RoleGrant):
        return render_role_grant(record)
    if isinstance(record, PrivilegeGrant):
        return render_privilege_grant(record)
    if isinstance(record, ResourceGroup):
        return render_create_resource_group(record)
    raise TypeError(f"no SQL for {type(record).__name__}")


def records_in_order(export: AccessExport) -> list[Any]:
    """The order a replay needs: roles, users, role memberships, privileges, resource groups."""
    return [*export.roles, *export.users, *export.role_grants, *export.privilege_grants, *export.resource_groups]


def export_text(export: AccessExport, *, header: Iterable[str] = ()) -> str:
    lines = [f"-- sr_airflow access export, format {FILE_FORMAT}: users, roles, grants and resource groups "
             "(StarRocks backs none of them up).",
             "-- Replayed by sr_restore / sr_migration with apply_access = roles | all (docs/security.md).",
             "-- Passwords are never exported: StarRocks cannot show them. CREATE USER lines are commented out; "
             "sr_airflow's apply",
             "-- creates each user with a random password nobody knows. Users that need a password set:"]
    lines += [f"--   {json.dumps(u.shown)}" for u in export.users] or ["--   (none)"]
    lines += [f"-- {json.dumps(line)}" for line in header]
    if export.unreplayable:
        lines.append("-- Not replayed (as StarRocks printed them):")
        lines += [f"--   {json.dumps(u.grantee.shown)}: {json.dumps(u.text)}" for u in export.unreplayable]
    for record in records_in_order(export):
        lines.append(TAG + json.dumps(_tag(record), sort_keys=True))
        statement = render_record(record) + ";"
        lines.append(("-- " + statement) if isinstance(record, Grantee) else statement)
    for record in export.unreplayable:
        lines.append(TAG + json.dumps(_tag(record), sort_keys=True))
    return "\n".join(lines) + "\n"


def read_export_text(text: str) -> AccessExport:
    """The records of an export file, from its tag lines (the SQL lines are for people)."""
    users, roles, role_grants, grants, groups, unreplayable = [], [], [], [], [], []
    for line in text.splitlines():
        if not line.startswith(TAG):
            continue
        tag = json.loads(line[len(TAG):])
        record_type = tag["kind"]
        if record_type == "role":
            roles.append(Role(tag["name"], tag.get("comment")))
        elif record_type == "user":
            users.append(Grantee.from_dict(tag["grantee"]))
        elif record_type == "role_grant":
            role_grants.append(RoleGrant(Grantee.from_dict(tag["grantee"]), tuple(tag["roles"])))
        elif record_type == "grant":
            grants.append(PrivilegeGrant(Grantee.from_dict(tag["grantee"]), tuple(tag["privileges"]),
                                         GrantObject.from_dict(tag["on"]), bool(tag.get("grant_option"))))
        elif record_type == "resource_group":
            classifiers = tuple(Classifier(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in c.items()})
                                for c in tag["classifiers"])
            groups.append(ResourceGroup(tag["name"], dict(tag["properties"]), classifiers))
        elif record_type == "unreplayable":
            unreplayable.append(Unreplayable(Grantee.from_dict(tag["grantee"]), tag["text"]))
    return AccessExport(tuple(users), tuple(roles), tuple(role_grants), tuple(grants), tuple(groups),
                        tuple(unreplayable))
