"""Do many polling clients slow the emulator's jobs down?

Starts a local S3 API server (moto) and one emulator (`--phase` seconds per job state, `--mbps` throughput), loads
about `--mb` MB of rows, then runs the same BACKUP (and a RESTORE of it into a new database) twice: alone, and while
`--clients` PyMySQL connections each issue `SHOW BACKUP` every `--interval` seconds. Prints a markdown table of the
job durations, their ratio (with load / without) and whether it stays within `--limit` (1.20 = 20 % slower at most).
One run each, on the same data. Usage: `python benchmarks/emulator_load.py [--clients 50 --interval 0.1 --mb 20]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

import boto3

from sr_airflow.testing.emulator.process import EmulatorServer
from sr_airflow.testing.servers import S3Server

ROW_BYTES = 8 + 4 + 3 * 32


def wait(cursor, kind: str, db: str) -> str:
    while True:
        cursor.execute(f"SHOW {kind} FROM {db}")
        rows = cursor.fetchall()
        state = rows[0][3 if kind == "BACKUP" else 4] if rows else "PENDING"
        if state in ("FINISHED", "CANCELLED"):
            return state
        time.sleep(0.05)


class Pollers:
    """`clients` connections, each running SHOW BACKUP every `interval` seconds on its own thread."""

    def __init__(self, server: EmulatorServer, clients: int, interval: float):
        self.server, self.clients, self.interval = server, clients, interval
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.errors = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._poll, daemon=True) for _ in range(clients)]

    def _poll(self) -> None:
        conn = self.server.connect()
        cursor = conn.cursor()
        next_at = time.monotonic()
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                cursor.execute("SHOW BACKUP")
                cursor.fetchall()
                with self.lock:
                    self.latencies.append(time.monotonic() - started)
            except Exception:  # noqa: BLE001 - counted, the benchmark goes on
                with self.lock:
                    self.errors += 1
            next_at += self.interval
            self.stop.wait(max(0.0, next_at - time.monotonic()))
        conn.close()

    def __enter__(self) -> Pollers:
        for thread in self.threads:
            thread.start()
        time.sleep(1.0)  # every client connected and polling
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)


def run_jobs(cursor, suffix: str, stamp_of) -> tuple[float, float]:
    started = time.monotonic()
    cursor.execute(f"BACKUP DATABASE load SNAPSHOT snap_{suffix} TO load_repo")
    assert wait(cursor, "BACKUP", "load") == "FINISHED"
    backup = time.monotonic() - started
    stamp = stamp_of(f"snap_{suffix}")
    started = time.monotonic()
    cursor.execute(f"RESTORE SNAPSHOT snap_{suffix} FROM load_repo DATABASE load AS load_{suffix} "
                   f"PROPERTIES ('backup_timestamp' = '{stamp}')")
    assert wait(cursor, "RESTORE", f"load_{suffix}") == "FINISHED"
    return backup, time.monotonic() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between two SHOW BACKUP of a client")
    parser.add_argument("--mb", type=int, default=20, help="logical size of the rows in MB")
    parser.add_argument("--mbps", type=float, default=200.0, help="emulator throughput knob (0 = unlimited)")
    parser.add_argument("--phase", type=float, default=0.3, help="emulator minimum phase seconds")
    parser.add_argument("--limit", type=float, default=1.20, help="largest acceptable ratio")
    args = parser.parse_args(argv)
    rows = args.mb * 1024 * 1024 // ROW_BYTES
    work = Path(tempfile.mkdtemp(prefix="sr-emulator-load-"))
    with S3Server(log_path=work / "s3.log") as s3:
        bucket = f"load-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=s3.endpoint_url, aws_access_key_id="bench", aws_secret_access_key="bench",
                     region_name="us-east-1").create_bucket(Bucket=bucket)
        with EmulatorServer(work / "fe", s3_endpoint=s3.endpoint_url, min_phase_seconds=args.phase,
                            throughput_mbps=args.mbps) as fe:
            cursor = fe.connect().cursor()
            cursor.execute(f"CREATE REPOSITORY load_repo WITH BROKER ON LOCATION 's3a://{bucket}/backup' "
                           "PROPERTIES ('aws.s3.access_key' = 'bench', 'aws.s3.secret_key' = 'bench')")
            cursor.execute("CREATE DATABASE load")
            step = rows // 4 + 1
            bounds = ", ".join(f'PARTITION p{i} VALUES LESS THAN ("{(i + 1) * step}")' for i in range(4))
            cursor.execute(f"CREATE TABLE load.t (id BIGINT NOT NULL, b INT, s1 VARCHAR(32), s2 VARCHAR(32), "
                           f"s3 VARCHAR(32)) DUPLICATE KEY(id) PARTITION BY RANGE(id) ({bounds}) "
                           "DISTRIBUTED BY HASH(id) BUCKETS 4")
            cursor.execute("INSERT INTO load.t SELECT generate_series, generate_series % 1000, "
                           "md5(cast(generate_series AS VARCHAR)), md5(cast(generate_series + 1 AS VARCHAR)), "
                           f"md5(cast(generate_series + 2 AS VARCHAR)) FROM TABLE(generate_series(0, {rows - 1}))")

            def stamp_of(label: str) -> str:
                cursor.execute(f"SHOW SNAPSHOT ON load_repo WHERE SNAPSHOT = '{label}'")
                return cursor.fetchall()[0][1]

            quiet = run_jobs(cursor, "quiet", stamp_of)
            with Pollers(fe, args.clients, args.interval) as pollers:
                loaded = run_jobs(cursor, "loaded", stamp_of)
            latencies = sorted(pollers.latencies)

    print(f"Emulator under load: {rows:,} rows (about {args.mb} MB logical), {args.clients} clients each issuing "
          f"SHOW BACKUP every {args.interval * 1000:.0f} ms, phase {args.phase} s, throughput "
          f"{'unlimited' if not args.mbps else f'{args.mbps} MB/s'}; one run each\n")
    print("| job | alone (s) | with load (s) | ratio | within limit |")
    print("|---|---:|---:|---:|---|")
    for name, alone, busy in (("backup", quiet[0], loaded[0]), ("restore", quiet[1], loaded[1])):
        ratio = busy / alone
        print(f"| {name} | {alone:.2f} | {busy:.2f} | {ratio:.2f} | {'yes' if ratio <= args.limit else 'NO'} "
              f"(limit {args.limit:.2f}) |")
    if latencies:
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        print(f"\nSHOW BACKUP during the loaded run: {len(latencies)} answered, {pollers.errors} failed, "
              f"median {statistics.median(latencies) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms.")


if __name__ == "__main__":
    main()
