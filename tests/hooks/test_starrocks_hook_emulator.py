"""StarRocksHook against the emulator over the MySQL protocol: version, SHOW parsing, quoting round trips."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sr_airflow.engine.job_states import BackupJobState, parse_show_backup
from sr_airflow.engine.quoting import quote_identifier, quote_string
from sr_airflow.hooks.starrocks import StarRocksHook
from sr_airflow.testing.emulator.process import EmulatorServer
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    with EmulatorServer(tmp_path_factory.mktemp("hook-emulator"), version="3.4.1") as server:
        yield server


@pytest.fixture
def hook(emulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_STARROCKS_DEFAULT", f"starrocks://root:@127.0.0.1:{emulator.port}/")
    return StarRocksHook()


CLIENT_CHATTER = ("SET NAMES utf8mb4", "SET AUTOCOMMIT = 1")


def logged_statements(emulator) -> list[str]:
    """What the frontend received, less PyMySQL's own set-up statements on each new connection."""
    statements = [json.loads(line)["statement"] for line in emulator.query_log.read_text().splitlines()]
    return [s for s in statements if s not in CLIENT_CHATTER]


def test_server_version_comes_from_current_version(hook):
    version = hook.server_version()
    assert (version.major, version.minor, version.patch) == (3, 4, 1) and version.build
    assert version.has_object_backup_syntax


@pytest.fixture(scope="module")
def s3_endpoint():
    """An S3 API server with one bucket: a BACKUP needs a repository that really takes the snapshot."""
    import boto3

    from sr_airflow.testing.servers import S3Server

    server = S3Server()
    server.start()
    try:
        boto3.client("s3", endpoint_url=server.endpoint_url, aws_access_key_id="k", aws_secret_access_key="s",
                     region_name="us-east-1").create_bucket(Bucket="hook-bucket")
        yield server.endpoint_url
    finally:
        server.stop()


def test_fetch_returns_columns_for_show_parsing(hook, s3_endpoint):
    hook.execute("CREATE DATABASE hook_bk")
    hook.execute("CREATE TABLE hook_bk.t (id INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1")
    hook.execute("INSERT INTO hook_bk.t VALUES (1)")
    hook.execute('CREATE REPOSITORY hook_repo WITH BROKER ON LOCATION "s3://hook-bucket/hook" PROPERTIES '
                 f'("aws.s3.access_key"="k","aws.s3.secret_key"="s","aws.s3.endpoint"="{s3_endpoint}")')
    hook.execute("BACKUP SNAPSHOT hook_bk.snap_h TO hook_repo ON (TABLE t)")
    wait_until(lambda: hook.fetch("SHOW BACKUP FROM hook_bk")[1][-1][3] == "FINISHED", 60, "the backup finishing")
    columns, rows = hook.fetch("SHOW BACKUP FROM hook_bk")
    assert columns[:4] == ["JobId", "SnapshotName", "DbName", "State"] and len(columns) == 14
    jobs = parse_show_backup(columns, rows)
    assert [(j.label, j.database, j.state) for j in jobs] == [("snap_h", "hook_bk", BackupJobState.FINISHED)]
    assert jobs[0].job_id == rows[0][0] and jobs[0].job_id.isdigit()


def test_common_sql_api_works(hook):
    hook.execute("CREATE DATABASE IF NOT EXISTS hook_db")
    assert ("hook_db",) in hook.get_records("SHOW DATABASES")
    assert hook.test_connection()[0] is True


hostile = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1,
                  max_size=60).filter(lambda s: s.strip() and s == s.strip())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=hostile)
def test_any_database_name_reaches_the_frontend_as_one_statement_naming_exactly_it(hook, emulator, name):
    before = len(logged_statements(emulator))
    hook.execute("CREATE DATABASE IF NOT EXISTS " + quote_identifier(name))
    statements = logged_statements(emulator)[before:]
    assert statements == ["CREATE DATABASE IF NOT EXISTS " + quote_identifier(name)]
    assert (name,) in hook.get_records("SHOW DATABASES")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=80))
def test_any_string_value_survives_as_one_literal(hook, value):
    assert hook.get_first("SELECT " + quote_string(value))[0] == value
