"""A UDP socket on 127.0.0.1 that receives StatsD lines, and Airflow's metrics pointed at it.

Airflow's task runner creates its metrics backend from ``[metrics]`` when a worker starts
(``airflow/sdk/execution_time/task_runner.py`` ``main``: ``stats.initialize(factory=get_stats_factory(), ...)``);
``dag.test()`` runs tasks in the test process and never calls it, so ``configure_airflow`` does what ``main`` does,
after setting ``[metrics]`` through the environment, and puts the no-op backend back afterwards.
"""

from __future__ import annotations

import socket


class StatsdListener:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.lines: list[str] = []

    def __enter__(self) -> StatsdListener:
        return self

    def __exit__(self, *exc_info: object) -> None:
        from airflow.sdk._shared.observability.metrics.base_stats_logger import NoStatsLogger
        from airflow.sdk.observability import stats

        stats.initialize(factory=NoStatsLogger, export_legacy_names=True)
        self.sock.close()

    def configure_airflow(self, monkeypatch, *, legacy_names: bool = True) -> None:
        from airflow.sdk.observability import stats
        from airflow.sdk.observability.metrics import stats_utils

        monkeypatch.setenv("AIRFLOW__METRICS__STATSD_ON", "True")
        monkeypatch.setenv("AIRFLOW__METRICS__STATSD_HOST", "127.0.0.1")
        monkeypatch.setenv("AIRFLOW__METRICS__STATSD_PORT", str(self.port))
        monkeypatch.setenv("AIRFLOW__METRICS__STATSD_PREFIX", "airflow")
        monkeypatch.setenv("AIRFLOW__METRICS__LEGACY_NAMES_ON", str(legacy_names))
        stats.initialize(factory=stats_utils.get_stats_factory(), export_legacy_names=legacy_names)

    def receive(self) -> list[str]:
        """Every line received so far. A datagram sent to 127.0.0.1 is queued on this socket before ``sendto``
        returns, so what the tasks sent is all here once ``dag.test()`` returns: nothing to wait for."""
        while True:
            try:
                data = self.sock.recv(65535)
            except BlockingIOError:
                return list(self.lines)
            self.lines += [line for line in data.decode().splitlines() if line]

    def values(self, name: str) -> list[tuple[float, str]]:
        """(value, type) of every line for metric ``name`` (prefix included), in arrival order."""
        out = []
        for line in self.receive():
            metric, _, rest = line.partition(":")
            if metric == name:
                value, _, kind = rest.partition("|")
                out.append((float(value), kind.split("|")[0]))
        return out
