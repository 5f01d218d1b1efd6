"""OpenLineage ingest: parse and check events, store each raw event and the model derived from it.

One call of :meth:`Ingester.ingest` is one transaction: every event of a batch, its entry in the
tamper-evident ledger (:mod:`~lineage_audit.service.ledger`) and everything derived from it are
committed together, or nothing is. An event already stored (same canonical
JSON) is skipped, so a client that retries never duplicates anything.

Derivation does not depend on arrival order: every derived value is a merge that ends the same
whatever order its inputs arrive in. First and last times are minimums and maximums. A run's state
is the strongest seen (terminal over running over new), then the latest, then the state's name.
Each facet is the one of the newest event that carried it, and what follows from a facet (a
dataset's fields, source and description, its current column lineage, a job's location) follows
the facet. A dataset's current version, and a job's latest run and current version, are recomputed
from the stored versions and runs. Only events with exactly the same time are decided by arrival, and
names under symlinks, which follow Marquez's arrival order (:mod:`~lineage_audit.service.symlinks`).

Versions follow Marquez's rules, stated so that they end the same in any order: a dataset's current
version is the one of its writer that completed last (or of its newest DatasetEvent); a run reads the
version current when it started, and the datasets read without one share a READ version, which exists
while some run reads it. A dataset's fields follow its writers' schema; a reader's only while no writer
gave one. A parent facet makes the parent job and a NEW parent run that the parent's own events decide,
and a job that has a parent takes the events that name it without one.

A batch is derived as a whole: the events are first reduced in memory (one row per run, dataset,
job, facet), then merged into the store with a few statements per table, in the same transaction.
Parsing and checking live in :mod:`~lineage_audit.service.events`, the reduction in
:mod:`~lineage_audit.service.derive`, the merge in its ``merge_facets``, ``merge_versions`` and ``merge_jobs``,
the SQL both backends run in :mod:`~lineage_audit.service.merge_sql`.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy.engine import Engine

from lineage_audit.service import ledger
from lineage_audit.service.derive import Derivation
from lineage_audit.service.events import Checked
from lineage_audit.service.merge_sql import Sql, insert_values


@dataclass(frozen=True)
class IngestResult:
    stored: int
    duplicates: int


class Ingester:
    """Writes events into the store; one instance per engine (it serialises writers)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()  # one writer at a time: SQLite allows no more, and runs stay consistent
        self._sql = Sql(engine.dialect.name)

    def ingest(self, checked: Iterable[Checked]) -> IngestResult:
        items = list(checked)
        first: dict[str, Checked] = {}
        for item in items:
            first.setdefault(item.digest, item)
        unique = list(first.values())
        with self._lock, self.engine.begin() as conn:
            dbapi = conn.connection.dbapi_connection
            # psycopg's pipeline mode sends the statements whose results are not read without waiting for each
            with dbapi.pipeline() if self._sql.postgres else contextlib.nullcontext():
                cursor = dbapi.cursor()
                try:
                    received = datetime.now(timezone.utc)
                    new = self._store_raw(cursor, unique, received)
                    ledger.append(self._sql, cursor, new, received)
                    if new:
                        Derivation(self._sql, cursor, new).run()
                finally:
                    cursor.close()
        return IngestResult(len(new), len(items) - len(new))

    def _store_raw(self, cursor: Any, items: list[Checked], received: datetime) -> list[Checked]:
        """Insert the raw events; returns those that were not stored yet, in arrival order."""
        sql = self._sql
        now = sql.time(received)
        rows = [{"event_hash": i.digest, "event_kind": i.kind, "event_type": i.event_type,
                 "event_time": sql.time(i.event_time), "run_uuid": i.run_id,
                 "job_namespace": i.job[0] if i.job else None, "job_name": i.job[1] if i.job else None,
                 "received_at": now, "payload": i.canonical} for i in items]
        inserted = {row[0] for row in insert_values(
            sql, cursor, "lineage_events", rows, "ON CONFLICT (event_hash) DO NOTHING RETURNING event_hash")}
        return [i for i in items if i.digest in inserted]
