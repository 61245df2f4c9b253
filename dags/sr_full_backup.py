"""sr_full_backup — nightly full backup of one or more StarRocks databases.

Creates the repository if it is missing, backs up every database of ``databases`` in parallel (one job per
database at a time), records each snapshot in the catalog, checks each snapshot is listed OK with valid md5s.
Params and their defaults: docs/dags.md; defaults come from sr_airflow.toml (sr_airflow.dag_defaults).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from sr_airflow.alerts import dag_failure_callback, load_alert_settings
from sr_airflow.dag_defaults import TEMPLATE_FILTERS, load_defaults, task_defaults
from sr_airflow.operators.access import StarRocksExportAccessOperator
from sr_airflow.operators.backup import StarRocksBackupOperator, backups_alias
from sr_airflow.operators.repository import StarRocksCreateRepositoryOperator
from sr_airflow.operators.rpo import StarRocksRpoCheckOperator
from sr_airflow.operators.snapshot_check import StarRocksCheckSnapshotOperator
from sr_airflow.operators.step import StepOperator

DEFAULTS = load_defaults("sr_full_backup")
ALERTS = load_alert_settings()  # [alerts] of sr_airflow.toml: a notifier adds the RPO check


def run_databases(context) -> list[str]:
    """The databases of this run, once each (each becomes one mapped backup task)."""
    names = list(dict.fromkeys(context["params"]["databases"]))
    if not names:
        raise ValueError("databases is empty: set [sr_full_backup] databases in sr_airflow.toml or pass "
                         '{"databases": [...]} in the run\'s conf.')
    return names


with DAG(
    dag_id="sr_full_backup",
    description="Nightly full backup of StarRocks databases into a repository, checked and catalogued.",
    # Nothing to back up on a schedule until databases are configured; manual runs pass them in the conf.
    schedule=DEFAULTS["schedule"] if DEFAULTS["databases"] else None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=DEFAULTS["max_active_runs"],  # 1 unless each concurrent run targets another cluster
    render_template_as_native_obj=True,
    default_args=task_defaults(DEFAULTS),  # deferrable (waits in the triggerer), retries: docs/dags.md
    user_defined_filters=TEMPLATE_FILTERS,
    tags=["starrocks", "backup"],
    on_failure_callback=dag_failure_callback(),  # [alerts] notifier of sr_airflow.toml, if any
    params={
        "starrocks_conn_id": Param(DEFAULTS["starrocks_conn_id"], type="string", minLength=1,
                                   title="StarRocks connection", description="Connection id of the cluster."),
        "databases": Param(DEFAULTS["databases"], type="array", items={"type": "string", "minLength": 1},
                           title="Databases", description="Each is backed up in parallel."),
        "objects": Param(DEFAULTS["objects"], type=["object", "null"], title="Objects",
                         description='Optional narrowing: {"tables": [...] or "ALL", "materialized_views": ..., '
                                     '"views": ..., "functions": ...}. Empty: the whole database.'),
        "repository": Param(DEFAULTS["repository"], type="string", minLength=1, title="Repository"),
        "location": Param(DEFAULTS["location"], type="string", minLength=1, title="Location",
                          description="e.g. s3://bucket/backups, gs://bucket/backups, hdfs://nn:8020/backups"),
        "storage_conn_id": Param(DEFAULTS["storage_conn_id"], type=["string", "null"], title="Storage connection",
                                 description="aws, google_cloud_platform or hdfs connection with the credentials."),
    },
) as dag:
    databases = StepOperator(task_id="databases", python_callable=run_databases)
    create_repository = StarRocksCreateRepositoryOperator(
        task_id="create_repository",
        starrocks_conn_id="{{ params.starrocks_conn_id | literal }}",
        repository="{{ params.repository | literal }}",
        location="{{ params.location | literal }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
    )

    backup = StarRocksBackupOperator.partial(
        task_id="backup",
        starrocks_conn_id="{{ params.starrocks_conn_id | literal }}",
        repository="{{ params.repository | literal }}",
        tables="{{ (params.objects or {}).get('tables') | literal }}",
        materialized_views="{{ (params.objects or {}).get('materialized_views') | literal }}",
        views="{{ (params.objects or {}).get('views') | literal }}",
        functions="{{ (params.objects or {}).get('functions') | literal }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
        location="{{ params.location | literal }}",
        label_kind="full",
        timeout=DEFAULTS["timeout_s"],
        outlets=[backups_alias()],  # an event of Asset starrocks://<conn>/<database> per backed-up database
        max_active_tis_per_dagrun=DEFAULTS["max_parallel_backups"],  # jobs in flight per cluster, deferred too
    ).expand(database=databases.output)

    check_snapshots = StarRocksCheckSnapshotOperator(
        task_id="check_snapshots",
        repository="{{ params.repository | literal }}",
        location="{{ params.location | literal }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
        snapshots=backup.output,
    )

    export_access = StarRocksExportAccessOperator(  # users, roles, grants, resource groups: docs/security.md
        task_id="export_access",
        starrocks_conn_id="{{ params.starrocks_conn_id | literal }}",
        repository="{{ params.repository | literal }}",
        location="{{ params.location | literal }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
        snapshots=backup.output,
    )

    create_repository >> backup >> check_snapshots
    backup >> export_access

    if ALERTS.notifier:  # alerts when a newest good snapshot is older than the RPO target, even after a failed backup
        check_rpo = StarRocksRpoCheckOperator(
            task_id="check_rpo",
            starrocks_conn_id="{{ params.starrocks_conn_id | literal }}",
            databases=databases.output,
            repository="{{ params.repository | literal }}",
            location="{{ params.location | literal }}",
            storage_conn_id="{{ params.storage_conn_id | literal }}",
        )
        backup >> check_rpo
