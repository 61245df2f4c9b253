"""sr_incremental_backup — partition-incremental backups, planned from the catalog.

``mode = "changed"``: back up the partitions whose physical partitions moved since the newest snapshot holding
them, tables whose schema changed or that are new (whole), and new or changed views, materialized views and
functions (a full one when there is no base or the policy says so); nothing changed means no job. ``mode =
"logical_date"``: back up the partitions of the run's data interval, named by ``partition_template`` — so
``airflow backfill create --dag-id sr_incremental_backup --from-date ... --to-date ... --max-active-runs 4`` backs
up exactly those partitions; a date already held at its version is a no-op on rerun. Runs may overlap (a backfill
obeys its own ``--max-active-runs``, not the DAG's): restores resolve each partition from the newest snapshot
holding it, and each backup reads its tombstones once its job holds the database, so overlapping runs are safe;
``--max-active-runs`` only sets the speed. A table with temporary partitions is left out (StarRocks refuses to
back it up) and the run fails naming it, after everything else is backed up and recorded.
Params and defaults: docs/dags.md; defaults come from sr_airflow.toml (sr_airflow.dag_defaults).
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from sr_airflow.alerts import load_alert_settings
from sr_airflow.dag_defaults import dag_settings, load_defaults
from sr_airflow.dag_params import cluster_param, databases_param, param, repository_args, repository_params, same_names
from sr_airflow.operators.backup import StarRocksBackupOperator, backups_alias
from sr_airflow.operators.plan import StarRocksPlanBackupOperator
from sr_airflow.operators.repository import StarRocksCreateRepositoryOperator
from sr_airflow.operators.rpo import StarRocksRpoCheckOperator
from sr_airflow.operators.step import StepOperator

DEFAULTS = load_defaults("sr_incremental_backup")
ALERTS = load_alert_settings()  # [alerts] of sr_airflow.toml: a notifier adds the RPO check
CLUSTER = {"starrocks_conn_id": param("starrocks_conn_id")}
REPOSITORY = repository_args()  # repository, location, storage_conn_id: the run's params of those names


def plan_inputs(context) -> list[dict]:
    """One planning input per database; in ``logical_date`` mode the partition template is rendered for this run's
    data interval (a run without a logical date has none: refused)."""
    params = context["params"]
    databases = list(dict.fromkeys(params["databases"]))
    if not databases:
        raise ValueError("databases is empty: set [sr_incremental_backup] databases in sr_airflow.toml or "
                         'pass {"databases": [...]} in the run\'s conf.')
    if params["mode"] != "logical_date":  # "changed" names no partition: a run without a logical date is fine
        return [{"database": db, "partitions": []} for db in databases]
    if context.get("logical_date") is None:
        raise ValueError("mode 'logical_date' needs a run with a logical date: its partitions are named from the "
                         "run's data interval (partition_template). Trigger the run with a logical date, or use "
                         "mode 'changed'.")
    rendered = context["task"].render_template(params["partition_template"], context)
    partitions = [p.strip() for p in str(rendered).split(",") if p.strip()]
    return [{"database": db, "partitions": partitions} for db in databases]


def backup_arguments(plan: dict) -> dict:
    """One plan (XCom of the plan task) as the backup task's arguments; an empty plan skips the backup."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    left_out = plan.get("excluded_tables") or {}
    if plan["empty"] and left_out:
        raise AirflowFailException(f"Nothing else to back up in {plan['database']}, and table(s) "
                                   f"{', '.join(sorted(left_out))} left out: {'; '.join(left_out.values())}.")
    if plan["empty"] and plan.get("unrecorded_drops"):
        raise AirflowFailException(f"{', '.join(plan['unrecorded_drops']).capitalize()} of {plan['database']} "
                                   "dropped, and nothing is left in the database to back up to record it: a "
                                   "restore to a later moment would bring it back.")
    if plan["empty"]:
        raise AirflowSkipException(f"Nothing to back up in {plan['database']}: {plan['reason']}.")
    return {
        "database": plan["database"],
        "tables": plan["tables"],
        "label_kind": plan["label_kind"],
        "snapshot_kind": plan["snapshot_kind"],
        "parent_label": plan["parent_label"],
        "tombstones": plan["tombstones"],
        "partition_stats": plan["partition_stats"],
        "catalog_scope": plan["catalog_scope"],
        "views": plan.get("views"),
        "materialized_views": plan.get("materialized_views"),
        "functions": plan.get("functions"),
        "objects": plan.get("objects"),
        "excluded_tables": left_out or None,
        "tombstones_from_catalog": bool(plan.get("tombstones_from_catalog")),
    }


