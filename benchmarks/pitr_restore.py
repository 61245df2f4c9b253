"""8. Point-in-time restore: bytes the RESTORE jobs move when each partition comes from the newest snapshot holding it,
beside chain replay (the full, then every incremental in order).

On an emulator backed by a local S3 API server: a daily table of 365 partitions (730,000 rows) backed up full,
then 30 daily incrementals, each after new rows landed in one recent day's partition (planned by ``plan_backup``
from the catalog, recorded from each snapshot's job info). The newest point is then restored twice into fresh
databases: by partition (``resolve_point_in_time``: one RESTORE per snapshot holding a chosen partition, each
partition once) and by chain replay (RESTORE of the whole full, then of each incremental). Bytes moved are the
object bytes the S3 server served (GET requests in its log, each object's size from a listing), per restore. The
restored state is the tablet data of each partition in the snapshot it comes from. Both restores are checked
row for row (per partition counts) against the source.
"""

from __future__ import annotations

import re
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

from benchmarks.common import (
    S3_KEY,
    S3_SECRET,
    Section,
    create_repository,
    fetch,
    new_bucket,
    s3_client,
    servers,
    wait_job,
)

NAME = "pitr_restore"
TITLE = "Point-in-time restore by partition vs chain replay"
TARGET = 1.05
REPO = "pitr_repo"
DB = "pitr"
_GET = re.compile(r'"GET /([^/ ?]+)/([^ ?]+)(?:\?[^ ]*)? HTTP/[0-9.]+" 200')


class ServedBytes:
    """Bytes of the objects the S3 server served since ``mark()``: GET lines of its (werkzeug) log, sized by a
    listing of the bucket. Listing and HEAD requests carry no object and are not counted."""

    def __init__(self, log: Path, client, bucket: str):
        self.log, self.client, self.bucket = log, client, bucket
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.log.stat().st_size

    def since_mark(self) -> tuple[int, int]:
        sizes = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            sizes.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
        with open(self.log, "rb") as handle:
            handle.seek(self.offset)
            text = handle.read().decode(errors="replace")
        served = gets = 0
        for bucket, key in _GET.findall(text):
            if bucket == self.bucket and unquote(key) in sizes:
                served += sizes[unquote(key)]
                gets += 1
        return served, gets


def run_job(cursor, statement: str, kind: str, database: str, label: str) -> None:
    cursor.execute(statement)
    wait_job(cursor, kind, database, label, poll=0.1)


def partition_rows(cursor, database: str) -> dict[str, int]:
    return dict(fetch(cursor, "SELECT PARTITION_NAME, ROW_COUNT FROM information_schema.partitions_meta "
                              f"WHERE DB_NAME = '{database}' AND TABLE_NAME = 'events'"))


