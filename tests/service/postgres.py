"""A throwaway PostgreSQL server for tests, from the installed server binaries.

``initdb`` on a temporary directory, ``pg_ctl start`` on a free loopback port, trust auth, no
other listener. PostgreSQL refuses to run as root, so as root the server runs as ``nobody``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SKIP_REASON = "PostgreSQL server binaries (initdb, pg_ctl) not found; `.ci/run` installs them"


def find_binaries() -> tuple[str, str] | None:
    candidates = [os.path.dirname(p) for p in (shutil.which("initdb"),) if p]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in candidates:
        initdb, pg_ctl = Path(directory, "initdb"), Path(directory, "pg_ctl")
        if initdb.exists() and pg_ctl.exists():
            return str(initdb), str(pg_ctl)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self):
        binaries = find_binaries()
        if binaries is None:
            raise RuntimeError(SKIP_REASON)
        self.initdb, self.pg_ctl = binaries
        # Its own directory in /tmp: as root, "nobody" must be able to reach it (pytest's are private).
        self.root = Path(tempfile.mkdtemp(prefix="lineage-audit-pg-"))
        self.data = self.root / "pgdata"
        self.port = _free_port()
        self._as = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
        self._databases = 0

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def new_database(self, prefix: str) -> str:
        """A new, empty database on this server, named ``<prefix>_<n>``: its SQLAlchemy URL."""
        from sqlalchemy import create_engine, text

        self._databases += 1
        name = f"{prefix}_{self._databases}"
        admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def start(self) -> "PostgresServer":
        if self._as:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "nobody")
        self._run([self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                   "--no-instructions"])
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=on"
        self._run([self.pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.root / "postgres.log"),
                   "-w", "-t", "60", "start"])
        return self

    def stop(self) -> None:
        self._run([self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop"], check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, command: list[str], check: bool = True) -> None:
        done = subprocess.run(self._as + command, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")
