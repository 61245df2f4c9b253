"""4. Orchestration overhead: ``sr_full_backup`` end to end vs a plain script, for a 60-second backup job.

One emulator (with a local S3 API server) whose job phases are slowed so that a BACKUP of a small database takes
about 60 s. The plain script (a fresh interpreter) connects, sends BACKUP and polls SHOW BACKUP every second
until the job ends. The DAG runs through ``dag.test()`` on a migrated SQLite metadata database (as ``airflow dags
test`` does, without the CLI): it creates the repository, backs up with the operator's polling backoff, records
the snapshot in the catalog and checks it. It runs twice: in a fresh process (start-up, parse and the process's
first ``dag.test()``), and in a warm process after two ``dag.test()`` runs of a one-EmptyOperator DAG, as a
long-running Airflow would run it. The EmptyOperator runs measure what Airflow itself costs: the first
``dag.test()`` of a process builds Airflow's in-process execution API, later ones are one DAG run's bookkeeping.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, Section, airflow_environment, create_repository, new_bucket, s3_client, servers

NAME = "orchestration"
TITLE = "Orchestration overhead"
TARGET_RATIO = 1.2
PHASES = 6  # minimum-time pauses of a backup job in the emulator (before each state change and in the upload)

PLAIN_SCRIPT = r"""
import sys, time, pymysql
port, database, label, repo = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password="", autocommit=True)
cur = conn.cursor()
cur.execute(f"BACKUP DATABASE {database} SNAPSHOT {label} TO {repo}")
while True:
    time.sleep(1)
    cur.execute(f"SHOW BACKUP FROM {database}")
    row = [r for r in cur.fetchall() if r[1] == label][-1]
    if row[3] in ("FINISHED", "CANCELLED"):
        break
assert row[3] == "FINISHED", row
"""

EMPTY_DAG = '''
import pendulum
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG(dag_id="bench_empty", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), schedule=None,
         catchup=False) as dag:
    EmptyOperator(task_id="nothing")
'''

DAG_TEST = r"""
import json, runpy, sys, time
started = time.perf_counter()
import airflow.sdk
imported = time.perf_counter()
runs = []
for path in sys.argv[1:]:
    began = time.perf_counter()
    dag = runpy.run_path(path)["dag"]
    parsed = time.perf_counter()
    dag_run = dag.test()
    ended = time.perf_counter()
    tis = dag_run.get_task_instances()
    runs.append({"dag": dag.dag_id, "parse": parsed - began, "test": ended - parsed, "state": str(dag_run.state),
                 "states": {f"{ti.task_id}[{ti.map_index}]": str(ti.state) for ti in tis},
                 "tasks": {f"{ti.task_id}[{ti.map_index}]": (ti.end_date - ti.start_date).total_seconds()
                           for ti in tis if ti.start_date and ti.end_date}})
