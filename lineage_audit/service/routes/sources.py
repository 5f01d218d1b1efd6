"""Sources: ``GET /sources`` and ``GET /sources/{source}`` (created by ingest from dataSource facets)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from lineage_audit.service.db import sources
from lineage_audit.service.lookups import Limit, NameRoute, Offset, one_or_404
from lineage_audit.service.models import Source, SourceList, documented
from lineage_audit.service.views import source_view

router = APIRouter(tags=["Sources"], route_class=NameRoute)


@router.get("/sources", summary="List all sources", responses=documented(SourceList, "The sources, by name", 400))
def list_sources(request: Request, limit: Limit = 100, offset: Offset = 0) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(select(sources).order_by(sources.c.name).limit(limit).offset(offset)).mappings()
        body = [source_view(row) for row in rows]
        total = conn.execute(select(func.count()).select_from(sources)).scalar_one()
    return JSONResponse({"sources": body, "totalCount": total})


@router.get("/sources/{source}", summary="Retrieve a source", responses=documented(Source, "The source", 404))
def get_source(request: Request, source: str) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        row = one_or_404(conn, select(sources).where(sources.c.name == source), f"Source '{source}' not found.")
    return JSONResponse(source_view(row))
