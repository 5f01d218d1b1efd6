"""Jobs: lists (per namespace, and of all namespaces), one job, and its versions.

Jobs are listed by name, with ``totalCount`` the number of jobs in the whole list. A job's
``inputs`` and ``outputs`` are those of its latest run; ``latestRuns`` holds up to ten runs,
newest first. A version is one per distinct set of inputs, outputs and location of completed runs.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from lineage_audit.service.db import job_versions, jobs
from lineage_audit.service.lookups import Limit, NameRoute, Offset, job_row, namespace_row, one_or_404
from lineage_audit.service.models import Job, JobList, JobVersion, JobVersionList, documented
from lineage_audit.service.views import job_version_rows, job_versions_view, job_view, jobs_view

router = APIRouter(tags=["Jobs"], route_class=NameRoute)


@router.get("/jobs", summary="List the jobs of every namespace", responses=documented(
    JobList, "The jobs, by name then namespace", 400))
def list_all_jobs(request: Request, limit: Limit = 100, offset: Offset = 0) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        rows = list(conn.execute(select(jobs).order_by(jobs.c.name, jobs.c.namespace)
                                 .limit(limit).offset(offset)).mappings())
        total = conn.execute(select(func.count()).select_from(jobs)).scalar_one()
        return JSONResponse({"jobs": jobs_view(conn, rows), "totalCount": total})


@router.get("/namespaces/{namespace}/jobs", summary="List the jobs of a namespace", responses=documented(
    JobList, "The jobs, by name", 400, 404))
def list_jobs(request: Request, namespace: str, limit: Limit = 100, offset: Offset = 0) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        namespace_row(conn, namespace)
        rows = list(conn.execute(select(jobs).where(jobs.c.namespace == namespace).order_by(jobs.c.name)
                                 .limit(limit).offset(offset)).mappings())
        total = conn.execute(select(func.count()).select_from(jobs).where(jobs.c.namespace == namespace)).scalar_one()
        return JSONResponse({"jobs": jobs_view(conn, rows), "totalCount": total})


@router.get("/namespaces/{namespace}/jobs/{job}", summary="Retrieve a job", responses=documented(
    Job, "The job, with its latest runs", 404))
def get_job(request: Request, namespace: str, job: str) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
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
