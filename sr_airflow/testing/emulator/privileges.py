"""Users, roles and the privileges BACKUP / RESTORE / repositories check (spec §9), persisted in the metastore.

A grant is `[privilege, object type, object]`: `["REPOSITORY" | "CREATE EXTERNAL CATALOG", "SYSTEM", ""]`,
`["CREATE DATABASE" | "USAGE", "CATALOG", "default_catalog" | "c" | "*"]`, `["CREATE TABLE", "DATABASE", "db" | "*"]`,
`["EXPORT" | "INSERT" | ..., "TABLE", "db.t" | "db.*" | "*.*"]`, `["USAGE", "FUNCTION", "db.f" | "db.*" | "*.*"]`,
`["USAGE", "GLOBAL FUNCTION", "f" | "*"]`, `["SELECT" | "ALTER" | ..., "VIEW" | "MATERIALIZED VIEW", "db.v" | "db.*" |
"*.*"]`. `ALL` matches every privilege on its object. `root` has every privilege.

What each statement checks is read from StarRocks 3.5 (e223275f78) `AuthorizerStmtVisitor`, `ColumnPrivilege.check`
(queries) and `InformationSchemaDataSource` / `FrontendServiceImpl` (information_schema rows are filtered, never
refused: `Authorizer.checkAnyActionOnTableLikeObject`, `checkAnyActionOnOrInDb`); the call sites cite the method.
"""

from __future__ import annotations

from .context import SessionState
from .errors import ERR_ACCESS_DENIED, EmulatorError
from .tokens import Cursor

DEFAULT_CATALOG = "default_catalog"
_IN_DATABASE = ("TABLE", "VIEW", "MATERIALIZED VIEW", "FUNCTION")  # objects named "db.name"
_PRIVILEGE_WORDS = {"CREATE", "DATABASE", "TABLE", "VIEW", "FUNCTION", "MATERIALIZED", "EXTERNAL", "CATALOG",
                    "RESOURCE", "GROUP", "PIPE", "ROUTINE", "GLOBAL"}


def _java_list(names: list[str]) -> str:
    """`activatedRoles.isEmpty() ? "NONE" : activatedRoles`: a Java List prints as `[a, b]`."""
    return f"[{', '.join(names)}]" if names else "NONE"


def access_denied(privilege: str, object_type: str, name: str, session: SessionState, inactive: list[str]):
    """AccessDeniedException.reportAccessDenied (3.5 e223275f78): ErrorReportException.report(ERR_ACCESS_DENIED, ..)
    sets the code on the QueryState, so the reply is `ERROR 5203 (42000)` with ErrorCode.ERR_ACCESS_DENIED's text."""
    target = "SYSTEM" if object_type == "SYSTEM" else f"{object_type} {name}"
    return EmulatorError(
        f"Access denied; you need (at least one of) the {privilege} privilege(s) on {target} for this operation. "
        "Please ask the admin to grant permission(s) or try activating existing roles using <set [default] role>. "
        f"Current role(s): {_java_list(list(session.active_roles or []))}. "
        f"Inactivated role(s): {_java_list(list(inactive))}.", ERR_ACCESS_DENIED)


