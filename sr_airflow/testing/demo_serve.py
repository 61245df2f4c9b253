"""``make demo-ui`` (``python -m sr_airflow.testing.demo --serve``): after the demo, keep it up — the two StarRocks
emulators, the object store and ``airflow standalone`` (scheduler, DAG processor, triggerer, API server) with the
shipped DAGs, the demo's connections and the "StarRocks backups" page — print the URL and a login, and stop every
process on Ctrl-C (or SIGTERM).

Airflow runs on 127.0.0.1 (port 8080 when free), started by ``sr_airflow.testing.standalone``, with the simple
auth manager and one user, ``admin``, whose password is made up here and printed; its metadata database is the one
the demo's DAG runs used, so their runs show in the UI.
"""

from __future__ import annotations

import secrets
import signal
import socket
from pathlib import Path

from sr_airflow.testing.standalone import StandaloneNotReady, running_standalone, standalone_environment

READY_LINE = "Airflow is up at"  # the line a user (and the test) waits for


def _port() -> int:
    """8080 when it is free on 127.0.0.1, else any free port."""
    from sr_airflow.testing.servers import free_port

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 8080))
            return 8080
        except OSError:
            return free_port()


def airflow_environment(demo, port: int, password: str) -> dict[str, str]:
    """The demo's Airflow environment (its connections, sr_airflow.toml, AIRFLOW_HOME) for a served Airflow."""
    env = demo.environment()
    env["AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL"] = "10"
    return standalone_environment(env, Path(env["AIRFLOW_HOME"]), port, {"admin": ("admin", password)})


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def serve(demo) -> None:
    """Run ``airflow standalone`` beside the demo's servers until Ctrl-C or SIGTERM, then stop it."""
    port, password = _port(), secrets.token_urlsafe(9)
    env = airflow_environment(demo, port, password)
    # Ctrl-C and SIGTERM both stop everything, also when the shell started the demo with SIGINT ignored (a
    # background job of a non-interactive shell), where Python would not raise KeyboardInterrupt by itself.
    previous = {signum: signal.signal(signum, _raise_interrupt) for signum in (signal.SIGINT, signal.SIGTERM)}
    log_path = demo.workdir / "standalone.log"
    try:
        print(f"Starting airflow standalone (log: {log_path}); this takes a minute or two ...", flush=True)
        with running_standalone(env, log_path) as standalone:
            try:
                standalone.wait_healthy()
            except StandaloneNotReady as exc:
                raise SystemExit(str(exc)) from None
            base = standalone.base_url
            print(f"\n{READY_LINE} {base}/ — log in as admin, password {password}\n"
                  f"The backups page: {base}/sr-backups/ (in Airflow's menu: Browse → StarRocks backups)\n"
                  f"StarRocks emulators: source 127.0.0.1:{demo.source.port}, target 127.0.0.1:{demo.target.port} "
                  f"(mysql -h 127.0.0.1 -P {demo.source.port} -u root); store: {demo.location}\n"
                  "The shipped DAGs start paused: trigger one (the form can unpause it) and watch the page.\n"
                  "Press Ctrl-C to stop everything.", flush=True)
            standalone.process.wait()
            print(f"airflow standalone exited ({standalone.process.returncode}); see {log_path}.")
    except KeyboardInterrupt:
        print("\nStopping airflow standalone ...", flush=True)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
