"""StarRocksHook's typed methods against the emulator: each sends one statement the engine renders and returns the
engine's types (jobs, snapshots, repositories, partitions, columns, materialized views, the server)."""

from __future__ import annotations

import pytest

from sr_airflow.engine.errors import SnapshotNotFoundError
from sr_airflow.engine.job_states import BackupJobState, RestoreJobState
from sr_airflow.hooks.starrocks import StarRocksHook
from tests.support.emulators import FAST_PHASE, running_emulator
from tests.support.seeds import seed_sales

CLIENT_CHATTER = ("SET NAMES utf8mb4", "SET AUTOCOMMIT = 1")


@pytest.fixture(scope="module")
def emu(s3_server):
    """``sales`` with a materialized view, its snapshot in ``repo_hm``, and that snapshot restored as ``copy``."""
    with running_emulator("sr_hook_methods", s3_server, min_phase_seconds=FAST_PHASE) as emu:
        seed_sales(emu)
        emu.sql("CREATE MATERIALIZED VIEW sales.per_day REFRESH ASYNC AS "
                "SELECT day, sum(amount) AS total FROM sales.orders GROUP BY day")
        emu.create_repository("repo_hm", s3_server, "hook-methods")
        emu.sql("BACKUP DATABASE sales SNAPSHOT snap_hm TO repo_hm")
        emu.wait_state("BACKUP", "sales", ("FINISHED",))
        timestamp = emu.sql("SHOW SNAPSHOT ON repo_hm WHERE SNAPSHOT = 'snap_hm'")[0][1]
        emu.sql(f"RESTORE SNAPSHOT snap_hm FROM repo_hm DATABASE sales AS copy "
                f"PROPERTIES (\"backup_timestamp\" = \"{timestamp}\")")
        emu.wait_state("RESTORE", "copy", ("FINISHED",))
        emu.timestamp = timestamp
        yield emu


@pytest.fixture
def hook(emu):
    return StarRocksHook(starrocks_conn_id=emu.conn_id)


@pytest.fixture
def sent(emu):
    """The statements the frontend received since the test began, less PyMySQL's set-up on each connection."""
    before = len(emu.queries())
    return lambda: [q for q in emu.queries()[before:] if q not in CLIENT_CHATTER]


def test_the_server_version_and_run_mode_are_one_statement_each(hook, sent):
    version = hook.check_server()
    assert version.has_object_backup_syntax and hook.run_mode() == "shared_nothing"
    assert sent() == ["SELECT current_version()", "ADMIN SHOW FRONTEND CONFIG LIKE 'run_mode'",
                      "ADMIN SHOW FRONTEND CONFIG LIKE 'run_mode'"]


def test_backup_and_restore_jobs_are_the_databases_latest(hook, emu, sent):
    (backup,) = hook.backup_jobs("sales")
    assert (backup.label, backup.database, backup.state) == ("snap_hm", "sales", BackupJobState.FINISHED)
    (restore,) = hook.restore_jobs("copy")
    assert (restore.label, restore.state, restore.backup_timestamp) == ("snap_hm", RestoreJobState.FINISHED,
                                                                        emu.timestamp)
    assert hook.restore_jobs("no_such_database") == []  # RESTORE creates its database: no job yet
    assert sent() == ["SHOW BACKUP FROM `sales`", "SHOW RESTORE FROM `copy`", "SHOW RESTORE FROM `no_such_database`"]


def test_snapshots_are_listed_all_one_or_some(hook, emu, sent):
    assert [s.label for s in hook.snapshots("repo_hm")] == ["snap_hm"]
    (listing,) = hook.snapshots("repo_hm", "snap_hm")
    assert listing.ok and listing.timestamps == (emu.timestamp,)
    assert [s.label for s in hook.snapshots("repo_hm", labels=["snap_hm", "other"])] == ["snap_hm"]
    assert sent() == ["SHOW SNAPSHOT ON `repo_hm`", 'SHOW SNAPSHOT ON `repo_hm` WHERE SNAPSHOT = "snap_hm"',
                      'SHOW SNAPSHOT ON `repo_hm` WHERE SNAPSHOT IN ("snap_hm", "other")']


def test_a_usable_snapshot_is_found_or_refused_saying_what_is_shown(hook, emu):
    assert hook.usable_snapshot("repo_hm", "snap_hm").latest_timestamp == emu.timestamp
    # StarRocks lists an unknown label with the status "ERROR: no snapshot" (Repository.getSnapshotInfos, e223275f78)
    with pytest.raises(SnapshotNotFoundError,
                       match=r"^Snapshot 'nope' is not usable in repository 'repo_hm' \(status: ERROR: no snapshot\)"):
        hook.usable_snapshot("repo_hm", "nope")


def test_a_snapshot_detail_gives_its_database_and_objects(hook, emu):
    detail = hook.snapshot_detail("repo_hm", "snap_hm", emu.timestamp)
    assert detail.database == "sales" and "orders" in detail.details["backup_objects"]
    with pytest.raises(SnapshotNotFoundError, match=r"^Snapshot 'snap_hm' at 2000-01-01-00-00-00-000 is not "
                                                    r"readable in repository 'repo_hm' \(status: Failed to get info"):
        hook.snapshot_detail("repo_hm", "snap_hm", "2000-01-01-00-00-00-000")


def test_repositories_are_found_by_name(hook, sent):
    assert [r.name for r in hook.repositories()] == ["repo_hm"]
    shown = hook.repository("repo_hm")
    assert shown.location.endswith("/hook-methods") and not shown.read_only
    assert hook.repository("x`; DROP DATABASE sales; --") is None
    assert sent() == ["SHOW REPOSITORIES"] * 3


def test_partitions_columns_and_views_of_a_database(hook, sent):
    states = hook.partitions_meta("sales")
    assert {(s.table, s.partition) for s in states} >= {("orders", "p1"), ("orders", "p2")}
    assert {s.partition for s in hook.partitions_meta("sales", ["orders"])} == {"p1", "p2"}
    columns = hook.table_columns("sales", ["orders", "absent"])
    assert list(columns) == ["orders"] and [c.name for c in columns["orders"]] == ["id", "amount", "day"]
    assert hook.table_columns("sales", []) == {}  # nothing asked: nothing sent
    (view,) = hook.materialized_views("sales")
    assert view.name == "per_day" and "sum(amount)" in view.definition
    assert hook.database_exists("sales") and not hook.database_exists("absent")
    assert len(sent()) == 6


def test_the_metadata_statement_and_checksums(hook):
    metadata = hook.database_metadata("sales")
    assert {row[1] for row in metadata.partitions} >= {"orders"}
    count, _ = hook.table_checksum("sales", "orders", ["id", "amount", "day"])
    assert count == 3
