"""Repositories, BACKUP, RESTORE, CANCEL and their SHOW statements: checks and exact texts of StarRocks."""

from __future__ import annotations

import json
import time

from . import versions
from .errors import (
    ERR_BAD_DB_ERROR,
    ERR_COMMON_ERROR,
    ERR_NOT_OLAP_TABLE,
    ERR_WRONG_TABLE_NAME,
    analyzing_error,
    ddl_error,
)
from .jobinfo import brief_of, brief_text
from .jobs import BackupJob, JobPlan, RestoreJob, TablePlan, restore_objs, show_backup_row, show_restore_row
from .layout import format_time
from .metareader import read_meta
from .metastore import Database, Repository
from .statements import BackupRestoreStmt, CreateRepositoryStmt, ObjectRef, node_position
from .storage import StorageError

BACKUP_COLUMNS = ["JobId", "SnapshotName", "DbName", "State", "BackupObjs", "CreateTime", "SnapshotFinishedTime",
                  "UploadFinishedTime", "FinishedTime", "UnfinishedTasks", "Progress", "TaskErrMsg", "Status",
                  "Timeout"]
RESTORE_COLUMNS = ["JobId", "Label", "Timestamp", "DbName", "State", "AllowLoad", "ReplicationNum", "RestoreObjs",
                   "CreateTime", "MetaPreparedTime", "SnapshotFinishedTime", "DownloadFinishedTime", "FinishedTime",
                   "UnfinishedTasks", "Progress", "TaskErrMsg", "Status", "Timeout"]
REPO_COLUMNS = ["RepoId", "RepoName", "CreateTime", "IsReadOnly", "Location", "Broker", "ErrMsg"]
DEFAULT_TIMEOUT = 86400
CATALOG_DB_KEY = "-1"
NULL_STRING = "\\N"  # FeConstants.NULL_STRING
# Error replies follow errors.py: `ddl_error` for BackupHandler's `ErrorReport.reportDdlException(ERR_COMMON_ERROR,
# ..)` (bare text, 5064 / 42000), `analyzing_error(.., ERR_COMMON_ERROR)` for BackupRestoreAnalyzer's /
# RepositoryAnalyzer's / ShowSnapshotAnalyzer's `ErrorReport.reportSemanticException`, `analyzing_error(..)`
# (1064 / HY000) for their `new SemanticException(..)`. Read at 3.5 e223275f78; the same paths at 3.3, 3.4 and 4.0.


