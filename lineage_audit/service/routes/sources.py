"""Sources: ``GET /sources`` and ``GET /sources/{source}`` (created by ingest from dataSource facets), and
``PUT /sources/{source}`` of Marquez's older write API."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from lineage_audit.service.db import sources
from lineage_audit.service.legacy_writes import CreatedSource
from lineage_audit.service.lookups import Limit, NameRoute, Offset, one_or_404
from lineage_audit.service.models import Source, SourceList, documented
from lineage_audit.service.views import source_view

router = APIRouter(tags=["Sources"], route_class=NameRoute)
write_router = APIRouter(tags=["Sources"], route_class=NameRoute)


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


@write_router.put("/sources/{source}", summary="Create or update a source (Marquez's older API)",
                  description="Stored as it is: its type, connection URL and description. A later event whose "
                              "dataSource facet names the source may change its type and URL again.",
                  responses=documented(Source, "The source as stored", 400))
def put_source(request: Request, source: str, body: CreatedSource) -> JSONResponse:
    if len(source) > 1024:
        raise HTTPException(400, "source: at most 1024 characters")
    engine = request.app.state.engine
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    now = datetime.now(timezone.utc)
    statement = insert(sources).values(name=source, type=body.type.upper(), connection_url=body.connectionUrl,
                                       description=body.description, created_at=now, updated_at=now)
    statement = statement.on_conflict_do_update(index_elements=["name"], set_={
        "type": statement.excluded.type, "connection_url": statement.excluded.connection_url,
        "description": statement.excluded.description, "updated_at": statement.excluded.updated_at})
    with engine.begin() as conn:
        conn.execute(statement)
        row = conn.execute(select(sources).where(sources.c.name == source)).mappings().one()
    return JSONResponse(source_view(row))
