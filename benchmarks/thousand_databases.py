"""9. A thousand databases a night: ``sr_full_backup`` over many small databases on several clusters, under the
per-cluster cap, against a plain script with the same cap.

Several emulator clusters (one process each) share one local S3 API server; each holds its share of the databases
(one tiny table each). The plain script (one fresh interpreter, PyMySQL) keeps at most ``cap`` BACKUP jobs in flight
per cluster, one thread each: BACKUP, then SHOW BACKUP every second until the job ends. Then a real Airflow
(``airflow standalone``: scheduler, DAG processor, triggerer and API server, LocalExecutor with 4 workers, SQLite)
runs ``sr_full_backup`` once per cluster, all runs at once (``max_active_runs`` = clusters), with
``[sr_full_backup] max_parallel_backups`` = ``cap``: each backup task submits its job, defers to the triggerer and
resumes in a worker when the job has ended. Airflow's CPU is every process it ran, from ``airflow standalone``'s start
to its stop, exited ones included: the Airflow side runs under a sub-reaper process whose reaped children's
``getrusage(RUSAGE_CHILDREN)`` holds every descendant's time. Statements per frontend come from each emulator's query
log; jobs in flight from SHOW BACKUP's CreateTime and FinishedTime (seconds, read as half-open intervals, which can
only under-count); snapshots from SHOW SNAPSHOT.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from benchmarks.common import (
    ROOT,
    QueryLog,
    Section,
    airflow_environment,
    create_repository,
    new_bucket,
    s3_client,
    servers,
)

NAME = "thousand_databases"
TITLE = "A thousand databases a night"
PHASE = 0.5  # the emulator's minimum job phase (s): a BACKUP of a one-row table takes about 3 s
POLL = 1.0  # the plain script's SHOW BACKUP interval (s)
SIZES = {"quick": (2, 20, 3), "full": (4, 1000, 8)}  # clusters, databases in all, cap per cluster
RUN_TIMEOUT = 3 * 3600
# Airflow 3.3.2's scheduler can fail a deferred task whose resumed attempt is queued or running when the stale
# exit of its deferral arrives (apache/airflow#72716, docs/dags.md); the retry adopts the job. At 500 databases
# with retries = 1, 75 backup tasks needed a second try and 18 failed both (every database still got its one
# snapshot, but each run failed and skipped its checks): hence 3.
RETRIES = 3

PLAIN_SCRIPT = r"""
import json, sys, threading, time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
import pymysql
spec = json.loads(sys.argv[1])
local = threading.local()

def backup(port, database, repo):
    if getattr(local, "conn", None) is None:
        local.conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password="", autocommit=True)
    cursor = local.conn.cursor()
    label = "plain_" + database
    cursor.execute(f"BACKUP DATABASE {database} SNAPSHOT {label} TO {repo}")
    while True:
        time.sleep(spec["poll"])
        cursor.execute(f"SHOW BACKUP FROM {database}")
        rows = [r for r in cursor.fetchall() if r[1] == label]
        if rows and rows[-1][3] in ("FINISHED", "CANCELLED"):
            return rows[-1][3]

pools = [ThreadPoolExecutor(spec["cap"]) for _ in spec["clusters"]]  # one per cluster: the cap per cluster
futures = [pool.submit(backup, c["port"], db, c["repo"]) for pool, c in zip(pools, spec["clusters"])
           for db in c["databases"]]
