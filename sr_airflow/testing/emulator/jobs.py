"""BACKUP and RESTORE jobs: one thread each, walking StarRocks' states and persisting every transition."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import backupmeta, jobinfo, metareader
from .errors import EmulatorError
from .faults import JOB_STATES
from .jobinfo import physical_partitions
from .layout import ChecksumError, RepoLayout, format_time, format_timestamp
from .storage import StorageError

MV_BACKUP_REASON = "it's in backup and will be activated after restore if possible"
BACKEND_ID = 10001
TRANSFER_THREADS = 4


class Cancelled(Exception):
    """The job was cancelled by a user (or a failure already recorded in its status)."""


class Stopped(Exception):
    """The process is stopping: the job keeps its last persisted state and resumes after a restart."""


class JobFailed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class TablePlan:
    """One table of a job: source name in the snapshot, target name, the partitions to move."""
    name: str
    target: str
    partitions: list[str] | None = None  # None: all


@dataclass
class JobPlan:
    tables: list[TablePlan] = field(default_factory=list)
    views: list[TablePlan] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    external_catalogs: list[tuple[str, str]] = field(default_factory=list)  # (name, target name)


def plan_from(data: dict) -> JobPlan:
    """The JobPlan saved in a job record (`record["plan"]`)."""
    return JobPlan(tables=[TablePlan(**t) for t in data.get("tables", [])],
                   views=[TablePlan(**v) for v in data.get("views", [])],
                   functions=list(data.get("functions", [])),
                   external_catalogs=[tuple(c) for c in data.get("external_catalogs", [])])


def status_text(code: str, message: str) -> str:
    return "[OK]" if code == "OK" else f"[{code}, msg: {message}]"


class Job:
    kind = ""

    def __init__(self, cluster, record: dict, plan: JobPlan, layout: RepoLayout):
        self.cluster = cluster
        self.record = record
        self.plan = plan
        self.layout = layout
        self.cancel_event = threading.Event()
        self.progress_lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name=f"{self.kind}-{record['label']}", daemon=True)
        self.work_dir = Path(cluster.data_dir) / self.kind.lower() / str(record["id"])
        self.injected: dict = {}  # one-shot faults taken from cluster.faults when the job starts
        self.resume_from: str | None = None  # the persisted state a restarted process resumes the job from

    # -- bookkeeping
    @property
    def state(self) -> str:
        return self.record["state"]

    @property
    def is_done(self) -> bool:
        return self.state in ("FINISHED", "CANCELLED")

    def set_state(self, state: str, **times: float) -> None:
        if self.cluster.stopping:
            raise Stopped()
        self.record["state"] = state
        self.record.update(times)
        self.cluster.persist_job(self.record)
        if state in JOB_STATES:
            self._enter(state)

    def start(self) -> None:
        self.record["plan"] = dataclasses.asdict(self.plan)  # what a journal replay would need to resume
        self.cluster.persist_job(self.record)
        self.injected = self.cluster.faults.take_for_job(self.record["db_name"])
        self.thread.start()

    def _fault(self, fault: str, **details) -> None:
        rec = self.record
        self.cluster.faults.log(fault, job_id=rec["id"], kind=self.kind, label=rec["label"],
                                database=rec["db_name"], **details)

    def _enter(self, state: str) -> None:
        """Injected faults (emulator_slow_state, emulator_fail_next_job_at, emulator_job_timeout_next)."""
        slow = self.cluster.faults.slow_for(state)
        if slow > 0:
            self._fault("slow_state", state=state, seconds=slow)
            if self.cancel_event.wait(slow):
                raise Cancelled()
        if self.injected.get("fail_at") == state:
            code, message = self.injected.pop("fail_status")
            self.injected.pop("fail_at")
            self._fault("fail_job", state=state, status=status_text(code, message))
            raise JobFailed(code, message)
        if state != "PENDING" and self.injected.pop("timeout", False):
            self._fault("job_timeout", state=state, status=status_text("TIMEOUT", self.timeout_message()))
            raise JobFailed("TIMEOUT", self.timeout_message())

    def cancel(self, message: str) -> None:
        self.record["status"] = ["COMMON_ERROR", message]
        self.cancel_event.set()

    def check(self) -> None:
        if self.cancel_event.is_set():
            raise Cancelled()
        if time.time() - self.record["create_time"] > self.record["timeout"]:
            raise JobFailed("TIMEOUT", self.timeout_message())

    def timeout_message(self) -> str:
        return ""

    def pause(self) -> None:
        """The minimum time of a phase (the knob is re-read while waiting); returns early on cancel."""
        self.check()
        started = time.monotonic()
        while True:
            remaining = self.cluster.knobs.min_phase_seconds - (time.monotonic() - started)
            if remaining <= 0:
                return
            if self.cancel_event.wait(min(remaining, 0.1)):
                raise Cancelled()

    def throttle(self, size: int, started: float) -> None:
        mbps = self.cluster.knobs.throughput_mbps
        if mbps > 0:
            remaining = size / (mbps * 1024 * 1024) - (time.monotonic() - started)
            if remaining > 0 and self.cancel_event.wait(remaining):
                raise Cancelled()
        self.check()

    def _run(self) -> None:
        try:
            if self.resume_from is None:
                self._enter("PENDING")
            self.run()
        except Stopped:
            return
        except Cancelled:
            self.on_cancel()
            self.set_state("CANCELLED", finished_time=time.time())
        except JobFailed as failure:
            self.record["status"] = [failure.code, failure.message]
            self.on_cancel()
            self.set_state("CANCELLED", finished_time=time.time())
        except (StorageError, EmulatorError, OSError) as err:
            if isinstance(err, StorageError) and not isinstance(err, ChecksumError):
                self.cluster.mark_repo_error_by_name(self.record["repo"], err)
            code = "BAD_FILE" if isinstance(err, ChecksumError) else getattr(err, "status_code", "COMMON_ERROR")
            self.record["status"] = [code, str(err)]
            self.on_cancel()
            self.set_state("CANCELLED", finished_time=time.time())
        except Exception as err:  # noqa: BLE001 - a job never takes the server down
            self.record["status"] = ["COMMON_ERROR", f"{type(err).__name__}: {err}"]
            self.on_cancel()
            self.set_state("CANCELLED", finished_time=time.time())
        finally:
            if self.cluster.stopping:
                return  # noqa: B012 - keep the persisted state and the work dir for the restart
            self.record["progress"] = {}
            self.record["unfinished"] = {}
            self.cluster.persist_job(self.record)
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def run(self) -> None:
        raise NotImplementedError

    def on_cancel(self) -> None:
        """Undo what a cancelled job left behind."""

    def announce(self, tasks: dict[int, list]) -> None:
        """Show every task as unfinished (`[task: 0/total]`) before the transfer state is entered."""
        self.record["progress"] = {str(t): [0, len(items)] for t, items in tasks.items()}
        self.record["unfinished"] = {str(t): BACKEND_ID for t in tasks}

    def transfer(self, tasks: dict[int, list], move) -> None:
        """Run upload/download tasks: `move(item)` returns bytes moved; Progress shows `[task: done/total]`.

        Paced one file at a time by the throughput knob; with unlimited throughput, tasks run on a few threads.
        """
        self.pause()
        if self.cluster.knobs.throughput_mbps > 0 or len(tasks) < 2:
            for task, items in tasks.items():
                self._run_task(task, items, move)
            return
        with concurrent.futures.ThreadPoolExecutor(max_workers=TRANSFER_THREADS) as pool:
            futures = [pool.submit(self._run_task, task, items, move) for task, items in tasks.items()]
            for future in futures:
                future.result()

    def _run_task(self, task: int, items: list, move) -> None:
        for done, item in enumerate(items, start=1):
            started = time.monotonic()
            size = move(item)
            self.throttle(size, started)
            with self.progress_lock:
                self.record["progress"] = {**self.record["progress"], str(task): [done, len(items)]}
        with self.progress_lock:
            self.record["progress"] = {k: v for k, v in self.record["progress"].items() if k != str(task)}
            self.record["unfinished"] = {k: v for k, v in self.record["unfinished"].items() if k != str(task)}


class BackupJob(Job):
    kind = "BACKUP"

    def run(self) -> None:
        rec = self.record
        if not self.plan.tables and not self.plan.views and not self.plan.functions and self.plan.external_catalogs \
                and not rec["db_name"]:
            self.pause()
            self.set_state("SAVE_META")
            meta, info = self.build_meta({}), self.build_info({})
            self.pause()
            self.set_state("UPLOAD_INFO")
            self.upload_info(meta, info)
            self.set_state("FINISHED", finished_time=time.time())
            return
        snapshot = None
        if self.resume_from in ("UPLOAD_SNAPSHOT", "UPLOADING", "SAVE_META", "UPLOAD_INFO"):
            snapshot = self._load_snapshot()
        if snapshot is None:
            self.pause()
            self.set_state("SNAPSHOTING")
            snapshot = self.cluster.take_snapshot(self.record, self.plan, self.work_dir)
            (self.work_dir / "snapshot.json").write_text(json.dumps(snapshot))
            self.pause()
            self.set_state("UPLOAD_SNAPSHOT", snapshot_finished_time=time.time())
            self._upload(snapshot)
        elif self.resume_from in ("UPLOAD_SNAPSHOT", "UPLOADING"):
            self._upload(snapshot)  # the upload phase starts again (same names, same bytes)
        self.set_state("SAVE_META", upload_finished_time=self.record.get("upload_finished_time") or time.time())
        meta, info = self.build_meta(snapshot), self.build_info(snapshot)
        self.pause()
        self.set_state("UPLOAD_INFO")
        self.upload_info(meta, info)
        self.pause()
        self.set_state("FINISHED", finished_time=time.time())

    def _load_snapshot(self) -> dict | None:
        path = self.work_dir / "snapshot.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def _upload(self, snapshot: dict) -> None:
        """One upload task per physical partition: every tablet of every visible index, under
        `__part_<physicalPartitionId>/__idx_<indexId>/__<tabletId>` (`BackupJob.prepareSnapshotTask`,
        `Repository.getRepoTabletPathBySnapshotInfo`)."""
        rec = self.record
        self.pause()
        tasks: dict[int, list] = {}
        for table in snapshot["tables"].values():
            for part in table["partitions"]:
                files = []
                for index in part["indexes"]:
                    for tablet in index["tablets"]:
                        directory = self.layout.content_dir(rec["label"], rec["db_id"], table["id"],
                                                            part["physical_id"], index["id"], tablet)
                        files.append((f"{directory}/{tablet}.hdr", self.work_dir / f"{tablet}.hdr"))
                        files.append((f"{directory}/{tablet}_0.dat", self.work_dir / f"{tablet}_0.dat"))
                tasks[self.cluster.metastore.new_id()] = files

        self.announce(tasks)
        self.set_state("UPLOADING")

        def upload(item) -> int:
            remote, local = item
            data = local.read_bytes()
            self.layout.upload(remote, data)
            return len(data)

        self.transfer(tasks, upload)
        self.record["upload_finished_time"] = time.time()

    def build_meta(self, snapshot: dict) -> dict:
        """`BackupMeta` of the copied tables, MVs and views, the functions and the external catalogs."""
        tables = [entry["gson"] for entry in snapshot.get("tables", {}).values()]
        tables += [entry["gson"] for entry in snapshot.get("views", {}).values()]
        return backupmeta.backup_meta(tables, snapshot.get("functions", []),
                                      self.cluster.external_catalog_dicts([c for c, _ in self.plan.external_catalogs]),
                                      self.cluster.line)

    def build_info(self, snapshot: dict) -> dict:
        """`BackupJobInfo.fromCatalog` + `toJson(true)`: tables, then views (3.4+, `"partitions": {}`)."""
        rec = self.record
        tables = list(snapshot.get("tables", {}).values())
        if self.cluster.physical_ids:  # 3.4+ backs up views; 3.3 has no views in a backup
            tables += [{"id": v["id"], "name": v["name"], "partitions": []}
                       for v in snapshot.get("views", {}).values()]
        return jobinfo.job_info(rec["label"], rec["db_name"], rec["db_id"], int(rec["create_time"] * 1000), tables,
                                True, self.cluster.physical_ids)

    def upload_info(self, meta: dict, info: dict) -> None:
        """Errors in UPLOAD_INFO are retried until the job times out or is cancelled (as StarRocks does)."""
        while True:
            try:
                self._upload_info(meta, info)
                self.record["task_err"] = {}
                return
            except StorageError as err:
                self.cluster.mark_repo_error_by_name(self.record["repo"], err)
                self.record["task_err"] = {"upload_info": str(err)}
                if self.cancel_event.wait(max(self.cluster.knobs.min_phase_seconds, 0.5)):
                    raise Cancelled() from err
                self.check()

    def _upload_info(self, meta: dict, info: dict) -> None:
        base = self.layout.snapshot_dir(self.record["label"])
        self.layout.upload(f"{base}/__meta", backupmeta.meta_bytes(meta))
        self.check()
        stamp = format_timestamp(self.record["create_time"])
        self.layout.upload(f"{base}/__info_{stamp}", jobinfo.info_text(info).encode("utf-8"))


class RestoreJob(Job):
    kind = "RESTORE"

    def __init__(self, cluster, record: dict, plan: JobPlan, layout: RepoLayout, info: dict, meta: dict):
        super().__init__(cluster, record, plan, layout)
        self.info = info
        self.meta = meta
        self.created_tables: list[tuple[str, str]] = []

    def timeout_message(self) -> str:
        return f"restore job with label: {self.record['label']}  timeout."

    def _load_snapshot_files(self) -> None:
        """A resumed restore reads the snapshot's info and meta from the repository again."""
        base = self.layout.snapshot_dir(self.record["label"])
        self.info = json.loads(self.layout.download(f"{base}/__info_{self.record['backup_timestamp']}"))
        self.meta = metareader.read_meta(self.layout.download(f"{base}/__meta"))

    def run(self) -> None:
        rec = self.record
        if self.info is None or self.meta is None:
            self._load_snapshot_files()
        if self.plan.external_catalogs and not rec["db_name"]:
            self.pause()
            self.set_state("COMMITTING")
            self.cluster.restore_catalogs(self.meta, self.plan)
            self.pause()
            self.set_state("FINISHED", finished_time=time.time())
            return
        self.created_tables = [tuple(t) for t in rec.get("created_tables", [])]
        if self.resume_from is None or (self.resume_from == "PENDING" and not self.cluster.restore_prepared(rec,
                                                                                                         self.plan)):
            self.pause()
            self.created_tables = self.cluster.prepare_restore(self.record, self.plan, self.meta, self.info)
            rec["created_tables"] = [list(t) for t in self.created_tables]
            self.set_state("SNAPSHOTING", meta_prepared_time=time.time())
            self.pause()
        # a resumed restore starts again at DOWNLOAD (downloads and the commit are repeatable)
        self.set_state("DOWNLOAD", snapshot_finished_time=rec.get("snapshot_finished_time") or time.time())
        self.pause()
        tasks: dict[int, list] = {}
        src_db_id = self.info["id"]
        self.work_dir.mkdir(parents=True, exist_ok=True)
        for plan in self.plan.tables:
            obj = self.info["backup_objects"].get(plan.name)
            if obj is None:
                continue
            for pname, part in obj["partitions"].items():
                if plan.partitions is not None and pname not in plan.partitions:
                    continue
                files = []
                for physical_id, _, indexes in physical_partitions(part):
                    for index in indexes.values():
                        for tablet in index["tablets_order"]:
                            directory = self.layout.content_dir(rec["label"], src_db_id, obj["id"], physical_id,
                                                                index["id"], int(tablet))
                            files.append((f"{directory}/{tablet}.hdr", None))
                            files.append((f"{directory}/{tablet}_0.dat", self.work_dir / f"{tablet}_0.dat"))
                tasks[self.cluster.metastore.new_id()] = files

        self.announce(tasks)
        self.set_state("DOWNLOADING")
        listing = self.layout.listing(f"{self.layout.snapshot_dir(rec['label'])}/__ss_content/")

        def download(item) -> int:
            remote, local = item
            data = self.layout.download(remote, listing)
            if local is not None:
                local.write_bytes(data)
            return len(data)

        self.transfer(tasks, download)
        self.set_state("COMMIT", download_finished_time=time.time())
        self.pause()
        self.set_state("COMMITTING")
        self.cluster.commit_restore(self.record, self.plan, self.meta, self.info, self.work_dir)
        self.pause()
        self.set_state("FINISHED", finished_time=time.time())

    def on_cancel(self) -> None:
        # RestoreJob.cancelInternal undoes in every state, COMMITTING included (cluster.undo_restore)
        if self.record["state"] != "FINISHED":
            self.cluster.undo_restore(self.record, self.created_tables, self.plan)


