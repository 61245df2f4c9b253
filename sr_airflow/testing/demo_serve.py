"""``make demo-ui`` (``python -m sr_airflow.testing.demo --serve``): after the demo, keep it up — the two StarRocks
emulators, the object store and ``airflow standalone`` (scheduler, DAG processor, triggerer, API server) with the
shipped DAGs, the demo's connections and the "StarRocks backups" page — print the URL and a login, and stop every
process on Ctrl-C (or SIGTERM).

Airflow runs on 127.0.0.1 (port 8080 when free) with the simple auth manager and one user, ``admin``, whose
password is made up here and printed; its metadata database is the one the demo's DAG runs used, so their runs
show in the UI.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

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
    home = Path(env["AIRFLOW_HOME"])
    passwords = home / "simple_auth_manager_passwords.json"
    passwords.write_text(json.dumps({"admin": password}))
    passwords.chmod(0o600)
    env.update({
        # `airflow standalone` starts its components as `airflow ...` found on PATH
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__PARALLELISM": "4",  # the default 32 LocalExecutor workers take GBs of memory
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
    })
    return env


def _wait_ready(base: str, process: subprocess.Popen, timeout: float = 600) -> None:
    """Until the API server answers and has mounted the backups page (it asks for a login: 401)."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"airflow standalone exited ({process.returncode}) before it was ready.")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/sr-backups/api/rpo", timeout=5).status_code == 401:
                return
        time.sleep(1)
    raise SystemExit(f"airflow standalone was not ready within {timeout:.0f} s.")


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process group of ``process`` (standalone and every component it started), SIGKILL to
    whatever is left of it after a minute."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the components may outlive the standalone process a moment
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def serve(demo) -> None:
    """Run ``airflow standalone`` beside the demo's servers until Ctrl-C or SIGTERM, then stop it."""
    port, password = _port(), secrets.token_urlsafe(9)
    env = airflow_environment(demo, port, password)
    base = f"http://127.0.0.1:{port}"
    # Ctrl-C and SIGTERM both stop everything, also when the shell started the demo with SIGINT ignored (a
    # background job of a non-interactive shell), where Python would not raise KeyboardInterrupt by itself.
    previous = {signum: signal.signal(signum, _raise_interrupt) for signum in (signal.SIGINT, signal.SIGTERM)}
    log_path = demo.workdir / "standalone.log"
    process = None
    try:
        with open(log_path, "wb") as log:
            print(f"Starting airflow standalone (log: {log_path}); this takes a minute or two ...", flush=True)
            process = subprocess.Popen([str(Path(sys.executable).parent / "airflow"), "standalone"], env=env,
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            _wait_ready(base, process)
            print(f"\n{READY_LINE} {base}/ — log in as admin, password {password}\n"
                  f"The backups page: {base}/sr-backups/ (in Airflow's menu: Browse → StarRocks backups)\n"
                  f"StarRocks emulators: source 127.0.0.1:{demo.source.port}, target 127.0.0.1:{demo.target.port} "
                  f"(mysql -h 127.0.0.1 -P {demo.source.port} -u root); store: {demo.location}\n"
                  "The shipped DAGs start paused: trigger one (the form can unpause it) and watch the page.\n"
                  "Press Ctrl-C to stop everything.", flush=True)
            process.wait()
            print(f"airflow standalone exited ({process.returncode}); see {log_path}.")
    except KeyboardInterrupt:
        print("\nStopping airflow standalone ...", flush=True)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if process is not None:
            _stop_group(process)
