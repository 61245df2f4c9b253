"""2. Incremental efficiency: bytes an incremental writes after one partition changed, vs a full; planning round trips.

On an emulator backed by a local S3 API server: a database with a 365-partition daily table (5 million rows,
loaded day after day) and 20 other tables. A full BACKUP is taken and recorded as a catalog entry from its job
info (with the plan's objects census), whose physical partition ids (``subPartitions``) must all differ from the
logical ids, as StarRocks 3.4+ makes them (partitions_meta shows the physical ones); one partition then gets new
rows; the planner's reads (``engine/database_metadata.py``: one information_schema statement for partitions_meta,
materialized_views, columns, tables_config and views, then ``SHOW FULL FUNCTIONS``) and ``plan_backup`` pick what
changed, and an incremental BACKUP of just that is taken. Bytes are the objects under each snapshot's folder in the
bucket.

Round trips: on a second emulator, beside that, databases of 10, 100 and 1,000 tables (two partitions each); the
statements reaching the frontend (its query log) for the planner's reads of every partition's version and every
table's schema vs ``SHOW TABLES`` plus one ``SHOW PARTITIONS`` per table (partition versions only).
"""

from __future__ import annotations

import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import (
    S3_KEY,
    S3_SECRET,
    QueryLog,
    Section,
    create_repository,
    fetch,
    new_bucket,
    s3_client,
    servers,
    wait_job,
)

NAME = "incremental"
TITLE = "Incremental efficiency and planning round trips"
TARGET_FRACTION = 1 / 200
PLANNING_STATEMENTS = 2  # the information_schema statement and SHOW FULL FUNCTIONS, whatever the number of tables
REPO = "bench_repo"
DB = "bench"


def load(cursor, rows: int, days: int, others: int, other_rows: int) -> None:
    end = datetime(2025, 1, 1).toordinal() + days
    cursor.execute(f"CREATE DATABASE {DB}")
    cursor.execute(
        f"CREATE TABLE {DB}.events (dt DATE NOT NULL, id BIGINT NOT NULL, v INT, s VARCHAR(32)) "
        f"DUPLICATE KEY(dt, id) PARTITION BY RANGE(dt) (START ('2025-01-01') END "
        f"('{datetime.fromordinal(end).date()}') EVERY (INTERVAL 1 DAY)) DISTRIBUTED BY HASH(id) BUCKETS 1")
    # Rows in date order, as a daily table is loaded (one day after another): each partition's rows sit together,
    # so the emulator's export of one partition reads only its own row groups instead of all 5 M rows.
    cursor.execute(f"INSERT INTO {DB}.events SELECT date_add('2025-01-01', CAST(generate_series * {days} DIV {rows} "
                   "AS INT)), generate_series, generate_series % 1000, md5(cast(generate_series AS VARCHAR)) "
                   f"FROM TABLE(generate_series(0, {rows - 1}))")
    for index in range(others):
        cursor.execute(f"CREATE TABLE {DB}.dim_{index:02d} (k BIGINT NOT NULL, v VARCHAR(32)) DUPLICATE KEY(k) "
                       "DISTRIBUTED BY HASH(k) BUCKETS 1")
        cursor.execute(f"INSERT INTO {DB}.dim_{index:02d} SELECT generate_series, md5(cast(generate_series AS "
                       f"VARCHAR)) FROM TABLE(generate_series(0, {other_rows - 1}))")


def planner_reads(cursor, database: str):
    """What the plan operator reads of ``database`` (``StarRocksPlanBackupOperator.execute``): its partition rows and
    its objects census."""
    from sr_airflow.engine.database_metadata import metadata_query, split_metadata_rows
    from sr_airflow.engine.mv import parse_materialized_views
    from sr_airflow.engine.schema import database_objects, functions_query

    metadata = split_metadata_rows(fetch(cursor, metadata_query(database)), database)
    rows = {**metadata.schema_rows(), "functions": fetch(cursor, functions_query(database))}
    views = {mv.name: mv.definition for mv in parse_materialized_views(metadata.materialized_views)}
    return metadata.partitions, database_objects(rows, views)


def backup(cursor, statement: str, label: str) -> float:
    started = time.perf_counter()
    cursor.execute(statement)
    wait_job(cursor, "BACKUP", DB, label, poll=0.2)
    return time.perf_counter() - started


