"""Running the lineage service: in the foreground (``serve``), in the background, and stopping it.

The background service writes its process id to ``<data>/lineage-service.pid`` and its log to
``<data>/lineage-service.log``; ``stop`` reads the one and signals the process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from lineage_audit.config import default_data_dir
from lineage_audit.service.settings import ServiceSettings

SERVICE_NAME = "data-lineage-audit"


class ServeError(RuntimeError):
    """The service cannot start as asked; the message says why and what to do."""


def pid_file() -> Path:
    return default_data_dir() / "lineage-service.pid"


def log_file() -> Path:
    return default_data_dir() / "lineage-service.log"


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def running_service(settings: ServiceSettings, timeout: float = 1.0) -> dict | None:
    """The health document of this project's service at ``settings``' address, or None."""
    try:
        with urllib.request.urlopen(f"{settings.base_url}/api/v1/health", timeout=timeout) as response:
            body = json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return body if isinstance(body, dict) and body.get("service") == SERVICE_NAME else None


def check_can_serve(settings: ServiceSettings, insecure: bool = False) -> None:
    if not settings.is_loopback and not (settings.ingest_api_key and settings.read_api_key) and not insecure:
        raise ServeError(
            f"refusing to listen on {settings.host} without API keys: anyone on the network could read and "
            "write lineage. Set ingest_api_key and read_api_key (conf/service.yml, LINEAGE_AUDIT_SERVICE_*_API_KEY "
            "or --ingest-api-key/--read-api-key), or pass --insecure.")
    if not port_is_free(settings.host, settings.port):
        what = "the lineage service is already running there" if running_service(settings) else \
            "another program (Marquez?) is using it"
        raise ServeError(f"port {settings.port} on {settings.host} is taken: {what}. Stop it (`make stop`) or "
                         f"choose another port (--port, or LINEAGE_AUDIT_SERVICE_PORT).")


def serve(settings: ServiceSettings, insecure: bool = False) -> None:
    """Run the service in this process until interrupted."""
    import uvicorn

    from lineage_audit.service.app import create_app

    check_can_serve(settings, insecure)
    print(f"lineage service: {settings.base_url}  (API {settings.base_url}/api/v1, "
          f"database {_safe_url(settings.resolved_database_url)})", flush=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning",
                access_log=False, timeout_graceful_shutdown=5)


def start_background(settings: ServiceSettings, args: list[str], wait: float = 60.0) -> str:
    """Start ``lineage-audit serve`` detached, unless this project's service already answers.

    Returns a line for the user. Raises :class:`ServeError` when the port belongs to something else
    or the service does not come up.
    """
    if running_service(settings):
        return f"lineage service already running at {settings.base_url}"
    check_can_serve(settings)
    log = log_file()
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "lineage_audit.cli", "serve", *args],
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    pid_file().write_text(str(process.pid))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if running_service(settings, timeout=0.5):
            return f"lineage service started at {settings.base_url} (pid {process.pid}, log {log})"
        if process.poll() is not None:
            break
        time.sleep(0.2)
    if process.poll() is None:  # up but not answering: do not leave it behind
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
    pid_file().unlink(missing_ok=True)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise ServeError(f"the lineage service did not start; see {log}:\n{tail}")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and has not exited (a zombie waiting for its parent has)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_service_process(pid: int) -> bool | None:
    """Whether ``pid`` runs ``lineage_audit.cli serve`` (None: it does not exist)."""
    if not _alive(pid):
        return None
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            return False
    else:  # no /proc (macOS)
        done = subprocess.run(["ps", "-p", str(pid), "-o", "command="], capture_output=True)
        words = done.stdout.split()
    return any(b"lineage_audit" in w or b"lineage-audit" in w for w in words) and b"serve" in words


def stop_background(timeout: float = 15.0) -> str:
    path = pid_file()
    if not path.exists():
        return "no background lineage service recorded (nothing to stop)"
    try:
        pid = int(path.read_text().strip())
    except ValueError:
        path.unlink(missing_ok=True)
        return f"{path} held no process id; removed it"
    ours = _is_service_process(pid)
    if not ours:  # gone, or the number now belongs to another program: never signal that one
        path.unlink(missing_ok=True)
        return f"the lineage service (pid {pid}) was not running"
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        return f"the lineage service (pid {pid}) was not running"
    except PermissionError:
        return f"the lineage service (pid {pid}) belongs to another user; it was not stopped"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.1)
    else:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    path.unlink(missing_ok=True)
    return f"lineage service stopped (pid {pid})"


def _safe_url(url: str) -> str:
    """A database URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
    return url