class BackupRestore:
    def __init__(self, cluster):
        self.cluster = cluster

    # -- repositories
    def create_repository(self, stmt: CreateRepositoryStmt) -> None:
        cluster = self.cluster
        if not stmt.location:  # RepositoryAnalyzer.visitCreateRepositoryStatement: new SemanticException
            raise analyzing_error("You must specify a location on the repository")
        # BackupHandler.createRepository: "Failed to create repository: " + the RepositoryMgr status
        if stmt.name in cluster.metastore.repositories:
            raise ddl_error(f"Failed to create repository: repository with same name already exist: {stmt.name}")
        repo = Repository(id=cluster.metastore.new_id(), name=stmt.name, create_time=time.time(),
                          read_only=stmt.read_only, location=stmt.location, broker=stmt.broker,
                          properties=dict(stmt.properties))
        try:
            repo.prefix = cluster.layout(repo).init_repository(stmt.name)
        except StorageError as err:
            raise ddl_error(f"Failed to create repository: {err}") from err
        with cluster.lock:
            if stmt.name in cluster.metastore.repositories:
                raise ddl_error(f"Failed to create repository: repository with same name already exist: {stmt.name}")
            cluster.metastore.repositories[stmt.name] = repo
            cluster.save()

    def drop_repository(self, name: str) -> None:
        cluster = self.cluster
        with cluster.lock:
            if name not in cluster.metastore.repositories:  # RepositoryAnalyzer.visitDropRepositoryStatement
                raise analyzing_error("Repository does not exist", ERR_COMMON_ERROR)
            if any(not job.is_done and job.record["repo"] == name for job in cluster.jobs.values()):
                raise ddl_error("Backup or restore job is running on this repository. Can not drop it")
            del cluster.metastore.repositories[name]
            cluster.save()

    def show_repositories(self) -> tuple[list, list]:
        rows = []
        for repo in sorted(self.cluster.metastore.repositories.values(), key=lambda r: r.id):
            rows.append([str(repo.id), repo.name, format_time(repo.create_time), str(repo.read_only).lower(),
                         repo.location, repo.broker, repo.err_msg])
        return rows, REPO_COLUMNS

    # -- BACKUP
    def backup(self, stmt: BackupRestoreStmt, current_db: str | None, check=None) -> None:
        cluster = self.cluster
        plan = JobPlan()
        # the analyzer returns before analyzeLabelAndRepo; BackupHandler.process checks it
        if stmt.is_external_catalog_job:
            existing = cluster.metastore.external_catalogs
            names = sorted(existing) if stmt.all_external_catalogs else [c.name for c in stmt.external_catalogs]
            for name in names:
                if name not in existing:  # CatalogRef.analyzeForBackup
                    raise analyzing_error(f"external catalog {name} does not existed.", ERR_COMMON_ERROR)
            plan.external_catalogs = [(n, n) for n in names]
            props = _backup_properties(stmt.properties)
            repo = cluster.repository(stmt.repo)
            db_name, db_id, db_key, objs = "", -1, CATALOG_DB_KEY, ""
            if check is not None:  # USAGE on each catalog (spec §9)
                check(db_name, plan)
        else:
            # BackupRestoreAnalyzer.visitBackupStatement: the database, the repository, the objects, the properties
            db_name = stmt.db or current_db
            if not db_name:
                raise analyzing_error("No database selected")
            db = cluster.metastore.databases.get(db_name)
            if db is None:  # getDatabase: reportSemanticException(ERR_BAD_DB_ERROR, db)
                raise analyzing_error(f"Unknown database '{db_name}'", ERR_BAD_DB_ERROR)
            repo = cluster.repository(stmt.repo, analyzer=True)
            plan, objs = _backup_plan(stmt, db, cluster.line)
            props = _backup_properties(stmt.properties)
            db_id, db_key = db.id, str(db.id)
            if check is not None:  # privileges on the objects (spec §9)
                check(db_name, plan)
        if repo.read_only:
            raise ddl_error(f"Repository {repo.name} is read only")
        layout = cluster.layout(repo)
        try:
            exists = layout.snapshot_exists(stmt.label)
        except StorageError as err:
            cluster.mark_repo_error(repo, err)
            # BackupHandler.backup: reportDdlException(ERR_COMMON_ERROR, <the listSnapshots status message>)
            raise ddl_error(f"Failed to get snapshot info from repository: {err}") from err
        if exists:
            if props["type"] == "INCREMENTAL":
                raise ddl_error("Currently does not support incremental backup")
            raise ddl_error(f"Snapshot with name '{stmt.label}' already exist in repository")
        with cluster.submit_lock:
            if cluster.running_job(db_key):
                raise ddl_error("Can only run one backup or restore job of external catalog"
                                if db_key == CATALOG_DB_KEY else
                                "Can only run one backup or restore job of a database at same time")
            record = _record("BACKUP", cluster.metastore.new_id(), stmt.label, db_name, db_id, repo.name,
                             props["timeout"], objs)
            job = BackupJob(cluster, record, plan, layout)
            cluster.jobs[db_key] = job
            job.start()

    # -- RESTORE
    def restore(self, stmt: BackupRestoreStmt, current_db: str | None, check=None) -> None:
        cluster = self.cluster
        # BackupRestoreAnalyzer.visitRestoreStatement checks the names and the properties, not the repository
        # (BackupHandler.process)
        _check_restore_names(stmt)
        props = _restore_properties(stmt.properties)
        repo = cluster.repository(stmt.repo)
        layout = cluster.layout(repo)
        stamp = props["backup_timestamp"]
        base = layout.snapshot_dir(stmt.label)
        try:
            info = json.loads(layout.download(f"{base}/__info_{stamp}"))
            meta = read_meta(layout.download(f"{base}/__meta"))
        except StorageError as err:
            raise ddl_error(f"Failed to get info of snapshot '{stmt.label}' because: {err}. Maybe specified "
                            "wrong backup timestamp") from err
        plan = JobPlan()
        if stmt.is_external_catalog_job:
            available = [c["name"] for c in meta.get("catalogs", [])]
            refs = [(n, n) for n in available] if stmt.all_external_catalogs else [(c.name, c.alias or c.name)
                                                                           for c in stmt.external_catalogs]
            for name, _ in refs:
                if name not in available:  # BackupHandler.checkAndFilterRestoreCatalogsInBackupMeta
                    raise ddl_error(f"Can not find restore catalog: {name}")
            plan.external_catalogs = refs
            db_name, db_id, db_key, objs = "", -1, CATALOG_DB_KEY, ""
        else:
            # BackupHandler.restore: only `DATABASE a` is checked against the snapshot; the target is `AS b`, else
            # the label's prefix or `a`, else the snapshot's database (the session's database is not read)
            if stmt.origin_db and stmt.origin_db != info["database"]:
                raise ddl_error(f"target database: {stmt.origin_db} is not existed in snapshot")
            db_name = stmt.new_db or stmt.db or info["database"]
            plan = _restore_plan(stmt, info, meta)
            objs = restore_objs(info, meta, plan)
            if check is not None:  # privileges on the target (spec §9), before the database is created
                check(db_name, plan)
            with cluster.lock:
                db = cluster.metastore.databases.get(db_name)
                if db is None and not versions.restore_creates_database(cluster.line):
                    # 3.3 BackupHandler.process: reportDdlException(ERR_BAD_DB_ERROR, dbName)
                    raise ddl_error(f"Unknown database '{db_name}'", ERR_BAD_DB_ERROR)
                if db is None:  # a missing target database is created when the job is submitted
                    db = Database(id=cluster.metastore.new_id(), name=db_name)
                    cluster.metastore.databases[db_name] = db
                    cluster.save()
            db_id, db_key = db.id, str(db.id)
        with cluster.submit_lock:
            if cluster.running_job(db_key):
                raise ddl_error("Can only run one backup or restore job of external catalog"
                                if db_key == CATALOG_DB_KEY else
                                "Can only run one backup or restore job of a database at same time")
            record = _record("RESTORE", cluster.metastore.new_id(), stmt.label, db_name, db_id, repo.name,
                             props["timeout"], objs)
            record.update(backup_timestamp=stamp, allow_load=props["allow_load"],
                          replication_num=props["replication_num"])
            job = RestoreJob(cluster, record, plan, layout, info, meta)
            cluster.jobs[db_key] = job
            job.start()

    # -- CANCEL
    def cancel(self, is_backup: bool, db_name: str | None, for_catalog: bool, check=None) -> None:
        cluster = self.cluster
        if for_catalog:
            db_key = CATALOG_DB_KEY
        else:
            if not db_name:
                raise analyzing_error("No selected database for cancel BACKUP/RESTORE")
            db = cluster.metastore.databases.get(db_name)
            if db is None:  # BackupHandler.getAbstractJobByDbName: reportDdlException(ERR_BAD_DB_ERROR, db)
                raise ddl_error(f"Unknown database '{db_name}'", ERR_BAD_DB_ERROR)
            db_key = str(db.id)
        job = cluster.jobs.get(db_key)
        record = job.record if job is not None else cluster.metastore.jobs.get(db_key)
        kind = "BACKUP" if is_backup else "RESTORE"
        # BackupHandler.cancel (3.5 e223275f): the database's latest job of the other kind, or none, is "not
        # running"; a finished one answers the job's own cancel() status (BackupJob/RestoreJob.cancel: isDone()).
        # Both refusals are ErrorReport.reportDdlException(ERR_COMMON_ERROR, ..): ERROR 5064 (42000). A restore at
        # COMMITTING is not done: RestoreJob.cancel takes it (3.3 1a2f1f5d75 to 4.0 312b0d9e).
        if record is None or record["type"] != kind:
            raise ddl_error("No backup job is currently running" if is_backup else "No restore is currently running")
        if job is None or job.is_done:
            raise ddl_error(f"Failed to cancel job: Job with label {record['label']} can not be cancelled. "
                            f"state: {record['state']}")
        if check is not None:
            check(job.record)
        job.cancel("user cancelled" if is_backup else f"user cancelled, current state: {job.state}")

    # -- SHOW BACKUP / RESTORE / SNAPSHOT
    def show_jobs(self, is_backup: bool, db_name: str | None, visible=None) -> tuple[list, list]:
        cluster = self.cluster
        kind = "BACKUP" if is_backup else "RESTORE"
        if db_name:
            db = cluster.metastore.databases.get(db_name)
            if db is None:  # BackupRestoreAnalyzer.visitShowBackupStatement / visitShowRestoreStatement: getDatabase
                raise analyzing_error(f"Unknown database '{db_name}'", ERR_BAD_DB_ERROR)
            keys = [str(db.id)]
        else:
            keys = list(cluster.metastore.jobs)
        rows = []
        for key in keys:
            job = cluster.jobs.get(key)
            record = dict(job.record) if job is not None else cluster.metastore.jobs.get(key)
            if record and record["type"] == kind and (visible is None or visible(record)):
                rows.append(show_backup_row(record) if is_backup else show_restore_row(record))
        return rows, BACKUP_COLUMNS if is_backup else RESTORE_COLUMNS

    def show_snapshot(self, repo_name: str, names: str | list[str] | None, timestamp: str | None):
        """`Repository.getSnapshotInfos` (3.5 e223275f): `SNAPSHOT = 'x'` reads that snapshot's `__info_*` files
        without listing the repository (a missing one is the row `x | <empty> | ERROR: no snapshot`); no name or
        `SNAPSHOT IN (..)` lists the snapshots; with a TIMESTAMP the job info's brief form
        (`BackupJobInfo.getBrief`) is the Details. Failures show `\\N` (`FeConstants.NULL_STRING`)."""
        cluster = self.cluster
        repo = cluster.metastore.repositories.get(repo_name)
        if repo is None:  # ShowSnapshotAnalyzer: reportSemanticException(ERR_COMMON_ERROR, ..)
            raise analyzing_error(f"Repository [{repo_name}] does not exist", ERR_COMMON_ERROR)
        layout = cluster.layout(repo)
        if timestamp is not None:
            label = names if isinstance(names, str) else (names or [""])[0]
            titles = ["Snapshot", "Timestamp", "Database", "Details", "Status"]
            try:
                info = json.loads(layout.download(f"{layout.snapshot_dir(label)}/__info_{timestamp}"))
            except StorageError as err:
                return [[label, timestamp, NULL_STRING, NULL_STRING, f"Failed to get info: {err}"]], titles
            return [[label, timestamp, info["database"], brief_text(brief_of(info)), "OK"]], titles
        if isinstance(names, str):
            labels = [names]
        else:
            try:
                labels = layout.snapshot_names()
            except StorageError as err:
                cluster.mark_repo_error(repo, err)
                # Repository.getSnapshotInfos: new SemanticException, thrown while ShowExecutor runs the statement
                raise analyzing_error(f"Failed to list snapshot in repo: {repo_name}, err: {err}") from err
            if names:
                labels = [n for n in labels if n in names]
        rows = []
        for label in labels:
            try:
                stamps = layout.info_timestamps(label)
            except StorageError as err:
                rows.append([label, NULL_STRING, f"ERROR: Failed to get info: {err}"])
                continue
            rows.append([label, "\n".join(stamps), "OK" if stamps else "ERROR: no snapshot"])
        return rows, ["Snapshot", "Timestamp", "Status"]


