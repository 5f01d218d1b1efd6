"""The tamper-evident event ledger: every stored event, in arrival order, in a hash chain.

Entry *n* seals one event of ``lineage_events``. Its hash is the sha256 of its position, the hash of
entry *n - 1* (64 zeros for the first), the time it was appended and the event's canonical JSON (the
bytes whose sha256 is the event's identity). Entries are appended in the transaction that stores the
events, so an event is never stored without its entry. A duplicate is never stored, so it is never
appended twice.

Changing any stored event, or any entry, breaks the chain from there on; :func:`verify` recomputes it
and names the first entry that does not hold. Rewriting the whole chain after a change is possible
for whoever can write the database, which is why :func:`head` exists: an auditor who noted a length and
head hash can later prove that nothing before it changed (``lineage-audit verify --expect``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from lineage_audit.service.db import event_ledger, lineage_events
from lineage_audit.service.events import Checked, parse_time
from lineage_audit.service.merge_sql import Sql, insert_values, run_statement

ALGORITHM = "sha256"
GENESIS = "0" * 64
# Any 64-bit number, the same for every writer: PostgreSQL serialises appends on it, so that two service
# processes never give two entries one position. (SQLite's single writer lock does this on its own.)
_APPEND_LOCK = 0x6C696E6561676531
_PAGE = 2000


def entry_hash(position: int, previous_hash: str, appended_at: str, canonical: str) -> str:
    """The hash of one entry. This is the ledger's format: changing it invalidates every stored ledger."""
    header = f"{position}\n{previous_hash}\n{appended_at}\n".encode()
    return hashlib.sha256(header + canonical.encode()).hexdigest()


def appended_at_text(moment: datetime) -> str:
    """The time of an append as the ledger keeps and hashes it: UTC, microseconds, ``Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def append(sql: Sql, cursor: Any, events: Sequence[Checked], moment: datetime) -> None:
    """Append ``events`` (just stored, in arrival order) to the ledger, in the caller's transaction."""
    if not events:
        return
    if sql.postgres:
        run_statement(sql, cursor, "SELECT pg_advisory_xact_lock(:key)", {"key": _APPEND_LOCK})
    last = run_statement(sql, cursor, "SELECT position, entry_hash FROM event_ledger ORDER BY position DESC LIMIT 1",
                         {})
    position, previous = (last[0][0], last[0][1]) if last else (0, GENESIS)
    appended_at = appended_at_text(moment)
    rows = []
    for item in events:
        position += 1
        previous_hash, previous = previous, entry_hash(position, previous, appended_at, item.canonical)
        rows.append({"position": position, "event_hash": item.digest, "appended_at": appended_at,
                     "previous_hash": previous_hash, "entry_hash": previous})
    insert_values(sql, cursor, "event_ledger", rows, "")


@dataclass(frozen=True)
class Head:
    length: int
    head_hash: str | None
    last_appended_at: str | None

    def as_json(self) -> dict[str, Any]:
        return {"length": self.length, "headHash": self.head_hash, "algorithm": ALGORITHM,
                "lastAppendedAt": self.last_appended_at}


def head(conn: Connection, length: int | None = None) -> Head | None:
    """The ledger's head, or the head it had at ``length`` entries (``None`` past its end)."""
    query = select(event_ledger.c.position, event_ledger.c.entry_hash, event_ledger.c.appended_at)
    if length is None:
        row = conn.execute(query.order_by(event_ledger.c.position.desc()).limit(1)).first()
    elif length == 0:
        return Head(0, None, None)
    else:
        row = conn.execute(query.where(event_ledger.c.position == length)).first()
        if row is None:
            return None
    return Head(row.position, row.entry_hash, row.appended_at) if row else Head(0, None, None)


@dataclass(frozen=True)
class Finding:
    """What :func:`verify` found wrong first: the entry, and what happened to it."""

    position: int | None  # None: an event that no entry seals
    kind: str  # changed, removed, reordered, inserted
    detail: str

    def __str__(self) -> str:
        where = f"entry {self.position}" if self.position is not None else "the store"
        return f"{where}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Verification:
    length: int  # entries in the ledger
    verified: int  # entries that hold, from the first on
    head_hash: str | None  # of the last entry that holds
    finding: Finding | None

    @property
    def ok(self) -> bool:
        return self.finding is None


