"""1. DAG parse cost: each shipped DAG file vs a one-task SQLExecuteQueryOperator DAG, with an EmptyOperator floor.

One interpreter imports ``airflow.sdk`` (the DAG processor has Airflow loaded) and forks a child per measurement, as
the DAG processor forks one per file; the child loads the DAG file as the processor's Python importer does (a
``SourceFileLoader``, so its bytecode is cached and not compiled again on each parse). Two figures per file: the
*first* parse (the file's own imports not loaded yet: the cost after a processor restart, or with
``parsing_pre_import_modules`` off) and a *repeat* parse (its imports already loaded, as with Airflow's default
``parsing_pre_import_modules = True``). CPU seconds of the parsing child are the figure (less sensitive to other
load on the machine than wall time). A repeat parse is mostly building the DAG, so each shipped DAG is also compared
with a SQLExecuteQueryOperator DAG of its own shape: as many tasks, the same Params (schemas and defaults) and the
same schedule.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, Section

NAME = "parse_cost"
TITLE = "DAG parse cost and import weight"
TARGET_RATIO = 1.2
#: Libraries that must not load at import or parse time (names and their submodules).
FORBIDDEN = ("boto3", "botocore", "google.cloud.storage", "google.auth", "google.api_core", "googleapiclient",
             "google.protobuf", "pyarrow", "duckdb")

SQL_DAG = '''
import pendulum
from airflow.sdk import DAG
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

with DAG(dag_id="bench_sql_backup", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), schedule="0 2 * * *",
         catchup=False, tags=["starrocks", "backup"]) as dag:
    SQLExecuteQueryOperator(task_id="backup", conn_id="starrocks_default",
                            sql="BACKUP DATABASE sr_hub SNAPSHOT nightly TO sr_backups")
'''

EMPTY_DAG = '''
import pendulum
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG(dag_id="bench_empty", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), schedule=None,
         catchup=False) as dag:
    EmptyOperator(task_id="nothing")
'''

PARSE_PROBE = r"""
import importlib.machinery, importlib.util, json, os, sys, time
import airflow.sdk  # loaded in the DAG processor, which forks a child per file as this probe does

def load(path):
    # As the DAG processor's Python importer loads a file: a SourceFileLoader (bytecode cached), a fresh module.
    loader = importlib.machinery.SourceFileLoader("bench_dag_file", path)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("bench_dag_file", loader))
    sys.modules["bench_dag_file"] = module
    loader.exec_module(module)

def parse(path):
    baseline = set(sys.modules)
    cpu, wall = time.process_time(), time.perf_counter()
    load(path)
    first_cpu, first_wall = time.process_time() - cpu, time.perf_counter() - wall
    added = sorted(set(sys.modules) - baseline - {"bench_dag_file"})
    repeats = []
    for _ in range(5):
        cpu = time.process_time()
        load(path)
        repeats.append(time.process_time() - cpu)
    return {"first_cpu": first_cpu, "first_wall": first_wall, "repeat_cpu": min(repeats), "added": added}

