"""sr_restore_drill through dag.test() on the emulator and the S3 server: the newest point of each database is
restored into its scratch database, verified, recorded with its RTO beside the catalog, and dropped; a scratch
database that no drill made is refused and left alone; one an interrupted drill left is dropped and reused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sr_airflow.reporting.catalog_view import rpo_rows
from sr_airflow.storage import get_storage
from sr_airflow.storage.catalog_store import CatalogStore
from sr_airflow.storage.drill_store import DrillRecord, DrillStore, last_drills, load_drills
from tests.support.dags import load_shipped_dag, states
from tests.support.s3 import BUCKET, aws_connection_uri
from tests.support.seeds import defaults_config, seed_sales

pytestmark = pytest.mark.slow

PREFIX = "drills"
REPO = f"{PREFIX}_repo"


def config(emu, aws_conn: str, *databases: str) -> str:
    return defaults_config(emu, aws_conn, PREFIX, databases)


def storage(aws_conn: str):
    return get_storage(f"s3://{BUCKET}/{PREFIX}", conn_id=aws_conn)


def databases(emu) -> set[str]:
    return {row[0] for row in emu.sql("SELECT SCHEMA_NAME FROM information_schema.schemata")}


def orders(emu, database: str) -> list[tuple]:
    return sorted(emu.sql(f"SELECT id, amount FROM {database}.orders"))




@pytest.fixture(scope="module")
def backed_up(emulator, s3_server, tmp_path_factory):
    """d_one and d_two, each with one full backup in the repository (what every drill here restores)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_S3_TEST", aws_connection_uri(s3_server.endpoint_url))
        for database in ("d_one", "d_two"):
            seed_sales(emulator, database)
        backup = load_shipped_dag("sr_full_backup", config(emulator, "s3_test", "d_one", "d_two"),
                                  tmp_path_factory.mktemp("backup"), patch)
        assert states(backup.test())["backup[1]"] == "success"


@pytest.mark.usefixtures("backed_up")
def test_a_drill_restores_verifies_records_and_drops(emulator, aws_conn, load_dag):
    emulator.sql("INSERT INTO d_one.orders VALUES (9, 1.5, '2024-01-09')")  # after the backup: not in the drill
    source_before = orders(emulator, "d_one")
    restores_before = [q for q in emulator.queries() if q.upper().startswith("RESTORE")]

    drill = load_dag("sr_restore_drill", config(emulator, aws_conn, "d_one", "d_two"))
    run = drill.test()
    assert states(run) == {"drills": "success", "create_repository": "success",
                           **{f"drill.{t}[{i}]": "success" for t in ("start", "restore", "verify", "finish")
                              for i in (0, 1)}}
    restores = [q for q in emulator.queries() if q.upper().startswith("RESTORE")][len(restores_before):]
    assert len(restores) == 2 and all("__drill" in q for q in restores)  # into the scratch databases only
    assert databases(emulator) >= {"d_one", "d_two"} and not {"d_one__drill", "d_two__drill"} & databases(emulator)
    assert orders(emulator, "d_one") == source_before  # the drilled database untouched

    catalog = CatalogStore(storage(aws_conn), REPO).load()
    drills = last_drills(storage(aws_conn), REPO)
    assert sorted(drills) == ["d_one", "d_two"]
    for database, record in drills.items():
        [newest] = catalog.entries(database, good_only=True)
        assert record.result == "ok" and record.scratch_dropped
        assert record.snapshot_label == newest.label
        assert record.scratch_database == f"{database}__drill"
        assert record.partitions_checked == len(newest.partitions) == 2
        assert 0 < record.rto_seconds == pytest.approx((record.finished_at - record.started_at).total_seconds(),
                                                       abs=0.001)
        assert record.run_id == run.run_id
    rows = {r["database"]: r for r in rpo_rows(catalog, now=datetime.now(UTC), drills=drills)}
    assert {db: (row["last_drill"]["result"], row["last_drill"]["rto_seconds"]) for db, row in rows.items()} == {
        db: ("ok", record.rto_seconds) for db, record in drills.items()}
    assert "last_drill" not in rpo_rows(catalog, now=datetime.now(UTC))[0]  # the CLI's and the page's rows as before


@pytest.mark.usefixtures("backed_up")
def test_a_scratch_database_no_drill_made_is_refused_and_kept(emulator, aws_conn, load_dag):
    emulator.sql("CREATE DATABASE d_one__drill",
                 "CREATE TABLE d_one__drill.orders (id INT, amount DECIMAL(10,2), day DATE) DUPLICATE KEY(id) "
                 "DISTRIBUTED BY HASH(id) BUCKETS 1",
                 "INSERT INTO d_one__drill.orders VALUES (77, 7.7, '2024-01-01')")
    before = len(load_drills(storage(aws_conn), REPO, "d_one"))
    restores_before = emulator.count("RESTORE")
    drill = load_dag("sr_restore_drill", config(emulator, aws_conn, "d_one"))
    run = drill.test()
    assert states(run)["drill.start[0]"] == "failed"
    assert states(run)["drill.finish[0]"] == "failed"  # nothing to record: the run fails
    assert str(run.state) == "failed"
    assert emulator.count("RESTORE") == restores_before
    assert [(k, float(v)) for k, v in orders(emulator, "d_one__drill")] == [(77, 7.7)]
    assert len(load_drills(storage(aws_conn), REPO, "d_one")) == before
    emulator.sql("DROP DATABASE d_one__drill")


@pytest.mark.usefixtures("backed_up")
def test_a_scratch_database_an_interrupted_drill_left_is_dropped_and_reused(emulator, aws_conn, load_dag):
    leftover = DrillRecord(database="d_two", scratch_database="d_two__drill", dag_id="sr_restore_drill",
                           started_at=datetime(2024, 1, 1, tzinfo=UTC), run_id="interrupted")
    DrillStore(storage(aws_conn), REPO).put(leftover)
    emulator.sql("CREATE DATABASE d_two__drill")
    drill = load_dag("sr_restore_drill", config(emulator, aws_conn, "d_two"))
    run = drill.test()
    assert states(run)["drill.finish[0]"] == "success"
    assert "d_two__drill" not in databases(emulator)
    records = {r.run_id: r for r in load_drills(storage(aws_conn), REPO, "d_two")}
    assert records["interrupted"].scratch_dropped and records["interrupted"].result == "failed"
    assert records[run.run_id].result == "ok"


@pytest.mark.usefixtures("backed_up")
def test_a_failed_restore_is_recorded_as_a_failed_drill_and_its_scratch_dropped(emulator, aws_conn, load_dag):
    emulator.sql('ADMIN SET FRONTEND CONFIG ("emulator_fail_next_job_at" = "DOWNLOADING")')
    drill = load_dag("sr_restore_drill", config(emulator, aws_conn, "d_one"))
    run = drill.test()
    assert (states(run)["drill.restore[0]"], states(run)["drill.verify[0]"], states(run)["drill.finish[0]"]) == (
        "failed", "upstream_failed", "failed")
    assert str(run.state) == "failed"
    record = last_drills(storage(aws_conn), REPO)["d_one"]
    assert record.run_id == run.run_id and record.result == "failed" and record.scratch_dropped
    assert record.message == "the restore into 'd_one__drill' failed (task drill.restore)."
    assert "d_one__drill" not in databases(emulator) and "d_one" in databases(emulator)
