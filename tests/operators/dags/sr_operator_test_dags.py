"""DAGs the operator tests run with ``dag.test()`` (Airflow 3.3 runs only DAGs that live in a bundle).

No I/O at import. ``RESULTS`` collects what each DAG's ``collect`` task received, for the tests to read.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task

from sr_airflow.operators.backup import StarRocksBackupOperator

RESULTS: dict[str, object] = {}
START = pendulum.datetime(2024, 1, 1, tz="UTC")
FAST = {"poll_interval": 0.2, "max_poll_interval": 0.5}


def _collect(dag_id: str, upstream) -> None:
    @task(trigger_rule="all_done")
    def collect(value):
        RESULTS[dag_id] = value

    collect(upstream.output)


def backup_dag(dag_id: str, **kwargs) -> DAG:
    with DAG(dag_id, schedule=None, start_date=START, catchup=False, render_template_as_native_obj=True) as dag:
        op = StarRocksBackupOperator(task_id="backup", starrocks_conn_id="sr_main", repository="repo_b",
                                     database="sales", **{**FAST, **kwargs})
        _collect(dag_id, op)
    return dag


backup_poke = backup_dag("backup_poke", deferrable=False)
backup_deferred = backup_dag("backup_deferred", deferrable=True)
