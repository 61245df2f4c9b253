"""Do many polling clients slow the emulator's jobs down?

Starts a local S3 API server (moto) and one emulator (`--phase` seconds per job state, `--mbps` throughput), loads
about `--mb` MB of rows, then runs the same BACKUP (and a RESTORE of it into a new database) alone and while
`--clients` PyMySQL connections each issue `SHOW BACKUP` every `--interval` seconds, `--repeat` times, alone and
loaded interleaved (so a change in the machine's other load hits both). The pollers run in a child process of their
own at a lower CPU priority (`--poller-nice`): they stand for clients on other machines, whose Python (PyMySQL
decoding 14 columns 500 times a second) would otherwise take more CPU on this small machine than the emulator
answering them; the rate they reach is printed, so the load the emulator served is on record. With two CPUs or more
(`--pin`, the default), the servers and this process are pinned to one CPU and the pollers to the others, as
clients on other machines would be: the emulator's own cost of answering them stays on the emulator's CPU and in
its measured job time, while the pollers' PyMySQL decoding does not compete with it for a core.
Prints a markdown table of the median job durations, their ratio (with load / without) and whether it stays within
`--limit` (1.20 = 20 % slower at most). Usage: `python benchmarks/emulator_load.py [--clients 50 --interval 0.1
--mb 20 --repeat 3]`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

import boto3
import pymysql

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


def _poll(host: str, port: int, password: str, interval: float, stop, results) -> None:
    conn = pymysql.connect(host=host, port=port, user="root", password=password, autocommit=True)
    cursor = conn.cursor()
    latencies, errors = [], 0
    next_at = time.monotonic()
    while not stop.is_set():
        started = time.monotonic()
        try:
            cursor.execute("SHOW BACKUP")
            cursor.fetchall()
            latencies.append(time.monotonic() - started)
        except Exception:  # noqa: BLE001 - counted, the benchmark goes on
            errors += 1
        next_at += interval
        stop.wait(max(0.0, next_at - time.monotonic()))
    conn.close()
    results.append((latencies, errors))


def split_cpus() -> tuple[set[int], set[int]] | None:
    """(the servers' CPU, the pollers' CPUs), or None when there are fewer than two CPUs to split."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return ({cpus[0]}, set(cpus[1:])) if len(cpus) >= 2 else None


def _poller_process(host: str, port: int, password: str, clients: int, interval: float, nice: int, cpus, stop,
                    ready, out) -> None:
    """`clients` connections on threads of this process, each polling every `interval` s, staggered over one
    interval; puts (latencies, errors) on `out` once `stop` is set."""
    os.nice(nice)
    if cpus:
        os.sched_setaffinity(0, cpus)
    results: list = []
    inner_stop = threading.Event()
    threads = []
    for _ in range(clients):
        thread = threading.Thread(target=_poll, args=(host, port, password, interval, inner_stop, results),
                                  daemon=True)
        thread.start()
        threads.append(thread)
        time.sleep(interval / clients)
    ready.set()
    stop.wait()
    inner_stop.set()
    for thread in threads:
        thread.join(timeout=10)
    out.put(([x for lat, _ in results for x in lat], sum(err for _, err in results)))


class Pollers:
    """A child process with `clients` connections, each running SHOW BACKUP every `interval` seconds."""

    def __init__(self, server: EmulatorServer, clients: int, interval: float, nice: int, cpus: set[int] | None):
        context = multiprocessing.get_context("spawn")
        self.stop, self.ready, self.out = context.Event(), context.Event(), context.Queue()
        self.process = context.Process(target=_poller_process, daemon=True,
                                       args=(server.host, server.port, server.password, clients, interval, nice, cpus,
                                             self.stop, self.ready, self.out))
        self.seconds = 0.0
        self.latencies: list[float] = []
        self.errors = 0

    def __enter__(self) -> Pollers:
        self.process.start()
        if not self.ready.wait(60):
            raise RuntimeError("the pollers did not connect")
        time.sleep(1.0)  # every client polling
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.monotonic() - self.started + 1.0
        self.stop.set()
        self.latencies, self.errors = self.out.get(timeout=60)
        self.process.join(timeout=10)


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
    parser.add_argument("--repeat", type=int, default=3, help="rounds of (alone, loaded)")
    parser.add_argument("--poller-nice", type=int, default=10, help="niceness added to the pollers' process")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                        help="servers on one CPU, pollers on the others (needs two CPUs)")
    args = parser.parse_args(argv)
    split = split_cpus() if args.pin else None
    poller_cpus = None
    if split:
        server_cpus, poller_cpus = split
        os.sched_setaffinity(0, server_cpus)  # inherited by the S3 server and the emulator started below
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

            quiet, loaded, latencies, errors, polled_seconds = [], [], [], 0, 0.0
            for round_ in range(args.repeat):
                quiet.append(run_jobs(cursor, f"quiet{round_}", stamp_of))
                with Pollers(fe, args.clients, args.interval, args.poller_nice, poller_cpus) as pollers:
                    loaded.append(run_jobs(cursor, f"loaded{round_}", stamp_of))
                latencies += pollers.latencies
                polled_seconds += pollers.seconds
                errors += pollers.errors
            latencies.sort()

    pinned = f", on CPU {sorted(poller_cpus)}, the servers on CPU {sorted(server_cpus)}" if split else ""
    print(f"Emulator under load: {rows:,} rows (about {args.mb} MB logical), {args.clients} clients (one process of "
          f"their own, nice +{args.poller_nice}{pinned}) each issuing SHOW BACKUP every {args.interval * 1000:.0f} ms, "
          f"phase {args.phase} s, "
          f"throughput {'unlimited' if not args.mbps else f'{args.mbps} MB/s'}; {args.repeat} round(s), alone and "
          "loaded interleaved, medians\n")
    print("| job | alone (s) | with load (s) | ratio | within limit | rounds alone / loaded (s) |")
    print("|---|---:|---:|---:|---|---|")
    for index, name in enumerate(("backup", "restore")):
        alone = statistics.median(r[index] for r in quiet)
        busy = statistics.median(r[index] for r in loaded)
        ratio = busy / alone
        rounds = ", ".join(f"{a[index]:.2f}/{b[index]:.2f}" for a, b in zip(quiet, loaded, strict=True))
        print(f"| {name} | {alone:.2f} | {busy:.2f} | {ratio:.2f} | {'yes' if ratio <= args.limit else 'NO'} "
              f"(limit {args.limit:.2f}) | {rounds} |")
    if latencies:
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        rate = len(latencies) / polled_seconds
        print(f"\nSHOW BACKUP during the loaded runs: {len(latencies)} answered ({rate:.0f}/s "
              f"of {args.clients / args.interval:.0f}/s asked), {errors} failed, median "
              f"{statistics.median(latencies) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms. Load average at the end: "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}.")

if __name__ == "__main__":
    main()
