"""DAGs whose operator arguments are templates rendered as text (no native rendering): what a DAG written without
``render_template_as_native_obj`` hands an operator. No I/O at import."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from sr_airflow.operators.restore import StarRocksRestoreOperator

START = pendulum.datetime(2024, 1, 1, tz="UTC")

with DAG("restore_allow_overwrite_as_text", schedule=None, start_date=START, catchup=False,
         params={"allow_overwrite": False}) as restore_allow_overwrite_as_text:
    StarRocksRestoreOperator(task_id="restore", starrocks_conn_id="sr_main", repository="repo_args",
                             snapshot_label="snap_args", database="args_db",
                             allow_overwrite="{{ params.allow_overwrite }}", overwrite_mode="in_place",
                             deferrable=False, poll_interval=0.2, max_poll_interval=0.5)
