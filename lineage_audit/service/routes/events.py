"""``GET /events/lineage``: the OpenLineage events as received, by event time.

As in Marquez, ``before`` is exclusive and ``after`` inclusive, and ``totalCount`` counts every
event between them. Unlike Marquez, which lists run events only, dataset and job events are listed
too, so the list and its count agree.
"""

from __future__ import annotations

import json
from datetime import datetime

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from lineage_audit.service.db import lineage_events
from lineage_audit.service.events import parse_time
from lineage_audit.service.lookups import Limit, Offset
from lineage_audit.service.models import LineageEventList, documented

router = APIRouter(tags=["Events"])


def _time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise HTTPException(400, f"{name}: must be an ISO 8601 date-time") from None


@router.get("/events/lineage", summary="List the received OpenLineage events",
            responses=documented(LineageEventList, "The events, as received", 400))
def list_events(request: Request,
                sortDirection: str = Query("desc", description="`desc` (newest first, the default) or `asc`"),
                before: str | None = Query(None, description="Only events before this date-time"),
                after: str | None = Query(None, description="Only events at or after this date-time"),
                limit: Limit = 100, offset: Offset = 0) -> Response:
    direction = sortDirection.lower()
    if direction not in ("asc", "desc"):
        raise HTTPException(400, "sortDirection: must be asc or desc")
    conditions = []
    before_time, after_time = _time(before, "before"), _time(after, "after")
    if before_time is not None:
        conditions.append(lineage_events.c.event_time < before_time)
    if after_time is not None:
        conditions.append(lineage_events.c.event_time >= after_time)
    ordering = (lineage_events.c.event_time, lineage_events.c.id)
    if direction == "desc":
        ordering = tuple(column.desc() for column in ordering)
    with request.app.state.engine.connect() as conn:
        payloads = conn.execute(select(lineage_events.c.payload).where(*conditions).order_by(*ordering)
                                .limit(limit).offset(offset)).scalars().all()
        total = conn.execute(select(func.count()).select_from(lineage_events).where(*conditions)).scalar_one()
    # the payloads are stored as canonical JSON text: splice them in rather than parse and re-serialise
    body = '{"events":[' + ",".join(payloads) + '],"totalCount":' + json.dumps(total) + "}"
    return Response(body, media_type="application/json")
