"""sr_migration — move a database (or some tables) from one StarRocks cluster to another, from the Airflow UI.

Pre-flight both clusters → the same repository on both (read-only on the target) → backup on the source →
the snapshot visible on the target → restore (renames optional; never over existing tables unless
``allow_overwrite``) → materialized views re-activated → verify → catch-up rounds that re-ship the partitions
changed on the source since the snapshot, until none changed or ``max_catch_up_rounds`` is reached → a final
check against the source → a summary. Each task's arguments are the run's params of the same name
(``param(...)``, read when the task runs) or an earlier task's result (``backup.output["snapshot_label"]``).
Params and their defaults: docs/dags.md; defaults come from sr_airflow.toml (sr_airflow.dag_defaults).
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from sr_airflow.dag_defaults import dag_settings, load_defaults
from sr_airflow.dag_params import (
    from_params,
    param,
    repository_args,
    repository_params,
    restore_params,
    same_names,
)
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
ON_SOURCE = {"starrocks_conn_id": param("source_conn_id")}
ON_TARGET = {"starrocks_conn_id": param("target_conn_id")}
REPOSITORY = repository_args()  # repository, location, storage_conn_id: the same on both clusters
# The database and tables as they are on the source; each restore renames to target_database.
WHAT = same_names("database", "tables")
RESTORE_JOB = same_names("replication_num", "timeout", "allow_load")  # each RESTORE job's properties


def catch_up_needed(context, plan: dict) -> bool:
    """Stop the rounds once the target holds every partition at the source's version."""
    return not plan["empty"]


def checksums_asked(params) -> bool:
    return params["verify"] == "checksums"


def summarise(context, preflight, backup, restore, verify, final_check, rounds) -> dict:
    """What moved, how long each phase took, what verification found, and how many rounds caught up (a round
    not run has no plan and no backup)."""
    plans = [r["plan"] for r in rounds if r["plan"]]
    result = {
        "preflight": preflight,
        "snapshot_label": backup["snapshot_label"],
        "backup_timestamp": backup["backup_timestamp"],
        "snapshot_bytes": backup.get("size_bytes"),
        "backup_phase_seconds": backup.get("phase_seconds"),
        "restore": restore,
        "verify": verify,
        "final_check": final_check,
        "catch_up_rounds": len([r for r in rounds if r["backup"]]),
        "catch_up_partitions": [p["partitions"] for p in plans if not p["empty"]],
        "in_step": bool(plans and plans[-1]["empty"]),
    }
    context["task"].log.info("Migration summary: %s", result)
    return result


def form_params() -> dict[str, Param]:
    """The trigger form: the two clusters, what moves, the shared repository, and the restore's options."""
    return {
        "source_conn_id": Param(DEFAULTS["source_conn_id"], type="string", minLength=1, title="Source cluster",
                                description="StarRocks connection of the cluster the data comes from."),
        "target_conn_id": Param(DEFAULTS["target_conn_id"], type="string", minLength=1, title="Target cluster",
                                description="StarRocks connection of the cluster the data goes to."),
        "database": Param("", type="string", minLength=1, title="Database", description="The database to move."),
        **repository_params(DEFAULTS),
        **restore_params(DEFAULTS),
    }


