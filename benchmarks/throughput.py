"""7. Emulator throughput: backup and restore MB/s of the emulator itself at full speed.

Runs ``benchmarks/emulator_throughput.py`` (the emulator's own benchmark: load rows into a partitioned table,
back them up to a local S3 API server from one emulator and restore them into another, no minimum phase time and
no throughput limit) and reads its table. The baseline is the S3 API server alone: the same number of bytes put
with boto3 as 4 MB objects, so the emulator's own cost shows beside what the storage server can take.
"""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
import time
from pathlib import Path

from benchmarks.common import Section, new_bucket, s3_client

NAME = "throughput"
TITLE = "Emulator throughput"
LINE = re.compile(r"^\|\s*(?P<step>[^|]+?)\s*\|\s*(?P<seconds>[0-9.]+)\s*\|\s*(?P<logical>[0-9.]+)\s*\|"
                  r"\s*(?P<stored>[0-9.]*)\s*\|")
HEAD = re.compile(r"Emulator throughput, (?P<rows>[0-9,]+) rows, (?P<logical>[0-9.]+) MB logical, "
                  r"(?P<stored>[0-9.]+) MB of Parquet")


def raw_s3_mbps(total_mb: float) -> float:
    from sr_airflow.testing.servers import S3Server

    chunk = b"x" * (4 * 1024 * 1024)
    count = max(1, round(total_mb / 4))
    with S3Server(log_path=Path(tempfile.mkdtemp(prefix="sr-bench-s3-")) / "s3.log") as s3:
        client = s3_client(s3.endpoint_url)
        bucket = new_bucket(client)
        started = time.perf_counter()
        for index in range(count):
            client.put_object(Bucket=bucket, Key=f"raw/{index}", Body=chunk)
        return count * 4 / (time.perf_counter() - started)


def run(quick: bool = False) -> Section:
    from benchmarks import emulator_throughput

    section = Section(NAME, TITLE)
    mb = 10 if quick else 50
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        emulator_throughput.main(["--mb", str(mb)])
    text = out.getvalue()
    head = HEAD.search(text)
    steps = {m["step"]: m for m in (LINE.match(line) for line in text.splitlines()) if m}
    if not head or "backup" not in steps or "restore" not in steps:
        raise RuntimeError(f"could not read emulator_throughput's output: {text[-1500:]}")
    stored = float(head["stored"])
    raw = raw_s3_mbps(max(stored, 4))
    for step in ("backup", "restore"):
        rate = float(steps[step]["stored"])
        section.add(f"emulator {step}, MB/s of Parquet written to / read from S3", rate, "MB/s",
                    "S3 API server alone (boto3 put_object, 4 MB objects)", raw)
        section.notes.append(f"{step}: {float(steps[step]['seconds']):.1f} s, {float(steps[step]['logical']):.1f} "
                             "MB/s of logical row data.")
    load = next((m for name, m in steps.items() if name.startswith("load")), None)
    if load:
        section.add("emulator load (INSERT ... SELECT generate_series), logical MB/s", float(load["logical"]), "MB/s")
    section.sizes = [f"{head['rows']} rows, {head['logical']} MB logical, {stored:g} MB of Parquet in S3, "
                     "8 range partitions × 4 buckets", f"the raw S3 baseline puts {max(stored, 4):.0f} MB"]
    section.method = [__doc__.split("\n\n", 1)[1].replace("\n", " ").strip()]
    section.notes.append("No target: this figure says how much of the other figures is the emulator's own time. "
                         "Item 2's full backup is dominated by it (365 partitions, each exported from DuckDB "
                         "separately); items 4 and 5 use slowed or trivial jobs, so it does not affect them.")
    return section
