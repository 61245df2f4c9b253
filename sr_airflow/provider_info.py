"""The provider metadata Airflow reads through the ``apache_airflow_provider`` entry point.

The connection form is declared here (``ui-field-behaviour`` and ``conn-fields``), as Airflow 3.2+ expects,
so the UI needs no hook import to draw it.
"""

from __future__ import annotations

STARROCKS_CONNECTION = {
    "hook-class-name": "sr_airflow.hooks.starrocks.StarRocksHook",
    "connection-type": "starrocks",
    "hook-name": "StarRocks",
    "ui-field-behaviour": {
        "hidden-fields": [],
        "relabeling": {"host": "FE host", "port": "FE query port", "schema": "Default database", "login": "User"},
        "placeholders": {
            "host": "fe.example.com",
            "port": "9030",
            "schema": "sr_hub",
            "login": "root",
            "password": "password of the user",
        },
    },
    "conn-fields": {
        "connect_timeout": {
            "label": "Connect timeout (seconds)",
            "description": "How long to wait for the frontend to accept a connection.",
            "schema": {"type": ["integer", "null"], "minimum": 1, "default": 10},
        },
        "read_timeout": {
            "label": "Read timeout (seconds)",
            "description": "How long one statement may take before the client gives up (empty: no limit).",
            "schema": {"type": ["integer", "null"], "minimum": 1},
        },
        # More frontends of the cluster, tried in order after host:port (sr_airflow.hooks.frontends).
        "hosts": {
            "label": "More frontends",
            "description": "Other frontends of the cluster as host:port, comma-separated, tried in order when the "
                           "one above does not answer (the first that answers serves the call).",
            "schema": {"type": ["string", "null"]},
        },
        "failover_connect_timeout": {
            "label": "Failover connect timeout (seconds)",
            "description": "With more frontends: how long each one is given to accept a connection before the "
                           "next is tried.",
            "schema": {"type": ["number", "null"], "exclusiveMinimum": 0, "default": 2},
        },
        # TLS (sr_airflow.hooks.tls): the frontend offers it from StarRocks 3.5.
        "ssl_mode": {
            "label": "TLS mode",
            "description": "disabled, preferred, required (encrypt, verify nothing), verify_ca, verify_identity "
                           "(CA and host name). Empty: verify_identity when a CA or client certificate is set, "
                           "else preferred.",
            "schema": {"type": ["string", "null"],
                       "enum": ["disabled", "preferred", "required", "verify_ca", "verify_identity", None]},
        },
        "ssl_ca": {
            "label": "TLS CA certificate",
            "description": "PEM file (path on the workers) or PEM text of the CA that signed the frontend's "
                           "certificate.",
            "schema": {"type": ["string", "null"]},
        },
        "ssl_cert": {
            "label": "TLS client certificate",
            "description": "PEM file of a client certificate (StarRocks asks for none; for a TLS proxy that does).",
            "schema": {"type": ["string", "null"]},
        },
        "ssl_key": {
            "label": "TLS client key",
            "description": "PEM file of the client certificate's private key.",
            "schema": {"type": ["string", "null"]},
        },
    },
}


def get_provider_info() -> dict:
    return {
        "package-name": "sr-airflow",
        "name": "StarRocks backup and restore",
        "description": "Back up, restore and migrate StarRocks with Airflow.",
        "versions": ["0.1.0"],
        "integrations": [{"integration-name": "StarRocks", "external-doc-url": "https://www.starrocks.io/",
                          "tags": ["software"]}],
        "connection-types": [STARROCKS_CONNECTION],
        "hooks": [{"integration-name": "StarRocks", "python-modules": ["sr_airflow.hooks.starrocks"]}],
        "operators": [{"integration-name": "StarRocks", "python-modules": [
            "sr_airflow.operators.repository", "sr_airflow.operators.backup", "sr_airflow.operators.restore",
            "sr_airflow.operators.cancel", "sr_airflow.operators.verify", "sr_airflow.operators.retention",
            "sr_airflow.operators.plan", "sr_airflow.operators.preflight",
            "sr_airflow.operators.snapshot_check",
        ]}],
        "sensors": [{"integration-name": "StarRocks", "python-modules": [
            "sr_airflow.sensors.job", "sr_airflow.sensors.snapshot",
        ]}],
        "triggers": [{"integration-name": "StarRocks", "python-modules": ["sr_airflow.triggers.job"]}],
    }
