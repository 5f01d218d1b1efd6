"""Forwarding the official listener's events so that a down lineage server loses none of them.

The official OpenLineage listener sends each event once and drops it when the server does not
answer. So a session built by the project points the listener's ``file`` transport at a journal
(one JSON event per line, one file per application) and a :class:`JournalForwarder` thread reads
each complete line as it appears and sends it through the same :class:`~emitter.Emitter` the
built-in capture uses: to the configured transport, or into the spool that ``lineage-audit
replay`` (and the next job) sends later. A journal is deleted once every line of it has been sent
or spooled; one left behind by a crash is forwarded by ``replay`` (the service ignores an event it
already holds).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from pathlib import Path

from lineage_audit.capture.emitter import Emitter

log = logging.getLogger(__name__)
POLL_SECONDS = 0.25


def journal_dir(spool_dir: Path) -> Path:
    """Journals live beside the spool: ``<data>/lineage-journal``."""
    return Path(spool_dir).parent / "lineage-journal"


def new_journal(spool_dir: Path, app_name: str) -> Path:
    directory = journal_dir(spool_dir)
    directory.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in app_name)[:60] or "app"
    return directory / f"{time.time_ns():020d}-{os.getpid()}-{safe}.ndjson"


class JournalForwarder:
    """Sends each line the listener appends to ``path``; see the module docstring."""

    def __init__(self, path: Path, emitter: Emitter):
        self.path = Path(path)
        self.emitter = emitter
        self.forwarded = 0
        self._offset = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="lineage-journal", daemon=True)
        self._closed = False

    def start(self, session=None) -> "JournalForwarder":
        """Start forwarding; at interpreter exit, stop ``session`` if still active (the listener then
        writes the application's COMPLETE event) and forward the rest."""
        sent, pending = self.emitter.replay()  # what earlier runs could not deliver goes first
        if sent:
            log.info("replayed %d spooled lineage events (%d still pending)", sent, pending)
        self._thread.start()
        atexit.register(self._at_exit, session)
        return self

    def _at_exit(self, session) -> None:
        if session is not None:
            try:
                if session.sparkContext._jsc is not None:
                    session.stop()
            except Exception:  # the JVM may be gone already
                pass
        self.close()

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.pump()

    def pump(self) -> int:
        """Forward every complete line written since the last call; returns how many."""
        with self._lock:
            try:
                with self.path.open("rb") as handle:
                    handle.seek(self._offset)
                    data = handle.read()
            except FileNotFoundError:  # the listener writes its first event at application start
                return 0
            end = data.rfind(b"\n")
            if end < 0:
                return 0
            count = 0
            for line in data[:end].splitlines():
                if line.strip():
                    count += self._forward(line)
            self._offset += end + 1
            self.forwarded += count
            return count

    def _forward(self, line: bytes) -> int:
        try:
            payload = json.loads(line)
        except ValueError:
            log.warning("skipping a line of %s that is not JSON", self.path)
            return 0
        self.emitter.emit_raw(payload)
        return 1

    def close(self, spark_context=None, timeout: float = 30.0) -> None:
        """Forward what is left (after ``spark_context``'s listener bus drained) and delete the journal."""
        if self._closed:
            return
        self._closed = True
        if spark_context is not None:
            try:
                spark_context._jsc.sc().listenerBus().waitUntilEmpty(int(timeout * 1000))
            except Exception:  # a stopped context has nothing left to deliver
                pass
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.pump()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        self.emitter.close()


def forward_orphans(spool_dir: Path, emitter: Emitter, live: set[Path] = frozenset()) -> int:
    """Forward and delete journals no running process writes (left by a crash); returns events sent on."""
    directory = journal_dir(spool_dir)
    total = 0
    for path in sorted(directory.glob("*.ndjson")) if directory.exists() else []:
        pid = path.name.split("-")[1] if path.name.count("-") >= 2 else ""
        if path in live or (pid.isdigit() and _alive(int(pid))):
            continue
        forwarder = JournalForwarder(path, emitter)
        total += forwarder.pump()
        path.unlink(missing_ok=True)
    return total


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
