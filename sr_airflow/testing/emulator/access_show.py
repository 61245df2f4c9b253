"""SHOW USER(S), SHOW ROLES and SHOW GRANTS [FOR [USER] u | ROLE r] over the users and roles `privileges.py` keeps.

Read at 3.5 e223275f78 (the same at 3.3 1a2f1f5d75, in package `privilege`, and 3.4 afccab88fd; `RBACExecutorTest`
asserts the same rows at each; 4.0 312b0d9e46 differs where noted):
- Titles: `ShowUserStmt` (User), `ShowRolesStmt` (Name, Builtin, Comment), `ShowGrantsStmt` (UserIdentity, Catalog,
  Grants).
- `ShowExecutor.visitShowUserStatement`: SHOW USERS lists `AuthorizationMgr.getAllUsers` (`UserIdentity.toString`:
  `'u'@'%'`), SHOW USER the current user. `visitShowRolesStatement`: every role with `isBuiltinRole` and
  `getRoleComment` (`FeConstants.NULL_STRING` "NULL" when empty); the builtin comments are
  `AuthorizationMgr.initBuiltinRolesAndUsers`'s.
- `visitShowGrantsStatement`: first the role memberships (`getGranteeRoleDetailsForUser` / `..ForRole`: catalog
  null and `AstToStringBuilder.visitGrantRevokeRoleStatement`'s text, `GRANT 'r1', 'r2' TO 'u'@'%'` for a user and
  `GRANT 'r1' TO  ROLE r0` — two spaces, the role unquoted — for a role; at 4.0 `TO ROLE r0`, one space:
  `visitGrantRevokeRoleStatement` appends "ROLE " after "TO "), then one row per privilege entry
  (`privilegeToRowString`): the catalog from `getCatalogNameFromPEntry` (null for ALL CATALOGS) and
  `visitGrantRevokePrivilegeStatement`'s text: privileges in `DefaultAuthorizationProvider.typeToActionList`'s order,
  `ON SYSTEM`, `ON <fuzzy object>` (`ALL TABLES IN DATABASE db`, `ALL DATABASES`, ...) or `ON <TYPE> <object>`,
  then `TO USER 'u'@'%'` or `TO ROLE 'r'`. Names are printed as they are, unquoted. An entry whose database or table
  no longer exists is left out (MetaNotFoundException is ignored). Privileges granted on one object are one entry
  (`PrivilegeCollectionV2.grant` merges action sets). StarRocks keeps the entries in a `HashMap<ObjectType, ..>`
  whose order is unspecified; the emulator lists them in ObjectType id order, each type's entries fuzzy ones first
  (`TablePEntryObject.compareTo`, `DbPEntryObject.compareTo`).
- Privileges (`AuthorizerStmtVisitor`): SHOW USERS, SHOW ROLES and SHOW GRANTS for another user or a role not granted
  to the caller need GRANT on SYSTEM.
"""

from __future__ import annotations

from . import versions
from .tokens import Cursor

BUILTIN_ROLES = {  # AuthorizationMgr.initBuiltinRolesAndUsers, ids -1..-5
    "root": "built-in root role which has all privileges on all objects",
    "db_admin": "built-in database administration role",
    "cluster_admin": "built-in cluster administration role",
    "user_admin": "built-in user administration role",
    "public": "built-in public role which is owned by any user",
}
ACTIONS = {  # DefaultAuthorizationProvider.typeToActionList
    "TABLE": ["DELETE", "DROP", "INSERT", "SELECT", "ALTER", "EXPORT", "UPDATE"],
    "DATABASE": ["CREATE TABLE", "DROP", "ALTER", "CREATE VIEW", "CREATE FUNCTION", "CREATE MATERIALIZED VIEW",
                 "CREATE PIPE"],
    "SYSTEM": ["GRANT", "NODE", "CREATE RESOURCE", "PLUGIN", "FILE", "BLACKLIST", "OPERATE",
               "CREATE EXTERNAL CATALOG", "REPOSITORY", "CREATE RESOURCE GROUP", "CREATE GLOBAL FUNCTION",
               "CREATE STORAGE VOLUME", "CREATE WAREHOUSE"],
    "VIEW": ["SELECT", "ALTER", "DROP"],
    "CATALOG": ["USAGE", "CREATE DATABASE", "DROP", "ALTER"],
    "MATERIALIZED VIEW": ["ALTER", "REFRESH", "DROP", "SELECT"],
    "FUNCTION": ["USAGE", "DROP"],
    "GLOBAL FUNCTION": ["USAGE", "DROP"],
}
TYPE_ORDER = ["TABLE", "DATABASE", "SYSTEM", "VIEW", "CATALOG", "MATERIALIZED VIEW", "FUNCTION",
              "GLOBAL FUNCTION"]  # ObjectType ids 1, 2, 3, 6, 7, 8, 9, 11
