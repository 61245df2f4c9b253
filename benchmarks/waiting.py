"""5. Waiting cost: 1, 50 and 500 deferred waits in one triggerer process.

``StarRocksJobTrigger`` instances run in one asyncio loop by Airflow's own ``TriggerRunner.run_trigger`` (the
triggerer's; its shared streams then give the triggers watching one SHOW statement one poll), with the default
backoff (2 s doubling to 60 s, never more than 10% of the time waited so far), each waiting for a BACKUP job on
an emulator.
Every trigger waits for a label that is never submitted with ``absent="wait"``, so each poll is exactly the
``SHOW BACKUP FROM <db>`` a running job costs, for as long as the window lasts. Measured over the window: CPU
seconds of the triggerer process (threads included) and the statements the frontend received (its query log),
once with every trigger watching the same database and once with each watching its own database.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.common import QueryLog, Section

NAME = "waiting"
TITLE = "Waiting cost of deferred tasks"
CONN_ID = "starrocks_bench"


async def _watch(triggers: list, window: float) -> int:
    from sr_airflow.testing.triggerer import InProcessTriggerer

    triggerer = InProcessTriggerer()
    tasks = [triggerer.start(t) for t in triggers]
    await asyncio.sleep(window)
    ended = sum(1 for t in tasks if t.done())
    await triggerer.cancel(tasks)
    return ended


def measure(emulator, databases: list[str], window: float) -> dict:
    from sr_airflow.triggers.job import StarRocksJobTrigger

    triggers = [StarRocksJobTrigger(starrocks_conn_id=CONN_ID, job_type="backup", database=db,
                                    label=f"never_submitted_{i}", absent="wait")
                for i, db in enumerate(databases)]
    log = QueryLog(emulator.query_log)
    log.mark()
    cpu, wall = time.process_time(), time.perf_counter()
    ended = asyncio.run(_watch(triggers, window))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    time.sleep(0.5)  # let the query log catch up
    entries = log.since_mark()
    shows = sum(1 for e in entries if e["statement"].lstrip().upper().startswith("SHOW"))
    kinds = Counter(" ".join(e["statement"].split()[:2])[:40] for e in entries)
    return {"cpu": cpu, "wall": wall, "statements": len(entries), "shows": shows, "kinds": dict(kinds),
            "connections": len({e.get("connection") for e in entries}), "ended": ended,
            "per_minute": shows * 60 / wall, "cpu_per_minute": cpu * 60 / wall}


def polls_due(window: float) -> int:
    """Polls one trigger makes in ``window`` seconds by its default backoff schedule."""
    from sr_airflow.engine.jobwatch import Backoff

    backoff, count, moment, interval = Backoff(), 0, 0.0, None
    while moment < window:
        count += 1
        interval = backoff.next(interval, moment)
        moment += interval
    return count


def run(quick: bool = False) -> Section:
    from sr_airflow.testing.emulator.process import EmulatorServer

    section = Section(NAME, TITLE)
    counts = (1, 5, 20) if quick else (1, 50, 500)
    window = 8.0 if quick else 31.0
    home = Path(tempfile.mkdtemp(prefix="sr-bench-wait-"))
    os.environ.setdefault("AIRFLOW_HOME", str(home / "airflow"))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    with EmulatorServer(home / "emulator", min_phase_seconds=0) as emulator:
        os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = f"starrocks://root:@127.0.0.1:{emulator.port}/"
        conn = emulator.connect()
        with conn.cursor() as cursor:
            for i in range(max(counts)):
                cursor.execute(f"CREATE DATABASE w_{i:03d}")
        conn.close()
        measure(emulator, ["w_000"], 3.0)  # warm-up: the hook, PyMySQL and connection lookup imported once
        results: dict[tuple[str, int], dict] = {}
        for n in counts:
            results[("same", n)] = measure(emulator, ["w_000"] * n, window)
            if n > 1:
                results[("distinct", n)] = measure(emulator, [f"w_{i:03d}" for i in range(n)], window)
    single = results[("same", 1)]
    due = polls_due(window)
    section.notes.append("Statements in the window, by kind (1 trigger): " + ", ".join(
        f"`{k}` {v}" for k, v in sorted(single["kinds"].items())) + ".")
    for (mode, n), r in results.items():
        where = "the same database" if mode == "same" or n == 1 else f"{n} databases"
        row = section.add(f"SHOW statements per minute reaching the frontend, {n} trigger(s) on {where}",
                          r["per_minute"], "/min", "1 trigger", single["per_minute"],
                          target="≈ 1 trigger's (one shared poll per database)" if mode == "same" and n > 1
                          else "")
        if n > 1 and mode == "same":
            row.met = r["per_minute"] <= 2 * single["per_minute"]
        section.add(f"triggerer CPU seconds per minute, {n} trigger(s) on {where}", r["cpu_per_minute"], "s/min",
                    "1 trigger", single["cpu_per_minute"])
        polls = due if mode == "same" else n * due
        section.notes.append(f"{n} trigger(s) on {where}: {r['shows']} SHOW statements ({polls} polls due "
                             f"by the backoff schedule) and {r['statements']} "
                             f"statements in all from {r['connections']} connections in {r['wall']:.0f} s; "
                             f"{r['cpu']:.2f} CPU s; {r['ended']} trigger(s) ended early (should be 0).")
    section.sizes = [f"{', '.join(str(n) for n in counts)} triggers", f"a {window:.0f} s window each ({due} polls "
                     "of the backoff: every 2 s for 20 s, then 10% of the time waited)",
                     f"{max(counts)} empty databases on one emulator"]
    section.method = [__doc__.split("\n\n", 1)[1].replace("\n", " ").strip()]
    n = max(counts)
    same, distinct = results[("same", n)], results[("distinct", n)]
    section.notes.append(
        "The triggers share Airflow's shared streams (`BaseEventTrigger.shared_stream_key`: the connection and the "
        "SHOW statement): the triggerer runs one `open_shared_stream` per key and hands each poll to every "
        "trigger's `filter_shared_stream`. The poll is paced by what its subscribers ask for "
        "(`sr_airflow/triggers/paced_polls.py`: each keeps its own backoff and its own verdict) and runs on a "
        "kept-open connection of its connection id (`sr_airflow/triggers/poll_connections.py`). Statements "
        "therefore grow with the databases watched, not with the tasks.")
    if distinct["shows"] < 0.8 * n * due:
        section.notes.append(
            f"With {n} databases the polls fall behind their schedule ({distinct['shows']} of {n * due} due): each "
            "database is its own SHOW, run on at most 4 kept-open connections per connection id, and the emulator "
            "(one Python process on the same 2 cores) answers them one by one.")
    if same["per_minute"] > 2 * single["per_minute"]:
        section.close.append(
            f"{n} triggers watching one database sent {same['per_minute']:.0f} SHOW statements a minute, "
            f"{same['per_minute'] / single['per_minute']:.0f}× one trigger's, although they share one poll: the "
            "shared poll did not merge their schedules.")
    return section
