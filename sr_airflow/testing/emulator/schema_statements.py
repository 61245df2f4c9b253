"""CREATE / DROP / ALTER statements: databases, tables, partitions, views, MVs, functions, catalogs."""

from __future__ import annotations

import copy
import re
import time

from . import ddl, statements
from .catalog import Column, Database, ExternalCatalog, Function, Table
from .context import Result, SessionState
from .datastore import physical
from .dml import TableWriter, refresh_stats
from .errors import EmulatorError
from .query import Rewriter
from .sqltypes import python_value
from .tokens import Cursor


def _analyzing(message: str) -> EmulatorError:
    return EmulatorError(f"Getting analyzing error. Detail message: {message}.")


def column_from_duck(name: str, duck_type: str) -> Column:
    mapping = {"INTEGER": "INT", "TIMESTAMP": "DATETIME", "HUGEINT": "LARGEINT", "VARCHAR": "VARCHAR(65533)"}
    return Column(name=name, sr_type=mapping.get(duck_type, duck_type))


def p_buckets(partition) -> int:
    return len(partition.tablet_ids)


def _create_like(cur: Cursor) -> tuple[bool, list[str], list[str]] | None:
    """`[IF NOT EXISTS] t2 LIKE t1` after CREATE TABLE, or None (and the cursor untouched)."""
    start = cur.pos
    if_not_exists = cur.accept("IF", "NOT", "EXISTS")
    target = cur.qualified()
    if cur.accept("LIKE"):
        source = cur.qualified()
        cur.end()
        return if_not_exists, target, source
    cur.pos = start
    return None


