"""Tags: ``GET /tags`` and ``PUT /tags/{tag}`` (tagging a dataset or a field is in ``datasets``)."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from lineage_audit.service.db import tags
from lineage_audit.service.lookups import Limit, NameRoute, Offset
from lineage_audit.service.models import CreatedTag, Tag, TagList, documented

router = APIRouter(tags=["Tags"], route_class=NameRoute)
write_router = APIRouter(tags=["Tags"], route_class=NameRoute)


def tag_view(row) -> dict:
    return {"name": row["name"], "description": row["description"]}


def upsert_tag(conn: Connection, name: str, description: str | None, keep_description: bool = False) -> None:
    """Create a tag, or update its description (``keep_description``: only create it if missing)."""
    if len(name) > 256:
        raise HTTPException(400, "tag: at most 256 characters")
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    now = datetime.now(timezone.utc)
    statement = insert(tags).values(name=name, description=description, created_at=now, updated_at=now)
    if keep_description:
        statement = statement.on_conflict_do_nothing(index_elements=["name"])
    else:
        statement = statement.on_conflict_do_update(index_elements=["name"], set_={
            "description": statement.excluded.description, "updated_at": statement.excluded.updated_at})
    conn.execute(statement)


@router.get("/tags", summary="List all tags", responses=documented(TagList, "The tags, by name", 400))
def list_tags(request: Request, limit: Limit = 100, offset: Offset = 0) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(select(tags).order_by(tags.c.name).limit(limit).offset(offset)).mappings()
        body = [tag_view(row) for row in rows]
        total = conn.execute(select(func.count()).select_from(tags)).scalar_one()
    return JSONResponse({"tags": body, "totalCount": total})


@write_router.put("/tags/{tag}", summary="Create a tag, or update its description",
                  description="Answers with the tag, as Marquez does (its OpenAPI file says a TagList).",
                  responses=documented(Tag, "The tag as stored", 400))
def put_tag(request: Request, tag: str, body: CreatedTag | None = None) -> JSONResponse:
    with request.app.state.engine.begin() as conn:
        upsert_tag(conn, tag, body.description if body else None)
        row = conn.execute(select(tags).where(tags.c.name == tag)).mappings().one()
    return JSONResponse(tag_view(row))
