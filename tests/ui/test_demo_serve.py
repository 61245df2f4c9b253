"""``python -m sr_airflow.testing.demo --serve`` (``make demo-ui``) keeps the demo up and stops it on Ctrl-C: here
with ``--serve-only`` (the same serving, without the demo's DAG runs first), the URL line waited for, the page
reached with the printed login, then SIGINT to the process group, as a terminal's Ctrl-C sends it, and no process
the demo started is left."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading

import httpx
import psutil
import pytest

from sr_airflow.testing.demo_serve import READY_LINE
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_serve_prints_url_and_login_and_ctrl_c_stops_every_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}  # not the tests' Airflow
    process = subprocess.Popen([sys.executable, "-m", "sr_airflow.testing.demo", "--serve-only", "--workdir",
                                str(tmp_path / "demo")], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    started: list[psutil.Process] = []
    try:
        ready = wait_until(lambda: next((line for line in lines if line.startswith(READY_LINE)), None), 600,
                           "the demo printing its URL", interval=1)
        base, password = re.match(rf"{READY_LINE} (http://127\.0\.0\.1:\d+)/ — log in as admin, password (\S+)",
                                  ready).groups()
        assert httpx.get(f"{base}/sr-backups/", follow_redirects=False).status_code == 303  # log in first
        token = httpx.post(f"{base}/auth/token", json={"username": "admin", "password": password}).json()
        page = httpx.get(f"{base}/sr-backups/", headers={"Authorization": f"Bearer {token['access_token']}"})
        assert page.status_code == 200 and "Repository demo_repo" in page.text
        started = psutil.Process(process.pid).children(recursive=True)
        commands = [_command(p) for p in started]
        assert any("standalone" in c for c in commands) and any("emulator" in c for c in commands), commands
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=180) == 0, "".join(lines[-30:])
    finally:
        if process.poll() is None:  # the test failed: leave nothing running all the same
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    reader.join(timeout=10)
    assert any("everything it started is stopped" in line for line in lines), "".join(lines[-30:])
    left = [p for p in started if _alive(p)]
    assert left == [], [_command(p) for p in left]


def _command(process: psutil.Process) -> str:
    """The command line, or "" for a child that exited (or is exiting) since it was listed: Airflow's standalone
    starts short-lived children of its own, and one may be a zombie for a moment before its parent reaps it."""
    try:
        return " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return ""


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
