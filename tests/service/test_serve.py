"""``lineage-audit serve`` and ``stop`` as a user runs them: refusals, the background service, stopping it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lineage_audit.service.server import SERVICE_NAME
from tests.service.test_ingest import free_port

ROOT = Path(__file__).resolve().parents[2]


def cli(args: list[str], data_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "LINEAGE_AUDIT_DATA_DIR": str(data_dir)}
    env = {k: v for k, v in env.items() if not k.startswith("LINEAGE_AUDIT_SERVICE_")}
    return subprocess.run([sys.executable, "-m", "lineage_audit.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


def test_serve_refuses_a_port_another_program_holds(tmp_path):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        done = cli(["serve", "--port", str(port), "--database-url", f"sqlite:///{tmp_path}/l.db"], tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"port {port} on 127.0.0.1 is taken" in done.stderr
    assert "another program" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("keys", [[], ["--ingest-api-key", "k1"], ["--read-api-key", "k2"]])
def test_serve_refuses_a_non_loopback_address_without_both_keys(tmp_path, keys):
    done = cli(["serve", "--host", "0.0.0.0", "--port", str(free_port()), *keys,
                "--database-url", f"sqlite:///{tmp_path}/l.db"], tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refusing to listen on 0.0.0.0 without API keys" in done.stderr
    assert "--insecure" in done.stderr
    assert not (tmp_path / "l.db").exists()


def test_serve_in_the_background_then_stop(tmp_path):
    port = free_port()
    serve = ["serve", "--background", "--port", str(port), "--database-url", f"sqlite:///{tmp_path}/l.db"]
    pid_file = tmp_path / "lineage-service.pid"
    try:
        done = cli(serve, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"lineage service started at http://127.0.0.1:{port}" in done.stdout
        pid = int(pid_file.read_text())
        assert str(pid) in done.stdout
        answer = health(port)
        assert answer is not None and answer["service"] == SERVICE_NAME and answer["database"] == "sqlite"
        assert (tmp_path / "lineage-service.log").exists()

        again = cli(serve, tmp_path)
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"already running at http://127.0.0.1:{port}" in again.stdout
        assert int(pid_file.read_text()) == pid

        foreground = cli(["serve", "--port", str(port)], tmp_path)
        assert foreground.returncode == 2
        assert "the lineage service is already running there" in foreground.stderr

        stopped = cli(["stop"], tmp_path)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert f"lineage service stopped (pid {pid})" in stopped.stdout
        assert not pid_file.exists()
        deadline = time.monotonic() + 10
        while health(port) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert health(port) is None
        assert "nothing to stop" in cli(["stop"], tmp_path).stdout
    finally:
        if pid_file.exists():  # the test failed half-way: stop the service it started
            try:
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass


def test_stop_never_signals_a_process_that_is_not_the_service(tmp_path):
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / "lineage-service.pid").write_text(str(bystander.pid))  # a stale file, its pid reused
        done = cli(["stop"], tmp_path)
        assert done.returncode == 0
        assert "was not running" in done.stdout
        assert bystander.poll() is None
        assert not (tmp_path / "lineage-service.pid").exists()
    finally:
        bystander.kill()
        bystander.wait()