def round_trips(emulator, sizes: tuple[int, ...], done: dict) -> None:
    """Runs in a thread beside the 5 M-row part, on its own emulator: for each size, create its database, then
    count the statements reaching the frontend both ways (smallest first, so each metadata query sees only the
    databases made so far: the emulator builds information_schema rows for every table it holds)."""
    from sr_airflow.engine.planner import parse_partitions_meta

    try:
        log = QueryLog(emulator.query_log)
        conn = emulator.connect()
        done["results"], done["seconds"] = [], 0.0
        with conn.cursor() as cursor:
            for size in sizes:
                database = f"rt_{size}"
                started = time.perf_counter()
                cursor.execute(f"CREATE DATABASE {database}")
                for index in range(size):
                    cursor.execute(
                        f"CREATE TABLE {database}.t{index:04d} (d DATE, k INT) DUPLICATE KEY(d) PARTITION BY RANGE(d) "
                        "(PARTITION p1 VALUES LESS THAN ('2025-01-01'), PARTITION p2 VALUES LESS THAN "
                        "('2025-02-01')) DISTRIBUTED BY HASH(k) BUCKETS 1")
                done["seconds"] += time.perf_counter() - started
                log.mark()
                started = time.perf_counter()
                rows, objects = planner_reads(cursor, database)
                states = parse_partitions_meta(rows)
                assert len(objects.tables) == size, (len(objects.tables), size)
                ours_seconds = time.perf_counter() - started
                ours = len(log.since_mark())
                log.mark()
                started = time.perf_counter()
                per_table = 0
                for (table,) in fetch(cursor, f"SHOW TABLES FROM {database}"):
                    per_table += len(fetch(cursor, f"SHOW PARTITIONS FROM {database}.{table}"))
                theirs_seconds = time.perf_counter() - started
                theirs = len(log.since_mark())
                assert len(states) == per_table == 2 * size, (len(states), per_table, size)
                done["results"].append((size, ours, theirs, ours_seconds, theirs_seconds))
        conn.close()
    except Exception as exc:  # noqa: BLE001 - reported by the main thread
        done["error"] = exc


def add_round_trips(section: Section, done: dict) -> None:
    for size, ours, theirs, ours_seconds, theirs_seconds in done["results"]:
        row = section.add(f"statements the planner sends for a database of {size:,} tables", ours, "statements",
                          "SHOW TABLES + SHOW PARTITIONS per table", theirs,
                          target=f"constant: {PLANNING_STATEMENTS} per database")
        row.met = ours == PLANNING_STATEMENTS
        section.notes.append(f"{size:,} tables: the planner's reads (partition versions and schemas) took "
                             f"{ours_seconds:.2f} s on the emulator, "
                             f"the per-table statements {theirs_seconds:.2f} s (emulator times while the 5 M-row "
                             "part ran beside them, not StarRocks').")


