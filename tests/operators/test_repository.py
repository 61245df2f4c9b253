"""Create / drop repository operators: idempotence, a clear conflict error, and no secret in logs or XCom."""

from __future__ import annotations

import pytest

from tests.operators.dags import sr_operator_test_dags as dags
from tests.support.dags import run_dag
from tests.support.s3 import S3_SECRET


@pytest.fixture
def emulator(shared_emulator):
    """The operator modules' shared emulator (repositories repo_c and repo_p are this module's)."""
    return shared_emulator


def _repos(emu) -> dict[str, str]:
    return {row[1]: row[4] for row in emu.sql("SHOW REPOSITORIES")}


def test_create_from_a_connection_then_again_is_a_no_op(emulator, aws_conn, s3_server, capsys):
    states, _ = run_dag(dags.create_repo_from_conn)
    assert states["create"] == "success"
    assert dags.RESULTS["create_repo_from_conn"] == {"repository": "repo_c", "location": "s3://sr-backups/repo-tests",
                                                     "created": True}
    assert _repos(emulator)["repo_c"] == "s3://sr-backups/repo-tests"
    before = emulator.count("CREATE REPOSITORY")
    states, _ = run_dag(dags.create_repo_from_conn)
    assert states["create"] == "success"
    assert dags.RESULTS["create_repo_from_conn"]["created"] is False
    assert emulator.count("CREATE REPOSITORY") == before
    out = capsys.readouterr().out
    assert S3_SECRET not in out
    assert "'aws.s3.secret_key': '***'" in out
    created = [q for q in emulator.queries() if q.startswith("CREATE REPOSITORY `repo_c`")]
    assert len(created) == 1 and S3_SECRET in created[0]  # the server got the key; nothing else did


def test_the_same_name_at_another_location_is_refused(emulator, aws_conn, capsys):
    states, _ = run_dag(dags.create_repo_elsewhere)
    assert states["create"] == "failed"
    assert ("Repository 'repo_c' already exists at 's3://sr-backups/repo-tests', not at "
            "'s3://sr-backups/elsewhere'") in capsys.readouterr().out


def test_properties_are_masked_and_not_templated(emulator, capsys):
    states, _ = run_dag(dags.create_repo_from_properties)
    assert states["create"] == "success"
    assert dags.RESULTS["create_repo_from_properties"] == {
        "repository": "repo_p", "location": "s3a://sr-backups/props-tests", "created": True}
    out = capsys.readouterr().out
    assert "test-access-key" not in out and S3_SECRET not in out
    created = [q for q in emulator.queries() if q.startswith("CREATE REPOSITORY `repo_p`")]
    assert len(created) == 1
    from sr_airflow.operators.repository import StarRocksCreateRepositoryOperator

    assert "properties" not in StarRocksCreateRepositoryOperator.template_fields


def test_drop_then_drop_again(emulator):
    states, _ = run_dag(dags.drop_repo)
    assert states["drop"] == "success"
    assert dags.RESULTS["drop_repo"] == {"repository": "repo_c", "dropped": True}
    assert "repo_c" not in _repos(emulator)
    states, _ = run_dag(dags.drop_repo)
    assert dags.RESULTS["drop_repo"] == {"repository": "repo_c", "dropped": False}
