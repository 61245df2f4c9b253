"""Location parsing and normalisation (pure)."""

from __future__ import annotations

import logging

import pytest

from sr_airflow.storage.location import RepositoryLocation, catalog_root, normalise_key, repository_root


def test_aws_s3_is_rewritten_to_s3a_with_a_notice(caplog):
    with caplog.at_level(logging.INFO, logger="sr_airflow.storage.location"):
        loc = RepositoryLocation.parse("s3://bucket_s3/backup/")
    assert (loc.backend, loc.starrocks_uri, loc.path) == ("s3", "s3a://bucket_s3/backup", "backup")
    assert "only through S3A" in caplog.text


def test_s3a_stays_and_aws_endpoint_is_still_aws():
    loc = RepositoryLocation.parse("s3a://bk1/x//y", endpoint="https://s3.us-east-1.amazonaws.com")
    assert (loc.starrocks_uri, loc.endpoint, loc.is_minio) == ("s3a://bk1/x/y", None, False)


def test_minio_keeps_s3_with_its_endpoint():
    loc = RepositoryLocation.parse("s3://bucket_minio/backup", endpoint="http://minio:9000")
    assert (loc.backend, loc.starrocks_uri, loc.endpoint, loc.is_minio) == (
        "s3", "s3://bucket_minio/backup", "http://minio:9000", True)


@pytest.mark.parametrize("uri,endpoint", [("gs://bucket_gcs/backup", None),
                                          ("s3a://bucket_gcs/backup", "storage.googleapis.com")])
def test_gcs_goes_through_s3a(uri, endpoint):
    loc = RepositoryLocation.parse(uri, endpoint=endpoint)
    assert (loc.backend, loc.starrocks_uri, loc.endpoint) == ("gcs", "s3a://bucket_gcs/backup", None)


def test_hdfs_needs_a_port():
    loc = RepositoryLocation.parse("hdfs://nn1:8020/repo_dir/backup")
    assert (loc.backend, loc.bucket, loc.starrocks_uri) == ("hdfs", "nn1:8020", "hdfs://nn1:8020/repo_dir/backup")
    with pytest.raises(ValueError, match="NameNode port"):
        RepositoryLocation.parse("hdfs://nn1/repo_dir")


@pytest.mark.parametrize("uri,message", [
    ("ftp://x/y", "unsupported scheme"), ("", "non-empty"), ("s3a:///nobucket", "must name a bucket"),
    ("s3a://B!/x", "invalid bucket"), ("s3a://bucket/a/../b", r"'\.\.'"), ("s3a://bucket/x?y=1", "query"),
])
def test_bad_locations_are_refused_with_one_clear_message(uri, message):
    with pytest.raises(ValueError, match=message):
        RepositoryLocation.parse(uri)


def test_roots_and_keys():
    assert repository_root("test_repo") == "__starrocks_repository_test_repo"
    assert catalog_root("test_repo") == "__sr_airflow_catalog_test_repo"
    assert not catalog_root("r").startswith(repository_root("r") + "/")
    assert normalise_key("/a//b/") == "a/b"
    assert RepositoryLocation.parse("s3a://bkt").key("x", "y") == "x/y"
    with pytest.raises(ValueError, match="repository name"):
        repository_root("a/b")


def test_layout_names():
    from sr_airflow.storage.layout import label_from_dir, parse_info_name, split_md5, with_md5

    assert label_from_dir("__ss_content") == "content" and label_from_dir("__repo_info") is None
    assert split_md5(with_md5("__meta", b"x")) == ("__meta", "9dd4e461268c8034f5c8564e155c67a6")
    assert split_md5("__meta.part") is None
    info = parse_info_name("__info_2024-12-09-10-25-58-842.9dd4e461268c8034f5c8564e155c67a6")
    assert (info.timestamp, info.valid) == ("2024-12-09-10-25-58-842", True)
    assert parse_info_name("__meta.9dd4e461268c8034f5c8564e155c67a6") is None
