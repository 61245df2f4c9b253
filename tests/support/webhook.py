"""A local HTTP server that keeps what is POSTed to it, and an Airflow notifier that POSTs its message there: the
alert tests' stand-in for Slack or a webhook (a real ``BaseNotifier``, called by Airflow as any other)."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from airflow.sdk import BaseNotifier


class WebhookNotifier(BaseNotifier):
    """POST ``{"text", "alert"}`` as JSON to ``url``; ``text`` is a template (e.g. ``{{ sr_alert.message }}``)."""

    template_fields = ("url", "text")

    def __init__(self, *, url: str, text: str = "{{ sr_alert.message }}", token: str | None = None):
        super().__init__()
        self.url = url
        self.text = text
        self.token = token

    def notify(self, context: Any) -> None:
        alert = context.get("sr_alert") or {}
        body = json.dumps({"text": self.text, "kind": alert.get("kind"), "title": alert.get("title")}).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a test URL on 127.0.0.1
            response.read()


class WebhookServer:
    """``ThreadingHTTPServer`` on 127.0.0.1 keeping each POST (path, headers, JSON body); stopped on exit."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(data)})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