class SchemaStatements:
    """Mixed into Frontend (which provides cluster, catalog, store, br, _db, _split, _table)."""

    # -- CREATE
    def _do_create(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        cur.expect("CREATE")
        if cur.accept("DATABASE") or cur.accept("SCHEMA"):
            if_not_exists = cur.accept("IF", "NOT", "EXISTS")
            name = cur.qualified()[-1]
            with self.cluster.lock:
                if name in self.catalog.databases:
                    if if_not_exists:
                        return None
                    raise EmulatorError(f"Can't create database '{name}'; database exists", 1007)
                db = self.catalog.databases[name] = Database(id=self.catalog.new_id(), name=name)
                self.catalog.save_database(db)
            return None
        if cur.accept("READ", "ONLY", "REPOSITORY"):
            self.br.create_repository(statements.parse_create_repository(cur, True))
            return None
        if cur.accept("REPOSITORY"):
            self.br.create_repository(statements.parse_create_repository(cur, False))
            return None
        if cur.accept("EXTERNAL", "CATALOG"):
            cur.accept("IF", "NOT", "EXISTS")
            name = cur.identifier()
            comment = cur.string() if cur.accept("COMMENT") else ""
            cur.expect("PROPERTIES")
            props = cur.properties()
            with self.cluster.lock:
                if name in self.catalog.catalogs or name == "default_catalog":
                    raise EmulatorError(f"Catalog '{name}' already exists")
                self.cluster.new_catalog(ExternalCatalog(name, props.get("type", ""), props, comment))
                self.cluster.save()
            return None
        if cur.accept("TABLE"):
            return self._create_table(cur, session)
        or_replace = cur.accept("OR", "REPLACE")
        if cur.accept("VIEW"):
            return self._create_view(cur, session, or_replace)
        if cur.accept("MATERIALIZED", "VIEW"):
            return self._create_mv(cur, session)
        cur.accept("GLOBAL")
        cur.accept("AGGREGATE") or cur.accept("TABLE")
        if cur.accept("FUNCTION"):
            return self._create_function(cur, sql, session)
        cur.fail("DATABASE, TABLE, VIEW, MATERIALIZED VIEW, FUNCTION, REPOSITORY, EXTERNAL CATALOG")
        return None

    def _create_table(self, cur: Cursor, session: SessionState) -> Result:
        like = _create_like(cur)
        if like is not None:
            return self._create_table_like(like, session)
        definition = ddl.parse_create_table(cur)
        with self.cluster.lock:
            db = self._db(definition.db, session)
            if definition.name in db.tables:
                if definition.if_not_exists:
                    return None
                raise EmulatorError(f"Getting analyzing error. Detail message: Table '{definition.name}' already "
                                    "exists.", 1050)
            table = definition.table
            select_sql = None
            if definition.as_select:
                select_sql = Rewriter(self.catalog, db.name).select_sql(definition.as_select)
                rows_cols = self.store.fetchall(f"DESCRIBE {select_sql}")
                table.columns = [column_from_duck(name, typ) for name, typ, *_ in rows_cols]
                table.key_columns = [table.columns[0].name]
                table.distribution = "RANDOM"
            for column in table.partition_columns:
                if table.column(column) is None:
                    raise _analyzing(f"Partition column '{column}' does not exist in table '{table.name}'")
            table.id = self.catalog.new_id()
            table.base_index_id = self.catalog.new_id()
            table.create_time = time.time()
            if table.partition_type == "UNPARTITIONED":
                table.partitions = [self.catalog.new_partition(table.name, table.buckets)]
            else:
                for d in ddl.resolve_partitions(table, definition.partitions):
                    table.partitions.append(ddl.new_partition_from_def(self.catalog, table, d))
            self.store.create(table)
            db.tables[table.name] = table
            if select_sql:
                TableWriter(self.catalog, self.store, db.name, table).insert(select_sql, None)
            self.catalog.save_table(db, table)
        return None

    def _create_table_like(self, like: tuple[bool, list[str], list[str]], session: SessionState) -> Result:
        if_not_exists, target, source = like
        with self.cluster.lock:
            db, name = self._split(target, session)
            _, original = self._table(source, session)
            if name in db.tables:
                if if_not_exists:
                    return None
                raise EmulatorError(f"Getting analyzing error. Detail message: Table '{name}' already exists.", 1050)
            table = copy.deepcopy(original)
            table.id, table.name, table.base_index_id = self.catalog.new_id(), name, self.catalog.new_id()
            table.create_time, table.state = time.time(), "NORMAL"
            table.partitions = [self.catalog.new_partition(p.name if p.name != original.name else name, p_buckets(p),
                                                           lower=p.lower, upper=p.upper, values=p.values)
                                for p in original.partitions if not p.is_temp and
                                original.partition_type != "EXPR"]
            self.store.create(table)
            db.tables[name] = table
            self.cluster.save()
        return None

    def _create_view(self, cur: Cursor, session: SessionState, or_replace: bool) -> Result:
        if_not_exists = cur.accept("IF", "NOT", "EXISTS")
        db, name = self._split(cur.qualified(), session)
        if cur.at("("):
            cur.balanced()
        cur.accept("COMMENT") and cur.string()
        cur.expect("AS")
        query = cur.rest_text()
        with self.cluster.lock:
            Rewriter(self.catalog, db.name).select_sql(query)
            existing = db.table(name)
            if existing is not None:
                if if_not_exists:
                    return None
                if not (or_replace and existing.kind == "VIEW"):
                    raise _analyzing(f"Table '{name}' already exists")
            columns = self._query_columns(db.name, query)
            db.tables[name] = Table(id=self.catalog.new_id(), name=name, kind="VIEW", columns=columns,
                                    query_sql=query, create_time=time.time())
            self.cluster.save()
        return None

    def _query_columns(self, db_name: str, query: str):
        duck = Rewriter(self.catalog, db_name).select_sql(query)
        return [column_from_duck(name, typ) for name, typ, *_ in self.store.fetchall(f"DESCRIBE {duck}")]

    def _create_mv(self, cur: Cursor, session: SessionState) -> Result:
        if_not_exists = cur.accept("IF", "NOT", "EXISTS")
        db, name = self._split(cur.qualified(), session)
        refresh = ""
        start = cur.peek()
        while not cur.done() and not cur.at("AS"):
            if cur.at("("):
                cur.balanced()
            else:
                cur.next()
        clause = cur.sql[start.start:cur.peek().start] if start is not None and not cur.done() else ""
        match = re.search(r"REFRESH\s+((?:ASYNC|MANUAL|IMMEDIATE|DEFERRED|INCREMENTAL)[^()]*?)"
                          r"(?=\s+PROPERTIES|\s+DISTRIBUTED|\s+PARTITION|\s+ORDER|$)", clause,
                          re.IGNORECASE | re.DOTALL)
        cur.expect("AS")
        query = cur.rest_text()
        is_async = bool(re.search(r"\b(REFRESH|DISTRIBUTED|PARTITION\s+BY)\b", clause, re.IGNORECASE))
        refresh = (match.group(1).strip().upper() if match else "ASYNC") if is_async else "ROLLUP"
        with self.cluster.lock:
            if db.table(name) is not None:
                if if_not_exists:
                    return None
                raise _analyzing(f"Table '{name}' already exists")
            rewriter = Rewriter(self.catalog, db.name)
            duck = rewriter.select_sql(query)
            mv = Table(id=self.catalog.new_id(), name=name, kind="MATERIALIZED_VIEW", query_sql=query,
                       refresh=refresh, create_time=time.time(), base_index_id=self.catalog.new_id())
            if refresh == "ROLLUP":
                bases = rewriter.referenced_tables(query)
                if len(bases) != 1:
                    raise _analyzing("The materialized view only supports one table in from clause")
                mv.sync_base = bases[0][1]
                mv.columns = self._query_columns(db.name, query)
            else:
                cols = self.store.create_like_query(mv.id, duck, name)
                mv.columns = [column_from_duck(c, t) for c, t in cols]
                mv.key_columns = [mv.columns[0].name]
                mv.distribution = "RANDOM"
                mv.partitions = [self.catalog.new_partition(name, 1)]
                mv.partitions[0].visible_version = 2 if "DEFERRED" not in refresh.upper() else 1
                refresh_stats(self.store, mv)
            db.tables[name] = mv
            self.cluster.save()
        return None

    def _create_function(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        db, name = self._split(cur.qualified(), session)
        start, stop = cur.balanced()
        cur.expect("RETURNS")
        returns = ddl.parse_type(cur)
        props = {}
        while not cur.done():
            if cur.accept("PROPERTIES"):
                props = cur.properties()
            else:
                cur.next()
        with self.cluster.lock:
            if name in db.functions:
                raise EmulatorError(f"function already exists: {name}")
            self.cluster.new_function(db, Function(name=name, signature=f"{name}({sql[start:stop].strip()})",
                                                   return_type=returns, create_sql=sql, properties=props))
            self.cluster.save()
        return None

    # -- DROP
    def _do_drop(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        cur.expect("DROP")
        if cur.accept("REPOSITORY"):
            name = cur.identifier()
            self.br.drop_repository(name)
            return None
        if cur.accept("DATABASE") or cur.accept("SCHEMA"):
            if_exists = cur.accept("IF", "EXISTS")
            name = cur.identifier()
            cur.accept("FORCE")
            with self.cluster.lock:
                db = self.catalog.databases.get(name)
                if db is None:
                    if if_exists:
                        return None
                    raise EmulatorError(f"Can't drop database '{name}'; database doesn't exist", 1008)
                self._check_no_job(db)
                for table in db.tables.values():
                    self.cluster.drop_table_data(table)
                del self.catalog.databases[name]
                self.cluster.save()
            return None
        if cur.accept("CATALOG"):
            if_exists = cur.accept("IF", "EXISTS")
            name = cur.identifier()
            with self.cluster.lock:
                if name not in self.catalog.catalogs:
                    if if_exists:
                        return None
                    raise EmulatorError(f"Catalog '{name}' does not exist")
                del self.catalog.catalogs[name]
                self.cluster.save()
            return None
        if cur.accept("FUNCTION"):
            if_exists = cur.accept("IF", "EXISTS")
            db, name = self._split(cur.qualified(), session)
            with self.cluster.lock:
                if name not in db.functions:
                    if if_exists:
                        return None
                    raise EmulatorError(f"Unknown function: {name}")
                del db.functions[name]
                self.cluster.save()
            return None
        kind = "OLAP"
        if cur.accept("VIEW"):
            kind = "VIEW"
        elif cur.accept("MATERIALIZED", "VIEW"):
            kind = "MATERIALIZED_VIEW"
        else:
            cur.accept("TEMPORARY")
            cur.expect("TABLE")
        if_exists = cur.accept("IF", "EXISTS")
        parts = cur.qualified()
        cur.accept("FORCE")
        with self.cluster.lock:
            db, name = self._split(parts, session)
            table = db.table(name)
            if table is None:
                if if_exists:
                    return None
                raise _analyzing(f"Unknown table '{db.name}.{name}'")
            if kind == "OLAP" and table.kind == "MATERIALIZED_VIEW":
                raise _analyzing(f"The data of '{name}' cannot be dropped because '{name}' is a materialized "
                                 "view,use 'drop materialized view {name}' to drop it")
            if table.state != "NORMAL":
                raise EmulatorError(f"Table {name}'s state is not NORMAL: {table.state}")
            self.cluster.drop_table_data(table)
            del db.tables[name]
            for other in list(db.tables.values()):
                if other.sync_base == name:
                    del db.tables[other.name]
                elif other.kind == "MATERIALIZED_VIEW" and other.refresh != "ROLLUP" and other.is_active:
                    bases = [b for _, b in Rewriter(self.catalog, db.name).referenced_tables(other.query_sql)]
                    if name in bases:
                        other.is_active = False
                        other.inactive_reason = f"base-table dropped: {name}"
            self.cluster.save()
        return None

    def _check_no_job(self, db: Database) -> None:
        if self.cluster.running_job(str(db.id)):
            raise EmulatorError("Can only run one backup or restore job of a database at same time")

    # -- ALTER
    def _do_alter(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        cur.expect("ALTER")
        if cur.accept("MATERIALIZED", "VIEW"):
            with self.cluster.lock:
                db, mv = self._table(cur.qualified(), session, ("MATERIALIZED_VIEW",))
                if cur.accept("ACTIVE"):
                    self.cluster.activate_after_restore(db, mv)
                    if not mv.is_active:
                        reason = mv.inactive_reason
                        raise EmulatorError(f"Can not active materialized view [{mv.name}] because analyze "
                                            f"materialized view define sql: {reason}")
                elif cur.accept("INACTIVE"):
                    mv.is_active = False
                    mv.inactive_reason = "user use alter materialized view set status to inactive"
                else:
                    cur.fail("ACTIVE, INACTIVE")
                self.cluster.save()
            return None
        if cur.accept("DATABASE"):
            old = cur.identifier()
            cur.expect("RENAME")
            new = cur.identifier()
            with self.cluster.lock:
                db = self.catalog.database(old)
                if new in self.catalog.databases:
                    raise EmulatorError(f"Can't create database '{new}'; database exists", 1007)
                db.name = new
                self.catalog.databases[new] = self.catalog.databases.pop(old)
                self.cluster.save()
            return None
        cur.expect("TABLE")
        with self.cluster.lock:
            db, table = self._table(cur.qualified(), session, ("OLAP",))
            if table.state != "NORMAL":
                raise EmulatorError(f"Table {table.name}'s state is not NORMAL: {table.state}")
            if cur.accept("ADD"):
                self._add_partitions(cur, table)
            elif cur.accept("DROP"):
                temporary = cur.accept("TEMPORARY")
                cur.expect("PARTITION")
                if_exists = cur.accept("IF", "EXISTS")
                name = cur.identifier()
                cur.accept("FORCE")
                partition = table.partition(name)
                if partition is None or partition.is_temp != temporary:
                    if if_exists:
                        return None
                    raise _analyzing(f"Partition '{name}' does not exist")
                self.store.execute(f"DELETE FROM {physical(table.id)} WHERE __sr_partition = ?", [name])
                table.partitions.remove(partition)
            elif cur.accept("RENAME"):
                new = cur.identifier()
                if new in db.tables:
                    raise _analyzing(f"Table '{new}' already exists")
                db.tables[new] = db.tables.pop(table.name)
                old = table.name
                table.name = new
                for p in table.partitions:
                    if table.partition_type == "UNPARTITIONED" and p.name == old:
                        self.store.execute(f"UPDATE {physical(table.id)} SET __sr_partition = ?", [new])
                        p.name = new
            elif cur.accept("SWAP", "WITH"):
                other = db.table(cur.identifier())
                if other is None or other.kind != "OLAP":
                    raise _analyzing("Unknown table to swap with")
                table.name, other.name = other.name, table.name
                db.tables[table.name], db.tables[other.name] = table, other
                for t, old in ((table, other.name), (other, table.name)):
                    if t.partition_type == "UNPARTITIONED" and t.partitions[0].name == old:
                        self.store.execute(f"UPDATE {physical(t.id)} SET __sr_partition = ?", [t.name])
                        t.partitions[0].name = t.name
            elif cur.accept("SET"):
                table.properties.update(cur.properties())
            else:
                cur.fail("ADD PARTITION, DROP PARTITION, RENAME, SWAP WITH")
            self.cluster.save()
        return None

    def _add_partitions(self, cur: Cursor, table: Table) -> None:
        if table.partition_type not in ("RANGE", "LIST"):
            raise _analyzing(f"Table {table.name} is not a range or list partitioned table")
        temporary = cur.accept("TEMPORARY")
        if cur.accept("PARTITIONS"):
            cur.tokens.insert(cur.pos, cur.tokens[cur.pos - 1])
            defs = ddl._batch_partitions(cur, table.column(table.partition_columns[0]))
        else:
            defs = [ddl._partition_def(cur, table.partition_type)]
        cur.accept("DISTRIBUTED", "BY") and cur.next() and cur.at("(") and cur.balanced()
        existing = [ddl.PartitionDef(p.name, p.lower, p.upper, p.values) for p in table.partitions]
        for d in defs:
            if table.partition(d.name) is not None:
                raise _analyzing(f"Duplicate partition name {d.name}")
            if d.less_than:
                col_type = table.column(table.partition_columns[0]).sr_type
                uppers = [p.upper for p in existing if p.upper is not None and
                          python_value(p.upper[0], col_type) <= python_value(d.upper[0], col_type)] \
                    if d.upper else [p.upper for p in existing if p.upper]
                d.lower = max(uppers, key=lambda u: python_value(u[0], col_type)) if uppers else None
            partition = ddl.new_partition_from_def(self.catalog, table, d)
            partition.is_temp = temporary
            table.partitions.append(partition)
