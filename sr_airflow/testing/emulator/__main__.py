"""`python -m sr_airflow.testing.emulator --host 127.0.0.1 --port 9030 --data-dir DIR`: a StarRocks frontend."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from . import beconfig
from .cluster import Cluster, ClusterOptions, Knobs
from .frontend import Frontend
from .server import QueryLog, serve
from .standby import wait_for_leadership
from .storage import redirects_from
from .tls import server_ssl_context
from .versions import DEFAULT_VERSION


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sr-airflow-emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9030)
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--password", default="", help="password of user root (default: empty)")
    parser.add_argument("--version", default=DEFAULT_VERSION,
                        help="StarRocks version: current_version() and the release line's syntax, titles and formats")
    parser.add_argument("--commit", default="e5a1b2c", help="7-hex commit reported after the version")
    parser.add_argument("--query-log", default=None, help="append each statement as a JSON line to this file")
    parser.add_argument("--throughput-mbps", type=float, default=200.0,
                        help="simulated upload/download speed in MB/s (0 = unlimited)")
    parser.add_argument("--min-phase-seconds", type=float, default=0.3, help="minimum time of each job phase")
    parser.add_argument("--s3-endpoint", default=None,
                        help="S3 API endpoint for s3a:// locations without one (also EMULATOR_S3_ENDPOINT)")
    parser.add_argument("--gcs-endpoint", default=None,
                        help="GCS JSON API endpoint for GCS-through-S3A locations (also EMULATOR_GCS_ENDPOINT)")
    parser.add_argument("--webhdfs-endpoint", default=None,
                        help="WebHDFS endpoint for hdfs:// locations (also EMULATOR_WEBHDFS_ENDPOINT)")
    parser.add_argument("--tls-cert", default=None, help="PEM certificate: serve TLS on the query port (3.5+)")
    parser.add_argument("--tls-key", default=None, help="PEM private key of --tls-cert")
    parser.add_argument("--be-config", action="append", default=[], metavar="ITEM=VALUE",
                        help="a value of information_schema.be_configs (upload_worker_count, download_worker_count, "
                             "make_snapshot_worker_count, release_snapshot_worker_count); repeatable")
    parser.add_argument("--standby", action="store_true",
                        help="wait, not listening, until the process holding --data-dir stops, then take its jobs "
                             "over and listen (a follower becoming leader; see standby.py)")
    args = parser.parse_args(argv)
    for item in args.be_config:
        name, _, value = item.partition("=")
        if beconfig.item_of(beconfig.KEY_PREFIX + name) is None or not value.strip().lstrip("-").isdigit():
            parser.error(f"--be-config {item!r}: expected one of {', '.join(beconfig.ITEMS)} = an integer")
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("mysql_mimic").setLevel(logging.CRITICAL)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    options = ClusterOptions(data_dir=args.data_dir, version=args.version, commit=args.commit,
                             password=args.password, s3_redirect=redirects_from(args.s3_endpoint, args.gcs_endpoint,
                                                                    args.webhdfs_endpoint),
                             knobs=Knobs(min_phase_seconds=args.min_phase_seconds,
                                         throughput_mbps=args.throughput_mbps,
                                         be_config={n: v.strip() for n, _, v in
                                                    (i.partition("=") for i in args.be_config)}))
    if args.standby:
        wait_for_leadership(args.data_dir)
    tls = server_ssl_context(args.tls_cert, args.tls_key, args.version) if args.tls_cert else None
    cluster = Cluster(options)
    cluster.port = args.port
    frontend = Frontend(cluster)
    cluster.resume_jobs()

    def ready() -> None:
        print(f"sr-airflow emulator ready on {args.host}:{args.port} (StarRocks {cluster.full_version})",
              flush=True)

    loop = asyncio.new_event_loop()
    task = loop.create_task(serve(frontend, args.host, args.port, args.password, QueryLog(args.query_log), ready,
                                  ssl_context=tls))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        loop.run_until_complete(task)
    except asyncio.CancelledError:
        pass
    finally:
        with cluster.lock:
            cluster.stopping = True  # running jobs stop where they are and resume after a restart
            cluster.save()
        cluster.close()
        loop.close()


if __name__ == "__main__":
    main()
