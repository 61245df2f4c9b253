"""``sr-airflow`` as a subprocess against a catalog written by real backups (tests/cli/conftest.py): the JSON of
every command equals what the catalog holds (``rpo``'s last drill: the record a real sr_restore_drill run wrote),
tables render, errors are one line with exit code 2, a corrupted snapshot file fails ``verify`` with exit code 1."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.cli.backups import DATABASE, LOCATION, PREFIX, REPOSITORY
from tests.support.s3 import BUCKET, S3_SECRET, aws_connection_uri, s3_client


def as_json(result) -> object:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def one_error_line(result, code: int = 2) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("sr-airflow: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_list_json_is_the_catalog_newest_first(backups, catalog):
    entries = list(catalog)
    assert [(e.snapshot_kind.value, e.status.value) for e in entries] == [("full", "ok"), ("incremental", "ok")]
    rows = as_json(backups.run("list", "--json", process=True))
    assert [r["label"] for r in rows] == [e.label for e in reversed(entries)]
    for row, entry in zip(rows, reversed(entries), strict=True):
        assert row == {
            "label": entry.label, "repository": REPOSITORY, "database": DATABASE, "kind": entry.snapshot_kind.value,
            "scope": dict(entry.scope), "taken_at": entry.backup_time.astimezone(UTC).isoformat(),
            "bytes": entry.snapshot_bytes, "seconds": entry.phase_seconds["total"],
            "parent": entry.parent_label, "status": "ok", "partition_count": len(entry.partitions),
            "message": entry.message}
    assert rows[0]["parent"] == rows[1]["label"] and rows[0]["bytes"] > 0 and rows[1]["bytes"] > rows[0]["bytes"]
    assert rows[1]["seconds"] > 0 and set(catalog.get(rows[1]["label"]).phase_seconds) > {"total"}


def test_list_filters_by_time_and_database_and_reads_the_configured_defaults(backups, catalog):
    full, incremental = list(catalog)
    since = (full.backup_time + (incremental.backup_time - full.backup_time) / 2).isoformat()
    assert [r["label"] for r in as_json(backups.run("list", "--json", "--since", since))] == [incremental.label]
    assert [r["label"] for r in as_json(backups.run("list", "--json", "--until", since))] == [full.label]
    assert as_json(backups.run("list", "--json", "--database", "other")) == []
    # no --location/--repository/--storage-conn-id: the [defaults] of the DAGs' sr_airflow.toml
    rows = as_json(backups.run("list", "--json", with_config=True, where=False))
    assert [r["label"] for r in rows] == [incremental.label, full.label]


def test_list_renders_a_table(backups, catalog):
    result = backups.run("list")
    assert result.returncode == 0, result.stderr
    assert "\x1b[" not in result.stdout  # no colour codes when stdout is not a terminal
    for entry in catalog:
        line = next(x for x in result.stdout.splitlines() if x.lstrip("│| ").startswith(entry.label))
        assert entry.snapshot_kind.value in line and f"{entry.snapshot_bytes / 1024:.1f} KiB" in line, line


def test_show_lists_the_partitions_and_the_restore_at_its_moment(backups, catalog):
    full, incremental = list(catalog)
    shown = as_json(backups.run("show", incremental.label, "--json"))
    assert shown["partitions"] == [{"table": p.table, "partition": p.partition, "version": p.version,
                                    "rows": p.row_count, "bytes": p.data_size} for p in incremental.partitions]
    assert ("events", "p20240103") in {(p["table"], p["partition"]) for p in shown["partitions"]}
    restore = shown["restore"]
    assert restore["entries"] == [[e.label, e.snapshot_kind.value, e.backup_time.astimezone(UTC).isoformat()]
                                  for e in (full, incremental)]
    assert [job["snapshot_label"] for job in restore["jobs"]] == [full.label, incremental.label]
    from_incremental = {(t["name"], p) for t in restore["jobs"][1]["tables"] for p in t["partitions"]}
    assert ("events", "p20240103") in from_incremental
    assert restore["partitions"] == len({(p.table, p.partition) for e in (full, incremental) for p in e.partitions
                                         if p.table != "per_day"})

    table = backups.run("show", full.label)
    assert table.returncode == 0 and "p20240103" in table.stdout and "RESTORE jobs" in table.stdout
    assert "materialized view per_day" in table.stdout  # the full's job brings the MV (seed_daily's per_day)


def test_chain_at_a_time_reads_the_snapshots_taken_by_then(backups, catalog):
    full, incremental = list(catalog)
    newest = as_json(backups.run("chain", DATABASE, "--json"))
    assert [e[0] for e in newest["entries"]] == [full.label, incremental.label]
    assert newest["snapshot_label"] == incremental.label and newest["point_in_time"] is None
    at_full = as_json(backups.run("chain", DATABASE, "--json", "--at", full.backup_time.isoformat()))
    assert [e[0] for e in at_full["entries"]] == [full.label]
    assert [job["snapshot_label"] for job in at_full["jobs"]] == [full.label]
    assert at_full["point_in_time"] == full.backup_time.isoformat()


def test_rpo_is_the_age_of_the_newest_ok_snapshot_against_the_target(backups, catalog):
    full, incremental = list(catalog)
    before = datetime.now(UTC)
    [row] = as_json(backups.run("rpo", "--json", "--target", "26h"))
    after = datetime.now(UTC)
    assert row["last_drill"] is None  # no drill yet: the drill_run_id fixture runs for the tests below
    assert (row["database"], row["newest_ok"], row["state"]) == (DATABASE, incremental.label, "green")
    assert row["target_seconds"] == 26 * 3600
    assert (before - incremental.backup_time).total_seconds() - 1 <= row["age_seconds"]
    assert row["age_seconds"] <= (after - incremental.backup_time).total_seconds() + 1
    assert row["sizes"] == [[e.backup_time.astimezone(UTC).isoformat(), e.snapshot_bytes]
                            for e in (full, incremental)]
    age = timedelta(seconds=row["age_seconds"])
    [stale] = as_json(backups.run("rpo", "--json", "--target", f"{max(1, int(age.total_seconds() / 4))}s"))
    assert stale["state"] == "red"
    [default] = as_json(backups.run("rpo", "--json", with_config=True))  # the config has no [ui]: 26h
    assert (default["target_seconds"], default["state"]) == (26 * 3600, "green")
    table = backups.run("rpo", "--target", "26h")
    assert table.returncode == 0 and "green" in table.stdout and incremental.label in table.stdout
    assert backups.run("rpo", "--target", "26h", "--fail-on", "amber").returncode == 0
    line = one_error_line(backups.run("rpo", "--json", "--target", "1s", "--fail-on", "red"), code=1)
    assert line == f"sr-airflow: RPO red or worse: {DATABASE}.", line


def test_rpo_shows_the_last_restore_drill_as_recorded(backups, catalog, storage, drill_run_id):
    from sr_airflow.storage.drill_store import load_drills

    [record] = load_drills(storage, REPOSITORY, DATABASE)
    newest = list(catalog)[-1]
    assert (record.run_id, record.result, record.snapshot_label) == (drill_run_id, "ok", newest.label)
    assert record.scratch_dropped and record.rto_seconds > 0
    [row] = as_json(backups.run("rpo", "--json", "--target", "26h"))
    assert row["last_drill"] == record.to_dict()
    table = backups.run("rpo", "--target", "26h")
    assert table.returncode == 0, table.stderr
    assert "last drill" in table.stdout
    [line] = [x for x in table.stdout.splitlines() if x.lstrip("│| ").startswith(DATABASE)]
    started = record.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert f"ok {started}, RTO {record.rto_seconds:.1f} s" in line, table.stdout


def test_repos_lists_the_catalogs_under_the_location(backups):
    rows = as_json(backups.run("repos", "--json"))
    assert {"repository": REPOSITORY, "catalog_entries": 2} in rows
    table = backups.run("repos")
    assert table.returncode == 0 and LOCATION in table.stdout
    assert any(REPOSITORY in line and line.rstrip(" |│").endswith("2") for line in table.stdout.splitlines())


@pytest.mark.parametrize(("args", "message"), [
    (("list", "--repository", "no_such_repo"), r"repository 'no_such_repo' has no catalog at s3://"),
    (("show", "no-such-label"), r"Snapshot 'no-such-label' is not in the catalog"),
    (("list", "--storage-conn-id", "no_such_conn"), r"connection not found: .*no_such_conn"),
    (("chain", "no_such_db"), r"no good snapshot of database 'no_such_db'"),
])
def test_a_missing_repository_label_or_connection_is_one_line_and_exit_2(backups, args, message):
    line = one_error_line(backups.run(*args))
    assert re.search(message, line), line


def test_verify_passes_then_names_the_corrupted_file(backups, catalog):
    incremental = list(catalog)[-1]
    ok = as_json(backups.run("verify", incremental.label, "--json"))
    assert ok["ok"] is True and ok["files"] > 0 and ok["files_md5_checked"] == ok["files"]
    assert ok["size_bytes"] == incremental.snapshot_bytes

    s3 = s3_client(backups.endpoint_url)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/")["Contents"]
            if f"__ss_{incremental.label}/" in o["Key"] and "/__ss_content/" in o["Key"]]
    victim = keys[0]
    original = s3.get_object(Bucket=BUCKET, Key=victim)["Body"].read()
    s3.put_object(Bucket=BUCKET, Key=victim, Body=original + b"corrupt")
    try:
        failed = backups.run("verify", incremental.label, process=True)
        line = one_error_line(failed, code=1)
        assert victim.split(f"{PREFIX}/", 1)[1] in line and "does not match its md5" in line, line
    finally:
        s3.put_object(Bucket=BUCKET, Key=victim, Body=original)
    assert backups.run("verify", incremental.label).returncode == 0


def test_an_error_in_a_process_is_one_line_and_exit_2(backups):
    line = one_error_line(backups.run("show", "no-such-label", process=True))
    assert line == "sr-airflow: Snapshot 'no-such-label' is not in the catalog.", line


def test_a_connection_kept_in_the_metadata_database_is_found(backups, s3_server):
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        session.add(Connection(conn_id="cli_s3_in_db", uri=aws_connection_uri(s3_server.endpoint_url)))
    rows = as_json(backups.run("list", "--json", "--storage-conn-id", "cli_s3_in_db", process=True))
    assert len(rows) == 2


def test_no_output_shows_the_storage_secret(backups):
    backups.run("list")
    backups.run("show", "no-such-label")
    assert backups.outputs and not [out for out in backups.outputs if S3_SECRET in out]