results = []
for path in json.loads(sys.argv[1]):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.write(write, json.dumps(parse(path)).encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    results.append(json.loads(b"".join(chunks)))
print(json.dumps(results))
"""

SHAPE_DAG = '''
import pendulum
from airflow.sdk import DAG, Param
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

PARAMS = {params!r}

with DAG(dag_id={dag_id!r}, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), schedule={schedule!r},
         catchup=False, params={{name: Param(spec["value"], description=spec["description"], **spec["schema"])
                                for name, spec in PARAMS.items()}}) as dag:
    previous = None
    for n in range({tasks}):
        step = SQLExecuteQueryOperator(task_id=f"step_{{n}}", conn_id="starrocks_default", sql="SELECT 1")
        if previous is not None:
            previous >> step
        previous = step
'''

# The shipped DAGs' small Python steps written with Airflow's public decorators instead of sr_airflow's
# StepOperator / ConditionStepOperator: a DAG file importing this module in their place builds the same tasks
# (same ids, arguments and XComArgs) through ``@task`` and ``@task.short_circuit``.
TASK_STEPS = '''
from airflow.sdk import get_current_context, task


def _calling(function):
    def call(**kwargs):
        return function(get_current_context(), **kwargs)

    call.__name__ = function.__name__
    return call


def StepOperator(*, task_id, python_callable, op_kwargs=None, **kwargs):
    return task(_calling(python_callable), task_id=task_id, **kwargs)(**(op_kwargs or {})).operator


def ConditionStepOperator(*, task_id, python_callable, op_kwargs=None, **kwargs):
    decorated = task.short_circuit(_calling(python_callable), task_id=task_id,
                                   ignore_downstream_trigger_rules=False, **kwargs)
    return decorated(**(op_kwargs or {})).operator
'''
STEP_IMPORT = "from sr_airflow.operators.step import "

SHAPE_PROBE = r"""
import json, runpy, sys
import airflow.sdk
shapes = []
for path in json.loads(sys.argv[1]):
    dag = runpy.run_path(path, run_name="bench_dag_file")["dag"]
    params = {name: {k: getattr(dag.params.get_param(name), k) for k in ("value", "description", "schema")}
              for name in dag.params}
    shapes.append({"dag_id": dag.dag_id, "tasks": len(dag.tasks), "schedule": dag.schedule, "params": params})
print(json.dumps(shapes))
"""

IMPORT_PROBE = r"""
import json, sys, time
baseline = set(sys.modules)
cpu = time.process_time()
import sr_airflow
bare = sorted(set(sys.modules) - baseline)
bare_cpu = time.process_time() - cpu
import importlib, pkgutil
import airflow.sdk, airflow.providers.common.sql.hooks.sql  # what Airflow itself loads is not ours to count
with_airflow = set(sys.modules)
for info in pkgutil.walk_packages(sr_airflow.__path__, "sr_airflow."):
    if not info.name.startswith("sr_airflow.testing"):
        importlib.import_module(info.name)
product = sorted(set(sys.modules) - with_airflow)
print(json.dumps({"bare": bare, "bare_cpu": bare_cpu, "product": product}))
"""


IMPORTTIME_PROBE = r"""
import runpy, sys
import airflow.sdk
runpy.run_path(sys.argv[1], run_name="bench_dag_file")
print("--- shipped DAGs ---", file=sys.stderr, flush=True)
for path in sys.argv[2:]:
    runpy.run_path(path, run_name="bench_dag_file")
"""


def heaviest_imports(baseline: Path, shipped: list[Path], env: dict[str, str], top: int = 10) -> list[tuple]:
    """Modules the shipped DAGs load beyond the SQLExecuteQueryOperator DAG, by own import time (``-X importtime``)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", IMPORTTIME_PROBE, str(baseline),
                           *map(str, shipped)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    if done.returncode != 0:
        return []
    after = done.stderr.split("--- shipped DAGs ---", 1)[-1]
    found = []
    for line in after.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[0].split(":")[1].strip().isdigit():
            found.append((int(parts[0].split(":")[1]), parts[2].strip()))
    total = sum(us for us, _ in found)
    return [(name, us / 1000, total / 1000) for us, name in sorted(found, reverse=True)[:top]]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SR_AIRFLOW"))}
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False"})
    return env


def _probe(code: str, *args: str, env: dict[str, str]):
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"probe failed for {args}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def same_shape_dags(shipped: list[Path], work: Path, env: dict[str, str]) -> dict[str, tuple[Path, dict]]:
    """For each shipped DAG file, a SQLExecuteQueryOperator DAG of its shape (tasks, Params, schedule)."""
    shapes = _probe(SHAPE_PROBE, json.dumps([str(p) for p in shipped]), env=env)
    out = {}
    for path, shape in zip(shipped, shapes, strict=True):
        if not isinstance(shape["schedule"], str | None):
            raise RuntimeError(f"{path.name}: a schedule the same-shape DAG cannot copy: {shape['schedule']!r}")
        copy = work / f"shape_{path.name}"
        copy.write_text(SHAPE_DAG.format(params=shape["params"], dag_id=f"bench_shape_{shape['dag_id']}",
                                         schedule=shape["schedule"], tasks=shape["tasks"]))
        out[f"dags/{path.name}"] = (copy, shape)
    return out


def task_decorator_dags(shipped: list[Path], work: Path) -> dict[str, Path]:
    """For each shipped DAG file with StepOperators, a copy that builds those steps with ``@task``."""
    (work / "bench_task_steps.py").write_text(TASK_STEPS)
    out = {}
    for path in shipped:
        text = path.read_text()
        if STEP_IMPORT in text:
            copy = work / f"task_{path.name}"
            copy.write_text(text.replace(STEP_IMPORT, "from bench_task_steps import "))
            out[f"dags/{path.name}"] = copy
    return out


def forbidden(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))