def _record(kind: str, job_id: int, label: str, db_name: str, db_id: int, repo: str, timeout: int,
            objs: str) -> dict:
    return {"id": job_id, "type": kind, "label": label, "db_name": db_name, "db_id": db_id, "repo": repo,
            "state": "PENDING", "create_time": time.time(), "status": ["OK", ""], "timeout": timeout,
            "objects": objs, "progress": {}, "unfinished": {}, "task_err": {}}


def _timeout(props: dict[str, str]) -> int:
    if "timeout" not in props:
        return DEFAULT_TIMEOUT
    try:
        value = int(props["timeout"])
    except ValueError as err:
        raise analyzing_error(f"Invalid timeout format: {props['timeout']}", ERR_COMMON_ERROR) from err
    if value < 600:
        raise analyzing_error("timeout must be at least 10 min", ERR_COMMON_ERROR)
    return value


def _backup_properties(props: dict[str, str]) -> dict:
    unknown = [k for k in props if k not in ("timeout", "type")]
    if unknown:
        raise analyzing_error(f"Unknown backup job properties: [{', '.join(unknown)}]", ERR_COMMON_ERROR)
    kind = props.get("type", "FULL").upper()
    if kind not in ("FULL", "INCREMENTAL"):
        raise analyzing_error(f"Invalid backup job type: {props['type']}", ERR_COMMON_ERROR)
    return {"timeout": _timeout(props), "type": kind}


