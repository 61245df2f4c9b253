"""Importing the storage package must stay light: no cloud SDK, no pyarrow, no duckdb until a backend is used."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sr_airflow.storage.registry import BACKENDS, get_storage_class, register_backend

HEAVY = ["boto3", "botocore", "google.cloud.storage", "google.auth", "google.api_core", "hdfs", "pyarrow", "duckdb"]


def test_import_storage_loads_no_heavy_module():
    code = ("import sys, sr_airflow.storage, sr_airflow.storage.connections, sr_airflow.storage.catalog_store, "
            "sr_airflow.engine.catalog, sr_airflow.engine.planner, sr_airflow.engine.resolve, "
            "sr_airflow.engine.retention, sr_airflow.engine.jobinfo; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_engine_modules_import_no_airflow():
    code = ("import sys, sr_airflow.engine.catalog, sr_airflow.engine.planner, sr_airflow.engine.resolve, "
            "sr_airflow.engine.retention, sr_airflow.engine.jobinfo; print('airflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_registry_imports_lazily_and_names_the_extra(monkeypatch):
    assert get_storage_class("memory").__name__ == "MemoryRepositoryStorage"
    monkeypatch.setitem(BACKENDS, "fake", ("sr_airflow_not_installed.backend.Fake", "sr-airflow[fake]"))
    with pytest.raises(ImportError, match=r"install sr-airflow\[fake\]"):
        get_storage_class("fake")
    with pytest.raises(ValueError, match="Unknown storage backend 'nope'"):
        get_storage_class("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_backend("s3", "x.Y", "x")
