"""Alerts through a real notifier: ``[alerts] notifier`` names a BaseNotifier that POSTs to a local HTTP server.
A failed run of a shipped DAG sends one message; an RPO breach seen after a backup sends one message naming the
database and its newest good snapshot; no secret reaches either."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sr_airflow.storage import get_storage
from sr_airflow.storage.catalog_store import CatalogStore
from tests.support.dags import states
from tests.support.s3 import BUCKET, S3_KEY, S3_SECRET
from tests.support.seeds import defaults_config, seed_sales

pytestmark = pytest.mark.slow

PREFIX = "alerts"
TOKEN = "hook-token-not-for-messages"  # the notifier's own secret argument: sent as its header, never in a message


def config(emu, aws_conn: str, webhook, *, rpo_target: str = "1h", databases: tuple[str, ...] = ()) -> str:
    return defaults_config(emu, aws_conn, PREFIX, databases) + f"""[alerts]
notifier = "tests.support.webhook.WebhookNotifier"
rpo_target = "{rpo_target}"
[alerts.notifier_kwargs]
url = "{webhook.url}"
text = "{{{{ sr_alert.message }}}}"
token = "{TOKEN}"
"""


def assert_no_secret(message: dict) -> None:
    text = str(message["body"])
    for secret in (S3_SECRET, S3_KEY, TOKEN):
        assert secret not in text


def test_a_failed_run_sends_one_message(emulator, aws_conn, load_dag, webhook):
    restore = load_dag("sr_restore", config(emulator, aws_conn, webhook))
    run = restore.test(run_conf={"database": "no_such_db"})
    assert states(run)["restore"] == "failed"
    [message] = webhook.received
    assert message["body"]["kind"] == "dag_failure"
    assert message["body"]["text"].startswith(f"DAG sr_restore run {run.run_id} failed")
    assert message["headers"]["Authorization"] == f"Bearer {TOKEN}"  # the notifier got its arguments
    assert_no_secret(message)


def test_an_rpo_breach_after_a_failed_backup_names_the_newest_good_snapshot(emulator, aws_conn, load_dag, webhook):
    seed_sales(emulator, "a_sales")
    backup = load_dag("sr_full_backup", config(emulator, aws_conn, webhook, databases=("a_sales",)))
    run = backup.test()
    assert states(run)["check_rpo"] == "success"
    assert webhook.received == []  # a fresh snapshot: no breach, no failure
    [entry] = CatalogStore(get_storage(f"s3://{BUCKET}/{PREFIX}", conn_id=aws_conn),
                           f"{PREFIX}_repo").load().entries("a_sales", good_only=True)

    # A target shorter than the snapshot's age now: older still when the next run checks it.
    target = (datetime.now(UTC) - entry.backup_time).total_seconds() / 2
    emulator.sql('ADMIN SET FRONTEND CONFIG ("emulator_fail_next_job_at" = "UPLOADING")')
    backup = load_dag("sr_full_backup", config(emulator, aws_conn, webhook, rpo_target=f"{target:.3f}s",
                                               databases=("a_sales",)))
    run = backup.test()
    assert states(run)["backup[0]"] == "failed" and states(run)["check_rpo"] == "success"
    kinds = sorted(m["body"]["kind"] for m in webhook.received)
    assert kinds == ["dag_failure", "rpo_breach"]  # one message each
    [breach] = [m["body"] for m in webhook.received if m["body"]["kind"] == "rpo_breach"]
    assert breach["title"] == "sr_airflow: RPO breached for a_sales"
    assert f"a_sales: newest good snapshot {entry.label} taken {entry.backup_time.isoformat()}" in breach["text"]
    assert f"seen by sr_full_backup run {run.run_id}" in breach["text"]
    for message in webhook.received:
        assert_no_secret(message)


def test_a_database_the_incremental_plan_found_unchanged_is_no_breach(emulator, aws_conn, load_dag, webhook):
    seed_sales(emulator, "q_sales")
    text = config(emulator, aws_conn, webhook, databases=("q_sales",)) + '[sr_incremental_backup]\nmode = "changed"\n'
    backup = load_dag("sr_incremental_backup", text)
    assert states(backup.test())["backup[0]"] == "success"
    [entry] = CatalogStore(get_storage(f"s3://{BUCKET}/{PREFIX}", conn_id=aws_conn),
                           f"{PREFIX}_repo").load().entries("q_sales", good_only=True)
    target = (datetime.now(UTC) - entry.backup_time).total_seconds() / 2
    backup = load_dag("sr_incremental_backup", text.replace('rpo_target = "1h"', f'rpo_target = "{target:.3f}s"'))
    run = backup.test()
    assert states(run)["backup[0]"] == "skipped" and states(run)["check_rpo"] == "success"
    assert webhook.received == []  # older than the target, but nothing changed since: the snapshot is current
