"""Importing sr_airflow (every product module) and every shipped DAG file loads no heavy library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("boto3", "botocore", "google.cloud", "google.auth", "pyarrow", "duckdb", "hdfs", "mysql_mimic", "sqlglot")

PROBE = r"""
import importlib, json, pkgutil, runpy, sys
from pathlib import Path
# What Airflow itself loads is not ours to count (airflow.sdk pulls in the bare google.cloud namespace).
import airflow.sdk, airflow.providers.common.sql.hooks.sql
baseline = set(sys.modules)
import sr_airflow
for info in pkgutil.walk_packages(sr_airflow.__path__, "sr_airflow."):
    if not info.name.startswith("sr_airflow.testing"):
        importlib.import_module(info.name)
for dag_file in sorted(Path(sys.argv[1]).glob("*.py")):
    runpy.run_path(str(dag_file))
print(json.dumps(sorted(set(sys.modules) - baseline)))
"""


def test_product_modules_and_dag_files_import_nothing_heavy():
    out = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "dags")], capture_output=True, text=True,
                         check=True, cwd=ROOT, timeout=300).stdout
    loaded = json.loads(out.strip().splitlines()[-1])
    heavy = sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == []
    assert "sr_airflow.engine.statements" in loaded  # the probe really imported the package
