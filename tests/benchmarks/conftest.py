"""Benchmark smoke tests too long for ``make test`` (the suite's budget is 20 minutes) run only when their file is
named on the command line: ``pytest tests/benchmarks/test_thousand_databases.py``. Otherwise they are deselected
(reported as such, never counted as passed)."""

from __future__ import annotations

from pathlib import Path

ONLY_WHEN_NAMED = {"test_thousand_databases.py"}  # a real airflow standalone: about 3.5 min on a loaded 2-core box


def pytest_collection_modifyitems(config, items):
    named = {Path(arg.split("::")[0]).resolve() for arg in config.args}
    dropped = [item for item in items if item.path.name in ONLY_WHEN_NAMED and item.path.resolve() not in named]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]
