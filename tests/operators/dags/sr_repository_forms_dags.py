"""One DAG that creates a repository in each form of the seed, each from its own storage connection (the test sets
the connections as ``AIRFLOW_CONN_*``; the cluster is ``sr_forms``). No I/O at import."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from sr_airflow.operators.repository import StarRocksCreateRepositoryOperator

# repository (and task id) -> (location as a user writes it, storage connection id)
FORMS = {
    "hdfs_with_user": ("hdfs://namenode:8020/forms/with_user", "sr_form_hdfs_with_user"),
    "hdfs_without_user": ("hdfs://namenode:8020/forms/without_user", "sr_form_hdfs_without_user"),
    "s3_keys": ("s3://forms-s3/keys", "sr_form_s3_keys"),
    "s3_wrong_secret": ("s3://forms-s3/wrong", "sr_form_s3_wrong_secret"),
    "s3_instance_profile": ("s3a://forms-s3/profile", "sr_form_s3_instance_profile"),
    "s3_assumed_role": ("s3a://forms-s3/role", "sr_form_s3_assumed_role"),
    "gcs": ("gs://forms-gcs/gcs", "sr_form_gcs"),
    "minio": ("s3://forms-minio/minio", "sr_form_minio"),
}

with DAG("repository_forms", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
         catchup=False) as repository_forms:
    for name, (location, conn_id) in FORMS.items():
        StarRocksCreateRepositoryOperator(task_id=name, starrocks_conn_id="sr_forms", repository=name,
                                          location=location, storage_conn_id=conn_id)
