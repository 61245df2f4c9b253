"""An HTTP proxy in front of a storage server (S3, the GCS emulator or the WebHDFS server) that answers chosen
requests with that API's own 500 / 503 / 429 error or drops the connection: real storage faults for the
reliability tests."""

from __future__ import annotations

import http.client
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.tcp_proxy import reset_connection

FAULTS = {  # name: (HTTP status, the S3 error code, message)
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "503-slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "503": (503, "ServiceUnavailable", "Service is unable to handle request."),
    "429": (429, "TooManyRequests", "Too many requests, please slow down."),
    # WebHDFS: what a NameNode answers during a failover and in safe mode
    "503-standby": (503, "StandbyException", "Operation category READ is not supported in state standby."),
    "503-retriable": (503, "RetriableException", "NameNode still not started / in safe mode."),
}
_GCS_REASONS = {500: "backendError", 503: "backendError", 429: "rateLimitExceeded"}


def error_body(flavour: str, fault: str) -> tuple[str, bytes]:
    """The content type and body a server of ``flavour`` (s3, gcs, webhdfs) sends with ``fault``."""
    status, code, message = FAULTS[fault]
    if flavour == "gcs":
        return "application/json", json.dumps({"error": {"code": status, "message": message, "errors": [
            {"reason": _GCS_REASONS[status], "message": message, "domain": "global"}]}}).encode()
    if flavour == "webhdfs":
        if fault.startswith("503-"):
            return "application/json", json.dumps({"RemoteException": {
                "exception": code, "javaClassName": f"org.apache.hadoop.ipc.{code}", "message": message}}).encode()
        return "text/html", f"<html><body><h1>{status} {message}</h1></body></html>".encode()  # a gateway's page
    return "application/xml", (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                               f"<Message>{message}</Message></Error>").encode()


@dataclass
class FaultRule:
    """Answer the next ``times`` requests matching ``method`` and ``path_contains`` with ``fault`` (a key of
    FAULTS, or ``drop``: close the connection without an answer)."""

    fault: str
    method: str | None = None
    path_contains: str = ""
    query_contains: str = ""
    times: int = 1
    after: int = 0  # let this many matching requests through first
    seen: int = 0
    hits: int = 0  # requests this rule answered with its fault


@dataclass
class S3FaultProxy:
    """Forwards HTTP to ``target``; requests matching a rule get its fault instead. Redirects the server sends
    to its own address (WebHDFS sends the data step to a "datanode") are rewritten to come back through here."""

    target: str
    flavour: str = "s3"
    rules: list[FaultRule] = field(default_factory=list)
    injected: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def start(self) -> S3FaultProxy:
        proxy = self
        host, port = self.target.rsplit("//", 1)[1].rstrip("/").split(":")

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = _read_chunked(self.rfile)
                proxy.requests.append((self.command, self.path))
                fault = proxy._fault_for(self.command, self.path)
                if fault == "drop":
                    self.close_connection = True
                    reset_connection(self.connection)
                    return
                if fault:
                    content_type, payload = error_body(proxy.flavour, fault)
                    self.send_response(FAULTS[fault][0])
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("transfer-encoding",)}
                headers["Content-Length"] = str(len(body))
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    answer = conn.getresponse()
                    data = answer.read()
                finally:
                    conn.close()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() == "location":
                        value = value.replace(f"//{host}:{port}", f"//127.0.0.1:{proxy.server.server_address[1]}")
                    if key.lower() not in ("transfer-encoding", "content-length", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _fault_for(self, method: str, path: str) -> str | None:
        route, _, query = path.partition("?")
        for rule in self.rules:
            if rule.method and rule.method != method:
                continue
            if rule.path_contains not in route or rule.query_contains not in query:
                continue
            rule.seen += 1
            if rule.seen <= rule.after or rule.seen > rule.after + rule.times:
                continue
            rule.hits += 1
            self.injected[rule.fault] = self.injected.get(rule.fault, 0) + 1
            return rule.fault
        return None

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _read_chunked(rfile) -> bytes:
    out = b""
    while True:
        size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return out
        out += rfile.read(size)
        rfile.readline()

