"""The poll loop behind a shared stream of :class:`~sr_airflow.triggers.job.StarRocksJobTrigger`, paced by what its
subscribers ask for.

Airflow 3.3's triggerer runs one ``open_shared_stream`` per stream key and hands every raw event it yields to
every subscribed trigger (``airflow/triggers/shared_stream.py``: ``_SharedStreamGroup._poll``); it owns the
group, its subscribers and its end. What it cannot tell the poll is *when* its subscribers want a look:
``open_shared_stream(cls, kwargs)`` receives the keyword arguments of one trigger of the group, and a
subscriber only reads the stream (``filter_shared_stream``). Each waiting trigger keeps its own backoff (every
2 s at first, later up to a minute), so a poll paced by the first trigger's kwargs would either hammer the
frontend for a six-hour job or make a task that just deferred wait a minute for its first look. Hence the one
part kept here: :class:`PollRequests`, where each subscriber asks for its next poll (no earlier than
``earliest``, by ``due``), and the loop polls when the earliest ``due`` arrives. A subscriber takes a poll that
starts at or after its ``earliest`` as its own; a poll it did not ask for can only end its wait early. After one
poll, waits of the same backoff stage ask for the same moment, so a stream polls as often as its most eager
subscriber asks, not once per subscriber.

A request is one-shot: the poll that serves it removes it, so a subscriber that vanished without withdrawing
costs one poll at most. The same loop serves :meth:`StarRocksJobTrigger.run` on its own (no sharing: older
Airflow, or a key the triggerer does not share) under a private key.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import AsyncIterator, Hashable, Sequence
from dataclasses import dataclass

from sr_airflow.triggers.poll_connections import Result, leased_connections

#: How much earlier than its due moment a subscriber accepts a poll, as a fraction of its current interval.
EARLY_FRACTION = 0.5


@dataclass(frozen=True)
class Poll:
    """One poll of a stream's statements, as every subscriber receives it: when it started (loop time), and the
    columns and rows of each statement, or the error the poll raised."""

    started: float
    results: list[Result] | None = None
    error: BaseException | None = None


class PollRequests:
    """When the subscribers of one stream want their next poll: ``token -> (earliest, due)``, loop times."""

    def __init__(self) -> None:
        self._wanted: dict[object, tuple[float, float]] = {}
        self._changed = asyncio.Event()
        # The moment the loop sleeps until: only a request due before it wakes the loop (with hundreds of
        # subscribers asking after each poll, waking for every request would cost a scan of all per request).
        self._sleeping_until = math.inf
        self.loops = 0  # poll loops reading these requests (one; two while a stopped group's loop ends)
        self.polls = 0  # polls made so far (tests and benchmarks read it)

    def ask(self, token: object, earliest: float, due: float) -> None:
        self._wanted[token] = (earliest, due)
        if due < self._sleeping_until:
            self._changed.set()

    def withdraw(self, token: object) -> None:
        # No wake-up: the loop looks again when its moment comes, and polls only if a request is still due.
        self._wanted.pop(token, None)

    @property
    def waiting(self) -> int:
        return len(self._wanted)

    def served(self, started: float) -> None:
        """Remove the requests a poll that started at ``started`` answered."""
        for token in [t for t, (earliest, _) in self._wanted.items() if earliest <= started]:
            del self._wanted[token]

    async def next_due(self) -> None:
        """Return when the earliest request is due."""
        loop = asyncio.get_running_loop()
        while True:
            self._changed.clear()
            if not self._wanted:
                self._sleeping_until = math.inf
                await self._changed.wait()
                continue
            self._sleeping_until = min(due for _, due in self._wanted.values())
            wait = self._sleeping_until - loop.time()
            if wait <= 0:
                self._sleeping_until = -math.inf  # polling: requests wait for the next call
                return
            # Not asyncio.wait_for: on Python 3.11 it swallows a cancellation that arrives as the event is set
            # (a request coming in just as Airflow stops the stream), and the stopped stream would hang.
            changed = loop.create_task(self._changed.wait())
            try:
                done, _ = await asyncio.wait({changed}, timeout=wait)
            finally:
                changed.cancel()
            if not done:
                self._sleeping_until = -math.inf
                return


# One registry per event loop: tests and benchmarks run several loops one after the other.
_registries: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, PollRequests]] = \
    weakref.WeakKeyDictionary()


def _registry() -> dict[Hashable, PollRequests]:
    loop = asyncio.get_running_loop()
    registry = _registries.get(loop)
    if registry is None:
        registry = _registries[loop] = {}
    return registry


def requests_for(key: Hashable) -> PollRequests:
    """The requests of stream ``key`` in the running loop (created on first use)."""
    registry = _registry()
    requests = registry.get(key)
    if requests is None:
        requests = registry[key] = PollRequests()
    return requests


def release(key: Hashable, requests: PollRequests, registry: dict[Hashable, PollRequests] | None = None) -> None:
    """Forget ``requests`` once no loop reads them and nobody waits on them."""
    registry = _registry() if registry is None else registry
    if requests.loops == 0 and not requests.waiting and registry.get(key) is requests:
        del registry[key]


def active_streams() -> dict[Hashable, PollRequests]:
    """The streams of the running loop with a poll loop or a waiting subscriber, by key."""
    return dict(_registry())


async def paced_polls(key: Hashable, conn_id: str, statements: Sequence[str]) -> AsyncIterator[Poll]:
    """Poll ``statements`` on connection ``conn_id`` whenever a request of stream ``key`` is due; yield each poll.

    Never ends on its own and never raises (a failed poll is a :class:`Poll` with its error): Airflow ends a
    shared stream by cancelling it when its last subscriber leaves.
    """
    loop = asyncio.get_running_loop()
    registry = _registry()
    requests = requests_for(key)
    requests.loops += 1
    try:
        async with leased_connections(conn_id) as connections:
            while True:
                await requests.next_due()
                started = loop.time()
                requests.polls += 1
                try:
                    results = [await connections.fetch(statement) for statement in statements]
                    poll = Poll(started, results=results)
                except Exception as exc:  # noqa: BLE001 - each subscriber decides what the error means to it
                    poll = Poll(started, error=exc)
                yield poll
                # Removed only once the poll is handed out: a loop cancelled mid-poll (its group stopped) leaves
                # the requests to the loop that replaces it.
                requests.served(started)
    finally:
        requests.loops -= 1
        release(key, requests, registry)
