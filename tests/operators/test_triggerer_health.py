"""Whether a triggerer runs, as a task asks it before deferring: the API server's URL from Airflow's settings, and
the answer of ``GET /api/v2/monitor/health`` (a small HTTP server stands in for the API server; the e2e test
asks a real one, tests/e2e/test_assets_and_deferral.py)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sr_airflow.operators.triggerer_health import api_base_url, triggerer_running
from sr_airflow.testing.servers import free_port


class Settings:
    """Airflow's ``conf.get(section, key, fallback=...)`` over a dict."""

    def __init__(self, values: dict[tuple[str, str], str]):
        self.values = values

    def get(self, section: str, key: str, fallback=None):
        return self.values.get((section, key), fallback)


@pytest.mark.parametrize(("values", "expected"), [
    ({("core", "execution_api_server_url"): "http://10.0.0.5:8793/execution/"}, "http://10.0.0.5:8793"),
    ({("core", "execution_api_server_url"): "https://af.example/airflow/execution"}, "https://af.example/airflow"),
    ({("api", "base_url"): "/airflow/"}, "http://localhost:8080/airflow"),
    ({("api", "base_url"): "https://af.example/"}, "https://af.example"),
    ({}, "http://localhost:8080"),
])
def test_the_api_server_is_the_one_the_worker_reaches(values, expected):
    assert api_base_url(Settings(values)) == expected


@pytest.fixture
def health_server():
    """An HTTP server on 127.0.0.1 answering the health path with ``answer["body"]``."""
    answer = {"body": b"{}", "paths": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            answer["paths"].append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer["body"])

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], answer
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("triggerer", "expected"), [
    ({"status": "healthy", "latest_triggerer_heartbeat": "2026-12-07T10:00:00+00:00"}, True),
    ({"status": "unhealthy", "latest_triggerer_heartbeat": "2026-12-07T09:00:00+00:00"}, False),
    ({"status": None, "latest_triggerer_heartbeat": None}, False),  # no triggerer ever ran
])
def test_the_health_answer_says_whether_a_triggerer_runs(health_server, triggerer, expected):
    port, answer = health_server
    answer["body"] = json.dumps({"metadatabase": {"status": "healthy"}, "triggerer": triggerer}).encode()
    settings = Settings({("core", "execution_api_server_url"): f"http://127.0.0.1:{port}/execution/"})
    assert triggerer_running(settings) is expected
    assert answer["paths"] == ["/api/v2/monitor/health"]


def test_no_answer_means_it_cannot_tell(health_server):
    port, answer = health_server
    answer["body"] = b"<html>not json</html>"
    assert triggerer_running(Settings({("core", "execution_api_server_url"): f"http://127.0.0.1:{port}/"})) is None
    nobody = free_port()  # nothing listens there
    assert triggerer_running(Settings({("core", "execution_api_server_url"): f"http://127.0.0.1:{nobody}/"})) is None
