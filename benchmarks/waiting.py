"""5. Waiting cost: 1, 50 and 500 deferred waits in one triggerer process.

``StarRocksJobTrigger`` instances run in one asyncio loop as Airflow's triggerer runs them (``async for event in
trigger.run()``), with the default backoff (2 s doubling to 60 s), each waiting for a BACKUP job on an emulator.
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
    async def one(trigger) -> dict | None:
        async for event in trigger.run():
            return event.payload
        return None

    tasks = [asyncio.create_task(one(t)) for t in triggers]
    await asyncio.sleep(window)
    ended = sum(1 for t in tasks if t.done())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return ended


def measure(emulator, databases: list[str], window: float) -> dict:
    from sr_airflow.triggers.job import StarRocksJobTrigger

    triggers = [StarRocksJobTrigger(starrocks_conn_id=CONN_ID, kind="backup", database=db,
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
    due, moment, interval = 0, 0.0, 2.0  # polls one trigger is due to make in the window: at 0, 2, 6, 14, 30 s...
    while moment < window:
        due, moment, interval = due + 1, moment + interval, min(interval * 2, 60.0)
    section.notes.append("Statements per poll, by kind (1 trigger): " + ", ".join(
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
        section.notes.append(f"{n} trigger(s) on {where}: {r['shows']} SHOW statements ({n * due} polls due by "
                             f"the backoff schedule) and {r['statements']} "
                             f"statements in all from {r['connections']} connections in {r['wall']:.0f} s; "
                             f"{r['cpu']:.2f} CPU s; {r['ended']} trigger(s) ended early (should be 0).")
    section.sizes = [f"{', '.join(str(n) for n in counts)} triggers", f"a {window:.0f} s window each (the first "
                     "polls of the backoff: at 0, 2, 6, 14 and 30 s, then every 60 s)",
                     f"{max(counts)} empty databases on one emulator"]
    section.method = [__doc__.split("\n\n", 1)[1].replace("\n", " ").strip()]
    n = max(counts)
    same = results[("same", n)]
    if same["shows"] < 0.8 * n * due:
        section.notes.append(
            f"With {n} triggers the polls fall behind their schedule ({same['shows']} of {n * due} due): each poll "
            "opens a new connection and runs in the event loop's default thread pool (a few threads), so the "
            "triggerer itself becomes the bottleneck; shared polls would remove most of that work.")
    if same["per_minute"] > 2 * single["per_minute"]:
        section.close.append(
            f"{n} triggers watching one database sent {same['per_minute']:.0f} SHOW statements a minute, "
            f"{same['per_minute'] / single['per_minute']:.0f}× one trigger's: StarRocksJobTrigger polls on its "
            "own (one connection and one SHOW BACKUP per trigger per poll); nothing shares a poll between "
            "watchers of the same database. Closing it: a per-process poller keyed by (connection id, database, "
            "kind) that the triggers of that database subscribe to (a module-level registry of asyncio tasks in "
            "the triggerer), answering every watcher from one SHOW BACKUP / SHOW RESTORE; and one kept-open "
            "connection per connection id instead of a new connection per poll.")
    return section
