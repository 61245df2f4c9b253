"""StarRocksBackupOperator through dag.test() against an emulator process and an S3 server process."""

from __future__ import annotations

import pytest

from tests.operators.conftest import run_dag, seed_sales
from tests.operators.dags import sr_operator_test_dags as dags


@pytest.fixture(scope="module")
def sales(emulator, s3_server):
    seed_sales(emulator)
    emulator.create_repository("repo_b", s3_server, "backup-tests")
    return emulator


@pytest.mark.parametrize("dag", [dags.backup_poke, dags.backup_deferred], ids=["poke", "deferrable"])
def test_backup_succeeds_and_reports_the_snapshot(sales, dag):
    before = sales.count("BACKUP")
    states, _ = run_dag(dag)
    assert states == {"backup": "success", "collect": "success"}
    result = dags.RESULTS[dag.dag_id]
    assert result["snapshot_label"].startswith("full_sales_")
    assert result["backup_timestamp"]
    assert set(result["phase_seconds"]) >= {"snapshot", "upload", "total"}
    assert sales.count("BACKUP") == before + 1
    rows = sales.sql(f"SHOW SNAPSHOT ON repo_b WHERE SNAPSHOT = '{result['snapshot_label']}'")
    assert rows[0][2] == "OK"
