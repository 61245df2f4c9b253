"""sr_retention — daily: apply the retention policy to a repository, chain-aware, dry run available.

Keeps the newest ``keep_last`` snapshots, one per day / ISO week / month for ``keep_daily`` / ``keep_weekly`` /
``keep_monthly`` periods, nothing older than ``max_age_days``; never a snapshot that a kept one depends on, nor
the newest good full. Deletes through storage (and ``DROP SNAPSHOT`` where the server has it, 4.2+), recording
a "deleting" state first. With ``dry_run`` it only lists what it would delete.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from sr_airflow.alerts import dag_failure_callback
from sr_airflow.dag_defaults import TEMPLATE_FILTERS, load_defaults
from sr_airflow.operators.retention import StarRocksRetentionOperator

DEFAULTS = load_defaults("sr_retention")


def _count(name: str, title: str) -> Param:
    return Param(DEFAULTS[name], type=["integer", "null"], minimum=0, title=title)


with DAG(
    dag_id="sr_retention",
    description="Chain-aware retention of StarRocks snapshots in a repository (dry run available).",
    schedule=DEFAULTS["schedule"],
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    render_template_as_native_obj=True,
    user_defined_filters=TEMPLATE_FILTERS,
    tags=["starrocks", "retention"],
    on_failure_callback=dag_failure_callback(),  # [alerts] notifier of sr_airflow.toml, if any
    params={
        "starrocks_conn_id": Param(DEFAULTS["starrocks_conn_id"], type="string", minLength=1,
                                   title="StarRocks connection"),
        "repository": Param(DEFAULTS["repository"], type="string", minLength=1, title="Repository"),
        "location": Param(DEFAULTS["location"], type="string", minLength=1, title="Location",
                          description="Where the repository's files are, as the backups were configured."),
        "storage_conn_id": Param(DEFAULTS["storage_conn_id"], type="string", minLength=1,
                                 title="Storage connection"),
        "databases": Param(DEFAULTS["databases"], type=["array", "null"], items={"type": "string"}, title="Databases",
                           description="Only these databases (empty: every database in the catalog)."),
        "keep_last": _count("keep_last", "Keep the newest N"),
        "keep_daily": _count("keep_daily", "Keep one per day, for N days"),
        "keep_weekly": _count("keep_weekly", "Keep one per week, for N weeks"),
        "keep_monthly": _count("keep_monthly", "Keep one per month, for N months"),
        "max_age_days": _count("max_age_days", "Delete anything older than N days"),
        "dry_run": Param(DEFAULTS["dry_run"], type="boolean", title="Dry run",
                         description="List what would be deleted and change nothing."),
    },
) as dag:
    StarRocksRetentionOperator(
        task_id="apply_retention",
        starrocks_conn_id="{{ params.starrocks_conn_id | literal }}",
        repository="{{ params.repository | literal }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
        location="{{ params.location | literal }}",
        databases="{{ (params.databases or None) | literal }}",
        keep_last="{{ params.keep_last | literal }}",
        keep_daily="{{ params.keep_daily | literal }}",
        keep_weekly="{{ params.keep_weekly | literal }}",
        keep_monthly="{{ params.keep_monthly | literal }}",
        max_age_days="{{ params.max_age_days | literal }}",
        dry_run="{{ params.dry_run | literal }}",
    )
