"""Statement dispatch: what a StarRocks frontend answers for each statement the emulator knows."""

from __future__ import annotations

import re

from sqlglot import exp

from . import infoschema, statements
from .backup_restore import BackupRestore
from .catalog import Database, Table
from .cluster import Cluster
from .context import Result, SessionState
from .datastore import physical
from .dml import TableWriter, insert_statement, refresh_stats
from .errors import EmulatorError
from .query import Rewriter, info_schema_tables, parse, to_duckdb
from .schema_statements import SchemaStatements
from .tokens import Cursor

_WITH_LABEL = re.compile(r"\s+WITH\s+LABEL\s+`?\w+`?\s*", re.IGNORECASE)
_BARE_PARTITION = re.compile(r"\b(PARTITIONS?)\s+(?!BY\b)(`?\w+`?)(?!\s*\()", re.IGNORECASE)




def _analyzing(message: str) -> EmulatorError:
    return EmulatorError(f"Getting analyzing error. Detail message: {message}.")


class Frontend(SchemaStatements):
    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.catalog = cluster.catalog
        self.store = cluster.store
        self.br = BackupRestore(cluster)

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

    def _db(self, name: str | None, session: SessionState) -> Database:
        name = name or session.database
        if not name:
            raise EmulatorError("Getting analyzing error. Detail message: No database selected.", 1046)
        return self.catalog.database(name)

    def _split(self, parts: list[str], session: SessionState) -> tuple[Database, str]:
        if len(parts) > 1:
            return self.catalog.database(parts[-2]), parts[-1]
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
            return infoschema.query(self.cluster, tree)
        with self.cluster.lock:
            duck = to_duckdb(Rewriter(self.catalog, session.database).rewrite(tree))
        try:
            return self.store.query(duck)
        except Exception as err:  # noqa: BLE001 - DuckDB errors become statement errors
            raise EmulatorError(f"Getting analyzing error. Detail message: {str(err).splitlines()[0]}.") from err

    # -- DML
    def _do_insert(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        tree = parse(_WITH_LABEL.sub(" ", sql, count=1))
        if not isinstance(tree, exp.Insert):
            cur.fail("INSERT INTO")
        with self.cluster.lock:
            rewriter = Rewriter(self.catalog, session.database)
            db_name, name, columns, select_sql, overwrite = insert_statement(rewriter, tree)
            db, table = self._table([db_name, name] if db_name else [name], session)
            TableWriter(self.catalog, self.store, db.name, table).insert(select_sql, columns, overwrite)
            self.cluster.save()
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
            TableWriter(self.catalog, self.store, db.name, table).delete(Rewriter(self.catalog, db.name),
                                                                         tree.args.get("where"), partitions)
            self.cluster.save()
        return None

    def _do_update(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        tree = parse(sql)
        with self.cluster.lock:
            target = tree.this
            db, table = self._table([target.db, target.name] if target.db else [target.name], session)
            TableWriter(self.catalog, self.store, db.name, table).update(Rewriter(self.catalog, db.name), tree)
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
            TableWriter(self.catalog, self.store, db.name, table).truncate(partitions)
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
                duck = Rewriter(self.catalog, db.name).select_sql(mv.query_sql)
                cols = ", ".join(f'"{c.name}"' for c in mv.columns)
                with self.store.lock:
                    self.store.execute(f"DELETE FROM {physical(mv.id)}")
                    self.store.execute(f"INSERT INTO {physical(mv.id)} ({cols}, __sr_partition) "
                                       f"SELECT *, '{mv.partitions[0].name}' FROM ({duck})")
                writer = TableWriter(self.catalog, self.store, db.name, mv)
                writer.commit({mv.partitions[0].name})
            self.cluster.save()
        return None

    # -- BACKUP / RESTORE / CANCEL
    def _do_backup(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        cur.expect("BACKUP")
        self.br.backup(statements.parse_backup(cur), session.database)
        return None

    def _do_restore(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        cur.expect("RESTORE")
        self.br.restore(statements.parse_restore(cur), session.database)
        return None

    def _do_cancel(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        cur.expect("CANCEL")
        is_backup = cur.accept("BACKUP")
        if not is_backup:
            cur.expect("RESTORE")
        db_name = None
        for_catalog = cur.accept("FOR", "EXTERNAL", "CATALOG")
        if not for_catalog and (cur.accept("FROM") or cur.accept("IN")):
            db_name = cur.identifier()
        cur.end()
        if db_name is None and not for_catalog:
            raise statements.parser_error(sql, "No selected database for cancel BACKUP/RESTORE")
        self.br.cancel(is_backup, db_name, for_catalog)
        return None

    def _do_admin(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        if cur.accept("ADMIN", "SHOW", "FRONTEND", "CONFIG"):
            pattern = cur.string() if cur.accept("LIKE") else "%"
            knobs = self.cluster.knobs
            rows = [["emulator_min_phase_seconds", "[]", str(knobs.min_phase_seconds), "double", "true", ""],
                    ["emulator_throughput_mbps", "[]", str(knobs.throughput_mbps), "double", "true", ""],
                    ["backup_job_default_timeout_ms", "[]", "86400000", "int", "true", ""],
                    ["enable_backup_materialized_view", "[]", "true", "boolean", "true", ""],
                    ["max_upload_task_per_be", "[]", "0", "int", "true", ""],
                    ["max_download_task_per_be", "[]", "0", "int", "true", ""],
                    ["mysql_server_version", "[]", "8.0.33", "String", "true", ""],
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
        return Show(self).run(cur, session)

    def _do_desc(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        from .show import Show
        cur.next()
        return Show(self).describe(cur, session)

    _do_describe = _do_desc
