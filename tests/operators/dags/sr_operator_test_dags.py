"""DAGs the operator tests run with ``dag.test()`` (Airflow 3.3 runs only DAGs that live in a bundle).

No I/O at import. ``RESULTS`` collects what each DAG's ``collect`` task received, for the tests to read.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, task

from sr_airflow.operators.backup import StarRocksBackupOperator
from sr_airflow.operators.cancel import StarRocksCancelJobOperator
from sr_airflow.operators.repository import StarRocksCreateRepositoryOperator, StarRocksDropRepositoryOperator
from sr_airflow.operators.restore import StarRocksRestoreChainOperator, StarRocksRestoreOperator
from sr_airflow.operators.retention import StarRocksRetentionOperator
from sr_airflow.operators.step import ConditionStepOperator, StepOperator
from sr_airflow.operators.verify import StarRocksVerifyRestoreOperator
from sr_airflow.sensors.job import StarRocksJobSensor
from sr_airflow.sensors.snapshot import StarRocksSnapshotSensor

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
        kwargs.setdefault("repository", "repo_b")
        op = StarRocksBackupOperator(task_id="backup", starrocks_conn_id="sr_main", database="sales",
                                     **{**FAST, **kwargs})
        _collect(dag_id, op)
    return dag


backup_poke = backup_dag("backup_poke", deferrable=False)
backup_deferred = backup_dag("backup_deferred", deferrable=True)

# a first attempt gives up waiting after 0.3 s (as a killed worker would), the retries find the same job
backup_retry = backup_dag("backup_retry", deferrable=False, wait_timeout=0.3, retries=6,
                          retry_delay=timedelta(seconds=0.1), cancel_on_kill=False)
backup_fixed_run = backup_dag("backup_fixed_run", deferrable=True)
backup_cancel_retry = backup_dag("backup_cancel_retry", deferrable=False, retries=1, retry_delay=timedelta(0))
backup_cancel_fails = backup_dag("backup_cancel_fails", deferrable=True)
backup_busy_fail = backup_dag("backup_busy_fail", deferrable=False, on_busy="fail")
backup_busy_wait = backup_dag("backup_busy_wait", deferrable=True, on_busy="wait")
backup_catalog = backup_dag("backup_catalog", deferrable=True, storage_conn_id="s3_test")


def restore_dag(dag_id: str, conn_id: str = "sr_main", tasks: tuple[dict, ...] = (),
                operator=StarRocksRestoreOperator, **kwargs) -> DAG:
    """One restore task (``operator``) per mapping in ``tasks`` (in order), each collected as
    ``<dag_id>.<task_id>``."""
    with DAG(dag_id, schedule=None, start_date=START, catchup=False, render_template_as_native_obj=True) as dag:
        previous = None
        for spec in tasks or ({},):
            spec = {**kwargs, **spec}
            task_id = spec.pop("task_id", "restore")
            op = operator(task_id=task_id, starrocks_conn_id=conn_id, repository="repo_r", **{**FAST, **spec})
            if previous is not None:
                previous >> op
            previous = op

            @task(task_id=f"collect_{task_id}", trigger_rule="all_done")
            def collect(value, key=f"{dag_id}.{task_id}"):
                RESULTS[key] = value

            collect(op.output)
    return dag


restore_to_target = restore_dag("restore_to_target", "sr_target", snapshot_label="snap_full", deferrable=True)
restore_renamed = restore_dag("restore_renamed", snapshot_label="snap_full", target_database="sales_copy",
                              deferrable=False)
restore_again_refused = restore_dag("restore_again_refused", "sr_target", snapshot_label="snap_full")
restore_overwrite = restore_dag("restore_overwrite", "sr_target", snapshot_label="snap_full", allow_overwrite=True,
                                storage_conn_id="s3_test", tables=["orders"])
restore_other_schema = restore_dag("restore_other_schema", "sr_target", snapshot_label="snap_full",
                                   target_database="other", allow_overwrite=True, storage_conn_id="s3_test",
                                   tables=["orders"])
restore_types = restore_dag("restore_types", "sr_target", snapshot_label="snap_types", database="typed",
                            allow_overwrite=True, storage_conn_id="s3_test")
restore_types_changed = restore_dag("restore_types_changed", "sr_target", snapshot_label="snap_types",
                                    database="typed", target_database="typed_changed", allow_overwrite=True,
                                    storage_conn_id="s3_test")
restore_mv_then_base = restore_dag(
    "restore_mv_then_base", "sr_target", snapshot_label="snap_full", database="sales", target_database="mvdb",
    tasks=({"task_id": "mv_first", "materialized_views": ["mv1"]},
           {"task_id": "base_then", "tables": ["orders"]}),
)


def single_task_dag(dag_id: str, factory) -> DAG:
    with DAG(dag_id, schedule=None, start_date=START, catchup=False) as dag:
        op = factory()

        @task(trigger_rule="all_done")
        def collect(value):
            RESULTS[dag_id] = value

        collect(op.output)
    return dag


sensor_db_free_poke = single_task_dag("sensor_db_free_poke", lambda: StarRocksJobSensor(
    task_id="wait", starrocks_conn_id="sr_main", database="sales", poke_interval=0.2, mode="poke",
    deferrable=False, timeout=60))
sensor_label_deferred = single_task_dag("sensor_label_deferred", lambda: StarRocksJobSensor(
    task_id="wait", starrocks_conn_id="sr_main", database="sales", job_type="backup", snapshot_label="sensed_1",
    poke_interval=0.2, deferrable=True, timeout=60))
sensor_label_cancelled = single_task_dag("sensor_label_cancelled", lambda: StarRocksJobSensor(
    task_id="wait", starrocks_conn_id="sr_main", database="sales", job_type="backup", snapshot_label="sensed_2",
    poke_interval=0.2, deferrable=False, timeout=60))
sensor_snapshot_on_target = single_task_dag("sensor_snapshot_on_target", lambda: StarRocksSnapshotSensor(
    task_id="wait", starrocks_conn_id="sr_target", repository="repo_s", snapshot_label="sensed_3",
    poke_interval=0.2, deferrable=True, timeout=60))
cancel_backup = single_task_dag("cancel_backup", lambda: StarRocksCancelJobOperator(
    task_id="cancel", starrocks_conn_id="sr_main", job_type="backup", database="sales"))

verify_target = single_task_dag("verify_target", lambda: StarRocksVerifyRestoreOperator(
    task_id="verify", starrocks_conn_id="sr_target", database="sales", repository="repo_r",
    snapshot_label="snap_full", storage_conn_id="s3_test", source_conn_id="sr_main", tables=["orders"],
    checksums=True))


def retention_dag(dag_id: str, **kwargs) -> DAG:
    return single_task_dag(dag_id, lambda: StarRocksRetentionOperator(
        task_id="retention", starrocks_conn_id="sr_main", repository="repo_b", storage_conn_id="s3_test",
        keep_last=1, **kwargs))


retention_dry = retention_dag("retention_dry")
retention_apply = retention_dag("retention_apply", dry_run=False)

create_repo_from_conn = single_task_dag("create_repo_from_conn", lambda: StarRocksCreateRepositoryOperator(
    task_id="create", starrocks_conn_id="sr_main", repository="repo_c", location="s3://sr-backups/repo-tests",
    storage_conn_id="s3_test"))
create_repo_elsewhere = single_task_dag("create_repo_elsewhere", lambda: StarRocksCreateRepositoryOperator(
    task_id="create", starrocks_conn_id="sr_main", repository="repo_c", location="s3://sr-backups/elsewhere",
    storage_conn_id="s3_test"))
create_repo_from_properties = single_task_dag("create_repo_from_properties", lambda: StarRocksCreateRepositoryOperator(
    task_id="create", starrocks_conn_id="sr_main", repository="repo_p", location="s3a://sr-backups/props-tests",
    properties={"aws.s3.access_key": "test-access-key", "aws.s3.secret_key": "test-secret-key-123",
                "aws.s3.region": "us-east-1"}))
drop_repo = single_task_dag("drop_repo", lambda: StarRocksDropRepositoryOperator(
    task_id="drop", starrocks_conn_id="sr_main", repository="repo_c"))

backup_for_chain = backup_dag("backup_for_chain", repository="repo_r", storage_conn_id="s3_test")
restore_chain = restore_dag("restore_chain", operator=StarRocksRestoreChainOperator, database="sales",
                            target_database="sales_pitr", storage_conn_id="s3_test", deferrable=True)
restore_busy_fail = restore_dag("restore_busy_fail", snapshot_label="snap_full", on_busy="fail", deferrable=False)


def step_dag(dag_id: str, go: bool) -> DAG:
    """The shipped DAGs' light steps: a value, a gate on it, the gated task, then one that follows its trigger
    rule (``none_failed``) whatever the gate decided."""
    with DAG(dag_id, schedule=None, start_date=START, catchup=False, render_template_as_native_obj=True) as dag:
        source = StepOperator(task_id="source", python_callable=lambda context: {"go": go, "n": 2})
        gate = ConditionStepOperator(task_id="gate", python_callable=lambda context, value: value["go"],
                                     op_kwargs={"value": source.output})
        gated = StepOperator(task_id="gated", python_callable=lambda context, n: n * 21,
                             op_kwargs={"n": "{{ ti.xcom_pull(task_ids='source')['n'] }}"})
        after = StepOperator(task_id="after", trigger_rule="none_failed",
                             python_callable=lambda context: context["ti"].xcom_pull(task_ids="gated"))
        gate >> gated >> after
        _collect(dag_id, after)
    return dag


steps_go = step_dag("steps_go", go=True)
steps_stop = step_dag("steps_stop", go=False)
