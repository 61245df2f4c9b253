"""Shared polls: the deferred waits of one triggerer that read the same SHOW share one poll of it.

Airflow runs every trigger of a triggerer process in one event loop. Each :class:`StarRocksJobTrigger` used to
poll on its own, so 500 tasks waiting on one database sent 500 ``SHOW BACKUP FROM db`` per round. Here a
module-level registry (one per event loop: tests create new loops) keeps one *feed* per (connection id,
statement) — a statement names its SHOW and its database, or its repository and snapshot label — and every
trigger that needs that statement subscribes to it. A feed is one asyncio task that runs the statement on a
kept-open connection (:mod:`sr_airflow.triggers.poll_connections`) and hands the rows to the subscribers; it
stops, and the connections of its connection id close, when the last subscriber leaves.

Schedule: each subscriber keeps its own backoff. It asks for its next result *due* at a moment of its schedule
and accepts any poll that starts at most half an interval earlier; a feed polls when its earliest request is due
and serves every request it may. Subscribers of one database thus fall onto the same polls, a feed never polls
more often than its most eager subscriber asks, and each subscriber still sees a result at least as often as its
own backoff says (its retries on connection errors keep their pace too). Verdicts stay per subscriber
(``JobWatch.read``): the feed hands out rows, not decisions.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from typing import Any

from sr_airflow.triggers.poll_connections import PollConnections, Result

#: How much earlier than its due moment a subscriber accepts a poll, as a fraction of its current interval.
EARLY_FRACTION = 0.5


@dataclass(frozen=True)
class PollOutcome:
    """One poll as a subscriber sees it: the statement's columns and rows, or the error it raised."""

    result: Result | None = None
    error: BaseException | None = None


class _Feed:
    """One statement of one connection id, polled for every subscriber due."""

    def __init__(self, registry: _Registry, key: tuple[str, str], connections: PollConnections):
        self.registry = registry
        self.key = key
        self.connections = connections
        self.subscribers = 0
        self.polls = 0
        self._requests: dict[asyncio.Future, tuple[float, float]] = {}  # future -> (earliest, due)
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"sr-shared-poll {self.key[1]}")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def request(self, earliest: float, due: float) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self._requests[future] = (earliest, due)
        self._wake.set()
        return future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                for future in [f for f in self._requests if f.done()]:  # cancelled by their subscriber
                    del self._requests[future]
                if not self._requests:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                wait = min(due for _, due in self._requests.values()) - loop.time()
                if wait > 0:
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), wait)
                    except TimeoutError:
                        pass
                    continue
                await self._poll(loop)
        finally:
            stopped = PollOutcome(error=RuntimeError("the shared poll stopped"))
            for future in self._requests:
                if not future.done():
                    future.set_result(stopped)
            self._requests.clear()

    async def _poll(self, loop: asyncio.AbstractEventLoop) -> None:
        started = loop.time()
        served = [f for f, (earliest, _) in self._requests.items() if earliest <= started]
        for future in served:
            del self._requests[future]
        self.polls += 1
        try:
            outcome = PollOutcome(result=await loop.run_in_executor(
                self.connections.executor, self.connections.fetch, self.key[1]))
        except Exception as exc:  # noqa: BLE001 - every subscriber served decides what the error means
            outcome = PollOutcome(error=exc)
        for future in served:
            if not future.done():
                future.set_result(outcome)


class _Registry:
    """The feeds and connection pools of one event loop."""

    def __init__(self) -> None:
        self.feeds: dict[tuple[str, str], _Feed] = {}
        self.connections: dict[str, PollConnections] = {}

    def join(self, conn_id: str, statement: str) -> _Feed:
        key = (conn_id, statement)
        feed = self.feeds.get(key)
        if feed is None:
            connections = self.connections.get(conn_id)
            if connections is None:
                connections = self.connections[conn_id] = PollConnections(conn_id)
            feed = self.feeds[key] = _Feed(self, key, connections)
            feed.start()
        feed.subscribers += 1
        return feed

    def leave(self, feed: _Feed) -> None:
        feed.subscribers -= 1
        if feed.subscribers > 0 or self.feeds.get(feed.key) is not feed:
            return
        del self.feeds[feed.key]
        feed.stop()
        conn_id = feed.key[0]
        if not any(key[0] == conn_id for key in self.feeds):
            connections = self.connections.pop(conn_id, None)
            if connections is not None:
                connections.close()


_registries: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Registry] = weakref.WeakKeyDictionary()


def _registry() -> _Registry:
    loop = asyncio.get_running_loop()
    registry = _registries.get(loop)
    if registry is None:
        registry = _registries[loop] = _Registry()
    return registry


def active_feeds() -> dict[tuple[str, str], Any]:
    """The feeds of the running loop, by (connection id, statement): what is being polled now."""
    return dict(_registry().feeds)


class SharedPoll:
    """A subscription to the feeds of one watch's statements (``async with``; one or two statements).

    ``await poll.fetch(earliest, due)`` returns one :class:`PollOutcome` per statement, from polls that start
    no earlier than ``earliest`` (loop time), as near ``due`` as the feed's other subscribers allow.
    """

    def __init__(self, conn_id: str, statements: list[str]):
        self.conn_id = conn_id
        self.statements = list(statements)
        self._feeds: list[_Feed] = []

    async def __aenter__(self) -> SharedPoll:
        registry = _registry()
        self._feeds = [registry.join(self.conn_id, statement) for statement in self.statements]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        registry = _registry()
        feeds, self._feeds = self._feeds, []
        for feed in feeds:
            registry.leave(feed)

    async def fetch(self, earliest: float, due: float) -> list[PollOutcome]:
        futures = [feed.request(earliest, due) for feed in self._feeds]
        try:
            if len(futures) == 1:
                return [await futures[0]]
            return list(await asyncio.gather(*futures))
        finally:
            for future in futures:
                if not future.done():
                    future.cancel()
