"""A dataset at a moment T, for the dataset diff: what the stored events with ``eventTime <= T`` made of it.

The store keeps each run's state as its events decided it by now; a run that completed after T was still
running at T. So a run's state at T is decided again here from its own stored events up to T, by the rule
ingest applies (the higher rank wins, then the later event: ``events.STATE_RANK``). From those states, the
dataset's version current at T follows the service's rule for the current version (``merge_sql``:
``current_version``): the newest version whose writer had completed (from its completion; a streaming job's
while it runs) or a DatasetEvent's (from its event), else the version its first readers made.

Self-contained on purpose: the general "as of" layer of the read API answers the same question for every
route, and the two are to be reconciled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from fastapi import HTTPException
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection, RowMapping

from lineage_audit.service.db import dataset_versions, jobs, lineage_events, run_io, runs
from lineage_audit.service.events import RUN_STATE, STATE_RANK, parse_time


def parse_moment(value: str, parameter: str) -> datetime:
    """An ISO 8601 moment as an aware UTC datetime (a naive one is UTC); else a 400 naming the parameter."""
    try:
        return parse_time(value)
    except (ValueError, TypeError):
        raise HTTPException(400, f"{parameter}: '{value}' is not an ISO 8601 timestamp") from None


def aware(value: datetime | None) -> datetime | None:
    """Timestamps come back naive from SQLite (stored as UTC) and aware from PostgreSQL."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


@dataclass(frozen=True)
class StateAt:
    """A run's state at a moment and the time of the event that decided it."""

    state: str
    time: datetime


def run_states_at(conn: Connection, run_ids: Iterable[str], moment: datetime) -> dict[str, StateAt]:
    """The state of each run at ``moment`` from its stored RunEvents up to then (runs without any: absent)."""
    run_ids = sorted(set(run_ids))
    decided: dict[str, tuple[int, datetime, str]] = {}
    for start in range(0, len(run_ids), 400):
        rows = conn.execute(select(lineage_events.c.run_uuid, lineage_events.c.event_type,
                                   lineage_events.c.event_time)
                            .where(lineage_events.c.run_uuid.in_(run_ids[start:start + 400]),
                                   lineage_events.c.event_kind == "RunEvent",
                                   lineage_events.c.event_time <= moment))
        for run_id, event_type, event_time in rows:
            state = RUN_STATE.get(event_type or "", "NEW")
            candidate = (STATE_RANK[state], aware(event_time), state)
            if run_id not in decided or candidate > decided[run_id]:
                decided[run_id] = candidate
    return {run_id: StateAt(state, t) for run_id, (_rank, t, state) in decided.items()}


def current_version_at(conn: Connection, dataset_id: int, moment: datetime) -> RowMapping | None:
    """The dataset's version current at ``moment`` (a ``dataset_versions`` row), None if it had none."""
    rows = list(conn.execute(select(dataset_versions).where(dataset_versions.c.dataset_id == dataset_id,
                                                            dataset_versions.c.created_at <= moment)).mappings())
    written = [row for row in rows if row["origin"] != "READ"]
    states = run_states_at(conn, [row["run_uuid"] for row in written if row["run_uuid"]], moment)
    streaming = _streaming_runs(conn, [row["run_uuid"] for row in written if row["run_uuid"]])
    best: tuple[datetime, str] | None = None
    found = None
    for row in written:
        since = _current_since(row, states.get(row["run_uuid"]), row["run_uuid"] in streaming, moment)
        if since is not None and (best is None or (since, row["uuid"]) > best):
            best, found = (since, row["uuid"]), row
    if found is not None:
        return found
    return next((row for row in rows if row["origin"] == "READ"), None)


def _current_since(row: RowMapping, state: StateAt | None, streaming: bool, moment: datetime) -> datetime | None:
    """From when a written version was current, as of ``moment``; None if it was none yet. A DatasetEvent's
    version counts from its newest event up to the moment (the store keeps its first and newest)."""
    if row["origin"] == "EVENT":
        newest = aware(row["event_time"])
        return newest if newest <= moment else aware(row["created_at"])
    if state is None:
        return None
    if state.state == "COMPLETED":
        return state.time
    if state.state == "RUNNING" and streaming:
        return aware(row["created_at"])
    return None


def _streaming_runs(conn: Connection, run_ids: list[str]) -> set[str]:
    if not run_ids:
        return set()
    return set(conn.execute(select(runs.c.uuid).join(jobs, jobs.c.id == runs.c.job_id)
                            .where(runs.c.uuid.in_(sorted(set(run_ids))), jobs.c.type == "STREAM")).scalars())


def writer_runs_at(conn: Connection, dataset_id: int, moment: datetime) -> dict[int, str]:
    """``{job id: run}`` of the jobs writing the dataset at ``moment``: those whose latest run by then (the
    newest created, as a job's latest run is chosen) wrote it, as the lineage graph's edges follow latest runs."""
    job_ids = sorted(set(conn.execute(select(runs.c.job_id).join(run_io, run_io.c.run_uuid == runs.c.uuid).where(
        run_io.c.dataset_id == dataset_id, run_io.c.direction == "OUTPUT", runs.c.created_at <= moment)).scalars()))
    writers = {}
    for job_id in job_ids:
        latest = conn.execute(select(runs.c.uuid).where(runs.c.job_id == job_id, runs.c.created_at <= moment)
                              .order_by(runs.c.created_at.desc(), runs.c.uuid.desc()).limit(1)).scalar()
        wrote = conn.execute(select(run_io.c.run_uuid).where(and_(
            run_io.c.run_uuid == latest, run_io.c.dataset_id == dataset_id, run_io.c.direction == "OUTPUT"))).first()
        if wrote is not None:
            writers[job_id] = latest
    return writers


def existed_at(row: Any, moment: datetime) -> bool:
    """Whether a dataset (or job) row existed at ``moment``: some event up to then named it."""
    return aware(row["created_at"]) <= moment
