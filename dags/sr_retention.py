"""sr_retention — daily: apply the retention policy to a repository, chain-aware, dry run available.

Keeps the newest ``keep_last`` snapshots, one per day / ISO week / month for ``keep_daily`` / ``keep_weekly`` /
``keep_monthly`` periods, nothing older than ``max_age_days``; never a snapshot that a kept one depends on, nor
the newest good full. Deletes through storage (and ``DROP SNAPSHOT`` where the server has it, 4.2+), recording
a "deleting" state first. With ``dry_run`` it only lists what it would delete.
Params and their defaults: docs/dags.md; defaults come from sr_airflow.toml (sr_airflow.dag_defaults).
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from sr_airflow.dag_defaults import dag_settings, load_defaults
from sr_airflow.dag_params import cluster_param, param, repository_args, repository_params, same_names
from sr_airflow.operators.retention import StarRocksRetentionOperator

DEFAULTS = load_defaults("sr_retention")


def form_params() -> dict[str, Param]:
    """The trigger form: the repository, which databases, and the policy."""
    def count(name: str, title: str) -> Param:
        return Param(DEFAULTS[name], type=["integer", "null"], minimum=0, title=title)

    return {
        "starrocks_conn_id": cluster_param(DEFAULTS, "StarRocks connection"),
        **repository_params(DEFAULTS),
        "databases": Param(DEFAULTS["databases"], type=["array", "null"], items={"type": "string"}, title="Databases",
                           description="Only these databases (empty: every database in the catalog)."),
        "keep_last": count("keep_last", "Keep the newest N"),
        "keep_daily": count("keep_daily", "Keep one per day, for N days"),
        "keep_weekly": count("keep_weekly", "Keep one per week, for N weeks"),
        "keep_monthly": count("keep_monthly", "Keep one per month, for N months"),
        "max_age_days": count("max_age_days", "Delete anything older than N days"),
        "dry_run": Param(DEFAULTS["dry_run"], type="boolean", title="Dry run",
                         description="List what would be deleted and change nothing."),
    }


with DAG(
    dag_id="sr_retention",
    description="Chain-aware retention of StarRocks snapshots in a repository (dry run available).",
    schedule=DEFAULTS["schedule"],
    max_active_runs=1,
    tags=["starrocks", "retention"],
    params=form_params(),
    # start date, no catch-up, deferrable tasks and retries, the [alerts] notifier: docs/dags.md
    **dag_settings(DEFAULTS),
) as dag:
    StarRocksRetentionOperator(
        task_id="apply_retention",
        starrocks_conn_id=param("starrocks_conn_id"),
        **repository_args(),
        # databases: empty or null, every database in the catalog
        **same_names("databases", "keep_last", "keep_daily", "keep_weekly", "keep_monthly", "max_age_days",
                     "dry_run"),
    )
