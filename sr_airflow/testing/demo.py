"""``make demo``: the shipped DAGs on the embedded default — a local S3 server and two emulated clusters.

Starts everything on 127.0.0.1, loads a sample database, runs the DAGs through Airflow (``airflow dags test``
and ``airflow backfill``-style runs), prints a short summary, and stops everything it started. Work files go
to ``demo-output/`` (kept for inspection: Airflow home, logs, emulator data, query logs).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUCKET = "sr-demo"
ACCESS_KEY, SECRET_KEY = "demo-access-key", "demo-secret-key"


class Demo:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.servers: list = []
        self.timings: dict[str, float] = {}
        self.env: dict[str, str] = {}

    # ---- set-up
    def start(self) -> None:
        from sr_airflow.testing.emulator.process import EmulatorServer
        from sr_airflow.testing.servers import S3Server

        self.s3 = self._keep(S3Server(log_path=self.workdir / "s3.log"))
        self.source = self._keep(EmulatorServer(self.workdir / "source", min_phase_seconds=0.3))
        self.target = self._keep(EmulatorServer(self.workdir / "target", min_phase_seconds=0.3))
        import boto3

        boto3.client("s3", endpoint_url=self.s3.endpoint_url, aws_access_key_id=ACCESS_KEY,
                     aws_secret_access_key=SECRET_KEY, region_name="us-east-1").create_bucket(Bucket=BUCKET)
        print(f"S3 API server on {self.s3.endpoint_url}; StarRocks emulators on ports {self.source.port} (source) "
              f"and {self.target.port} (target).")

    def _keep(self, server):
        server.start()
        self.servers.append(server)
        return server

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()

    def configure_airflow(self) -> None:
        home = self.workdir / "airflow"
        home.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "sr_airflow.toml"
        config.write_text(
            "[defaults]\n"
            'starrocks_conn_id = "starrocks_default"\n'
            'repository = "demo_repo"\n'
            f'location = "s3://{BUCKET}/backups"\n'
            'storage_conn_id = "aws_default"\n'
            'databases = ["sr_hub"]\n'
        )
        aws = {"conn_type": "aws", "login": ACCESS_KEY, "password": SECRET_KEY,
               "extra": {"endpoint_url": self.s3.endpoint_url, "region_name": "us-east-1"}}
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "SR_AIRFLOW_CONFIG": str(config),
            "AIRFLOW_CONN_STARROCKS_DEFAULT": f"starrocks://root:@127.0.0.1:{self.source.port}/",
            "AIRFLOW_CONN_STARROCKS_TARGET": f"starrocks://root:@127.0.0.1:{self.target.port}/",
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws),
            "NO_GCE_CHECK": "True",
        }
        self._airflow("db", "migrate")

    def load_sample(self) -> None:
        from sr_airflow.testing.sample_data import sample_database

        conn = self.source.connect()
        with conn.cursor() as cur:
            for statement in sample_database("sr_hub"):
                cur.execute(statement)
        conn.close()
        print("Loaded sample database sr_hub (3 tables, 5 daily partitions, an MV, a view, a UDF) on the source.")

    # ---- running DAGs
    def _airflow(self, *args: str) -> str:
        airflow = str(Path(sys.executable).parent / "airflow")
        done = subprocess.run([airflow, *args], env=self.env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
            raise SystemExit(f"airflow {' '.join(args[:3])} failed with exit code {done.returncode}.")
        return done.stdout

    def run_dag(self, dag_id: str, *, conf: dict | None = None, logical_date: str | None = None) -> None:
        args = ["dags", "test", dag_id] + ([logical_date] if logical_date else [])
        if conf:
            args += ["-c", json.dumps(conf)]
        started = time.monotonic()
        self._airflow(*args)
        self.timings[dag_id + (f" {logical_date}" if logical_date else "")] = time.monotonic() - started
        print(f"  {dag_id} {logical_date or ''} succeeded in {self.timings[list(self.timings)[-1]]:.1f} s")

    # ---- what happened
    def summary(self) -> None:
        from sr_airflow.storage import get_storage

        storage = get_storage(f"s3://{BUCKET}/backups", endpoint=self.s3.endpoint_url,
                              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        print("\nSnapshots in demo_repo (read straight from storage):")
        for listing in storage.list_snapshots("demo_repo"):
            size = storage.snapshot_size("demo_repo", listing.label)
            status = "OK" if listing.timestamps else "ERROR: no snapshot"
            print(f"  {listing.label:<50} {', '.join(listing.timestamps):<24} {status:<4} "
                  f"{size.bytes:>9} bytes in {size.objects} files")
        print("\nDAG runs:")
        for name, seconds in self.timings.items():
            print(f"  {name:<40} {seconds:6.1f} s")


def main() -> None:
    workdir = REPO_ROOT / "demo-output"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    demo = Demo(workdir)
    try:
        demo.start()
        demo.configure_airflow()
        demo.load_sample()
        print("Running the nightly full backup DAG (sr_full_backup)...")
        demo.run_dag("sr_full_backup")
        demo.summary()
    finally:
        demo.stop()
    print(f"\nDemo finished; Airflow home, logs and emulator data are in {workdir}.")


if __name__ == "__main__":
    main()
