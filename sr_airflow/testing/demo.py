"""``make demo``: the shipped DAGs on the embedded default — a local S3 server and two emulated clusters.

``python -m sr_airflow.testing.demo --storage s3|gcs|hdfs`` picks the store: ``s3`` (the default, what ``make demo``
runs) is moto's S3 API server used as a MinIO-style endpoint; ``gcs`` is the GCS API emulator (gcp-storage-emulator),
reached by the clusters as the seed's GCS form (``s3a://`` with ``fs.s3a.endpoint = storage.googleapis.com``) and by
sr_airflow through a ``google_cloud_platform`` connection; ``hdfs`` is the project's WebHDFS test double
(``sr_airflow.testing.webhdfs``), an ``hdfs://`` location with a broker user.

Starts the store and two StarRocks emulators on 127.0.0.1, loads a sample database (partitioned tables,
a materialized view, a view, a UDF), then runs through Airflow (``dag.test()`` in one child process, against a
migrated metadata database): the nightly full backup, an incremental after one partition changed, a backfill
of three days of partitions, a migration to the second cluster, a point-in-time restore and retention. Prints
a short summary and stops everything it started. Work files stay in ``demo-output/`` for inspection.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUCKET = "sr-demo"
ACCESS_KEY, SECRET_KEY = "demo-access-key", "demo-secret-key"
HMAC_ID, HMAC_SECRET = "GOOG1EDEMOHMACACCESSID", "demo-hmac-secret"
HDFS_USER = "sr_demo"
DATABASE = "sr_hub"
STORES = ("s3", "gcs", "hdfs")


# ---- the child process: Airflow runs the DAGs ----------------------------------------------------------------
def run_scenario(source_port: int) -> dict:
    """Runs inside the child (Airflow configured by the environment). Returns what happened, for the summary."""
    import pendulum
    import pymysql
    from airflow.sdk.definitions.dag import DAG  # noqa: F401 - Airflow loads before the DAG files

    def dag(dag_id: str):
        import runpy

        return runpy.run_path(str(REPO_ROOT / "dags" / f"{dag_id}.py"))["dag"]

    def sql(statement: str) -> None:
        conn = pymysql.connect(host="127.0.0.1", port=source_port, user="root", autocommit=True)
        with conn.cursor() as cur:
            cur.execute(statement)
        conn.close()

    steps: list[dict] = []

    def run(title: str, dag_id: str, **kwargs) -> dict:
        started = time.monotonic()
        dag_run = dag(dag_id).test(**kwargs)
        tasks = {ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]": (str(ti.state), ti)
                 for ti in dag_run.get_task_instances()}
        step = {"title": title, "dag_id": dag_id, "state": str(dag_run.state),
                "seconds": round(time.monotonic() - started, 1),
                "tasks": {k: v[0] for k, v in tasks.items()}}
        steps.append(step)
        print(f"  {title:<58} {step['state']:<8} {step['seconds']:6.1f} s", flush=True)
        if step["state"] != "success":
            raise SystemExit(f"{dag_id} did not succeed: {step['tasks']}")
        step["xcom"] = {k: v[1].xcom_pull(task_ids=v[1].task_id, map_indexes=v[1].map_index)
                        for k, v in tasks.items() if v[0] == "success"}
        return step

    run("1. nightly full backup (sr_full_backup)", "sr_full_backup")
    sql(f"INSERT INTO {DATABASE}.sr_events VALUES (1001, 7, '2024-12-03', 99.90)")
    run("2. one partition changed: incremental (mode changed)", "sr_incremental_backup")
    point_in_time = pendulum.now("UTC").to_iso8601_string()
    time.sleep(1.1)
    for day in ("2024-12-01", "2024-12-02", "2024-12-04"):
        sql(f"INSERT INTO {DATABASE}.sr_events VALUES (2000, 3, '{day}', 10.00)")
    for day in (1, 2, 4):
        moment = pendulum.datetime(2024, 12, day, tz="UTC")
        run(f"3. backfill {moment.to_date_string()}: its partition (mode logical_date)", "sr_incremental_backup",
            logical_date=moment, run_after=moment, run_conf={"mode": "logical_date"})
    run("4. migrate sr_hub to the second cluster (sr_migration)", "sr_migration",
        run_conf={"database": DATABASE, "verify": "counts"})
    run("5. point-in-time restore as sr_hub_then (sr_restore)", "sr_restore",
        run_conf={"database": DATABASE, "target_database": "sr_hub_then", "point_in_time": point_in_time})
    run("6. retention: keep the newest and what it needs (sr_retention)", "sr_retention",
        run_conf={"keep_last": 1, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0, "dry_run": False})
    return {"steps": steps}


# ---- the parent process: servers, data, environment, summary --------------------------------------------------
class Demo:
    def __init__(self, workdir: Path, storage: str = "s3"):
        if storage not in STORES:
            raise SystemExit(f"--storage must be one of {', '.join(STORES)}, got {storage!r}.")
        self.workdir = workdir
        self.storage = storage
        self.servers: list = []

    def start(self) -> None:
        from sr_airflow.testing.emulator.process import EmulatorServer

        redirects, described = self._start_store()
        self.source = self._keep(EmulatorServer(self.workdir / "source", min_phase_seconds=0.2, **redirects))
        self.target = self._keep(EmulatorServer(self.workdir / "target", min_phase_seconds=0.2, **redirects))
        print(f"{described}; StarRocks emulators on ports {self.source.port} (source) and {self.target.port} "
              "(target).")

    def _start_store(self) -> tuple[dict[str, str], str]:
        """Start the store; returns the emulators' redirect for it and a line saying what runs where."""
        if self.storage == "gcs":
            from sr_airflow.testing.servers import GcsServer

            self.store = self._keep(GcsServer(log_path=self.workdir / "gcs.log"))
            self._gcs_client().create_bucket(BUCKET)
            return {"gcs_endpoint": self.store.endpoint_url}, f"GCS API emulator on {self.store.endpoint_url}"
        if self.storage == "hdfs":
            from sr_airflow.testing.webhdfs import WebHdfsServer

            self.store = self._keep(WebHdfsServer(root=str(self.workdir / "hdfs"),
                                                  log_path=self.workdir / "webhdfs.log"))
            return ({"webhdfs_endpoint": self.store.url},
                    f"WebHDFS test server on {self.store.url} (files in {self.workdir / 'hdfs'})")
        import boto3

        from sr_airflow.testing.servers import S3Server

        self.store = self._keep(S3Server(log_path=self.workdir / "s3.log"))
        boto3.client("s3", endpoint_url=self.store.endpoint_url, aws_access_key_id=ACCESS_KEY,
                     aws_secret_access_key=SECRET_KEY, region_name="us-east-1").create_bucket(Bucket=BUCKET)
        return {}, f"S3 API server on {self.store.endpoint_url}"

    def _gcs_client(self):
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(project="sr-demo", credentials=AnonymousCredentials(),
                              client_options={"api_endpoint": self.store.endpoint_url})

    @property
    def location(self) -> str:
        return {"s3": f"s3://{BUCKET}/backups", "gcs": f"gs://{BUCKET}/backups",
                "hdfs": f"hdfs://namenode:8020/{BUCKET}/backups"}[self.storage]

    def storage_connection(self) -> tuple[str, dict, dict[str, str]]:
        """The storage connection's id and JSON, and the environment its client needs to find the local store."""
        if self.storage == "gcs":
            return "google_cloud_default", {"conn_type": "google_cloud_platform", "extra": {
                "is_anonymous": True, "project": "sr-demo", "hmac_access_id": HMAC_ID,
                "hmac_secret": HMAC_SECRET}}, {"STORAGE_EMULATOR_HOST": self.store.endpoint_url}
        if self.storage == "hdfs":
            return "webhdfs_default", {"conn_type": "webhdfs", "host": "127.0.0.1", "port": self.store.port,
                                       "login": HDFS_USER}, {}
        return "aws_default", {"conn_type": "aws", "login": ACCESS_KEY, "password": SECRET_KEY,
                               "extra": {"endpoint_url": self.store.endpoint_url, "region_name": "us-east-1"}}, {}

    def _keep(self, server):
        server.start()
        self.servers.append(server)
        return server

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()

    def load_sample(self) -> None:
        from sr_airflow.testing.sample_data import sample_database

        self.source.sql(*sample_database(DATABASE))
        print(f"Loaded sample database {DATABASE} on the source: sr_events (5 daily partitions), sr_member "
              "(primary key), sr_pmc, materialized view sr_mv1, view sr_view1, UDF sr_udf1.")

    def environment(self) -> dict[str, str]:
        home = self.workdir / "airflow"
        home.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "sr_airflow.toml"
        conn_id, connection, store_env = self.storage_connection()
        config.write_text(
            "[defaults]\n"
            'starrocks_conn_id = "starrocks_default"\n'
            'repository = "demo_repo"\n'
            f'location = "{self.location}"\n'
            f'storage_conn_id = "{conn_id}"\n'
            f'databases = ["{DATABASE}"]\n'
            "[sr_migration]\n"
            'source_conn_id = "starrocks_default"\n'
            'target_conn_id = "starrocks_target"\n'
            "[sr_incremental_backup]\n"
            'partition_template = "p{{ data_interval_start | ds_nodash }}"\n'
        )
        return {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "SR_AIRFLOW_CONFIG": str(config),
            "AIRFLOW_CONN_STARROCKS_DEFAULT": f"starrocks://root:@127.0.0.1:{self.source.port}/",
            "AIRFLOW_CONN_STARROCKS_TARGET": f"starrocks://root:@127.0.0.1:{self.target.port}/",
            f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(connection),
            "NO_GCE_CHECK": "True",
            **store_env,
        }

    def run_dags(self) -> dict:
        env = self.environment()
        airflow = str(Path(sys.executable).parent / "airflow")
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
        result_file = self.workdir / "scenario.json"
        with open(self.workdir / "airflow.log", "w") as log:
            done = subprocess.run([sys.executable, "-m", "sr_airflow.testing.demo", "--scenario",
                                   str(self.source.port), str(result_file)], env=env, stdout=log,
                                  stderr=subprocess.STDOUT, timeout=1800)
        sys.stdout.write(_progress_lines(self.workdir / "airflow.log"))
        if done.returncode != 0:
            raise SystemExit(f"The DAG runs failed; see {self.workdir / 'airflow.log'}.")
        return json.loads(result_file.read_text())

    def summary(self, scenario: dict) -> None:
        from sr_airflow.storage import get_storage
        from sr_airflow.storage.catalog_store import CatalogStore

        if self.storage == "gcs":
            storage = get_storage(self.location, endpoint_url=self.store.endpoint_url)
        elif self.storage == "hdfs":
            storage = get_storage(self.location, webhdfs_url=self.store.url, user=HDFS_USER)
        else:
            storage = get_storage(self.location, endpoint=self.store.endpoint_url, aws_access_key_id=ACCESS_KEY,
                                  aws_secret_access_key=SECRET_KEY)
        catalog = CatalogStore(storage, "demo_repo").load()
        print(f"\nSnapshots kept in demo_repo at {self.location} (catalog beside them in storage):")
        for entry in catalog.entries():
            partitions = len(entry.partitions)
            print(f"  {entry.label:<44} {entry.snapshot_kind.value:<11} parent {str(entry.parent_label)[:22]:<22} "
                  f"{partitions:>3} partitions {entry.snapshot_bytes or 0:>8} bytes")
        migration = next(s for s in scenario["steps"] if s["dag_id"] == "sr_migration")
        restore = next(s for s in scenario["steps"] if s["dag_id"] == "sr_restore")
        retention = next(s for s in scenario["steps"] if s["dag_id"] == "sr_retention")
        summary = migration["xcom"].get("summary") or {}
        verify = migration["xcom"].get("verify") or {}
        print("\nMigration: snapshot", summary.get("snapshot_label"), f"({summary.get('snapshot_bytes')} bytes);",
              f"verify ok={verify.get('ok')} over {verify.get('partitions_checked')} partitions;",
              f"catch-up rounds {summary.get('catch_up_rounds')}, in step: {summary.get('in_step')}.")
        chain = (restore["xcom"].get("restore") or {}).get("chain")
        print(f"Point-in-time restore: chain {chain}; verify ok="
              f"{(restore['xcom'].get('verify') or {}).get('ok')}.")
        print(f"Retention deleted: {(retention['xcom'].get('apply_retention') or {}).get('deleted')}.")
        source_rows = self.source.sql(f"SELECT count(*) FROM {DATABASE}.sr_events")[0][0]
        target_rows = self.target.sql(f"SELECT count(*) FROM {DATABASE}.sr_events")[0][0]
        print(f"Rows of sr_events: source {source_rows}, target {target_rows}.")
        print(f"\n{len(scenario['steps'])} DAG runs, {sum(s['seconds'] for s in scenario['steps']):.0f} s in total.")
        self.catalog_cli()

    def catalog_cli(self) -> None:
        """``sr-airflow list`` and ``sr-airflow rpo`` on what the demo backed up, run as a user would: the DAGs'
        connection and sr_airflow.toml in the environment, no options."""
        env = self.environment()
        for command in ("list", "rpo"):
            print(f"\n$ sr-airflow {command}", flush=True)
            subprocess.run([sys.executable, "-m", "sr_airflow.cli", command], env=env, timeout=300, check=False)


