"""Jobs: lists (per namespace, and of all namespaces), one job, and its versions; tags on jobs, soft
delete, and ``PUT`` of Marquez's older write API (see ``legacy_writes``).

Jobs are listed newest-updated first (Marquez's order, which its web UI's dashboard relies on), with
``totalCount`` the number of jobs in the whole list; ``lastRunStates`` keeps the jobs whose latest run
is in one of the states given, and the jobs without runs, as Marquez does. A job's
``inputs`` and ``outputs`` are those of its latest run; ``latestRuns`` holds up to ten runs,
newest first. A version is one per distinct set of inputs, outputs and location of completed runs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from lineage_audit.service.as_of_views import job_row_at, job_view_at
from lineage_audit.service.db import job_tags, job_versions, jobs, runs
from lineage_audit.service.routes.graph import AS_OF_DESCRIPTION, moment
from lineage_audit.service import legacy_writes
from lineage_audit.service.legacy_writes import CreatedJob
from lineage_audit.service.lookups import Limit, NameRoute, Offset, dataset_row, job_row, namespace_row, one_or_404
from lineage_audit.service.routes.tags import upsert_tag
from lineage_audit.service.models import Job, JobList, JobVersion, JobVersionList, documented
from lineage_audit.service.views import job_version_rows, job_versions_view, job_view, jobs_view

router = APIRouter(tags=["Jobs"], route_class=NameRoute)
write_router = APIRouter(tags=["Jobs"], route_class=NameRoute)


RUN_STATES = ("NEW", "RUNNING", "COMPLETED", "FAILED", "ABORTED")
LastRunStates = Annotated[list[str] | None, Query(
    description="Only jobs whose latest run is in one of these states (repeat the parameter for more), and "
                "jobs without runs; every state when absent. `totalCount` counts every job, as in Marquez.")]


def _listed_jobs(conn: Connection, namespace: str | None, states: list[str] | None, limit: int,
                 offset: int) -> JSONResponse:
    """A page of jobs, newest-updated first, as Marquez lists them; soft-deleted jobs are left out."""
    wanted = [state.upper() for state in states or ()]
    unknown = sorted(set(wanted) - set(RUN_STATES))
    if unknown:
        raise HTTPException(400, f"lastRunStates: unknown state {unknown[0]!r}, must be one of {', '.join(RUN_STATES)}")
    listed = [jobs.c.is_hidden.is_(False)] + ([jobs.c.namespace == namespace] if namespace is not None else [])
    query = select(jobs).where(*listed)
    if wanted and set(wanted) != set(RUN_STATES):
        latest = runs.alias("latest")
        query = query.outerjoin(latest, latest.c.uuid == jobs.c.latest_run_uuid).where(
            or_(latest.c.uuid.is_(None), latest.c.state.in_(wanted)))
    rows = list(conn.execute(query.order_by(jobs.c.updated_at.desc(), jobs.c.name, jobs.c.namespace)
                             .limit(limit).offset(offset)).mappings())
    total = conn.execute(select(func.count()).select_from(jobs).where(*listed)).scalar_one()
    return JSONResponse({"jobs": jobs_view(conn, rows), "totalCount": total})


@router.get("/jobs", summary="List the jobs of every namespace", responses=documented(
    JobList, "The jobs, newest-updated first", 400))
def list_all_jobs(request: Request, limit: Limit = 100, offset: Offset = 0,
                  lastRunStates: LastRunStates = None) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        return _listed_jobs(conn, None, lastRunStates, limit, offset)


@router.get("/namespaces/{namespace}/jobs", summary="List the jobs of a namespace", responses=documented(
    JobList, "The jobs, newest-updated first", 400, 404))
def list_jobs(request: Request, namespace: str, limit: Limit = 100, offset: Offset = 0,
              lastRunStates: LastRunStates = None) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        namespace_row(conn, namespace)
        return _listed_jobs(conn, namespace, lastRunStates, limit, offset)


@router.get("/namespaces/{namespace}/jobs/{job}", summary="Retrieve a job", responses=documented(
    Job, "The job, with its latest runs (as of a moment with asOf)", 400, 404))
def get_job(request: Request, namespace: str, job: str,
            asOf: str | None = Query(None, description=AS_OF_DESCRIPTION)) -> JSONResponse:
    at = moment(asOf)
    with request.app.state.engine.connect() as conn:
        if at is not None:
            return JSONResponse(job_view_at(conn, job_row_at(conn, namespace, job, at), at))
        return JSONResponse(job_view(conn, job_row(conn, namespace, job)))


@router.get("/namespaces/{namespace}/jobs/{job}/versions", summary="List the versions of a job",
            responses=documented(JobVersionList, "The versions, newest first", 400, 404))
def list_job_versions(request: Request, namespace: str, job: str, limit: Limit = 100,
                      offset: Offset = 0) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        row = job_row(conn, namespace, job)
        versions = job_versions_view(conn, row, job_version_rows(conn, row["id"], limit, offset))
        total = conn.execute(select(func.count()).select_from(job_versions)
                             .where(job_versions.c.job_id == row["id"])).scalar_one()
        return JSONResponse({"versions": versions, "totalCount": total})


@router.get("/namespaces/{namespace}/jobs/{job}/versions/{version}", summary="Retrieve a version of a job",
            responses=documented(JobVersion, "The version, with its latest run", 404))
def get_job_version(request: Request, namespace: str, job: str, version: str) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        row = job_row(conn, namespace, job)
        found = one_or_404(conn, select(job_versions).where(job_versions.c.job_id == row["id"],
                                                            job_versions.c.uuid == version),
                           f"Version '{version}' of job '{job}' not found.")
        return JSONResponse(job_versions_view(conn, row, [found])[0])


@write_router.delete("/namespaces/{namespace}/jobs/{job}", summary="Soft delete a job",
                     description="The job leaves lists, search and lineage graphs, and its reads answer 404, until "
                                 "a new event names it. Answers with the job as it was, as Marquez does.",
                     responses=documented(Job, "The job as it was before the delete", 404))
def delete_job(request: Request, namespace: str, job: str) -> JSONResponse:
    with request.app.state.engine.begin() as conn:
        row = job_row(conn, namespace, job)
        body = job_view(conn, row)
        conn.execute(update(jobs).where(jobs.c.id == row["id"]).values(is_hidden=True))
    return JSONResponse(body)


def _job_tagged(request: Request, namespace: str, job: str, tag: str, add: bool) -> JSONResponse:
    engine = request.app.state.engine
    with engine.begin() as conn:
        row = job_row(conn, namespace, job)
        if add:
            upsert_tag(conn, tag, None, keep_description=True)
            insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
            conn.execute(insert(job_tags).values(job_id=row["id"], tag=tag)
                         .on_conflict_do_nothing(index_elements=["job_id", "tag"]))
        else:
            conn.execute(delete(job_tags).where(job_tags.c.job_id == row["id"], job_tags.c.tag == tag))
        return JSONResponse(job_view(conn, row))


@write_router.post("/namespaces/{namespace}/jobs/{job}/tags/{tag}", summary="Tag a job",
                   description="The tag is created if it does not exist.",
                   responses=documented(Job, "The job, with its tags", 400, 404))
def tag_job(request: Request, namespace: str, job: str, tag: str) -> JSONResponse:
    return _job_tagged(request, namespace, job, tag, add=True)


@write_router.delete("/namespaces/{namespace}/jobs/{job}/tags/{tag}", summary="Remove a tag from a job",
                     description="A tag the job does not have is no error: the job is answered unchanged.",
                     responses=documented(Job, "The job, with its tags", 404))
def untag_job(request: Request, namespace: str, job: str, tag: str) -> JSONResponse:
    return _job_tagged(request, namespace, job, tag, add=False)


@write_router.put("/namespaces/{namespace}/jobs/{job}", summary="Create or update a job (Marquez's older API)",
                  description="Recorded as the JobEvent that says the same: its inputs and outputs become the "
                              "job's current ones, its location and description those of the job. The namespace "
                              "and the datasets named must exist (404), as in Marquez.",
                  responses=documented(Job, "The job as stored", 400, 404))
def put_job(request: Request, namespace: str, job: str, body: CreatedJob) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        namespace_row(conn, namespace)
        for named in body.inputs + body.outputs:
            dataset_row(conn, named.namespace, named.name)
        if body.runId is not None:
            run = one_or_404(conn, select(runs.c.job_id).where(runs.c.uuid == body.runId),
                             f"Run '{body.runId}' not found.")
            owner = conn.execute(select(jobs.c.namespace, jobs.c.name).where(jobs.c.id == run["job_id"])).one()
            if tuple(owner) != (namespace, job):
                raise HTTPException(400, f"Run '{body.runId}' is not a run of job '{job}' in namespace '{namespace}'.")
    legacy_writes.ingest(request.app.state.ingester, legacy_writes.job_event(namespace, job, body))
    with request.app.state.engine.connect() as conn:
        return JSONResponse(job_view(conn, job_row(conn, namespace, job)))
