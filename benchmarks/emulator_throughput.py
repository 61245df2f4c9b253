"""Backup and restore throughput of the StarRocks emulator against a local S3 API server.

Starts an S3 server (moto) and two emulators at full speed (no minimum phase time, unlimited throughput), loads
about `--mb` MB of rows into a partitioned table, backs it up from the first emulator, restores it into the second,
and prints a markdown table of the MB/s. Usage: `python benchmarks/emulator_throughput.py --mb 100`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import boto3

from sr_airflow.testing.emulator.process import EmulatorServer
from sr_airflow.testing.servers import S3Server

ROW_BYTES = 8 + 4 + 3 * 32  # id BIGINT, bucket INT, three 32-character md5 strings
PARTITIONS = 8
CHUNK_ROWS = 2_000_000


def wait(cursor, kind: str, db: str) -> str:
    while True:
        cursor.execute(f"SHOW {kind} FROM {db}")
        rows = cursor.fetchall()
        state = rows[0][3 if kind == "BACKUP" else 4] if rows else "PENDING"
        if state in ("FINISHED", "CANCELLED"):
            return state
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=1024, help="logical size of the loaded rows in MB")
    args = parser.parse_args(argv)
    rows = args.mb * 1024 * 1024 // ROW_BYTES
    step = rows // PARTITIONS + 1
    work = Path(tempfile.mkdtemp(prefix="sr-emulator-bench-"))
    with S3Server(log_path=work / "s3.log") as s3:
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        client = boto3.client("s3", endpoint_url=s3.endpoint_url, aws_access_key_id="bench",
                              aws_secret_access_key="bench", region_name="us-east-1")
        client.create_bucket(Bucket=bucket)
        options = {"s3_endpoint": s3.endpoint_url, "min_phase_seconds": 0, "throughput_mbps": 0}
        with EmulatorServer(work / "a", **options) as a, EmulatorServer(work / "b", **options) as b:
            ca, cb = a.connect().cursor(), b.connect().cursor()
            repo = (f"CREATE REPOSITORY bench WITH BROKER ON LOCATION 's3a://{bucket}/backup' PROPERTIES "
                    "('aws.s3.access_key' = 'bench', 'aws.s3.secret_key' = 'bench')")
            ca.execute(repo)
            cb.execute(repo)
            ca.execute("CREATE DATABASE bench")
            bounds = ", ".join(f'PARTITION p{i} VALUES LESS THAN ("{(i + 1) * step}")' for i in range(PARTITIONS))
            ca.execute(f"CREATE TABLE bench.t (id BIGINT NOT NULL, b INT, s1 VARCHAR(32), s2 VARCHAR(32), "
                       f"s3 VARCHAR(32)) DUPLICATE KEY(id) PARTITION BY RANGE(id) ({bounds}) "
                       "DISTRIBUTED BY HASH(id) BUCKETS 4")
            started = time.monotonic()
            for low in range(0, rows, CHUNK_ROWS):
                high = min(low + CHUNK_ROWS, rows) - 1
                ca.execute("INSERT INTO bench.t SELECT generate_series, generate_series % 1000, "
                           "md5(cast(generate_series AS VARCHAR)), md5(cast(generate_series + 1 AS VARCHAR)), "
                           f"md5(cast(generate_series + 2 AS VARCHAR)) FROM TABLE(generate_series({low}, {high}))")
            load_seconds = time.monotonic() - started

            started = time.monotonic()
            ca.execute("BACKUP DATABASE bench SNAPSHOT bench_snap TO bench")
            assert wait(ca, "BACKUP", "bench") == "FINISHED"
            backup_seconds = time.monotonic() - started
            ca.execute("SHOW SNAPSHOT ON bench WHERE SNAPSHOT = 'bench_snap'")
            stamp = ca.fetchall()[0][1]
            stored = sum(o["Size"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                         for o in page.get("Contents", []))

            started = time.monotonic()
            cb.execute(f"RESTORE SNAPSHOT bench_snap FROM bench DATABASE bench "
                       f"PROPERTIES ('backup_timestamp' = '{stamp}')")
            assert wait(cb, "RESTORE", "bench") == "FINISHED"
            restore_seconds = time.monotonic() - started
            cb.execute("SELECT count(*) FROM bench.t")
            assert cb.fetchall()[0][0] == rows

    logical = rows * ROW_BYTES / 1024 / 1024
    stored_mb = stored / 1024 / 1024
    print(f"Emulator throughput, {rows:,} rows, {logical:.0f} MB logical, {stored_mb:.0f} MB of Parquet in S3\n")
    print("| step | seconds | logical MB/s | stored MB/s |")
    print("|---|---:|---:|---:|")
    for name, seconds in (("load (INSERT ... SELECT)", load_seconds), ("backup", backup_seconds),
                          ("restore", restore_seconds)):
        stored_rate = "" if name.startswith("load") else f"{stored_mb / seconds:.1f}"
        print(f"| {name} | {seconds:.2f} | {logical / seconds:.1f} | {stored_rate} |")


if __name__ == "__main__":
    main()