def form_params() -> dict[str, Param]:
    """The trigger form: the cluster, the databases, the repository, what a run backs up, when a full is due."""
    return {
        "starrocks_conn_id": cluster_param(DEFAULTS, "StarRocks connection"),
        "databases": databases_param(DEFAULTS, "Each is planned and backed up in parallel."),
        **repository_params(DEFAULTS, storage_required=False),
        "mode": Param(DEFAULTS["mode"], enum=["changed", "logical_date"], title="Mode",
                      description="changed: partitions whose version moved; logical_date: the run's partitions."),
        "partition_template": Param(DEFAULTS["partition_template"], type="string", minLength=1,
                                    title="Partition template",
                                    description="logical_date mode: the partition name(s) of a run, a Jinja "
                                                "template; several names separated by commas."),
        "table": Param(DEFAULTS["table"], type=["string", "null"], title="Table",
                       description="logical_date mode: only this table (default: every table with the partition)."),
        "full_every_n": Param(DEFAULTS["full_every_n"], type=["integer", "null"], minimum=0,
                              title="Full after N incrementals"),
        "full_every_days": Param(DEFAULTS["full_every_days"], type=["integer", "null"], minimum=1,
                                 title="Full when the last full is older than (days)"),
    }


with DAG(
    dag_id="sr_incremental_backup",
    description="Partition-incremental StarRocks backups planned from the catalog (changed partitions or the "
                "run's data interval).",
    schedule=DEFAULTS["schedule"] if DEFAULTS["databases"] else None,
    max_active_runs=1,  # scheduled runs; a backfill runs up to its own --max-active-runs beside them (safe)
    tags=["starrocks", "backup", "incremental"],
    params=form_params(),
    # start date, no catch-up, deferrable tasks and retries, the [alerts] notifier: docs/dags.md
    **dag_settings(DEFAULTS),
) as dag:
    inputs = StepOperator(task_id="plan_inputs", python_callable=plan_inputs)
    create_repository = StarRocksCreateRepositoryOperator(task_id="create_repository", **CLUSTER, **REPOSITORY)

    plans = StarRocksPlanBackupOperator.partial(
        task_id="plan",
        **CLUSTER,
        **REPOSITORY,
        **same_names("mode", "table"),
        max_incrementals=param("full_every_n"),
        max_full_age_days=param("full_every_days"),
    ).expand_kwargs(inputs.output)

    backup = StarRocksBackupOperator.partial(
        task_id="backup",
        **CLUSTER,
        **REPOSITORY,
        timeout=DEFAULTS["timeout_s"],
        outlets=[backups_alias()],  # an event of Asset starrocks://<conn>/<database> per backed-up database
    ).expand_kwargs(plans.output.map(backup_arguments))

    create_repository >> plans

    if ALERTS.notifier:  # alerts when a newest good snapshot is older than the RPO target, even after a failed backup
        check_rpo = StarRocksRpoCheckOperator(
            task_id="check_rpo",
            **CLUSTER,
            **REPOSITORY,
            databases=param("databases"),
            plan_task_id="plan",  # a database found unchanged is current, however old its snapshot
        )
        backup >> check_rpo
