"""Kept-open connections for the polls of one connection id in a triggerer: a few threads, each poll on an idle
connection.

Airflow's shared streams share a poll among the triggers of one stream key (here one SHOW of one database); the
streams of many databases still talk to the same frontend. Opening a connection per poll costs PyMySQL's set-up
statements each time, and a kept connection per stream would hold one per database watched; so the streams of
one connection id lease one small pool (:func:`leased_connections`, one per event loop), closed when the last
leaves. A reused connection that turns out dead (the frontend restarted, an idle timeout) is replaced once at
once, so a stale socket does not cost a watcher one of its retries; the replacement comes from the hook's
``get_conn``, so with a ``hosts`` list it is opened on the next frontend that answers when this one died.
Airflow has no such pool to reuse: a hook opens a connection per ``get_conn``.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, closing
from typing import Any

from sr_airflow.engine.jobwatch import is_connection_error

#: Polls of one connection id that may run at the same time (each on its own connection).
MAX_CONNECTIONS = 4
#: Seconds a kept connection waits for a SHOW's answer (unless the connection's extras say otherwise): a hung
#: frontend then costs every watcher of the database one connection error, not an endless stall.
POLL_READ_TIMEOUT = 60.0

Result = tuple[list[str], list[tuple]]


class PollConnections:
    """Runs SHOW statements for one Airflow connection id on kept-open connections, off the event loop."""

    def __init__(self, conn_id: str, max_connections: int = MAX_CONNECTIONS):
        self.conn_id = conn_id
        self.executor = ThreadPoolExecutor(max_workers=max_connections, thread_name_prefix=f"sr-poll-{conn_id}")
        self._lock = threading.Lock()
        self._idle: list[Any] = []
        self._hook: Any = None
        self._closed = False
        self.opened = 0  # connections opened so far (tests and benchmarks read it)

    async def fetch(self, sql: str) -> Result:
        """Run ``sql`` in a pool thread and return its column names and rows."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, self.fetch_now, sql)

    def fetch_now(self, sql: str) -> Result:
        """Run ``sql`` in the calling thread and return its column names and rows."""
        conn = self._take_idle()
        if conn is None:
            return self._fetch_fresh(sql)
        try:
            result = _run(conn, sql)
        except Exception as exc:
            _close(conn)
            if not is_connection_error(exc):
                raise
            return self._fetch_fresh(sql)  # the kept connection was dead: one try on a new one
        self._release(conn)
        return result

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Close idle connections now, busy ones when their poll ends; stop the threads once idle."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            _close(conn)
        self.executor.shutdown(wait=False, cancel_futures=True)

    def _take_idle(self) -> Any:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def _fetch_fresh(self, sql: str) -> Result:
        try:
            conn = self._open()
        except Exception:
            self._forget_hook()
            raise
        try:
            result = _run(conn, sql)
        except Exception:
            _close(conn)
            self._forget_hook()
            raise
        self._release(conn)
        return result

    def _open(self) -> Any:
        with self._lock:
            if self._hook is None:
                from sr_airflow.hooks.starrocks import StarRocksHook

                self._hook = StarRocksHook(starrocks_conn_id=self.conn_id)
            hook = self._hook
        conn = hook.get_conn(default_read_timeout=POLL_READ_TIMEOUT)
        with self._lock:
            self.opened += 1
        return conn

    def _release(self, conn: Any) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(conn)
                return
        _close(conn)

    def _forget_hook(self) -> None:
        # The next connection looks the Airflow connection up again (its password may have been rotated).
        with self._lock:
            self._hook = None


def _run(conn: Any, sql: str) -> Result:
    with closing(conn.cursor()) as cursor:
        cursor.execute(sql)
        columns = [col[0] for col in cursor.description or ()]
        return columns, list(cursor.fetchall())


def _close(conn: Any) -> None:
    try:
        conn.close()
    except Exception:  # noqa: BLE001 - an already broken connection
        pass


class _Lease:
    def __init__(self, connections: PollConnections) -> None:
        self.connections = connections
        self.holders = 0


_leases: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Lease]] = weakref.WeakKeyDictionary()


def active_pools() -> dict[str, PollConnections]:
    """The pools of the running loop, by connection id: what is leased now."""
    return {conn_id: lease.connections for conn_id, lease in _leases.get(asyncio.get_running_loop(), {}).items()}


@asynccontextmanager
async def leased_connections(conn_id: str) -> AsyncIterator[PollConnections]:
    """The running loop's pool of ``conn_id``, shared with every other holder; closed when the last leaves."""
    loop = asyncio.get_running_loop()
    leases = _leases.setdefault(loop, {})
    lease = leases.get(conn_id)
    if lease is None:
        lease = leases[conn_id] = _Lease(PollConnections(conn_id))
    lease.holders += 1
    try:
        yield lease.connections
    finally:
        lease.holders -= 1
        if lease.holders == 0 and leases.get(conn_id) is lease:
            del leases[conn_id]
            lease.connections.close()
