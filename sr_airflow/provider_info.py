"""The provider metadata Airflow reads through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations


def get_provider_info() -> dict:
    return {
        "package-name": "sr-airflow",
        "name": "StarRocks backup and restore",
        "description": "Back up, restore and migrate StarRocks with Airflow.",
        "versions": ["0.1.0"],
        "connection-types": [
            {"hook-class-name": "sr_airflow.hooks.starrocks.StarRocksHook", "connection-type": "starrocks"},
        ],
        "hooks": [{"integration-name": "StarRocks", "python-modules": ["sr_airflow.hooks.starrocks"]}],
        "operators": [],
        "sensors": [],
        "triggers": [],
    }
