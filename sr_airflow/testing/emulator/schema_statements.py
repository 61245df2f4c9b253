"""CREATE / DROP / ALTER statements: databases, tables, partitions, views, MVs, functions, catalogs."""

from __future__ import annotations

import copy
import re
import time

from . import ddl, sqltypes, statements
from .context import Result, SessionState
from .datastore import physical
from .dml import TableWriter, refresh_stats
from .errors import ERR_COLOCATE_TABLE, EmulatorError
from .javajson import hashmap_order, long_hash, string_hash
from .metastore import Column, Database, ExternalCatalog, Function, Index, Table
from .query import Rewriter
from .sqltypes import python_value
from .tokens import Cursor


def _analyzing(message: str) -> EmulatorError:
    return EmulatorError(f"Getting analyzing error. Detail message: {message}.")


def column_from_duck(name: str, duck_type: str) -> Column:
    mapping = {"INTEGER": "INT", "TIMESTAMP": "DATETIME", "HUGEINT": "LARGEINT", "VARCHAR": "VARCHAR(65533)"}
    return Column(name=name, sr_type=mapping.get(duck_type, duck_type))


def add_rollup_index(metastore, table: Table, name: str, columns: list[Column], keys_type: str, define_stmt: str = "",
                     view_define_sql: str = "") -> Index:
    """A rollup or synchronous-MV index of `table`, finished at once (StarRocks runs a `RollupJobV2` through
    PENDING, WAITING_TXN and RUNNING; the emulator's index is complete when the statement returns). Ids as
    `MaterializedViewHandler.createMaterializedViewJob` draws them (3.5 e223275f): the job id, the index id, then
    per partition (`getPartitions()`: `idToPartition` hash order) one tablet per base tablet, each followed by
    its replicas (`OlapTableRollupJobBuilder`)."""
    metastore.new_id()  # the RollupJobV2's id
    index = Index(id=metastore.new_id(), name=name, columns=columns, keys_type=keys_type, define_stmt=define_stmt,
                  view_define_sql=view_define_sql)
    by_id = {p.id: p for p in table.partitions}
    for partition_id in hashmap_order(by_id, long_hash):
        partition = by_id[partition_id]
        partition.rollup_tablets[str(index.id)] = metastore.new_tablets(len(partition.tablet_ids),
                                                                      table.replication_num)
    table.rollups.append(index)
    return index


_INDEX_SIZE = {"BOOLEAN": 1, "TINYINT": 1, "SMALLINT": 2, "INT": 4, "BIGINT": 8, "LARGEINT": 16, "DATE": 3,
               "DATETIME": 8, "DECIMALV2": 12, "DECIMAL32": 4, "DECIMAL64": 8, "DECIMAL128": 16}


def rollup_columns(table: Table, names: list[str]) -> tuple[list[Column], list[str]]:
    """`ALTER TABLE t ADD ROLLUP r (c1, c2)`: copies of the base columns (same uniqueId) and the rollup's keys
    (`MaterializedViewHandler.checkAndPrepareMaterializedView`, 3.5 e223275f): in aggregate / unique / primary
    tables the base keys it holds; in duplicate tables without DUPLICATE KEY the leading columns up to 3 columns
    and 36 bytes of index (`FeConstants.SHORTKEY_MAX_COLUMN_COUNT`, `SHORTKEY_MAXSIZE_BYTES`), stopping before a
    FLOAT/DOUBLE or complex column and after a VARCHAR."""
    columns = []
    for name in names:
        column = table.column(name)
        if column is None:
            raise EmulatorError(f"Column[{name}] does not exist")
        columns.append(copy.deepcopy(column))
    if table.keys_type != "DUP_KEYS":
        return columns, [c.name for c in columns if c.name in table.key_columns]
    keys: list[str] = []
    size = 0
    for column in columns:
        t = sqltypes.parse_type(column.sr_type)
        primitive = t.primitive if isinstance(t, sqltypes.ScalarType) else "COMPLEX"
        size += t.length if primitive == "CHAR" else _INDEX_SIZE.get(primitive, 20)
        if len(keys) + 1 > 3 or size > 36:
            if not keys and primitive in ("CHAR", "VARCHAR"):
                keys.append(column.name)
            break
        if primitive in ("FLOAT", "DOUBLE", "COMPLEX"):
            break
        keys.append(column.name)
        if primitive == "VARCHAR":
            break
    if not keys:
        raise EmulatorError(f"Data type of first column cannot be {columns[0].sr_type}")
    return columns, keys