def _progress_lines(log_path: Path) -> str:
    return "".join(line for line in log_path.read_text().splitlines(keepends=True) if re.match(r"  \d\. ", line))


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--scenario":
        result = run_scenario(int(sys.argv[2]))
        Path(sys.argv[3]).write_text(json.dumps(result, default=str))
        return
    import argparse

    parser = argparse.ArgumentParser(prog="python -m sr_airflow.testing.demo",
                                     description="The shipped DAGs on two emulated clusters and a local store.")
    parser.add_argument("--storage", choices=STORES, default="s3",
                        help="s3: moto's S3 API server (default, as make demo); gcs: the GCS API emulator; "
                             "hdfs: the WebHDFS test server")
    parser.add_argument("--serve", action="store_true",
                        help="after the demo keep everything up (the emulators, the store, airflow standalone with "
                             "the shipped DAGs and the backups page) until Ctrl-C, as make demo-ui does")
    parser.add_argument("--serve-only", action="store_true",
                        help="as --serve, without running the demo's DAGs first (an empty repository)")
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / "demo-output",
                        help="where the demo keeps its files (emptied first; default: demo-output/)")
    args = parser.parse_args()
    workdir = args.workdir.resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    demo = Demo(workdir, args.storage)
    try:
        demo.start()
        demo.load_sample()
        if not args.serve_only:
            print("Running the DAGs through Airflow (dag.test) ...")
            scenario = demo.run_dags()
            demo.summary(scenario)
        if args.serve or args.serve_only:
            from sr_airflow.testing.demo_serve import serve

            serve(demo)
    finally:
        demo.stop()
    print(f"\nDemo finished; everything it started is stopped. Airflow home, logs and emulator data: {workdir}.")


if __name__ == "__main__":
    main()
