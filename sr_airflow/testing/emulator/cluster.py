"""One emulated StarRocks cluster: metastore, rows, repositories and the backup/restore machinery."""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import backupmeta, beconfig, ddl, metareader, versions
from .datastore import PARTITION_COLUMN, DataStore, physical
from .dml import refresh_stats
from .errors import ERR_COMMON_ERROR, EmulatorError, analyzing_error
from .faults import KEYS as FAULT_KEYS
from .faults import Faults
from .javajson import hashmap_order, long_hash
from .jobinfo import physical_partitions
from .jobs import MV_BACKUP_REASON, BackupJob, JobPlan, RestoreJob, plan_from
from .layout import RepoLayout, md5
from .metastore import Column, Database, ExternalCatalog, Function, Metastore, Repository, Table
from .query import Rewriter
from .schema_statements import column_from_duck
from .storage import Redirects, StorageError, open_store
from .versions import DEFAULT_VERSION


@dataclass
class Knobs:
    """Runtime settings, also changed by ADMIN SET FRONTEND CONFIG."""
    min_phase_seconds: float = 0.3
    throughput_mbps: float = 200.0
    be_config: dict[str, str] = dataclasses.field(default_factory=dict)  # beconfig.ITEMS set away from default


@dataclass(frozen=True)
class ClusterOptions:
    data_dir: Path
    version: str = DEFAULT_VERSION
    commit: str = "e5a1b2c"
    password: str = ""
    s3_redirect: Redirects | str | None = None  # a Redirects (s3, gcs, webhdfs) or an S3 endpoint
    knobs: Knobs = dataclasses.field(default_factory=Knobs)


