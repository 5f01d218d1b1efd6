"""``POST /api/v1/lineage``: one OpenLineage event, or a batch (a JSON array, or NDJSON)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lineage_audit.service.ingest import EventError, check_event, parse_body

write_router = APIRouter(tags=["Lineage"])


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise EventError(413, f"the body is {int(declared)} bytes, over the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise EventError(413, f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@write_router.post(
    "/lineage", status_code=201, summary="Record OpenLineage events",
    description="One RunEvent, DatasetEvent or JobEvent as a JSON object; or a batch, as a JSON array or as "
                "NDJSON (one event per line). 201 once every event and what is derived from it is committed; "
                "an event sent twice is stored once. 400: unreadable JSON; 413: body over the limit; "
                "422: a required field missing or invalid (named in `field`, with `index` in a batch).",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}},
        "application/x-ndjson": {"schema": {"type": "string"}}}}},
    responses={201: {"description": "Stored", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"stored": {"type": "integer"}, "duplicates": {"type": "integer"}}}}}},
        400: {"description": "Malformed JSON"}, 401: {"description": "API key missing or wrong"},
        413: {"description": "Body too large"}, 422: {"description": "Invalid event"}},
)
async def record_lineage(request: Request) -> JSONResponse:
    settings = request.app.state.settings
    body = await _read_limited(request, settings.max_body_bytes)
    events, is_batch = parse_body(body, request.headers.get("content-type", ""))
    if is_batch and not events:
        raise EventError(422, "the batch holds no events")
    checked = [check_event(event, index if is_batch else None) for index, event in enumerate(events)]
    result = await run_in_threadpool(request.app.state.ingester.ingest, checked)
    return JSONResponse({"stored": result.stored, "duplicates": result.duplicates}, status_code=201)
