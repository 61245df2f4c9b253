"""The catalog the CLI tests read: sr_incremental_backup through ``dag.test()`` on an emulator into the S3 server
(a full, then an incremental after one partition changed), a restore drill of it (sr_restore_drill) for the tests
that ask, and ``sr-airflow`` run as a subprocess against it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from tests.support.dags import load_shipped_dag, states
from tests.support.s3 import BUCKET, aws_connection_uri
from tests.support.seeds import incremental_config, seed_daily

CONN_ID = "cli_s3"
PREFIX = "cli"
REPOSITORY = f"{PREFIX}_repo"
DATABASE = "cli_db"
LOCATION = f"s3://{BUCKET}/{PREFIX}"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Backups:
    """A runner of ``sr-airflow`` as a subprocess with the storage connection in its environment (and no
    sr_airflow.toml unless ``with_config``). Every output is kept in ``outputs``."""

    env: dict[str, str]
    config_path: str
    endpoint_url: str
    outputs: list[str] = field(default_factory=list)

    def run(self, *args: str, with_config: bool = False, where: bool = True, process: bool = False) -> CliRun:
        """``sr-airflow ARGS`` with the catalog's location, repository and connection unless ``args`` name them
        (none with ``where=False``); in a subprocess (``python -m sr_airflow.cli``) with ``process``, else through
        ``main`` in this process (Airflow imported once: seconds saved per call), with this environment."""
        env = dict(self.env)
        if with_config:
            env["SR_AIRFLOW_CONFIG"] = self.config_path
        where_options = {"--location": LOCATION, "--repository": REPOSITORY, "--storage-conn-id": CONN_ID}
        options = [x for name, value in where_options.items() if where and name not in args for x in (name, value)]
        if process:
            done = subprocess.run([sys.executable, "-m", "sr_airflow.cli", *args, *options], env=env,
                                  capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
            result = CliRun(done.returncode, done.stdout, done.stderr)
        else:
            from sr_airflow.cli import main

            stdout, stderr = io.StringIO(), io.StringIO()
            with mock.patch.dict(os.environ, env, clear=True), redirect_stdout(stdout), redirect_stderr(stderr):
                code = main([*args, *options])
            result = CliRun(code, stdout.getvalue(), stderr.getvalue())
        self.outputs += [result.stdout, result.stderr]
        return result


def make_backups(emu, s3_server, config_dir: Path, monkeypatch) -> Backups:
    """Seed ``DATABASE`` on ``emu``, back it up twice (full, incremental); the connection and the DAGs' config stay
    set in ``monkeypatch``'s environment."""
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", aws_connection_uri(s3_server.endpoint_url))
    seed_daily(emu, DATABASE)
    dag = load_shipped_dag("sr_incremental_backup", incremental_config(emu, CONN_ID, PREFIX, DATABASE, "changed"),
                           config_dir, monkeypatch)
    assert states(dag.test())["backup[0]"] == "success"  # the full
    emu.sql(f"INSERT INTO {DATABASE}.events VALUES (5, '2024-01-03')")
    assert states(dag.test())["backup[0]"] == "success"  # the incremental: events p20240103
    env = {k: v for k, v in os.environ.items() if k != "SR_AIRFLOW_CONFIG"}
    return Backups(env, os.environ["SR_AIRFLOW_CONFIG"], s3_server.endpoint_url)


def run_drill(emu, config_dir: Path, monkeypatch) -> str:
    """Drill ``DATABASE`` once (sr_restore_drill through ``dag.test()``, same [defaults] as the backups: the newest
    point restored into ``cli_db__drill``, verified, recorded beside the catalog, dropped); returns the run id."""
    dag = load_shipped_dag("sr_restore_drill", incremental_config(emu, CONN_ID, PREFIX, DATABASE, "changed"),
                           config_dir, monkeypatch)
    run = dag.test()
    assert set(states(run).values()) == {"success"}, states(run)
    return run.run_id