PLURALS = {"TABLE": "TABLES", "VIEW": "VIEWS", "MATERIALIZED VIEW": "MATERIALIZED VIEWS"}  # toStringImpl(plural)


def user_identity(name: str) -> str:
    return f"'{name}'@'%'"


class AccessShow:
    def __init__(self, frontend):
        self.fe = frontend
        self.privileges = frontend.privileges
        self.metastore = frontend.cluster.metastore

    def run(self, cur: Cursor, session):
        """After SHOW: the rows of SHOW USER(S) / ROLES / GRANTS, or None for another SHOW."""
        if cur.accept("USERS") or cur.accept("USER"):
            everyone = cur.tokens[cur.pos - 1].upper == "USERS"
            cur.end()
            if not everyone:
                return [[user_identity(session.user)]], ["User"]
            self.privileges.require(session, "GRANT", "SYSTEM")
            return [[user_identity(n)] for n in ["root", *self.privileges.users]], ["User"]
        if cur.accept("ROLES"):
            cur.end()
            self.privileges.require(session, "GRANT", "SYSTEM")
            builtin = dict(BUILTIN_ROLES)
            if versions.release_line(self.fe.cluster.options.version) >= (4, 0):  # 312b0d9e46 adds security_admin
                builtin["security_admin"] = "built-in security administration role"
            rows = [[name, "true", comment] for name, comment in builtin.items()]
            rows += [[name, "false", role.get("comment") or "NULL"] for name, role in self.privileges.roles.items()
                     if name not in builtin]
            return rows, ["Name", "Builtin", "Comment"]
        if cur.accept("GRANTS"):
            return self._grants(cur, session), ["UserIdentity", "Catalog", "Grants"]
        return None

    def _grants(self, cur: Cursor, session) -> list[list]:
        from .privileges import _user_name

        if not cur.accept("FOR"):
            cur.end()
            return self._user_rows(session.user)
        if cur.accept("ROLE"):
            role = cur.name_or_string()
            cur.end()
            entry = self.privileges.users.get(session.user, {})
            if role not in entry.get("roles", []):
                self.privileges.require(session, "GRANT", "SYSTEM")
            return self._role_rows(role)
        cur.accept("USER")
        user = _user_name(cur)
        cur.end()
        if user != session.user:
            self.privileges.require(session, "GRANT", "SYSTEM")
        return self._user_rows(user)

    def _user_rows(self, user: str) -> list[list]:
        from .errors import analyzing_error

        if user == "root":
            return [[user_identity("root"), None, "GRANT 'root' TO 'root'@'%'"]]
        entry = self.privileges.users.get(user)
        if entry is None:  # AuthorizationMgr.getUserPrivilegeCollectionUnlocked
            raise analyzing_error(f"cannot find user '{user}'@'%'")
        rows = []
        if entry.get("roles"):
            roles = ", ".join(f"'{r}'" for r in entry["roles"])
            rows.append([user_identity(user), None, f"GRANT {roles} TO {user_identity(user)}"])
        return rows + self._privilege_rows(entry.get("grants", []), user_identity(user), f"USER {user_identity(user)}")

    def _role_rows(self, role: str) -> list[list]:
        from .errors import analyzing_error

        entry = self.privileges.roles.get(role)
        if entry is None:
            raise analyzing_error(f"cannot find role {role}")
        rows = []
        if entry.get("roles"):
            parents = ", ".join(f"'{r}'" for r in entry["roles"])
            space = " " if versions.release_line(self.fe.cluster.options.version) >= (4, 0) else "  "
            rows.append([role, None, f"GRANT {parents} TO{space}ROLE {role}"])
        return rows + self._privilege_rows(entry.get("grants", []), role, f"ROLE '{role}'")

    def _privilege_rows(self, grants: list, shown: str, grantee: str) -> list[list]:
        merged: dict[tuple[str, str], set[str]] = {}
        for privilege, kind, obj in grants:
            if not self._exists(kind, obj):
                continue
            actions = ACTIONS.get(kind, [privilege])
            merged.setdefault((kind, obj), set()).update(actions if privilege == "ALL" else [privilege])
        rows = []
        for kind, obj in sorted(merged, key=lambda k: (TYPE_ORDER.index(k[0]) if k[0] in TYPE_ORDER else 99,
                                                       self._sort_key(*k))):
            names = merged[(kind, obj)]
            ordered = [a for a in ACTIONS.get(kind, []) if a in names] + sorted(names - set(ACTIONS.get(kind, [])))
            catalog = None if (kind == "CATALOG" and obj == "*") else (
                obj if kind == "CATALOG" else "default_catalog")
            rows.append([shown, catalog, f"GRANT {', '.join(ordered)} ON {self._object(kind, obj)} TO {grantee}"])
        return rows

    def _exists(self, kind: str, obj: str) -> bool:
        if kind in ("DATABASE", "FUNCTION", *PLURALS) and obj not in ("*", "*.*"):
            db_name, _, name = obj.partition(".")
            db = self.metastore.databases.get(db_name)
            if db is None:
                return False
            if kind in PLURALS and name != "*":
                return name in db.tables
            if kind == "FUNCTION" and name != "*":
                return name in db.functions
        return True

    def _sort_key(self, kind: str, obj: str) -> tuple:
        db_name, _, name = obj.partition(".")
        db = self.metastore.databases.get(db_name)
        db_key = (0, "") if db_name == "*" or db is None else (1, str(db.id))
        if kind in PLURALS:
            table = db.tables.get(name) if db is not None else None
            return (*db_key, (0, "") if name == "*" or table is None else (1, str(table.id)))
        return (*db_key, obj)

    def _object(self, kind: str, obj: str) -> str:
        db_name, _, name = obj.partition(".")
        if kind == "SYSTEM":
            return "SYSTEM"
        if kind == "CATALOG":
            return "ALL CATALOGS" if obj == "*" else f"CATALOG {obj}"
        if kind == "DATABASE":
            return "ALL DATABASES" if obj == "*" else f"DATABASE {obj}"
        if kind in PLURALS:  # TablePEntryObject.toStringImpl (ViewPEntryObject, MaterializedViewPEntryObject)
            if obj == "*.*":
                return f"ALL {PLURALS[kind]} IN ALL DATABASES"
            return f"ALL {PLURALS[kind]} IN DATABASE {db_name}" if name == "*" else f"{kind} {obj}"
        if kind == "FUNCTION":
            if obj == "*.*":
                return "ALL FUNCTIONS IN ALL DATABASES"
            if name == "*":
                return f"ALL FUNCTIONS IN DATABASE {db_name}"
            function = self.metastore.databases[db_name].functions[name]
            return f"FUNCTION {function.signature} in DATABASE {db_name}"  # FunctionPEntryObject.toString
        if kind == "GLOBAL FUNCTION":
            return "ALL GLOBAL FUNCTIONS" if obj == "*" else f"GLOBAL FUNCTION {obj}"
        return f"{kind} {obj}"