class Privileges:
    def __init__(self, cluster):
        self.cluster = cluster

    @property
    def users(self) -> dict:
        return self.cluster.metastore.users

    @property
    def roles(self) -> dict:
        return self.cluster.metastore.roles

    # -- login
    def password_of(self, user: str) -> str | None:
        entry = self.users.get(user)
        return None if entry is None else entry["password"]

    def login(self, session: SessionState, user: str) -> None:
        session.user = user
        entry = self.users.get(user)
        session.active_roles = list(entry.get("default_roles", [])) if entry else []

    # -- checks
    def _grants(self, session: SessionState) -> list[list[str]]:
        entry = self.users.get(session.user, {})
        granted = set(entry.get("roles", []))
        grants = list(entry.get("grants", []))
        seen: set[str] = set()
        pending = [r for r in session.active_roles or [] if r in granted]
        while pending:  # a role's parent roles (GRANT r1 TO ROLE r0) count for it
            role = pending.pop()
            if role in seen or role not in self.roles:
                continue
            seen.add(role)
            grants.extend(self.roles[role]["grants"])
            pending.extend(self.roles[role].get("roles", []))
        return grants

    def allowed(self, session: SessionState, privilege: str, object_type: str, name: str = "") -> bool:
        if session.user == "root":
            return True
        for priv, kind, obj in self._grants(session):
            if kind != object_type or priv not in (privilege, "ALL"):
                continue
            if object_type in _IN_DATABASE:
                db, _, table = name.partition(".")
                if obj in (name, f"{db}.*", "*.*"):
                    return True
            elif object_type in ("DATABASE", "CATALOG", "GLOBAL FUNCTION"):
                if obj in (name, "*"):
                    return True
            else:
                return True
        return False

    def any_on(self, session: SessionState, object_type: str, name: str) -> bool:
        """Any privilege on one object (`NativeAccessController.checkAnyActionOnObject`)."""
        if session.user == "root":
            return True
        db = name.partition(".")[0]
        names = (name, f"{db}.*", "*.*") if object_type in _IN_DATABASE else (name, "*")
        return any(kind == object_type and obj in names for _, kind, obj in self._grants(session))

    def can_see(self, session: SessionState, db_name: str, table_name: str | None = None,
                kind: str = "OLAP") -> bool:
        """Whether an information_schema row (or SHOW row) of a table-like object is shown:
        `Authorizer.checkAnyActionOnTableLikeObject` (any privilege on the TABLE, VIEW or MATERIALIZED VIEW by its
        type); of a database (`table_name` None): `Authorizer.checkAnyActionOnOrInDb` (any privilege on the database
        or on any table, view, materialized view or function in it)."""
        if session.user == "root" or db_name.lower() == "information_schema":
            return True
        if table_name is not None:
            return self.any_on(session, object_type_of(kind), f"{db_name}.{table_name}")
        if self.any_on(session, "DATABASE", db_name):
            return True
        return any(kind in _IN_DATABASE and (obj.partition(".")[0] in (db_name, "*"))
                   for _, kind, obj in self._grants(session))

    def require(self, session: SessionState, privilege: str, object_type: str, name: str = "", *,
                shown_privilege: str | None = None, shown_name: str | None = None) -> None:
        """Raise StarRocks' access-denied error unless allowed. Some checks name another privilege (and the object
        another way) in their message than the one they check: `shown_privilege`, `shown_name`."""
        if not self.allowed(session, privilege, object_type, name):
            entry = self.users.get(session.user, {})
            inactive = [r for r in entry.get("roles", []) if r not in (session.active_roles or [])]
            shown = name.split(".", 1)[1] if object_type in _IN_DATABASE[:3] and "." in name else name
            raise access_denied(shown_privilege or privilege, object_type,
                                shown if shown_name is None else shown_name, session, inactive)

    # -- statements (root only)
    def _admin(self, session: SessionState, what: str) -> None:
        if session.user != "root":
            raise access_denied("GRANT", "SYSTEM", "", session, [])

    def create_user(self, cur: Cursor, session: SessionState) -> None:
        self._admin(session, "CREATE USER")
        if_not_exists = cur.accept("IF", "NOT", "EXISTS")
        name = _user_name(cur)
        password = ""
        if cur.accept("IDENTIFIED"):
            if cur.accept("WITH"):
                cur.identifier()
            cur.expect("BY")
            cur.accept("PASSWORD")
            password = cur.string()
        defaults = _role_list(cur) if cur.accept("DEFAULT", "ROLE") else []
        cur.end()
        with self.cluster.lock:
            if name in self.users or name == "root":
                if if_not_exists:
                    return
                raise EmulatorError(f"Operation CREATE USER failed for '{name}'@'%' : user already exists")
            self.users[name] = {"password": password, "roles": list(defaults), "default_roles": list(defaults),
                                "grants": []}
            self.cluster.save()

    def drop_user(self, cur: Cursor, session: SessionState) -> None:
        self._admin(session, "DROP USER")
        if_exists = cur.accept("IF", "EXISTS")
        name = _user_name(cur)
        with self.cluster.lock:
            if name not in self.users:
                if if_exists:
                    return
                raise EmulatorError(f"Operation DROP USER failed for '{name}'@'%' : user does not exist")
            del self.users[name]
            self.cluster.save()

    def create_role(self, cur: Cursor, session: SessionState) -> None:
        self._admin(session, "CREATE ROLE")
        if_not_exists = cur.accept("IF", "NOT", "EXISTS")
        name = cur.name_or_string()
        comment = cur.string() if cur.accept("COMMENT") else ""  # createRoleStatement: ... comment?
        with self.cluster.lock:
            if name in self.roles:
                if if_not_exists:
                    return
                raise EmulatorError(f"Role {name} already exists")
            self.roles[name] = {"grants": [], **({"comment": comment} if comment else {})}
            self.cluster.save()

    def drop_role(self, cur: Cursor, session: SessionState) -> None:
        self._admin(session, "DROP ROLE")
        if_exists = cur.accept("IF", "EXISTS")
        name = cur.name_or_string()
        with self.cluster.lock:
            if name not in self.roles:
                if if_exists:
                    return
                raise EmulatorError(f"Role {name} does not exist")
            del self.roles[name]
            for entry in self.users.values():
                entry["roles"] = [r for r in entry["roles"] if r != name]
                entry["default_roles"] = [r for r in entry["default_roles"] if r != name]
            self.cluster.save()

    def grant(self, cur: Cursor, session: SessionState, revoke: bool = False) -> None:
        self._admin(session, "GRANT")
        if _is_role_grant(cur):
            roles = _role_list(cur)
            cur.expect("FROM" if revoke else "TO")
            if cur.accept("ROLE"):  # grantRoleToRole / revokeRoleFromRole: the role's parent roles
                self._grant_role_to_role(roles, cur.name_or_string(), revoke)
                cur.end()
                return
            cur.accept("USER")
            user = _user_name(cur)
            cur.end()
            with self.cluster.lock:
                entry = self._user(user)
                for role in roles:
                    if role not in self.roles:
                        raise EmulatorError(f"Role {role} does not exist")
                    if revoke:
                        entry["roles"] = [r for r in entry["roles"] if r != role]
                        entry["default_roles"] = [r for r in entry["default_roles"] if r != role]
                    elif role not in entry["roles"]:
                        entry["roles"].append(role)
                self.cluster.save()
            return
        privileges = _privilege_list(cur)
        cur.expect("ON")
        grants = [[p, kind, obj] for kind, obj in _objects(cur, session) for p in privileges]
        cur.expect("FROM" if revoke else "TO")
        with self.cluster.lock:
            if cur.accept("ROLE"):
                role = cur.name_or_string()
                if role not in self.roles:
                    raise EmulatorError(f"Role {role} does not exist")
                target = self.roles[role]
            else:
                cur.accept("USER")
                target = self._user(_user_name(cur))
            cur.end()
            if revoke:
                target["grants"] = [g for g in target["grants"] if g not in grants]
            else:
                target["grants"].extend(g for g in grants if g not in target["grants"])
            self.cluster.save()

    def _grant_role_to_role(self, roles: list[str], target: str, revoke: bool) -> None:
        with self.cluster.lock:
            for role in [*roles, target]:
                if role not in self.roles:
                    raise EmulatorError(f"Role {role} does not exist")
            parents = self.roles[target].setdefault("roles", [])
            for role in roles:
                if revoke and role in parents:
                    parents.remove(role)
                elif not revoke and role not in parents:
                    parents.append(role)
            self.cluster.save()

    def _user(self, name: str) -> dict:
        entry = self.users.get(name)
        if entry is None:
            raise EmulatorError(f"Getting analyzing error. Detail message: cannot find user '{name}'@'%'.")
        return entry

    def set_role(self, cur: Cursor, session: SessionState) -> None:
        """SET ROLE r[, r2] | ALL [EXCEPT r] | NONE | DEFAULT, and SET DEFAULT ROLE r | ALL | NONE TO user."""
        if cur.accept("DEFAULT", "ROLE"):
            roles_text = _role_choice(cur)
            cur.expect("TO")
            user = _user_name(cur)
            cur.end()
            if user != session.user:
                self._admin(session, "SET DEFAULT ROLE")
            with self.cluster.lock:
                entry = self._user(user)
                entry["default_roles"] = _resolve(roles_text, entry["roles"])
                self.cluster.save()
            return
        cur.expect("ROLE")
        choice = _role_choice(cur)
        cur.end()
        entry = self.users.get(session.user, {"roles": [], "default_roles": []})
        if choice == "DEFAULT":
            session.active_roles = list(entry["default_roles"])
            return
        roles = _resolve(choice, entry["roles"])
        for role in roles:
            if role not in entry["roles"]:
                raise EmulatorError(f"Role {role} is not granted to '{session.user}'@'%'")
        session.active_roles = roles


