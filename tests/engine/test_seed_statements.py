"""Every SQL example of the seed document is rendered from the engine's models, in both syntaxes it shows."""

from __future__ import annotations

import pytest

from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.repository_spec import RepositorySpec
from sr_airflow.engine.scope import ExternalCatalogRef, ObjectKind, ObjectRef, Scope
from sr_airflow.engine.statements import (
    BackupRequest,
    RestoreRequest,
    Syntax,
    render_backup,
    render_cancel_backup,
    render_cancel_restore,
    render_create_repository,
    render_restore,
)
from tests.engine.seed_sql import normalise, seed_statements

LEGACY, MODERN = Syntax.LEGACY, Syntax.MODERN
TS1, TS2 = "2024-12-09-10-25-58-842", "2024-12-09-10-52-10-940"
MV, VIEW, FN = ObjectKind.MATERIALIZED_VIEW, ObjectKind.VIEW, ObjectKind.FUNCTION


def repo(location, **props):
    return render_create_repository(RepositorySpec("test_repo", location, props))


def backup(label, syntax=MODERN, **scope):
    return render_backup(BackupRequest(label, "test_repo", Scope(database="sr_hub", **scope)), syntax)


def backup_catalogs(label, **scope):
    return render_backup(BackupRequest(label, "test_repo", Scope(**scope)))


def restore(label, ts=TS2, syntax=MODERN, **scope):
    scope.setdefault("database", "sr_hub")
    return render_restore(RestoreRequest(label, "test_repo", Scope(**scope), ts), syntax)


def objs(kind, *names):
    return tuple(ObjectRef(kind, n) for n in names)


def tables(*names):
    return objs(ObjectKind.TABLE, *names)


