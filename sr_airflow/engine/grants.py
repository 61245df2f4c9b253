"""The StarRocks privileges each shipped DAG needs, and whether a user holds them. Pure Python.

One place lists the grants (``DAG_GRANTS``): ``docs/security.md`` ("Grants per DAG") is rendered from it and the
least-privilege tests create their users from it, so the two cannot drift. What each statement checks is StarRocks'
``AuthorizerStmtVisitor`` (3.5 e223275f78) as ``spec/STARROCKS.md`` section 9 and the emulator's ``privileges.py``
record it; information_schema rows are filtered by privilege, never refused, so a user without a grant on a table
sees no rows of it rather than an error.

Pre-flight reads the user's own ``SHOW GRANTS`` (no privilege needed for one's own grants, nor for
``SHOW GRANTS FOR ROLE r`` of a role one holds: ``AuthorizerStmtVisitor.visitShowGrantsStatement``) and reports the
first missing privilege in one sentence naming the GRANT to add (``missing_sentence``). The statements StarRocks
prints are ``AstToStringBuilder.visitGrantRevokePrivilegeStatement``: ``GRANT <PRIV>[, <PRIV>] ON <object> TO USER
'u'@'%'`` where the object is ``SYSTEM``, ``CATALOG c``, ``DATABASE db``, ``TABLE db.t``, ``ALL TABLES IN DATABASE
db``, ``ALL TABLES IN ALL DATABASES`` (and so for VIEWS, MATERIALIZED VIEWS, FUNCTIONS; ``TablePEntryObject
.toStringImpl``), and role memberships ``GRANT 'r1', 'r2' TO USER 'u'@'%'``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence

from sr_airflow.engine.errors import SrAirflowError
from sr_airflow.engine.quoting import quote_identifier

__all__ = ["BUILTIN_ADMIN_ROLES", "CHECKED", "DAG_GRANTS", "NOT_CHECKED", "Grant", "HeldGrants",
           "MissingPrivilegeError", "activation_needs", "backup_needs", "covers", "grants_for", "judge", "missing",
           "missing_sentence", "parse_show_grants", "render_markdown", "restore_needs"]

ALL = "*"
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Objects that live in a database ("db.name"), as GRANT writes their plural.
_PLURAL = {"TABLE": "TABLES", "VIEW": "VIEWS", "MATERIALIZED VIEW": "MATERIALIZED VIEWS", "FUNCTION": "FUNCTIONS"}
_SINGULAR = {plural: kind for kind, plural in _PLURAL.items()}


@dataclasses.dataclass(frozen=True)
class Grant:
    """One privilege on one object: ``on`` is SYSTEM, CATALOG, DATABASE or an object in a database (TABLE, VIEW,
    MATERIALIZED VIEW, FUNCTION); ``database`` and ``name`` are ``*`` for "all" (``name`` is the catalog for
    CATALOG, the database for DATABASE)."""

    privilege: str
    on: str
    database: str = ""
    name: str = ""
    why: str = ""  # which statements need it (docs only; not part of equality)
    # needed: any privilege on the object will do (StarRocks' check is "any action"); ``privilege`` is the one the
    # GRANT that adds it asks for. Not part of equality.
    any_privilege: bool = False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Grant) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.privilege, self.on, self.database, self.name

    def object_sql(self) -> str:
        """The object as GRANT names it (identifiers quoted: a name is never pasted)."""
        if self.on == "SYSTEM":
            return "SYSTEM"
        if self.on == "CATALOG":
            return "ALL CATALOGS" if self.name == ALL else f"CATALOG {_name(self.name, 'catalog')}"
        if self.on == "DATABASE":
            return "ALL DATABASES" if self.name == ALL else \
                f"DATABASE {_name(self.name, 'database')}"
        plural = _PLURAL[self.on]
        if self.database == ALL:
            return f"ALL {plural} IN ALL DATABASES"
        db = _name(self.database, "database")
        if self.name == ALL:
            return f"ALL {plural} IN DATABASE {db}"
        return f"{self.on} {db}.{_name(self.name, 'object')}"

    def statement(self, user: str, host: str = "%") -> str:
        return f"GRANT {self.privilege} ON {self.object_sql()} TO USER {_user_sql(user, host)}"

    def short(self) -> str:
        """``EXPORT on shop.*``, ``REPOSITORY on SYSTEM``, ``CREATE DATABASE on default_catalog``, ``any privilege
        on view shop.*``."""
        if self.on == "SYSTEM":
            return f"{self.privilege} on SYSTEM"
        if self.on in ("CATALOG", "DATABASE"):
            return f"{self.privilege} on {'all databases' if self.name == ALL else f'{self.on.lower()} {self.name}'}"
        kind = "" if self.on == "TABLE" else f"{self.on.lower()} "
        privilege = "any privilege" if self.any_privilege else self.privilege
        return f"{privilege} on {kind}{self.database}.{self.name}"

    def with_database(self, database: str) -> Grant:
        """A template (``database`` "{database}") made concrete."""
        db = database if self.database == "{database}" else self.database
        name = database if self.name == "{database}" else self.name
        return dataclasses.replace(self, database=db, name=name)


def _name(name: str, argument: str) -> str:
    """A plain identifier as it is (as StarRocks prints it), any other back-quoted (``quote_identifier``)."""
    return name if _PLAIN.fullmatch(name) else quote_identifier(name, argument=argument)


def _user_sql(user: str, host: str) -> str:
    return "'" + user.replace("\\", "\\\\").replace("'", "\\'") + "'@'" + host.replace("'", "\\'") + "'"


_DB = "{database}"
_REPOSITORY = Grant("REPOSITORY", "SYSTEM", why="CREATE REPOSITORY, SHOW SNAPSHOT, BACKUP / RESTORE and SHOW "
                                                "BACKUP / RESTORE (spec §9)")
_EXPORT = Grant("EXPORT", "TABLE", _DB, ALL, why="BACKUP of each table, view and materialized view; it also shows "
                                                  "the tables' information_schema rows (partitions_meta, tables, "
                                                  "columns, tables_config) to the census, but not the views' nor "
                                                  "the MVs'")
# information_schema shows a view's or MV's rows only to a user holding some privilege on that VIEW / MATERIALIZED
# VIEW object, a table-level grant does not do (Authorizer.doCheckTableLikeObject: checkAnyActionOnView /
# checkAnyActionOnMaterializedView by the object's type, 3.5 e223275f78 and 4.0 312b0d9e). Without it the backup's
# census (the catalog entry) misses them while the snapshot holds them, and a restore planned from that entry leaves
# them out. SELECT is the least of the privileges a view or MV has (the others are ALTER, DROP and, for an MV, REFRESH:
# DefaultAuthorizationProvider.typeToActionList); "ALL ... IN DATABASE
# db" covers the ones created later too (TablePEntryObject.match: the database's id and "all tables").
_SEE_VIEWS = Grant("SELECT", "VIEW", _DB, ALL, any_privilege=True,
                   why="the census of views (information_schema.tables / views shows a view only to a user "
                       "holding a privilege on it), so the catalog records the views the snapshot holds; any "
                       "privilege on them does")
_SEE_MVS = Grant("SELECT", "MATERIALIZED VIEW", _DB, ALL, any_privilege=True,
                 why="the census of materialized views (information_schema shows an MV only to a user holding a "
                     "privilege on it), so the catalog records the MVs the snapshot holds and a restore planned from "
                     "it brings them back; any privilege on them does")
_BACKING_UP = (_REPOSITORY, _EXPORT, _SEE_VIEWS, _SEE_MVS)
_CREATE_DATABASE = Grant("CREATE DATABASE", "CATALOG", name="default_catalog",
                         why="RESTORE without ON into a database it creates, and CREATE DATABASE IF NOT EXISTS")
_CREATE_TABLE_ALL = Grant("CREATE TABLE", "DATABASE", name=ALL,
                          why="RESTORE ... ON (...) into a database (RestoreStmt with ON: CREATE TABLE on it)")
_INSERT_ALL = Grant("INSERT", "TABLE", ALL, ALL, why="RESTORE into a table that exists (each incremental link of a "
                                                     "chain after the full one); it also shows the restored tables' "
                                                     "information_schema rows to verify")
_ALTER_ALL_MV = Grant("ALTER", "MATERIALIZED VIEW", ALL, ALL, why="ALTER MATERIALIZED VIEW ... ACTIVE after the "
                                                                 "restore; without a privilege on them the restored "
                                                                 "MVs are not even shown to the task, which can then "
                                                                 "neither activate them nor report them inactive, so "
                                                                 "pre-flight asks it for the MVs the restore brings "
                                                                 "back")
_DROP_ALL_DB = Grant("DROP", "DATABASE", name=ALL, why="DROP DATABASE of the drill's scratch database")

_RESTORING = (_REPOSITORY, _CREATE_DATABASE, _CREATE_TABLE_ALL, _INSERT_ALL, _ALTER_ALL_MV)

# What each shipped DAG needs, per cluster it connects to ("cluster", or "source" / "target" for sr_migration).
# "{database}" stands for each configured database. The list is the tested minimum (tests/dags/
# test_least_privilege.py runs every DAG as a user holding exactly these, then without each key grant).
DAG_GRANTS: Mapping[str, Mapping[str, tuple[Grant, ...]]] = {
    "sr_full_backup": {"cluster": _BACKING_UP},
    "sr_incremental_backup": {"cluster": _BACKING_UP},
    "sr_restore": {"cluster": _RESTORING},
    "sr_migration": {"source": _BACKING_UP, "target": _RESTORING},
    # up to 4.1 retention sends only current_version() and SHOW REPOSITORIES (no privilege); DROP SNAPSHOT (4.2+)
    # is in no StarRocks source at hand, and a refused one falls back to deleting through storage
    "sr_retention": {"cluster": ()},
    "sr_restore_drill": {"cluster": (*_RESTORING, _DROP_ALL_DB)},
}


def grants_for(dag: str, database: str, cluster: str = "cluster") -> list[Grant]:
    """The grants ``dag`` needs on ``cluster`` for ``database``, concrete."""
    return [g.with_database(database) for g in DAG_GRANTS[dag][cluster]]


class MissingPrivilegeError(SrAirflowError, PermissionError):
    """The StarRocks user lacks a privilege a statement of the task will need; the message names the GRANT."""


def backup_needs(database: str, tables: Sequence[str] = (), *, views: Sequence[str] | None = None,
                 materialized_views: Sequence[str] | None = None) -> list[Grant]:
    """What BACKUP of ``database`` (all of it, or ``tables``) checks: REPOSITORY on SYSTEM and EXPORT on each table
    (``AuthorizerStmtVisitor.visitBackupStatement``, 3.5 e223275f78: ``checkTableAction`` on each table ref, views
    and MVs included, so EXPORT on the tables covers them). Then what the census needs to see the ``views`` and
    ``materialized_views`` the backup holds (``*`` for all; by default all of them when ``tables`` names none, else
    none): any privilege on each (``_SEE_VIEWS``, ``_SEE_MVS``)."""
    every = [] if tables else [ALL]
    seen = [dataclasses.replace(kind, database=database, name=name)
            for kind, names in ((_SEE_VIEWS, every if views is None else views),
                                (_SEE_MVS, every if materialized_views is None else materialized_views))
            for name in names]
    return [_REPOSITORY, *(Grant("EXPORT", "TABLE", database, t) for t in (tables or [ALL])), *seen]


def restore_needs(database: str, existing: Sequence[str] = (), *, has_on: bool = True,
                  database_exists: bool = True) -> list[Grant]:
    """What RESTORE into ``database`` checks (``AuthorizerStmtVisitor.visitRestoreStatement``, 3.5 e223275f78):
    REPOSITORY on SYSTEM; with ON (...), CREATE TABLE on the database and INSERT on each target table that exists;
    without, CREATE DATABASE on the catalog. A database the RESTORE will create can only be covered by a grant on
    all databases (GRANT on one database needs it to exist: ``DbPEntryObject.generate``)."""
    if not has_on:
        return [_REPOSITORY, _CREATE_DATABASE]
    return [_REPOSITORY, Grant("CREATE TABLE", "DATABASE", name=database if database_exists else ALL),
            *(Grant("INSERT", "TABLE", database, t) for t in existing)]


def activation_needs(database: str, materialized_views: Iterable[str], visible: Iterable[str] = (), *,
                     database_exists: bool = True) -> list[Grant]:
    """ALTER on each materialized view a restore brings back into ``database``, which the restore re-activates with
    ``ALTER MATERIALIZED VIEW db.mv ACTIVE`` (``AuthorizerStmtVisitor.visitAlterMaterializedViewStatement``:
    ``checkMaterializedViewAction(.., ALTER)``, 3.5 e223275f78). Without a privilege on an MV the task does not even
    see it (``information_schema.materialized_views`` leaves it out), so it would stay inactive unreported.

    A GRANT on one MV needs the MV to exist (``TablePEntryObject.generate`` looks its id up), so an MV the user
    cannot see yet (``visible``: the ones it sees in the target) is asked for as ``ALL MATERIALIZED VIEWS IN
    DATABASE db``, or ``IN ALL DATABASES`` when the database does not exist yet either."""
    seen = set(visible)
    needed: list[Grant] = []
    for name in materialized_views:
        if name in seen:
            grant = Grant("ALTER", "MATERIALIZED VIEW", database, name)
        elif database_exists:
            grant = Grant("ALTER", "MATERIALIZED VIEW", database, ALL)
        else:
            grant = Grant("ALTER", "MATERIALIZED VIEW", ALL, ALL)
        if grant not in needed:
            needed.append(grant)
    return needed


# Built-in roles whose grants pre-flight does not evaluate (they hold every privilege it checks, or more than
# SHOW GRANTS FOR ROLE spells out: AuthorizationMgr.initBuiltinRolesAndUsers).
BUILTIN_ADMIN_ROLES = frozenset({"root", "db_admin", "cluster_admin"})


# -- what a user holds (SHOW GRANTS)
@dataclasses.dataclass
class HeldGrants:
    grants: list[Grant]
    roles: list[str]
    unread: list[str]  # statements of a form not understood (their grants are unknown)


_GRANT_ROLE = re.compile(r"^GRANT\s+((?:'[^']*'\s*,\s*)*'[^']*')\s+TO\s", re.IGNORECASE)
_GRANT_PRIV = re.compile(r"^GRANT\s+(.+?)\s+ON\s+(.+?)\s+TO\s+(?:USER|ROLE)\s", re.IGNORECASE | re.DOTALL)
_IN = re.compile(r"^ALL\s+(TABLES|VIEWS|MATERIALIZED\s+VIEWS|FUNCTIONS)\s+IN\s+(ALL\s+DATABASES|DATABASE\s+(.+))$",
                 re.IGNORECASE)


def _unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "`'\"":
        return name[1:-1].replace(name[0] * 2, name[0])
    return name


def _split_qualified(text: str) -> tuple[str, str]:
    parts = re.findall(r"`(?:[^`]|``)*`|[^.]+", text.strip())
    if len(parts) < 2:
        return "", _unquote(text)
    return _unquote(parts[-2]), _unquote(parts[-1])


def _objects(text: str) -> list[tuple[str, str, str]]:
    """(on, database, name) of a GRANT's ON part, or [] for an object kind pre-flight does not evaluate."""
    text = " ".join(text.split())
    upper = text.upper()
    if upper == "SYSTEM":
        return [("SYSTEM", "", "")]
    if upper == "ALL CATALOGS":
        return [("CATALOG", "", ALL)]
    if upper == "ALL DATABASES":
        return [("DATABASE", "", ALL)]
    match = _IN.match(text)
    if match:
        kind = _SINGULAR[" ".join(match.group(1).upper().split())]
        return [(kind, ALL if match.group(3) is None else _unquote(match.group(3)), ALL)]
    for kind in ("MATERIALIZED VIEW", "CATALOG", "DATABASE", "TABLE", "VIEW", "FUNCTION"):
        if upper.startswith(kind + " "):
            rest = text[len(kind) + 1:]
            names = [n for n in re.split(r",\s*(?=(?:[^`]*`[^`]*`)*[^`]*$)", rest) if n.strip()]
            if kind in ("CATALOG", "DATABASE"):
                return [(kind, "", _unquote(n)) for n in names]
            return [(kind, *_split_qualified(re.sub(r"\(.*\)$", "", n))) for n in names]
    return []


