"""OpenLineage ingest: parse and check events, store each raw event and the model derived from it.

One call of :meth:`Ingester.ingest` is one transaction: every event of a batch and everything
derived from it are committed together, or nothing is. An event already stored (same canonical
JSON) is skipped, so a client that retries never duplicates anything. Derivation does not depend on
arrival order: a run's state is decided by the strongest state seen (terminal over running), ties
by event time; facets, fields and current versions by event time.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from lineage_audit.service.db import (
    dataset_fields,
    dataset_versions,
    datasets,
    facets,
    field_lineage,
    job_io,
    job_versions,
    jobs,
    lineage_events,
    namespaces,
    run_io,
    runs,
    sources,
)

EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
RUN_STATE = {"START": "RUNNING", "RUNNING": "RUNNING", "COMPLETE": "COMPLETED", "FAIL": "FAILED",
             "ABORT": "ABORTED"}
# A later event never undoes a terminal state: the higher rank wins, then the later event time.
STATE_RANK = {"NEW": 0, "RUNNING": 1, "COMPLETED": 2, "FAILED": 2, "ABORTED": 2}
TERMINAL = ("COMPLETED", "FAILED", "ABORTED")
VERSION_NAMESPACE = uuid.UUID("6f1f6d52-3f77-4f5e-9d3f-6b1c0f9b7a11")  # uuid5 namespace of derived versions
_FRACTION = re.compile(r"(\.\d{6})\d+")


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

def parse_body(body: bytes, content_type: str = "") -> tuple[list[Any], bool]:
    """The events of a request body: one JSON object, a JSON array of them, or NDJSON.

    Returns ``(events, is_batch)``. Malformed JSON raises a 400 with the parser's reason.
    """
    text = _decode(body)
    if "ndjson" in content_type or "jsonl" in content_type:
        return _ndjson(text), True
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and "\n" in text.strip():
            return _ndjson(text), True
        raise EventError(400, f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
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
            events.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise EventError(400, f"malformed JSON on line {number}: {exc.msg} at column {exc.colno}") from None
    return events


def parse_time(value: Any) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime (no offset is read as UTC)."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    text = _FRACTION.sub(r"\1", value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


@dataclass(frozen=True)
class Checked:
    """An event that passed the checks, with what the store indexes it by."""

    kind: str  # RunEvent, DatasetEvent, JobEvent
    event: Mapping[str, Any]
    event_time: datetime
    event_type: str | None
    run_id: str | None
    job: tuple[str, str] | None
    canonical: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.canonical.encode()).hexdigest()


def _require_name(owner: Any, owner_path: str, index: int | None) -> tuple[str, str]:
    if not isinstance(owner, Mapping):
        raise EventError(422, f"{owner_path} is required and must be an object", owner_path, index)
    values = []
    for key in ("namespace", "name"):
        value = owner.get(key)
        if not isinstance(value, str) or not value.strip():
            raise EventError(422, f"{owner_path}.{key} is required and must be a non-empty string",
                             f"{owner_path}.{key}", index)
        if len(value) > 1024:
            raise EventError(422, f"{owner_path}.{key} is longer than 1024 characters", f"{owner_path}.{key}", index)
        values.append(value)
    return values[0], values[1]


def check_event(event: Any, index: int | None = None) -> Checked:
    """Check the fields the store needs; raise a 422 naming the first one that is wrong."""
    if not isinstance(event, Mapping):
        raise EventError(422, "an event must be a JSON object", None, index)
    try:
        event_time = parse_time(event.get("eventTime"))
    except ValueError as exc:
        reason = "is required" if event.get("eventTime") is None else f"is not a valid date-time ({exc})"
        raise EventError(422, f"eventTime {reason}", "eventTime", index) from None
    producer = event.get("producer")
    if not isinstance(producer, str) or not producer.strip():
        raise EventError(422, "producer is required and must be a URI string", "producer", index)
    for key in ("inputs", "outputs"):
        if key in event and event[key] is not None:
            if not isinstance(event[key], list):
                raise EventError(422, f"{key} must be an array", key, index)
            for position, dataset in enumerate(event[key]):
                _require_name(dataset, f"{key}[{position}]", index)
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if "run" in event:
        run = event.get("run")
        run_id = run.get("runId") if isinstance(run, Mapping) else None
        try:
            run_id = str(uuid.UUID(str(run_id))) if isinstance(run_id, str) else None
        except ValueError:
            run_id = None
        if run_id is None:
            raise EventError(422, "run.runId is required and must be a UUID", "run.runId", index)
        job = _require_name(event.get("job"), "job", index)
        event_type = event.get("eventType")
        if event_type is not None and event_type not in EVENT_TYPES:
            raise EventError(422, f"eventType must be one of {', '.join(EVENT_TYPES)}", "eventType", index)
        return Checked("RunEvent", event, event_time, event_type, run_id, job, canonical)
    if "dataset" in event:
        _require_name(event.get("dataset"), "dataset", index)
        return Checked("DatasetEvent", event, event_time, None, None, None, canonical)
    if "job" in event:
        job = _require_name(event.get("job"), "job", index)
        return Checked("JobEvent", event, event_time, None, None, job, canonical)
    raise EventError(422, "run is required (or dataset for a DatasetEvent, job for a JobEvent)", "run", index)


# -- storing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class IngestResult:
    stored: int
    duplicates: int


def _facets_of(owner: Any, key: str = "facets") -> dict[str, Any]:
    value = owner.get(key) if isinstance(owner, Mapping) else None
    return {k: v for k, v in value.items() if isinstance(v, Mapping)} if isinstance(value, Mapping) else {}


def version_uuid(*parts: Any) -> str:
    return str(uuid.uuid5(VERSION_NAMESPACE, json.dumps(parts, sort_keys=True, default=str)))


def _later(candidate: datetime | None, current: datetime | None) -> bool:
    """Whether ``candidate`` is at least as late as ``current`` (None is earliest)."""
    if candidate is None:
        return False
    if current is None:
        return True
    if current.tzinfo is None:  # SQLite hands timestamps back naive; they are stored as UTC
        current = current.replace(tzinfo=timezone.utc)
    return candidate >= current


class Ingester:
    """Writes events into the store; one instance per engine (it serialises writers)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()  # one writer at a time: SQLite allows no more, and runs stay consistent
        dialect = engine.dialect.name
        self._insert = insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        # Statements built once: building ON CONFLICT clauses is most of an upsert's cost.
        ins = insert(facets)
        self._facet_upsert = ins.on_conflict_do_update(
            index_elements=["owner_kind", "owner_key", "name"],
            set_={"event_time": ins.excluded.event_time, "value": ins.excluded.value},
            where=facets.c.event_time <= ins.excluded.event_time)
        self._namespace_insert = insert(namespaces).on_conflict_do_nothing(index_elements=["name"])
        self._source_insert = insert(sources).on_conflict_do_nothing(index_elements=["name"])
        ins = insert(datasets)
        self._dataset_upsert = ins.on_conflict_do_update(
            index_elements=["namespace", "name"],
            set_={"updated_at": ins.excluded.updated_at,
                  "description": func.coalesce(ins.excluded.description, datasets.c.description)})
        self._dataset_insert = insert(datasets).on_conflict_do_nothing(index_elements=["namespace", "name"])
        ins = insert(jobs)
        self._job_upsert = ins.on_conflict_do_update(
            index_elements=["namespace", "name"],
            set_={"updated_at": ins.excluded.updated_at,
                  **{c: func.coalesce(ins.excluded[c], jobs.c[c])
                     for c in ("location", "description", "parent_job_name")}})
        self._run_io_insert = insert(run_io).on_conflict_do_nothing(
            index_elements=["run_uuid", "dataset_id", "direction"])
        # Ids of datasets and names of namespaces known to be committed (they never change).
        self._dataset_ids: dict[tuple[str, str], int] = {}
        self._namespaces: set[str] = set()
        self._pending_ids: dict[tuple[str, str], int] = {}
        self._pending_namespaces: set[str] = set()

    def ingest(self, checked: Iterable[Checked]) -> IngestResult:
        checked = list(checked)
        stored = duplicates = 0
        with self._lock:
            self._pending_ids, self._pending_namespaces = {}, set()
            with self.engine.begin() as conn:
                for item in checked:
                    if self._store_raw(conn, item):
                        self._derive(conn, item)
                        stored += 1
                    else:
                        duplicates += 1
            # committed: what this transaction created is now safe to remember
            self._dataset_ids.update(self._pending_ids)
            self._namespaces.update(self._pending_namespaces)
        return IngestResult(stored, duplicates)

    def forget(self) -> None:
        """Drop the caches of committed ids (for a store that was emptied behind the ingester's back)."""
        with self._lock:
            self._dataset_ids.clear()
            self._namespaces.clear()

    # -- raw events --
    def _store_raw(self, conn: Connection, item: Checked) -> bool:
        now = datetime.now(timezone.utc)
        statement = self._insert(lineage_events).values(
            event_hash=item.digest, event_kind=item.kind, event_type=item.event_type, event_time=item.event_time,
            run_uuid=item.run_id, job_namespace=item.job[0] if item.job else None,
            job_name=item.job[1] if item.job else None, received_at=now, payload=item.canonical,
        ).on_conflict_do_nothing(index_elements=["event_hash"])
        return conn.execute(statement).rowcount == 1

    # -- the derived model --
    def _derive(self, conn: Connection, item: Checked) -> None:
        event, t = item.event, item.event_time
        if item.kind == "DatasetEvent":
            self._dataset(conn, event["dataset"], t)
            return
        job_id, fqn = self._job(conn, item)
        if item.kind == "JobEvent":
            ids = {d: [self._dataset(conn, ds, t) for ds in event.get(d.lower() + "s") or ()]
                   for d in ("INPUT", "OUTPUT")}
            self._replace_job_io(conn, job_id, ids)
            return
        self._run(conn, item, job_id, fqn)

    def _namespace(self, conn: Connection, name: str, t: datetime) -> None:
        if name in self._namespaces or name in self._pending_namespaces:
            return
        conn.execute(self._namespace_insert, {"name": name, "owner_name": "anonymous", "description": None,
                                              "created_at": t, "updated_at": t})
        self._pending_namespaces.add(name)

    def _put_facets(self, conn: Connection, kind: str, key: str, values: Mapping[str, Any], t: datetime) -> None:
        if values:
            conn.execute(self._facet_upsert, [{"owner_kind": kind, "owner_key": key, "name": name, "event_time": t,
                                               "value": value} for name, value in values.items()])

    def _job(self, conn: Connection, item: Checked) -> tuple[int, str]:
        event, t = item.event, item.event_time
        namespace, name = item.job
        self._namespace(conn, namespace, t)
        job_facets = _facets_of(event.get("job"))
        parent = _facets_of(event.get("run")).get("parent") if item.kind == "RunEvent" else None
        parent_name = None
        if isinstance(parent, Mapping) and isinstance(parent.get("job"), Mapping):
            parent_job = parent["job"]
            if parent_job.get("name") and (parent_job.get("namespace") or namespace) and parent_job["name"] != name:
                parent_name = str(parent_job["name"])
                self._namespace(conn, str(parent_job.get("namespace") or namespace), t)
                self._upsert_job(conn, str(parent_job.get("namespace") or namespace), parent_name, parent_name,
                                 None, {}, t)
        # Marquez names a child job "<parent>.<name>"; Spark's already start with the parent's name.
        if parent_name and not name.startswith(parent_name + "."):
            fqn, simple = f"{parent_name}.{name}", name
        elif parent_name:
            fqn, simple = name, name[len(parent_name) + 1:]
        else:
            fqn, simple = name, name
        job_id = self._upsert_job(conn, namespace, fqn, simple, parent_name, job_facets, t)
        self._put_facets(conn, "job", str(job_id), job_facets, t)
        return job_id, fqn

    def _upsert_job(self, conn: Connection, namespace: str, fqn: str, simple: str, parent: str | None,
                    job_facets: Mapping[str, Any], t: datetime) -> int:
        job_type = job_facets.get("jobType", {}).get("processingType")
        location = job_facets.get("sourceCodeLocation", {}).get("url")
        description = job_facets.get("documentation", {}).get("description")
        conn.execute(self._job_upsert, {
            "namespace": namespace, "name": fqn, "simple_name": simple, "parent_job_name": parent,
            "type": "STREAM" if job_type == "STREAMING" else "BATCH", "location": location, "description": description,
            "current_version": None, "latest_run_uuid": None, "latest_run_time": None, "created_at": t, "updated_at": t})
        return conn.execute(select(jobs.c.id).where(jobs.c.namespace == namespace, jobs.c.name == fqn)).scalar_one()

    def _dataset_ref(self, conn: Connection, namespace: str, name: str, t: datetime) -> int:
        """The id of a dataset only named (in column lineage): created if new, otherwise untouched."""
        key = (namespace, name)
        known = self._dataset_ids.get(key) or self._pending_ids.get(key)
        if known is not None:
            return known
        self._namespace(conn, namespace, t)
        conn.execute(self._source_insert, {"name": namespace, "type": _source_type(namespace),
                                           "connection_url": namespace, "description": None,
                                           "created_at": t, "updated_at": t})
        conn.execute(self._dataset_insert, {"namespace": namespace, "name": name, "source_name": namespace,
                                            "type": "DB_TABLE", "description": None, "created_at": t, "updated_at": t})
        return self._dataset_id(conn, namespace, name)

    def _dataset_id(self, conn: Connection, namespace: str, name: str) -> int:
        key = (namespace, name)
        known = self._dataset_ids.get(key) or self._pending_ids.get(key)
        if known is None:
            known = conn.execute(select(datasets.c.id).where(datasets.c.namespace == namespace,
                                                             datasets.c.name == name)).scalar_one()
            self._pending_ids[key] = known
        return known

    def _dataset(self, conn: Connection, dataset: Mapping[str, Any], t: datetime) -> int:
        namespace, name = str(dataset["namespace"]), str(dataset["name"])
        self._namespace(conn, namespace, t)
        dataset_facets = _facets_of(dataset)
        source = dataset_facets.get("dataSource", {})
        source_name = str(source.get("name") or namespace)
        source_url = source.get("uri") or namespace
        conn.execute(self._source_insert, {"name": source_name, "type": _source_type(str(source_url)),
                                           "connection_url": str(source_url), "description": None,
                                           "created_at": t, "updated_at": t})
        description = dataset_facets.get("documentation", {}).get("description")
        conn.execute(self._dataset_upsert, {"namespace": namespace, "name": name, "source_name": source_name,
                                            "type": "DB_TABLE", "description": description,
                                            "created_at": t, "updated_at": t})
        dataset_id = self._dataset_id(conn, namespace, name)
        self._put_facets(conn, "dataset", str(dataset_id), dataset_facets, t)
        fields = _schema_fields(dataset_facets)
        if fields is not None and not self._has_newer_fields(conn, dataset_id, t):
            conn.execute(delete(dataset_fields).where(dataset_fields.c.dataset_id == dataset_id))
            if fields:
                conn.execute(dataset_fields.insert(), [
                    {"dataset_id": dataset_id, "name": f["name"], "type": f.get("type"),
                     "description": f.get("description"), "position": position}
                    for position, f in enumerate(fields)])
            self._put_facets(conn, "fields", str(dataset_id), {"schema": {"at": t.isoformat()}}, t)
        return dataset_id

    def _has_newer_fields(self, conn: Connection, dataset_id: int, t: datetime) -> bool:
        known = conn.execute(select(facets.c.event_time).where(
            facets.c.owner_kind == "fields", facets.c.owner_key == str(dataset_id))).scalar_one_or_none()
        return known is not None and not _later(t, known)

    def _run(self, conn: Connection, item: Checked, job_id: int, fqn: str) -> None:
        event, t, run_id = item.event, item.event_time, item.run_id
        run_facets = _facets_of(event.get("run"))
        state = RUN_STATE.get(item.event_type or "", "NEW")
        rank = STATE_RANK[state]
        parent = run_facets.get("parent", {})
        parent_run = parent.get("run", {}).get("runId") if isinstance(parent, Mapping) else None
        nominal = run_facets.get("nominalTime", {})
        current = conn.execute(select(runs).where(runs.c.uuid == run_id).with_for_update()).mappings().first()
        if current is None:
            conn.execute(runs.insert().values(
                uuid=run_id, job_id=job_id, parent_run_uuid=parent_run, state=state, state_rank=rank, state_time=t,
                started_at=t, ended_at=t if state in TERMINAL else None,
                nominal_start_time=_maybe_time(nominal.get("nominalStartTime")),
                nominal_end_time=_maybe_time(nominal.get("nominalEndTime")), created_at=t, updated_at=t))
            decided = True
        else:
            changes: dict[str, Any] = {}
            decided = (rank, t) >= (current["state_rank"], _aware(current["state_time"]))
            if decided:
                changes.update(state=state, state_rank=rank, state_time=t)
                if state in TERMINAL:
                    changes["ended_at"] = t
            if current["started_at"] is None or not _later(t, current["started_at"]):
                changes["started_at"] = t  # the earliest event of a run marks its start
            if _later(t, current["updated_at"]):
                changes["updated_at"] = t
            if parent_run and not current["parent_run_uuid"]:
                changes["parent_run_uuid"] = parent_run
            if nominal:
                changes["nominal_start_time"] = _maybe_time(nominal.get("nominalStartTime"))
                changes["nominal_end_time"] = _maybe_time(nominal.get("nominalEndTime"))
            if changes:
                conn.execute(update(runs).where(runs.c.uuid == run_id).values(**changes))
        self._put_facets(conn, "run", run_id, run_facets, t)

        for direction, key in (("INPUT", "inputs"), ("OUTPUT", "outputs")):
            for dataset in event.get(key) or ():
                dataset_id = self._dataset(conn, dataset, t)
                version = self._output_version(conn, dataset, dataset_id, run_id, t) if direction == "OUTPUT" \
                    else conn.execute(select(datasets.c.current_version).where(datasets.c.id == dataset_id)).scalar()
                conn.execute(self._run_io_insert, {"run_uuid": run_id, "dataset_id": dataset_id,
                                                   "direction": direction, "dataset_version_uuid": version})

        job = conn.execute(select(jobs.c.latest_run_time, jobs.c.location).where(jobs.c.id == job_id)).first()
        if _later(t, job.latest_run_time):
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(latest_run_uuid=run_id, latest_run_time=t))
        latest = conn.execute(select(jobs.c.latest_run_uuid).where(jobs.c.id == job_id)).scalar()
        io = conn.execute(select(run_io.c.dataset_id, run_io.c.direction).where(run_io.c.run_uuid == run_id)).all()
        if latest == run_id:
            self._replace_job_io(conn, job_id, {d: [i for i, dd in io if dd == d] for d in ("INPUT", "OUTPUT")})
        if state in TERMINAL:
            self._job_version(conn, job_id, fqn, run_id, job.location, t, is_latest=latest == run_id)

    def _output_version(self, conn: Connection, dataset: Mapping[str, Any], dataset_id: int, run_id: str,
                        t: datetime) -> str:
        """One version of an output per run that writes it; it becomes current if no newer one exists."""
        dataset_facets = _facets_of(dataset)
        version = version_uuid(dataset["namespace"], dataset["name"], run_id)
        lifecycle = dataset_facets.get("lifecycleStateChange", {}).get("lifecycleStateChange")
        fields = _schema_fields(dataset_facets)
        existing = conn.execute(select(dataset_versions.c.event_time).where(
            dataset_versions.c.uuid == version)).scalar_one_or_none()
        if existing is None:
            conn.execute(dataset_versions.insert().values(
                uuid=version, dataset_id=dataset_id, run_uuid=run_id, fields=fields or [], lifecycle_state=lifecycle,
                event_time=t, created_at=t))
        elif _later(t, existing):
            changes: dict[str, Any] = {"event_time": t}
            if fields is not None:
                changes["fields"] = fields
            if lifecycle:
                changes["lifecycle_state"] = lifecycle
            conn.execute(update(dataset_versions).where(dataset_versions.c.uuid == version).values(**changes))
        self._put_facets(conn, "dataset_version", version, {**dataset_facets, **_facets_of(dataset, "outputFacets")},
                         t)
        current = conn.execute(select(datasets.c.current_version_time).where(datasets.c.id == dataset_id)).scalar()
        if _later(t, current):
            changes = {"current_version": version, "current_version_time": t, "last_modified_at": t}
            if lifecycle:
                changes["last_lifecycle_state"] = lifecycle
            conn.execute(update(datasets).where(datasets.c.id == dataset_id).values(**changes))
            lineage = dataset_facets.get("columnLineage")
            if isinstance(lineage, Mapping):
                # START and COMPLETE of a write carry the same lineage: replace it only when it changed
                digest = hashlib.sha256(json.dumps([version, lineage], sort_keys=True).encode()).hexdigest()
                known = conn.execute(select(facets.c.value).where(
                    facets.c.owner_kind == "lineage", facets.c.owner_key == str(dataset_id),
                    facets.c.name == "digest")).scalar_one_or_none()
                if known != {"sha256": digest}:
                    self._replace_field_lineage(conn, dataset_id, version, lineage, t)
                    self._put_facets(conn, "lineage", str(dataset_id), {"digest": {"sha256": digest}}, t)
        return version

    def _replace_field_lineage(self, conn: Connection, dataset_id: int, version: str, facet: Mapping[str, Any],
                               t: datetime) -> None:
        conn.execute(delete(field_lineage).where(field_lineage.c.output_dataset_id == dataset_id))
        rows = []
        entries = [(field, body.get("inputFields") or ()) for field, body in (facet.get("fields") or {}).items()
                   if isinstance(body, Mapping)]
        entries.append(("", facet.get("dataset") or ()))
        for output_field, inputs in entries:
            for entry in inputs:
                if not isinstance(entry, Mapping) or not entry.get("namespace") or not entry.get("name"):
                    continue
                input_id = self._dataset_ref(conn, str(entry["namespace"]), str(entry["name"]), t)
                transformations = entry.get("transformations") or [{}]
                for transformation in transformations:
                    rows.append({
                        "output_dataset_id": dataset_id, "output_field": output_field, "input_dataset_id": input_id,
                        "input_field": str(entry.get("field", "")),
                        "transformation_type": transformation.get("type"),
                        "transformation_subtype": transformation.get("subtype"),
                        "transformation_description": transformation.get("description"),
                        "masking": bool(transformation.get("masking", False)),
                        "dataset_version_uuid": version, "updated_at": t})
        if rows:
            conn.execute(field_lineage.insert(), rows)

    def _replace_job_io(self, conn: Connection, job_id: int, ids: Mapping[str, list[int]]) -> None:
        conn.execute(delete(job_io).where(job_io.c.job_id == job_id))
        rows = [{"job_id": job_id, "dataset_id": i, "direction": d} for d, values in ids.items() for i in set(values)]
        if rows:
            conn.execute(job_io.insert(), rows)

    def _job_version(self, conn: Connection, job_id: int, fqn: str, run_id: str, location: str | None,
                     t: datetime, is_latest: bool) -> None:
        io = conn.execute(select(datasets.c.namespace, datasets.c.name, run_io.c.direction).join(
            datasets, datasets.c.id == run_io.c.dataset_id).where(run_io.c.run_uuid == run_id)).all()
        inputs = sorted([ns, name] for ns, name, d in io if d == "INPUT")
        outputs = sorted([ns, name] for ns, name, d in io if d == "OUTPUT")
        version = version_uuid(job_id, fqn, inputs, outputs, location)
        statement = self._insert(job_versions).values(
            uuid=version, job_id=job_id, location=location, inputs=inputs, outputs=outputs, latest_run_uuid=run_id,
            created_at=t, updated_at=t)
        conn.execute(statement.on_conflict_do_update(
            index_elements=["uuid"], set_={"latest_run_uuid": statement.excluded.latest_run_uuid,
                                           "updated_at": statement.excluded.updated_at},
            where=job_versions.c.updated_at <= statement.excluded.updated_at))
        conn.execute(update(runs).where(runs.c.uuid == run_id).values(job_version_uuid=version))
        if is_latest:
            conn.execute(update(jobs).where(and_(jobs.c.id == job_id)).values(current_version=version))


def _schema_fields(dataset_facets: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    schema = dataset_facets.get("schema")
    if not isinstance(schema, Mapping) or not isinstance(schema.get("fields"), list):
        return None
    return [{"name": str(f["name"]), "type": f.get("type"), "description": f.get("description")}
            for f in schema["fields"] if isinstance(f, Mapping) and f.get("name") is not None]


def _source_type(url: str) -> str:
    scheme = url.split(":", 1)[0].lower() if ":" in url else url.lower()
    return {"postgres": "POSTGRESQL", "postgresql": "POSTGRESQL", "mysql": "MYSQL", "s3": "S3", "gs": "GCS",
            "hdfs": "HDFS", "file": "FILE", "kafka": "KAFKA"}.get(scheme, scheme.upper() or "UNKNOWN")


def _maybe_time(value: Any) -> datetime | None:
    try:
        return parse_time(value) if value else None
    except ValueError:
        return None


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
