"""The Asset event a backup adds through its ``starrocks-backups`` alias: the database it actually backed up, as
rendered, on the connection it ran against (the scheduler side — a downstream DAG run — is
tests/e2e/test_assets_and_deferral.py)."""

from __future__ import annotations

from airflow.sdk import Asset, AssetAlias

from sr_airflow.operators.backup import StarRocksBackupOperator
from tests.support.task_context import task_context


def test_a_backup_names_its_database_asset_through_the_alias(sales_db, s3_server):
    sales_db.create_repository("assets_repo", s3_server, "backup-assets")
    operator = StarRocksBackupOperator(task_id="backup", starrocks_conn_id="{{ conn }}", repository="assets_repo",
                                       database="{{ db }}", deferrable=False, poll_interval=0.1,
                                       max_poll_interval=0.5)
    operator.render_template_fields({"conn": sales_db.conn_id, "db": "sales"})
    context = task_context("assets_run")
    result = operator.execute(context)

    events = context["outlet_events"][AssetAlias("starrocks-backups")].asset_alias_events
    assert [(e.dest_asset_key.name, e.dest_asset_key.uri) for e in events] == [
        (f"starrocks://{sales_db.conn_id}/sales", f"starrocks://{sales_db.conn_id}/sales")]
    assert events[0].extra == {"snapshot_label": result["snapshot_label"],
                               "backup_timestamp": result["backup_timestamp"]}
    assert Asset(f"starrocks://{sales_db.conn_id}/sales").name == events[0].dest_asset_key.name