class Cluster:
    def __init__(self, options: ClusterOptions):
        self.options = options
        self.data_dir = Path(options.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.line = versions.release_line(options.version)
        self.physical_ids = versions.distinct_physical_partition_ids(self.line)
        self.metastore = Metastore(self.data_dir / "metastore.json", physical_ids=self.physical_ids)
        self.store = DataStore(self.data_dir / "data.duckdb")
        self.knobs = options.knobs
        self.faults = Faults()
        for key, value in self.metastore.config.items():
            self.set_config(key, value, persist=False)
        self.jobs: dict[str, BackupJob | RestoreJob] = {}
        self.submit_lock = threading.Lock()
        self.start_time = time.time()
        self.stopping = False  # set when the process stops: jobs keep their persisted state

    @property
    def lock(self):
        return self.metastore.lock

    @property
    def full_version(self) -> str:
        return f"{self.options.version}-{self.options.commit}"

    def save(self) -> None:
        self.metastore.save()

    def set_config(self, key: str, value: str, persist: bool = True) -> None:
        if key in FAULT_KEYS:  # faults are one-shot and in memory only
            self.faults.set(key, value)
            return
        try:
            if key == "emulator_min_phase_seconds":
                self.knobs.min_phase_seconds = float(value)
            elif key == "emulator_throughput_mbps":
                self.knobs.throughput_mbps = float(value)
            elif beconfig.item_of(key):
                self.knobs.be_config[beconfig.item_of(key)] = beconfig.check_value(value)
            else:
                raise EmulatorError(f"Config '{key}' does not exist or is not mutable")
        except ValueError as err:
            raise EmulatorError(f"Invalid value for config '{key}': {value}") from err
        if persist:
            with self.lock:
                self.metastore.config[key] = value
                self.save()

    # -- jobs
    def resume_jobs(self) -> None:
        """Jobs that were running when the process stopped carry on from their persisted state (a journal replay)."""
        for key, record in list(self.metastore.jobs.items()):
            if record["state"] in ("FINISHED", "CANCELLED"):
                continue
            record["progress"], record["unfinished"] = {}, {}
            repo = self.metastore.repositories.get(record["repo"])
            if repo is None or "plan" not in record:
                record["status"] = ["COMMON_ERROR", "the emulator restarted while the job was running"]
                record["state"] = "CANCELLED"
                record["finished_time"] = time.time()
                continue
            plan = plan_from(record["plan"])
            if record["type"] == "BACKUP":
                job = BackupJob(self, record, plan, self.layout(repo))
            else:
                job = RestoreJob(self, record, plan, self.layout(repo), None, None)
            job.resume_from = record["state"]
            self.jobs[key] = job
            job.thread.start()
        with self.lock:
            self.save()

    def restore_prepared(self, record: dict, plan: JobPlan) -> bool:
        """Whether PENDING's preparation already happened (target tables in state RESTORE)."""
        with self.lock:
            db = self.metastore.databases.get(record["db_name"])
            return db is not None and any(db.table(t.target) is not None and db.table(t.target).state == "RESTORE"
                                          for t in plan.tables)

    def persist_job(self, record: dict) -> None:
        with self.lock:
            key = str(record["db_id"])
            self.metastore.jobs[key] = record
            self.metastore.save_job(key)

    def running_job(self, db_key: str):
        job = self.jobs.get(db_key)
        return job if job is not None and not job.is_done else None

    # -- repositories
    def repository(self, name: str, analyzer: bool = False) -> Repository:
        repo = self.metastore.repositories.get(name)
        if repo is None:
            # BackupRestoreAnalyzer.analyzeLabelAndRepo (reportSemanticException) / BackupHandler.process
            # (reportDdlException), both ERR_COMMON_ERROR
            if analyzer:
                raise analyzing_error(f"Repository [{name}] does not exist", ERR_COMMON_ERROR)
            raise EmulatorError(f"Repository {name} does not exist", ERR_COMMON_ERROR)
        return repo

    def layout(self, repo: Repository) -> RepoLayout:
        return RepoLayout(open_store(repo.location, repo.properties, self.options.s3_redirect), repo.name, repo.prefix)

    def mark_repo_error(self, repo: Repository, err: Exception) -> None:
        with self.lock:
            repo.err_msg = f"{time.strftime('%Y-%m-%d %H:%M:%S')}: {err}"
            self.save()

    def mark_repo_error_by_name(self, name: str, err: Exception) -> None:
        repo = self.metastore.repositories.get(name)
        if repo is not None:
            self.mark_repo_error(repo, err)

    # -- snapshot (BACKUP at SNAPSHOTING)
    def take_snapshot(self, record: dict, plan: JobPlan, work_dir: Path) -> dict:
        """Copy the rows (Parquet per tablet of every visible index) and versions of the planned objects, and
        their metadata in `__meta`'s form, as of now (`BackupJob.prepareAndSendSnapshotTask`: snapshot tasks per
        physical partition, index and tablet; then "copy all related schema at this moment")."""
        work_dir.mkdir(parents=True, exist_ok=True)
        result: dict = {"tables": {}, "views": {}, "functions": []}
        with self.lock, self.store.lock:
            db = self.metastore.databases.get(record["db_name"])
            if db is None:
                raise EmulatorError(f"Unknown database '{record['db_name']}'")
            for item in plan.tables:
                table = db.table(item.name)
                if table is None:
                    raise EmulatorError(f"Unknown table '{item.name}'")
                refresh_stats(self.store, table)
                planned = [p for p in table.partitions if item.partitions is None or p.name in item.partitions]
                self.store.export_partitions(
                    table, [(p.name, p.tablet_ids, [work_dir / f"{t}_0.dat" for t in p.tablet_ids]) for p in planned],
                    table.distribution_columns)
                base_hash = schema_hash(table.columns)
                entry = {"id": table.id, "name": table.name, "base_index_id": table.base_index_id,
                         "auto_increment_id": self._auto_increment_id(table), "partitions": []}
                for part in planned:
                    indexes = [{"name": table.name, "id": table.base_index_id, "schema_hash": base_hash,
                                "tablets": list(part.tablet_ids)}]
                    for rollup in visible_rollups(table):
                        tablets = part.rollup_tablets.get(str(rollup.id), [])
                        self.store.export_index(table, part.name, [c.name for c in rollup.columns
                                                                   if table.column(c.name) is not None],
                                                [work_dir / f"{t}_0.dat" for t in tablets])
                        indexes.append({"name": rollup.name, "id": rollup.id,
                                        "schema_hash": rollup.schema_hash or schema_hash(rollup.columns),
                                        "tablets": list(tablets)})
                    for index in indexes:
                        for tablet in index["tablets"]:
                            path = work_dir / f"{tablet}_0.dat"
                            header = {"tablet_id": tablet, "partition_id": part.physical_id, "index_id": index["id"],
                                      "version": part.visible_version, "schema_hash": index["schema_hash"],
                                      "data_md5": md5(path.read_bytes())}
                            (work_dir / f"{tablet}.hdr").write_text(json.dumps(header))
                    entry["partitions"].append({"id": part.id, "physical_id": part.physical_id, "name": part.name,
                                                "version": part.visible_version, "indexes": indexes})
                if table.kind == "MATERIALIZED_VIEW":
                    # BackupJob.prepareAndSendSnapshotTask: the copy is set inactive with this reason
                    reason = f"Set the materialized view {table.name} inactive in backup because {MV_BACKUP_REASON}"
                    entry["gson"] = backupmeta.mv_gson(table, planned, db.id, schema_hash, reason, self.line,
                                                       self._base_table_infos(db, table))
                else:
                    entry["gson"] = backupmeta.olap_table_gson(table, planned, db.id, schema_hash, self.line,
                                                               self._related_mvs(db, table))
                result["tables"][item.name] = entry
            for item in plan.views:
                table = db.table(item.name)
                if table is not None:
                    result["views"][item.name] = {"id": table.id, "name": table.name,
                                                  "gson": backupmeta.view_gson(table, self.line)}
            for name in plan.functions:
                function = db.functions.get(name)
                if function is not None:
                    result["functions"].append(backupmeta.function_gson(function, db.name, self.metastore.new_id()))
        return result

    def _base_table_infos(self, db: Database, mv: Table) -> list[dict]:
        """`MaterializedView.baseTableInfos`: `BaseTableInfo` (catalogName, dbId, tableId, dbName, tableName)."""
        found = []
        try:
            bases = Rewriter(self.metastore, db.name).referenced_tables(mv.query_sql)
        except EmulatorError:
            return found
        for db_name, name in bases:
            base_db = self.metastore.databases.get(db_name)
            base = base_db.table(name) if base_db is not None else None
            if base is not None:
                found.append({"catalogName": "default_catalog", "dbId": base_db.id, "tableId": base.id,
                              "dbName": db_name, "tableName": name})
        return found

    def _related_mvs(self, db: Database, table: Table) -> list[dict]:
        """`Table.relatedMaterializedViews` (`mvs`): the asynchronous MVs of this database reading the table."""
        found = []
        for other in db.tables.values():
            if other.kind != "MATERIALIZED_VIEW" or other.refresh == "ROLLUP":
                continue
            try:
                bases = Rewriter(self.metastore, db.name).referenced_tables(other.query_sql)
            except EmulatorError:
                continue
            if (db.name, table.name) in [(d, n) for d, n in bases]:
                found.append({"dbId": db.id, "id": other.id})
        return found

    def _auto_increment_id(self, table: Table) -> int | None:
        """`BackupJobInfo.fromCatalog`: the table's current auto-increment id when a base column is
        AUTO_INCREMENT, else null (and then left out of the job info)."""
        if not any(c.auto_increment for c in table.columns):
            return None
        return table.auto_increment_id or None

    def external_catalog_dicts(self, names: list[str]) -> list[dict]:
        with self.lock:
            existing = self.metastore.external_catalogs
            return [backupmeta.catalog_gson(existing[n]) for n in names if n in existing]

    # -- restore
    def prepare_restore(self, record: dict, plan: JobPlan, meta: dict, info: dict) -> list[tuple[str, str]]:
        """Check the targets against the snapshot, create the db, tables and partitions (PENDING). Returns the
        tables created; the partitions added to existing tables go to `record["added_partitions"]` (both are what
        a cancel drops again)."""
        created: list[tuple[str, str]] = []
        added: list[list[str]] = []
        tables = meta["tblNameMap"]
        replicas = int(record["replication_num"])
        with self.lock, self.store.lock:
            db = self.metastore.databases.get(record["db_name"])
            for item in list(plan.tables):
                source = metareader.table_from_gson(tables[item.name])
                existing = db.table(item.target) if db else None
                if existing is None:
                    continue
                if existing.kind == "MATERIALIZED_VIEW" and source.kind == existing.kind and existing.is_active:
                    plan.tables.remove(item)  # an existing active MV is left as it is
                    continue
                if existing.kind != source.kind or existing.keys_type != source.keys_type:
                    raise EmulatorError(f"Table {item.target} already exist but with different key type")
                if existing.state != "NORMAL":
                    raise EmulatorError(f"Table {item.target}'s state is not NORMAL: {existing.state}")
                _check_schema(item.target, existing, source)
                for part in source.partitions:
                    if item.partitions is not None and part.name not in item.partitions:
                        continue
                    mine = existing.partition(part.name)
                    if mine is not None and (mine.lower, mine.upper, mine.values) != (part.lower, part.upper,
                                                                                       part.values):
                        raise EmulatorError(f"Partition {part.name} in table {item.target} has different range "
                                            "with partition in repository")
                    if mine is None and not _is_range(existing):
                        # RestoreJob.checkAndPrepareMeta (3.5 e223275f): a partition absent from an existing table
                        # is added only to a range-partitioned one (isRangePartition); otherwise the job fails
                        raise EmulatorError("No partition exist in single partitioned table " + item.target)
                    if mine is not None and existing.replication_num != replicas:
                        # RestoreJob.genFileMappingWhenBackupReplicasEqual (3.3 1a2f1f5d75 to 4.0 312b0d9e): an
                        # existing partition is overwritten only at the RESTORE's replication_num
                        raise EmulatorError(f"Partition {part.name} in table {item.target} has different "
                                            f"replication num '{existing.replication_num}' with partition in "
                                            f"repository, which is {replicas}")
            for item in plan.views:
                existing = db.table(item.target) if db else None
                if existing is not None and existing.kind != "VIEW":
                    raise _BadReplace(f"Table: {item.target} has existed and it is not a View")
            if db is None:
                db = Database(id=self.metastore.new_id(), name=record["db_name"])
                self.metastore.databases[db.name] = db
            for item in plan.tables:
                source = metareader.table_from_gson(tables[item.name])
                existing = db.table(item.target)
                if existing is None:
                    table = self._new_table_like(source, item.target, item.partitions, replicas)
                    db.tables[table.name] = table
                    self.store.create(table)
                    created.append((db.name, table.name))
                else:
                    for part in source.partitions:
                        if (item.partitions is None or part.name in item.partitions) and \
                                existing.partition(part.name) is None:
                            # RestoreJob.resetPartitionForRestore: its tablets get the RESTORE's replicas
                            existing.partitions.append(self.metastore.new_partition(
                                part.name, existing.buckets, table=existing, replicas=replicas, lower=part.lower,
                                upper=part.upper, values=part.values))
                            added.append([existing.name, part.name])
                    existing.state = "RESTORE"
                db.tables[item.target].state = "RESTORE"
            record["added_partitions"] = added
            self.save()
        return created

    def _new_table_like(self, source: Table, name: str, partitions: list[str] | None, replicas: int) -> Table:
        """A table created by RESTORE from the snapshot's copy: new ids for the table, its indexes, partitions and
        tablets (`RestoreJob` resets the ids of the copy, `OlapTable.resetIdsForRestore`); the restored
        partitions only, formal ones (a snapshot never holds temporary partitions).

        Its replication_num is the RESTORE's (`replicas`), not the backed-up one: `resetIdsForRestore(..,
        restoreReplicationNum, ..)` sets every partition's and the table property's (`setReplicationNum`), and
        creates that many replicas per tablet (3.3 1a2f1f5d75 to 4.0 312b0d9e). The RESTORE's value is its
        `replication_num` property, else `RunMode.defaultReplicationNum()` = `Config.default_replication_num`, 3
        on a shared-nothing cluster (`BackupRestoreAnalyzer`, `RestoreStmt`). SHOW CREATE TABLE and
        `tables_config.PROPERTIES` print it (`OlapTable.getCommonProperties`: `getDefaultReplicationNum`)."""
        table = copy.deepcopy(source)
        table.properties["replication_num"] = str(replicas)
        table.id = self.metastore.new_id()
        table.name = name
        table.base_index_id = self.metastore.new_id()
        for rollup in table.rollups:
            rollup.id = self.metastore.new_id()
        table.create_time = time.time()
        table.state = "NORMAL"
        table.partitions = [self.metastore.new_partition(p.name, table.buckets, table=table, lower=p.lower,
                                                       upper=p.upper, values=p.values)
                            for p in source.partitions
                            if not p.is_temp and (partitions is None or p.name in partitions)]
        return table

    def commit_restore(self, record: dict, plan: JobPlan, meta: dict, info: dict, work_dir: Path) -> None:
        """Swap the downloaded rows in, set the backed-up versions, recreate views, functions, MVs."""
        tables = meta["tblNameMap"]
        with self.lock, self.store.transaction():
            db = self.metastore.databases[record["db_name"]]
            for item in plan.tables:
                table = db.table(item.target)
                obj = info["backup_objects"].get(item.name, {"partitions": {}})
                for pname, part in obj["partitions"].items():
                    if item.partitions is not None and pname not in item.partitions:
                        continue
                    files = []
                    for _, _, indexes in physical_partitions(part):
                        base = indexes.get(item.name) or next(iter(indexes.values()), None)
                        if base is not None:  # the base index: rollups are computed from its rows
                            files += [work_dir / f"{t}_0.dat" for t in base["tablets_order"]]
                    self.store.replace_partition(table, pname, files)
                    mine = table.partition(pname)
                    mine.visible_version = part["version"]
                    mine.visible_version_time = time.time()
                refresh_stats(self.store, table)
                table.state = "NORMAL"
                if table.kind == "MATERIALIZED_VIEW":
                    table.is_active = False
                    table.inactive_reason = tables[item.name].get("inactiveReason", "")
                for rollup in table.rollups:  # synchronous MVs are indexes of their base table
                    if rollup.is_mv:
                        rollup.view_define_sql = renamed_table(rollup.view_define_sql, item.name, item.target,
                                                               db.name)
                    if rollup.is_mv and db.table(rollup.name) is None:
                        db.tables[rollup.name] = self.sync_mv_table(db, table, rollup)
            for item in plan.views:
                view = metareader.table_from_gson(tables[item.name])
                view.id = self.metastore.new_id()
                view.name = item.target
                db.tables[view.name] = view
            for data in meta.get("functions", []):
                if data["name"]["fn"] in plan.functions:
                    db.functions[data["name"]["fn"]] = metareader.function_from_gson(data)
            for item in plan.tables:
                table = db.table(item.target)
                if table.kind == "MATERIALIZED_VIEW" and table.refresh != "ROLLUP":
                    self.activate_after_restore(db, table)
            self.save()

    def sync_mv_table(self, db: Database, base: Table, rollup) -> Table:
        """The metastore entry of a synchronous MV (an index of `base`): queried through its SELECT."""
        columns = [Column(name=c.name, sr_type=c.sr_type, nullable=c.nullable) for c in rollup.columns]
        try:
            duck = Rewriter(self.metastore, db.name).select_sql(rollup.view_define_sql)
            columns = [column_from_duck(name, typ) for name, typ, *_ in self.store.fetchall(f"DESCRIBE {duck}")]
        except EmulatorError:
            pass  # its SELECT cannot be read here: keep the index columns
        return Table(id=rollup.id, name=rollup.name, kind="MATERIALIZED_VIEW", columns=columns,
                     query_sql=rollup.view_define_sql, refresh="ROLLUP", create_time=time.time(),
                     base_index_id=rollup.id, sync_base=base.name)

    def activate_after_restore(self, db: Database, mv: Table) -> None:
        rewriter = Rewriter(self.metastore, db.name)
        missing = []
        try:
            for db_name, name in rewriter.referenced_tables(mv.query_sql):
                target = self.metastore.databases.get(db_name)
                if target is None or target.table(name) is None:
                    missing.append(f"{db_name}.{name}")
        except EmulatorError as err:
            missing.append(err.message)
        if missing:
            mv.is_active = False
            mv.inactive_reason = (f"Cannot active the materialized view {mv.name} after restore, please check "
                                  f"whether its base table has already been backup or restore:"
                                  f"{', '.join(missing)}")
        else:
            mv.is_active = True
            mv.inactive_reason = ""

    def undo_restore(self, record: dict, created: list[tuple[str, str]], plan: JobPlan) -> None:
        """What a cancelled restore undoes, in any state before FINISHED (COMMITTING included):
        `RestoreJob.cancelInternal` (3.3 1a2f1f5d75 to 4.0 312b0d9e) sets the restored tables that exist back to
        NORMAL (`setTableStateToNormal`), drops the tables it created (`restoredTbls`: `db.dropTable`) and the
        partitions it added to existing tables (`restoredPartitions`: `dropPartition`). The partitions of an
        existing table it overwrote stay (StarRocks' MOVE tasks may already have replaced their tablets)."""
        with self.lock, self.store.lock:
            for db_name, name in created:
                db = self.metastore.databases.get(db_name)
                if db and name in db.tables:
                    self.store.drop(db.tables.pop(name).id)
            db = self.metastore.databases.get(record["db_name"])
            if db:
                for table_name, partition_name in record.get("added_partitions", []):
                    table = db.table(table_name)
                    partition = table.partition(partition_name) if table is not None else None
                    if partition is not None:
                        self.store.execute(f"DELETE FROM {physical(table.id)} WHERE {PARTITION_COLUMN} = ?",
                                           [partition_name])
                        table.partitions.remove(partition)
                for item in plan.tables:
                    table = db.table(item.target)
                    if table is not None:
                        table.state = "NORMAL"
            self.save()

    def restore_catalogs(self, meta: dict, plan: JobPlan) -> None:
        with self.lock:
            for data in meta.get("catalogs", []):
                for name, target in plan.external_catalogs:
                    if data["name"] == name:
                        catalog = metareader.catalog_from_gson(data)
                        catalog.name = target
                        catalog.id = self.metastore.new_id()
                        self.metastore.external_catalogs[target] = catalog
            self.save()

    # -- small helpers used by the frontend
    def drop_table_data(self, table: Table) -> None:
        if table.has_data:
            self.store.drop(table.id)

    def new_function(self, db: Database, function: Function) -> None:
        db.functions[function.name] = function

    def new_external_catalog(self, catalog: ExternalCatalog) -> None:
        self.metastore.external_catalogs[catalog.name] = catalog

    def close(self) -> None:
        self.store.close()


class _BadReplace(EmulatorError):
    status_code = "BAD_REPLACE"


def schema_hash(columns: list[Column]) -> int:
    """An index's schema hash (the emulator's own digest of the columns, not StarRocks' `Util.schemaHash`)."""
    digest = md5(json.dumps(ddl.schema_signature(Table(0, "", "OLAP", columns=list(columns)))).encode())
    return int(digest[:8], 16) & 0x7FFFFFFF


def renamed_table(query: str, old: str, new: str, db_name: str) -> str:
    """A synchronous MV's SELECT over its base table restored as `db_name.new` (`RESTORE .. DATABASE a AS b ON
    (TABLE t AS new)`)."""
    from sqlglot import exp

    from .query import parse

    tree = parse(query)
    for node in tree.find_all(exp.Table):
        if node.name == old:
            node.set("this", exp.to_identifier(new))
            if node.db:
                node.set("db", exp.to_identifier(db_name))
    return tree.sql(dialect="starrocks")


def visible_rollups(table: Table) -> list:
    """The rollup indexes in `PhysicalPartition.getMaterializedIndices(VISIBLE)` order after the base index:
    `idToVisibleRollupIndex.values()`, a `HashMap<Long, MaterializedIndex>`."""
    by_id = {r.id: r for r in table.rollups}
    return [by_id[i] for i in hashmap_order(by_id, long_hash)]




def _is_range(table: Table) -> bool:
    """`PartitionInfo.isRangePartition`: RANGE, and expression partitioning by a time function
    (`ExpressionRangePartitionInfo`); LIST, column expressions (`ListPartitionInfo`) and unpartitioned tables
    are not."""
    return table.partition_type == "RANGE" or (table.partition_type == "EXPR" and bool(table.partition_function))


def _check_schema(name: str, existing: Table, source: Table) -> None:
    mine, theirs = existing.columns, source.columns
    if len(mine) != len(theirs):
        raise EmulatorError(f"Table {name} already exist but with different schema, errMsg: column count "
                            f"{len(mine)} is different from {len(theirs)} in backup snapshot")
    for a, b in zip(mine, theirs, strict=False):
        if ddl.schema_signature(Table(0, "", "OLAP", columns=[a])) != \
                ddl.schema_signature(Table(0, "", "OLAP", columns=[b])):
            raise EmulatorError(f"Table {name} already exist but with different schema, column: {a.name} in "
                                "existed table is different from the column in backup snapshot, "
                                f"column: {b.name}")


def physical_name(table: Table) -> str:
    return physical(table.id)


def storage_error(err: StorageError) -> str:
    return str(err)