_SUM_WIDER = {"TINYINT": "BIGINT", "SMALLINT": "BIGINT", "INT": "BIGINT", "FLOAT": "DOUBLE"}


def sync_mv_columns(table: Table, query: str) -> tuple[list[Column], str]:
    """The index schema of `CREATE MATERIALIZED VIEW mv AS SELECT k, SUM(v) FROM t GROUP BY k`
    (`CreateMaterializedViewStmt.buildNonAggColumnItem` / `buildAggColumnItemWithPattern`, 3.5 e223275f): a
    plain column keeps its name and type; `fn(col)` becomes `mv_<fn>_<col>` (`MVUtils.getMVAggColumnName`) with
    the aggregate `FN` and SUM's widened type (TINYINT/SMALLINT/INT to BIGINT, FLOAT to DOUBLE), COUNT a BIGINT.
    With an aggregate the index is AGG_KEYS, else the base table's key type."""
    from sqlglot import exp

    from .query import parse

    tree = parse(query)
    columns: list[Column] = []
    has_agg = False
    for item in tree.expressions:
        node = item.this if isinstance(item, exp.Alias) else item
        if isinstance(node, exp.Column):
            base = table.column(node.name)
            if base is None:
                raise _analyzing(f"Unknown column '{node.name}' in '{table.name}'")
            columns.append(copy.deepcopy(base))
            continue
        if isinstance(node, exp.AggFunc) and isinstance(node.this, exp.Column):
            base = table.column(node.this.name)
            if base is None:
                raise _analyzing(f"Unknown column '{node.this.name}' in '{table.name}'")
            fn = (node.key if not isinstance(node, exp.Anonymous) else node.name).lower()
            fn = {"count": "count", "sum": "sum", "min": "min", "max": "max"}.get(fn, fn)
            sr_type = base.sr_type
            if fn == "sum":
                sr_type = _SUM_WIDER.get(sqltypes.base_name(base.sr_type), base.sr_type)
            elif fn == "count":
                sr_type = "BIGINT"
            has_agg = True
            table.max_col_unique_id += 1
            columns.append(Column(name=f"mv_{fn}_{base.name}", sr_type=sr_type, nullable=base.nullable,
                                  agg=fn.upper(), unique_id=table.max_col_unique_id))
            continue
        raise _analyzing(f"Create materialized view non-slot ref expression should have an alias:{item.sql()}")
    return columns, ("AGG_KEYS" if has_agg else table.keys_type)


