"""Statement dispatch: what a StarRocks frontend answers for each statement the emulator knows."""

from __future__ import annotations

import re

from sqlglot import exp

from . import infoschema, statements, versions
from .access_show import AccessShow
from .backup_restore import BackupRestore
from .cluster import Cluster
from .context import Result, SessionState
from .datastore import physical
from .dml import TableWriter, insert_statement, refresh_stats, split_insert_partitions
from .errors import EmulatorError
from .metastore import Database, Table
from .privileges import DEFAULT_CATALOG, Privileges, object_type_of
from .query import Rewriter, info_schema_tables, parse, to_duckdb
from .resource_groups import ResourceGroups
from .schema_statements import SchemaStatements
from .show import show_jobs_quickly
from .tokens import Cursor

_WITH_LABEL = re.compile(r"\s+WITH\s+LABEL\s+`?\w+`?\s*", re.IGNORECASE)
_BARE_PARTITION = re.compile(r"\b(PARTITIONS?)\s+(?!BY\b)(`?\w+`?)(?!\s*\()", re.IGNORECASE)




def _analyzing(message: str) -> EmulatorError:
    return EmulatorError(f"Getting analyzing error. Detail message: {message}.")


class Frontend(SchemaStatements):
    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.metastore = cluster.metastore
        self.store = cluster.store
        self.br = BackupRestore(cluster)
        self.privileges = Privileges(cluster)

    # -- entry point
    def execute(self, sql: str, session: SessionState) -> Result:
        cur = Cursor(sql)
        if cur.done():
            raise EmulatorError("Getting syntax error at line 1, column 0. Detail message: Unexpected input "
                                "'<EOF>'.")
        word = cur.peek().upper
        handler = getattr(self, f"_do_{word.lower()}", None)
        if handler is None:
            if word in ("SELECT", "WITH") or cur.at("("):
                return self.select(sql, session)
            cur.fail("a statement")
        return handler(cur, sql, session)

    def answer_now(self, sql: str, session: SessionState) -> Result | tuple[()]:
        """The statements cheap enough to answer on the event loop (the polls: SHOW BACKUP / RESTORE), or `()` for
        every other statement (run on a worker thread through `execute`)."""
        result = show_jobs_quickly(self, sql, session)
        return () if result is None else result

    @property
    def line(self) -> tuple[int, int]:
        """The release line this frontend answers as (`--version`)."""
        return versions.release_line(self.cluster.options.version)

    def _db(self, name: str | None, session: SessionState) -> Database:
        name = name or session.database
        if not name:
            raise EmulatorError("Getting analyzing error. Detail message: No database selected.", 1046)
        return self.metastore.database(name)

    def _split(self, parts: list[str], session: SessionState) -> tuple[Database, str]:
        if len(parts) > 1:
            return self.metastore.database(parts[-2]), parts[-1]
        return self._db(None, session), parts[-1]

    def _table(self, parts: list[str], session: SessionState, kinds=("OLAP",)) -> tuple[Database, Table]:
        db, name = self._split(parts, session)
        table = db.table(name)
        if table is None or table.kind not in kinds:
            raise _analyzing(f"Unknown table '{db.name}.{name}'")
        return db, table

    # -- SELECT
    def select(self, sql: str, session: SessionState) -> Result:
        sql = _BARE_PARTITION.sub(r"PARTITION (\2)", sql)
        tree = parse(sql)
        if info_schema_tables(tree):
            if "be_configs" in info_schema_tables(tree):  # SystemTable.requireOperatePrivilege (beconfig.py)
                self.privileges.require(session, "OPERATE", "SYSTEM")
            return infoschema.query(self.cluster, tree, self.visible_to(session))
        with self.cluster.lock:
            rewriter = Rewriter(self.metastore, session.database)
            self._require_select(rewriter, tree, session)
            duck = to_duckdb(rewriter.rewrite(tree))
        try:
            return self.store.query(duck)
        except Exception as err:  # noqa: BLE001 - DuckDB errors become statement errors
            raise EmulatorError(f"Getting analyzing error. Detail message: {str(err).splitlines()[0]}.") from err

    def visible_to(self, session: SessionState):
        """The information_schema row filter of this session (None for root: every row)."""
        if session.user == "root":
            return None

        def visible(db_name: str, table_name: str | None, _kind) -> bool:
            db = self.metastore.databases.get(db_name)
            table = db.table(table_name) if db is not None and table_name is not None else None
            return self.privileges.can_see(session, db_name, table_name, table.kind if table else "OLAP")
        return visible

    def _require_select(self, rewriter: Rewriter, tree, session: SessionState) -> None:
        """`ColumnPrivilege.check` (3.5 e223275f78, from `AuthorizerStmtVisitor.visitQueryStatement`): SELECT on each
        table, view (VIEW) or materialized view (MATERIALIZED VIEW) the query names; a view's own tables are not
        checked for its reader."""
        if session.user == "root":
            return
        for db_name, name in rewriter.referenced_tables(tree.sql()):
            db = self.metastore.databases.get(db_name)
            table = db.table(name) if db is not None else None
            if table is not None:
                self.privileges.require(session, "SELECT", object_type_of(table.kind), f"{db.name}.{table.name}")

    # -- DML
    def _do_insert(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        sql, partitions, temporary = split_insert_partitions(_WITH_LABEL.sub(" ", sql, count=1))
        tree = parse(sql)
        if not isinstance(tree, exp.Insert):
            cur.fail("INSERT INTO")
        with self.cluster.lock:
            rewriter = Rewriter(self.metastore, session.database)
            db_name, name, columns, select_sql, overwrite = insert_statement(rewriter, tree)
            db, table = self._table([db_name, name] if db_name else [name], session)
            TableWriter(self.metastore, self.store, db.name, table).insert(select_sql, columns, overwrite,
                                                                         partitions, temporary)
            self.metastore.save_table(db, table)
        return None

    def _do_delete(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        tree = parse(_BARE_PARTITION.sub(r"PARTITION (\2)", sql))
        with self.cluster.lock:
            target = tree.this
            db, table = self._table([target.db, target.name] if target.db else [target.name], session)
            spec = target.args.get("partition")
            partitions = [e.name for e in spec.expressions] if spec is not None else None
            if spec is not None:
                target.set("partition", None)
            TableWriter(self.metastore, self.store, db.name, table).delete(Rewriter(self.metastore, db.name),
                                                                         tree.args.get("where"), partitions)
            self.cluster.save()
        return None

    def _do_update(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        tree = parse(sql)
        with self.cluster.lock:
            target = tree.this
            db, table = self._table([target.db, target.name] if target.db else [target.name], session)
            TableWriter(self.metastore, self.store, db.name, table).update(Rewriter(self.metastore, db.name), tree)
            self.cluster.save()
        return None

    def _do_truncate(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        cur.expect("TRUNCATE")
        cur.expect("TABLE")
        with self.cluster.lock:
            db, table = self._table(cur.qualified(), session)
            partitions = None
            if cur.accept("PARTITION") or cur.accept("PARTITIONS"):
                cur.expect("(")
                partitions = [cur.identifier()]
                while cur.accept(","):
                    partitions.append(cur.identifier())
                cur.expect(")")
            TableWriter(self.metastore, self.store, db.name, table).truncate(partitions)
            refresh_stats(self.store, table)
            self.cluster.save()
        return None

    def _do_refresh(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        cur.expect("REFRESH", "MATERIALIZED", "VIEW")
        with self.cluster.lock:
            db, mv = self._table(cur.qualified(), session, ("MATERIALIZED_VIEW",))
            if not mv.is_active:
                raise EmulatorError(f"Refresh materialized view failed because [{mv.name}] is not active. You "
                                    f"can try to active it with ALTER MATERIALIZED VIEW {mv.name} ACTIVE; ")
            if mv.refresh != "ROLLUP":
                duck = Rewriter(self.metastore, db.name).select_sql(mv.query_sql)
                cols = ", ".join(f'"{c.name}"' for c in mv.columns)
                with self.store.lock:
                    self.store.execute(f"DELETE FROM {physical(mv.id)}")
                    self.store.execute(f"INSERT INTO {physical(mv.id)} ({cols}, __sr_partition) "
                                       f"SELECT *, '{mv.partitions[0].name}' FROM ({duck})")
                writer = TableWriter(self.metastore, self.store, db.name, mv)
                writer.commit({mv.partitions[0].name})
            self.cluster.save()
        return None

    # -- users, roles, privileges (spec §9)
    def _do_create(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        if cur.accept("CREATE", "USER"):
            self.privileges.create_user(cur, session)
            return None
        if cur.accept("CREATE", "ROLE"):
            self.privileges.create_role(cur, session)
            return None
        if cur.accept("CREATE", "RESOURCE", "GROUP"):
            ResourceGroups(self.cluster, self.privileges).create(cur, session)
            return None
        if cur.at("CREATE", "REPOSITORY") or cur.at("CREATE", "READ", "ONLY", "REPOSITORY"):
            self.privileges.require(session, "REPOSITORY", "SYSTEM")
        if cur.at("CREATE", "DATABASE") or cur.at("CREATE", "SCHEMA"):
            # AuthorizerStmtVisitor.visitCreateDbStatement: CREATE DATABASE on the current catalog (even IF NOT EXISTS)
            self.privileges.require(session, "CREATE DATABASE", "CATALOG", DEFAULT_CATALOG)
        return super()._do_create(cur, sql, session)

    def _do_drop(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        if cur.at("DROP", "SNAPSHOT") and not versions.has_drop_snapshot(self.line):
            # No `dropSnapshotStatement` in this release line's StarRocks.g4: ANTLR's prediction fails on SNAPSHOT,
            # `StarRocksDefaultErrorStrategy.reportNoViableAlternative` -> `ParserErrorMsg.noViableStatement`.
            token = cur.peek(1)
            raise EmulatorError(f"Getting syntax error at line 1, column {token.start}. Detail message: No viable "
                                f"statement for input '{sql[:token.end]}'.")
        if cur.accept("DROP", "USER"):
            self.privileges.drop_user(cur, session)
            return None
        if cur.accept("DROP", "ROLE"):
            self.privileges.drop_role(cur, session)
            return None
        if cur.accept("DROP", "RESOURCE", "GROUP"):
            ResourceGroups(self.cluster, self.privileges).drop(cur, session)
            return None
        if cur.at("DROP", "REPOSITORY"):
            self.privileges.require(session, "REPOSITORY", "SYSTEM")
        self._require_drop(Cursor(sql), session)
        return super()._do_drop(cur, sql, session)

    def _require_drop(self, cur: Cursor, session: SessionState) -> None:
        """DROP DATABASE: DROP on the database (`visitDropDbStatement`); DROP TABLE / VIEW / MATERIALIZED VIEW: DROP on
        the object (`visitDropTableStatement`, `visitDropMaterializedViewStatement`); nothing when it does not
        exist (the analyzer's error, or nothing with IF EXISTS, comes first)."""
        cur.expect("DROP")
        if cur.accept("DATABASE") or cur.accept("SCHEMA"):
            cur.accept("IF", "EXISTS")
            name = cur.identifier()
            if name in self.metastore.databases:
                self.privileges.require(session, "DROP", "DATABASE", name)
            return
        kind = "VIEW" if cur.accept("VIEW") else "MATERIALIZED_VIEW" if cur.accept("MATERIALIZED", "VIEW") else None
        if kind is None:
            cur.accept("TEMPORARY")
            if not cur.accept("TABLE"):
                return
            kind = "OLAP"
        cur.accept("IF", "EXISTS")
        self._require_on_existing(cur.qualified(), session, "DROP", kind)

    def _require_on_existing(self, parts: list[str], session: SessionState, privilege: str, kind: str) -> None:
        db_name = parts[-2] if len(parts) > 1 else session.database
        db = self.metastore.databases.get(db_name or "")
        if db is not None and db.table(parts[-1]) is not None:
            self.privileges.require(session, privilege, object_type_of(kind), f"{db.name}.{parts[-1]}")

    def _do_alter(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        """ALTER TABLE (SWAP WITH, RENAME, SET properties, ...): ALTER on the table named first
        (`AuthorizerStmtVisitor.visitAlterTableStatement` checks no other: not the table of SWAP WITH); ALTER
        MATERIALIZED VIEW: ALTER on the materialized view (`visitAlterMaterializedViewStatement`)."""
        probe = Cursor(sql)
        probe.expect("ALTER")
        if probe.accept("MATERIALIZED", "VIEW"):
            self._require_on_existing(probe.qualified(), session, "ALTER", "MATERIALIZED_VIEW")
        elif probe.accept("TABLE"):
            self._require_on_existing(probe.qualified(), session, "ALTER", "OLAP")
        return super()._do_alter(cur, sql, session)

    def _do_grant(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        cur.expect("GRANT")
        self.privileges.grant(cur, session)
        return None

    def _do_revoke(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        cur.expect("REVOKE")
        self.privileges.grant(cur, session, revoke=True)
        return None

    def _do_set(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        cur.expect("SET")
        self.privileges.set_role(cur, session)
        return None

    def _require_export(self, session: SessionState, db_name: str, names) -> None:
        for name in names:
            self.privileges.require(session, "EXPORT", "TABLE", f"{db_name}.{name}")

    def job_visible(self, session: SessionState):
        """SHOW BACKUP shows a job only to a user with EXPORT on every table of it."""
        def visible(record: dict) -> bool:
            plan = record.get("plan") or {}
            names = [t["name"] for t in plan.get("tables", []) + plan.get("views", [])]
            return all(self.privileges.allowed(session, "EXPORT", "TABLE", f"{record['db_name']}.{n}")
                       for n in names)
        return visible

    # -- BACKUP / RESTORE / CANCEL
    def _do_backup(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        cur.expect("BACKUP")
        stmt = statements.parse_backup(cur, legacy=not versions.has_object_backup_syntax(self.line))
        self.privileges.require(session, "REPOSITORY", "SYSTEM")

        def check(db_name, plan) -> None:
            self._require_export(session, db_name, [t.name for t in plan.tables + plan.views])
            db = self.metastore.databases.get(db_name)
            for name in plan.functions:  # StarRocks checks USAGE but its message names DROP and the signature
                function = db.functions.get(name) if db is not None else None
                self.privileges.require(session, "USAGE", "FUNCTION", f"{db_name}.{name}", shown_privilege="DROP",
                                        shown_name=function.signature if function else name)
            for name, _ in plan.external_catalogs:  # USAGE checked, CREATE DATABASE named
                self.privileges.require(session, "USAGE", "CATALOG", name, shown_privilege="CREATE DATABASE")

        self.br.backup(stmt, session.database, check)
        return None

    def _do_restore(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        cur.expect("RESTORE")
        stmt = statements.parse_restore(cur, legacy=not versions.has_object_backup_syntax(self.line))
        self.privileges.require(session, "REPOSITORY", "SYSTEM")
        if stmt.is_external_catalog_job:
            self.privileges.require(session, "CREATE EXTERNAL CATALOG", "SYSTEM")

        def check(db_name, plan) -> None:
            if not stmt.has_on:
                self.privileges.require(session, "CREATE DATABASE", "CATALOG", DEFAULT_CATALOG)
                return
            self.privileges.require(session, "CREATE TABLE", "DATABASE", db_name)
            db = self.metastore.databases.get(db_name)
            for table in plan.tables + plan.views:
                if db is not None and db.table(table.target) is not None:
                    self.privileges.require(session, "INSERT", "TABLE", f"{db_name}.{table.target}")

        self.br.restore(stmt, session.database, check)
        return None

    def _do_cancel(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        cur.expect("CANCEL")
        is_backup = cur.accept("BACKUP")
        if not is_backup:
            cur.expect("RESTORE")
        db_name = None
        # `FOR EXTERNAL CATALOG` from 3.4 (StarRocks.g4 cancelBackupStatement / cancelRestoreStatement)
        for_catalog = versions.has_object_backup_syntax(self.line) and cur.accept("FOR", "EXTERNAL", "CATALOG")
        if not for_catalog and (cur.accept("FROM") or cur.accept("IN")):
            db_name = cur.identifier()
        cur.end()
        if db_name is None and not for_catalog:
            raise statements.parser_error(sql, "No selected database for cancel BACKUP/RESTORE")
        self.privileges.require(session, "REPOSITORY", "SYSTEM")

        def check(record: dict) -> None:
            if is_backup:
                plan = record.get("plan") or {}
                self._require_export(session, record["db_name"],
                                     [t["name"] for t in plan.get("tables", []) + plan.get("views", [])])

        self.br.cancel(is_backup, db_name, for_catalog, check)
        return None

    def _do_admin(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        if cur.accept("ADMIN", "SHOW", "FRONTEND", "CONFIG"):
            # AuthorizerStmtVisitor.visitAdminShowConfigStatement (3.5 e223275f78): OPERATE on SYSTEM
            self.privileges.require(session, "OPERATE", "SYSTEM")
            pattern = cur.string() if cur.accept("LIKE") else "%"
            knobs = self.cluster.knobs
            rows = [["emulator_min_phase_seconds", "[]", str(knobs.min_phase_seconds), "double", "true", ""],
                    ["emulator_throughput_mbps", "[]", str(knobs.throughput_mbps), "double", "true", ""],
                    ["backup_job_default_timeout_ms", "[]", "86400000", "int", "true", ""],
                    ["enable_backup_materialized_view", "[]", "true", "boolean", "true", ""],
                    ["max_upload_task_per_be", "[]", "0", "int", "true", ""],
                    ["max_download_task_per_be", "[]", "0", "int", "true", ""],
                    ["mysql_server_version", "[]", "8.0.33", "String", "true", ""],
                    # Config.run_mode (@ConfField, not mutable); rows as ConfigBase.getConfigInfo writes them
                    ["run_mode", "[]", "shared_nothing", "String", "false", ""],
                    *self.cluster.faults.rows()]
            regex = re.compile("^" + re.escape(pattern).replace("%", ".*").replace("_", ".") + "$", re.IGNORECASE)
            return [r for r in rows if regex.match(r[0])], ["Key", "AliasNames", "Value", "Type", "IsMutable",
                                                             "Comment"]
        cur.expect("ADMIN", "SET", "FRONTEND", "CONFIG")
        for key, value in cur.properties().items():
            self.cluster.set_config(key, value)
        return None

    def _do_show(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        from .show import Show
        probe = Cursor(sql)
        probe.expect("SHOW")
        verbose = probe.accept("VERBOSE")
        if probe.accept("RESOURCE"):
            return ResourceGroups(self.cluster, self.privileges).show(probe, session, verbose)
        access = AccessShow(self).run(probe, session)
        return access if access is not None else Show(self).run(cur, session)

    def _do_desc(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        from .show import Show
        cur.next()
        return Show(self).describe(cur, session)

    _do_describe = _do_desc