# One entry per statement of the seed, in document order. None marks the one example StarRocks refuses.
EXPECTED = [
    repo("hdfs://<hdfs_host>:<hdfs_port>/repo_dir/backup", username="<hdfs_username>", password="<hdfs_password>"),
    repo("s3a://bucket_s3/backup", **{"aws.s3.access_key": "XXXXXXXXXXXXXXXXX",
                                      "aws.s3.secret_key": "yyyyyyyyyyyyyyyyyyyyyyyy", "aws.s3.region": "us-east-1"}),
    repo("s3a://bucket_s3/backup", **{"aws.s3.use_instance_profile": "true", "aws.s3.region": "us-east-1"}),
    repo("s3a://bucket_s3/backup", **{"aws.s3.use_instance_profile": "true",
                                      "aws.s3.iam_role_arn": "arn:aws:iam::xxxxxxxxxx:role/yyyyyyyy",
                                      "aws.s3.region": "us-east-1"}),
    repo("s3a://bucket_gcs/backup", **{"fs.s3a.access.key": "xxxxxxxxxxxxxxxxxxxx",
                                       "fs.s3a.secret.key": "yyyyyyyyyyyyyyyyyyyy",
                                       "fs.s3a.endpoint": "storage.googleapis.com"}),
    repo("s3://bucket_minio/backup", **{"aws.s3.access_key": "XXXXXXXXXXXXXXXXX",
                                        "aws.s3.secret_key": "yyyyyyyyyyyyyyyyy",
                                        "aws.s3.endpoint": "http://minio:9000"}),
    backup("sr_hub_backup"),
    backup("sr_hub_backup", LEGACY),
    backup("sr_member_backup", objects=tables("sr_member")),
    backup("sr_member_backup", LEGACY, objects=tables("sr_member")),
    backup("sr_core_backup", objects=tables("sr_member", "sr_pmc")),
    backup("sr_all_backup", all_of=(ObjectKind.TABLE,)),
    backup("sr_par_backup", objects=(ObjectRef.table("sr_member", ["p1"]),)),
    backup("sr_par_backup", LEGACY, objects=(ObjectRef.table("sr_member", ["p1"]),)),
    backup("sr_mv1_backup", objects=objs(MV, "sr_mv1")),
    backup("sr_mv2_backup", objects=objs(MV, "sr_mv1", "sr_mv2")),
    backup("sr_mv3_backup", all_of=(MV,)),
    backup("sr_view1_backup", objects=objs(VIEW, "sr_view1")),
    backup("sr_view2_backup", objects=objs(VIEW, "sr_view1", "sr_view2")),
    backup("sr_view3_backup", all_of=(VIEW,)),
    backup("sr_udf1_backup", objects=objs(FN, "sr_udf1")),
    backup("sr_udf2_backup", objects=objs(FN, "sr_udf1", "sr_udf2")),
    backup("sr_udf3_backup", all_of=(FN,)),
    backup_catalogs("iceberg_backup", external_catalogs=(ExternalCatalogRef("iceberg"),)),
    backup_catalogs("iceberg_hive_backup",
                    external_catalogs=(ExternalCatalogRef("iceberg"), ExternalCatalogRef("hive"))),
    backup_catalogs("all_catalog_backup", all_external_catalogs=True),
    render_cancel_backup(external_catalog=True),
    restore("sr_hub_backup", TS1),
    restore("sr_hub_backup", TS1, LEGACY),
    restore("sr_hub_backup", TS1, target_database="sr_hub_new"),
    restore("sr_member_backup", objects=tables("sr_member")),
    restore("sr_member_backup", syntax=LEGACY, objects=tables("sr_member")),
    restore("sr_member_backup", target_database="sr_hub_new",
            objects=(ObjectRef.table("sr_member", alias="sr_member_new"),)),
    restore("sr_core_backup", objects=tables("sr_member", "sr_pmc")),
    None,  # RESTORE ... ON (ALL TABLES) without PROPERTIES: StarRocks says "Missing backup_timestamp property".
    restore("sr_all_backup", objects=tables("sr_member")),
    restore("sr_par_backup", objects=(ObjectRef.table("sr_member", ["p1"]),)),
    restore("sr_par_backup", syntax=LEGACY, objects=(ObjectRef.table("sr_member", ["p1"]),)),
    restore("sr_mv1_backup", objects=objs(MV, "sr_mv1")),
    restore("sr_mv2_backup", objects=objs(MV, "sr_mv1", "sr_mv2")),
    restore("sr_mv3_backup", all_of=(MV,)),
    restore("sr_mv3_backup", objects=objs(MV, "sr_mv1")),
    restore("sr_view1_backup", objects=objs(VIEW, "sr_view1")),
    restore("sr_view2_backup", objects=objs(VIEW, "sr_view1", "sr_view2")),
    restore("sr_view3_backup", all_of=(VIEW,)),
    restore("sr_view3_backup", objects=objs(VIEW, "sr_view1")),
    restore("sr_udf1_backup", objects=objs(FN, "sr_udf1")),
    restore("sr_udf2_backup", objects=objs(FN, "sr_udf1", "sr_udf2")),
    restore("sr_udf3_backup", all_of=(FN,)),
    restore("sr_udf3_backup", objects=objs(FN, "sr_udf1")),
    restore("iceberg_backup", database=None, external_catalogs=(ExternalCatalogRef("iceberg", "iceberg_new"),)),
    restore("iceberg_hive_backup", database=None,
            external_catalogs=(ExternalCatalogRef("iceberg"), ExternalCatalogRef("hive"))),
    restore("all_catalog_backup", database=None, all_external_catalogs=True),
    render_cancel_restore(external_catalog=True),
]


def test_every_seed_statement_is_accounted_for():
    assert len(seed_statements()) == len(EXPECTED) == 54


@pytest.mark.parametrize("index", range(len(EXPECTED)))
def test_rendered_statement_matches_the_seed(index):
    seed = seed_statements()[index]
    if EXPECTED[index] is None:
        assert "ALL TABLES" in seed and "backup_timestamp" not in seed
        return
    assert normalise(EXPECTED[index]) == normalise(seed)


def test_the_seed_restore_without_timestamp_is_refused_before_sending():
    with pytest.raises(InvalidArgumentError, match="backup_timestamp is required"):
        restore("sr_all_backup", ts="", all_of=(ObjectKind.TABLE,))


def test_normalise_tells_different_statements_apart():
    assert normalise("BACKUP DATABASE a SNAPSHOT b TO r") != normalise("BACKUP DATABASE a SNAPSHOT c TO r")
    assert normalise('PROPERTIES("k"="v")') == normalise("properties ( 'k' = 'v' )")
