"""sr_full_backup — nightly full backup of one or more StarRocks databases.

Creates the repository if it is missing, backs up every database of ``databases`` in parallel (one job per
database at a time), records each snapshot in the catalog, checks each snapshot is listed OK with valid md5s and
exports the cluster's users, roles and grants beside them. Each task's arguments are the run's params of the same
name (``param(...)``, read when the task runs) or another task's result (``.output``).
Params and their defaults: docs/dags.md; defaults come from sr_airflow.toml (sr_airflow.dag_defaults).
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from sr_airflow.alerts import load_alert_settings
from sr_airflow.dag_defaults import dag_settings, load_defaults
from sr_airflow.dag_params import cluster_param, databases_param, param, repository_args, repository_params
from sr_airflow.operators.access import StarRocksExportAccessOperator
from sr_airflow.operators.backup import StarRocksBackupOperator, backups_alias
from sr_airflow.operators.repository import StarRocksCreateRepositoryOperator
from sr_airflow.operators.rpo import StarRocksRpoCheckOperator
from sr_airflow.operators.snapshot_check import StarRocksCheckSnapshotOperator
from sr_airflow.operators.step import StepOperator

DEFAULTS = load_defaults("sr_full_backup")
ALERTS = load_alert_settings()  # [alerts] of sr_airflow.toml: a notifier adds the RPO check
CLUSTER = {"starrocks_conn_id": param("starrocks_conn_id")}
REPOSITORY = repository_args()  # repository, location, storage_conn_id: the run's params of those names


def run_databases(context) -> list[str]:
    """The databases of this run, once each (each becomes one mapped backup task)."""
    names = list(dict.fromkeys(context["params"]["databases"]))
    if not names:
        raise ValueError("databases is empty: set [sr_full_backup] databases in sr_airflow.toml or pass "
                         '{"databases": [...]} in the run\'s conf.')
    return names


def form_params() -> dict[str, Param]:
    """The trigger form: the cluster, the databases, an optional narrowing, the repository."""
    return {
        "starrocks_conn_id": cluster_param(DEFAULTS, "StarRocks connection", "Connection id of the cluster."),
        "databases": databases_param(DEFAULTS, "Each is backed up in parallel."),
        "objects": Param(DEFAULTS["objects"], type=["object", "null"], title="Objects",
                         description='Optional narrowing: {"tables": [...] or "ALL", "materialized_views": ..., '
                                     '"views": ..., "functions": ...}. Empty: the whole database.'),
        **repository_params(DEFAULTS, storage_required=False),
    }


with DAG(
    dag_id="sr_full_backup",
    description="Nightly full backup of StarRocks databases into a repository, checked and catalogued.",
    # Nothing to back up on a schedule until databases are configured; manual runs pass them in the conf.
    schedule=DEFAULTS["schedule"] if DEFAULTS["databases"] else None,
    max_active_runs=DEFAULTS["max_active_runs"],  # 1 unless each concurrent run targets another cluster
    tags=["starrocks", "backup"],
    params=form_params(),
    # start date, no catch-up, deferrable tasks and retries, the [alerts] notifier: docs/dags.md
    **dag_settings(DEFAULTS),
) as dag:
    databases = StepOperator(task_id="databases", python_callable=run_databases)
    create_repository = StarRocksCreateRepositoryOperator(task_id="create_repository", **CLUSTER, **REPOSITORY)

    backup = StarRocksBackupOperator.partial(
        task_id="backup",
        **CLUSTER,
        **REPOSITORY,
        tables=param("objects", key="tables"),
        materialized_views=param("objects", key="materialized_views"),
        views=param("objects", key="views"),
        functions=param("objects", key="functions"),
        label_kind="full",
        timeout=DEFAULTS["timeout_s"],
        outlets=[backups_alias()],  # an event of Asset starrocks://<conn>/<database> per backed-up database
        max_active_tis_per_dagrun=DEFAULTS["max_parallel_backups"],  # jobs in flight per cluster, deferred too
    ).expand(database=databases.output)

    check_snapshots = StarRocksCheckSnapshotOperator(task_id="check_snapshots", **REPOSITORY,
                                                     snapshots=backup.output)
    # users, roles, grants, resource groups beside the snapshots: docs/security.md
    export_access = StarRocksExportAccessOperator(task_id="export_access", **CLUSTER, **REPOSITORY,
                                                  snapshots=backup.output)

    create_repository >> backup >> [check_snapshots, export_access]

    if ALERTS.notifier:  # alerts when a newest good snapshot is older than the RPO target, even after a failed backup
        check_rpo = StarRocksRpoCheckOperator(task_id="check_rpo", **CLUSTER, **REPOSITORY,
                                              databases=databases.output)
        backup >> check_rpo
