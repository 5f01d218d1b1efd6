"""Marquez's statistics: ``GET /stats/lineage-events``, and ``/stats/jobs``, ``/stats/datasets``, ``/stats/sources``.

``period=DAY``: 24 hourly intervals, the last one holding the current hour; ``period=WEEK``: 7
daily intervals ending with today, days starting at midnight in ``timezone`` (an IANA name; UTC
when absent, where Marquez refuses a WEEK of lineage events). For lineage events each interval
counts events by event time: ``start``, ``complete``, ``fail`` and ``abort`` as Marquez does, and
``count``, every event in it. For jobs, datasets and sources, ``count`` is how many existed at the
end of the interval (first seen before it), as in Marquez.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from lineage_audit.service.db import datasets, jobs, lineage_events, sources
from lineage_audit.service.models import IntervalMetric, LineageMetric, documented
from lineage_audit.service.views import iso

router = APIRouter(tags=["Stats"])
COUNTED = {"START": "start", "COMPLETE": "complete", "FAIL": "fail", "ABORT": "abort"}


class Period(str, Enum):
    DAY = "DAY"
    WEEK = "WEEK"


def intervals(period: Period, now: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The intervals of a period ending at ``now``, oldest first, as aware UTC datetimes."""
    if period is Period.DAY:
        hour = now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
        starts = [hour - timedelta(hours=n) for n in range(23, -1, -1)]
        return [(start, start + timedelta(hours=1)) for start in starts]
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=n) for n in range(6, -1, -1)]
    midnight = [datetime(d.year, d.month, d.day, tzinfo=zone) for d in days + [today + timedelta(days=1)]]
    return [(start.astimezone(timezone.utc), end.astimezone(timezone.utc))
            for start, end in zip(midnight, midnight[1:])]


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise HTTPException(400, f"timezone: unknown time zone '{name}'") from None


PeriodParam = Annotated[Period, Query(description="`DAY` (hourly intervals) or `WEEK` (daily intervals)")]
TimezoneParam = Annotated[str | None, Query(alias="timezone", description="IANA time zone of the days of a WEEK")]


@router.get("/stats/lineage-events", summary="Lineage events per hour of the last day, or per day of the last week",
            responses=documented(list[LineageMetric], "The intervals, oldest first", 400))
def lineage_event_stats(request: Request, period: PeriodParam, timezone_name: TimezoneParam = None
                        ) -> JSONResponse:
    zone = _zone(timezone_name)
    buckets = []
    with request.app.state.engine.connect() as conn:
        for start, end in intervals(period, datetime.now(timezone.utc), zone):
            counts = dict(conn.execute(select(lineage_events.c.event_type, func.count()).where(
                lineage_events.c.event_time >= start, lineage_events.c.event_time < end)
                .group_by(lineage_events.c.event_type)).all())
            bucket = {"startInterval": iso(start), "endInterval": iso(end), "count": sum(counts.values())}
            bucket.update({key: counts.get(event_type, 0) for event_type, key in COUNTED.items()})
            buckets.append(bucket)
    return JSONResponse(buckets)


def _totals(request: Request, table, period: Period, timezone_name: str | None) -> JSONResponse:
    zone = _zone(timezone_name)
    with request.app.state.engine.connect() as conn:
        return JSONResponse([{"startInterval": iso(start), "endInterval": iso(end), "count": conn.execute(
            select(func.count()).select_from(table).where(table.c.created_at < end)).scalar_one()}
            for start, end in intervals(period, datetime.now(timezone.utc), zone)])


@router.get("/stats/jobs", summary="How many jobs existed, per hour of the last day or day of the last week",
            responses=documented(list[IntervalMetric], "The intervals, oldest first", 400))
def job_stats(request: Request, period: PeriodParam, timezone_name: TimezoneParam = None) -> JSONResponse:
    return _totals(request, jobs, period, timezone_name)


@router.get("/stats/datasets", summary="How many datasets existed, per hour of the last day or day of the last week",
            responses=documented(list[IntervalMetric], "The intervals, oldest first", 400))
def dataset_stats(request: Request, period: PeriodParam, timezone_name: TimezoneParam = None) -> JSONResponse:
    return _totals(request, datasets, period, timezone_name)


@router.get("/stats/sources", summary="How many sources existed, per hour of the last day or day of the last week",
            responses=documented(list[IntervalMetric], "The intervals, oldest first", 400))
def source_stats(request: Request, period: PeriodParam, timezone_name: TimezoneParam = None) -> JSONResponse:
    return _totals(request, sources, period, timezone_name)
