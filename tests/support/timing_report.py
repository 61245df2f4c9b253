"""Where the suite's time goes: a Markdown table per test file (cases, set-up, call, tear-down, total) from pytest's
``--durations=0`` output and a JUnit XML, and a table per fixture from ``--fixture-times`` (tests/conftest.py).

    python -m tests.support.timing_report --durations run.log --junit run.xml [--fixtures fixtures.json] [--top 25]

With xdist the per-file totals add up the workers' time: they are CPU-side costs to cut, the wall time is the
run's own ("N passed in ..." in the log)."""

from __future__ import annotations

import argparse
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s (setup|call|teardown)\s+(\S.*?)\s*$")
_WALL = re.compile(r"\bin (\d+(?:\.\d+)?)s\b")
PHASES = ("setup", "call", "teardown")


def durations(log: str) -> dict[str, dict[str, float]]:
    """{nodeid: {phase: seconds}} from pytest's durations table (phases under 0.005 s are not listed)."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for line in log.splitlines():
        match = _DURATION.match(line)
        if match:
            seconds, phase, nodeid = match.groups()
            out[nodeid][phase] = out[nodeid].get(phase, 0.0) + float(seconds)
    return out


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def junit_cases(xml_text: str) -> dict[str, int]:
    """Test cases per file from a JUnit XML (classname ``tests.pkg.test_mod[.Class]``)."""
    counts: dict[str, int] = defaultdict(int)
    for case in ET.fromstring(xml_text).iter("testcase"):
        parts = case.get("classname", "").split(".")
        while parts and not parts[-1].startswith("test"):  # drop a class name
            parts.pop()
        counts["/".join(parts) + ".py" if parts else "?"] += 1
    return counts


def per_file(times: dict[str, dict[str, float]], cases: dict[str, int]) -> list[dict]:
    rows: dict[str, dict] = {}
    for nodeid, phases in times.items():
        row = rows.setdefault(file_of(nodeid), {"file": file_of(nodeid), **dict.fromkeys(PHASES, 0.0)})
        for phase, seconds in phases.items():
            row[phase] += seconds
    for name in cases:
        rows.setdefault(name, {"file": name, **dict.fromkeys(PHASES, 0.0)})
    for row in rows.values():
        row["cases"] = cases.get(row["file"], 0)
        row["total"] = sum(row[p] for p in PHASES)
    return sorted(rows.values(), key=lambda r: -r["total"])


def file_table(rows: list[dict], top: int) -> str:
    grand = sum(r["total"] for r in rows) or 1.0
    lines = ["| file | cases | set-up s | call s | tear-down s | total s | share |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows[:top]:
        lines.append(f"| {row['file']} | {row['cases']} | {row['setup']:.1f} | {row['call']:.1f} | "
                     f"{row['teardown']:.1f} | {row['total']:.1f} | {100 * row['total'] / grand:.1f}% |")
    rest = rows[top:]
    if rest:
        lines.append(f"| {len(rest)} other files | {sum(r['cases'] for r in rest)} | "
                     f"{sum(r['setup'] for r in rest):.1f} | {sum(r['call'] for r in rest):.1f} | "
                     f"{sum(r['teardown'] for r in rest):.1f} | {sum(r['total'] for r in rest):.1f} | "
                     f"{100 * sum(r['total'] for r in rest) / grand:.1f}% |")
    lines.append(f"| **all** | {sum(r['cases'] for r in rows)} | {sum(r['setup'] for r in rows):.1f} | "
                 f"{sum(r['call'] for r in rows):.1f} | {sum(r['teardown'] for r in rows):.1f} | {grand:.1f} | |")
    return "\n".join(lines)


def slowest_setups(times: dict[str, dict[str, float]], top: int) -> str:
    """The longest set-up phases: the test that first needed a module or session fixture pays for it."""
    setups = sorted(((p.get("setup", 0.0), nodeid) for nodeid, p in times.items()), reverse=True)[:top]
    lines = ["| set-up s | test (its set-up includes the fixtures it was first to need) |", "|---:|---|"]
    lines += [f"| {seconds:.1f} | {nodeid} |" for seconds, nodeid in setups]
    return "\n".join(lines)


def fixture_table(rows: list[dict], top: int) -> str:
    lines = ["| fixture | scope | defined in | set-ups | total s |", "|---|---|---|---:|---:|"]
    for row in sorted(rows, key=lambda r: -r["seconds"])[:top]:
        lines.append(f"| {row['fixture']} | {row['scope']} | {row['where']} | {row['setups']} | {row['seconds']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--durations", required=True, help="pytest output with --durations=0")
    parser.add_argument("--junit", help="pytest --junitxml file (cases per file)")
    parser.add_argument("--fixtures", help="the --fixture-times JSON")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    log = Path(args.durations).read_text(errors="replace")
    times = durations(log)
    cases = junit_cases(Path(args.junit).read_text()) if args.junit else {}
    walls = _WALL.findall(log.splitlines()[-1] if log.strip() else "") or _WALL.findall(log)
    print(f"Wall time: {walls[-1] if walls else '?'} s; test cases: {sum(cases.values()) or len(times)}\n")
    print(file_table(per_file(times, cases), args.top))
    if args.fixtures:
        print("\nFixture set-up (all processes added up):\n")
        print(fixture_table(json.loads(Path(args.fixtures).read_text()), args.top))
    else:
        print("\nLongest set-up phases:\n")
        print(slowest_setups(times, args.top))


if __name__ == "__main__":
    main()
