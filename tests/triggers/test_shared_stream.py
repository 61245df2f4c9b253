"""Many deferred waits in one triggerer share one poll per SHOW statement through Airflow's shared streams
(``BaseEventTrigger.shared_stream_key``), run by Airflow's own ``TriggerRunner.run_trigger`` against the emulator
over the MySQL protocol: the query log shows one SHOW per poll whatever the number of triggers, each trigger still
gets its own event, connection errors of the shared poll are retried a bounded number of times before every
subscriber gets an error event, and ``run()`` alone (a triggerer without shared streams) gives the same events."""

from __future__ import annotations

import asyncio
import time

import pytest

from sr_airflow.engine.jobwatch import Backoff
from sr_airflow.testing.triggerer import InProcessTriggerer
from sr_airflow.triggers.job import StarRocksJobTrigger
from sr_airflow.triggers.paced_polls import active_streams
from sr_airflow.triggers.poll_connections import active_pools
from tests.support.trigger_frontend import CONN_ID
from tests.support.waiting import async_wait_until

FAST = {"poll_interval": 0.2, "max_poll_interval": 0.4}
KEY = "sr_airflow.triggers.job.StarRocksJobTrigger"


def trigger(database: str, label: str | None = None, **kwargs) -> StarRocksJobTrigger:
    return StarRocksJobTrigger(starrocks_conn_id=CONN_ID, database=database, label=label, **{**FAST, **kwargs})


def polls_due(backoff: Backoff, seconds: float) -> int:
    """How many polls one watch makes in ``seconds`` by its backoff schedule."""
    moment, interval, count = 0.0, None, 0
    while moment <= seconds:
        count += 1
        interval = backoff.next(interval, moment)
        moment += interval
    return count


def stream_key(database: str) -> tuple[str, ...]:
    return (KEY, CONN_ID, f"SHOW BACKUP FROM `{database}`")


async def polled(database: str) -> None:
    """Until the shared stream of ``SHOW BACKUP FROM database`` has made two polls (its connection is kept)."""
    key = stream_key(database)
    await async_wait_until(lambda: (stream := active_streams().get(key)) is not None and stream.polls >= 2, 30,
                           f"a shared poll of {database}")


def shows(entries: list[dict], statement: str) -> list[dict]:
    return [e for e in entries if e.get("statement") == statement]


@pytest.fixture(scope="module")
def databases(frontend):
    import airflow.jobs.triggerer_job_runner  # noqa: F401 - loaded once here, not inside a test's timed waits

    for name in ("share1", "stagger_db", "ev_ok", "ev_cx", "err_db", "flap_db", "dead_db", "life_db", "alone_db"):
        frontend.create_database(name)
    return frontend


def test_thirty_triggers_on_one_database_send_one_show_per_poll_on_one_connection(databases):
    frontend = databases
    triggers = [trigger("share1", f"never_{i}", absent="wait") for i in range(30)]
    window = 3.0

    async def scenario():
        triggerer = InProcessTriggerer()
        tasks = [triggerer.start(t) for t in triggers]
        await asyncio.sleep(window)  # the behaviour under test: how many polls 30 waits send in this window
        assert not any(task.done() for task in tasks)  # absent="wait": nobody ends
        await triggerer.cancel(tasks)
        return active_streams(), active_pools()

    offset = frontend.log_size()
    started = time.monotonic()
    left = asyncio.run(scenario())
    elapsed = time.monotonic() - started
    entries = frontend.log_since(offset)
    sent = shows(entries, "SHOW BACKUP FROM `share1`")
    due = polls_due(Backoff(0.2, 0.4), elapsed)
    assert 5 <= len(sent) <= due + 1  # one trigger's schedule; 30 triggers polling alone would send 30× that
    assert len({e["connection"] for e in sent}) == 1  # one kept-open connection
    own = [e for e in entries if e["connection"] == sent[0]["connection"]]
    assert len(own) - len(sent) <= 2  # PyMySQL's set-up statements, once for the connection
    assert left == ({}, {})  # the stream and its connections stopped with the last subscriber


