"""sr_restore — restore a database or some tables as of a point in time, then verify.

Triggered from the UI (or the API) with a form. The catalog in the repository resolves the point in time by
partition: each partition that existed then comes from the newest snapshot at or before it that holds it
(overlapping incrementals included), views, materialized views and functions likewise; one RESTORE per snapshot
that holds something chosen, each partition once. The plan is logged first and returned in XCom (``dry_run``:
only that). Materialized views are re-activated; the result is verified against what the snapshots recorded
(their job infos' partition versions, the row counts recorded at backup time) and, with ``verify`` = counts or
checksums, against a source cluster. Each task's arguments are the run's params of the same name (``param(...)``,
read when the task runs) or the restore's result (``restore.output[...]``).
Params and their defaults: docs/dags.md; defaults come from sr_airflow.toml (sr_airflow.dag_defaults).
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from sr_airflow.dag_defaults import dag_settings, load_defaults
from sr_airflow.dag_params import (
    cluster_param,
    from_params,
    param,
    repository_args,
    repository_params,
    restore_params,
    same_names,
)
from sr_airflow.operators.access import StarRocksApplyAccessOperator
from sr_airflow.operators.repository import StarRocksCreateRepositoryOperator
from sr_airflow.operators.restore import StarRocksRestoreChainOperator
from sr_airflow.operators.step import ConditionStepOperator
from sr_airflow.operators.verify import StarRocksVerifyRestoreOperator

DEFAULTS = load_defaults("sr_restore")
CLUSTER = {"starrocks_conn_id": param("starrocks_conn_id")}
REPOSITORY = repository_args()  # repository, location, storage_conn_id: the run's params of those names


def restored_not_planned(context, result: dict) -> bool:
    """False (verify is skipped) when the restore was a dry run: it only showed its plan."""
    return not result.get("dry_run")


def source_to_compare(params) -> str | None:
    """The source cluster, when ``verify`` compares with it (counts or checksums)."""
    return params["source_conn_id"] if params["verify"] != "versions" else None


def checksums_asked(params) -> bool:
    return params["verify"] == "checksums"


def form_params() -> dict[str, Param]:
    """The trigger form: where to, what, as of when, from which repository, and how."""
    return {
        "starrocks_conn_id": cluster_param(DEFAULTS, "Target cluster", "Where the data is restored."),
        "database": Param("", type="string", minLength=1, title="Database",
                          description="The database as it was backed up."),
        # format date-time: the form's date-time picker, which sends an ISO-8601 UTC string
        # (e.g. 2024-12-09T10:25:00.000Z) that engine/timestamps.parse_point_in_time reads. Params validation
        # then wants an RFC 3339 date-time, with its zone.
        "point_in_time": Param(None, type=["string", "null"], format="date-time", title="Point in time",
                               description="ISO date-time with its zone, e.g. 2024-12-09T10:25:00Z; empty: the "
                                           "newest good snapshot."),
        "snapshot_label": Param(None, type=["string", "null"], title="Snapshot label",
                                description="Restore up to exactly this snapshot instead of a point in time."),
        **repository_params(DEFAULTS),
        "dry_run": Param(False, type="boolean", title="Dry run",
                         description="Only show the plan (the RESTORE jobs, in order); send nothing."),
        **restore_params(DEFAULTS),
        "overwrite_mode": Param(None, type=["null", "string"], enum=[None, "swap", "in_place"],
                                title="Overwrite mode",
                                description="With allow_overwrite. Empty: swap each table one RESTORE job brings "
                                            "(restored under a temporary name, checked, then SWAP WITH; a failure "
                                            "leaves the live table as it was), in place otherwise, warned. swap: "
                                            "refuse what a swap cannot protect. in_place: accept the risk that a "
                                            "failure after COMMIT leaves the table unreadable."),
        "source_conn_id": Param(None, type=["string", "null"], title="Source cluster",
                                description="For counts/checksums: the cluster the backup came from."),
    }


with DAG(
    dag_id="sr_restore",
    description="Restore a StarRocks database or tables as of a point in time from the catalog, then verify.",
    schedule=None,
    tags=["starrocks", "restore"],
    params=form_params(),
    # start date, no catch-up, deferrable tasks and retries, the [alerts] notifier: docs/dags.md
    **dag_settings(DEFAULTS),
) as dag:
    repository = StarRocksCreateRepositoryOperator(task_id="create_repository", **CLUSTER, **REPOSITORY)

    restore = StarRocksRestoreChainOperator(
        task_id="restore",
        **CLUSTER,
        **REPOSITORY,
        **same_names("database", "target_database", "tables", "point_in_time", "snapshot_label", "allow_overwrite",
                     "overwrite_mode", "dry_run"),
        **same_names("replication_num", "timeout", "allow_load"),  # the RESTORE job's properties
        multiple_outputs=True,  # restore.output["snapshot_label"], ... for the tasks after it
    )

    restored = ConditionStepOperator(task_id="restored", python_callable=restored_not_planned,
                                     op_kwargs={"result": restore.output})

    verify = StarRocksVerifyRestoreOperator(
        task_id="verify",
        **CLUSTER,
        **REPOSITORY,
        database=restore.output["database"],  # the database restored into
        snapshot_label=restore.output["snapshot_label"],
        point_in_time=restore.output["point_in_time"],
        source_conn_id=from_params(source_to_compare),
        source_database=param("database"),
        checksums=from_params(checksums_asked),
    )

    apply_access = StarRocksApplyAccessOperator(
        task_id="apply_access",
        **CLUSTER,
        **REPOSITORY,
        snapshot_label=restore.output["snapshot_label"],
        **same_names("apply_access", "database", "target_database"),
    )

    repository >> restore >> restored >> [verify, apply_access]
