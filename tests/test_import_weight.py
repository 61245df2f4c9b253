"""Importing sr_airflow (every product module) and every shipped DAG file loads no heavy library, and parsing a
shipped DAG loads only what building it needs: no trigger, no planning engine, no PythonOperator stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("boto3", "botocore", "google.cloud", "google.auth", "pyarrow", "duckdb", "hdfs", "mysql_mimic", "sqlglot")
# What a DAG file must not load at parse time: the job trigger (airflow.triggers.base comes with it), the engine's
# planning, restore resolution and retention modules, the storage layer, the hook (and common.sql behind it), and
# the standard provider's PythonOperator stack that ``@task`` pulls in (packaging, airflow.models.variable).
NOT_AT_PARSE = ("airflow.triggers.base", "sr_airflow.triggers", "sr_airflow.engine.planner",
                "sr_airflow.engine.resolve", "sr_airflow.engine.retention", "sr_airflow.engine.catalog",
                "sr_airflow.engine.statements",
                "sr_airflow.storage", "sr_airflow.hooks.starrocks", "airflow.providers.common.sql",
                "airflow.providers.standard.operators.python", "airflow.models.variable", "packaging.requirements",
                "tomllib")
DAG_FILES = sorted((ROOT / "dags").glob("*.py"))
# sr_restore_drill maps a task group over its databases (each drill's steps then wait only on that drill's own):
# airflow.sdk's task_group decorator module loads the ``@task`` stack with it (17 ms measured, once per parse).
TASK_GROUP_STACK = ("airflow.providers.standard.operators.python", "airflow.models.variable",
                    "packaging.requirements")
ALLOWED_AT_PARSE = {"sr_restore_drill": TASK_GROUP_STACK}

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

# airflow.sdk loaded once, as in the DAG processor, which forks a child per file as this probe does.
PARSE_PROBE = r"""
import json, os, runpy, sys
import airflow.sdk
results = {}
for path in sys.argv[1:]:
    read, write = os.pipe()
    if os.fork() == 0:
        baseline = set(sys.modules)
        dag = runpy.run_path(path)["dag"]
        os.write(write, json.dumps({"tasks": len(dag.tasks), "added": sorted(set(sys.modules) - baseline)}).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        results[path] = json.loads(pipe.read())
    os.wait()
print(json.dumps(results))
"""


def _run(code: str, *args: str, env: dict | None = None) -> object:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, cwd=ROOT,
                         timeout=300, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_product_modules_and_dag_files_import_nothing_heavy():
    loaded = _run(PROBE, str(ROOT / "dags"))
    heavy = sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == []
    assert "sr_airflow.engine.statements" in loaded  # the probe really imported the package


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> dict:
    """What parsing each shipped DAG file loads, without an sr_airflow.toml."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SR_AIRFLOW"))}
    env.update({"AIRFLOW_HOME": str(tmp_path_factory.mktemp("airflow-home")), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
    return _run(PARSE_PROBE, *map(str, DAG_FILES), env=env)


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=[p.stem for p in DAG_FILES])
def test_parsing_a_shipped_dag_loads_only_what_building_it_needs(parsed, dag_file):
    result = parsed[str(dag_file)]
    added = result["added"]
    assert result["tasks"] >= 1 and "sr_airflow.operators.base" in added  # the file was really parsed
    barred = [n for n in NOT_AT_PARSE if n not in ALLOWED_AT_PARSE.get(dag_file.stem, ())]
    loaded = sorted(m for m in added if any(m == n or m.startswith(n + ".") for n in barred))
    assert loaded == []