def test_triggers_that_start_at_different_times_fall_onto_the_same_polls(databases):
    """Tasks defer one after another, not together: each newcomer starts its backoff afresh, yet it is served by
    the polls the earlier subscribers already asked for."""
    frontend = databases
    count, stagger, window = 20, 0.15, 5.0

    async def scenario():
        triggerer = InProcessTriggerer()
        tasks = []
        for i in range(count):
            tasks.append(triggerer.start(trigger("stagger_db", f"late_{i}", absent="wait")))
            await asyncio.sleep(stagger)  # the behaviour under test: waits that defer one after another
        await asyncio.sleep(window - count * stagger)  # ... and the polls they send over the window
        assert not any(task.done() for task in tasks)
        await triggerer.cancel(tasks)

    offset = frontend.log_size()
    started = time.monotonic()
    asyncio.run(scenario())
    elapsed = time.monotonic() - started
    sent = shows(frontend.log_since(offset), "SHOW BACKUP FROM `stagger_db`")
    alone = sum(polls_due(Backoff(0.2, 0.4), elapsed - i * stagger) for i in range(count))
    # at most each newcomer's first look plus one subscriber's schedule: later looks fall onto shared polls
    print(f"staggered: {len(sent)} SHOWs for {count} triggers; alone they would send {alone}")
    assert len(sent) <= count + polls_due(Backoff(0.2, 0.4), elapsed), (len(sent), alone)
    assert len({e["connection"] for e in sent}) == 1


def test_each_subscriber_gets_its_own_event_from_the_shared_polls(databases):
    frontend = databases
    frontend.set_phase(0.4)  # a backup takes at least 6 × 0.4 s
    try:
        frontend.backup("ev_ok", "ok_1")
        frontend.backup("ev_cx", "cx_1")
        cx_job_id = str(frontend.sql("SHOW BACKUP FROM ev_cx")[-1][0])
        waits = ([trigger("ev_ok", "ok_1") for _ in range(6)]
                 + [trigger("ev_ok", "ghost") for _ in range(3)]
                 + [trigger("ev_ok", job_type="any") for _ in range(2)]
                 + [trigger("ev_cx", "cx_1") for _ in range(5)]
                 + [trigger("ev_cx", job_id=cx_job_id)])

        async def scenario():
            triggerer = InProcessTriggerer()
            tasks = [triggerer.start(t) for t in waits]
            await polled("ev_cx")  # the waits watch the running job before it is cancelled
            await asyncio.to_thread(frontend.sql, "CANCEL BACKUP FROM ev_cx")
            await asyncio.wait_for(asyncio.gather(*tasks), 60)
            return [triggerer.events(task) for task in tasks]

        offset = frontend.log_size()
        started = time.monotonic()
        events = asyncio.run(scenario())
        elapsed = time.monotonic() - started
    finally:
        frontend.set_phase(0.05)
    assert [len(fired) for fired in events] == [1] * len(waits)  # one event each
    events = [fired[0] for fired in events]
    ok, ghost, free, cancelled, by_id = events[:6], events[6:9], events[9:11], events[11:16], events[16]
    assert all((e["status"], e["label"], e["state"]) == ("success", "ok_1", "FINISHED") for e in ok)
    assert all(e["status"] == "error" and e["message"].startswith(
        "No backup job 'ghost' of database 'ev_ok' is shown by StarRocks. It shows a database's latest job only, "
        "here 'ok_1'") for e in ghost)
    assert all(e["status"] == "success" and e["job_type"] == "any" for e in free)
    assert all((e["status"], e["label"], e["state"]) == ("cancelled", "cx_1", "CANCELLED") for e in cancelled)
    assert (by_id["status"], by_id["job_id"], by_id["label"]) == ("cancelled", cx_job_id, "cx_1")
    entries = frontend.log_since(offset)
    due = polls_due(Backoff(0.2, 0.4), elapsed)
    assert 2 <= len(shows(entries, "SHOW BACKUP FROM `ev_cx`")) <= due + 1
    # ev_ok: the backup watches share one stream, the job_type="any" watches another (SHOW BACKUP and SHOW RESTORE)
    assert 2 <= len(shows(entries, "SHOW BACKUP FROM `ev_ok`")) <= 2 * (due + 1)
    assert 1 <= len(shows(entries, "SHOW RESTORE FROM `ev_ok`")) <= due + 1


