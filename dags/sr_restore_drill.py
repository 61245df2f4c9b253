"""sr_restore_drill — prove on a schedule that the newest backup of each database restores, and how long it takes.

For each database of ``databases``, in parallel: claim a scratch database (``scratch_template``, default
``{database}__drill``; one that exists is refused unless an earlier drill left it), restore the newest point from
the catalog into it, verify it against what the snapshots recorded (partition versions, row counts), record the
drill — snapshot, start, RTO (start to verified), result — in the repository beside the catalog
(``sr_airflow.storage.drill_store``), and drop the scratch database, whatever the restore did. The drilled
database is only read. Point ``starrocks_conn_id`` at a scratch cluster to keep the drill's load off production.
Params and defaults: docs/dags.md; defaults come from sr_airflow.toml (sr_airflow.dag_defaults).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param, task_group

from sr_airflow.alerts import dag_failure_callback
from sr_airflow.dag_defaults import TEMPLATE_FILTERS, load_defaults, task_defaults
from sr_airflow.operators.drill import StarRocksDrillFinishOperator, StarRocksDrillStartOperator
from sr_airflow.operators.repository import StarRocksCreateRepositoryOperator
from sr_airflow.operators.restore import StarRocksRestoreChainOperator
from sr_airflow.operators.step import StepOperator
from sr_airflow.operators.verify import StarRocksVerifyRestoreOperator

DEFAULTS = load_defaults("sr_restore_drill")


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


with DAG(
    dag_id="sr_restore_drill",
    description="Restore the newest backup of StarRocks databases into scratch databases, verify, record the RTO, "
                "drop.",
    schedule=DEFAULTS["schedule"] if DEFAULTS["databases"] else None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    render_template_as_native_obj=True,
    default_args=task_defaults(DEFAULTS),  # deferrable (waits in the triggerer), retries: docs/dags.md
    user_defined_filters=TEMPLATE_FILTERS,
    tags=["starrocks", "restore", "drill"],
    on_failure_callback=dag_failure_callback(),  # [alerts] notifier of sr_airflow.toml, if any
    params={
        "starrocks_conn_id": Param(DEFAULTS["starrocks_conn_id"], type="string", minLength=1,
                                   title="Drill cluster", description="Where the scratch databases are restored."),
        "databases": Param(DEFAULTS["databases"], type="array", items={"type": "string", "minLength": 1},
                           title="Databases", description="Each is drilled in parallel."),
        "scratch_template": Param(DEFAULTS["scratch_template"], type="string", pattern=".*\\{database\\}.*",
                                  title="Scratch database", description="Its name; {database} is the drilled one."),
        "repository": Param(DEFAULTS["repository"], type="string", minLength=1, title="Repository"),
        "location": Param(DEFAULTS["location"], type="string", minLength=1, title="Location"),
        "storage_conn_id": Param(DEFAULTS["storage_conn_id"], type="string", minLength=1,
                                 title="Storage connection", description="Reads the catalog, writes the drills."),
    },
) as dag:
    plans = StepOperator(task_id="drills", python_callable=drills)
    create_repository = StarRocksCreateRepositoryOperator(
        task_id="create_repository",
        starrocks_conn_id="{{ params.starrocks_conn_id | literal }}",
        repository="{{ params.repository | literal }}",
        location="{{ params.location | literal }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
    )

    @task_group(group_id="drill")
    def drill(database, scratch_database):
        where = {"starrocks_conn_id": "{{ params.starrocks_conn_id | literal }}",
                 "repository": "{{ params.repository | literal }}", "location": "{{ params.location | literal }}",
                 "storage_conn_id": "{{ params.storage_conn_id | literal }}"}
        start = StarRocksDrillStartOperator(task_id="start", database=database, scratch_database=scratch_database,
                                            **where)
        restore = StarRocksRestoreChainOperator(task_id="restore", database=database,
                                                target_database=scratch_database, **where)
        verify = StarRocksVerifyRestoreOperator(
            task_id="verify",
            database=scratch_database,
            source_database=database,
            snapshot_label="{{ ti.xcom_pull(task_ids='drill.restore', map_indexes=ti.map_index)['plan']"
                           "['snapshot_label'] }}",
            point_in_time="{{ ti.xcom_pull(task_ids='drill.restore', map_indexes=ti.map_index)['point_in_time'] }}",
            fail_on_mismatch=False,  # the finish step records the mismatches and fails the drill
            **where,
        )
        finish = StarRocksDrillFinishOperator(task_id="finish", database=database, scratch_database=scratch_database,
                                              start_task_id="drill.start", restore_task_id="drill.restore",
                                              verify_task_id="drill.verify", **where)
        start >> restore >> verify >> finish

    create_repository >> drill.expand_kwargs(plans.output)
