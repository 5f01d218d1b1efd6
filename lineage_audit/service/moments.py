"""``GET /api/v1/audit/moments``: the moments at which the graph around a node may have changed, the stops
of the UI's "as of" control.

The graph is the union of the graph over all time: a job's datasets are those any of its runs read or wrote
(``run_io``) and its current ones (``job_io``, which holds what JobEvents declared); a dataset's jobs likewise.
The walk is ``graph.py``'s (job to job through shared datasets, ``depth`` job steps; a dataset starts from
every job that ever touched it), and the moments are the run events of the jobs reached, by event time.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from lineage_audit.service.db import job_io, jobs, lineage_events, run_io, runs
from lineage_audit.service.events import EVENT_TYPES
from lineage_audit.service.node_ids import among, chunks, resolve
from lineage_audit.service.views import iso

MOST = 500  # moments in an answer: the newest ones when there are more
EVER = datetime(9999, 12, 31, tzinfo=timezone.utc)  # a moment after every event: the jobs and datasets of all time


def _datasets_of(conn: Connection, job_ids: list[int]) -> set[int]:
    found: set[int] = set()
    for chunk in chunks(job_ids):
        found.update(conn.execute(select(run_io.c.dataset_id).join(runs, runs.c.uuid == run_io.c.run_uuid)
                                  .where(among(conn, runs.c.job_id, chunk)).distinct()).scalars())
        found.update(conn.execute(select(job_io.c.dataset_id).where(among(conn, job_io.c.job_id, chunk))).scalars())
    return found


def _jobs_of(conn: Connection, dataset_ids: set[int]) -> set[int]:
    found: set[int] = set()
    for chunk in chunks(dataset_ids):
        found.update(conn.execute(select(runs.c.job_id).join(run_io, run_io.c.run_uuid == runs.c.uuid)
                                  .where(among(conn, run_io.c.dataset_id, chunk)).distinct()).scalars())
        found.update(conn.execute(select(job_io.c.job_id).where(among(conn, job_io.c.dataset_id, chunk))).scalars())
    return found


def graph_jobs(conn: Connection, node_id: str, depth: int) -> set[int]:
    """The jobs of the graph of a job or dataset nodeId over all time."""
    node = resolve(conn, node_id, ("job", "dataset"), EVER)
    frontier = {node.id} if node.kind == "job" else _jobs_of(conn, {node.id})
    seen, expanded = set(frontier), {node.id} if node.kind == "dataset" else set()
    for _ in range(depth):
        new_datasets = _datasets_of(conn, sorted(frontier)) - expanded
        expanded |= new_datasets
        frontier = _jobs_of(conn, new_datasets) - seen
        if not frontier:
            break
        seen |= frontier
    return seen


def moments(conn: Connection, node_id: str, depth: int) -> dict[str, Any]:
    """``{"moments": [...]}``: the run events of the graph's jobs, oldest first, the newest ``MOST`` of them."""
    job_ids = graph_jobs(conn, node_id, depth)
    names = {}
    found = []
    for chunk in chunks(job_ids):
        names |= {row.id: {"namespace": row.namespace, "name": row.name} for row in conn.execute(
            select(jobs.c.id, jobs.c.namespace, jobs.c.name).where(among(conn, jobs.c.id, chunk)))}
        found += conn.execute(
            select(lineage_events.c.event_time, lineage_events.c.id, lineage_events.c.event_type,
                   lineage_events.c.run_uuid, runs.c.job_id)
            .join(runs, runs.c.uuid == lineage_events.c.run_uuid)
            .where(among(conn, runs.c.job_id, chunk), lineage_events.c.event_kind == "RunEvent")
            .order_by(lineage_events.c.event_time.desc(), lineage_events.c.id.desc()).limit(MOST)).all()
    newest = sorted(found, key=lambda r: (_utc(r.event_time), r.id), reverse=True)[:MOST]
    return {"moments": [{"time": iso(_utc(r.event_time)),
                         "eventType": r.event_type if r.event_type in EVENT_TYPES else "OTHER",
                         "runId": r.run_uuid, "job": names[r.job_id]} for r in reversed(newest)]}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
