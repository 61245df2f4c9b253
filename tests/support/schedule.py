"""The order in which xdist workers take test files."""

from __future__ import annotations

# The files that cost most (docs/testing.md, "Where the time goes"), most first: under xdist they start first, so
# that no long file is left running alone at the end. The other files follow in collection order. Keep it in step
# with the durations table when a file grows; tests/test_suite_layout.py checks that each one exists.
LONGEST_FIRST = (
    "tests/e2e/test_airflow_standalone.py",
    "tests/distributed/test_celery.py",
    "tests/ui/test_backups_page.py",
    "tests/benchmarks/test_thousand_databases.py",
    "tests/reliability/test_bad_dag_params.py",
    "tests/dags/test_storage_matrix.py",
    "tests/reliability/test_bad_input.py",
    "tests/reliability/test_killed_workers.py",
    "tests/reliability/test_storage_faults_gcs_hdfs.py",
    "tests/dags/test_versions_end_to_end.py",
    "tests/model/test_backfill_model.py",
    "tests/e2e/test_assets_and_deferral.py",
    "tests/dags/test_sr_restore.py",
    "tests/dags/test_least_privilege.py",
    "tests/engine/test_retention.py",
    "tests/operators/test_restore.py",
    "tests/reliability/test_restarts_and_concurrency.py",
    "tests/reliability/test_frontend_failover.py",
    "tests/reliability/test_secrets.py",
    "tests/model/test_restore_model.py",
    "tests/ui/test_demo_serve.py",
    "tests/cli/test_cli.py",
    "tests/dags/test_sr_incremental_backup.py",
    "tests/ops/test_restore_drill.py",
    "tests/ops/test_alerts.py",
    "tests/operators/test_restore_swap.py",
    "tests/ops/test_metrics.py",
    "tests/operators/test_repository_keys.py",
    "tests/operators/test_colocation.py",
    "tests/dags/test_access_replay.py",
    "tests/dags/test_sr_retention.py",
    "tests/operators/test_backup.py",
    "tests/dags/test_overlapping_runs.py",
    "tests/dags/test_sr_migration.py",
    "tests/triggers/test_shared_stream.py",
)
