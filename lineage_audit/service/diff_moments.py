"""A dataset at a moment T, for the dataset diff: what the stored events with ``eventTime <= T`` made of it.

The store keeps each run's state as its events decided it by now; a run that completed after T was still
running at T. So a run's state at T is decided again here from its own stored events up to T, by the rule
ingest applies (the higher rank wins, then the later event: ``events.STATE_RANK``). From those states, the
dataset's version current at T follows the service's rule for the current version (``merge_sql``:
``current_version``): the newest version whose writer had completed (from its completion; a streaming job's
while it runs) or a DatasetEvent's (from its event), else the version its first readers made.

The dataset's current version at T is the one ``asOf`` answers with (the "as of" layer of the read API), so a
diff and a detail as of the same moment agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from fastapi import HTTPException
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection, RowMapping

from lineage_audit.service.db import dataset_versions, lineage_events, run_io, runs
from lineage_audit.service import as_of
from lineage_audit.service.as_of import RunsAt, aware
from lineage_audit.service.as_of_datasets import DatasetsAt
from lineage_audit.service.events import RUN_STATE, STATE_RANK


def parse_moment(value: str, parameter: str) -> datetime:
    """A diff's ``from``/``to`` as ``asOf`` reads a moment; else a 400 naming the parameter."""
    try:
        return as_of.parse_moment(value, parameter)
    except as_of.MomentError as exc:
        raise HTTPException(400, str(exc)) from None


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
    """The dataset's version current at ``moment`` (a ``dataset_versions`` row), None if it had none: the one
    ``asOf`` answers with (:mod:`~lineage_audit.service.as_of_datasets`), so that a diff and the detail as of
    the same moment never disagree."""
    datasets_at = DatasetsAt(conn, moment, RunsAt(conn, moment))
    datasets_at.load([dataset_id])
    datasets_at.read_versions([dataset_id])
    uuid = datasets_at.row_at(dataset_id)["current_version"]
    if uuid is None:
        return None
    return conn.execute(select(dataset_versions).where(dataset_versions.c.uuid == uuid)).mappings().first()


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