print(json.dumps(Counter(f.result() for f in futures)))
"""


def sizes(quick: bool) -> tuple[int, int, int]:
    """(clusters, databases, cap); ``SR_BENCH_THOUSAND=clusters,databases,cap`` overrides (a smaller full run)."""
    override = os.environ.get("SR_BENCH_THOUSAND")
    if override:
        clusters, databases, cap = (int(x) for x in override.split(","))
        return clusters, databases, cap
    return SIZES["quick" if quick else "full"]


def database_names(clusters: int, databases: int) -> list[list[str]]:
    return [[f"c{c}_d{i:04d}" for i in range(c, databases, clusters)] for c in range(clusters)]


def seed(emulator, names: list[str]) -> None:
    conn = emulator.connect()
    with conn.cursor() as cursor:
        for name in names:
            cursor.execute(f"CREATE DATABASE {name}")
            cursor.execute(f"CREATE TABLE {name}.t (k INT, v VARCHAR(16)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) "
                           "BUCKETS 1 PROPERTIES ('replication_num' = '1')")
            cursor.execute(f"INSERT INTO {name}.t VALUES (1, 'a')")
    conn.close()


def children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- what the frontends saw


def show_rates(log_path: Path, start: float, end: float) -> dict:
    """SHOW statements and all statements the frontend received in [start, end]: counts, mean and peak a minute
    (the busiest 60 s window starting at a SHOW)."""
    entries = [e for e in QueryLog(log_path).since_mark() if "statement" in e and start <= e["time"] <= end]
    shows = sorted(e["time"] for e in entries if e["statement"].lstrip().upper().startswith("SHOW"))
    minutes = max(end - start, 1e-9) / 60
    peak, j = 0, 0
    for i, moment in enumerate(shows):
        while shows[j] < moment - 60:
            j += 1
        peak = max(peak, i - j + 1)
    if end - start < 60:
        peak = len(shows) / minutes  # a shorter window: its mean rate is its busiest minute's
    kinds = Counter(" ".join(e["statement"].split()[:2]).upper()[:30] for e in entries)
    return {"shows": len(shows), "statements": len(entries), "mean": len(shows) / minutes, "peak": peak,
            "kinds": dict(kinds)}


def _seconds(text: str | None) -> float | None:
    if not text or text in ("NULL", "\\N"):
        return None
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").timestamp()


def jobs_seen(emulator, names: list[str], prefix: str) -> tuple[int, int]:
    """(most jobs in flight at once, finished jobs) of the latest job of each database whose label starts with
    ``prefix``: SHOW BACKUP's CreateTime and FinishedTime as half-open second intervals."""
    intervals, finished = [], 0
    conn = emulator.connect()
    with conn.cursor() as cursor:
        for name in names:
            cursor.execute(f"SHOW BACKUP FROM {name}")
            for row in cursor.fetchall():
                if row[1].startswith(prefix) and row[3] == "FINISHED":
                    finished += 1
                    intervals.append((_seconds(row[5]), _seconds(row[8])))
    conn.close()
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    most = current = 0
    for _, step in events:  # an end and a start in the same second: the end first (half-open)
        current += step
        most = max(most, current)
    return most, finished


def snapshots_per_database(emulator, repo: str, names: list[str], prefix: str) -> Counter:
    """OK snapshots in ``repo`` per database (the label is ``<prefix><database>...``)."""
    rows = emulator.sql(f"SHOW SNAPSHOT ON {repo}")
    counts: Counter = Counter()
    for label, _, status in rows:
        if status != "OK":
            continue
        for name in names:
            if re.match(rf"{re.escape(prefix)}{re.escape(name)}(_|$)", label):
                counts[name] += 1
    return counts


# -- the Airflow side, measured in a process of its own (``python -m benchmarks.thousand_databases SPEC``)


