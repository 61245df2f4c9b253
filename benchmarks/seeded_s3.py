"""An S3 API server (moto) that starts with a repository of snapshots already in it.

Writing 100,000 objects through the HTTP API takes minutes on a small machine; the benchmark measures deleting
them, not creating them, so this process puts them into moto's in-memory backend directly and only then opens the
port. Everything the benchmark measures goes through the S3 HTTP API as usual.

``python -m benchmarks.seeded_s3 --port P --bucket B --prefix backups/__starrocks_repository_r --snapshots 50
--objects 2000``
"""

from __future__ import annotations

import argparse
import os
import signal
import threading


def snapshot_keys(prefix: str, snapshot: int, objects: int) -> list[str]:
    """Keys shaped like a StarRocks snapshot: an info file, a meta file and tablet files in nested folders."""
    base = f"{prefix}/__ss_snap{snapshot:03d}"
    keys = [f"{base}/__info_2026-01-01-00-00-{snapshot:02d}-000.0123456789abcdef0123456789abcdef",
            f"{base}/__meta.0123456789abcdef0123456789abcdef"]
    tablet = 0
    while len(keys) < objects:
        folder = f"{base}/__ss_content/__db_10001/__tbl_{10002 + tablet // 100}/__part_{20000 + tablet // 10}/" \
                 f"__idx_10003/__{30000 + tablet}"
        keys.append(f"{folder}/{30000 + tablet}.hdr")
        if len(keys) < objects:
            keys.append(f"{folder}/{30000 + tablet}_0.dat")
        tablet += 1
    return keys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--snapshots", type=int, required=True)
    parser.add_argument("--objects", type=int, required=True, help="objects per snapshot")
    args = parser.parse_args()

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
    backend.create_bucket(args.bucket, "us-east-1")
    backend.put_object(args.bucket, args.prefix + "/__repo_info", b"{}")
    for snapshot in range(args.snapshots):
        for key in snapshot_keys(args.prefix, snapshot, args.objects):
            backend.put_object(args.bucket, key, b"0123456789abcdef")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    os._exit(0)  # in memory only: nothing to save, and a busy request thread must not delay the exit


if __name__ == "__main__":
    main()
