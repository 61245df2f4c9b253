"""CREATE REPOSITORY from Airflow connections: each example of the seed reproduced from a connection."""

from __future__ import annotations

import json
import re

import pytest
from airflow.sdk import Connection

from sr_airflow.storage.connections import repository_spec, repository_spec_from_connection
from tests.engine.seed_sql import seed_statements


def _seed_repositories() -> list[tuple[str, dict[str, str]]]:
    out = []
    for stmt in seed_statements():
        if stmt.upper().startswith("CREATE REPOSITORY"):
            location = re.search(r'ON LOCATION "([^"]*)"', stmt).group(1)
            # the seed's HDFS example has placeholders where a host and a port go
            location = location.replace("<hdfs_host>", "namenode").replace("<hdfs_port>", "8020")
            props = dict(re.findall(r'"([^"]+)"\s*=\s*"([^"]*)"', stmt))
            out.append((location, props))
    return out


SEED = _seed_repositories()


def test_the_seed_has_six_repository_forms():
    assert len(SEED) == 6


def _conn(**kw) -> Connection:
    extra = kw.pop("extra", None)
    return Connection(conn_id=kw.pop("conn_id", "c"), extra=json.dumps(extra) if extra else None, **kw)


def _find(pred) -> tuple[str, dict[str, str]]:
    (found,) = [s for s in SEED if pred(s[0], s[1])]
    return found


CASES = {
    "hdfs user+password": (
        lambda loc, p: loc.startswith("hdfs://"),
        lambda p: _conn(conn_type="webhdfs", host="nn", port=9870, login=p["username"], password=p["password"]),
        None),
    "s3 access key": (
        lambda loc, p: "aws.s3.access_key" in p and "aws.s3.endpoint" not in p,
        lambda p: _conn(conn_type="aws", login=p["aws.s3.access_key"], password=p["aws.s3.secret_key"],
                        extra={"region_name": p["aws.s3.region"]}),
        None),
    "s3 instance profile": (
        lambda loc, p: p.get("aws.s3.use_instance_profile") == "true" and "aws.s3.iam_role_arn" not in p,
        lambda p: _conn(conn_type="aws", extra={"region_name": p["aws.s3.region"]}),
        None),
    "s3 assumed role": (
        lambda loc, p: "aws.s3.iam_role_arn" in p,
        lambda p: _conn(conn_type="aws", extra={"region_name": p["aws.s3.region"],
                                                "role_arn": p["aws.s3.iam_role_arn"]}),
        None),
    "gcs hmac": (
        lambda loc, p: "fs.s3a.access.key" in p,
        lambda p: _conn(conn_type="google_cloud_platform", extra={"hmac_access_id": p["fs.s3a.access.key"],
                                                                   "hmac_secret": p["fs.s3a.secret.key"]}),
        None),
    "minio": (
        lambda loc, p: "aws.s3.endpoint" in p,
        lambda p: _conn(conn_type="aws", login=p["aws.s3.access_key"], password=p["aws.s3.secret_key"],
                        extra={"endpoint_url": p["aws.s3.endpoint"]}),
        None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_seed_form_from_a_connection(case):
    pred, make_conn, _ = CASES[case]
    location, props = _find(pred)
    user_location = location.replace("s3a://bucket_gcs", "gs://bucket_gcs")
    spec = repository_spec_from_connection("test_repo", user_location, make_conn(props))
    assert spec.location == location
    assert dict(spec.properties) == props
    assert spec.broker is None


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_seed_form_from_airflow_conn_env(case, monkeypatch):
    pred, make_conn, _ = CASES[case]
    location, props = _find(pred)
    conn = make_conn(props)
    monkeypatch.setenv("AIRFLOW_CONN_SR_SEED", conn.as_json())
    spec = repository_spec("test_repo", location, "sr_seed")
    assert (spec.location, dict(spec.properties)) == (location, props)


def test_s3_scheme_is_rewritten_for_aws():
    spec = repository_spec_from_connection("r", "s3://bucket_s3/backup",
                                           _conn(conn_type="aws", extra={"region_name": "us-east-1"}))
    assert spec.location == "s3a://bucket_s3/backup"


def test_keys_in_extras_and_secrets_are_masked_not_logged(caplog, monkeypatch):
    masked = []
    monkeypatch.setattr("airflow.sdk.log.mask_secret", masked.append)
    conn = _conn(conn_type="aws", extra={"aws_access_key_id": "AKIAEXAMPLEKEY", "aws_secret_access_key":
                                         "verysecretvalue", "region_name": "eu-west-1"})
    with caplog.at_level("DEBUG"):
        spec = repository_spec_from_connection("r", "s3a://bkt/x", conn)
    assert spec.properties["aws.s3.secret_key"] == "verysecretvalue"
    assert {"AKIAEXAMPLEKEY", "verysecretvalue"} <= {m for m in masked if isinstance(m, str)}
    assert "verysecretvalue" not in caplog.text


@pytest.mark.parametrize("location,conn,message", [
    ("s3a://bkt/x", _conn(conn_type="aws"), "needs a region"),
    ("s3a://bkt/x", _conn(conn_type="aws", login="AK", extra={"region_name": "r"}), "both the access key"),
    ("s3a://bkt/x", _conn(conn_type="postgres"), "must be of type 'aws'"),
    ("gs://bkt/x", _conn(conn_type="google_cloud_platform"), "no GCS HMAC keys"),
    ("gs://bkt/x", None, "needs HMAC keys"),
    ("s3://bkt/x", _conn(conn_type="aws", extra={"endpoint_url": "http://minio:9000"}), "needs an access key"),
])
def test_incomplete_connections_are_refused(location, conn, message):
    with pytest.raises(ValueError, match=message):
        repository_spec_from_connection("r", location, conn)


def test_hdfs_broker_name_from_extra():
    conn = _conn(conn_type="hdfs", login="u", password="p", extra={"broker": "hdfs_broker"})
    spec = repository_spec_from_connection("r", "hdfs://nn:8020/d", conn, read_only=True)
    assert (spec.broker, spec.read_only, dict(spec.properties)) == ("hdfs_broker", True,
                                                                   {"username": "u", "password": "p"})


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_statement_equals_the_seed_statement(case):
    """Connection -> RepositorySpec -> the engine's renderer gives the seed's own CREATE REPOSITORY."""
    from sr_airflow.engine.statements import render_create_repository
    from tests.engine.seed_sql import normalise

    pred, make_conn, _ = CASES[case]
    location, props = _find(pred)
    (seed_sql,) = [sql for sql, repo in zip(_repository_statements(), SEED, strict=True) if repo == (location, props)]
    spec = repository_spec_from_connection("test_repo", location, make_conn(props))
    expected = normalise(seed_sql.replace("<hdfs_host>", "namenode").replace("<hdfs_port>", "8020"))
    assert normalise(render_create_repository(spec)) == expected  # same tokens, same property order


def _repository_statements() -> list[str]:
    return [stmt for stmt in seed_statements() if stmt.upper().startswith("CREATE REPOSITORY")]
