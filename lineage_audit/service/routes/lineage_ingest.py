"""``POST /api/v1/lineage``: one OpenLineage event, or a batch (a JSON array, or NDJSON)."""

from __future__ import annotations

import zlib

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lineage_audit.service.events import EVENT_TYPES, EventError, check_event, parse_body
from lineage_audit.service.ingest import Ingester, IngestResult

write_router = APIRouter(tags=["Lineage"])
ENCODINGS = ("identity", "gzip", "x-gzip", "deflate")

# The request body, as the OpenAPI document describes it: what ingest checks, facets left open.
_NAME = {"type": "string", "minLength": 1, "maxLength": 1024}
_FACETS = {"type": "object", "additionalProperties": {"type": "object"}}
_DATASET = {"type": "object", "required": ["namespace", "name"],
            "properties": {"namespace": _NAME, "name": _NAME, "facets": _FACETS}}
_COMMON = {"eventTime": {"type": "string", "format": "date-time"}, "producer": {"type": "string", "format": "uri"},
           "schemaURL": {"type": "string", "format": "uri"},
           "inputs": {"type": "array", "items": _DATASET}, "outputs": {"type": "array", "items": _DATASET}}
_JOB = {"type": "object", "required": ["namespace", "name"],
        "properties": {"namespace": _NAME, "name": _NAME, "facets": _FACETS}}
RUN_EVENT = {"title": "RunEvent", "type": "object", "required": ["eventTime", "producer", "run", "job"], "properties": {
    **_COMMON, "eventType": {"type": "string", "enum": list(EVENT_TYPES)}, "job": _JOB,
    "run": {"type": "object", "required": ["runId"],
            "properties": {"runId": {"type": "string", "format": "uuid"}, "facets": _FACETS}}}}
DATASET_EVENT = {"title": "DatasetEvent", "type": "object", "required": ["eventTime", "producer", "dataset"],
                 "properties": {**_COMMON, "dataset": _DATASET},
                 "not": {"anyOf": [{"required": ["run"]}, {"required": ["job"]}]}}
JOB_EVENT = {"title": "JobEvent", "type": "object", "required": ["eventTime", "producer", "job"],
             "properties": {**_COMMON, "job": _JOB}, "not": {"required": ["run"]}}
_EVENT = {"anyOf": [RUN_EVENT, DATASET_EVENT, JOB_EVENT]}


async def _read_limited(request: Request, limit: int) -> bytes:
    """The body, inflated if it is gzip or deflate; more than ``limit`` bytes either way is a 413."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise EventError(413, f"the body is {int(declared)} bytes, over the limit of {limit} bytes")
    encoding = request.headers.get("content-encoding", "identity").strip().lower() or "identity"
    if encoding not in ENCODINGS:
        raise EventError(415, f"Content-Encoding {encoding} is not supported (use gzip, deflate or none)")
    inflater = zlib.decompressobj(wbits=47) if encoding != "identity" else None  # 47: gzip or zlib header
    chunks, received, size = [], 0, 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise EventError(413, f"the body is over the limit of {limit} bytes")
            if inflater is not None:
                chunk = inflater.decompress(chunk, limit - size + 1)
                if inflater.unconsumed_tail:
                    raise EventError(413, f"the inflated body is over the limit of {limit} bytes")
            size += len(chunk)
            if size > limit:
                raise EventError(413, f"the {'inflated ' if inflater else ''}body is over the limit of {limit} bytes")
            chunks.append(chunk)
        if inflater is not None:
            chunks.append(inflater.flush())
            if not inflater.eof:
                raise EventError(400, f"the {encoding} body is truncated")
    except zlib.error as exc:
        raise EventError(400, f"the body is not valid {encoding}: {exc}") from None
    return b"".join(chunks)


def _ingest(ingester: Ingester, body: bytes, content_type: str) -> IngestResult:
    events, is_batch = parse_body(body, content_type)
    if is_batch and not events:
        raise EventError(422, "the batch holds no events")
    return ingester.ingest([check_event(event, index if is_batch else None) for index, event in enumerate(events)])


@write_router.post(
    "/lineage", status_code=201, summary="Record OpenLineage events",
    description="One RunEvent, DatasetEvent or JobEvent as a JSON object; or a batch, as a JSON array or as "
                "NDJSON (one event per line). The body may be gzip- or deflate-encoded (Content-Encoding). "
                "201 once every event and what is derived from it is committed; an event sent twice is stored "
                "once. 400: unreadable JSON; 413: body over the limit; 415: unknown Content-Encoding; "
                "422: a required field missing or invalid (named in `field`, with `index` in a batch).",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"anyOf": [*_EVENT["anyOf"], {"type": "array", "items": _EVENT, "minItems": 1}]}},
        "application/x-ndjson": {"schema": {"type": "string"}}}}},
    responses={201: {"description": "Stored", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"stored": {"type": "integer"}, "duplicates": {"type": "integer"}}}}}},
        400: {"description": "Malformed JSON"}, 401: {"description": "API key missing or wrong"},
        413: {"description": "Body too large"}, 415: {"description": "Unsupported Content-Encoding"},
        422: {"description": "Invalid event"}},
)
async def record_lineage(request: Request) -> JSONResponse:
    body = await _read_limited(request, request.app.state.settings.max_body_bytes)
    result = await run_in_threadpool(_ingest, request.app.state.ingester, body,
                                     request.headers.get("content-type", ""))
    return JSONResponse({"stored": result.stored, "duplicates": result.duplicates}, status_code=201)
