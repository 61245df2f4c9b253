"""sr_migration — move a database (or some tables) from one StarRocks cluster to another, from the Airflow UI.

Pre-flight both clusters → the same repository on both (read-only on the target) → backup on the source →
the snapshot visible on the target → restore (renames optional; never over existing tables unless
``allow_overwrite``) → materialized views re-activated → verify → catch-up rounds that re-ship the partitions
changed on the source since the snapshot, until none changed or ``max_catch_up_rounds`` is reached → a summary.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from sr_airflow.alerts import dag_failure_callback
from sr_airflow.dag_defaults import TEMPLATE_FILTERS, load_defaults, task_defaults
from sr_airflow.operators.access import StarRocksApplyAccessOperator, StarRocksExportAccessOperator
from sr_airflow.operators.backup import StarRocksBackupOperator
from sr_airflow.operators.plan import StarRocksPlanBackupOperator
from sr_airflow.operators.preflight import StarRocksMigrationPreflightOperator
from sr_airflow.operators.repository import StarRocksCreateRepositoryOperator
from sr_airflow.operators.restore import StarRocksRestoreOperator
from sr_airflow.operators.step import ConditionStepOperator, StepOperator
from sr_airflow.operators.verify import StarRocksVerifyRestoreOperator
from sr_airflow.sensors.snapshot import StarRocksSnapshotSensor

DEFAULTS = load_defaults("sr_migration")
ROUNDS = DEFAULTS["max_catch_up_rounds"] or 0
TARGET_DB = "{{ (params.target_database or params.database) | literal }}"
# What every task on one side says: its cluster and the shared repository.
REPOSITORY = "{{ params.repository | literal }}"
ON_SOURCE = {"starrocks_conn_id": "{{ params.source_conn_id | literal }}", "repository": REPOSITORY}
ON_TARGET = {"starrocks_conn_id": "{{ params.target_conn_id | literal }}", "repository": REPOSITORY}
MIGRATION_LABEL = "{{ ti.xcom_pull(task_ids='backup')['snapshot_label'] }}"


def catch_up_needed(context, plan: dict) -> bool:
    """Stop the rounds once the target holds every partition at the source's version."""
    return not plan["empty"]


def summarise(context) -> dict:
    """What moved, how long each phase took, what verification found, and how many rounds caught up."""
    ti = context["ti"]
    backup_result = ti.xcom_pull(task_ids="backup") or {}
    rounds = [ti.xcom_pull(task_ids=f"catch_up_{n}_backup") for n in range(1, ROUNDS + 1)]
    plans = [ti.xcom_pull(task_ids=f"catch_up_{n}_plan") for n in range(1, ROUNDS + 1)]
    shipped = [r for r in rounds if r]
    last_plan = next((p for p in reversed(plans) if p), None)
    result = {
        "preflight": ti.xcom_pull(task_ids="preflight"),
        "snapshot_label": backup_result.get("snapshot_label"),
        "backup_timestamp": backup_result.get("backup_timestamp"),
        "snapshot_bytes": backup_result.get("size_bytes"),
        "backup_phase_seconds": backup_result.get("phase_seconds"),
        "restore": ti.xcom_pull(task_ids="restore"),
        "verify": ti.xcom_pull(task_ids="verify"),
        "final_check": ti.xcom_pull(task_ids="final_check"),
        "catch_up_rounds": len(shipped),
        "catch_up_partitions": [p["partitions"] for p in plans if p and not p["empty"]],
        "in_step": bool(last_plan and last_plan["empty"]),
    }
    print("Migration summary:", result)
    return result


