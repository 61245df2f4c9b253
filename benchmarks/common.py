"""What every benchmark reports, and the helpers they share (servers on 127.0.0.1, S3 clients, query logs).

A benchmark module has ``NAME``, ``TITLE`` and ``run(quick: bool) -> Section``. A ``Row`` is one figure: the
measured value, the baseline measured in the same run, their ratio, the target and whether it is met.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
S3_KEY, S3_SECRET = "bench-access-key", "bench-secret-key"


@dataclass
class Row:
    """One figure. ``ratio`` is value / baseline unless given; ``met`` None means informational (no target)."""

    figure: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline: float | None = None
    target: str = ""
    met: bool | None = None
    ratio: float | None = None

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline not in (None, 0) and self.value is not None:
            self.ratio = self.value / self.baseline


@dataclass
class Section:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    method: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    close: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def add(self, *args, **kwargs) -> Row:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        return row

    def to_json(self) -> dict:
        return {**self.__dict__, "rows": [r.__dict__ for r in self.rows]}

    @classmethod
    def from_json(cls, data: dict) -> Section:
        rows = [Row(**r) for r in data.pop("rows")]
        return cls(**data, rows=rows)


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if float(value).is_integer() or (unit in ("", "×") and abs(value) >= 100):
        text = f"{value:,.0f}"
    elif abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip() if unit not in ("", "×") else text


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "–"
    if ratio == 0:
        return "0"
    if ratio < 0.05:
        return f"1/{1 / ratio:,.0f}"
    return f"{ratio:.2f}×"


class Timer:
    def __enter__(self) -> Timer:
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started
        self.cpu = time.process_time() - self.cpu_started


def s3_client(endpoint_url: str):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint_url, aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET,
                        region_name="us-east-1", config=Config(max_pool_connections=32))


def new_bucket(client, prefix: str = "bench") -> str:
    bucket = f"{prefix}-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=bucket)
    return bucket


def bucket_bytes(client, bucket: str, prefix: str = "") -> tuple[int, int]:
    """(bytes, objects) under ``prefix``."""
    size = count = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            size += item["Size"]
            count += 1
    return size, count


def airflow_environment(home: Path, dags: Path, config: Path, aws_endpoint: str, aws_conn: str,
                        extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without Airflow or sr_airflow settings, plus an Airflow on SQLite in ``home``
    with ``dags``, sr_airflow.toml ``config`` and the AWS connection ``aws_conn`` to the local S3 server."""
    aws = {"conn_type": "aws", "login": S3_KEY, "password": S3_SECRET,
           "extra": {"endpoint_url": aws_endpoint, "region_name": "us-east-1"}}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SR_AIRFLOW"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "SR_AIRFLOW_CONFIG": str(config),
        f"AIRFLOW_CONN_{aws_conn.upper()}": json.dumps(aws),
        "NO_GCE_CHECK": "True",
        **extra,
    })
    return env


@contextmanager
def servers(work: Path, *, emulators: int = 1, **emulator_options) -> Iterator[tuple]:
    """An S3 server and ``emulators`` emulator processes pointing at it; all stopped on exit."""
    from sr_airflow.testing.emulator.process import EmulatorServer
    from sr_airflow.testing.servers import S3Server

    started = []
    try:
        s3 = S3Server(log_path=work / "s3.log")
        s3.start()
        started.append(s3)
        emus = []
        for index in range(emulators):
            emu = EmulatorServer(work / f"emulator{index}", s3_endpoint=s3.endpoint_url, **emulator_options)
            emu.start()
            started.append(emu)
            emus.append(emu)
        yield (s3, *emus)
    finally:
        for server in reversed(started):
            server.stop()


def create_repository(cursor, name: str, bucket: str, prefix: str) -> str:
    location = f"s3://{bucket}/{prefix}"
    cursor.execute(f"CREATE REPOSITORY {name} WITH BROKER ON LOCATION '{location}' PROPERTIES "
                   f"('aws.s3.access_key' = '{S3_KEY}', 'aws.s3.secret_key' = '{S3_SECRET}')")
    return location


def fetch(cursor, sql: str) -> list[tuple]:
    cursor.execute(sql)
    return list(cursor.fetchall())


def wait_job(cursor, kind: str, database: str, label: str | None = None, poll: float = 0.05,
             timeout: float = 1800) -> str:
    """Poll SHOW BACKUP / SHOW RESTORE until the (labelled) job is FINISHED or CANCELLED."""
    deadline = time.monotonic() + timeout
    state_column, label_column = (3, 1) if kind.upper() == "BACKUP" else (4, 1)
    while time.monotonic() < deadline:
        cursor.execute(f"SHOW {kind} FROM {database}")
        rows = [r for r in cursor.fetchall() if label is None or r[label_column] == label]
        if rows and rows[-1][state_column] in ("FINISHED", "CANCELLED"):
            if rows[-1][state_column] == "CANCELLED":
                raise RuntimeError(f"{kind} {label} of {database} was cancelled: {rows[-1]}")
            return rows[-1][state_column]
        time.sleep(poll)
    raise TimeoutError(f"{kind} {label} of {database} did not end within {timeout:.0f} s.")


class QueryLog:
    """The emulator's query log: statements received, read from an offset so a benchmark counts its own."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def since_mark(self) -> list[dict]:
        if not self.path.exists():
            return []
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def machine_facts() -> dict[str, str]:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    facts = {"CPUs (nproc)": str(os.cpu_count())}
    try:
        with open("/proc/meminfo") as handle:
            total_kb = int(handle.readline().split()[1])
        facts["memory"] = f"{total_kb / 1024 / 1024:.1f} GB"
    except (OSError, ValueError, IndexError):
        facts["memory"] = "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
        if model:
            facts["CPU model"] = model
    except OSError:
        pass
    facts["OS"] = f"{platform.system()} {platform.release()}"
    facts["bytecode cache"] = (f"on (PYTHONPYCACHEPREFIX={os.environ['PYTHONPYCACHEPREFIX']})"
                               if os.environ.get("PYTHONPYCACHEPREFIX") and not os.environ.get(
                                   "PYTHONDONTWRITEBYTECODE") else "default")
    try:
        facts["load average at the end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        pass
    facts["Python"] = platform.python_version()
    for package in ("apache-airflow", "apache-airflow-providers-common-sql", "apache-airflow-providers-amazon",
                    "moto", "duckdb", "pyarrow", "boto3", "PyMySQL", "sr-airflow"):
        try:
            facts[package] = version(package)
        except PackageNotFoundError:
            facts[package] = "not installed"
    return facts