def restore_objs(info: dict, meta: dict, plan: JobPlan) -> str:
    entries = []
    for table in plan.tables:
        obj = info["backup_objects"].get(table.name)
        names = list(obj["partitions"]) if obj else []
        if table.partitions is not None:
            names = [n for n in names if n in table.partitions]
        if names == [table.name] or not names:
            entries.append(table.target)
        else:
            entries.append(f"{table.target} PARTITIONS [{', '.join(names)}]")
    entries.extend(v.target for v in plan.views)
    return ", ".join(entries)


def show_backup_row(rec: dict) -> list:
    return [str(rec["id"]), rec["label"], rec["db_name"], rec["state"], rec["objects"],
            format_time(rec["create_time"]), format_time(rec.get("snapshot_finished_time")),
            format_time(rec.get("upload_finished_time")), format_time(rec.get("finished_time")),
            _map(rec.get("unfinished", {}), "="), _progress(rec.get("progress", {})),
            _task_errors(rec.get("task_err", {})), status_text(*rec["status"]), str(int(rec["timeout"]))]


def show_restore_row(rec: dict) -> list:
    return [str(rec["id"]), rec["label"], rec["backup_timestamp"], rec["db_name"], rec["state"],
            "true" if rec["allow_load"] else "false", str(rec["replication_num"]), rec["objects"],
            format_time(rec["create_time"]), format_time(rec.get("meta_prepared_time")),
            format_time(rec.get("snapshot_finished_time")), format_time(rec.get("download_finished_time")),
            format_time(rec.get("finished_time")), _map(rec.get("unfinished", {}), "="),
            _progress(rec.get("progress", {})), _task_errors(rec.get("task_err", {})),
            status_text(*rec["status"]), str(int(rec["timeout"]))]


def _map(entries: dict, sep: str) -> str:
    return ", ".join(f"{k}{sep}{v}" for k, v in entries.items())


def _progress(entries: dict) -> str:
    return ", ".join(f"[{k}: {d}/{t}]" for k, (d, t) in entries.items())


def _task_errors(entries: dict) -> str:
    return ", ".join(f"[{k}: {v}]" for k, v in entries.items())



