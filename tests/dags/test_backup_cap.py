"""sr_full_backup's per-cluster cap: sr_airflow.toml's `max_parallel_backups` and `max_active_runs` reach the backup
task's `max_active_tis_per_dagrun` and the DAG's `max_active_runs`, parsed as the DAG processor parses them. A real
run's jobs in flight under the cap: tests/benchmarks/test_thousand_databases.py."""

from __future__ import annotations

import pytest

from sr_airflow.dag_defaults import load_defaults
from sr_airflow.engine.errors import InvalidArgumentError
from tests.support.dags import load_shipped_dag


def test_built_in_cap_is_eight_jobs_and_one_run(tmp_path, monkeypatch):
    dag = load_shipped_dag("sr_full_backup", "", tmp_path, monkeypatch)
    assert dag.get_task("backup").max_active_tis_per_dagrun == 8
    assert dag.max_active_runs == 1


def test_cap_and_runs_from_the_config(tmp_path, monkeypatch):
    dag = load_shipped_dag("sr_full_backup", "[sr_full_backup]\nmax_parallel_backups = 3\nmax_active_runs = 4\n",
                           tmp_path, monkeypatch)
    assert dag.get_task("backup").max_active_tis_per_dagrun == 3
    assert dag.max_active_runs == 4


@pytest.mark.parametrize("text, message", [
    ("max_parallel_backups = 0", r"\[sr_full_backup\]\.max_parallel_backups must be a whole number of at least 1"),
    ("max_active_runs = 0", r"\[sr_full_backup\]\.max_active_runs must be a whole number of at least 1"),
    ("max_active_runs = true", r"max_active_runs must be a whole number of at least 1, got True"),
])
def test_a_cap_below_one_is_refused(tmp_path, text, message):
    path = tmp_path / "sr_airflow.toml"
    path.write_text(f"[sr_full_backup]\n{text}\n")
    with pytest.raises(InvalidArgumentError, match=message):
        load_defaults("sr_full_backup", path)