def _entries(conn: Connection) -> Iterator[Any]:
    """The entries in chain order, each with the event it seals (or none), a page at a time."""
    query = (select(event_ledger, lineage_events.c.id, lineage_events.c.payload, lineage_events.c.event_time)
             .select_from(event_ledger.outerjoin(lineage_events,
                                                 lineage_events.c.event_hash == event_ledger.c.event_hash))
             .order_by(event_ledger.c.position).limit(_PAGE))
    after = 0
    while True:
        page = conn.execute(query.where(event_ledger.c.position > after)).all()
        yield from page
        if len(page) < _PAGE:
            return
        after = page[-1].position


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _event_changed(entry: Any) -> str | None:
    """Why the stored event of ``entry`` is not the one that was sealed, if it is not."""
    if hashlib.sha256(entry.payload.encode()).hexdigest() != entry.event_hash:
        return f"the content of event {entry.id} was changed after it was stored"
    try:
        stated = parse_time(json.loads(entry.payload)["eventTime"])
    except (ValueError, KeyError, TypeError):
        return f"event {entry.id} no longer holds a readable eventTime"
    if _utc(stated) != _utc(entry.event_time):
        return f"the stored time of event {entry.id} ({entry.event_time}) is not its eventTime ({stated})"
    return None


def _chain_break(conn: Connection, entry: Any) -> Finding:
    """Classify an entry whose previous hash is not the hash of the entry before it."""
    pointed = conn.execute(select(event_ledger.c.position).where(
        event_ledger.c.entry_hash == entry.previous_hash)).scalars().first()
    position = entry.position
    if pointed is not None and pointed > position:
        return Finding(position, "reordered", f"it was appended after entry {pointed}, which now follows it")
    if pointed is not None and pointed < position - 1:
        return Finding(pointed + 1, "inserted", f"the chain goes from entry {pointed} straight to entry {position}: "
                                                f"entries {pointed + 1} to {position - 1} were added later")
    return Finding(position, "removed", "the entry it was chained to is gone (entries before it were removed)")


def _check_entry(conn: Connection, entry: Any, expected_position: int, previous: str,
                 sealed: dict[str, int]) -> Finding | None:
    if entry.position != expected_position:
        return Finding(expected_position, "removed", f"there is no entry {expected_position}; the next one is "
                                                     f"entry {entry.position}")
    if entry.id is None:
        return Finding(entry.position, "removed", f"the event it seals ({entry.event_hash}) is no longer stored")
    if entry.event_hash in sealed:
        return Finding(entry.position, "inserted",
                       f"it seals an event that entry {sealed[entry.event_hash]} already seals")
    changed = _event_changed(entry)
    if changed:
        return Finding(entry.position, "changed", changed)
    if entry.previous_hash != previous:
        return _chain_break(conn, entry)
    if entry_hash(entry.position, previous, entry.appended_at, entry.payload) != entry.entry_hash:
        return Finding(entry.position, "changed", "the entry itself was edited (its hash does not match its content)")
    return None


def _unsealed_event(conn: Connection) -> Finding | None:
    row = conn.execute(select(lineage_events.c.id, lineage_events.c.received_at)
                       .select_from(lineage_events.outerjoin(
                           event_ledger, event_ledger.c.event_hash == lineage_events.c.event_hash))
                       .where(event_ledger.c.position.is_(None)).order_by(lineage_events.c.id).limit(1)).first()
    if row is None:
        return None
    return Finding(None, "inserted", f"event {row.id} (received {row.received_at}) is stored but no entry seals it")


def _check_expected(conn: Connection, length: int, expected: tuple[int, str]) -> Finding | None:
    noted_length, noted_hash = expected
    if noted_length > length:
        return Finding(noted_length, "removed", f"the ledger has {length} entries, fewer than the {noted_length} "
                                                "noted: entries were removed from its end")
    noted = head(conn, noted_length)
    actual = noted.head_hash if noted else None
    if noted_length and actual != noted_hash:
        return Finding(noted_length, "changed", f"its hash is {actual}, not the {noted_hash} noted: the ledger up to "
                                                "it was rewritten")
    return None


def verify(engine: Engine, expected: tuple[int, str] | None = None) -> Verification:
    """Recompute the chain; the first entry that does not hold, if any (and against a noted head)."""
    previous, position = GENESIS, 0
    sealed: dict[str, int] = {}
    with engine.connect() as conn:
        for entry in _entries(conn):
            finding = _check_entry(conn, entry, position + 1, previous, sealed)
            if finding:
                total = conn.execute(select(func.count()).select_from(event_ledger)).scalar_one()
                return Verification(total, position, previous if position else None, finding)
            sealed[entry.event_hash] = entry.position
            previous, position = entry.entry_hash, entry.position
        finding = _unsealed_event(conn)
        if finding is None and expected is not None:
            finding = _check_expected(conn, position, expected)
        total = conn.execute(select(func.count()).select_from(event_ledger)).scalar_one()
    return Verification(total, position, previous if position else None, finding)