def object_type_of(kind: str) -> str:
    """The privilege object type of a catalog table kind (`OLAP`, `VIEW`, `MATERIALIZED_VIEW`)."""
    return {"VIEW": "VIEW", "MATERIALIZED_VIEW": "MATERIALIZED VIEW"}.get(kind, "TABLE")


def _user_name(cur: Cursor) -> str:
    name = cur.name_or_string()
    if cur.at("@") or (cur.peek() is not None and cur.peek().text.startswith("@")):
        cur.next()
        if cur.peek() is not None and cur.peek().kind in ("string", "word", "ident"):
            cur.next()
    return name


def _role_list(cur: Cursor) -> list[str]:
    roles = [cur.name_or_string()]
    while cur.accept(","):
        roles.append(cur.name_or_string())
    return roles


def _role_choice(cur: Cursor):
    if cur.accept("ALL"):
        return ("ALL", _role_list(cur) if cur.accept("EXCEPT") else [])
    if cur.accept("NONE"):
        return ("NONE", [])
    if cur.accept("DEFAULT"):
        return "DEFAULT"
    return ("LIST", _role_list(cur))


def _resolve(choice, granted: list[str]) -> list[str]:
    kind, roles = choice
    if kind == "ALL":
        return [r for r in granted if r not in roles]
    if kind == "NONE":
        return []
    return roles