def create_partitions(metastore, table: Table, defs: list[ddl.PartitionDef], resolve: bool = True) -> None:
    """Ids of a new table in the order `OlapTableFactory.createTable` draws them (3.5 e223275f, 3.4 afccab88,
    3.3 1a2f1f5d75): one per partition in definition order (`partitionNameToId`; an unpartitioned table's one
    partition is named like the table; an automatic-partition table also draws the id of its hidden shadow
    partition), then the table id, the base index id, and then the partitions are created (`createPartition`:
    physical id, tablets, replicas) in the iteration order of `partitionNameToId`, a `HashMap<String, Long>`.
    Every column gets its `uniqueId` from `incAndGetMaxColUniqueId` (0, 1, 2, ...)."""
    if table.partition_type == "UNPARTITIONED":
        defs = [ddl.PartitionDef(table.name)]
    elif resolve:
        defs = ddl.resolve_partitions(table, defs)
    ids = {d.name: metastore.new_id() for d in defs}
    if table.partition_type == "EXPR":
        metastore.new_id()  # createAutomaticShadowPartition: the hidden `$shadow_automatic_partition`
    table.id = metastore.new_id()
    table.base_index_id = metastore.new_id()
    table.create_time = time.time()
    for unique_id, column in enumerate(table.columns):
        column.unique_id = unique_id
    table.max_col_unique_id = len(table.columns) - 1
    by_name = {d.name: d for d in defs}
    created = {}
    for name in hashmap_order(ids, string_hash):
        d = by_name[name]
        created[name] = metastore.new_partition(name, table.buckets, table=table, partition_id=ids[name],
                                              lower=d.lower, upper=d.upper, values=d.values)
    table.partitions = [created[d.name] for d in defs]


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
    """Mixed into Frontend (which provides cluster, metastore, store, br, _db, _split, _table)."""

    # -- CREATE
    def _do_create(self, cur: Cursor, sql: str, session: SessionState) -> Result:
        cur.expect("CREATE")
        if cur.accept("DATABASE") or cur.accept("SCHEMA"):
            if_not_exists = cur.accept("IF", "NOT", "EXISTS")
            name = cur.qualified()[-1]
            with self.cluster.lock:
                if name in self.metastore.databases:
                    if if_not_exists:
                        return None
                    raise EmulatorError(f"Can't create database '{name}'; database exists", 1007)
                db = self.metastore.databases[name] = Database(id=self.metastore.new_id(), name=name)
                self.metastore.save_database(db)
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
                if name in self.metastore.external_catalogs or name == "default_catalog":
                    raise EmulatorError(f"Catalog '{name}' already exists")
                self.cluster.new_external_catalog(ExternalCatalog(name, props.get("type", ""), props, comment,
                                                         id=self.metastore.new_id()))
                self.cluster.save()
            return None
        if cur.accept("TABLE"):
            return self._create_table(cur, session)
        or_replace = cur.accept("OR", "REPLACE")
        if cur.accept("VIEW"):
            return self._create_view(cur, session, or_replace)
        if cur.accept("MATERIALIZED", "VIEW"):
            return self._create_mv(cur, session, sql)
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
                select_sql = Rewriter(self.metastore, db.name).select_sql(definition.as_select)
                rows_cols = self.store.fetchall(f"DESCRIBE {select_sql}")
                table.columns = [column_from_duck(name, typ) for name, typ, *_ in rows_cols]
                table.key_columns = [table.columns[0].name]
                table.distribution = "RANDOM"
            for column in table.partition_columns:
                if table.column(column) is None:
                    raise _analyzing(f"Partition column '{column}' does not exist in table '{table.name}'")
            create_partitions(self.metastore, table, definition.partitions)
            self.store.create(table)
            db.tables[table.name] = table
            if select_sql:
                TableWriter(self.metastore, self.store, db.name, table).insert(select_sql, None)
            self.metastore.save_table(db, table)
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
            table.name, table.state, table.partitions, table.rollups = name, "NORMAL", [], []
            defs = [ddl.PartitionDef(p.name if p.name != original.name else name, p.lower, p.upper, p.values)
                    for p in original.partitions if not p.is_temp and original.partition_type != "EXPR"]
            create_partitions(self.metastore, table, defs, resolve=False)
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
            Rewriter(self.metastore, db.name).select_sql(query)
            existing = db.table(name)
            if existing is not None:
                if if_not_exists:
                    return None
                if not (or_replace and existing.kind == "VIEW"):
                    raise _analyzing(f"Table '{name}' already exists")
            columns = self._query_columns(db.name, query)
            db.tables[name] = Table(id=self.metastore.new_id(), name=name, kind="VIEW", columns=columns,
                                    query_sql=query, create_time=time.time())
            self.cluster.save()
        return None

    def _query_columns(self, db_name: str, query: str):
        duck = Rewriter(self.metastore, db_name).select_sql(query)
        return [column_from_duck(name, typ) for name, typ, *_ in self.store.fetchall(f"DESCRIBE {duck}")]

    def _create_mv(self, cur: Cursor, session: SessionState, sql: str) -> Result:
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
            rewriter = Rewriter(self.metastore, db.name)
            duck = rewriter.select_sql(query)
            if refresh == "ROLLUP":
                bases = rewriter.referenced_tables(query)
                if len(bases) != 1:
                    raise _analyzing("The materialized view only supports one table in from clause")
                base = self.metastore.database(bases[0][0]).table(bases[0][1])
                if base is None or base.kind != "OLAP":
                    raise _analyzing(f"Materialized view does not support this kind of table: {bases[0][1]}")
                if base.rollup(name) is not None:
                    raise _analyzing(f"Table '{name}' already exists")
                columns, keys_type = sync_mv_columns(base, query)
                index = add_rollup_index(self.metastore, base, name, columns, keys_type, define_stmt=sql.strip(),
                                         view_define_sql=query)
                mv = Table(id=index.id, name=name, kind="MATERIALIZED_VIEW", query_sql=query, refresh=refresh,
                           create_time=time.time(), base_index_id=index.id, sync_base=base.name,
                           columns=self._query_columns(db.name, query))
                db.tables[name] = mv
                self.cluster.save()
                return None
            mv = Table(id=self.metastore.new_id(), name=name, kind="MATERIALIZED_VIEW", query_sql=query,
                       refresh=refresh, create_time=time.time(), base_index_id=self.metastore.new_id())
            cols = self.store.create_like_query(mv.id, duck, name)
            mv.columns = [column_from_duck(c, t) for c, t in cols]
            for unique_id, column in enumerate(mv.columns):
                column.unique_id = unique_id
            mv.max_col_unique_id = len(mv.columns) - 1
            mv.key_columns = [mv.columns[0].name]
            mv.distribution = "RANDOM"
            mv.partitions = [self.metastore.new_partition(name, 1, table=mv)]
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
                db = self.metastore.databases.get(name)
                if db is None:
                    if if_exists:
                        return None
                    raise EmulatorError(f"Can't drop database '{name}'; database doesn't exist", 1008)
                self._check_no_job(db)
                for table in db.tables.values():
                    self.cluster.drop_table_data(table)
                del self.metastore.databases[name]
                self.cluster.save()
            return None
        if cur.accept("CATALOG"):
            if_exists = cur.accept("IF", "EXISTS")
            name = cur.identifier()
            with self.cluster.lock:
                if name not in self.metastore.external_catalogs:
                    if if_exists:
                        return None
                    raise EmulatorError(f"Catalog '{name}' does not exist")
                del self.metastore.external_catalogs[name]
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
            # no state check: a table left in RESTORE by a failed job can be dropped (Database.dropTable, 3.3
            # 1a2f1f5d75 to 4.0 312b0d9e, refuses only while COMMITTED transactions wait, unless FORCE)
            self.cluster.drop_table_data(table)
            del db.tables[name]
            base = db.table(table.sync_base) if table.sync_base else None
            if base is not None:  # a synchronous MV is an index of its base table
                base.rollups = [r for r in base.rollups if r.name != name]
                for partition in base.partitions:
                    partition.rollup_tablets.pop(str(table.id), None)
            for other in list(db.tables.values()):
                if other.sync_base == name:
                    del db.tables[other.name]
                elif other.kind == "MATERIALIZED_VIEW" and other.refresh != "ROLLUP" and other.is_active:
                    bases = [b for _, b in Rewriter(self.metastore, db.name).referenced_tables(other.query_sql)]
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
                db = self.metastore.database(old)
                if new in self.metastore.databases:
                    raise EmulatorError(f"Can't create database '{new}'; database exists", 1007)
                db.name = new
                self.metastore.databases[new] = self.metastore.databases.pop(old)
                self.cluster.save()
            return None
        cur.expect("TABLE")
        with self.cluster.lock:
            db, table = self._table(cur.qualified(), session, ("OLAP",))
            if table.state != "NORMAL":
                raise EmulatorError(f"Table {table.name}'s state is not NORMAL: {table.state}")
            if cur.accept("ADD", "ROLLUP"):
                self._add_rollup(cur, table)
            elif cur.at("ADD", "COLUMN") or cur.at("DROP", "COLUMN") or cur.at("MODIFY", "COLUMN") or \
                    cur.at("RENAME", "COLUMN") or cur.at("COMMENT"):
                self._alter_columns(cur, table)
            elif cur.accept("ADD"):
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
                for other in db.tables.values():
                    if other.sync_base == old:
                        other.sync_base = new
                for p in table.partitions:
                    if table.partition_type == "UNPARTITIONED" and p.name == old:
                        self.store.execute(f"UPDATE {physical(table.id)} SET __sr_partition = ?", [new])
                        p.name = new
            elif cur.accept("SWAP", "WITH"):
                other = db.table(cur.identifier())
                if other is None or other.kind != "OLAP":
                    raise _analyzing("Unknown table to swap with")
                # AlterJobExecutor.visitSwapTableClause (3.5 e223275f): the async MVs over either table go inactive,
                # each with the name its base had before the swap (inactiveReasonForBaseTableSwapped)
                self._inactivate_readers(db, {table.name, other.name}, "base-table swapped: {}")
                table.name, other.name = other.name, table.name
                db.tables[table.name], db.tables[other.name] = table, other
                for t, old in ((table, other.name), (other, table.name)):
                    if t.partition_type == "UNPARTITIONED" and t.partitions[0].name == old:
                        self.store.execute(f"UPDATE {physical(t.id)} SET __sr_partition = ?", [t.name])
                        t.partitions[0].name = t.name
            elif cur.accept("REPLACE"):
                self._replace_partitions(cur, table)
            elif cur.accept("SET"):
                properties = cur.properties()
                if "colocate_with" in properties:
                    _set_colocate_group(db, table, properties["colocate_with"])
                else:
                    table.properties.update(properties)
            else:
                cur.fail("ADD PARTITION, DROP PARTITION, RENAME, SWAP WITH")
            self.cluster.save()
        return None

    def _inactivate_readers(self, db, names: set[str], reason: str) -> None:
        """Active async MVs of ``db`` reading a table of ``names``: inactive, ``reason`` formatted with that name."""
        for mv in list(db.tables.values()):
            if mv.kind == "MATERIALIZED_VIEW" and mv.refresh != "ROLLUP" and mv.is_active:
                bases = [b for _, b in Rewriter(self.metastore, db.name).referenced_tables(mv.query_sql)]
                hit = next((b for b in bases if b in names), None)
                if hit is not None:
                    mv.is_active = False
                    mv.inactive_reason = reason.format(hit)

    def _alter_columns(self, cur: Cursor, table: Table) -> None:
        """Schema changes of one table, none of which moves a partition's visible version or id (3.5, e223275f):
        `ADD COLUMN c ...` / `ADD COLUMN (c1 ..., c2 ...)` and `DROP COLUMN c` of value columns change the metadata
        only under fast schema evolution (`SchemaChangeHandler.analyzeAndCreateJob` ->
        `fastSchemaEvolutionInShareNothingMode`), and otherwise run a `SchemaChangeJobV2` that rewrites the tablets
        at the partition's visible version (`runWaitingTxnJob`) without publishing one; `MODIFY COLUMN` likewise;
        `RENAME COLUMN a TO b` (`LocalMetastore.renameColumn`) and `COMMENT = '...'`
        (`LocalMetastore.alterTableComment`) edit the metadata. The emulator applies each at once. Added columns go
        last (`FIRST` / `AFTER` are not emulated), each with a new `uniqueId` from `maxColUniqueId`."""
        target = physical(table.id)
        if cur.accept("COMMENT"):
            cur.expect("=")
            table.comment = cur.string()
        elif cur.accept("ADD", "COLUMN"):
            grouped = cur.accept("(")
            columns = [ddl.column_definition(cur)]
            while grouped and cur.accept(","):
                columns.append(ddl.column_definition(cur))
            if grouped:
                cur.expect(")")
            for column in columns:
                if table.column(column.name) is not None:
                    raise EmulatorError(f"Can not add column which already exists in base table: {column.name}")
                table.max_col_unique_id += 1
                column.unique_id = table.max_col_unique_id
                default = f" DEFAULT {self._default_sql(column)}" if column.default is not None else ""
                self.store.execute(f"ALTER TABLE {target} ADD COLUMN {ddl._q(column.name)} "
                                   f"{sqltypes.to_duckdb(column.sr_type)}{default}")
                table.columns.append(column)
        elif cur.accept("DROP", "COLUMN"):
            name = cur.identifier()
            column = table.column(name)
            if column is None:
                raise EmulatorError(f"Column does not exists: {name}")
            if name in table.key_columns and table.keys_type in ("PRIMARY_KEYS", "UNIQUE_KEYS"):
                kind = "primary" if table.keys_type == "PRIMARY_KEYS" else "Unique"
                raise EmulatorError(f"Can not drop key column in {kind} data model table")
            self.store.execute(f"ALTER TABLE {target} DROP COLUMN {ddl._q(name)}")
            table.columns.remove(column)
            table.key_columns = [k for k in table.key_columns if k != name]
        elif cur.accept("MODIFY", "COLUMN"):
            column = ddl.column_definition(cur)
            old = table.column(column.name)
            if old is None:
                raise EmulatorError(f"Column[{column.name}] not exists")
            if sqltypes.to_duckdb(old.sr_type) != sqltypes.to_duckdb(column.sr_type):
                self.store.execute(f"ALTER TABLE {target} ALTER COLUMN {ddl._q(column.name)} TYPE "
                                   f"{sqltypes.to_duckdb(column.sr_type)}")
            column.unique_id = old.unique_id
            table.columns[table.columns.index(old)] = column
        else:
            cur.expect("RENAME", "COLUMN")
            old_name = cur.identifier()
            cur.expect("TO")
            new_name = cur.identifier()
            column = table.column(old_name)
            if column is None:  # ErrorCode.ERR_BAD_FIELD_ERROR's text (the emulator sends the default code)
                raise EmulatorError(f"Unknown column '{old_name}' in '{table.name}'")
            if table.column(new_name) is not None:  # ErrorCode.ERR_DUP_FIELDNAME's text
                raise EmulatorError(f"Duplicate column name '{new_name}'")
            self.store.execute(f"ALTER TABLE {target} RENAME COLUMN {ddl._q(old_name)} TO {ddl._q(new_name)}")
            column.name = new_name
            for names in (table.key_columns, table.partition_columns, table.distribution_columns):
                names[:] = [new_name if n == old_name else n for n in names]

    @staticmethod
    def _default_sql(column: Column) -> str:
        if column.default.upper() == "CURRENT_TIMESTAMP":
            return "CURRENT_TIMESTAMP"
        return "'" + column.default.replace("'", "''") + "'"

    def _replace_partitions(self, cur: Cursor, table: Table) -> None:
        """`REPLACE PARTITION (p, ..) WITH TEMPORARY PARTITION (tp, ..) [PROPERTIES ("strict_range",
        "use_temp_partition_name")]` (`OlapTable.replaceTempPartitions`, 3.5 e223275f): the formal partitions go,
        the temporary ones become formal with their own ids, versions and rows, and take the replaced names when
        as many are replaced and `use_temp_partition_name` is false (the default)."""
        def names() -> list[str]:
            cur.accept("PARTITION") or cur.expect("PARTITIONS")
            cur.expect("(")
            found = [cur.identifier()]
            while cur.accept(","):
                found.append(cur.identifier())
            cur.expect(")")
            return found

        formal_names = names()
        cur.expect("WITH")
        cur.expect("TEMPORARY")
        temp_names = names()
        props = {k.lower(): v.lower() for k, v in (cur.properties() if cur.accept("PROPERTIES") else {}).items()}
        formal = []
        for name in formal_names:
            partition = table.partition(name)
            if partition is None or partition.is_temp:
                raise EmulatorError(f"Partition[{name}] does not exist")
            formal.append(partition)
        temps = []
        for name in temp_names:
            partition = table.partition(name)
            if partition is None or not partition.is_temp:
                raise EmulatorError(f"Temp partition[{name}] does not exist")
            temps.append(partition)
        if props.get("strict_range", "true") == "true" and table.partition_type == "RANGE":
            col = table.column(table.partition_columns[0]).sr_type

            def span(parts) -> tuple:
                lows = [python_value(p.lower[0], col) if p.lower else None for p in parts]
                highs = [python_value(p.upper[0], col) if p.upper else None for p in parts]
                low = None if None in lows else min(lows)
                high = None if None in highs else max(highs)
                return low, high

            if span(formal) != span(temps):
                raise EmulatorError("Range of partitions to be replaced is not equal to range of temp partitions")
        keep_names = props.get("use_temp_partition_name", "false") != "true" and len(formal) == len(temps)
        target = physical(table.id)
        for partition in formal:
            self.store.execute(f"DELETE FROM {target} WHERE __sr_partition = ?", [partition.name])
            table.partitions.remove(partition)
        for index, partition in enumerate(temps):
            partition.is_temp = False
            if keep_names:
                new_name = formal[index].name
                self.store.execute(f"UPDATE {target} SET __sr_partition = ? WHERE __sr_partition = ?",
                                   [new_name, partition.name])
                partition.name = new_name
        refresh_stats(self.store, table)

    def _add_rollup(self, cur: Cursor, table: Table) -> None:
        """`ADD ROLLUP r (c1, c2) [DUPLICATE KEY (..)] [FROM base] [PROPERTIES (..)]` (one rollup per clause)."""
        name = cur.identifier()
        cur.expect("(")
        names = [cur.identifier()]
        while cur.accept(","):
            names.append(cur.identifier())
        cur.expect(")")
        while not cur.done():
            if cur.accept("PROPERTIES"):
                cur.properties()
            elif cur.at("("):
                cur.balanced()
            else:
                cur.next()
        if table.rollup(name) is not None or name == table.name:
            raise EmulatorError(f"Rollup index[{name}] already exists")
        columns, keys = rollup_columns(table, names)
        index = add_rollup_index(self.metastore, table, name, columns, table.keys_type)
        index.key_columns = keys

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
            if table.partition(d.name) is not None:  # CatalogUtils: formal and temporary names share one space
                raise EmulatorError(f"Duplicate partition name {d.name}", 1517)  # ERR_SAME_NAME_PARTITION
            if d.less_than:
                col_type = table.column(table.partition_columns[0]).sr_type
                uppers = [p.upper for p in existing if p.upper is not None and
                          python_value(p.upper[0], col_type) <= python_value(d.upper[0], col_type)] \
                    if d.upper else [p.upper for p in existing if p.upper]
                d.lower = max(uppers, key=lambda u: python_value(u[0], col_type)) if uppers else None
            partition = ddl.new_partition_from_def(self.metastore, table, d)
            partition.is_temp = temporary
            table.partitions.append(partition)


