"""The thousand-databases benchmark at its smallest: two emulator clusters, a real ``airflow standalone`` running one
sr_full_backup per cluster under ``max_parallel_backups = 2``. The report must show the cap held on every cluster
(SHOW BACKUP's times), the cap reached (the measurement sees concurrency at all), one OK snapshot per database in
both ways, and figures in every row."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLUSTERS, DATABASES, CAP = 2, 8, 2


def cells(text: str, figure: str) -> list[str]:
    """figure | measured | baseline name | baseline value | ratio | target | met, of the row starting ``figure``."""
    rows = [line for line in text.splitlines() if line.startswith(f"| {figure}")]
    assert len(rows) == 1, f"{figure!r}: {rows}"
    return [c.strip() for c in rows[0].strip("|").split("|")]


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.timeout(900)
def test_small_run_keeps_the_cap_and_backs_up_every_database_once(tmp_path):
    report = tmp_path / "benchmarks.md"
    env = {**os.environ, "SR_BENCH_THOUSAND": f"{CLUSTERS},{DATABASES},{CAP}"}
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--only", "thousand_databases", "--output",
                           str(report)], cwd=ROOT, capture_output=True, text=True, timeout=840, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    text = report.read_text()
    assert "not measured" not in text, text[-3000:]
    in_flight = cells(text, "most BACKUP jobs in flight at once on one cluster")
    assert in_flight[1] == str(CAP) and in_flight[6] == "met", in_flight  # reached and never passed
    assert int(in_flight[3]) == CAP, in_flight  # the plain script, same cap
    snapshots = cells(text, "databases with exactly one OK snapshot")
    assert (snapshots[1], snapshots[3], snapshots[6]) == (str(DATABASES), str(DATABASES), "met"), snapshots
    for figure in ("Airflow CPU seconds per database (every", "SHOW statements per minute reaching one frontend, "
                   "busiest", "triggerer peak RSS"):
        assert re.match(r"^[0-9][0-9,.]* ", cells(text, figure)[1]), figure