def run(quick: bool = False) -> Section:
    from sr_airflow.engine.catalog import Catalog, SnapshotKind, entry_from_job_info
    from sr_airflow.engine.planner import PlanPolicy, plan_backup
    from sr_airflow.engine.scope import ObjectRef, Scope
    from sr_airflow.engine.statements import BackupRequest, Syntax, render_backup
    from sr_airflow.storage import get_storage

    section = Section(NAME, TITLE)
    rows, days, others, other_rows = (30_000, 30, 3, 1_000) if quick else (5_000_000, 365, 20, 10_000)
    sizes = (10, 50) if quick else (10, 100, 1000)
    changed_day = "2025-01-15" if quick else "2025-06-01"
    work = Path(tempfile.mkdtemp(prefix="sr-bench-incr-"))
    with servers(work, emulators=2, min_phase_seconds=0, throughput_mbps=0) as (s3, emu, rt_emu):
        created: dict = {}
        creator = threading.Thread(target=round_trips, args=(rt_emu, sizes, created), daemon=True)
        creator.start()
        client = s3_client(s3.endpoint_url)
        bucket = new_bucket(client)
        conn = emu.connect()
        cursor = conn.cursor()
        location = create_repository(cursor, REPO, bucket, "backups")
        started = time.perf_counter()
        load(cursor, rows, days, others, other_rows)
        load_seconds = time.perf_counter() - started
        storage = get_storage(location, endpoint=s3.endpoint_url, aws_access_key_id=S3_KEY,
                              aws_secret_access_key=S3_SECRET)
        log = QueryLog(emu.query_log)
        now = datetime.now(UTC)
        policy = PlanPolicy(max_incrementals=None, max_full_age=None)

        partition_rows, objects = planner_reads(cursor, DB)
        plan = plan_backup(Catalog(), DB, partition_rows, now=now, policy=policy, objects=objects)
        assert plan.snapshot_kind is SnapshotKind.FULL
        full_label = "bench_full"
        full_seconds = backup(cursor, render_backup(BackupRequest(full_label, REPO, Scope(database=DB))), full_label)
        info = storage.read_job_info(REPO, full_label)
        entry = entry_from_job_info(info, repository=REPO, snapshot_kind=SnapshotKind.FULL,
                                    partition_stats=plan.partition_stats(), objects=plan.objects.to_dict())
        partitions = [p for t in info.tables for p in t.partitions]
        distinct = sum(all(pid != p.id for pid, _ in p.physical_partitions) for p in partitions)
        print(f"   job info of {full_label}: {distinct:,} of {len(partitions):,} partitions have physical ids distinct "
              f"from their logical id (e.g. {partitions[0].name}: logical {partitions[0].id}, physical "
              f"{[pid for pid, _ in partitions[0].physical_partitions]})", flush=True)
        assert distinct == len(partitions), "the emulator gave some partitions their logical id as physical id"
        full = storage.snapshot_size(REPO, full_label)

        cursor.execute(f"INSERT INTO {DB}.events SELECT date '{changed_day}', 10000000000 + generate_series, 1, "
                       "'changed' FROM TABLE(generate_series(1, 1000))")
        log.mark()
        partition_rows, objects = planner_reads(cursor, DB)
        plan = plan_backup(Catalog([entry]), DB, partition_rows, now=now, policy=policy, objects=objects)
        planning_statements = len(log.since_mark())
        assert plan.snapshot_kind is SnapshotKind.INCREMENTAL, plan.reason
        objects = tuple(ObjectRef.table(t.table, () if t.whole_table else t.partitions) for t in plan.tables)
        incr_label = "bench_incr"
        statement = render_backup(BackupRequest(incr_label, REPO, Scope(database=DB, objects=objects)),
                                  Syntax.MODERN)
        incr_seconds = backup(cursor, statement, incr_label)
        incr = storage.snapshot_size(REPO, incr_label)
        incr_data = sum(o.size for o in storage.iter_snapshot_objects(REPO, incr_label)
                        if "/__ss_content/" in o.key)  # tablet files (<name>.<md5>) live under __ss_content
        conn.close()

        row = section.add("bytes written by the incremental (one partition changed)", incr.bytes, "bytes",
                          "full backup of the same database", full.bytes,
                          target=f"≤ 1/{int(1 / TARGET_FRACTION)} of the full")
        row.met = incr.bytes <= full.bytes * TARGET_FRACTION
        section.add("objects written by the incremental", incr.objects, "objects", "full backup", full.objects)
        section.notes.append(f"Of the incremental's {incr.bytes:,} bytes, {incr_data:,} are tablet data and "
                             f"{incr.bytes - incr_data:,} meta and job-info files.")
        row = section.add("partitions whose physical ids differ from their logical id (the full's job info)",
                          distinct, "partitions", "partitions in the job info", len(partitions), target="all")
        row.met = distinct == len(partitions)
        row = section.add("statements to plan the incremental of this database", planning_statements, "statements",
                          target=f"{PLANNING_STATEMENTS} per database: information_schema + SHOW FULL FUNCTIONS")
        row.met = planning_statements == PLANNING_STATEMENTS
        section.notes.append(f"The plan: {plan.reason}; BACKUP sent: `{statement}`.")
        section.notes.append(f"Emulator times: load {load_seconds:.0f} s, full backup {full_seconds:.0f} s, "
                             f"incremental {incr_seconds:.1f} s (the emulator writes Parquet files per tablet; "
                             "its speed is item 7, not the product's).")
        if not row.met:
            section.close.append(f"Planning sent {planning_statements} statements, not {PLANNING_STATEMENTS}; see the "
                                 "query log.")
        if incr.bytes > full.bytes * TARGET_FRACTION:
            section.close.append(
                f"The incremental wrote {incr.bytes:,} bytes, 1/{full.bytes / incr.bytes:.0f} of the full: "
                f"{incr_data:,} bytes of tablet data (the changed partition, which holds 1/{days} of the daily "
                f"table's rows plus the 1,000 added) and {incr.bytes - incr_data:,} bytes of meta and job-info "
                "files. The data part is bounded by the changed partition's share of the database, so with fewer "
                "than 200 equal partitions (as in --quick) 1/200 cannot be reached; shrinking the meta file (it "
                "describes only the backed-up tables) is the only lever left to the product.")

        creator.join(timeout=1200)
        if creator.is_alive() or "error" in created:
            section.close.append(f"Round trips not measured: creating the tables failed or took too long "
                                 f"({created.get('error', 'timeout')}).")
        else:
            add_round_trips(section, created)
            section.notes.append(f"Creating the {sum(sizes):,} round-trip tables took {created['seconds']:.0f} s on "
                                 "the emulator (beside the load and the backups).")
    section.sizes = [f"events: {rows:,} rows in {days} daily partitions (1 bucket each); {others} other tables of "
                     f"{other_rows:,} rows; 1,000 rows added to partition of {changed_day}",
                     f"full snapshot {full.bytes / 1024 / 1024:.1f} MB in {full.objects} objects",
                     f"round trips for databases of {', '.join(f'{s:,}' for s in sizes)} tables, 2 partitions each"]
    section.method = [" ".join(part.replace("\n", " ").strip() for part in __doc__.split("\n\n")[1:])]
    return section
