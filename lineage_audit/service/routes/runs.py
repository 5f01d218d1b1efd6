"""Runs: the runs of a job (newest first), one run, the run or job facets a run's events carried, and the runs
upstream of a run; and Marquez's older write API for runs: creating one, and its transitions (see
``legacy_writes``)."""

from __future__ import annotations

import json
import uuid
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from lineage_audit.service import legacy_writes
from lineage_audit.service.db import facets, jobs, lineage_events, runs
from lineage_audit.service.legacy_writes import CreatedRun
from lineage_audit.service.lookups import Limit, NameRoute, Offset, job_row, one_or_404
from lineage_audit.service.models import FacetsResult, Run, RunList, UpstreamRunLineage, documented
from lineage_audit.service.run_lineage import upstream_runs
from lineage_audit.service.views import run_view, runs_view

router = APIRouter(tags=["Jobs"], route_class=NameRoute)
write_router = APIRouter(tags=["Jobs"], route_class=NameRoute)


class FacetType(str, Enum):
    run = "run"
    job = "job"


def _run_id(value: str, name: str = "id") -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise HTTPException(400, f"{name}: '{value}' is not a UUID") from None


@router.get("/namespaces/{namespace}/jobs/{job}/runs", summary="List the runs of a job",
            responses=documented(RunList, "The runs, newest first", 400, 404))
def list_runs(request: Request, namespace: str, job: str, limit: Limit = 100, offset: Offset = 0) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        job_id = job_row(conn, namespace, job)["id"]
        rows = list(conn.execute(select(runs).where(runs.c.job_id == job_id)
                                 .order_by(runs.c.created_at.desc(), runs.c.uuid)
                                 .limit(limit).offset(offset)).mappings())
        total = conn.execute(select(func.count()).select_from(runs).where(runs.c.job_id == job_id)).scalar_one()
        return JSONResponse({"runs": runs_view(conn, rows), "totalCount": total})


@router.get("/jobs/runs/{id}", summary="Retrieve a run", responses=documented(Run, "The run", 400, 404))
def get_run(request: Request, id: str) -> JSONResponse:
    run_id = _run_id(id)
    with request.app.state.engine.connect() as conn:
        row = one_or_404(conn, select(runs).where(runs.c.uuid == run_id), f"Run '{id}' not found.")
        return JSONResponse(run_view(conn, row))


@router.get("/jobs/runs/{id}/facets", summary="Retrieve the run or job facets of a run",
            description="`type=run`: the run's facets, the newest event's value of each. `type=job`: the job "
                        "facets the run's events carried, merged in event time order.",
            responses=documented(FacetsResult, "The facets", 400, 404))
def get_run_facets(request: Request, id: str,
                   type: FacetType = Query(description="Whether to return the run's or the job's facets")
                   ) -> JSONResponse:
    run_id = _run_id(id)
    with request.app.state.engine.connect() as conn:
        one_or_404(conn, select(runs.c.uuid).where(runs.c.uuid == run_id), f"Run '{id}' not found.")
        if type is FacetType.run:
            found = dict(conn.execute(select(facets.c.name, facets.c.value).where(
                facets.c.owner_kind == "run", facets.c.owner_key == run_id).order_by(facets.c.name)).all())
        else:
            found = {}
            payloads = conn.execute(select(lineage_events.c.payload).where(lineage_events.c.run_uuid == run_id)
                                    .order_by(lineage_events.c.event_time, lineage_events.c.id)).scalars()
            for payload in payloads:
                job_facets = (json.loads(payload).get("job") or {}).get("facets")
                if isinstance(job_facets, dict):
                    found.update({k: v for k, v in job_facets.items() if isinstance(v, dict)})
    return JSONResponse({"runId": run_id, "facets": found})


@write_router.post("/namespaces/{namespace}/jobs/{job}/runs", status_code=201,
                   summary="Create a run of a job (Marquez's older API)",
                   description="A run in state NEW, not started, with the nominal times and arguments given; "
                               "`id` (a UUID) is chosen when absent. 400 if a run of that id exists.",
                   responses={**documented(Run, "", 400, 404), 201: {"model": Run, "description": "The new run"}})
def create_run(request: Request, namespace: str, job: str, body: CreatedRun | None = None) -> JSONResponse:
    with request.app.state.engine.begin() as conn:
        job_id = job_row(conn, namespace, job)["id"]
        run_id = legacy_writes.create_run(conn, job_id, body or CreatedRun())
        row = conn.execute(select(runs).where(runs.c.uuid == run_id)).mappings().one()
        return JSONResponse(run_view(conn, row), status_code=201,
                            headers={"Location": str(request.url_for("get_run", id=run_id))})


def _transition(request: Request, id: str, event_type: str, at: str | None) -> JSONResponse:
    run_id = _run_id(id)
    event_time = legacy_writes.transition_time(at)
    with request.app.state.engine.connect() as conn:
        one_or_404(conn, select(runs.c.uuid).where(runs.c.uuid == run_id), f"Run '{id}' not found.")
        namespace, name = conn.execute(select(jobs.c.namespace, jobs.c.name).join(runs, runs.c.job_id == jobs.c.id)
                                       .where(runs.c.uuid == run_id)).one()
    legacy_writes.ingest(request.app.state.ingester,
                         legacy_writes.run_event(run_id, namespace, name, event_type, event_time))
    with request.app.state.engine.connect() as conn:
        return JSONResponse(run_view(conn, conn.execute(select(runs).where(runs.c.uuid == run_id)).mappings().one()))


At = Annotated[str | None, Query(description="When the run moved to that state (ISO 8601); now when absent")]
TRANSITION_NOTE = ("Recorded as the RunEvent of that type, so the run's state follows the rules of events: a "
                   "finished run is not started again, and of two ends the later wins.")


def _transition_route(action: str, event_type: str, state: str) -> None:
    def move(request: Request, id: str, at: At = None) -> JSONResponse:
        return _transition(request, id, event_type, at)

    write_router.post(f"/jobs/runs/{{id}}/{action}", name=f"{action}_run", description=TRANSITION_NOTE,
                      summary=f"Mark a run as {state} (Marquez's older API)",
                      responses=documented(Run, "The run", 400, 404))(move)


for _action, _event_type, _state in (("start", "START", "RUNNING"), ("complete", "COMPLETE", "COMPLETED"),
                                     ("fail", "FAIL", "FAILED"), ("abort", "ABORT", "ABORTED")):
    _transition_route(_action, _event_type, _state)


@router.get("/runlineage/upstream", tags=["Lineage"], summary="Get the upstream lineage of a run",
            description="The run, then the runs that wrote the dataset versions it read, and so on, `depth` steps "
                        "up; each run once, at its fewest steps, ordered by steps then job name, with the dataset "
                        "versions it read and the run that wrote each.",
            responses=documented(UpstreamRunLineage, "The upstream runs", 400, 404))
def get_upstream_runs(request: Request,
                      runId: str = Query(description="The run to start from"),
                      depth: int = Query(20, ge=0, description="Steps from run to upstream run")) -> JSONResponse:
    run_id = _run_id(runId, "runId")
    with request.app.state.engine.connect() as conn:
        one_or_404(conn, select(runs.c.uuid).where(runs.c.uuid == run_id), f"Run '{runId}' not found.")
        return JSONResponse(upstream_runs(conn, run_id, depth))
