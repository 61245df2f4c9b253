"""Set-up time per fixture: every fixture set-up is timed (``pytest_fixture_setup``); ``--fixture-times=PATH``
writes the totals as JSON (an xdist worker hands its totals to the controller, which adds them up), for
tests/timing_report.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

# (fixture name, scope, where it is defined) -> [set-ups, seconds]
TIMES: dict[tuple[str, str, str], list[float]] = {}


def add(name: str, scope: str, where: str, setups: float, seconds: float) -> None:
    entry = TIMES.setdefault((name, scope, where), [0, 0.0])
    entry[0] += setups
    entry[1] += seconds


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    started = time.perf_counter()
    yield
    add(fixturedef.argname, fixturedef.scope, fixturedef.baseid or "<plugin>", 1, time.perf_counter() - started)


def as_rows() -> list[dict]:
    return [{"fixture": name, "scope": scope, "where": where, "setups": int(n), "seconds": round(seconds, 3)}
            for (name, scope, where), (n, seconds) in sorted(TIMES.items(), key=lambda kv: -kv[1][1])]


def merge(rows: list[dict]) -> None:
    for row in rows:
        add(row["fixture"], row["scope"], row["where"], row["setups"], row["seconds"])


def write(path: str) -> None:
    Path(path).write_text(json.dumps(as_rows(), indent=1) + "\n")