def _is_role_grant(cur: Cursor) -> bool:
    """`GRANT r1, r2 TO [USER] u` (no ON before TO)."""
    for token in cur.tokens[cur.pos:]:
        if token.upper == "ON":
            return False
        if token.upper in ("TO", "FROM"):
            return True
    return False


def _privilege_list(cur: Cursor) -> list[str]:
    privileges: list[str] = []
    while True:
        words = [cur.next().text.upper()]
        while cur.peek() is not None and cur.peek().upper in _PRIVILEGE_WORDS and words[-1] in (
                "CREATE", "MATERIALIZED", "EXTERNAL", "RESOURCE", "GLOBAL"):
            words.append(cur.next().text.upper())
        if words == ["ALL"]:
            cur.accept("PRIVILEGES")
        privileges.append(" ".join(words))
        if not cur.accept(","):
            return privileges


def _objects(cur: Cursor, session: SessionState) -> list[tuple[str, str]]:
    if cur.accept("SYSTEM"):
        return [("SYSTEM", "")]
    if cur.accept("CATALOG"):
        return [("CATALOG", cur.identifier())]
    if cur.accept("ALL", "CATALOGS"):
        return [("CATALOG", "*")]
    if cur.accept("ALL", "GLOBAL", "FUNCTIONS"):
        return [("GLOBAL FUNCTION", "*")]
    if cur.accept("GLOBAL", "FUNCTION"):
        return [("GLOBAL FUNCTION", _function_name(cur))]
    if cur.accept("ALL", "FUNCTIONS", "IN"):
        if cur.accept("ALL", "DATABASES"):
            return [("FUNCTION", "*.*")]
        cur.expect("DATABASE")
        return [("FUNCTION", f"{cur.identifier()}.*")]
    if cur.accept("FUNCTION"):
        return _qualified_objects(cur, session, "FUNCTION")
    if cur.accept("ALL", "DATABASES"):
        return [("DATABASE", "*")]
    if cur.accept("DATABASE"):
        return [("DATABASE", cur.identifier())]
    if cur.accept("ALL", "TABLES", "IN"):
        if cur.accept("ALL", "DATABASES"):
            return [("TABLE", "*.*")]
        cur.expect("DATABASE")
        return [("TABLE", f"{cur.identifier()}.*")]
    if cur.accept("TABLE") or cur.accept("TABLES"):
        return _qualified_objects(cur, session, "TABLE")
    for words, kind in ((("VIEWS",), "VIEW"), (("MATERIALIZED", "VIEWS"), "MATERIALIZED VIEW")):
        if cur.accept("ALL", *words, "IN"):
            if cur.accept("ALL", "DATABASES"):
                return [(kind, "*.*")]
            cur.expect("DATABASE")
            return [(kind, f"{cur.identifier()}.*")]
    if cur.accept("MATERIALIZED", "VIEW"):
        return _qualified_objects(cur, session, "MATERIALIZED VIEW")
    if cur.accept("VIEW"):
        return _qualified_objects(cur, session, "VIEW")
    cur.fail("SYSTEM, CATALOG, ALL CATALOGS, DATABASE, ALL DATABASES, TABLE, ALL TABLES IN ..., FUNCTION, "
             "ALL FUNCTIONS IN ..., GLOBAL FUNCTION, ALL GLOBAL FUNCTIONS")
    return []


def _function_name(cur: Cursor) -> str:
    name = cur.identifier()
    if cur.at("("):
        cur.balanced()
    return name


def _qualified_objects(cur, session, kind: str) -> list[tuple[str, str]]:
    """``[db.]name[, ...]`` after TABLE(S) or FUNCTION, as (kind, "db.name"); a function's argument types are
    skipped (the emulator keys functions by name)."""
    objects = []
    while True:
        parts = cur.qualified()
        if kind == "FUNCTION" and cur.at("("):
            cur.balanced()
        db = parts[-2] if len(parts) > 1 else session.database
        if not db:
            raise EmulatorError("Getting analyzing error. Detail message: No database selected.", 1046)
        objects.append((kind, f"{db}.{parts[-1]}"))
        if not cur.accept(","):
            return objects
