"""Repositories, BACKUP, RESTORE, CANCEL and their SHOW statements: checks and exact texts of StarRocks."""

from __future__ import annotations

import json
import time

from .catalog import Database, Repository
from .errors import EmulatorError
from .jobinfo import brief_of, brief_text
from .jobs import BackupJob, JobPlan, RestoreJob, TablePlan, restore_objs, show_backup_row, show_restore_row
from .layout import format_time
from .metareader import read_meta
from .statements import BackupRestoreStmt, CreateRepositoryStmt
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
COMMON_ERROR = 5064  # ErrorCode.ERR_COMMON_ERROR


def _analyzing(message: str) -> EmulatorError:
    return EmulatorError(f"Getting analyzing error. Detail message: {message}.")


class BackupRestore:
    def __init__(self, cluster):
        self.cluster = cluster

    # -- repositories
    def create_repository(self, stmt: CreateRepositoryStmt) -> None:
        cluster = self.cluster
        if not stmt.location:
            raise EmulatorError("You must specify a location on the repository")
        if stmt.name in cluster.catalog.repositories:
            raise EmulatorError("Failed to create repository: repository with same name already exist: "
                                f"{stmt.name}")
        repo = Repository(id=cluster.catalog.new_id(), name=stmt.name, create_time=time.time(),
                          read_only=stmt.read_only, location=stmt.location, broker=stmt.broker,
                          properties=dict(stmt.properties))
        try:
            repo.prefix = cluster.layout(repo).init_repository(stmt.name)
        except StorageError as err:
            raise EmulatorError(f"Failed to create repository: {err}") from err
        with cluster.lock:
            if stmt.name in cluster.catalog.repositories:
                raise EmulatorError("Failed to create repository: repository with same name already exist: "
                                    f"{stmt.name}")
            cluster.catalog.repositories[stmt.name] = repo
            cluster.save()

    def drop_repository(self, name: str) -> None:
        cluster = self.cluster
        with cluster.lock:
            if name not in cluster.catalog.repositories:
                raise EmulatorError("Repository does not exist")
            if any(not job.is_done and job.record["repo"] == name for job in cluster.jobs.values()):
                raise EmulatorError("Backup or restore job is running on this repository. Can not drop it")
            del cluster.catalog.repositories[name]
            cluster.save()

    def show_repositories(self) -> tuple[list, list]:
        rows = []
        for repo in sorted(self.cluster.catalog.repositories.values(), key=lambda r: r.id):
            rows.append([str(repo.id), repo.name, format_time(repo.create_time), str(repo.read_only).lower(),
                         repo.location, repo.broker, repo.err_msg])
        return rows, REPO_COLUMNS

    # -- BACKUP
    def backup(self, stmt: BackupRestoreStmt, current_db: str | None, check=None) -> None:
        cluster = self.cluster
        repo = cluster.repository(stmt.repo, analyzer=True)
        props = _backup_properties(stmt.properties)
        plan = JobPlan()
        if stmt.is_catalog_job:
            names = sorted(cluster.catalog.catalogs) if stmt.all_catalogs else [c.name for c in stmt.catalogs]
            for name in names:
                if name not in cluster.catalog.catalogs:
                    raise _analyzing(f"external catalog {name} is not exists")
            plan.catalogs = [(n, n) for n in names]
            db_name, db_id, db_key, objs = "", -1, CATALOG_DB_KEY, ""
            if check is not None:  # USAGE on each catalog (spec §9)
                check(db_name, plan)
        else:
            db_name = stmt.db or current_db
            if not db_name:
                raise _analyzing("No database selected")
            db = cluster.catalog.databases.get(db_name)
            if db is None:
                raise _analyzing(f"Unknown database '{db_name}'")
            plan, objs = _backup_plan(stmt, db)
            db_id, db_key = db.id, str(db.id)
            if check is not None:  # privileges on the objects (spec §9)
                check(db_name, plan)
        if repo.read_only:
            raise EmulatorError(f"Repository {repo.name} is read only")
        if props["type"] == "INCREMENTAL":
            pass
        layout = cluster.layout(repo)
        try:
            exists = layout.snapshot_exists(stmt.label)
        except StorageError as err:
            cluster.mark_repo_error(repo, err)
            raise EmulatorError(f"Failed to get snapshot info from repository: {err}") from err
        if exists:
            if props["type"] == "INCREMENTAL":
                raise EmulatorError("Currently does not support incremental backup")
            raise EmulatorError(f"Snapshot with name '{stmt.label}' already exist in repository")
        with cluster.submit_lock:
            if cluster.running_job(db_key):
                raise EmulatorError("Can only run one backup or restore job of external catalog"
                                    if db_key == CATALOG_DB_KEY else
                                    "Can only run one backup or restore job of a database at same time")
            record = _record("BACKUP", cluster.catalog.new_id(), stmt.label, db_name, db_id, repo.name,
                             props["timeout"], objs)
            job = BackupJob(cluster, record, plan, layout)
            cluster.jobs[db_key] = job
            job.start()

    # -- RESTORE
    def restore(self, stmt: BackupRestoreStmt, current_db: str | None, check=None) -> None:
        cluster = self.cluster
        repo = cluster.repository(stmt.repo, analyzer=True)
        props = _restore_properties(stmt.properties)
        layout = cluster.layout(repo)
        stamp = props["backup_timestamp"]
        base = layout.snapshot_dir(stmt.label)
        try:
            info = json.loads(layout.download(f"{base}/__info_{stamp}"))
            meta = read_meta(layout.download(f"{base}/__meta"))
        except StorageError as err:
            raise EmulatorError(f"Failed to get info of snapshot '{stmt.label}' because: {err}. Maybe specified "
                                "wrong backup timestamp") from err
        plan = JobPlan()
        if stmt.is_catalog_job:
            available = [c["name"] for c in meta.get("catalogs", [])]
            refs = [(n, n) for n in available] if stmt.all_catalogs else [(c.name, c.alias or c.name)
                                                                           for c in stmt.catalogs]
            for name, _ in refs:
                if name not in available:
                    raise EmulatorError(f"external catalog {name} does not exist in snapshot {stmt.label}")
            plan.catalogs = refs
            db_name, db_id, db_key, objs = "", -1, CATALOG_DB_KEY, ""
        else:
            source_db = stmt.db or info["database"]
            if stmt.db and stmt.db != info["database"]:
                raise EmulatorError(f"target database: {stmt.db} is not existed in snapshot")
            db_name = stmt.new_db or source_db
            plan = _restore_plan(stmt, info, meta)
            objs = restore_objs(info, meta, plan)
            if check is not None:  # privileges on the target (spec §9), before the database is created
                check(db_name, plan)
            with cluster.lock:
                db = cluster.catalog.databases.get(db_name)
                if db is None:  # a missing target database is created when the job is submitted
                    db = Database(id=cluster.catalog.new_id(), name=db_name)
                    cluster.catalog.databases[db_name] = db
                    cluster.save()
            db_id, db_key = db.id, str(db.id)
        with cluster.submit_lock:
            if cluster.running_job(db_key):
                raise EmulatorError("Can only run one backup or restore job of external catalog"
                                    if db_key == CATALOG_DB_KEY else
                                    "Can only run one backup or restore job of a database at same time")
            record = _record("RESTORE", cluster.catalog.new_id(), stmt.label, db_name, db_id, repo.name,
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
                raise _analyzing("No selected database for cancel BACKUP/RESTORE")
            db = cluster.catalog.databases.get(db_name)
            if db is None:
                raise _analyzing(f"Unknown database '{db_name}'")
            db_key = str(db.id)
        job = cluster.jobs.get(db_key)
        record = job.record if job is not None else cluster.catalog.jobs.get(db_key)
        kind = "BACKUP" if is_backup else "RESTORE"
        # BackupHandler.cancel (3.5 e223275f): the database's latest job of the other kind, or none, is "not
        # running"; a finished one answers the job's own cancel() status (BackupJob/RestoreJob.cancel: isDone()).
        # Both refusals are ErrorReport.reportDdlException(ERR_COMMON_ERROR, ..): ERROR 5064 (42000).
        if record is None or record["type"] != kind:
            raise EmulatorError("No backup job is currently running" if is_backup
                                else "No restore is currently running", COMMON_ERROR)
        if job is None or job.is_done or (not is_backup and job.state == "COMMITTING"):
            raise EmulatorError(f"Failed to cancel job: Job with label {record['label']} can not be "
                                f"cancelled. state: {record['state']}", COMMON_ERROR)
        if check is not None:
            check(job.record)
        job.cancel("user cancelled" if is_backup else f"user cancelled, current state: {job.state}")

    # -- SHOW BACKUP / RESTORE / SNAPSHOT
    def show_jobs(self, is_backup: bool, db_name: str | None, visible=None) -> tuple[list, list]:
        cluster = self.cluster
        kind = "BACKUP" if is_backup else "RESTORE"
        if db_name:
            db = cluster.catalog.databases.get(db_name)
            if db is None:
                raise _analyzing(f"Unknown database '{db_name}'")
            keys = [str(db.id)]
        else:
            keys = list(cluster.catalog.jobs)
        rows = []
        for key in keys:
            job = cluster.jobs.get(key)
            record = dict(job.record) if job is not None else cluster.catalog.jobs.get(key)
            if record and record["type"] == kind and (visible is None or visible(record)):
                rows.append(show_backup_row(record) if is_backup else show_restore_row(record))
        return rows, BACKUP_COLUMNS if is_backup else RESTORE_COLUMNS

    def show_snapshot(self, repo_name: str, names: str | list[str] | None, timestamp: str | None):
        """`Repository.getSnapshotInfos` (3.5 e223275f): `SNAPSHOT = 'x'` reads that snapshot's `__info_*` files
        without listing the repository (a missing one is the row `x | <empty> | ERROR: no snapshot`); no name or
        `SNAPSHOT IN (..)` lists the snapshots; with a TIMESTAMP the job info's brief form
        (`BackupJobInfo.getBrief`) is the Details. Failures show `\\N` (`FeConstants.NULL_STRING`)."""
        cluster = self.cluster
        repo = cluster.catalog.repositories.get(repo_name)
        if repo is None:
            raise _analyzing(f"Repository [{repo_name}] does not exist")
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
                raise EmulatorError(f"Failed to list snapshot in repo: {repo_name}, err: {err}") from err
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
        raise _analyzing(f"Invalid timeout format: {props['timeout']}") from err
    if value < 600:
        raise _analyzing("timeout must be at least 10 min")
    return value


def _backup_properties(props: dict[str, str]) -> dict:
    unknown = [k for k in props if k not in ("timeout", "type")]
    if unknown:
        raise _analyzing(f"Unknown backup job properties: [{', '.join(unknown)}]")
    kind = props.get("type", "FULL").upper()
    if kind not in ("FULL", "INCREMENTAL"):
        raise _analyzing(f"Invalid backup job type: {props['type']}")
    return {"timeout": _timeout(props), "type": kind}


def _restore_properties(props: dict[str, str]) -> dict:
    allowed = ("backup_timestamp", "timeout", "allow_load", "replication_num", "meta_version",
               "starrocks_meta_version")
    unknown = [k for k in props if k not in allowed]
    if unknown:
        raise _analyzing(f"Unknown restore job properties: [{', '.join(unknown)}]")
    if "backup_timestamp" not in props:
        raise _analyzing("Missing backup_timestamp property")
    allow = props.get("allow_load", "false").lower()
    if allow not in ("true", "false"):
        raise _analyzing(f"Invalid allow load value: {props['allow_load']}")
    for key in ("meta_version", "starrocks_meta_version", "replication_num"):
        if key in props:
            try:
                int(props[key])
            except ValueError as err:
                what = "replication num" if key == "replication_num" else "meta version"
                raise _analyzing(f"Invalid {what} format: {props[key]}") from err
    return {"timeout": _timeout(props), "backup_timestamp": props["backup_timestamp"],
            "allow_load": allow == "true", "replication_num": int(props.get("replication_num", "3"))}


def _backup_plan(stmt: BackupRestoreStmt, db) -> tuple[JobPlan, str]:
    plan = JobPlan()
    refs: list[str] = []
    data_tables = [t for t in db.tables.values() if t.has_data]
    views = [t for t in db.tables.values() if t.kind == "VIEW"]

    def add_table(table, partitions: tuple[str, ...] = (), temporary: bool = False) -> None:
        # BackupHandler.backup (3.5 e223275f): ErrorReport.reportDdlException(ERR_COMMON_ERROR, ..), which sets the
        # error code of the reply: ERROR 5064 (42000)
        if any(p.is_temp for p in table.partitions):
            raise EmulatorError("Do not support backing up table with temp partitions", COMMON_ERROR)
        if temporary:
            raise EmulatorError("Do not support backing up temp partitions", COMMON_ERROR)
        for name in partitions:
            if table.partition(name) is None:
                raise _analyzing(f"Unknown partition {name} in table{table.name}")
        if any(t.name == table.name for t in plan.tables):
            raise _analyzing(f"Duplicated table: {table.name}")
        plan.tables.append(TablePlan(table.name, table.name, list(partitions) if partitions else None))
        suffix = ""
        if partitions:
            suffix = ("TEMPORARY " if temporary else "") + "PARTITIONS (" + ", ".join(partitions) + ")"
        refs.append(f"[{db.name}.{table.name}{suffix}]")

    if not stmt.has_on:
        if not db.tables and not db.functions:
            raise _analyzing(f"Database: {db.name} is empty")
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
                if name not in db.functions:
                    raise _analyzing(f"Can not find the function {name} in database {db.name}")
                if name not in plan.functions:
                    plan.functions.append(name)
            continue
        if obj.kind == "VIEW":
            targets = views if obj.name is None else [db.table(obj.name)]
            for view in targets:
                if view is None or view.kind != "VIEW":
                    raise _analyzing(f"Unknown table '{obj.name}'")
                plan.views.append(TablePlan(view.name, view.name))
                refs.append(f"[{db.name}.{view.name}]")
            continue
        wanted = "OLAP" if obj.kind == "TABLE" else "MATERIALIZED_VIEW"
        if obj.name is None:
            for table in sorted((t for t in data_tables if t.kind == wanted), key=lambda t: t.id):
                add_table(table)
            continue
        table = db.table(obj.name)
        if table is None:
            raise _analyzing(f"Unknown table '{obj.name}'")
        if not table.has_data:
            raise _analyzing(f"Table: {table.name} can not support backup restore, type: {table.kind}")
        add_table(table, obj.partitions, obj.temporary)
    return plan, ", ".join(refs)


def _restore_plan(stmt: BackupRestoreStmt, info: dict, meta: dict) -> JobPlan:
    plan = JobPlan()
    tables = meta["tblNameMap"]
    objects = info["backup_objects"]
    functions = [f["name"]["fn"] for f in meta.get("functions", [])]
    view_names = [n for n, t in tables.items() if t["clazz"] == "View"]
    data_names = [n for n in objects if n not in view_names]
    targets: set[str] = set()

    def add(name: str, alias: str | None, partitions: tuple[str, ...], view: bool = False) -> None:
        target = alias or name
        if target in targets:
            raise EmulatorError(f"Duplicated alias name: {target}" if alias else f"Duplicated table: {name}")
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
        if obj.temporary:  # BackupHandler.restore: ERR_COMMON_ERROR, as for the backup refusals above
            raise EmulatorError("Do not support restoring temporary partitions", COMMON_ERROR)
        if obj.kind == "FUNCTION":
            names = functions if obj.name is None else [obj.name]
            for name in names:
                if name not in functions:
                    raise EmulatorError(f"Function {name} does not exist in snapshot {stmt.label}")
                plan.functions.append(name)
            continue
        if obj.kind == "VIEW":
            names = view_names if obj.name is None else [obj.name]
            for name in names:
                if name not in view_names:
                    raise EmulatorError(f"Table {name} does not exist in snapshot {stmt.label}")
                add(name, obj.alias if obj.name else None, (), view=True)
            continue
        wanted = "OlapTable" if obj.kind == "TABLE" else "MaterializedView"
        if obj.name is None:
            for name in data_names:
                if tables[name]["clazz"] == wanted:
                    add(name, None, ())
            continue
        if obj.name not in data_names:
            raise EmulatorError(f"Table {obj.name} does not exist in snapshot {stmt.label}")
        for partition in obj.partitions:
            if partition not in objects[obj.name]["partitions"]:
                raise EmulatorError(f"Partition {partition} of table {obj.name} does not exist in snapshot "
                                    f"{stmt.label}")
        add(obj.name, obj.alias, obj.partitions)
    return plan
