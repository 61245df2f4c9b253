"""What every test package shares: the Airflow configuration (a temporary AIRFLOW_HOME per pytest process, set in
``pytest_configure``, never at import), one migrated metadata database per run, one S3 API server per process
(per xdist worker), the reliability figures and fixture set-up times added up across workers, and the suite's time
guard (its wall time at the end, a loud warning past the budget). Helpers live in ``tests/support/``."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.support import airflow_env, figures, fixture_timing
from tests.support.s3 import BUCKET, aws_connection_uri, s3_client
from tests.support.schedule import LONGEST_FIRST

BUDGET_MINUTES = 20  # the suite's budget on the 2-core machine (make test fails at TEST_TIME_LIMIT_MINUTES)
_RUN_DIR = "SR_AIRFLOW_TEST_RUN_DIR"  # one directory per run, shared by the xdist workers
_started = time.monotonic()


def pytest_addoption(parser):
    parser.addoption("--fixture-times", metavar="PATH", default=None,
                     help="write the set-up time of every fixture (added up over the xdist workers) to PATH as JSON")


def _worker_id(config) -> str:
    return getattr(config, "workerinput", {}).get("workerid", "main")


def pytest_configure(config):
    config.pluginmanager.register(fixture_timing, "sr_fixture_timing")
    _load_hypothesis_profile()
    owner = not hasattr(config, "workerinput")  # the controller (or a run without xdist) owns the run directory
    if owner or _RUN_DIR not in os.environ:
        os.environ[_RUN_DIR] = tempfile.mkdtemp(prefix="sr-airflow-tests-")
    run_dir = Path(os.environ[_RUN_DIR])
    config.stash[_run_dir_key] = (run_dir, owner)
    airflow_env.apply(run_dir / f"airflow-{_worker_id(config)}")


def _load_hypothesis_profile() -> None:
    """The property tests draw the same examples on every run ("ci", the default), so a run's verdict does not
    depend on luck; ``SR_HYPOTHESIS_PROFILE=explore`` draws new random examples, to look for new failures."""
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, database=None)
    settings.register_profile("explore", derandomize=False)
    settings.load_profile(os.environ.get("SR_HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config, items):
    if not hasattr(config, "workerinput"):  # a single process keeps pytest's own order
        return
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: files stay whole


def pytest_unconfigure(config):
    run_dir, owner = config.stash.get(_run_dir_key, (None, False))
    if run_dir is not None and owner:
        shutil.rmtree(run_dir, ignore_errors=True)


_run_dir_key = pytest.StashKey[tuple]()


@pytest.fixture(scope="session")
def airflow_db(pytestconfig) -> Path:
    """This process's AIRFLOW_HOME with a migrated metadata database (one ``airflow db migrate`` per run)."""
    run_dir, _ = pytestconfig.stash[_run_dir_key]
    home = Path(os.environ["AIRFLOW_HOME"])
    airflow_env.migrated_database(home, run_dir)
    return home


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 API server, one per pytest process, with the bucket ``BUCKET``; tests use their own prefix or
    bucket in it."""
    from sr_airflow.testing.servers import S3Server

    with S3Server() as server:
        s3_client(server.endpoint_url).create_bucket(Bucket=BUCKET)
        yield server


@pytest.fixture
def aws_conn(s3_server, monkeypatch) -> str:
    """An Airflow ``aws`` connection ``s3_test`` to the S3 server (for the catalog and repository creation)."""
    monkeypatch.setenv("AIRFLOW_CONN_S3_TEST", aws_connection_uri(s3_server.endpoint_url))
    return "s3_test"


@pytest.fixture
def load_dag(tmp_path, monkeypatch):
    """``load_dag(dag_id, config)``: parse a shipped DAG file with ``config`` as its sr_airflow.toml."""
    from tests.support.dags import load_shipped_dag

    def load(dag_id: str, config: str = ""):
        return load_shipped_dag(dag_id, config, tmp_path, monkeypatch)

    return load


# ---------------------------------------------------------------- xdist: workers hand their counts to the controller
def pytest_sessionfinish(session):
    config = session.config
    if hasattr(config, "workeroutput"):
        config.workeroutput["sr_figures"] = json.dumps(figures.FIGURES)
        config.workeroutput["sr_fixture_times"] = json.dumps(fixture_timing.as_rows())
    elif config.getoption("fixture_times"):  # the controller: the workers' totals are merged by now
        fixture_timing.write(config.getoption("fixture_times"))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    output = getattr(node, "workeroutput", {})
    figures.merge(json.loads(output.get("sr_figures", "{}")))
    fixture_timing.merge(json.loads(output.get("sr_fixture_times", "[]")))


def pytest_terminal_summary(terminalreporter, config):
    if hasattr(config, "workerinput"):
        return
    if figures.FIGURES:
        terminalreporter.write_sep("-", "reliability figures")
        for name in sorted(figures.FIGURES):  # the lines tests/support/reliability_figures.py reads
            terminalreporter.write_line(f"RELIABILITY {name}={figures.FIGURES[name]}")
    minutes = (time.monotonic() - _started) / 60
    terminalreporter.write_sep("=", f"suite wall time {minutes:.1f} min (budget {BUDGET_MINUTES} min)")
    if minutes > BUDGET_MINUTES:
        terminalreporter.write_sep("!", f"WARNING: the suite took {minutes:.1f} min, over its {BUDGET_MINUTES}-minute "
                                   "budget", red=True, bold=True)
        terminalreporter.write_line("Find the cause in the durations table before adding tests (docs/testing.md).",
                                    red=True, bold=True)
