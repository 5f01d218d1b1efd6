"""What the tamper-evident ledger costs ingest: the same events into two copies of the benchmark store,
one appending to the ledger and one not, interleaved turn by turn (each going first every other turn) so that both see the same machine load.

Used by ``bench_service.py`` (SQLite only: a copy of the loaded store is a file copy).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from unittest import mock

from lineage_audit.service import ledger
from lineage_audit.service.db import make_engine
from lineage_audit.service.events import check_event
from lineage_audit.service.ingest import Ingester

TURN = 25  # events per turn of each store (at least one transaction)


def _timed(ingester: Ingester, groups: list[list[dict]], with_ledger: bool) -> float:
    checked = [[check_event(e) for e in group] for group in groups]
    started = time.perf_counter()
    if with_ledger:
        for group in checked:
            ingester.ingest(group)
    else:
        with mock.patch.object(ledger, "append", lambda *args: None):
            for group in checked:
                ingester.ingest(group)
    return time.perf_counter() - started


def ledger_cost(store: Path, events: list[dict], per_transaction: int) -> tuple[float, float]:
    """Seconds spent ingesting ``events`` (``per_transaction`` per call) with and without the ledger, on copies
    of the SQLite store at ``store``."""
    copies = [store.with_name(f"{store.stem}-{name}.db") for name in ("ledger", "no-ledger")]
    for copy in copies:
        shutil.copyfile(store, copy)
    engines = [make_engine(f"sqlite:///{copy}") for copy in copies]
    ingesters = [Ingester(engine) for engine in engines]
    spent = [0.0, 0.0]
    step = max(1, TURN // per_transaction) * per_transaction
    for start in range(0, len(events), step):
        turn = events[start:start + step]
        groups = [turn[i:i + per_transaction] for i in range(0, len(turn), per_transaction)]
        order = (0, 1) if (start // step) % 2 == 0 else (1, 0)  # neither always goes first
        for which in order:
            spent[which] += _timed(ingesters[which], groups, with_ledger=which == 0)
    for engine in engines:
        engine.dispose()
    for copy in copies:
        copy.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
    return spent[0], spent[1]
