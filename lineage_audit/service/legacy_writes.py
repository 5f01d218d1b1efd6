"""Marquez's older write API (before OpenLineage), kept consistent with what events produce.

Marquez still answers ``PUT /sources/{source}``, ``PUT /namespaces/{ns}/datasets/{ds}``,
``PUT /namespaces/{ns}/jobs/{job}``, ``POST /namespaces/{ns}/jobs/{job}/runs`` and the run
transitions ``POST /jobs/runs/{id}/start|complete|fail|abort``. Here a dataset or job write and a
run transition become the OpenLineage event that says the same thing (a DatasetEvent, a JobEvent, a
RunEvent), ingested like any other: the store derives from it what it derives from events (fields,
source, description, location, versions, states, latest runs), keeps it in the audit trail, and
later events merge with it in the usual order-independent way. Two writes have no event to say them:
a source is stored as it is, and a new run is a row in state ``NEW``, not started, that its first
transition starts.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Literal

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from lineage_audit.service.db import runs
from lineage_audit.service.events import STATE_RANK, EventError, check_event, parse_time
from lineage_audit.service.merge_sql import STATEMENTS

PRODUCER = "https://github.com/data-lineage-audit/data-lineage-audit/service/marquez-write-api"
SPEC = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
FACETS = "https://openlineage.io/spec/facets/1-0-1/"
TRANSITIONS = {"start": "START", "complete": "COMPLETE", "fail": "FAIL", "abort": "ABORT"}


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")


class CreatedSource(_Body):
    type: str = Field(min_length=1, max_length=64, description="The type of the source, e.g. POSTGRESQL.")
    connectionUrl: str = Field(min_length=1, description="The URL of the source.")
    description: str | None = None


class CreatedField(_Body):
    name: str = Field(min_length=1, max_length=1024)
    type: str | None = None
    tags: list[str] | str | None = None
    description: str | None = None


class CreatedDataset(_Body):
    type: Literal["DB_TABLE", "STREAM"] = "DB_TABLE"
    physicalName: str | None = None
    sourceName: str = Field(min_length=1, max_length=1024)
    fields: list[CreatedField] = []
    tags: list[str] = []
    description: str | None = None
    schemaLocation: str | None = None
    runId: str | None = None


class DatasetRef(_Body):
    namespace: str = Field(min_length=1, max_length=1024)
    name: str = Field(min_length=1, max_length=1024)


class CreatedJob(_Body):
    type: Literal["BATCH", "STREAM", "SERVICE"] = "BATCH"
    inputs: list[DatasetRef] = []
    outputs: list[DatasetRef] = []
    location: str | None = None
    description: str | None = None
    context: dict[str, Any] | None = None
    runId: str | None = None


class CreatedRun(_Body):
    id: uuid.UUID | None = None
    nominalStartTime: datetime | None = None
    nominalEndTime: datetime | None = None
    args: dict[str, Any] | None = None


def iso_now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def transition_time(at: str | None) -> str:
    """The time of a run transition: ``at`` (ISO 8601) or now."""
    if not at:
        return iso_now()
    try:
        return parse_time(at).isoformat().replace("+00:00", "Z")
    except ValueError:
        raise HTTPException(400, f"at: '{at}' is not an ISO 8601 timestamp") from None


def _facet(kind: str, **values: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": f"{FACETS}{kind}.json", **values}


def ingest(ingester: Any, event: dict[str, Any]) -> None:
    try:
        ingester.ingest([check_event(event)])
    except EventError as exc:  # a name or time the store cannot hold
        raise HTTPException(400, exc.message) from None


def dataset_event(namespace: str, name: str, body: CreatedDataset, source_url: str) -> dict[str, Any]:
    """The DatasetEvent of ``PUT /namespaces/{namespace}/datasets/{name}``."""
    facets = {
        "schema": _facet("SchemaDatasetFacet", fields=[
            {k: v for k, v in (("name", f.name), ("type", f.type), ("description", f.description)) if v is not None}
            for f in body.fields]),
        "dataSource": _facet("DatasourceDatasetFacet", name=body.sourceName, uri=source_url),
    }
    if body.description is not None:
        facets["documentation"] = _facet("DocumentationDatasetFacet", description=body.description)
    return {"eventTime": iso_now(), "producer": PRODUCER, "schemaURL": f"{SPEC}#/$defs/DatasetEvent",
            "dataset": {"namespace": namespace, "name": name, "facets": facets}}


def job_event(namespace: str, name: str, body: CreatedJob) -> dict[str, Any]:
    """The JobEvent of ``PUT /namespaces/{namespace}/jobs/{name}``: its datasets become the job's current ones."""
    facets = {"jobType": _facet("JobTypeJobFacet", processingType="STREAMING" if body.type == "STREAM" else "BATCH",
                                integration="MARQUEZ", jobType=body.type)}
    if body.location is not None:
        facets["sourceCodeLocation"] = _facet("SourceCodeLocationJobFacet", type="", url=body.location)
    if body.description is not None:
        facets["documentation"] = _facet("DocumentationJobFacet", description=body.description)
    return {"eventTime": iso_now(), "producer": PRODUCER, "schemaURL": f"{SPEC}#/$defs/JobEvent",
            "job": {"namespace": namespace, "name": name, "facets": facets},
            "inputs": [{"namespace": d.namespace, "name": d.name} for d in body.inputs],
            "outputs": [{"namespace": d.namespace, "name": d.name} for d in body.outputs]}


def run_event(run_id: str, namespace: str, job: str, event_type: str, event_time: str) -> dict[str, Any]:
    """The RunEvent of a run transition (``POST /jobs/runs/{id}/start`` and the others)."""
    return {"eventTime": event_time, "eventType": event_type, "producer": PRODUCER,
            "schemaURL": f"{SPEC}#/$defs/RunEvent", "run": {"runId": run_id, "facets": {}},
            "job": {"namespace": namespace, "name": job, "facets": {}}}


def create_run(conn: Connection, job_id: int, body: CreatedRun) -> str:
    """A new run of a job, in state NEW and not started; the job's latest run is recomputed."""
    run_id = str(body.id or uuid.uuid4())
    if conn.execute(select(runs.c.uuid).where(runs.c.uuid == run_id)).first() is not None:
        raise HTTPException(400, f"Run '{run_id}' already exists.")
    now = datetime.now(timezone.utc)
    conn.execute(runs.insert().values(
        uuid=run_id, job_id=job_id, state="NEW", state_rank=STATE_RANK["NEW"], state_time=now, created_at=now,
        updated_at=now, nominal_start_time=body.nominalStartTime, nominal_end_time=body.nominalEndTime,
        args=body.args or None))
    conn.execute(text(STATEMENTS["job_latest"]), {"id": job_id})
    return run_id