def test_a_lasting_outage_ends_every_subscriber_with_one_error_after_bounded_retries(databases):
    frontend = databases
    waits = [trigger("err_db", f"x{i}", absent="wait", max_connection_errors=3, poll_interval=0.05,
                     max_poll_interval=0.4) for i in range(8)]

    async def scenario():
        triggerer = InProcessTriggerer()
        tasks = [triggerer.start(t) for t in waits]
        await polled("err_db")
        # the open connection is dropped at its next statement, and new ones are refused for 3 s
        await asyncio.to_thread(frontend.sql,
                                'ADMIN SET FRONTEND CONFIG ("emulator_refuse_connections_seconds" = "3")',
                                'ADMIN SET FRONTEND CONFIG ("emulator_drop_connections" = "1")')
        injected = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        return [triggerer.events(task) for task in tasks], injected

    offset = frontend.log_size()
    events, injected = asyncio.run(scenario())
    elapsed, ended = time.monotonic() - injected, time.time()
    frontend.wait_reachable()
    assert [len(fired) for fired in events] == [1] * 8
    events = [fired[0] for fired in events]
    assert [e["status"] for e in events] == ["error"] * 8
    for i, event in enumerate(events):
        assert event["message"].startswith(f"Could not watch backup job x{i} of database 'err_db': OperationalError")
    assert elapsed < 3.0  # bounded: 3 retries 0.1, 0.2 and 0.4 s apart, not the length of the outage
    faults = [e for e in frontend.log_since(offset) if "fault" in e and e["time"] <= ended]
    assert [f["fault"] for f in faults if f["fault"] == "drop_connection"] == ["drop_connection"]
    refused = [f["time"] for f in faults if f["fault"] == "refuse_connection"]
    # 4 shared polls (the first, whose dead kept connection is replaced once, and 3 retries): 8 triggers polling
    # alone would have been refused at least 32 times
    assert len(refused) == 4
    gaps = [b - a for a, b in zip(refused, refused[1:], strict=False)]
    # the retries double: each gap is at least its delay (0.1, 0.2, 0.4 s); a loaded machine only adds to a gap, so
    # the gaps themselves need not grow (a clean-clone run saw 0.29, 0.23, 0.42)
    assert [round(g, 2) >= 0.1 * 2 ** i for i, g in enumerate(gaps)] == [True] * 3, gaps


def test_a_short_outage_is_retried_and_every_watch_goes_on(databases, capsys):
    frontend = databases
    frontend.set_phase(0.3)
    try:
        # absent="wait" and the job submitted once the polls run: a loaded machine may start the triggers late,
        # and a job that ended before their first poll would leave no poll for the fault to hit
        waits = [trigger("flap_db", "flap_1", absent="wait") for _ in range(5)]

        async def scenario():
            triggerer = InProcessTriggerer()
            tasks = [triggerer.start(t) for t in waits]
            await polled("flap_db")
            await asyncio.to_thread(frontend.backup, "flap_db", "flap_1")
            # the next poll fails on its kept-open connection and on the fresh one it tries at once
            await asyncio.to_thread(frontend.set_fault, "emulator_drop_connections", "2")
            await asyncio.wait_for(asyncio.gather(*tasks), 60)
            return [event for task in tasks for event in triggerer.events(task)]

        offset = frontend.log_size()
        events = asyncio.run(scenario())
    finally:
        frontend.set_phase(0.05)
    assert all((e["status"], e["state"]) == ("success", "FINISHED") for e in events)
    warnings = [line for line in capsys.readouterr().out.splitlines() if "Connection error" in line]
    assert len(warnings) == 5 and all("Connection error 1/5 while watching flap_1" in w for w in warnings)
    drops = [e for e in frontend.log_since(offset) if e.get("fault") == "drop_connection"]
    assert [d["statement_text"] for d in drops] == ["SHOW BACKUP FROM `flap_db`"] * 2


def test_a_dead_kept_connection_is_replaced_at_once_without_costing_a_retry(databases, capsys):
    frontend = databases
    waits = [trigger("dead_db", f"d{i}", absent="wait", max_connection_errors=0) for i in range(3)]

    async def scenario():
        triggerer = InProcessTriggerer()
        tasks = [triggerer.start(t) for t in waits]
        await polled("dead_db")
        await asyncio.to_thread(frontend.set_fault, "emulator_drop_connections", "1")
        await asyncio.sleep(1.0)  # the behaviour under test: no error event comes in this window
        assert not any(task.done() for task in tasks)  # no error event although no retry is allowed
        await triggerer.cancel(tasks)

    offset = frontend.log_size()
    asyncio.run(scenario())
    entries = frontend.log_since(offset)
    assert [e["fault"] for e in entries if "fault" in e] == ["drop_connection"]
    sent = shows(entries, "SHOW BACKUP FROM `dead_db`")
    assert len({e["connection"] for e in sent}) == 2  # the first connection, then its replacement
    assert "Connection error" not in capsys.readouterr().out


