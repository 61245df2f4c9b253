"""The cheap benchmarks run in quick mode and write a report with numbers (their targets are not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_of_the_cheap_benchmarks_writes_a_report_with_figures(tmp_path):
    report = tmp_path / "benchmarks.md"
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--only", "planner_scale", "--only",
                           "retention", "--output", str(report)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    text = report.read_text()
    assert "quick or partial run" in text
    assert "## 1. Planner scale" in text and "## 2. Retention: deleting snapshots" in text
    assert "not measured" not in text and "failed" not in text
    rows = [line for line in text.splitlines() if line.startswith("| plan_backup time") or
            line.startswith("| requests to delete every snapshot")]
    assert len(rows) == 2
    for row in rows:  # figure | measured | baseline name | baseline value | ratio | target | met
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert re.match(r"^[0-9][0-9,.]* ", cells[1]) and re.match(r"^[0-9][0-9,.]* ", cells[3]), row
    summary = [line for line in text.splitlines() if re.match(r"^\| [12] \| ", line)]
    assert len(summary) == 3  # the two planner targets and the retention target