def run(quick: bool = False) -> Section:
    from sr_airflow.engine.catalog import Catalog, SnapshotKind, entry_from_job_info
    from sr_airflow.engine.planner import PlanPolicy, partitions_meta_query, plan_backup
    from sr_airflow.engine.resolve import resolve_point_in_time
    from sr_airflow.engine.scope import ObjectRef, Scope
    from sr_airflow.engine.statements import BackupRequest, RestoreRequest, render_backup, render_restore
    from sr_airflow.storage import get_storage

    section = Section(NAME, TITLE)
    days, incrementals, per_day = (30, 5, 200) if quick else (365, 30, 2000)
    work = Path(tempfile.mkdtemp(prefix="sr-bench-pitr-"))
    with servers(work, emulators=1, min_phase_seconds=0, throughput_mbps=0) as (s3, emu):
        client = s3_client(s3.endpoint_url)
        bucket = new_bucket(client)
        served = ServedBytes(work / "s3.log", client, bucket)
        conn = emu.connect()
        cursor = conn.cursor()
        location = create_repository(cursor, REPO, bucket, "backups")
        storage = get_storage(location, endpoint=s3.endpoint_url, aws_access_key_id=S3_KEY,
                              aws_secret_access_key=S3_SECRET)
        first = datetime(2025, 1, 1)
        cursor.execute(f"CREATE DATABASE {DB}")
        cursor.execute(
            f"CREATE TABLE {DB}.events (dt DATE NOT NULL, id BIGINT NOT NULL, v INT, s VARCHAR(32)) "
            f"DUPLICATE KEY(dt, id) PARTITION BY RANGE(dt) (START ('{first.date()}') END "
            f"('{(first + timedelta(days=days)).date()}') EVERY (INTERVAL 1 DAY)) DISTRIBUTED BY HASH(id) BUCKETS 1")
        cursor.execute(f"INSERT INTO {DB}.events SELECT date_add('{first.date()}', CAST(generate_series DIV {per_day} "
                       "AS INT)), generate_series, generate_series % 1000, md5(cast(generate_series AS VARCHAR)) "
                       f"FROM TABLE(generate_series(0, {days * per_day - 1}))")
        policy = PlanPolicy(max_incrementals=None, max_full_age=None)
        entries = []
        timings = {"backups": time.perf_counter()}

        def back_up(label: str) -> None:
            plan = plan_backup(Catalog(entries), DB, fetch(cursor, partitions_meta_query(DB)),
                               now=datetime.now(UTC), policy=policy)
            scope = plan.to_scope()
            run_job(cursor, render_backup(BackupRequest(label, REPO, scope)), "BACKUP", DB, label)
            info = storage.read_job_info(REPO, label)
            entries.append(entry_from_job_info(info, repository=REPO, snapshot_kind=plan.snapshot_kind,
                                               parent_label=plan.parent_label,
                                               partition_stats=plan.partition_stats()))

        back_up("pitr_full")
        for index in range(incrementals):  # each day new rows land in one recent day's partition
            day = first + timedelta(days=days - incrementals + index)
            cursor.execute(f"INSERT INTO {DB}.events SELECT date '{day.date()}', 10000000000 + {index * per_day} + "
                           f"generate_series, 1, 'late' FROM TABLE(generate_series(1, {per_day // 2}))")
            back_up(f"pitr_incr_{index:02d}")
        timings["backups"] = time.perf_counter() - timings["backups"]
        source = partition_rows(cursor, DB)
        catalog = Catalog(entries)

        plan = resolve_point_in_time(catalog, DB)
        listings = {e.label: [o for o in storage.iter_snapshot_objects(REPO, e.label) if "/__ss_content/" in o.key]
                    for e in entries}
        state_bytes = 0
        for held in plan.state.values():
            marks = [f"/__part_{pid}/" for pid, _ in held.record.physical_partitions]
            state_bytes += sum(o.size for o in listings[held.label] if any(m in o.key for m in marks))

        started = time.perf_counter()
        served.mark()
        for step in plan.steps:
            request = RestoreRequest(step.label, REPO, step.to_scope(target_database="by_partition"),
                                     backup_timestamp=step.backup_timestamp)
            run_job(cursor, render_restore(request), "RESTORE", "by_partition", step.label)
        by_partition_bytes, by_partition_gets = served.since_mark()
        by_partition_seconds = time.perf_counter() - started

        started = time.perf_counter()
        served.mark()
        for entry in entries:  # chain replay: the full, then every incremental, in order
            refs = tuple(ObjectRef.table(t, tuple(sorted({r.partition for r in entry.partitions if r.table == t})))
                         for t in sorted(entry.partitions.tables()))
            scope = Scope(database=DB, objects=() if entry.snapshot_kind is SnapshotKind.FULL else refs,
                          target_database="by_chain")
            request = RestoreRequest(entry.label, REPO, scope, backup_timestamp=entry.backup_timestamp)
            run_job(cursor, render_restore(request), "RESTORE", "by_chain", entry.label)
        chain_bytes, chain_gets = served.since_mark()
        chain_seconds = time.perf_counter() - started

        restored = partition_rows(cursor, "by_partition")
        replayed = partition_rows(cursor, "by_chain")
        conn.close()
        assert restored == source, "the restore by partition differs from the source"
        assert replayed == source, "the chain replay differs from the source"

    moved = sum(s.partition_count for s in plan.steps)
    row = section.add("bytes moved by the restore by partition (newest point)", by_partition_bytes, "bytes",
                      "the restored state's tablet data", state_bytes, target=f"≤ {TARGET}× the restored state")
    row.met = by_partition_bytes <= state_bytes * TARGET
    section.add("bytes moved by chain replay (full + every incremental)", chain_bytes, "bytes",
                "the restored state's tablet data", state_bytes)
    row = section.add("bytes moved by the restore by partition, against chain replay", by_partition_bytes, "bytes",
                      "chain replay", chain_bytes, target="less than chain replay")
    row.met = by_partition_bytes < chain_bytes
    section.add("RESTORE jobs, by partition", len(plan.steps), "jobs", "chain replay", len(entries))
    row = section.add("partitions moved by the restore by partition", moved, "partitions",
                      "partitions in the restored state", len(plan.state), target="each once")
    row.met = moved == len(plan.state)
    section.notes.append(f"{days} daily partitions, {days * per_day:,} rows in the full; {incrementals} incrementals "
                         f"of {per_day // 2:,} new rows in one recent partition each. Objects served: "
                         f"{by_partition_gets:,} GETs by partition, {chain_gets:,} by chain replay.")
    section.notes.append(f"Emulator times: {len(entries)} backups {timings['backups']:.0f} s, restore by partition "
                         f"{by_partition_seconds:.0f} s, chain replay {chain_seconds:.0f} s.")
    section.notes.append("Both restores hold every partition with the source's row count. The bytes beyond the "
                         "tablet data are the __meta and job-info files each RESTORE job reads.")
    return section