def test_the_stream_outlives_cancelled_subscribers_ends_with_the_last_and_runs_again_on_a_new_loop(databases):
    frontend = databases
    key = stream_key("life_db")

    async def scenario(label: str):
        triggerer = InProcessTriggerer()
        staying = [triggerer.start(trigger("life_db", label, absent="wait")) for _ in range(2)]
        leaving = [triggerer.start(trigger("life_db", f"{label}_never", absent="wait")) for _ in range(3)]
        stream = await async_wait_until(lambda: (s := active_streams().get(key)) is not None and s.polls >= 1
                                        and s, 30, "the shared stream's first poll")
        pool = active_pools()[CONN_ID]
        await triggerer.cancel(leaving)
        assert active_streams()[key] is stream and stream.loops == 1
        await asyncio.to_thread(frontend.backup, "life_db", label)
        await asyncio.wait_for(asyncio.gather(*staying), 60)
        assert (active_streams(), active_pools()) == ({}, {})
        assert pool.closed and pool.opened == 1
        return [event for task in staying for event in triggerer.events(task)]

    for label in ("life_1", "life_2"):  # two event loops, one after the other
        events = asyncio.run(scenario(label))
        assert [(e["status"], e["label"]) for e in events] == [("success", label)] * 2


def test_run_alone_polls_for_its_own_and_gives_the_same_events(databases):
    """A triggerer without shared streams (Airflow before 3.3) calls run(): each trigger polls on its own
    schedule, and the events are those of the shared path."""
    frontend = databases
    frontend.set_phase(0.3)
    try:
        frontend.backup("alone_db", "alone_1")
        waits = [trigger("alone_db", "alone_1"), trigger("alone_db", "ghost"), trigger("alone_db", job_type="nonsense")]

        async def scenario():
            async def only_event(trig):
                return [event.payload async for event in trig.run()]

            return await asyncio.wait_for(asyncio.gather(*(only_event(t) for t in waits)), 60), active_streams()

        offset = frontend.log_size()
        events, left = asyncio.run(scenario())
    finally:
        frontend.set_phase(0.05)
    assert [len(fired) for fired in events] == [1, 1, 1]
    ok, ghost, bad = (fired[0] for fired in events)
    assert (ok["status"], ok["label"], ok["state"]) == ("success", "alone_1", "FINISHED")
    assert ghost["status"] == "error" and ghost["message"].startswith(
        "No backup job 'ghost' of database 'alone_db' is shown by StarRocks.")
    assert bad["status"] == "error" and bad["message"].startswith("Could not start watching 'alone_db': job_type must")
    sent = shows(frontend.log_since(offset), "SHOW BACKUP FROM `alone_db`")
    # two schedules of their own on the kept connections of one pool (at most one each when they poll together)
    assert len(sent) >= 3 and len({e["connection"] for e in sent}) <= 2
    assert left == {}


def test_the_shared_stream_key_names_the_class_the_connection_and_the_statements():
    """Triggers share a poll when, and only when, they send the same statements on the same connection; a
    deferred task keeps its queue although BaseEventTrigger turns that off for asset watchers."""
    from airflow.triggers.base import BaseEventTrigger

    backup = StarRocksJobTrigger(starrocks_conn_id="c", database="db", label="a")
    assert isinstance(backup, BaseEventTrigger) and backup.supports_triggerer_queue is True
    assert backup.shared_stream_key() == (KEY, "c", "SHOW BACKUP FROM `db`")
    assert StarRocksJobTrigger(starrocks_conn_id="c", database="db", job_id="7").shared_stream_key() == \
        backup.shared_stream_key()
    assert StarRocksJobTrigger(starrocks_conn_id="c", job_type="any", database="db").shared_stream_key() == \
        (KEY, "c", "SHOW BACKUP FROM `db`", "SHOW RESTORE FROM `db`")
    assert StarRocksJobTrigger(starrocks_conn_id="other", database="db").shared_stream_key() != \
        backup.shared_stream_key()
    # bad arguments share nothing: the triggerer then calls run(), which reports them as the error event
    assert StarRocksJobTrigger(starrocks_conn_id="c", job_type="snapshot").shared_stream_key() is None


def test_kept_poll_connections_read_with_a_timeout(databases):
    """A hung frontend must not stall every watcher of a database for ever: kept connections read with a timeout."""
    from sr_airflow.triggers.poll_connections import POLL_READ_TIMEOUT, PollConnections

    pool = PollConnections(CONN_ID)
    try:
        columns, _ = pool.fetch_now("SHOW BACKUP FROM `share1`")
        assert "JobId" in columns
        (conn,) = pool._idle
        assert conn._read_timeout == POLL_READ_TIMEOUT
    finally:
        pool.close()