def run(quick: bool = False) -> Section:
    section = Section(NAME, TITLE)
    reps = 3 if quick else 9
    work = Path(tempfile.mkdtemp(prefix="sr-bench-parse-"))
    env = _env(work / "airflow")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(work), env.get("PYTHONPATH")]))
    (work / "airflow").mkdir()
    sql_dag, empty_dag = work / "sql_backup_dag.py", work / "empty_dag.py"
    sql_dag.write_text(SQL_DAG)
    empty_dag.write_text(EMPTY_DAG)
    shipped = sorted((ROOT / "dags").glob("*.py"))
    files = {"EmptyOperator DAG (floor)": empty_dag, "SQLExecuteQueryOperator DAG": sql_dag}
    files.update({f"dags/{p.name}": p for p in shipped})
    shaped = same_shape_dags(shipped, work, env)
    files.update({f"same shape as {name}": path for name, (path, _) in shaped.items()})
    decorated = task_decorator_dags(shipped, work)
    files.update({f"@task variant of {name}": path for name, path in decorated.items()})
    samples: dict[str, list[dict]] = {name: [] for name in files}
    _probe(PARSE_PROBE, json.dumps([str(p) for p in files.values()]), env=env)  # warm-up: bytecode cached
    order = [name for _ in range(reps) for name in files]  # interleaved: drift in load hits every file alike
    results = _probe(PARSE_PROBE, json.dumps([str(files[name]) for name in order]), env=env)
    for name, result in zip(order, results, strict=True):
        samples[name].append(result)

    def median(name: str, key: str) -> float:
        return statistics.median(s[key] for s in samples[name])

    base = "SQLExecuteQueryOperator DAG"
    heavy_list = heaviest_imports(sql_dag, shipped, env)
    if heavy_list:
        section.notes.append(
            f"Own import time of the modules the shipped DAGs load beyond the SQLExecuteQueryOperator DAG "
            f"(`-X importtime`, one run): {heavy_list[0][2]:.0f} ms in all; the heaviest: "
            + ", ".join(f"{name} {ms:.1f} ms" for name, ms, _ in heavy_list) + ".")
    for key, label in (("first_cpu", "first parse"), ("repeat_cpu", "repeat parse")):
        floor = median("EmptyOperator DAG (floor)", key)
        section.add(f"EmptyOperator DAG, {label} (floor)", floor * 1000, "ms CPU", base, median(base, key) * 1000)
        for name in files:
            if not name.startswith("dags/"):
                continue
            value = median(name, key)
            row = section.add(f"{name}, {label}", value * 1000, "ms CPU", base, median(base, key) * 1000,
                              target=f"≤ {TARGET_RATIO}× the SQLExecuteQueryOperator DAG")
            row.met = row.ratio is not None and row.ratio <= TARGET_RATIO
            if not row.met and key == "repeat_cpu":
                _, shape = shaped[name]
                same = median(f"same shape as {name}", key)
                section.close.append(
                    f"{name} {label}: {row.ratio:.2f}× the one-task SQLExecuteQueryOperator DAG, "
                    f"{(value - median(base, key)) * 1000:.1f} ms more per parse. With its modules loaded a parse "
                    f"is building the DAG: {shape['tasks']} task(s) and {len(shape['params'])} Params against one "
                    "task and no Params. Airflow deep-copies the DAG's Params into every task, once per "
                    "``__init__`` in the operator's class chain"
                    + (", and a scheduled DAG validates every Param default against its JSON schema on each parse"
                       if shape["schedule"] else "")
                    + ". A SQLExecuteQueryOperator DAG of the same shape "
                    f"takes {same * 1000:.1f} ms (the row below): the gap to one task is the shape, which the "
                    "UI's run form (Params) and the workflow (tasks) need; closing it would mean fewer Params "
                    "or tasks, not less sr_airflow code.")
            elif not row.met:
                extra = sorted(set(samples[name][0]["added"]) - set(samples[base][0]["added"]))
                section.close.append(
                    f"{name} {label}: {row.ratio:.2f}× the SQLExecuteQueryOperator DAG. It loads "
                    f"{len(samples[name][0]['added'])} modules beyond airflow.sdk against "
                    f"{len(samples[base][0]['added'])} for the baseline; its own that the baseline does not load "
                    f"include {len([m for m in extra if m.startswith('sr_airflow')])} sr_airflow modules: "
                    f"{', '.join(m for m in extra if m.startswith('sr_airflow'))} (and "
                    f"{len([m for m in extra if not m.startswith('sr_airflow')])} others); the heaviest modules the "
                    f"shipped DAGs add are {', '.join(n for n, _, _ in heavy_list[:4]) or 'in the notes'} (the "
                    "import-time note above). Closing it: import what only execute() needs inside execute(), "
                    "and keep the DAG file's own top-level work small.")
        if key != "repeat_cpu":
            continue
        for name in files:
            if not name.startswith("dags/"):
                continue
            same_name = f"same shape as {name}"
            value, same = median(name, key), median(same_name, key)
            _, shape = shaped[name]
            row = section.add(f"{name}, {label}, against its shape", value * 1000, "ms CPU",
                              f"SQLExecuteQueryOperator DAG, {shape['tasks']} task(s), {len(shape['params'])} "
                              "Params", same * 1000, target=f"≤ {TARGET_RATIO}× the same-shape DAG")
            row.met = row.ratio is not None and row.ratio <= TARGET_RATIO
            if not row.met:
                section.close.append(
                    f"{name} {label}: {row.ratio:.2f}× a SQLExecuteQueryOperator DAG of its shape "
                    f"({(value - same) * 1000:.1f} ms more): building its operators costs more than building as "
                    "many SQLExecuteQueryOperators (sensors have one more ``__init__`` in their class chain, so "
                    "one more copy of the DAG's Params each).")
    for name in decorated:
        for key, label, budget_name, budget in (
                ("first_cpu", "first parse", "SQLExecuteQueryOperator DAG", median(base, "first_cpu")),
                ("repeat_cpu", "repeat parse", "same-shape DAG", median(f"same shape as {name}", "repeat_cpu"))):
            value = median(f"@task variant of {name}", key)
            row = section.add(f"{name} with `@task` / `@task.short_circuit` steps, {label}", value * 1000, "ms CPU",
                              f"{name} as shipped (StepOperator)", median(name, key) * 1000,
                              target=f"≤ {TARGET_RATIO * budget * 1000:.1f} ms ({TARGET_RATIO}× the {budget_name})")
            row.met = value <= TARGET_RATIO * budget
    if decorated:
        first = {n: (median(f"@task variant of {n}", "first_cpu") - median(n, "first_cpu")) * 1000 for n in decorated}
        repeat = {n: (median(f"@task variant of {n}", "repeat_cpu") - median(n, "repeat_cpu")) * 1000
                  for n in decorated}
        budget = TARGET_RATIO * median(base, "first_cpu")
        over = [n for n in decorated if median(f"@task variant of {n}", "first_cpu") > budget]
        over_shipped = [n for n in decorated if median(n, "first_cpu") > budget]
        stack = sorted(set(samples[f"@task variant of {next(iter(decorated))}"][0]["added"])
                       - set(samples[next(iter(decorated))][0]["added"]))
        named = [m for m in stack if m.startswith(("airflow.providers.standard", "airflow.models", "packaging"))]
        section.notes.append(
            f"`@task` / `@task.short_circuit` in place of StepOperator / ConditionStepOperator (the same tasks, built "
            f"through Airflow's public decorators): first parse {min(first.values()):+.1f} to "
            f"{max(first.values()):+.1f} ms CPU per DAG file, repeat parse {min(repeat.values()):+.2f} to "
            f"{max(repeat.values()):+.2f} ms. Over the first-parse budget ({budget * 1000:.1f} ms): "
            f"{', '.join(over) or 'none'} with `@task`, {', '.join(over_shipped) or 'none'} as shipped. The "
            f"decorators load {len(stack)} more modules (among them "
            f"{', '.join(named[:8])}).")
    for name in files:
        wall = median(name, "first_wall") * 1000
        section.notes.append(f"{name}: first parse {median(name, 'first_cpu') * 1000:.0f} ms CPU "
                             f"({wall:.0f} ms wall), repeat parse {median(name, 'repeat_cpu') * 1000:.1f} ms CPU; "
                             f"{len(samples[name][0]['added'])} modules loaded beyond airflow.sdk.")

    probe = _probe(IMPORT_PROBE, env=env)
    section.add("modules loaded by `import sr_airflow` (fresh interpreter)", len(probe["bare"]), "modules",
                target="informational")
    section.rows[-1].target = ""
    heavy_product = forbidden(probe["product"])
    row = section.add("forbidden modules loaded by importing every product module (beside airflow.sdk)",
                      len(heavy_product), "modules", target="0 (no boto3, google, pyarrow, duckdb)")
    row.met = not heavy_product
    section.notes.append(f"Importing every product module (sr_airflow.* except sr_airflow.testing) on top of "
                         f"airflow.sdk and the common.sql hook loads {len(probe['product'])} more modules"
                         + (f", of which forbidden: {', '.join(heavy_product)}." if heavy_product else
                            "; none of them is boto3, botocore, google.*, pyarrow or duckdb."))
    for name in files:
        if name.startswith("dags/"):
            heavy = forbidden(samples[name][0]["added"])
            row = section.add(f"forbidden modules loaded by parsing {name}", len(heavy), "modules",
                              target="0 (no boto3, google, pyarrow, duckdb)")
            row.met = not heavy
            if heavy:
                section.close.append(f"{name} loads {', '.join(heavy)} at parse time; import them inside the "
                                     "functions that use them.")
    if heavy_product:
        section.close.append(f"Product modules load {', '.join(heavy_product)} at import; import them lazily.")
    section.sizes = [f"{len(shipped)} shipped DAG file(s): {', '.join(p.name for p in shipped)}",
                     f"median of {reps} forked children per file, files interleaved",
                     "repeat parse: the best of 5 re-executions in the same interpreter"]
    section.method = [__doc__.split("\n\n", 1)[1].replace("\n", " ").strip()]
    return section
