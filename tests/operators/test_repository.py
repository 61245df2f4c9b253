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


def test_a_repository_another_run_created_since_the_lookup_is_accepted(emulator, monkeypatch, capsys):
    """Two runs start together: both look, find no repository, both send CREATE; StarRocks refuses the second
    (5064 "already exist"). Staged here by creating it on the frontend after this run's lookup answered "none"."""
    from sr_airflow.hooks.starrocks import StarRocksHook
    from sr_airflow.operators.repository import StarRocksCreateRepositoryOperator

    location = "s3a://sr-backups/race-tests"
    properties = {"aws.s3.access_key": "test-access-key", "aws.s3.secret_key": "test-secret-key-123",
                  "aws.s3.region": "us-east-1"}
    lookup = StarRocksHook.repository
    looked: list[str] = []

    def looked_before_the_other_run(hook, name):
        if not looked:
            looked.append(name)
            emulator.sql(f"CREATE REPOSITORY `repo_race` WITH BROKER ON LOCATION '{location}' PROPERTIES ("
                         + ", ".join(f"'{k}' = '{v}'" for k, v in properties.items()) + ")")
            return None
        return lookup(hook, name)

    monkeypatch.setattr(StarRocksHook, "repository", looked_before_the_other_run)

    def create(at: str) -> dict:
        return StarRocksCreateRepositoryOperator(task_id="create", starrocks_conn_id="sr_main",
                                                 repository="repo_race", location=at,
                                                 properties=properties).execute({})

    try:
        assert create(location) == {"repository": "repo_race", "location": location, "created": False}
        assert emulator.count("CREATE REPOSITORY `repo_race`") == 2  # the other run's, then this run's, refused
        looked.clear()
        emulator.sql("DROP REPOSITORY `repo_race`")
        with pytest.raises(Exception, match=r"Could not create repository 'repo_race': .*already exist"):
            create("s3a://sr-backups/race-elsewhere")  # raced by a repository somewhere else: the error stands
    finally:
        emulator.sql("DROP REPOSITORY `repo_race`")
    assert "test-secret-key-123" not in capsys.readouterr().out
