"""`--standby`: a second frontend on the leader's data directory that takes over when the leader dies.

StarRocks (3.5 e223275f78): a follower replays the leader's journal as it is written; ``BackupHandler.replayAddJob``
keeps every BACKUP / RESTORE job in ``dbIdToBackupOrRestoreJob`` in its logged state (``BackupJob.replayRun`` does
nothing, "Backup process does not change any current globalStateMgr state"; ``RestoreJob.replayRun`` re-applies the
catalog side of DOWNLOAD and FINISHED). When the follower becomes leader, ``GlobalStateMgr.transferToLeader`` calls
``startLeaderOnlyDaemonThreads``, which starts the ``BackupHandler`` daemon; its ``runAfterCatalogReady`` calls
``job.run()`` for each job, and ``BackupJob.run`` / ``RestoreJob.run`` carry on from the job's logged state (the
old leader's agent tasks are gone with it: the state's tasks are sent again). The job keeps its id and label:
nothing is submitted twice.

The emulator's journal is its data directory (``metastore.json`` + its journal, ``data.duckdb``), which DuckDB locks
to one process. A standby waits, not listening, until that lock is free (the leader died: the kernel releases a
killed process's locks), then loads the directory as a restarted process does (``Cluster.resume_jobs``: each
unfinished job goes on from its persisted state) and starts listening on its own port.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb

#: Seconds between two tries of the data directory's lock.
LOCK_POLL_SECONDS = 0.05


def data_dir_free(data_dir: Path) -> bool:
    """Whether no other process holds the data directory (DuckDB's file lock on data.duckdb)."""
    try:
        duckdb.connect(str(Path(data_dir) / "data.duckdb")).close()
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            return False
        raise
    return True


def wait_for_leadership(data_dir: Path) -> None:
    """Block until the leader has let the data directory go (it has no deadline: a standby waits for as long as
    the leader lives; SIGTERM stops it)."""
    print(f"sr-airflow emulator standing by on {data_dir} (until its leader stops)", flush=True)
    while not data_dir_free(data_dir):
        time.sleep(LOCK_POLL_SECONDS)
    print("sr-airflow emulator taking over as leader", file=sys.stderr, flush=True)