with DAG(
    dag_id="sr_migration",
    description="Migrate a StarRocks database to another cluster through a shared repository, verified, with "
                "catch-up rounds.",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    render_template_as_native_obj=True,
    default_args=task_defaults(DEFAULTS),  # deferrable (waits in the triggerer), retries: docs/dags.md
    user_defined_filters=TEMPLATE_FILTERS,
    tags=["starrocks", "migration"],
    on_failure_callback=dag_failure_callback(),  # [alerts] notifier of sr_airflow.toml, if any
    params={
        "source_conn_id": Param(DEFAULTS["source_conn_id"], type="string", minLength=1, title="Source cluster",
                                description="StarRocks connection of the cluster the data comes from."),
        "target_conn_id": Param(DEFAULTS["target_conn_id"], type="string", minLength=1, title="Target cluster",
                                description="StarRocks connection of the cluster the data goes to."),
        "database": Param("", type="string", minLength=1, title="Database", description="The database to move."),
        "target_database": Param(None, type=["string", "null"], title="Target database",
                                 description="Its name on the target (default: the same name)."),
        # Optional lists and objects include "null" in their type: Airflow's trigger form marks a param required
        # when its schema type does not (the UI bundle's isRequired check), and an emptied list field sends null.
        "tables": Param([], type=["array", "null"], items={"type": "string", "minLength": 1}, title="Tables",
                        description="Optional: only these tables. Empty: the whole database."),
        "repository": Param(DEFAULTS["repository"], type="string", minLength=1, title="Repository",
                            description="Created on both clusters with the same name and location."),
        "location": Param(DEFAULTS["location"], type="string", minLength=1, title="Location"),
        "storage_conn_id": Param(DEFAULTS["storage_conn_id"], type="string", minLength=1,
                                 title="Storage connection"),
        "allow_overwrite": Param(False, type="boolean", title="Allow overwrite",
                                 description="Overwrite existing tables of the same schema on the target."),
        "verify": Param(DEFAULTS["verify"], enum=["versions", "counts", "checksums"], title="Verify",
                        description="versions: partition versions against the snapshot; counts: also row counts "
                                    "against the source; checksums: also per-table checksums."),
        "apply_access": Param("none", enum=["none", "roles", "all"], title="Apply users, roles and grants",
                              description="Replay the source's export on the target: roles (roles, their grants, "
                                          "resource groups) or all (also users and their grants; users get a "
                                          "password nobody knows). Grants limited to this database."),
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
    preflight = StarRocksMigrationPreflightOperator(
        task_id="preflight",
        source_conn_id="{{ params.source_conn_id | literal }}",
        target_conn_id="{{ params.target_conn_id | literal }}",
        database="{{ params.database | literal }}",
        tables="{{ (params.tables or None) | literal }}",
    )
    source_repository = StarRocksCreateRepositoryOperator(
        task_id="source_repository",
        **ON_SOURCE,
        location="{{ params.location | literal }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
    )
    target_repository = StarRocksCreateRepositoryOperator(
        task_id="target_repository",
        **ON_TARGET,
        location="{{ params.location | literal }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
        read_only=True,
    )
    backup = StarRocksBackupOperator(
        task_id="backup",
        **ON_SOURCE,
        database="{{ params.database | literal }}",
        tables="{{ (params.tables or None) | literal }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
        location="{{ params.location | literal }}",
        label_kind="mig",
    )
    visible = StarRocksSnapshotSensor(
        task_id="snapshot_visible_on_target",
        **ON_TARGET,
        snapshot_label=MIGRATION_LABEL,
        poke_interval=2,
        timeout=3600,
    )
    restore = StarRocksRestoreOperator(
        task_id="restore",
        **ON_TARGET,
        snapshot_label=MIGRATION_LABEL,
        backup_timestamp="{{ ti.xcom_pull(task_ids='backup')['backup_timestamp'] }}",
        database="{{ params.database | literal }}",
        target_database="{{ params.target_database | literal }}",
        tables="{{ (params.tables or None) | literal }}",
        allow_overwrite="{{ params.allow_overwrite | literal }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
        location="{{ params.location | literal }}",
        replication_num="{{ params.replication_num | literal }}",
        timeout="{{ params.timeout | literal }}",
        allow_load="{{ params.allow_load | literal }}",
    )
    # The restore holds exactly the snapshot: its partition versions are checked against what the snapshot
    # recorded. Loads that reached the source after the snapshot are the catch-up rounds' business, so row
    # counts (and, with verify = checksums, checksums) are compared with the source after the rounds.
    verify = StarRocksVerifyRestoreOperator(
        task_id="verify",
        **ON_TARGET,
        database=TARGET_DB,
        snapshot_label=MIGRATION_LABEL,
        storage_conn_id="{{ params.storage_conn_id | literal }}",
        location="{{ params.location | literal }}",
        tables="{{ (params.tables or None) | literal }}",
    )
    preflight >> [source_repository, target_repository] >> backup >> visible >> restore >> verify

    export_access = StarRocksExportAccessOperator(  # users, roles, grants, resource groups: docs/security.md
        task_id="export_access",
        **ON_SOURCE,
        location="{{ params.location | literal }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
        snapshots=MIGRATION_LABEL,
    )
    apply_access = StarRocksApplyAccessOperator(
        task_id="apply_access",
        **ON_TARGET,
        location="{{ params.location | literal }}",
        storage_conn_id="{{ params.storage_conn_id | literal }}",
        snapshot_label=MIGRATION_LABEL,
        apply_access="{{ params.apply_access | literal }}",
        database="{{ params.database | literal }}",
        target_database="{{ params.target_database | literal }}",
    )
    backup >> export_access >> apply_access
    restore >> apply_access

    previous = verify
    for n in range(1, ROUNDS + 1):
        plan = StarRocksPlanBackupOperator(
            task_id=f"catch_up_{n}_plan",
            **ON_SOURCE,
            database="{{ params.database | literal }}",
            mode="target",
            target_conn_id="{{ params.target_conn_id | literal }}",
            target_database=TARGET_DB,
            tables="{{ (params.tables or None) | literal }}",
        )
        # Only this round's tasks and the later rounds are skipped; the summary still runs.
        needed = ConditionStepOperator(task_id=f"catch_up_{n}_needed", python_callable=catch_up_needed,
                                       op_kwargs={"plan": plan.output})
        plan_xcom = f"ti.xcom_pull(task_ids='catch_up_{n}_plan')"
        ship = StarRocksBackupOperator(
            task_id=f"catch_up_{n}_backup",
            **ON_SOURCE,
            database="{{ params.database | literal }}",
            tables="{{ " + plan_xcom + "['tables'] }}",
            label_kind="mig",
            snapshot_kind="incremental",
            parent_label=MIGRATION_LABEL,
            partition_stats="{{ " + plan_xcom + "['partition_stats'] }}",
            catalog_scope="{{ " + plan_xcom + "['catalog_scope'] }}",
            storage_conn_id="{{ params.storage_conn_id | literal }}",
            location="{{ params.location | literal }}",
        )
        ship_label = f"{{{{ ti.xcom_pull(task_ids='catch_up_{n}_backup')['snapshot_label'] }}}}"
        seen = StarRocksSnapshotSensor(
            task_id=f"catch_up_{n}_visible",
            **ON_TARGET,
            snapshot_label=ship_label,
            poke_interval=2,
            timeout=3600,
        )
        apply = StarRocksRestoreOperator(
            task_id=f"catch_up_{n}_restore",
            **ON_TARGET,
            snapshot_label=ship_label,
            backup_timestamp=f"{{{{ ti.xcom_pull(task_ids='catch_up_{n}_backup')['backup_timestamp'] }}}}",
            database="{{ params.database | literal }}",
            target_database="{{ params.target_database | literal }}",
            allow_overwrite=True,  # these partitions are the migration's own, restored by the rounds before
            overwrite_mode="in_place",  # a partition catch-up: a swap replaces whole tables (engine/swap.py)
            storage_conn_id="{{ params.storage_conn_id | literal }}",
            location="{{ params.location | literal }}",
            # the same replicas as the first restore: StarRocks refuses restoring into a partition whose
            # replication num differs (RestoreJob.genFileMappingWhenBackupReplicasEqual, fork main 14f3b1b9c1)
            replication_num="{{ params.replication_num | literal }}",
            timeout="{{ params.timeout | literal }}",
            allow_load="{{ params.allow_load | literal }}",
        )
        previous >> plan
        needed >> ship >> seen >> apply
        previous = apply

    final_check = StarRocksVerifyRestoreOperator(
        task_id="final_check",
        trigger_rule="none_failed",
        **ON_TARGET,
        database=TARGET_DB,
        snapshot_label=MIGRATION_LABEL,
        source_conn_id="{{ params.source_conn_id | literal }}",  # row counts per partition: two metadata queries
        source_database="{{ params.database | literal }}",
        tables="{{ (params.tables or None) | literal }}",
        checksums="{{ params.verify == 'checksums' }}",
    )

    summary = StepOperator(task_id="summary", python_callable=summarise, trigger_rule="none_failed")

    previous >> final_check >> summary
