"""sr_restore_drill — prove on a schedule that the newest backup of each database restores, and how long it takes.

For each database of ``databases``, in parallel: claim a scratch database (``scratch_template``, default
``{database}__drill``; one that exists is refused unless an earlier drill left it), restore the newest point from
the catalog into it, verify it against what the snapshots recorded (partition versions, row counts), record the
drill — snapshot, start, RTO (start to verified), result — in the repository beside the catalog
(``sr_airflow.storage.drill_store``), and drop the scratch database, whatever the restore did. The drilled
database is only read. Point ``starrocks_conn_id`` at a scratch cluster to keep the drill's load off production.
Each task's arguments are the run's params of the same name (``param(...)``, read when the task runs) or
the drill's own values (the database and its scratch database, mapped).
Params and defaults: docs/dags.md; defaults come from sr_airflow.toml (sr_airflow.dag_defaults).
"""

from __future__ import annotations

from airflow.sdk import DAG, Param, task_group

from sr_airflow.dag_defaults import dag_settings, load_defaults
from sr_airflow.dag_params import cluster_param, databases_param, param, repository_args, repository_params
from sr_airflow.operators.drill import StarRocksDrillFinishOperator, StarRocksDrillStartOperator
from sr_airflow.operators.repository import StarRocksCreateRepositoryOperator
from sr_airflow.operators.restore import StarRocksRestoreChainOperator
from sr_airflow.operators.step import StepOperator
from sr_airflow.operators.verify import StarRocksVerifyRestoreOperator

DEFAULTS = load_defaults("sr_restore_drill")
CLUSTER = {"starrocks_conn_id": param("starrocks_conn_id")}
REPOSITORY = repository_args()  # repository, location, storage_conn_id: the run's params of those names


def drills(context) -> list[dict]:
    """One drill per database: the database and its scratch database (``scratch_template`` filled in)."""
    params = context["params"]
    databases = list(dict.fromkeys(params["databases"]))
    if not databases:
        raise ValueError("databases is empty: set [sr_restore_drill] databases in sr_airflow.toml or pass "
                         '{"databases": [...]} in the run\'s conf.')
    template = params["scratch_template"]
    if "{database}" not in template:
        raise ValueError(f"scratch_template must contain {{database}}, got {template!r}.")
    plans = [{"database": db, "scratch_database": template.replace("{database}", db)} for db in databases]
    clashes = sorted({p["scratch_database"] for p in plans} & set(databases))
    if clashes:
        raise ValueError(f"scratch_template {template!r} names a drilled database as scratch: {', '.join(clashes)}.")
    return plans


def form_params() -> dict[str, Param]:
    """The trigger form: the drill cluster, the databases, the scratch name, the repository."""
    return {
        "starrocks_conn_id": cluster_param(DEFAULTS, "Drill cluster", "Where the scratch databases are restored."),
        "databases": databases_param(DEFAULTS, "Each is drilled in parallel."),
        "scratch_template": Param(DEFAULTS["scratch_template"], type="string", pattern=".*\\{database\\}.*",
                                  title="Scratch database", description="Its name; {database} is the drilled one."),
        **repository_params(DEFAULTS),
    }


with DAG(
    dag_id="sr_restore_drill",
    description="Restore the newest backup of StarRocks databases into scratch databases, verify, record the RTO, "
                "drop.",
    schedule=DEFAULTS["schedule"] if DEFAULTS["databases"] else None,
    max_active_runs=1,
    tags=["starrocks", "restore", "drill"],
    params=form_params(),
    # start date, no catch-up, deferrable tasks and retries, the [alerts] notifier: docs/dags.md
    **dag_settings(DEFAULTS),
) as dag:
    plans = StepOperator(task_id="drills", python_callable=drills)
    create_repository = StarRocksCreateRepositoryOperator(task_id="create_repository", **CLUSTER, **REPOSITORY)

    @task_group(group_id="drill")
    def drill(database, scratch_database):
        start = StarRocksDrillStartOperator(task_id="start", database=database, scratch_database=scratch_database,
                                            **CLUSTER, **REPOSITORY)
        restore = StarRocksRestoreChainOperator(task_id="restore", database=database,
                                                target_database=scratch_database, **CLUSTER, **REPOSITORY,
                                                multiple_outputs=True)  # restore.output["snapshot_label"], ...
        verify = StarRocksVerifyRestoreOperator(
            task_id="verify",
            database=scratch_database,
            source_database=database,
            snapshot_label=restore.output["snapshot_label"],  # this drill's restore (the same map index)
            point_in_time=restore.output["point_in_time"],
            fail_on_mismatch=False,  # the finish step records the mismatches and fails the drill
            **CLUSTER,
            **REPOSITORY,
        )
        finish = StarRocksDrillFinishOperator(task_id="finish", database=database, scratch_database=scratch_database,
                                              start_task_id="drill.start", restore_task_id="drill.restore",
                                              verify_task_id="drill.verify", **CLUSTER, **REPOSITORY)
        start >> restore >> verify >> finish

    create_repository >> drill.expand_kwargs(plans.output)