print(json.dumps({"import": imported - started, "runs": runs}))
"""


def airflow_env(work: Path, dags: Path, emulator_port: int, s3_endpoint: str, bucket: str) -> dict[str, str]:
    config = work / "sr_airflow.toml"
    config.write_text(f'[defaults]\nstarrocks_conn_id = "starrocks_default"\nrepository = "dag_repo"\n'
                      f'location = "s3://{bucket}/dag"\nstorage_conn_id = "aws_default"\ndatabases = ["sr_hub"]\n')
    home = work / "airflow"
    home.mkdir(exist_ok=True)
    return airflow_environment(home, dags, config, s3_endpoint, "aws_default", {
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW_CONN_STARROCKS_DEFAULT": f"starrocks://root:@127.0.0.1:{emulator_port}/",
    })


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed ({done.returncode}): {done.stdout[-1500:]}"
                           f"{done.stderr[-2500:]}")
    return seconds, done.stdout


def dag_test(paths: list[Path], env: dict[str, str]) -> tuple[float, dict]:
    """``dag.test()`` of each DAG file in turn, in one fresh process."""
    wall, out = timed([sys.executable, "-c", DAG_TEST, *map(str, paths)], env)
    result = json.loads(out.strip().splitlines()[-1])
    for run_ in result["runs"]:
        if run_["state"] != "success":
            raise RuntimeError(f"{run_['dag']} ended {run_['state']}: {run_['states']}")
    return wall, result


def _tasks(run_: dict) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in sorted(run_["tasks"].items(), key=lambda kv: kv[1], reverse=True))


def run(quick: bool = False) -> Section:
    from sr_airflow.engine.jobwatch import Backoff
    from sr_airflow.testing.sample_data import sample_database

    section = Section(NAME, TITLE)
    job_seconds = 5.0 if quick else 60.0
    phase = job_seconds / PHASES
    work = Path(tempfile.mkdtemp(prefix="sr-bench-orch-"))
    airflow = str(Path(sys.executable).parent / "airflow")
    # dag.test() runs only DAGs of the dags folder: the shipped DAG file, copied beside the EmptyOperator one
    dags = work / "dags"
    dags.mkdir()
    full_dag, empty_dag = dags / "sr_full_backup.py", dags / "bench_empty.py"
    shutil.copyfile(ROOT / "dags" / "sr_full_backup.py", full_dag)
    empty_dag.write_text(EMPTY_DAG)
    with servers(work, min_phase_seconds=phase, throughput_mbps=0) as (s3, emu):
        client = s3_client(s3.endpoint_url)
        bucket = new_bucket(client)
        conn = emu.connect()
        with conn.cursor() as cursor:
            for statement in sample_database("sr_hub"):
                cursor.execute(statement)
            create_repository(cursor, "script_repo", bucket, "script")
        conn.close()
        env = airflow_env(work, dags, emu.port, s3.endpoint_url, bucket)
        migrate, _ = timed([airflow, "db", "migrate"], env)
        plain, _ = timed([sys.executable, "-c", PLAIN_SCRIPT, str(emu.port), "sr_hub", "script_snap", "script_repo"])
        cold_wall, cold = dag_test([full_dag], env)
        _, warm = dag_test([empty_dag, empty_dag, full_dag], env)
        snapshots = {o["Key"].rsplit("/", 2)[-2] for o in
                     client.list_objects_v2(Bucket=bucket, Prefix="dag/").get("Contents", [])
                     if "/__ss_" in o["Key"] and "/__info_" in o["Key"]}
    if len(snapshots) < 2:
        raise RuntimeError(f"two DAG runs reported success but the bucket holds {len(snapshots)} of their snapshots.")
    full, (empty_first, empty_again, full_warm) = cold["runs"][0], warm["runs"]
    target = f"≤ {TARGET_RATIO}× the plain script"
    figures = [
        ("sr_full_backup end to end, fresh process (start-up, parse, the process's first `dag.test()`)", cold_wall),
        ("sr_full_backup first `dag.test()` of a process (Airflow loaded, DAG parsed)", full["test"]),
        ("sr_full_backup `dag.test()` in a warm process (after two EmptyOperator runs)", full_warm["test"]),
    ]
    for figure, seconds in figures:
        row = section.add(figure, seconds, "s", "plain script: BACKUP + SHOW BACKUP every second", plain,
                          target=target)
        row.met = row.ratio <= TARGET_RATIO
    section.add("floor: first `dag.test()` of a process, one-EmptyOperator DAG (builds Airflow's in-process "
                "execution API)", empty_first["test"], "s")
    section.add("floor: a later `dag.test()` of the one-EmptyOperator DAG (one DAG run's bookkeeping)",
                empty_again["test"], "s")
    section.add("floor: process start-up + Airflow import + DAG parse (sr_full_backup)",
                cold["import"] + full["parse"], "s")
    section.sizes = [f"a backup job of about {job_seconds:.0f} s (emulator minimum phase {phase:.2f} s × {PHASES} "
                     "phases)", "the sample database sr_hub (3 tables, 5 daily partitions, an MV, a view, a UDF)",
                     "one database, so one mapped backup task"]
    section.method = [__doc__.split("\n\n", 1)[1].replace("\n", " ").strip()]
    section.notes.append(f"`airflow db migrate` took {migrate:.0f} s (once, not counted). Both DAG runs succeeded "
                         f"and their snapshots are in the bucket ({', '.join(sorted(snapshots))}).")
    section.notes.append(f"Task durations, fresh process: {_tasks(full)}; warm process: {_tasks(full_warm)}. The "
                         "first task of a process also waits for Airflow to build its in-process execution API "
                         f"(the first EmptyOperator task took {_tasks(empty_first).split(' ', 1)[1]}, a later one "
                         f"{_tasks(empty_again).split(' ', 1)[1]}).")
    moments, interval = [0.0], None
    while moments[-1] < job_seconds:
        interval = Backoff().next(interval, moments[-1])
        moments.append(moments[-1] + interval)
    section.notes.append(
        "The operator polls with the default backoff: every 2 s for the first 20 s, then never more than 10% of "
        f"the time waited apart (up to 60 s); a {job_seconds:.0f} s job is seen done by the poll at "
        f"{moments[-1]:.1f} s, and a job of any length at most max(2 s, 10%) after it ends (plain doubling, as "
        "before, polled at 62 s and then 122 s: up to 2× the job).")
    if any(not row.met for row in section.rows if row.met is not None):
        ours = full_warm["test"] - empty_again["test"]
        section.close.append(
            f"The plain script took {plain:.0f} s. In a warm process, where Airflow's one-time costs are paid, "
            f"`dag.test()` of sr_full_backup took {full_warm['test']:.0f} s ({full_warm['test'] / plain:.2f}×): "
            f"{empty_again['test']:.1f} s is Airflow's bookkeeping of any DAG run, the rest ({ours:.0f} s, "
            f"{ours / plain:.2f}× the script) is the job plus the provider's own work ({_tasks(full_warm)}). "
            f"The backup task's {full_warm['tasks'].get('backup[0]', 0) - plain:.0f} s beyond the script's time are "
            "the poll overshoot (now at most max(2 s, 10%) of the job) and the provider's work around the job: "
            "pre-checks and the catalog record (profiled: the S3 client's creation, botocore loading the S3 service "
            "model and the AWS hook inspecting the call stack; pyarrow's import for the catalog Parquet; about a "
            "dozen StarRocks round trips, each on a new connection, three of them `SELECT current_version()`). "
            "The round trips are the operators' and the hook's to trim; the imports are paid once per task "
            "process.")
        section.close.append(
            f"A fresh process adds {cold['import'] + full['parse']:.0f} s of start-up, Airflow import and parsing, "
            f"and its first `dag.test()` builds Airflow's in-process execution API: the first run of a "
            f"one-EmptyOperator DAG takes {empty_first['test']:.1f} s against {empty_again['test']:.1f} s for a "
            "later one (profiled: Cadwyn generating the versioned routes of the execution API, and importing the "
            "API stack). That is Airflow's, paid once per process: a deployed API server pays it once at start-up, "
            "not per DAG run, so it is not ours to cut. Ours, cut here: the polling overshoot (the backoff is "
            "capped at 10% of the time waited instead of doubling to 60 s).")
    return section
