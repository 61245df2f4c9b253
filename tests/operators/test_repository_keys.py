"""Storage keys StarRocks would leak: CREATE REPOSITORY lands in ``fe.audit.log`` as sent (spec/STARROCKS.md
section 11), so sr_airflow prefers the credential-less forms, sends keys once per repository and cluster, and warns
once (without the key) when it must send them."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from airflow.sdk import Connection

from sr_airflow.storage.connections import repository_spec_from_connection
from tests.support.dags import states
from tests.support.s3 import BUCKET, S3_KEY, S3_SECRET
from tests.support.seeds import incremental_config, restore_config, seed_daily

AUDIT_WARNING = "in clear text"  # a phrase of the operator's one warning
ROLE = "arn:aws:iam::123456789012:role/sr-backup"
REGION = {"region_name": "us-east-1"}


def _aws(login: str | None = None, password: str | None = None, **extra) -> Connection:
    return Connection(conn_id="keys_form", conn_type="aws", login=login, password=password,
                      extra=json.dumps({**REGION, **extra}))


@pytest.mark.parametrize("conn,expected", [
    (_aws(role_arn=ROLE), {"aws.s3.use_instance_profile": "true", "aws.s3.iam_role_arn": ROLE}),
    (_aws(), {"aws.s3.use_instance_profile": "true"}),
    (_aws("AKIAKEYS", "secret-value", starrocks_use_instance_profile=True), {"aws.s3.use_instance_profile": "true"}),
    (_aws("AKIAKEYS", "secret-value", starrocks_use_instance_profile="true", role_arn=ROLE),
     {"aws.s3.use_instance_profile": "true", "aws.s3.iam_role_arn": ROLE}),
    (_aws("AKIAKEYS", "secret-value"), {"aws.s3.access_key": "AKIAKEYS", "aws.s3.secret_key": "secret-value"}),
], ids=["assumed-role", "instance-profile", "keys-kept-for-airflow", "keys-kept-role-sent", "keys"])
def test_the_credential_form_sent_is_the_connections(conn, expected):
    spec = repository_spec_from_connection("r", "s3://bkt/p", conn)
    assert spec.properties == {**expected, "aws.s3.region": "us-east-1"}


def test_minio_cannot_do_without_its_keys():
    conn = _aws("AKIAKEYS", "secret-value", endpoint_url="http://127.0.0.1:9", starrocks_use_instance_profile=True)
    with pytest.raises(ValueError, match="cannot serve a MinIO"):
        repository_spec_from_connection("r", "s3://bkt/p", conn)


def _carrying_keys(statements: list[str]) -> Counter:
    return Counter(s for s in statements if S3_KEY in s or S3_SECRET in s)


def _audit_warnings(text: str) -> list[str]:
    return [line for line in text.splitlines() if AUDIT_WARNING in line]


@pytest.mark.slow  # four DAG runs (about 30 s)
def test_keys_go_once_per_repository_and_the_warning_once_without_them(shared_emulator, shared_target_emulator,
                                                                       aws_conn, load_dag, capsys, caplog):
    source, target = shared_emulator, shared_target_emulator
    seed_daily(source, "keys_db")
    config = incremental_config(source, aws_conn, "keys", "keys_db", "changed")
    source_before, target_before = len(source.queries()), len(target.queries())

    assert states(load_dag("sr_full_backup", config).test())["backup[0]"] == "success"
    first = capsys.readouterr().out
    [warning] = _audit_warnings(first)
    assert "'keys_repo'" in warning and "fe.audit.log" in warning and "aws.s3.secret_key" in warning

    assert states(load_dag("sr_full_backup", config).test())["backup[0]"] == "success"  # the repository is there
    source.sql("INSERT INTO keys_db.events VALUES (5, '2024-01-03')")
    assert states(load_dag("sr_incremental_backup", config).test())["backup[0]"] == "success"
    reruns = capsys.readouterr().out
    assert _audit_warnings(reruns) == []

    restore = load_dag("sr_restore", restore_config(target, aws_conn, "keys"))
    run = restore.test(run_conf={"database": "keys_db", "target_database": "keys_db"})
    assert states(run)["restore"] == "success"
    restored = capsys.readouterr().out
    assert len(_audit_warnings(restored)) == 1  # the target cluster's own repository

    sent_source = _carrying_keys(source.queries()[source_before:])
    sent_target = _carrying_keys(target.queries()[target_before:])
    assert [s.split("`")[1] for s in sent_source] == ["keys_repo"] and set(sent_source.values()) == {1}
    assert [s.split("`")[1] for s in sent_target] == ["keys_repo"] and set(sent_target.values()) == {1}
    for text in (first, reruns, restored, caplog.text):
        assert S3_SECRET not in text and S3_KEY not in text


def test_a_connection_that_keeps_its_keys_sends_none(shared_emulator, s3_server, load_dag, monkeypatch, capsys):
    """``starrocks_use_instance_profile``: the statement carries the instance profile, no key and no warning (the
    emulator's S3 server, standing in for AWS, does not check who signs)."""
    conn = {"conn_type": "aws", "login": S3_KEY, "password": S3_SECRET,
            "extra": {**REGION, "starrocks_use_instance_profile": True}}
    monkeypatch.setenv("AIRFLOW_CONN_S3_PROFILE", json.dumps(conn))
    before = len(shared_emulator.queries())
    dag = load_dag("sr_full_backup", f"""
[defaults]
starrocks_conn_id = "{shared_emulator.conn_id}"
repository = "keys_profile_repo"
location = "s3://{BUCKET}/keys-profile"
storage_conn_id = "s3_profile"
databases = ["keys_db"]
""")
    assert states(dag.test())["create_repository"] == "success"  # the backup is not this test's subject
    [sent] = [q for q in shared_emulator.queries()[before:] if q.startswith("CREATE REPOSITORY")]
    assert '"aws.s3.use_instance_profile" = "true"' in sent
    assert S3_KEY not in sent and S3_SECRET not in sent
    assert _audit_warnings(capsys.readouterr().out) == []
