"""The Airflow every in-process test runs against: a temporary AIRFLOW_HOME per pytest process (per xdist worker)
with a SQLite metadata database, migrated once per run and copied into each worker's home.

``apply`` runs from ``pytest_configure`` (tests/conftest.py), before any test module imports Airflow; nothing here
changes the environment at import time."""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPPED_DAGS = REPO / "dags"
OPERATOR_TEST_DAGS = REPO / "tests" / "operators" / "dags"  # dag.test() runs only DAGs inside the DAG bundle


def settings(home: Path) -> dict[str, str]:
    """The Airflow configuration of the tests, as environment variables."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(OPERATOR_TEST_DAGS),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
    }


def apply(home: Path) -> None:
    """Point this process's Airflow at ``home`` (also when a plugin imported Airflow before the tests did)."""
    home.mkdir(parents=True, exist_ok=True)
    os.environ.update(settings(home))
    if "airflow.settings" in sys.modules:
        from airflow import settings as airflow_settings

        airflow_settings.configure_vars()
        airflow_settings.configure_orm()


def migrated_database(home: Path, run_dir: Path) -> Path:
    """``home``'s airflow.db, migrated: the first process of the run migrates a template under a lock (``airflow db
    migrate``, several seconds), every process copies it
    into its own home."""
    template = run_dir / "airflow-template.db"
    with open(run_dir / "airflow-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.exists():
            scratch = run_dir / "airflow-template-home"
            scratch.mkdir(exist_ok=True)
            env = {**os.environ, **settings(scratch)}
            subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True,
                           env=env, timeout=600)
            shutil.copyfile(scratch / "airflow.db", template)
    database = home / "airflow.db"
    source, copy = sqlite3.connect(template), sqlite3.connect(database)
    try:
        source.backup(copy)  # SQLite's own copy: safe even if this process's Airflow already opened the file
    finally:
        source.close()
        copy.close()
    return database
