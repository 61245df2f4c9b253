"""EmulatorServer: the emulator as a child process for tests, benchmarks and demos."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from sr_airflow.testing.servers import ServerProcess, free_port, wait_for_port

from .versions import DEFAULT_VERSION


class EmulatorServer(ServerProcess):
    """`python -m sr_airflow.testing.emulator` on 127.0.0.1 with its own data directory."""

    def __init__(self, data_dir: str | Path | None = None, *, port: int | None = None, password: str = "",
                 version: str = DEFAULT_VERSION, commit: str = "e5a1b2c", s3_endpoint: str | None = None,
                 min_phase_seconds: float = 0.3,
                 throughput_mbps: float = 200.0, query_log: str | Path | None = None,
                 gcs_endpoint: str | None = None, webhdfs_endpoint: str | None = None,
                 tls_cert: str | Path | None = None, tls_key: str | Path | None = None,
                 be_config: dict[str, str] | None = None, standby: bool = False, **kwargs):
        self.host = "127.0.0.1"
        self.standby = standby
        port = port or free_port()
        self.data_dir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="sr-emulator-"))
        self.query_log = Path(query_log) if query_log else self.data_dir / "query.log"
        self.password = password
        argv = [sys.executable, "-m", "sr_airflow.testing.emulator", "--host", self.host, "--port", str(port),
                "--data-dir", str(self.data_dir), "--version", version, "--commit", commit,
                "--query-log", str(self.query_log),
                "--min-phase-seconds", str(min_phase_seconds), "--throughput-mbps", str(throughput_mbps)]
        if password:
            argv += ["--password", password]
        if s3_endpoint:
            argv += ["--s3-endpoint", s3_endpoint]
        if gcs_endpoint:
            argv += ["--gcs-endpoint", gcs_endpoint]
        if webhdfs_endpoint:
            argv += ["--webhdfs-endpoint", webhdfs_endpoint]
        if tls_cert:
            argv += ["--tls-cert", str(tls_cert), "--tls-key", str(tls_key)]
        for name, value in (be_config or {}).items():
            argv += ["--be-config", f"{name}={value}"]
        if standby:
            argv += ["--standby"]
        kwargs.setdefault("log_path", self.data_dir / "emulator.log")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(argv, port, **kwargs)

    def start(self) -> EmulatorServer:
        """Start the process; a standby (``standby=True``) is not waited for: it listens only once the process
        holding its data directory has stopped (``wait_serving``)."""
        if not self.standby:
            super().start()
            return self
        self._log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT, env=self.env,
                                        start_new_session=True)
        return self

    def wait_serving(self, timeout: float = 30.0) -> None:
        """Wait until the process answers on its port (a standby: it has taken over)."""
        wait_for_port(self.port, timeout, self.process)

    def logged_statements(self) -> list[str]:
        """Every statement received so far, in order (from the query log)."""
        import json

        if not self.query_log.exists():
            return []
        entries = [json.loads(line) for line in self.query_log.read_text().splitlines() if line]
        return [e["statement"] for e in entries if "statement" in e]

    def logged_faults(self) -> list[dict]:
        """The injected faults applied so far (query log lines with a "fault" key)."""
        import json

        if not self.query_log.exists():
            return []
        entries = [json.loads(line) for line in self.query_log.read_text().splitlines() if line]
        return [e for e in entries if "fault" in e]

    def connect(self, database: str | None = None, **kwargs):
        """A PyMySQL connection as root (autocommit)."""
        import pymysql

        return pymysql.connect(host=self.host, port=self.port, user="root", password=self.password,
                               database=database, autocommit=True, **kwargs)

    def sql(self, *statements: str) -> tuple[tuple, ...]:
        """Run ``statements`` on one root connection; returns the rows of the last one."""
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                rows: tuple[tuple, ...] = ()
                for statement in statements:
                    cur.execute(statement)
                    rows = cur.fetchall()
                return rows
        finally:
            conn.close()