def parse_show_grants(rows: Iterable[Sequence[object]]) -> HeldGrants:
    """``SHOW GRANTS`` / ``SHOW GRANTS FOR ROLE r`` rows (UserIdentity | RoleName, Catalog, Grants): the privilege
    grants of the internal catalog and the roles granted."""
    held = HeldGrants([], [], [])
    for row in rows:
        text = str(row[-1] or "").strip()
        catalog = row[-2] if len(row) >= 3 else None
        if catalog not in (None, "", "default_catalog"):
            continue  # an external catalog's grants: not what pre-flight needs
        for statement in (s for s in text.split(";") if s.strip()):
            statement = statement.strip()
            role = _GRANT_ROLE.match(statement)
            if role:
                held.roles.extend(_unquote(r) for r in role.group(1).split(","))
                continue
            match = _GRANT_PRIV.match(statement)
            objects = _objects(match.group(2)) if match else []
            if not objects:
                held.unread.append(statement)  # a form pre-flight cannot evaluate: it will not judge
                continue
            privileges = [" ".join(p.split()).upper() for p in match.group(1).split(",")]
            for on, database, name in objects:
                held.grants.extend(Grant(p, on, database, name) for p in privileges)
    return held


# -- evaluation
def covers(held: Grant, needed: Grant) -> bool:
    """Whether ``held`` grants what ``needed`` asks: the same privilege (or ALL), on the same object or on "all"
    of its kind; a table-level grant covers views and materialized views too for the checks that name a table
    (BACKUP's EXPORT, RESTORE's INSERT: ``Authorizer.checkTableAction`` matches the object by database and id).
    A need marked ``any_privilege`` takes any privilege on its object (``checkAnyActionOn...``)."""
    if not needed.any_privilege and held.privilege not in (needed.privilege, "ALL", "ALL PRIVILEGES"):
        return False
    if held.on != needed.on:
        return False
    if needed.on == "SYSTEM":
        return True
    if needed.on in ("CATALOG", "DATABASE"):
        return held.name in (ALL, needed.name)
    if held.database not in (ALL, needed.database):
        return False
    return held.name in (ALL, needed.name) and (held.database == ALL or needed.database != ALL)