def _restore_properties(props: dict[str, str]) -> dict:
    allowed = ("backup_timestamp", "timeout", "allow_load", "replication_num", "meta_version",
               "starrocks_meta_version")
    unknown = [k for k in props if k not in allowed]
    if unknown:
        raise analyzing_error(f"Unknown restore job properties: [{', '.join(unknown)}]", ERR_COMMON_ERROR)
    if "backup_timestamp" not in props:
        raise analyzing_error("Missing backup_timestamp property", ERR_COMMON_ERROR)
    allow = props.get("allow_load", "false").lower()
    if allow not in ("true", "false"):
        raise analyzing_error(f"Invalid allow load value: {props['allow_load']}", ERR_COMMON_ERROR)
    for key in ("meta_version", "starrocks_meta_version", "replication_num"):
        if key in props:
            try:
                int(props[key])
            except ValueError as err:
                # BackupRestoreAnalyzer.parseInt reads all three with one text
                raise analyzing_error(f"Invalid meta version format: {props[key]}", ERR_COMMON_ERROR) from err
    return {"timeout": _timeout(props), "backup_timestamp": props["backup_timestamp"],
            "allow_load": allow == "true", "replication_num": int(props.get("replication_num", "3"))}


def _backup_plan(stmt: BackupRestoreStmt, db, line: tuple[int, int]) -> tuple[JobPlan, str]:
    """The objects a BACKUP names, checked as BackupRestoreAnalyzer.analyzeTableRef / FunctionRef.analyzeForBackup
    and then BackupHandler.backup check them (3.5 e223275f78; 3.3 1a2f1f5d75 where it differs)."""
    plan = JobPlan()
    refs: list[str] = []
    data_tables = [t for t in db.tables.values() if t.has_data]
    views = [t for t in db.tables.values() if t.kind == "VIEW"]

    def add_view(view) -> None:
        if not versions.has_object_backup_syntax(line):  # 3.3 BackupHandler.backup: isOlapTableOrMaterializedView
            raise ddl_error(f"Table '{view.name}' is not a OLAP table", ERR_NOT_OLAP_TABLE)
        plan.views.append(TablePlan(view.name, view.name))
        refs.append(f"[{db.name}.{view.name}]")

    def add_table(table, ref: ObjectRef | None = None) -> None:
        partitions, temporary = (ref.partitions, ref.temporary) if ref is not None else ((), False)
        # analyzeTableRef: new SemanticException(.., pos) (1064): the PARTITION clause's / the table name's position
        for name in partitions:
            if table.partition(name) is None:
                raise analyzing_error(f"partition[{name}] does not exist  in table{table.name}",
                                      position=node_position(stmt.sql, ref.partitions_span))
        if any(t.name == table.name for t in plan.tables):
            position = node_position(stmt.sql, ref.name_span) if ref is not None else ""
            raise analyzing_error(f"Duplicated table: {table.name}", position=position)
        # BackupHandler.backup: ErrorReport.reportDdlException(ERR_COMMON_ERROR, ..)
        if any(p.is_temp for p in table.partitions):
            raise ddl_error("Do not support backing up table with temp partitions")
        if temporary:
            raise ddl_error("Do not support backing up temp partitions")
        plan.tables.append(TablePlan(table.name, table.name, list(partitions) if partitions else None))
        suffix = ""
        if partitions:
            suffix = ("TEMPORARY " if temporary else "") + "PARTITIONS (" + ", ".join(partitions) + ")"
        refs.append(f"[{db.name}.{table.name}{suffix}]")

    def named(name: str):
        """The table, MV or view a name refers to; a synchronous MV is an index, no table (getTable is null)."""
        table = db.table(name)
        if table is None or not (table.has_data or table.kind == "VIEW"):
            # analyzeTableRef: new SemanticException(ERR_WRONG_TABLE_NAME.formatErrorMsg(..)), no code set
            raise analyzing_error(f"Incorrect table name '{name}'")
        return table

    if not stmt.has_on:
        if not db.tables and not db.functions:  # the emulator's own refusal (see docs/emulator.md)
            raise analyzing_error(f"Database: {db.name} is empty")
        if views and not versions.has_object_backup_syntax(line):
            # 3.3 BackupRestoreAnalyzer.visitBackupStatement takes every table of the database (`db.getTables()`,
            # views too, in name order); BackupHandler.backup then refuses the view: ERR_NOT_OLAP_TABLE
            add_view(min(views, key=lambda v: v.name.lower()))
        for table in sorted(data_tables, key=lambda t: t.id):
            add_table(table)
        for view in sorted(views, key=lambda t: t.id):
            plan.views.append(TablePlan(view.name, view.name))
            refs.append(f"[{db.name}.{view.name}]")
        plan.functions = sorted(db.functions)
        return plan, ", ".join(refs)
    for obj in stmt.objects:
        if obj.kind == "FUNCTION":
            names = sorted(db.functions) if obj.name is None else [obj.name]
            for name in names:
                if name not in db.functions:  # FunctionRef.analyzeForBackup; FunctionName.toString is db.fn
                    raise analyzing_error(f"Invalid backup function(s), function name: {db.name}.{name}",
                                          ERR_COMMON_ERROR)
                if name not in plan.functions:
                    plan.functions.append(name)
            continue
        if obj.name is None:  # ALL TABLES / ALL MATERIALIZED VIEWS / ALL VIEWS
            if obj.kind == "VIEW":
                for view in views:
                    add_view(view)
                continue
            wanted = "OLAP" if obj.kind == "TABLE" else "MATERIALIZED_VIEW"
            for table in sorted((t for t in data_tables if t.kind == wanted), key=lambda t: t.id):
                add_table(table)
            continue
        # A named object is looked up by name whatever word named it (TableRef); what it is decides the rest.
        table = named(obj.name)
        if table.kind == "VIEW":
            if obj.partitions:  # analyzeTableRef: reportSemanticException(ERR_WRONG_TABLE_NAME, ..)
                raise analyzing_error(f"Incorrect table name '{obj.name}'", ERR_WRONG_TABLE_NAME)
            add_view(table)
            continue
        add_table(table, obj)
    return plan, ", ".join(refs)


