"""Whether a triggerer runs: asked of the API server the worker already talks to, before a task defers.

A deferred task waits for a triggerer to run its trigger; with none running it would wait until its timeout. The
API server's public ``GET /api/v2/monitor/health`` reports the newest triggerer job and whether its heartbeat is
recent (``airflow/api/common/airflow_health.py``, ``get_airflow_health``: ``triggerer.status`` is ``healthy``,
``unhealthy``, or null when no triggerer ever ran). The API server is the one of ``[core]
execution_api_server_url``, which the worker reaches anyway (Airflow's own default when unset: ``[api] base_url``,
else ``http://localhost:8080``; ``airflow/executors/base_executor.py``, ``get_execution_api_server_url``).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

HEALTH_PATH = "/api/v2/monitor/health"
EXECUTION_PATH = "/execution"


def api_base_url(conf) -> str:
    """The API server's base URL as a worker reaches it."""
    execution = conf.get("core", "execution_api_server_url", fallback=None)
    if execution:
        parts = urlsplit(execution)
        path = parts.path.rstrip("/")
        if path.endswith(EXECUTION_PATH):
            path = path[: -len(EXECUTION_PATH)]
        return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    base = conf.get("api", "base_url", fallback="/") or "/"
    if base.startswith("/"):
        base = f"http://localhost:8080{base}"
    return base.rstrip("/")


def triggerer_running(conf, *, timeout: float = 5.0) -> bool | None:
    """True when the API server reports a triggerer with a recent heartbeat, False when it reports none (or a
    stale one), None when it cannot be asked (no answer, an error, an unexpected body)."""
    import httpx

    try:
        response = httpx.get(api_base_url(conf) + HEALTH_PATH, timeout=timeout)
        response.raise_for_status()
        triggerer = response.json().get("triggerer")
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    if not isinstance(triggerer, dict):
        return None
    return triggerer.get("status") == "healthy"