def _become_subreaper() -> None:
    """Orphaned descendants are re-parented to this process (PR_SET_CHILD_SUBREAPER), so that every descendant is
    reaped inside this tree and its CPU time reaches this process's RUSAGE_CHILDREN."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER, linux/prctl.h
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _reap_orphans(deadline: float) -> None:
    import psutil

    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                for child in psutil.Process().children(recursive=True):
                    child.kill()
                deadline = float("inf")
            time.sleep(0.2)


def _tree_sample(root_pid: int) -> tuple[float, int]:
    """(CPU seconds of the live processes under ``root_pid`` and their waited-for children, RSS of the triggerer's
    processes)."""
    import psutil

    cpu, rss = 0.0, 0
    try:
        processes = [psutil.Process(root_pid), *psutil.Process(root_pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0, 0
    for process in processes:
        try:
            times = process.cpu_times()
            cpu += times.user + times.system + times.children_user + times.children_system
            if "triggerer" in " ".join(process.cmdline()):
                rss += process.memory_info().rss
        except psutil.Error:
            continue
    return cpu, rss


def _all_pages(client, url: str, key: str) -> list[dict]:
    items, offset = [], 0
    while True:
        page = client.get(url, params={"limit": 100, "offset": offset}).json()
        items += page[key]
        offset += 100
        if offset >= page["total_entries"]:
            return items


def airflow_side(spec: dict) -> dict:
    """Run ``airflow standalone``, one sr_full_backup run per cluster, stop it; the figures as a dict."""
    import httpx

    from sr_airflow.testing.servers import free_port
    from sr_airflow.testing.standalone import running_standalone, standalone_environment

    _become_subreaper()
    work = Path(spec["work"])
    home, dags = work / "airflow", work / "dags"
    home.mkdir()
    dags.mkdir()
    shutil.copyfile(ROOT / "dags" / "sr_full_backup.py", dags / "sr_full_backup.py")
    config = work / "sr_airflow.toml"
    config.write_text(f'[defaults]\nrepository = "dag_repo"\nstorage_conn_id = "aws_bench"\nretries = {RETRIES}\n'
                      f'retry_delay_s = 5\n[sr_full_backup]\nmax_parallel_backups = {spec["cap"]}\n'
                      f'max_active_runs = {len(spec["clusters"])}\n')
    port = free_port()
    env = airflow_environment(home, dags, config, spec["s3"], "aws_bench", {
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        # the DAG file is parsed once at the start, not every few seconds (as the e2e tests run it)
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "600",
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
    })
    for index, cluster in enumerate(spec["clusters"]):
        env[f"AIRFLOW_CONN_SR_C{index}"] = f"starrocks://root:@127.0.0.1:{cluster['port']}/"
    env = standalone_environment(env, home, port, None)
    started = time.monotonic()
    subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env=env, check=True,
                   capture_output=True, timeout=900)
    migrate = time.monotonic() - started
    cpu_before = children_cpu()  # the migration is set-up, not counted
    result: dict = {"migrate_s": migrate}
    peak_rss, run_ids = 0, []
    with running_standalone(env, work / "standalone.log", stop_grace=15) as standalone:
        standalone.wait_healthy(900)
        client = httpx.Client(base_url=standalone.base_url, timeout=60)
        deadline = time.monotonic() + 600
        while (dag := client.get("/api/v2/dags/sr_full_backup")).status_code != 200:
            if time.monotonic() > deadline:
                raise TimeoutError("the DAG processor did not list sr_full_backup in 600 s")
            time.sleep(1)
        dag = dag.json()
        if dag["max_active_runs"] != len(spec["clusters"]) or not dag["has_task_concurrency_limits"]:
            raise RuntimeError(f"sr_full_backup was parsed without the configured cap: {dag}")
        live, _ = _tree_sample(standalone.process.pid)
        result["startup_cpu_s"] = children_cpu() - cpu_before + live
        result["startup_s"] = time.monotonic() - started - migrate
        triggered = time.time()
        for index, cluster in enumerate(spec["clusters"]):
            conf = {"starrocks_conn_id": f"sr_c{index}", "databases": cluster["databases"],
                    "location": f"s3://{spec['bucket']}/dag/c{index}"}
            response = client.post("/api/v2/dags/sr_full_backup/dagRuns", json={"logical_date": None, "conf": conf})
            response.raise_for_status()
            run_ids.append(response.json()["dag_run_id"])
        deadline, states, polled = time.monotonic() + RUN_TIMEOUT, {}, 0.0
        while time.monotonic() < deadline:
            _, rss = _tree_sample(standalone.process.pid)
            peak_rss = max(peak_rss, rss)
            if time.monotonic() - polled > 5:
                polled = time.monotonic()
                runs = _all_pages(client, "/api/v2/dags/sr_full_backup/dagRuns", "dag_runs")
                states = {r["dag_run_id"]: r for r in runs if r["dag_run_id"] in run_ids}
                if all(r["state"] in ("success", "failed") for r in states.values()) and len(states) == len(run_ids):
                    break
            time.sleep(1)
        else:
            raise TimeoutError(f"the runs did not end in {RUN_TIMEOUT} s: {[r['state'] for r in states.values()]}")
        ended = time.time()
        tries, task_states = Counter(), Counter()
        for run_id in run_ids:
            for ti in _all_pages(client, f"/api/v2/dags/sr_full_backup/dagRuns/{run_id}/taskInstances",
                                 "task_instances"):
                task_states[f"{ti['task_id']} {ti['state']}"] += 1
                if ti["task_id"] == "backup":
                    tries[ti["try_number"]] += 1
        client.close()
    _reap_orphans(time.monotonic() + 60)
    result.update({
        "cpu_s": children_cpu() - cpu_before, "triggered": triggered, "ended": ended,
        "run_states": [states[r]["state"] for r in run_ids], "task_states": dict(task_states),
        "backup_tries": {str(k): v for k, v in sorted(tries.items())}, "triggerer_peak_rss": peak_rss,
    })
    return result


# -- the benchmark


def run(quick: bool = False) -> Section:
    clusters, databases, cap = sizes(quick)
    section = Section(NAME, TITLE)
    names = database_names(clusters, databases)
    work = Path(tempfile.mkdtemp(prefix="sr-bench-thousand-"))
    load_start = os.getloadavg()
    with servers(work, emulators=clusters, min_phase_seconds=PHASE, throughput_mbps=0) as (s3, *emulators):
        client = s3_client(s3.endpoint_url)
        bucket = new_bucket(client)
        seeding = time.monotonic()
        with ThreadPoolExecutor(clusters) as pool:
            list(pool.map(seed, emulators, names))
        for index, emulator in enumerate(emulators):
            conn = emulator.connect()
            with conn.cursor() as cursor:
                create_repository(cursor, "plain_repo", bucket, f"plain/c{index}")
            conn.close()
        seeding = time.monotonic() - seeding

        # the plain script
        spec = {"cap": cap, "poll": POLL, "clusters": [{"port": e.port, "databases": n, "repo": "plain_repo"}
                                                      for e, n in zip(emulators, names, strict=True)]}
        cpu, plain_start = children_cpu(), time.time()
        done = subprocess.run([sys.executable, "-c", PLAIN_SCRIPT, json.dumps(spec)], capture_output=True,
                              text=True, timeout=RUN_TIMEOUT)
        plain_end, plain_cpu = time.time(), children_cpu() - cpu
        if done.returncode != 0:
            raise RuntimeError(f"the plain script failed: {done.stderr[-2000:]}")
        plain_states = json.loads(done.stdout.strip().splitlines()[-1])
        plain_seen = [jobs_seen(e, n, "plain_") for e, n in zip(emulators, names, strict=True)]

        # Airflow
        airflow_spec = {"work": str(work / "airflow-side"), "cap": cap, "s3": s3.endpoint_url, "bucket": bucket,
                        "clusters": [{"port": e.port, "databases": n} for e, n in zip(emulators, names, strict=True)]}
        Path(airflow_spec["work"]).mkdir()
        spec_path = work / "airflow-spec.json"
        spec_path.write_text(json.dumps(airflow_spec))
        done = subprocess.run([sys.executable, "-m", "benchmarks.thousand_databases", str(spec_path)], cwd=ROOT,
                              capture_output=True, text=True, timeout=RUN_TIMEOUT + 1800)
        if done.returncode != 0:
            raise RuntimeError(f"the Airflow side failed ({done.returncode}): {done.stderr[-3000:]}")
        airflow = json.loads(done.stdout.strip().splitlines()[-1])
        dag_seen = [jobs_seen(e, n, "full_") for e, n in zip(emulators, names, strict=True)]

        plain_rates = [show_rates(e.query_log, plain_start, plain_end) for e in emulators]
        dag_rates = [show_rates(e.query_log, airflow["triggered"], airflow["ended"]) for e in emulators]
        plain_snaps = Counter()
        dag_snaps = Counter()
        for emulator, cluster_names in zip(emulators, names, strict=True):
            plain_snaps.update(snapshots_per_database(emulator, "plain_repo", cluster_names, "plain_"))
            dag_snaps.update(snapshots_per_database(emulator, "dag_repo", cluster_names, "full_"))
    load_end = os.getloadavg()
    all_names = [n for cluster_names in names for n in cluster_names]
    plain_wall, dag_wall = plain_end - plain_start, airflow["ended"] - airflow["triggered"]

    section.sizes = [f"{databases} databases (one table, one row each) on {clusters} emulator clusters "
                     f"({databases // clusters} each)", f"cap {cap} BACKUP jobs in flight per cluster",
                     f"emulator minimum job phase {PHASE} s (a job of about {6 * PHASE:.0f} s; a real one takes "
                     "minutes, which only lengthens the waits)"]
    section.method = [__doc__.split("\n\n", 1)[1].replace("\n", " ").strip()]
    per_db = airflow["cpu_s"] / databases
    plain_per_db = plain_cpu / databases
    section.add("Airflow CPU seconds per database (every Airflow process, start to stop, exited ones included)",
                per_db, "s", "plain script CPU s per database", plain_per_db)
    section.add("Airflow CPU seconds per database, start-up left out", (airflow["cpu_s"] - airflow["startup_cpu_s"])
                / databases, "s", "plain script CPU s per database", plain_per_db)
    section.add("wall time, first run triggered to last run ended", dag_wall, "s", "plain script wall time",
                plain_wall, target="≤ 8 h (a night)", met=dag_wall <= 8 * 3600)
    peak = max(r["peak"] for r in dag_rates)
    plain_peak = max(r["peak"] for r in plain_rates)
    section.add("SHOW statements per minute reaching one frontend, busiest minute (busiest frontend)", peak, "/min",
                f"plain script, SHOW BACKUP every {POLL:.0f} s", plain_peak, target="≤ the plain script's",
                met=peak <= plain_peak)
    section.add("SHOW statements per minute reaching one frontend, mean over the run (mean of frontends)",
                sum(r["mean"] for r in dag_rates) / clusters, "/min", "plain script",
                sum(r["mean"] for r in plain_rates) / clusters)
    section.add("statements per database reaching the frontends, all kinds",
                sum(r["statements"] for r in dag_rates) / databases, "", "plain script",
                sum(r["statements"] for r in plain_rates) / databases)
    most, plain_most = max(m for m, _ in dag_seen), max(m for m, _ in plain_seen)
    section.add("most BACKUP jobs in flight at once on one cluster", most, "", "plain script (same cap)", plain_most,
                target=f"≤ {cap} (the cap)", met=most <= cap)
    rss = airflow["triggerer_peak_rss"] / 2**20
    section.add("triggerer peak RSS (its processes together)", rss, "MB", target="≤ 1,024 MB", met=rss <= 1024)
    succeeded = airflow["run_states"].count("success")
    section.add("sr_full_backup runs that ended in success", succeeded, "", target=f"= {clusters} (one per cluster)",
                met=succeeded == clusters)
    retried = sum(v for k, v in airflow["backup_tries"].items() if k != "1")
    section.add(f"backup tasks that needed more than one try (retries = {RETRIES}; apache/airflow#72716)", retried, "")
    one_each = sum(1 for n in all_names if dag_snaps[n] == 1)
    plain_one_each = sum(1 for n in all_names if plain_snaps[n] == 1)
    section.add("databases with exactly one OK snapshot (SHOW SNAPSHOT)", one_each, "", "plain script",
                plain_one_each, target=f"= {databases}", met=one_each == databases and plain_one_each == databases)

    section.notes.append(
        f"Airflow: {airflow['cpu_s']:.0f} CPU s in all, {airflow['startup_cpu_s']:.0f} of them starting up "
        f"({airflow['startup_s']:.0f} s from `airflow standalone` to the DAG listed; `airflow db migrate` before it, "
        f"{airflow['migrate_s']:.0f} s, not counted); runs {', '.join(airflow['run_states'])}; task instances "
        f"{', '.join(f'{k} {v}' for k, v in sorted(airflow['task_states'].items()))}; backup tasks by try number "
        f"{airflow['backup_tries']} (retries = {RETRIES}, docs/dags.md). Plain script: {plain_cpu:.1f} CPU s, jobs "
        f"{plain_states}.")
    section.notes.append("Jobs in flight per cluster (most at once, finished): Airflow "
                         f"{[list(x) for x in dag_seen]}, plain script {[list(x) for x in plain_seen]}.")
    section.notes.append("Statements by kind, Airflow, first frontend: " + ", ".join(
        f"`{k}` {v}" for k, v in sorted(dag_rates[0]["kinds"].items(), key=lambda kv: -kv[1])) + ".")
    section.notes.append(
        f"What it means for a night: each database cost {per_db:.1f} CPU s of Airflow work (the backup task runs twice "
        "in a worker, to submit and to resume after the deferral, beside the scheduler's, triggerer's and API "
        f"server's share), so 1,000 databases take about {per_db * 1000 / 60:.0f} CPU minutes, about "
        f"{per_db * 1000 / 120:.0f} minutes on two cores free for Airflow, beside the jobs themselves. Each frontend "
        f"saw at most {peak:.0f} SHOW statements a minute with at most {most} jobs in flight (cap {cap}): the jobs in "
        "flight (the cap, or the worker slots when they are fewer), not the number "
        "of databases, sets a frontend's load (each waiting task polls its own database with the backoff). Raise "
        "the cap while the backends keep up with the snapshot and upload tasks; lower it when they queue.")
    section.notes.append(f"Set-up, outside the figures: {seeding:.0f} s to create the databases and repositories. Load "
                         f"average at the start {' '.join(f'{x:.1f}' for x in load_start)}, at the end "
                         f"{' '.join(f'{x:.1f}' for x in load_end)} (2 cores shared with other work).")
    raw = {"airflow": airflow, "plain_cpu": plain_cpu, "plain_wall": plain_wall, "dag_seen": dag_seen,
           "plain_seen": plain_seen, "dag_rates": dag_rates, "plain_rates": plain_rates}
    print("THOUSAND RAW " + json.dumps(raw), flush=True)
    return section


if __name__ == "__main__":
    print(json.dumps(airflow_side(json.loads(Path(sys.argv[1]).read_text()))))
