"""The lineage service as a user starts it (``lineage-audit serve``), on a free port and its own SQLite file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from lineage_audit.config import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveService:
    """``lineage-audit serve`` in a subprocess; ``post`` and ``get`` talk HTTP to it, the UI is at ``url``."""

    def __init__(self, workdir: Path, database_url: str | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "service.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGE_AUDIT_SERVICE_")}
        env["LINEAGE_AUDIT_DATA_DIR"] = str(workdir)
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "lineage_audit.cli", "serve", "--port", str(self.port),
                 "--database-url", database_url or f"sqlite:///{workdir / 'ui.db'}"],
                cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the lineage service did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.2)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def post(self, events: list[dict]) -> None:
        """POST the events in order, in requests of a few MB (a body may hold 10 MB); every one must be accepted."""
        from tests.service.conftest import batches

        for batch in batches(list(events)):
            body = json.dumps(batch).encode()
            request = urllib.request.Request(f"{self.url}/api/v1/lineage", data=body,
                                             headers={"Content-Type": "application/json"}, method="POST")
            with urllib.request.urlopen(request, timeout=300) as response:
                if response.status not in (200, 201):
                    raise AssertionError(f"POST /api/v1/lineage -> {response.status} {response.read()[:500]!r}")

    def get(self, path: str, **params) -> dict:
        """GET ``/api/v1/<path>`` as JSON."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}{query}", timeout=60) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve_events(tmp_path_factory, events: list[dict]):
    """A module's ``service`` fixture: ``yield from serve_events(tmp_path_factory, events)`` serves ``events`` (all
    of ``pipeline_events``, say, where conftest's ``service`` serves two jobs' events) until the module ends."""
    live = LiveService(tmp_path_factory.mktemp("ui-service"))
    try:
        live.post(events)
        yield live
    finally:
        live.stop()
