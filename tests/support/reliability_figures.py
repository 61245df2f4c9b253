"""The figures table of docs/reliability.md, regenerated from one run's output.

The reliability tests count where a fault really happened (``tests.support.figures.count``) and pytest prints
the totals at the end as ``RELIABILITY <name>=<value>`` lines (tests/conftest.py). This reads those lines from a
saved run log and rewrites the table between the ``figures:begin`` and ``figures:end`` markers of the doc::

    python -m pytest tests/reliability -p no:cacheprovider 2>&1 | tee reliability-run.log
    python -m tests.support.reliability_figures reliability-run.log --run "2026-12-07, ..." [--doc docs/reliability.md]

Without ``--doc`` the table is printed.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

LINE = re.compile(r"^RELIABILITY (?P<name>.+)=(?P<value>-?\d+)\s*$")
SUMMARY = re.compile(r"^=+ (?P<summary>.*\b(passed|failed)\b.*) =+$")
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"


def read_figures(log: str) -> dict[str, int]:
    """``name -> value`` from the ``RELIABILITY`` lines of a run's output (the last value of a name wins)."""
    figures: dict[str, int] = {}
    for line in log.splitlines():
        match = LINE.match(line.strip())
        if match:
            figures[match["name"]] = int(match["value"])
    return figures


def summary_line(log: str) -> str | None:
    """pytest's final ``N passed, ... in T`` line."""
    found = [m["summary"] for m in map(SUMMARY.match, log.splitlines()) if m]
    return found[-1] if found else None


def table(figures: dict[str, int], run: str, summary: str | None) -> str:
    """The markdown block: where the numbers come from, then one row per counter, grouped by item."""
    rows = ["| Item | Counter | Value |", "|---|---|---|"]
    for name in sorted(figures, key=_order):
        item, _, counter = name.partition(" ")
        rows.append(f"| {item.removeprefix('item')} | {counter.replace('|', '/')} | {figures[name]:,} |")
    head = f"Run: {run}." + (f" pytest: {summary}." if summary else "")
    return "\n".join([BEGIN, head, "", *rows, END])


def _order(name: str) -> tuple[int, str]:
    match = re.match(r"item(\d+)", name)
    return (int(match.group(1)) if match else 99, name)


def rewrite(doc: str, block: str) -> str:
    if BEGIN not in doc or END not in doc:
        raise ValueError(f"the doc has no {BEGIN} ... {END} block to rewrite.")
    before, _, rest = doc.partition(BEGIN)
    _, _, after = rest.partition(END)
    return before + block + after


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="the saved output of a pytest run of tests/reliability")
    parser.add_argument("--run", required=True, help="date, command, machine and load average of that run")
    parser.add_argument("--doc", help="rewrite this doc's figures block (default: print the block)")
    args = parser.parse_args(argv)
    log = Path(args.log).read_text(errors="replace")
    figures = read_figures(log)
    if not figures:
        raise SystemExit(f"no RELIABILITY lines in {args.log}.")
    block = table(figures, args.run, summary_line(log))
    if args.doc:
        path = Path(args.doc)
        path.write_text(rewrite(path.read_text(), block))
    else:
        print(block)


if __name__ == "__main__":
    main()