def _check_restore_names(stmt: BackupRestoreStmt) -> None:
    """BackupRestoreAnalyzer.visitRestoreStatement (3.5 e223275f78): over the named objects (AstBuilder merges them
    materialized views, then views, then tables), a table named twice, then an alias equal to a table name or to an
    earlier alias; each a `new SemanticException(.., tableRef.getPos())`."""
    order = {"MATERIALIZED_VIEW": 0, "VIEW": 1, "TABLE": 2}
    refs = sorted((o for o in stmt.objects if o.name is not None and o.kind in order), key=lambda o: order[o.kind])
    names: set[str] = set()
    for ref in refs:
        if ref.name in names:
            raise analyzing_error(f"Duplicated table: {ref.name}", position=node_position(stmt.sql, ref.span))
        names.add(ref.name)
    for ref in refs:
        if ref.alias:
            if ref.alias in names:
                raise analyzing_error(f"Duplicated alias name: {ref.alias}",
                                      position=node_position(stmt.sql, ref.span))
            names.add(ref.alias)


def _restore_plan(stmt: BackupRestoreStmt, info: dict, meta: dict) -> JobPlan:
    plan = JobPlan()
    tables = meta["tblNameMap"]
    objects = info["backup_objects"]
    functions = [f["name"]["fn"] for f in meta.get("functions", [])]
    view_names = [n for n, t in tables.items() if t["clazz"] == "View"]
    data_names = [n for n in objects if n not in view_names]
    targets: set[str] = set()

    def add(name: str, alias: str | None, partitions: tuple[str, ...], view: bool = False,
            ref: ObjectRef | None = None) -> None:
        target = alias or name
        if target in targets:  # BackupRestoreAnalyzer.visitRestoreStatement: new SemanticException(.., TableRef pos)
            position = node_position(stmt.sql, ref.span) if ref is not None else ""
            raise analyzing_error(f"Duplicated alias name: {target}" if alias else f"Duplicated table: {name}",
                                  position=position)
        targets.add(target)
        (plan.views if view else plan.tables).append(TablePlan(name, target, list(partitions) or None))

    if not stmt.has_on:
        for name in data_names:
            add(name, None, ())
        for name in view_names:
            add(name, None, (), view=True)
        plan.functions = functions
        return plan
    for obj in stmt.objects:
        # BackupHandler.checkAndFilterRestoreObjsExistInSnapshot / checkAndFilterRestoreFunctionsInBackupMeta:
        # reportDdlException(ERR_COMMON_ERROR, ..)
        if obj.temporary:
            raise ddl_error("Do not support restoring temporary partitions")
        if obj.kind == "FUNCTION":
            names = functions if obj.name is None else [obj.name]
            for name in names:
                if name not in functions:  # FunctionRef's name is unqualified here (no analyzeForBackup)
                    raise ddl_error(f"Can not find restore function: {name}")
                plan.functions.append(name)
            continue
        if obj.kind == "VIEW":
            names = view_names if obj.name is None else [obj.name]
            for name in names:
                if name not in view_names:
                    raise ddl_error(f"Table {name} does not exist in snapshot {stmt.label}")
                add(name, obj.alias if obj.name else None, (), view=True, ref=obj if obj.name else None)
            continue
        wanted = "OlapTable" if obj.kind == "TABLE" else "MaterializedView"
        if obj.name is None:
            for name in data_names:
                if tables[name]["clazz"] == wanted:
                    add(name, None, ())
            continue
        if obj.name not in data_names:
            raise ddl_error(f"Table {obj.name} does not exist in snapshot {stmt.label}")
        for partition in obj.partitions:
            if partition not in objects[obj.name]["partitions"]:
                raise ddl_error(f"Partition {partition} of table {obj.name} does not exist in snapshot {stmt.label}")
        add(obj.name, obj.alias, obj.partitions, ref=obj)
    return plan
