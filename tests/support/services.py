"""The services a distributed Airflow needs, as processes on 127.0.0.1: a PostgreSQL cluster (its metadata
database) and Redis (the Celery broker), both Debian's packages (``make tools``), each in a temporary directory
of its own, on a free port, without persistence, and stopped with their process group."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sr_airflow.testing.servers import ServerProcess, free_port


def _postgres_bin(name: str) -> str:
    """A PostgreSQL server program: Debian keeps them in /usr/lib/postgresql/<major>/bin, off PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parts[4]))
    path = found[-1] if found else shutil.which(name)
    if not path:
        raise FileNotFoundError(f"PostgreSQL's {name} is not installed; run `make tools` (Debian's postgresql).")
    return path


def _as_postgres_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the ``postgres`` user Debian's package creates."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextlib.contextmanager
def running_postgres():
    """A PostgreSQL cluster in a new temporary directory, trust authentication on 127.0.0.1 only (no Unix socket);
    yields its SQLAlchemy URL (database ``postgres``, user ``postgres``)."""
    data_root = Path(tempfile.mkdtemp(prefix="sr-postgres-"))
    try:
        data = data_root / "data"
        if os.geteuid() == 0:
            shutil.chown(data_root, "postgres")
        subprocess.run(_as_postgres_user([_postgres_bin("initdb"), "-D", str(data), "-U", "postgres",
                                          "--auth=trust", "--no-sync", "-E", "UTF8"]),
                       check=True, capture_output=True, timeout=120)
        port = free_port()
        # fsync off: a throwaway cluster; max_connections for two schedulers, workers, triggerers and the API
        server = ServerProcess(_as_postgres_user([
            _postgres_bin("postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", "",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=200"]), port, log_path=data_root / "postgres.log", ready_timeout=60)
        with server:
            yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        shutil.rmtree(data_root, ignore_errors=True)


@contextlib.contextmanager
def running_redis():
    """A Redis server on 127.0.0.1 with neither snapshots nor an append-only file; yields its ``redis://`` URL."""
    path = shutil.which("redis-server")
    if not path:
        raise FileNotFoundError("redis-server is not installed; run `make tools` (Debian's redis-server).")
    work = Path(tempfile.mkdtemp(prefix="sr-redis-"))
    port = free_port()
    try:
        with ServerProcess([path, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                            "--dir", str(work)], port, log_path=work / "redis.log"):
            yield f"redis://127.0.0.1:{port}/0"
    finally:
        shutil.rmtree(work, ignore_errors=True)
