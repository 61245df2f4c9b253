"""``make bench`` / ``python -m benchmarks``: run every benchmark, each in its own process, and write the report.

Options: ``--only NAME`` (repeatable), ``--quick`` (smaller sizes, a smoke run), ``--output PATH``. A full run
writes ``docs/benchmarks.md``; a quick or partial run writes to a temporary file unless ``--output`` is given, so
the committed report always comes from one complete run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from benchmarks.common import ROOT, Section
from benchmarks.report import write_report

BENCHMARKS = ("parse_cost", "incremental", "planner_scale", "orchestration", "waiting", "retention", "throughput",
              "pitr_restore", "thousand_databases")
CHILD_TIMEOUT = 1500
LONG_CHILD_TIMEOUT = {"thousand_databases": 4 * 3600}  # 1,000 databases through a real Airflow: about an hour


def use_bytecode_cache() -> None:
    """Compiled bytecode cached outside the tree for every process the benchmarks start, as an installed Airflow
    has it: without it (PYTHONDONTWRITEBYTECODE is set on some machines) every import recompiles its source and
    start-up and parse figures measure the compiler."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "sr-airflow-bench-pycache"))


def run_child(name: str, quick: bool, out: Path) -> None:
    """Run one benchmark in this process and write its Section as JSON (never raises: errors are reported)."""
    module = importlib.import_module(f"benchmarks.{name}")
    started = time.monotonic()
    try:
        section = module.run(quick=quick)
    except Exception as exc:  # noqa: BLE001 - a failed benchmark is a finding, shown in the report
        section = Section(name, getattr(module, "TITLE", name), error=f"{type(exc).__name__}: {exc}")
        traceback.print_exc()
    section.seconds = time.monotonic() - started
    out.write_text(json.dumps(section.to_json(), default=str))


def run_all(names: list[str], quick: bool) -> list[Section]:
    sections = []
    for name in names:
        print(f"== {name}{' (quick)' if quick else ''}", flush=True)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"sr-bench-{name}-") as tmp:
            out = Path(tmp) / "section.json"
            argv = [sys.executable, "-m", "benchmarks", "--child", name, "--child-output", str(out)]
            if quick:
                argv.append("--quick")
            try:
                done = subprocess.run(argv, cwd=ROOT, timeout=LONG_CHILD_TIMEOUT.get(name, CHILD_TIMEOUT))
                code = done.returncode
            except subprocess.TimeoutExpired:
                code = "timeout"
            if out.exists():
                section = Section.from_json(json.loads(out.read_text()))
            else:
                module = importlib.import_module(f"benchmarks.{name}")
                section = Section(name, module.TITLE, error=f"the benchmark process ended ({code}) without a result")
                section.seconds = time.monotonic() - started
        sections.append(section)
        for row in section.rows:
            print(f"   {row.figure}: {row.value} {row.unit} (baseline {row.baseline}, ratio {row.ratio}, "
                  f"target {row.target or '-'}, met {row.met})", flush=True)
        if section.error:
            print(f"   ERROR: {section.error}", flush=True)
        print(f"   ({section.seconds:.0f} s)", flush=True)
    return sections


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only this benchmark (repeatable)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run, not the figures")
    parser.add_argument("--output", type=Path, default=None, help="where to write the markdown report")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child, args.quick, args.child_output)
        return
    use_bytecode_cache()
    names = [n for n in BENCHMARKS if not args.only or n in args.only]
    started = time.monotonic()
    sections = run_all(names, args.quick)
    total = time.monotonic() - started
    output = args.output
    if output is None:
        complete = not args.quick and len(names) == len(BENCHMARKS)
        output = ROOT / "docs" / "benchmarks.md" if complete else Path(tempfile.mkdtemp()) / "benchmarks.md"
    write_report(sections, output, total_seconds=total, quick=args.quick, partial=len(names) != len(BENCHMARKS))
    print(f"Report written to {output} ({total:.0f} s in all).")


if __name__ == "__main__":
    main()
