"""Hints for the BE configuration items that bound a BACKUP's or RESTORE's parallelism. Pure Python.

The seed names four items, read from ``information_schema.be_configs`` (columns BE_ID, NAME, VALUE, TYPE, DEFAULT,
MUTABLE: ``BeConfigsSystemTable.create``, the same at 3.3 1a2f1f5d75, 3.4 afccab88, 3.5 e223275f78). Reading it needs
OPERATE on SYSTEM (``SystemTable.requireOperatePrivilege``, ``ColumnPrivilege.check`` at 3.5). Defaults in
``be/src/common/config.h``: at 3.5 (e223275f78) ``upload_worker_count`` and ``download_worker_count`` are "0" — one
thread per CPU core (``calc_real_num_threads``, ``be/src/agent/agent_server.cpp``), a negative value -n is n threads
per core — and ``make_snapshot_worker_count`` / ``release_snapshot_worker_count`` are "5"; at 3.3 (1a2f1f5d75) upload
and download are "1": one thread per BE moves every file of the job.

"Large" (``LARGE_BYTES``, ``LARGE_PARTITIONS``): a job's data moves through the upload (backup) or download
(restore) pool of each BE, so its size decides how long a small pool takes: at a few hundred MB/s per thread
towards object storage, 100 GiB is minutes on a pool of one thread per core but the better part of an hour on one
thread. Snapshot tasks are made (and, after a failed backup, released) per tablet, and a partition has at least one
tablet per bucket, so the partition count is the floor of the number of snapshot tasks: 1,000 partitions are
thousands of tasks queued on 5 threads per BE. Below both thresholds the defaults do not show.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["BE_CONFIG_ITEMS", "LARGE_BYTES", "LARGE_PARTITIONS", "be_configs_query", "large_job_reason",
           "parse_be_configs", "tuning_hints"]

BE_CONFIG_ITEMS = ("upload_worker_count", "download_worker_count", "make_snapshot_worker_count",
                   "release_snapshot_worker_count")
LARGE_BYTES = 100 * 1024**3
LARGE_PARTITIONS = 1000
FEW_TRANSFER_THREADS = 4  # a fixed upload/download pool below this is slow for a large job
SNAPSHOT_DEFAULT = 5


def be_configs_query() -> str:
    names = ", ".join(f"'{n}'" for n in BE_CONFIG_ITEMS)  # constants, not user text
    return ("SELECT BE_ID, NAME, VALUE FROM information_schema.be_configs "  # noqa: S608
            f"WHERE NAME IN ({names}) ORDER BY BE_ID, NAME")


def parse_be_configs(rows: Sequence[Sequence[object]]) -> dict[str, dict[int, int]]:
    """``{item: {be_id: value}}``; a value that is not an integer is left out."""
    out: dict[str, dict[int, int]] = {}
    for be_id, name, value in rows:
        try:
            out.setdefault(str(name), {})[int(str(be_id))] = int(str(value).strip())
        except ValueError:
            continue
    return out


def large_job_reason(*, partitions: int, data_bytes: int, large_partitions: int = LARGE_PARTITIONS,
                     large_bytes: int = LARGE_BYTES) -> str | None:
    """Why the job counts as large (see the module's docstring), or None."""
    reasons = []
    if data_bytes >= large_bytes:
        reasons.append(f"{data_bytes / 1024**3:.1f} GiB")
    if partitions >= large_partitions:
        reasons.append(f"{partitions} partition(s)")
    return " and ".join(reasons) or None


def _fixed_below(values: dict[int, int], limit: int) -> dict[int, int]:
    """The BEs whose pool is a fixed number of threads (value > 0) below ``limit``."""
    return {be: v for be, v in values.items() if 0 < v < limit}


def _bes(values: dict[int, int]) -> str:
    distinct = sorted(set(values.values()))
    ids = ", ".join(str(b) for b in sorted(values))
    return f"{distinct[0] if len(distinct) == 1 else distinct} on BE {ids}"


def tuning_hints(configs: dict[str, dict[int, int]], *, job: str, partitions: int, data_bytes: int,
                 large_partitions: int = LARGE_PARTITIONS, large_bytes: int = LARGE_BYTES) -> list[str]:
    """One sentence per item whose value will make this job slow; none when the job is not large.

    ``job`` is "backup" (upload, make and release snapshot pools) or "restore" (download pool).
    """
    why = large_job_reason(partitions=partitions, data_bytes=data_bytes, large_partitions=large_partitions,
                           large_bytes=large_bytes)
    if why is None:
        return []
    hints = []
    transfer = "upload_worker_count" if job == "backup" else "download_worker_count"
    few = _fixed_below(configs.get(transfer, {}), FEW_TRANSFER_THREADS)
    if few and data_bytes >= large_bytes:
        hints.append(f"{transfer} is {_bes(few)}: every file of this {job} ({why}) moves through that many threads "
                     f"per BE; raise it (0 = one thread per CPU core from 3.4, -n = n per core) on each BE.")
    if job == "backup" and partitions >= large_partitions:
        for item, tasks in (("make_snapshot_worker_count", "makes one snapshot task per tablet"),
                            ("release_snapshot_worker_count", "releases one snapshot per tablet if it fails")):
            low = _fixed_below(configs.get(item, {}), SNAPSHOT_DEFAULT + 1)
            if low:
                hints.append(f"{item} is {_bes(low)}: this backup ({why}) {tasks}, queued on that many threads "
                             "per BE; raise it (e.g. to the BE's CPU cores).")
    return hints
