"""sr_migration through dag.test(): two emulated clusters sharing an S3 repository, with a catch-up round."""

from __future__ import annotations

import threading

import pytest

from tests.support.dags import states
from tests.support.s3 import BUCKET
from tests.support.seeds import seed_daily

pytestmark = pytest.mark.slow


def partitions(emu, database: str) -> dict[tuple[str, str], tuple[int, int]]:
    rows = emu.sql("SELECT TABLE_NAME, PARTITION_NAME, ROW_COUNT, VISIBLE_VERSION FROM "
                   f"information_schema.partitions_meta WHERE DB_NAME = '{database}'")
    return {(t, p): (c, v) for t, p, c, v in rows}


def write_after_snapshot(emu, database: str) -> threading.Thread:
    """A load that lands after the snapshot was taken: only a catch-up round can carry it over."""
    def load():
        emu.wait_state("BACKUP", database, ("UPLOAD_SNAPSHOT", "UPLOADING", "SAVE_META", "UPLOAD_INFO", "FINISHED"),
                       timeout=120)
        emu.sql(f"INSERT INTO {database}.events VALUES (77, '2024-01-04')")
    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    return thread


def test_migration_moves_the_database_and_catches_up_a_late_write(emulator, target_emulator, aws_conn, load_dag):
    seed_daily(emulator, "mig_src")
    emulator.sql("CREATE ROLE mig_reader", "GRANT SELECT ON TABLE mig_src.events TO ROLE mig_reader")
    emulator.sql('ADMIN SET FRONTEND CONFIG ("emulator_min_phase_seconds" = "0.6")')
    dag = load_dag("sr_migration", f"""
[defaults]
repository = "mig_repo"
location = "s3://{BUCKET}/migration"
storage_conn_id = "{aws_conn}"
[sr_migration]
source_conn_id = "{emulator.conn_id}"
target_conn_id = "{target_emulator.conn_id}"
max_catch_up_rounds = 2
""")
    late = write_after_snapshot(emulator, "mig_src")
    try:
        run = dag.test(run_conf={"database": "mig_src", "target_database": "mig_dst", "verify": "counts",
                                 "apply_access": "roles"})
    finally:
        late.join(10)
        emulator.sql('ADMIN SET FRONTEND CONFIG ("emulator_min_phase_seconds" = "0.15")')
    got = states(run)
    assert got["restore"] == got["verify"] == got["summary"] == "success"
    assert got["catch_up_1_backup"] == got["catch_up_1_restore"] == "success"
    assert got["catch_up_2_needed"] == "success" and got["catch_up_2_backup"] == "skipped"
    summary = next(t for t in run.get_task_instances() if t.task_id == "summary").xcom_pull(task_ids="summary")
    assert summary["catch_up_rounds"] == 1 and summary["in_step"] is True
    assert summary["catch_up_partitions"] == [1]
    assert partitions(target_emulator, "mig_dst") == partitions(emulator, "mig_src")
    assert target_emulator.sql("SHOW REPOSITORIES")[0][3] == "true"  # read-only on the target
    # the source's role and its grant, exported beside the snapshot and replayed on the renamed database
    assert got["export_access"] == got["apply_access"] == "success"
    assert target_emulator.sql("SHOW GRANTS FOR ROLE mig_reader") == (
        ("mig_reader", "default_catalog", "GRANT SELECT ON TABLE mig_dst.events TO ROLE 'mig_reader'"),)
