"""sr_restore — restore a database or some tables as of a point in time, then verify.

Triggered from the UI (or the API) with a form. The catalog in the repository resolves the point in time by
partition: each partition that existed then comes from the newest snapshot at or before it that holds it
(overlapping incrementals included), views, materialized views and functions likewise; one RESTORE per snapshot
that holds something chosen, each partition once. The plan is logged first and returned in XCom (``dry_run``:
only that). Materialized views are re-activated; the result is verified against what the snapshots recorded
(their job infos' partition versions, the row counts recorded at backup time) and, with ``verify`` = counts or
checksums, against a source cluster.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from sr_airflow.alerts import dag_failure_callback
from sr_airflow.dag_defaults import TEMPLATE_FILTERS, load_defaults, task_defaults
from sr_airflow.operators.access import StarRocksApplyAccessOperator
from sr_airflow.operators.repository import StarRocksCreateRepositoryOperator
from sr_airflow.operators.restore import StarRocksRestoreChainOperator
from sr_airflow.operators.step import ConditionStepOperator
from sr_airflow.operators.verify import StarRocksVerifyRestoreOperator

DEFAULTS = load_defaults("sr_restore")


def restored_not_planned(context, result: dict) -> bool:
    """False (verify is skipped) when the restore was a dry run: it only showed its plan."""
    return not result.get("dry_run")


with DAG(
    dag_id="sr_restore",
    description="Restore a StarRocks database or tables as of a point in time from the catalog, then verify.",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    render_template_as_native_obj=True,
    default_args=task_defaults(DEFAULTS),  # deferrable (waits in the triggerer), retries: docs/dags.md
    user_defined_filters=TEMPLATE_FILTERS,
    tags=["starrocks", "restore"],
    on_failure_callback=dag_failure_callback(),  # [alerts] notifier of sr_airflow.toml, if any
    params={
        "starrocks_conn_id": Param(DEFAULTS["starrocks_conn_id"], type="string", minLength=1,
                                   title="Target cluster", description="Where the data is restored."),
        "database": Param("", type="string", minLength=1, title="Database",
                          description="The database as it was backed up."),
        "target_database": Param(None, type=["string", "null"], title="Target database",
                                 description="Restore under this name (default: the same name)."),
        # Optional lists and objects include "null" in their type: Airflow's trigger form marks a param required
        # when its schema type does not (the UI bundle's isRequired check), and an emptied list field sends null.
        "tables": Param([], type=["array", "null"], items={"type": "string", "minLength": 1}, title="Tables",
                        description="Optional: only these tables. Empty: the whole database."),
        # format date-time: the form's date-time picker, which sends an ISO-8601 UTC string
        # (e.g. 2024-12-09T10:25:00.000Z) that engine/timestamps.parse_point_in_time reads. Params validation
        # then wants an RFC 3339 date-time, with its zone.
        "point_in_time": Param(None, type=["string", "null"], format="date-time", title="Point in time",
                               description="ISO date-time with its zone, e.g. 2024-12-09T10:25:00Z; empty: the "
                                           "newest good snapshot."),
        "snapshot_label": Param(None, type=["string", "null"], title="Snapshot label",
                                description="Restore up to exactly this snapshot instead of a point in time."),
        "repository": Param(DEFAULTS["repository"], type="string", minLength=1, title="Repository"),
        "location": Param(DEFAULTS["location"], type="string", minLength=1, title="Location"),
        "storage_conn_id": Param(DEFAULTS["storage_conn_id"], type="string", minLength=1,
                                 title="Storage connection", description="Reads the catalog and checks schemas."),
        "dry_run": Param(False, type="boolean", title="Dry run",
                         description="Only show the plan (the RESTORE jobs, in order); send nothing."),
        "allow_overwrite": Param(False, type="boolean", title="Allow overwrite",
                                 description="Overwrite existing tables of the same schema (never otherwise)."),
        "overwrite_mode": Param(None, type=["null", "string"], enum=[None, "swap", "in_place"],
                                title="Overwrite mode",
                                description="With allow_overwrite. Empty: swap each table one RESTORE job brings "
                                            "(restored under a temporary name, checked, then SWAP WITH; a failure "
                                            "leaves the live table as it was), in place otherwise, warned. swap: "
                                            "refuse what a swap cannot protect. in_place: accept the risk that a "
                                            "failure after COMMIT leaves the table unreadable."),
        "verify": Param(DEFAULTS["verify"], enum=["versions", "counts", "checksums"], title="Verify",
                        description="versions: against the catalog; counts/checksums: also against the source."),
        "apply_access": Param("none", enum=["none", "roles", "all"], title="Apply users, roles and grants",
                              description="Replay the export beside the snapshot: roles (roles, their grants, "
                                          "resource groups) or all (also users and their grants; users get a "
                                          "password nobody knows). Grants limited to this database."),
        "source_conn_id": Param(None, type=["string", "null"], title="Source cluster",
                                description="For counts/checksums: the cluster the backup came from."),
        # Properties of each RESTORE job; null leaves StarRocks' default (BackupRestoreAnalyzer's restore
        # analysis: RunMode.defaultReplicationNum(), Config.backup_job_default_timeout_ms, allowLoad false;
        # fork main 14f3b1b9c1).
        "replication_num": Param(None, type=["integer", "null"], minimum=1, title="Replicas",
                                 description="Replicas of the restored tables (empty: StarRocks' default, 3 on "
                                             "shared-nothing). Set it to restore into a cluster with fewer backends "
                                             "than the source."),
        "timeout": Param(None, type=["integer", "null"], minimum=600, title="RESTORE timeout (s)",
                         description="Each RESTORE job's timeout, at least 600 (empty: StarRocks' default, 1 day)."),
        "allow_load": Param(None, type=["boolean", "null"], title="Allow loads while restoring",
                            description="Let loads into the target database run during the restore (empty: "
                                        "StarRocks' default, no)."),
    },
) as dag:
    repository = StarRocksCreateRepositoryOperator(
        task_id="create_repository",
        starrocks_conn_id="{{ params.starrocks_conn_id | literal }}",
        repository="{{ params.repository | literal }}",
        location="{{ params.location | literal }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
    )

    restore = StarRocksRestoreChainOperator(
        task_id="restore",
        starrocks_conn_id="{{ params.starrocks_conn_id | literal }}",
        repository="{{ params.repository | literal }}",
        database="{{ params.database | literal }}",
        target_database="{{ params.target_database | literal }}",
        tables="{{ (params.tables or None) | literal }}",
        point_in_time="{{ params.point_in_time | literal }}",
        snapshot_label="{{ params.snapshot_label | literal }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
        location="{{ params.location | literal }}",
        allow_overwrite="{{ params.allow_overwrite | literal }}",
        overwrite_mode="{{ params.overwrite_mode | literal }}",
        dry_run="{{ params.dry_run | literal }}",
        replication_num="{{ params.replication_num | literal }}",
        timeout="{{ params.timeout | literal }}",
        allow_load="{{ params.allow_load | literal }}",
    )

    restored = ConditionStepOperator(task_id="restored", python_callable=restored_not_planned,
                                     op_kwargs={"result": restore.output})

    verify = StarRocksVerifyRestoreOperator(
        task_id="verify",
        starrocks_conn_id="{{ params.starrocks_conn_id | literal }}",
        database="{{ (params.target_database or params.database) | literal }}",
        repository="{{ params.repository | literal }}",
        snapshot_label="{{ ti.xcom_pull(task_ids='restore')['plan']['snapshot_label'] }}",
        point_in_time="{{ ti.xcom_pull(task_ids='restore')['plan']['point_in_time'] or '' }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
        location="{{ params.location | literal }}",
        source_conn_id="{{ (params.source_conn_id if params.verify != 'versions' else None) | literal }}",
        source_database="{{ params.database | literal }}",
        checksums="{{ params.verify == 'checksums' }}",
    )

    apply_access = StarRocksApplyAccessOperator(
        task_id="apply_access",
        starrocks_conn_id="{{ params.starrocks_conn_id | literal }}",
        repository="{{ params.repository | literal }}",
        location="{{ params.location | literal }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
        snapshot_label="{{ ti.xcom_pull(task_ids='restore')['plan']['snapshot_label'] }}",
        apply_access="{{ params.apply_access | literal }}",
        database="{{ params.database | literal }}",
        target_database="{{ params.target_database | literal }}",
    )

    repository >> restore >> restored >> verify
    restored >> apply_access