def _set_colocate_group(db: Database, table: Table, group: str) -> None:
    """`ALTER TABLE t SET ("colocate_with" = "g")` (3.5, e223275f78: `AlterJobExecutor` ->
    `ColocateTableIndex.modifyTableColocate`): an empty group takes the table out of its group; a group another
    table of the database already belongs to must match it (`ColocateGroupSchema.checkColocateSchema`: the default
    distribution's bucket number and distribution column count; column types and replication number are not
    checked here), else the DDL fails with that `ErrorCode` (ERR_COLOCATE_TABLE_MUST_HAS_SAME_BUCKET_NUM, 5063,
    "Colocate tables must have same bucket num: %s, with group %s, current info %s"; the group is
    `GroupId.toString`, `dbId.grpId`, the emulator taking the group's first table id as grpId; the info is
    `HashDistributionInfo.toString`). A new group takes the table as it is."""
    if not group:
        table.properties.pop("colocate_with", None)
        return
    member = next((t for t in db.tables.values()
                   if t is not table and t.properties.get("colocate_with") == group), None)
    if member is not None:
        group_id = f"{db.id}.{member.id}"
        info = (f"type: {table.distribution}; distribution columns: ["
                + "".join(f"{c}," for c in table.distribution_columns) + "]; "
                + (f"bucket num: {table.buckets}; " if table.buckets > 0 else ""))
        if table.buckets != member.buckets:
            raise EmulatorError(f"Colocate tables must have same bucket num: {member.buckets}, with group "
                                f"{group_id}, current info {info}", ERR_COLOCATE_TABLE)
        if len(table.distribution_columns) != len(member.distribution_columns):
            raise EmulatorError(f"Colocate tables distribution columns size must be the same : "
                                f"{len(member.distribution_columns)}, with group {group_id}, current info {info}",
                                ERR_COLOCATE_TABLE)
    table.properties["colocate_with"] = group
