"""The shipped DAGs' defaults come from one TOML file; bad values give one clear error naming the key."""

from __future__ import annotations

import pytest

from sr_airflow.dag_defaults import config_path, load_defaults
from sr_airflow.engine.errors import InvalidArgumentError


def write(tmp_path, text):
    path = tmp_path / "sr_airflow.toml"
    path.write_text(text)
    return path


def test_built_in_defaults_without_a_file(tmp_path):
    defaults = load_defaults("sr_full_backup", tmp_path / "missing.toml")
    assert defaults["starrocks_conn_id"] == "starrocks_default" and defaults["schedule"] == "0 2 * * *"


def test_sections_override_in_order(tmp_path):
    path = write(tmp_path, """
[defaults]
repository = "nightly"
databases = ["a", "b"]
dry_run = true
[sr_full_backup]
databases = ["c"]
""")
    full = load_defaults("sr_full_backup", path)
    assert (full["repository"], full["databases"]) == ("nightly", ["c"])
    assert load_defaults("sr_retention", path)["dry_run"] is True


@pytest.mark.parametrize("text, message", [
    ('[sr_full_backup]\ndatabases = "a"', r"\[sr_full_backup\]\.databases must be a list of non-empty strings"),
    ('[sr_incremental_backup]\nmode = "weekly"', r"mode must be one of changed, logical_date"),
    ('[sr_retention]\nkeep_last = -1', r"keep_last must be a whole number of at least 0"),
    ('[sr_full_backup]\nrepo = "x"', r"unknown key 'repo'"),
    ("[defaults\n", "is not valid TOML"),
])
def test_bad_values_are_named(tmp_path, text, message):
    with pytest.raises(InvalidArgumentError, match=message):
        load_defaults("sr_full_backup" if "sr_full" in text or "[defaults" in text else
                      ("sr_incremental_backup" if "incremental" in text else "sr_retention"), write(tmp_path, text))


def test_config_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SR_AIRFLOW_CONFIG", str(tmp_path / "x.toml"))
    assert config_path() == tmp_path / "x.toml"
    monkeypatch.delenv("SR_AIRFLOW_CONFIG")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    assert config_path() == tmp_path / "sr_airflow.toml"
