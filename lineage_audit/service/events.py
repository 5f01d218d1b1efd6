"""OpenLineage events as they arrive: the request body parsed (one event, a JSON array, NDJSON) and
each event checked for what the store needs (times, run id, names), with the reasons a client sees.

A checked event carries its canonical JSON (sorted keys, compact) and that text's sha256, by which
the store recognises an event sent twice.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

import orjson

EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
RUN_STATE = {"START": "RUNNING", "RUNNING": "RUNNING", "COMPLETE": "COMPLETED", "FAIL": "FAILED",
             "ABORT": "ABORTED"}
# A later event never undoes a terminal state: the higher rank wins, then the later event time.
STATE_RANK = {"NEW": 0, "RUNNING": 1, "COMPLETED": 2, "FAILED": 2, "ABORTED": 2}
TERMINAL = ("COMPLETED", "FAILED", "ABORTED")
NAME_LIMIT = 1024  # names of namespaces, datasets, jobs and fields (the store's columns)
FACET_NAME_LIMIT = 256
_FRACTION = re.compile(r"(\.\d{6})\d+")
# Facets the ingester keeps for itself (digests of what it derived, a JobEvent's datasets); never shown.
INTERNAL_FACETS = ("fields", "lineage", "jobevent")

Key = tuple[str, str]


class EventError(ValueError):
    """A request the service refuses: ``status`` 400 (unreadable) or 422 (an invalid field)."""

    def __init__(self, status: int, message: str, field: str | None = None, index: int | None = None):
        super().__init__(message)
        self.status, self.message, self.field, self.index = status, message, field, index

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.status, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.index is not None:
            body["index"] = self.index
        return body


# -- parsing and checking ---------------------------------------------------------------------

class _NotJSON(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _NotJSON(f"{name} is not a JSON value")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJSON(f"the number {text[:40]} is out of range")
    return value


def _canonical(value: Any) -> bytes:
    """Sorted-key compact JSON as UTF-8 (orjson; the standard library for integers over 64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError as exc:
        if "surrogates" in str(exc):
            raise UnicodeEncodeError("utf-8", "", 0, 1, str(exc)) from None
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def _loads(text: str) -> Any:
    """``json.loads`` that refuses what is not JSON (NaN, Infinity) or cannot be stored (1e999).

    orjson reads the common case fast; what it refuses (errors, integers over 64 bits) goes through
    the standard library, whose messages say where the JSON is wrong.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text, parse_constant=_constant, parse_float=_float)


def _json_error(exc: Exception, where: str = "") -> EventError:
    if isinstance(exc, json.JSONDecodeError):
        position = f" at column {exc.colno}" if where else f" at line {exc.lineno} column {exc.colno}"
        return EventError(400, f"malformed JSON{where}: {exc.msg}{position}")
    if isinstance(exc, RecursionError):
        return EventError(400, f"malformed JSON{where}: nested too deeply")
    return EventError(400, f"malformed JSON{where}: {exc}")


def parse_body(body: bytes, content_type: str = "") -> tuple[list[Any], bool]:
    """The events of a request body: one JSON object, a JSON array of them, or NDJSON.

    Returns ``(events, is_batch)``. Malformed JSON raises a 400 with the parser's reason.
    """
    text = _decode(body)
    if "ndjson" in content_type or "jsonl" in content_type:
        return _ndjson(text), True
    try:
        document = _loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and "\n" in text.strip():
            return _ndjson(text), True
        raise _json_error(exc) from None
    except (ValueError, RecursionError) as exc:
        raise _json_error(exc) from None
    if isinstance(document, list):
        return document, True
    return [document], False


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventError(400, f"the body is not UTF-8: {exc.reason} at byte {exc.start}") from None


def _ndjson(text: str) -> list[Any]:
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(_loads(line))
        except (ValueError, RecursionError) as exc:
            raise _json_error(exc, f" on line {number}") from None
    return events


def parse_time(value: Any) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime (no offset is read as UTC)."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    text = _FRACTION.sub(r"\1", value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("is out of range in UTC") from None


@dataclass(frozen=True)
class Checked:
    """An event that passed the checks, with what the store indexes it by."""

    kind: str  # RunEvent, DatasetEvent, JobEvent
    event: Mapping[str, Any]
    event_time: datetime
    event_type: str | None
    run_id: str | None
    job: Key | None  # (namespace, name) as sent
    canonical: str
    digest: str  # sha256 of the canonical JSON: the event's identity
    job_name: str | None = None  # the stored name: "<parent>.<name>" for a child job, as Marquez names it
    simple_name: str | None = None
    parent_job: Key | None = None
    parent_run: str | None = None


def _uuid(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _check_name(value: Any, path: str, index: int | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise EventError(422, f"{path} is required and must be a non-empty string", path, index)
    if len(value) > NAME_LIMIT:
        raise EventError(422, f"{path} is longer than {NAME_LIMIT} characters", path, index)
    if "\x00" in value:
        raise EventError(422, f"{path} holds a NUL character", path, index)
    return value


def _require_name(owner: Any, owner_path: str, index: int | None) -> Key:
    if not isinstance(owner, dict):
        raise EventError(422, f"{owner_path} is required and must be an object", owner_path, index)
    return (_check_name(owner.get("namespace"), f"{owner_path}.namespace", index),
            _check_name(owner.get("name"), f"{owner_path}.name", index))


def _check_facet_names(owner: Mapping[str, Any], path: str, index: int | None,
                       keys: Sequence[str] = ("facets",)) -> None:
    for key in keys:
        found = owner.get(key)
        if isinstance(found, dict):
            for name in found:
                if len(name) > FACET_NAME_LIMIT or "\x00" in name:
                    raise EventError(422, f"{path}.{key}: a facet name is longer than {FACET_NAME_LIMIT} characters "
                                     "or holds a NUL character", f"{path}.{key}", index)


def parent_run_uuid(run_id: str, parent_job_name: str | None) -> str | None:
    """The UUID of a parent run. Older Airflow integrations send run ids that are not UUIDs
    ("scheduled__2024-01-01T00:00:00+00:00"): Marquez maps those to the name-based UUID (version 3, URL
    namespace) of "<DAG>.<run id>", the DAG being the parent job's name up to its last dot."""
    found = _uuid(run_id)
    if found is not None or not run_id or parent_job_name is None:
        return found
    dag = parent_job_name[:parent_job_name.rindex(".")] if "." in parent_job_name else parent_job_name
    return str(uuid.uuid3(uuid.NAMESPACE_URL, f"{dag}.{run_id}"))


def _parent(run: Mapping[str, Any], namespace: str, index: int | None) -> tuple[Key | None, str | None]:
    """The parent job and run of a run, from its ``parent`` facet (``parentRun`` in older producers)."""
    run_facets = run.get("facets")
    parent = None
    if isinstance(run_facets, dict):
        parent = run_facets.get("parent") if isinstance(run_facets.get("parent"), dict) else run_facets.get("parentRun")
    if not isinstance(parent, dict):
        return None, None
    job, parent_job = parent.get("job"), None
    if job is not None:
        path = "run.facets.parent.job"
        if not isinstance(job, dict):
            raise EventError(422, f"{path} must be an object", path, index)
        name = _check_name(job.get("name"), f"{path}.name", index)
        parent_namespace = namespace if job.get("namespace") is None else \
            _check_name(job.get("namespace"), f"{path}.namespace", index)
        parent_job = (parent_namespace, name)
    parent_run = None
    if parent.get("run") is not None:
        found = parent["run"]
        run_id = found.get("runId") if isinstance(found, dict) else None
        parent_run = parent_run_uuid(run_id, parent_job[1] if parent_job else None) if isinstance(run_id, str) else None
        if parent_run is None:
            raise EventError(422, "run.facets.parent.run.runId must be a UUID, or a run id with the parent job's name",
                             "run.facets.parent.run.runId", index)
    return parent_job, parent_run


def check_event(event: Any, index: int | None = None) -> Checked:
    """Check the fields the store needs; raise a 422 naming the first one that is wrong."""
    if not isinstance(event, dict):
        raise EventError(422, "an event must be a JSON object", None, index)
    raw_time = event.get("eventTime")
    try:
        event_time = parse_time(raw_time)
    except ValueError as exc:
        reason = "is required" if raw_time is None else f"is not a valid date-time ({exc})"
        raise EventError(422, f"eventTime {reason}", "eventTime", index) from None
    producer = event.get("producer")
    if not isinstance(producer, str) or not producer.strip():
        raise EventError(422, "producer is required and must be a URI string", "producer", index)
    for key in ("inputs", "outputs"):
        if event.get(key) is None:
            continue
        if not isinstance(event[key], list):
            raise EventError(422, f"{key} must be an array", key, index)
        for position, dataset in enumerate(event[key]):
            _require_name(dataset, f"{key}[{position}]", index)
            _check_facet_names(dataset, f"{key}[{position}]", index, ("facets", "inputFacets", "outputFacets"))
    run_id = event_type = job = job_name = simple = parent_job = parent_run = None
    if "run" in event:
        kind = "RunEvent"
        run = event.get("run")
        run_id = _uuid(run.get("runId")) if isinstance(run, dict) else None
        if run_id is None:
            raise EventError(422, "run.runId is required and must be a UUID", "run.runId", index)
        job = _require_name(event.get("job"), "job", index)
        event_type = event.get("eventType")
        if event_type is not None and (not isinstance(event_type, str) or event_type not in EVENT_TYPES):
            raise EventError(422, f"eventType must be one of {', '.join(EVENT_TYPES)}", "eventType", index)
        _check_facet_names(run, "run", index)
        _check_facet_names(event["job"], "job", index)
        parent_job, parent_run = _parent(run, job[0], index)
        if parent_job is not None and parent_job[1] == job[1]:
            parent_job = None  # a job is not its own parent
        job_name, simple = child_job_name(job[1], parent_job[1] if parent_job else None)
        if len(job_name) > NAME_LIMIT:
            raise EventError(422, f"job.name, prefixed with its parent's name, is longer than {NAME_LIMIT} characters",
                             "job.name", index)
    elif "dataset" in event:
        kind = "DatasetEvent"
        _require_name(event.get("dataset"), "dataset", index)
        _check_facet_names(event["dataset"], "dataset", index)
    elif "job" in event:
        kind = "JobEvent"
        job = _require_name(event.get("job"), "job", index)
        _check_facet_names(event["job"], "job", index)
        job_name = simple = job[1]
    else:
        raise EventError(422, "run is required (or dataset for a DatasetEvent, job for a JobEvent)", "run", index)
    from lineage_audit.service.facet_schemas import check_facets  # it imports this module

    check_facets(event, index)
    try:
        encoded = _canonical(event)
    except UnicodeEncodeError:
        raise EventError(400, "the event holds an unpaired surrogate escape (\\ud800 to \\udfff), which is not "
                         "Unicode", None, index) from None
    canonical, digest = encoded.decode(), hashlib.sha256(encoded).hexdigest()
    return Checked(kind, event, event_time, event_type, run_id, job, canonical, digest, job_name, simple,
                   parent_job, parent_run)


def child_job_name(name: str, parent: str | None) -> tuple[str, str]:
    """``(name, simple name)`` of a job: Marquez names a child "<parent>.<name>" (Spark's already are)."""
    if not parent:
        return name, name
    if name.startswith(parent + "."):
        return name, name[len(parent) + 1:]
    return f"{parent}.{name}", name

