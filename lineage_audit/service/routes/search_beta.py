"""``GET /api/v2beta/search/jobs`` and ``/search/datasets``: marquez-web's advanced search.

Marquez answers these from OpenSearch, an index of the latest event of each job and dataset; this
service answers from its own store, in the same shape: ``hits`` (the job or dataset with the run of
its latest event, that event's type and its facets) and ``highlights`` (per hit, each matching field
with the match in ``<em>``). As in Marquez's index, a dataset's run is the latest run that read or wrote
it. A dataset never given a schema answers ``facets.schema.fields`` empty, where Marquez's index has no
schema: marquez-web reads the fields of every dataset hit without a guard and would fail to render. ``q`` matches case-insensitively anywhere in the name or namespace (and
in a dataset's field names), literally: no wildcards. The newest ten hits come back, as OpenSearch
gives ten by default.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exists, func, or_, select
from sqlalchemy.engine import Connection

from lineage_audit.service.db import dataset_fields, datasets, jobs, lineage_events, run_io, runs
from lineage_audit.service.events import INTERNAL_FACETS
from lineage_audit.service.views import facets_of

beta_router = APIRouter(tags=["Search"])
HITS = 10
Q = Query(min_length=1, max_length=1024, description="Text matched anywhere in the name or namespace "
                                                     "(datasets: also field names), case-insensitively")


def _contains(column, text: str):
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def _highlight(value: str, text: str) -> str:
    return re.sub(re.escape(text), lambda m: f"<em>{m.group(0)}</em>", value, flags=re.IGNORECASE)


def _highlights(text: str, **values: list[str]) -> dict[str, list[str]]:
    return {key: [_highlight(v, text) for v in found if text.lower() in v.lower()]
            for key, found in values.items() if any(text.lower() in v.lower() for v in found)}


def _event_types(conn: Connection, run_ids: list[str]) -> dict[str, str | None]:
    """The type of each run's latest event (by event time)."""
    found: dict[str, tuple[Any, str | None]] = {}
    if run_ids:
        rows = conn.execute(select(lineage_events.c.run_uuid, lineage_events.c.event_time, lineage_events.c.event_type)
                            .where(lineage_events.c.run_uuid.in_(run_ids)))
        for run_id, t, event_type in rows:
            if run_id not in found or t >= found[run_id][0]:
                found[run_id] = (t, event_type)
    return {run_id: event_type for run_id, (_t, event_type) in found.items()}


def _latest_runs(conn: Connection, dataset_ids: list[int]) -> dict[int, str]:
    """Per dataset, the run that read or wrote it last (by the run's latest event time)."""
    found: dict[int, tuple[Any, str]] = {}
    if dataset_ids:
        rows = conn.execute(select(run_io.c.dataset_id, runs.c.uuid, runs.c.updated_at)
                            .join(runs, runs.c.uuid == run_io.c.run_uuid)
                            .where(run_io.c.dataset_id.in_(dataset_ids)))
        for dataset_id, run_id, t in rows:
            if dataset_id not in found or (t, run_id) > found[dataset_id]:
                found[dataset_id] = (t, run_id)
    return {dataset_id: run_id for dataset_id, (_t, run_id) in found.items()}


def _public(facets: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in facets.items() if name not in INTERNAL_FACETS}


@beta_router.get("/search/jobs", summary="Search jobs (marquez-web's advanced search)")
def search_jobs(request: Request, q: str = Q) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(select(jobs.c.id, jobs.c.namespace, jobs.c.name, jobs.c.type, jobs.c.latest_run_uuid)
                            .where(or_(_contains(jobs.c.name, q), _contains(jobs.c.namespace, q)))
                            .order_by(jobs.c.updated_at.desc(), jobs.c.namespace, jobs.c.name).limit(HITS)).all()
        run_ids = [row.latest_run_uuid for row in rows if row.latest_run_uuid]
        job_facets = facets_of(conn, "job", [row.id for row in rows])
        run_facets = facets_of(conn, "run", run_ids)
        event_types = _event_types(conn, run_ids)
    hits = [{"run_id": row.latest_run_uuid, "name": row.name, "namespace": row.namespace,
             "eventType": event_types.get(row.latest_run_uuid), "type": row.type,
             "facets": _public(job_facets[str(row.id)]), "runFacets": run_facets.get(row.latest_run_uuid, {})}
            for row in rows]
    highlights = [_highlights(q, name=[row.name], namespace=[row.namespace]) for row in rows]
    return JSONResponse({"hits": hits, "highlights": highlights})


@beta_router.get("/search/datasets", summary="Search datasets (marquez-web's advanced search)")
def search_datasets(request: Request, q: str = Q) -> JSONResponse:
    field_match = exists().where(dataset_fields.c.dataset_id == datasets.c.id, _contains(dataset_fields.c.name, q))
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(select(datasets.c.id, datasets.c.namespace, datasets.c.name)
                            .where(or_(_contains(datasets.c.name, q), _contains(datasets.c.namespace, q), field_match))
                            .order_by(datasets.c.updated_at.desc(), datasets.c.namespace, datasets.c.name)
                            .limit(HITS)).all()
        ids = [row.id for row in rows]
        fields: dict[int, list[str]] = {i: [] for i in ids}
        if ids:
            for dataset_id, name in conn.execute(select(dataset_fields.c.dataset_id, dataset_fields.c.name)
                                                 .where(dataset_fields.c.dataset_id.in_(ids))
                                                 .order_by(dataset_fields.c.dataset_id, dataset_fields.c.position)):
                fields[dataset_id].append(name)
        dataset_facets = facets_of(conn, "dataset", ids)
        latest_run = _latest_runs(conn, ids)
        event_types = _event_types(conn, list(latest_run.values()))
    hits = [{"run_id": latest_run.get(row.id), "name": row.name, "namespace": row.namespace,
             "eventType": event_types.get(latest_run.get(row.id)),
             "facets": {"schema": {"fields": []}, **_public(dataset_facets[str(row.id)])}}
            for row in rows]
    highlights = [_highlights(q, name=[row.name], namespace=[row.namespace], **{"facets.schema.fields.name":
                                                                                 fields[row.id]})
                  for row in rows]
    return JSONResponse({"hits": hits, "highlights": highlights})
