"""``GET /search``: datasets and jobs whose name matches a pattern, as Marquez searches.

``q`` is matched case-insensitively anywhere in the name, with SQL LIKE wildcards: ``%`` any
run of characters, ``_`` one character (``\\`` escapes either). ``filter`` keeps datasets or jobs,
``sort`` orders by name or by last update (newest first), ``namespace``, ``before`` and ``after``
(``YYYY-MM-DD``, UTC) narrow the results. As in Marquez, ``totalCount`` is the number of results
returned.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from enum import Enum

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, literal, select, union_all

from lineage_audit.service.db import datasets, jobs
from lineage_audit.service.models import SearchResultList, documented
from lineage_audit.service.views import iso

router = APIRouter(tags=["Search"])


class SearchFilter(str, Enum):
    DATASET = "DATASET"
    JOB = "JOB"


class SearchSort(str, Enum):
    NAME = "NAME"
    UPDATE_AT = "UPDATE_AT"


def _enum(kind: type[Enum], value: str | None, name: str, aliases: dict[str, str] | None = None):
    if value is None or value == "":
        return None
    key = (aliases or {}).get(value.lower(), value.upper())
    try:
        return kind(key)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise HTTPException(400, f"{name}: must be one of {choices}") from None


def _day(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(0), tzinfo=timezone.utc)
    except ValueError:
        raise HTTPException(400, f"{name}: must be a date, YYYY-MM-DD") from None


@router.get("/search", summary="Query all datasets and jobs", responses=documented(
    SearchResultList, "The matching datasets and jobs", 400))
def search(request: Request,
           q: str = Query(min_length=1, description="Pattern matched anywhere in the name, case-insensitively; "
                                                    "`%` matches any characters, `_` one character"),
           filter: str | None = Query(None, description="`DATASET` or `JOB`"),
           sort: str | None = Query(None, description="`NAME` (default) or `UPDATE_AT` (newest first)"),
           limit: int = Query(10, ge=0, description="The number of results to return"),
           namespace: str | None = Query(None, max_length=1024, description="Only this namespace"),
           before: str | None = Query(None, description="Only those updated before this day, `YYYY-MM-DD`"),
           after: str | None = Query(None, description="Only those updated after this day, `YYYY-MM-DD`"),
           ) -> JSONResponse:
    kind = _enum(SearchFilter, filter, "filter")
    order = _enum(SearchSort, sort, "sort", {"updated_at": "UPDATE_AT", "update_at": "UPDATE_AT"}) or SearchSort.NAME
    before_time, after_time = _day(before, "before"), _day(after, "after")
    pattern = f"%{q.lower()}%"
    parts = []
    for table, label in ((datasets, SearchFilter.DATASET), (jobs, SearchFilter.JOB)):
        if kind is not None and kind is not label:
            continue
        part = select(literal(label.value).label("type"), table.c.name.label("name"),
                      table.c.updated_at.label("updated_at"), table.c.namespace.label("namespace")
                      ).where(func.lower(table.c.name).like(pattern, escape="\\"), table.c.is_hidden.is_(False))
        if namespace:
            part = part.where(table.c.namespace == namespace)
        if before_time is not None:
            part = part.where(table.c.updated_at < before_time)
        if after_time is not None:
            part = part.where(table.c.updated_at > after_time)
        parts.append(part)
    found = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    ordering = (found.c.name, found.c.namespace, found.c.type) if order is SearchSort.NAME else (
        found.c.updated_at.desc(), found.c.name, found.c.namespace)
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(select(found).order_by(*ordering).limit(limit)).mappings().all()
    results = [{"type": row["type"], "name": row["name"], "updatedAt": iso(row["updated_at"]),
                "namespace": row["namespace"], "nodeId": f"{row['type'].lower()}:{row['namespace']}:{row['name']}"}
               for row in rows]
    return JSONResponse({"totalCount": len(results), "results": results})
