"""StarRocksHook reads its connection the Airflow way: URIs through AIRFLOW_CONN_*, defaults, the form."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sr_airflow.hooks.starrocks import DEFAULT_PORT, StarRocksHook


@pytest.fixture
def conn_env(monkeypatch):
    def set_conn(conn_id: str, value: str) -> None:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", value)
    return set_conn


def test_uri_connection_gives_host_port_user_and_default_database(conn_env):
    conn_env("starrocks_default", "starrocks://root:@127.0.0.1:9030/sr_hub")
    kwargs = StarRocksHook()._connect_kwargs()
    assert kwargs | {"connect_timeout": None} == {
        "host": "127.0.0.1", "port": 9030, "user": "root", "password": "", "charset": "utf8mb4",
        "autocommit": True, "database": "sr_hub", "connect_timeout": None,
    }


def test_defaults_port_and_takes_extras(conn_env):
    conn_env("sr_other", json.dumps({"conn_type": "starrocks", "host": "fe1", "login": "backup", "password": "pw",
                                     "extra": {"connect_timeout": 3, "read_timeout": 60}}))
    kwargs = StarRocksHook(starrocks_conn_id="sr_other")._connect_kwargs()
    assert kwargs["port"] == DEFAULT_PORT == 9030
    assert (kwargs["connect_timeout"], kwargs["read_timeout"], kwargs["password"]) == (3.0, 60.0, "pw")
    assert "database" not in kwargs


def test_schema_argument_overrides_the_connection(conn_env):
    conn_env("starrocks_default", "starrocks://root:@127.0.0.1:9030/sr_hub")
    assert StarRocksHook(schema="other")._connect_kwargs()["database"] == "other"


def test_hook_identity():
    assert (StarRocksHook.conn_type, StarRocksHook.default_conn_name, StarRocksHook.conn_name_attr) == (
        "starrocks", "starrocks_default", "starrocks_conn_id")


def _airflow(*args: str, home) -> str:
    env = {**os.environ, "AIRFLOW_HOME": str(home)}
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    return subprocess.run([airflow, *args], env=env, capture_output=True, text=True, check=True, timeout=180).stdout


def test_airflow_lists_the_provider_and_knows_the_connection_type(tmp_path):
    providers = json.loads(_airflow("providers", "list", "-o", "json", home=tmp_path))
    assert any(p["package_name"] == "sr-airflow" for p in providers)
    hooks = json.loads(_airflow("providers", "hooks", "-o", "json", home=tmp_path))
    starrocks = [h for h in hooks if h.get("connection_type") == "starrocks"]
    assert starrocks and starrocks[0]["class"] == "sr_airflow.hooks.starrocks.StarRocksHook"


def test_connection_form_is_declared_for_the_ui():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    behaviour = manager.field_behaviours["starrocks"]
    assert behaviour["relabeling"]["schema"] == "Default database"
    assert behaviour["placeholders"]["port"] == "9030"
    widgets = {k: v for k, v in manager.connection_form_widgets.items() if k.startswith("extra__starrocks__")}
    assert set(widgets) == {"extra__starrocks__connect_timeout", "extra__starrocks__read_timeout",
                            "extra__starrocks__hosts", "extra__starrocks__failover_connect_timeout",
                            *(f"extra__starrocks__{name}" for name in ("ssl_mode", "ssl_ca", "ssl_cert", "ssl_key"))}
