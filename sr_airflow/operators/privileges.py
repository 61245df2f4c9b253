"""Pre-flight's privilege check: before a BACKUP or RESTORE is rendered, whether the connection's StarRocks user
holds what the statements will need, from its own ``SHOW GRANTS`` (``engine/grants.py`` evaluates them).

A missing privilege stops the task with one sentence naming the GRANT to add (``MissingPrivilegeError``). When the
grants cannot be read or judged (a server without SHOW GRANTS, a role whose grants are not shown, a grant of a form
the check does not read) the task goes on after an info line: StarRocks itself refuses a statement the user may not
send, with its own error. root, and users holding a built-in administrator role, are not checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sr_airflow.engine import grants
from sr_airflow.engine.grants import CHECKED, NOT_CHECKED, Grant

__all__ = ["CHECKED", "NOT_CHECKED", "backup_scope_needs", "check_migration_privileges", "check_privileges",
           "restore_needs"]


def check_privileges(hook: Any, needed: Sequence[Grant], log: Any, *, where: str = "") -> str:
    """``"checked"`` when the user holds ``needed``; ``"not checked"`` when its grants could not be judged; raises
    ``MissingPrivilegeError`` naming the GRANT statements when something is missing (``grants.judge``)."""
    user = hook.connection.login or "root"
    if user == "root":
        return CHECKED
    try:
        own = hook.own_grants()
        roles = {} if set(own.roles) & grants.BUILTIN_ADMIN_ROLES else {role: hook.role_grants(role)
                                                                        for role in own.roles}
    except Exception as exc:  # noqa: BLE001 - not knowing is reported, not fatal: StarRocks checks each statement
        log.info("Could not read the grants of StarRocks user %r%s (%s); the privileges of each statement are left "
                 "to StarRocks to check.", user, f" on {where}" if where else "", type(exc).__name__)
        return NOT_CHECKED
    status = grants.judge(user, needed, own, roles, where)
    if status == NOT_CHECKED:
        log.info("StarRocks user %r holds grants pre-flight does not read; the privileges of each statement are "
                 "left to StarRocks to check.", user)
    return status


def backup_scope_needs(scope: Any, *, census: bool = False) -> list[Grant]:
    """What BACKUP of ``scope`` (``engine.scope.Scope`` of a database) checks: EXPORT on each table, view and
    materialized view it names (on every one of the database's when it names none or "all of" a kind). Then what
    information_schema needs to show the views and MVs: all of the database's when the catalog entry records its
    ``census`` (the plan's, or the one read after a whole-database full backup: the objects a restore planned from
    the entry brings back), else each view and MV the scope names (all of a kind it backs up whole)."""
    named = [o.name for o in scope.objects if o.kind.value != "FUNCTION"]
    whole = not scope.objects or bool(scope.all_of)
    everything = census or (not scope.objects and not scope.all_of)

    def seen(kind: str) -> list[str]:
        if everything or kind in {k.value for k in scope.all_of}:
            return [grants.ALL]
        return [o.name for o in scope.objects if o.kind.value == kind]

    return grants.backup_needs(scope.database, [] if whole else named, views=seen("VIEW"),
                               materialized_views=seen("MATERIALIZED VIEW"))


def check_migration_privileges(source: Any, target: Any, database: str, log: Any, *, source_conn_id: str,
                               target_conn_id: str) -> dict[str, str]:
    """The migration's users before any job: on the source what BACKUP of ``database`` checks, on the target
    REPOSITORY on SYSTEM (the restore's other privileges depend on its target database, which RESTORE checks)."""
    return {"source": check_privileges(source, grants.backup_needs(database), log, where=source_conn_id),
            "target": check_privileges(target, [grants.Grant("REPOSITORY", "SYSTEM")], log, where=target_conn_id)}


def restore_needs(hook: Any, target_database: str, *, has_on: bool = True,
                  materialized_views: Sequence[str] = ()) -> list[Grant]:
    """What RESTORE into ``target_database`` checks before it runs: REPOSITORY on SYSTEM and, with an ON clause,
    CREATE TABLE on the target database (on all databases when it does not exist yet); without, CREATE DATABASE on
    the catalog. (INSERT on each table that already exists is left to StarRocks' own check.) Then ALTER on the
    ``materialized_views`` the restore brings back and re-activates (``grants.activation_needs``)."""
    if (hook.connection.login or "root") == "root":
        return []  # root is not checked: no need to ask whether the database exists
    exists = hook.database_exists(target_database) if has_on or materialized_views else True
    needed = grants.restore_needs(target_database, has_on=has_on, database_exists=exists)
    if materialized_views:
        visible = [v.name for v in hook.materialized_views(target_database)] if exists else []
        needed += grants.activation_needs(target_database, materialized_views, visible, database_exists=exists)
    return needed