def missing(held: Iterable[Grant], needed: Iterable[Grant]) -> list[Grant]:
    held = list(held)
    return [n for n in needed if not any(covers(h, n) for h in held)]


CHECKED, NOT_CHECKED = "checked", "not checked"


def judge(user: str, needed: Sequence[Grant], own: HeldGrants, roles: Mapping[str, HeldGrants],
          where: str = "") -> str:
    """``CHECKED`` when ``user`` holds ``needed`` (its own grants ``own`` and those of its roles ``roles``);
    ``NOT_CHECKED`` when something missing might be held through a grant the check cannot read; raises
    ``MissingPrivilegeError`` naming the GRANT statements otherwise. Holders of a built-in administrator role are
    not judged."""
    if user == "root" or set(own.roles) & BUILTIN_ADMIN_ROLES:
        return CHECKED
    held = own.grants + [g for r in roles.values() for g in r.grants]
    unread = own.unread + [s for r in roles.values() for s in r.unread]
    lacking = missing(held, needed)
    if not lacking:
        return CHECKED
    if unread:
        return NOT_CHECKED
    raise MissingPrivilegeError(missing_sentence(user, lacking, where) + ".")


def missing_sentence(user: str, lacking: Sequence[Grant], where: str = "") -> str:
    """One sentence: what the user lacks and the GRANT statements that add it (never a password: none is known)."""
    at = f" on {where}" if where else ""
    needs = ", ".join(g.short() for g in lacking)
    fixes = "; ".join(g.statement(user) for g in lacking)
    return f"StarRocks user '{user}'{at} lacks {needs} — {fixes}"


def render_markdown() -> str:
    """The "Grants per DAG" table of docs/security.md, from ``DAG_GRANTS`` (``db`` for each configured database)."""
    lines = ["| DAG | cluster | GRANT (to each user; `db` = each database the DAG works on) | needed for |",
             "|---|---|---|---|"]
    for dag, clusters in DAG_GRANTS.items():
        for cluster, grants in clusters.items():
            if not grants:
                lines.append(f"| `{dag}` | {cluster} | none | it sends no statement that needs a privilege |")
            for grant in grants:
                concrete = grant.with_database("db")
                statement = concrete.statement("<user>").replace("'<user>'@'%'", "'<user>'@'%'")
                lines.append(f"| `{dag}` | {cluster} | `{statement}` | {grant.why} |")
    return "\n".join(lines) + "\n"