with DAG(
    dag_id="sr_migration",
    description="Migrate a StarRocks database to another cluster through a shared repository, verified, with "
                "catch-up rounds.",
    schedule=None,
    tags=["starrocks", "migration"],
    params=form_params(),
    # start date, no catch-up, deferrable tasks and retries, the [alerts] notifier: docs/dags.md
    **dag_settings(DEFAULTS),
) as dag:
    preflight = StarRocksMigrationPreflightOperator(task_id="preflight",
                                                    **same_names("source_conn_id", "target_conn_id"), **WHAT)
    source_repository = StarRocksCreateRepositoryOperator(task_id="source_repository", **ON_SOURCE, **REPOSITORY)
    target_repository = StarRocksCreateRepositoryOperator(task_id="target_repository", **ON_TARGET, **REPOSITORY,
                                                          read_only=True)
    backup = StarRocksBackupOperator(task_id="backup", **ON_SOURCE, **REPOSITORY, **WHAT, label_kind="mig",
                                     multiple_outputs=True)  # backup.output["snapshot_label"], ...
    snapshot = backup.output["snapshot_label"]
    visible = StarRocksSnapshotSensor(task_id="snapshot_visible_on_target", **ON_TARGET, repository=param("repository"),
                                      snapshot_label=snapshot, poke_interval=2, timeout=3600)
    restore = StarRocksRestoreOperator(
        task_id="restore",
        **ON_TARGET,
        **REPOSITORY,
        **WHAT,
        snapshot_label=snapshot,
        backup_timestamp=backup.output["backup_timestamp"],
        target_database=param("target_database"),
        allow_overwrite=param("allow_overwrite"),
        **RESTORE_JOB,
        multiple_outputs=True,  # restore.output["database"]: the database restored into
    )
    restored_database = restore.output["database"]
    # The restore holds exactly the snapshot: its partition versions are checked against what the snapshot
    # recorded. Loads that reached the source after the snapshot are the catch-up rounds' business, so row
    # counts (and, with verify = checksums, checksums) are compared with the source after the rounds.
    verify = StarRocksVerifyRestoreOperator(task_id="verify", **ON_TARGET, **REPOSITORY, database=restored_database,
                                            snapshot_label=snapshot, tables=param("tables"))
    preflight >> [source_repository, target_repository] >> backup >> visible >> restore >> verify

    # users, roles, grants, resource groups: exported beside the snapshot, replayed on the target (docs/security.md)
    export_access = StarRocksExportAccessOperator(task_id="export_access", **ON_SOURCE, **REPOSITORY,
                                                  snapshots=snapshot)
    apply_access = StarRocksApplyAccessOperator(task_id="apply_access", **ON_TARGET, **REPOSITORY,
                                                snapshot_label=snapshot,
                                                **same_names("apply_access", "database", "target_database"))
    backup >> export_access >> apply_access
    restore >> apply_access

    rounds = []
    previous = verify
    for n in range(1, ROUNDS + 1):
        plan = StarRocksPlanBackupOperator(task_id=f"catch_up_{n}_plan", **ON_SOURCE, repository=param("repository"),
                                           **WHAT, mode="target",
                                           target_conn_id=param("target_conn_id"),
                                           target_database=param("target_database"), multiple_outputs=True)
        # Only this round's tasks and the later rounds are skipped; the final check and the summary still run.
        needed = ConditionStepOperator(task_id=f"catch_up_{n}_needed", python_callable=catch_up_needed,
                                       op_kwargs={"plan": plan.output})
        ship = StarRocksBackupOperator(
            task_id=f"catch_up_{n}_backup",
            **ON_SOURCE,
            **REPOSITORY,
            database=param("database"),
            tables=plan.output["tables"],  # the partitions that differ
            label_kind="mig",
            snapshot_kind="incremental",
            parent_label=snapshot,
            partition_stats=plan.output["partition_stats"],
            catalog_scope=plan.output["catalog_scope"],
            multiple_outputs=True,
        )
        seen = StarRocksSnapshotSensor(task_id=f"catch_up_{n}_visible", **ON_TARGET, repository=param("repository"),
                                       snapshot_label=ship.output["snapshot_label"], poke_interval=2, timeout=3600)
        apply = StarRocksRestoreOperator(
            task_id=f"catch_up_{n}_restore",
            **ON_TARGET,
            **REPOSITORY,
            snapshot_label=ship.output["snapshot_label"],
            backup_timestamp=ship.output["backup_timestamp"],
            database=param("database"),
            target_database=param("target_database"),
            allow_overwrite=True,  # these partitions are the migration's own, restored by the rounds before
            overwrite_mode="in_place",  # a partition catch-up: a swap replaces whole tables (engine/swap.py)
            # the same replicas as the first restore: StarRocks refuses restoring into a partition whose
            # replication num differs (RestoreJob.genFileMappingWhenBackupReplicasEqual, fork main 14f3b1b9c1)
            **RESTORE_JOB,
        )
        previous >> plan
        needed >> ship >> seen >> apply
        previous = apply
        rounds.append({"plan": plan.output, "backup": ship.output})

    final_check = StarRocksVerifyRestoreOperator(
        task_id="final_check",
        trigger_rule="none_failed",
        **ON_TARGET,
        repository=param("repository"),  # no storage: the rounds moved the versions on since the snapshot
        database=restored_database,
        snapshot_label=snapshot,
        source_conn_id=param("source_conn_id"),  # row counts per partition: two metadata queries
        source_database=param("database"),
        tables=param("tables"),
        checksums=from_params(checksums_asked),
    )

    summary = StepOperator(task_id="summary", python_callable=summarise, trigger_rule="none_failed",
                           op_kwargs={"preflight": preflight.output, "backup": backup.output,
                                      "restore": restore.output, "verify": verify.output,
                                      "final_check": final_check.output, "rounds": rounds})

    previous >> final_check >> summary
