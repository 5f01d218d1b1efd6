"""Sending events through openlineage-python's transports, with a disk spool for the ones that fail.

An event that cannot be sent (server down, timeout, 5xx) is written to the spool directory, one
JSON file per event, named so that lexical order is send order. ``replay()`` sends spooled events
oldest first and deletes each file only after its send succeeded; it stops at the first failure,
so order is kept and nothing is dropped. It runs at the start of every capture and from
``lineage-audit replay``.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Mapping

from openlineage.client import OpenLineageClient
from openlineage.client.serde import Serde

log = logging.getLogger(__name__)
_sequence = itertools.count()


class Emitter:
    """Emit events; spool what cannot be sent. Thread-safe; never raises from ``emit``."""

    def __init__(self, transport: Mapping[str, Any], spool_dir: Path):
        self.client = OpenLineageClient(config={"transport": dict(transport)})
        self.spool_dir = Path(spool_dir)
        self._lock = threading.Lock()
        self._warned = False
        self.sent = 0
        self.spooled = 0

    def emit(self, event) -> bool:
        """Send ``event``; on failure spool it. True when it was sent."""
        return self._send(lambda: self.client.emit(event), lambda: Serde.to_json(event))

    def emit_raw(self, payload: Mapping[str, Any]) -> bool:
        """Send an already-serialised event (a dict, as the official listener wrote it); spool it on failure."""
        return self._send(lambda: self.client.transport.emit(_RawEvent(payload)), lambda: json.dumps(payload))

    def _send(self, send, serialise) -> bool:
        with self._lock:
            try:
                send()
                self.sent += 1
                return True
            except Exception as exc:  # any transport failure: keep the event, tell the user once
                self._spool(serialise())
                if not self._warned:
                    log.warning("lineage events could not be sent (%s); spooling them to %s", exc, self.spool_dir)
                    self._warned = True
                return False

    def _spool(self, payload: str) -> None:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(_sequence):06d}.json"
        temporary = self.spool_dir / f".{name}.tmp"
        temporary.write_text(payload)
        temporary.replace(self.spool_dir / name)  # atomic: replay never sees half a file
        self.spooled += 1

    def pending(self) -> list[Path]:
        return sorted(self.spool_dir.glob("*.json")) if self.spool_dir.exists() else []

    def replay(self) -> tuple[int, int]:
        """Send spooled events oldest first; returns (sent, still pending)."""
        sent = 0
        with self._lock:
            files = self.pending()
            for path in files:
                try:
                    payload = path.read_text()
                except FileNotFoundError:  # another job running beside this one replayed it already
                    continue
                try:
                    self.client.transport.emit(_RawEvent(json.loads(payload)))
                except Exception as exc:  # server still down: try again next time
                    log.info("replay stopped at %s: %s", path.name, exc)
                    break
                path.unlink(missing_ok=True)
                sent += 1
        return sent, len(self.pending())

    def close(self) -> None:
        try:
            self.client.close(timeout=5)
        except Exception:  # closing a transport must never fail the job
            log.debug("closing the OpenLineage client failed", exc_info=True)


class _RawEvent(dict):
    """An already-serialised event: transports serialise it with Serde, which handles dicts."""
