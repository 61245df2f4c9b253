"""A small WebHDFS server over a local directory. A TEST DOUBLE, not HDFS: no NameNode, no replication, no auth.

It answers the WebHDFS REST calls that HdfsCLI (the ``hdfs`` package, used by Airflow's WebHDFSHook) and fsspec's
webhdfs make: MKDIRS, CREATE and APPEND (with the 307 redirect to a "datanode", here the same server), OPEN,
LISTSTATUS, GETFILESTATUS, DELETE (recursive or not) and RENAME. Like a NameNode with simple authentication, it
takes the caller's name from the ``user.name`` query parameter and shows it as the owner of what that call created
(``dr.who``, Hadoop's ``hadoop.http.staticuser.user`` default, when none is given). Run it as
``python -m sr_airflow.testing.webhdfs --host 127.0.0.1 --port P --root DIR`` or through ``WebHdfsServer``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from sr_airflow.testing.servers import ServerProcess, free_port

PREFIX = "/webhdfs/v1"
ANONYMOUS_USER = "dr.who"


class _Handler(BaseHTTPRequestHandler):
    root: Path
    owners: dict[Path, str]  # who created each path (this process's memory: the double keeps no metadata on disk)
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    # ---- helpers ----
    def _parse(self):
        parts = urlsplit(self.path)
        if not parts.path.startswith(PREFIX):
            return None, None, {}
        hdfs_path = "/" + parts.path[len(PREFIX):].strip("/")
        query = {k.lower(): v[-1] for k, v in parse_qs(parts.query).items()}
        local = (self.root / hdfs_path.lstrip("/")).resolve()
        if local != self.root and self.root not in local.parents:
            return hdfs_path, None, query
        return hdfs_path, local, query

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, code: int, payload: dict | bytes | None = None, headers: dict | None = None) -> None:
        data = payload if isinstance(payload, bytes) else (json.dumps(payload).encode() if payload is not None
                                                            else b"")
        self.send_response(code)
        ctype = "application/octet-stream" if isinstance(payload, bytes) else "application/json"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, code: int, exception: str, message: str) -> None:
        self._send(code, {"RemoteException": {"exception": exception, "javaClassName": f"java.io.{exception}",
                                              "message": message}})

    def _not_found(self, hdfs_path: str) -> None:
        self._error(404, "FileNotFoundException", f"File does not exist: {hdfs_path}")

    def _status(self, local: Path, suffix: str) -> dict:
        st = local.stat()
        is_dir = local.is_dir()
        return {"pathSuffix": suffix, "type": "DIRECTORY" if is_dir else "FILE", "length": 0 if is_dir else st.st_size,
                "owner": self.owners.get(local, ANONYMOUS_USER), "group": "supergroup",
                "permission": "755" if is_dir else "644",
                "accessTime": int(st.st_atime * 1000), "modificationTime": int(st.st_mtime * 1000),
                "blockSize": 134217728, "replication": 0 if is_dir else 1, "fileId": st.st_ino, "childrenNum":
                len(list(local.iterdir())) if is_dir else 0}

    def _redirect(self) -> None:
        query = dict(parse_qs(urlsplit(self.path).query))
        query["datanode"] = ["true"]
        host, port = self.server.server_address[:2]
        location = f"http://{host}:{port}{urlsplit(self.path).path}?{urlencode(query, doseq=True)}"
        self._body()  # a client may send the data on the first request too; drop it
        self._send(307, None, {"Location": location})

    def _own_new_dirs(self, directory: Path, query: dict) -> None:
        """The caller owns every directory this call creates (MKDIRS -p and CREATE's parents)."""
        user = query.get("user.name") or ANONYMOUS_USER
        for path in [directory, *directory.parents]:
            if path == self.root or path.exists() or self.root not in path.parents:
                break
            self.owners[path] = user

    # ---- verbs ----
    def do_GET(self):  # noqa: N802
        hdfs_path, local, q = self._parse()
        if local is None:
            return self._error(400, "IllegalArgumentException", f"Bad path: {self.path}")
        op = q.get("op", "").upper()
        if not local.exists():
            return self._not_found(hdfs_path)
        if op == "OPEN":
            if local.is_dir():
                return self._error(404, "FileNotFoundException", f"Path is not a file: {hdfs_path}")
            data = local.read_bytes()
            offset = int(q.get("offset", 0))
            length = int(q["length"]) if "length" in q else None
            data = data[offset:offset + length] if length is not None else data[offset:]
            return self._send(200, data)
        if op == "GETFILESTATUS":
            return self._send(200, {"FileStatus": self._status(local, "")})
        if op == "LISTSTATUS":
            if local.is_dir():
                items = [self._status(child, child.name) for child in sorted(local.iterdir())]
            else:
                items = [self._status(local, "")]
            return self._send(200, {"FileStatuses": {"FileStatus": items}})
        if op == "GETHOMEDIRECTORY":
            return self._send(200, {"Path": "/user/test"})
        return self._error(400, "UnsupportedOperationException", f"op={op} is not served by this test double")

    def do_PUT(self):  # noqa: N802
        hdfs_path, local, q = self._parse()
        if local is None:
            return self._error(400, "IllegalArgumentException", f"Bad path: {self.path}")
        op = q.get("op", "").upper()
        if op == "MKDIRS":
            if local.exists() and not local.is_dir():
                return self._error(403, "FileAlreadyExistsException", f"Path is a file: {hdfs_path}")
            self._own_new_dirs(local, q)
            local.mkdir(parents=True, exist_ok=True)
            return self._send(200, {"boolean": True})
        if op == "CREATE":
            if q.get("datanode") != "true":
                return self._redirect()
            data = self._body()
            if local.exists() and (local.is_dir() or q.get("overwrite", "false").lower() != "true"):
                return self._error(403, "FileAlreadyExistsException", f"{hdfs_path} already exists")
            self._own_new_dirs(local.parent, q)
            local.parent.mkdir(parents=True, exist_ok=True)
            tmp = local.with_name(f".{local.name}.uploading")
            tmp.write_bytes(data)
            tmp.replace(local)
            self.owners[local] = q.get("user.name") or ANONYMOUS_USER
            return self._send(201, None, {"Location": f"hdfs://{hdfs_path}"})
        if op == "RENAME":
            dest_hdfs = q.get("destination", "")
            dest = (self.root / dest_hdfs.lstrip("/")).resolve()
            if not dest_hdfs.startswith("/") or (dest != self.root and self.root not in dest.parents):
                return self._error(400, "IllegalArgumentException", f"Bad destination: {dest_hdfs}")
            if not local.exists() or dest.exists() or not dest.parent.is_dir():
                return self._send(200, {"boolean": False})  # HDFS rename answers false, it does not raise
            local.rename(dest)
            for path in [p for p in self.owners if p == local or local in p.parents]:
                self.owners[dest / path.relative_to(local)] = self.owners.pop(path)
            return self._send(200, {"boolean": True})
        return self._error(400, "UnsupportedOperationException", f"op={op} is not served by this test double")

    def do_POST(self):  # noqa: N802
        hdfs_path, local, q = self._parse()
        if local is None:
            return self._error(400, "IllegalArgumentException", f"Bad path: {self.path}")
        if q.get("op", "").upper() != "APPEND":
            return self._error(400, "UnsupportedOperationException", "only op=APPEND is served by POST")
        if q.get("datanode") != "true":
            return self._redirect()
        if not local.is_file():
            self._body()
            return self._not_found(hdfs_path)
        with local.open("ab") as fh:
            fh.write(self._body())
        return self._send(200)

    def do_DELETE(self):  # noqa: N802
        hdfs_path, local, q = self._parse()
        if local is None or local == self.root:
            return self._error(403, "AccessControlException", "Refusing to delete the root of the test double")
        if not local.exists():
            return self._send(200, {"boolean": False})
        if local.is_dir():
            if any(local.iterdir()) and q.get("recursive", "false").lower() != "true":
                return self._error(403, "PathIsNotEmptyDirectoryException", f"{hdfs_path} is non empty")
            shutil.rmtree(local)
        else:
            local.unlink()
        for path in [p for p in self.owners if p == local or local in p.parents]:
            del self.owners[path]
        return self._send(200, {"boolean": True})


def serve(host: str, port: int, root: str) -> None:
    root_path = Path(root).resolve()
    root_path.mkdir(parents=True, exist_ok=True)
    handler = type("Handler", (_Handler,), {"root": root_path, "owners": {}})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    try:
        server.serve_forever()
    finally:
        server.server_close()


class WebHdfsServer(ServerProcess):
    """This test-double WebHDFS server as a process; ``root`` defaults to a fresh temporary directory."""

    def __init__(self, port: int | None = None, root: str | None = None, **kwargs):
        port = port or free_port()
        self._tmp = None if root else tempfile.TemporaryDirectory(prefix="webhdfs-")
        self.root = root or self._tmp.name
        argv = [sys.executable, "-m", "sr_airflow.testing.webhdfs", "--host", "127.0.0.1", "--port", str(port),
                "--root", self.root]
        super().__init__(argv, port, **kwargs)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        super().stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A WebHDFS test double serving a local directory.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", required=True)
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.root)


if __name__ == "__main__":
    main()
