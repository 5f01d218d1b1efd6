"""POST /api/v1/lineage: single events and batches, refusals, idempotence, order independence, the
pipeline's real events, and the OpenLineage Python client's HTTP transport against a real server."""

from __future__ import annotations

import gzip
import itertools
import json
import random
import socket
import sqlite3
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text

from lineage_audit.service.app import create_app
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
from lineage_audit.service.settings import ServiceSettings
from tests.service.conftest import make_client, post_batches

URL = "/api/v1/lineage"
PRODUCER = "https://github.com/data-lineage-audit/data-lineage-audit/tests"
RUN_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def dataset(name: str, namespace: str = "file", fields: tuple[str, ...] = ("id", "amount"), **extra_facets) -> dict:
    schema = {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json",
              "fields": [{"name": f, "type": "string"} for f in fields]}
    return {"namespace": namespace, "name": name, "facets": {"schema": schema, **extra_facets}}


def run_event(event_type: str | None, seconds: float, run_id: str | None = None, job: str = "daily_orders",
              namespace: str = "tests", inputs=(), outputs=(), run_facets=None, job_facets=None) -> dict:
    event = {"eventTime": at(seconds), "producer": PRODUCER, "schemaURL": RUN_SCHEMA,
             "run": {"runId": run_id or str(uuid.uuid4()), "facets": run_facets or {}},
             "job": {"namespace": namespace, "name": job, "facets": job_facets or {}},
             "inputs": list(inputs), "outputs": list(outputs)}
    if event_type is not None:
        event["eventType"] = event_type
    return event


def engine_of(client):
    return client.app.state.engine


def count(client, table, *where) -> int:
    with engine_of(client).connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def utc(value: datetime | None) -> datetime | None:
    """Timestamps come back naive from SQLite (stored as UTC) and aware from PostgreSQL."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def run_row(client, run_id: str):
    with engine_of(client).connect() as conn:
        return conn.execute(select(runs).where(runs.c.uuid == run_id)).mappings().one()


def facet(client, kind: str, key: str, name: str):
    with engine_of(client).connect() as conn:
        return conn.execute(select(facets.c.value).where(facets.c.owner_kind == kind, facets.c.owner_key == key,
                                                         facets.c.name == name)).scalar_one_or_none()


def dataset_id(client, namespace: str, name: str) -> int:
    with engine_of(client).connect() as conn:
        return conn.execute(select(datasets.c.id).where(datasets.c.namespace == namespace,
                                                        datasets.c.name == name)).scalar_one()


def post(client, body, **kwargs):
    if isinstance(body, (dict, list)):
        return client.post(URL, json=body, **kwargs)
    return client.post(URL, content=body, **kwargs)


# -- storing -----------------------------------------------------------------------------------

def test_one_run_event_is_stored_with_its_run_job_and_datasets(service):
    run_id = str(uuid.uuid4())
    event = run_event("START", 0, run_id, inputs=[dataset("/data/in/orders")], outputs=[dataset("/data/out/daily")],
                      run_facets={"nominalTime": {"_producer": PRODUCER, "_schemaURL": "x",
                                                  "nominalStartTime": at(-60)}})
    response = post(service, event)
    assert response.status_code == 201, response.text
    assert response.json() == {"stored": 1, "duplicates": 0}

    with engine_of(service).connect() as conn:
        stored = conn.execute(select(lineage_events)).mappings().one()
        job = conn.execute(select(jobs)).mappings().one()
        found = conn.execute(select(datasets.c.namespace, datasets.c.name).order_by(datasets.c.name)).all()
        edges = conn.execute(select(job_io.c.direction, datasets.c.name).join(
            datasets, datasets.c.id == job_io.c.dataset_id).order_by(job_io.c.direction)).all()
        names = set(conn.execute(select(namespaces.c.name)).scalars())
    assert json.loads(stored["payload"]) == event
    assert (stored["event_kind"], stored["event_type"], stored["run_uuid"]) == ("RunEvent", "START", run_id)
    assert (stored["job_namespace"], stored["job_name"]) == ("tests", "daily_orders")
    assert (job["namespace"], job["name"], job["latest_run_uuid"]) == ("tests", "daily_orders", run_id)
    assert [tuple(r) for r in found] == [("file", "/data/in/orders"), ("file", "/data/out/daily")]
    assert [tuple(e) for e in edges] == [("INPUT", "/data/in/orders"), ("OUTPUT", "/data/out/daily")]
    assert names == {"tests", "file"}
    run = run_row(service, run_id)
    assert run["state"] == "RUNNING" and run["job_id"] == job["id"]
    assert utc(run["started_at"]) == T0 and run["ended_at"] is None
    assert utc(run["nominal_start_time"]) == T0 - timedelta(seconds=60)
    assert count(service, dataset_fields, dataset_fields.c.dataset_id == dataset_id(service, "file", "/data/in/orders")) == 2


def test_a_batch_as_a_json_array_is_stored_in_one_request(service):
    run_id = str(uuid.uuid4())
    batch = [run_event("START", 0, run_id, outputs=[dataset("/out")]),
             run_event("COMPLETE", 5, run_id, outputs=[dataset("/out")]),
             run_event("COMPLETE", 9, job="other_job")]
    response = post(service, batch)
    assert response.status_code == 201, response.text
    assert response.json() == {"stored": 3, "duplicates": 0}
    assert count(service, lineage_events) == 3
    assert count(service, runs) == 2
    assert count(service, jobs) == 2
    assert run_row(service, run_id)["state"] == "COMPLETED"


@pytest.mark.parametrize("content_type", ["application/x-ndjson", "application/x-ndjson; charset=utf-8"])
def test_a_batch_as_ndjson_is_stored(service, content_type):
    run_id = str(uuid.uuid4())
    events = [run_event("START", 0, run_id), run_event("COMPLETE", 3, run_id), run_event("FAIL", 4, job="j2")]
    body = "\n".join(json.dumps(e) for e in events[:2]) + "\n\n" + json.dumps(events[2]) + "\n"
    response = post(service, body.encode(), headers={"Content-Type": content_type})
    assert response.status_code == 201, response.text
    assert response.json() == {"stored": 3, "duplicates": 0}
    assert run_row(service, run_id)["state"] == "COMPLETED"
    with engine_of(service).connect() as conn:
        assert set(conn.execute(select(runs.c.state)).scalars()) == {"COMPLETED", "FAILED"}


def test_ndjson_sent_as_json_is_read_line_by_line(service):
    events = [run_event("START", 0), run_event("START", 1)]
    body = "\n".join(json.dumps(e) for e in events)
    response = post(service, body.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert count(service, lineage_events) == 2


def test_a_dataset_event_creates_the_dataset_with_its_fields_and_facets(service):
    event = {"eventTime": at(0), "producer": PRODUCER,
             "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
             "dataset": dataset("public.customers", "postgres://db:5432", fields=("id", "email", "country"),
                                documentation={"_producer": PRODUCER, "_schemaURL": "x",
                                               "description": "one row per customer"})}
    response = post(service, event)
    assert response.status_code == 201, response.text
    with engine_of(service).connect() as conn:
        row = conn.execute(select(datasets)).mappings().one()
        fields = conn.execute(select(dataset_fields.c.name).order_by(dataset_fields.c.position)).scalars().all()
        source = conn.execute(select(sources)).mappings().one()
        kind = conn.execute(select(lineage_events.c.event_kind)).scalar_one()
    assert (row["namespace"], row["name"], row["description"]) == (
        "postgres://db:5432", "public.customers", "one row per customer")
    assert fields == ["id", "email", "country"]
    assert (source["name"], source["type"]) == ("postgres://db:5432", "POSTGRESQL")
    assert kind == "DatasetEvent"
    assert count(service, runs) == 0 and count(service, jobs) == 0


def test_a_job_event_creates_the_job_and_its_current_edges(service):
    event = {"eventTime": at(0), "producer": PRODUCER,
             "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
             "job": {"namespace": "tests", "name": "nightly_export", "facets": {
                 "sourceCodeLocation": {"_producer": PRODUCER, "_schemaURL": "x", "type": "git",
                                        "url": "https://git.example.com/export.py"}}},
             "inputs": [dataset("/in/a")], "outputs": [dataset("/out/b")]}
    response = post(service, event)
    assert response.status_code == 201, response.text
    with engine_of(service).connect() as conn:
        job = conn.execute(select(jobs)).mappings().one()
        edges = conn.execute(select(job_io.c.direction, datasets.c.name).join(
            datasets, datasets.c.id == job_io.c.dataset_id).order_by(job_io.c.direction)).all()
    assert (job["name"], job["location"]) == ("nightly_export", "https://git.example.com/export.py")
    assert [tuple(e) for e in edges] == [("INPUT", "/in/a"), ("OUTPUT", "/out/b")]
    assert count(service, runs) == 0


# -- refusals ----------------------------------------------------------------------------------

@pytest.mark.parametrize("body, reason", [
    (b'{"eventTime": ', "Expecting value"),
    (b'{"eventTime": "2026-01-01T00:00:00Z" "producer": "x"}', "Expecting ',' delimiter"),
    (b"", "Expecting value"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"eventTime": NaN}', "NaN"),
])
def test_malformed_json_is_a_400_with_the_parsers_reason(service, body, reason):
    response = post(service, body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 400
    assert reason in response.json()["message"]
    assert count(service, lineage_events) == 0


def test_malformed_ndjson_names_the_line(service):
    body = json.dumps(run_event("START", 0)) + "\n{not json}\n"
    response = post(service, body.encode(), headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 400
    assert "line 2" in response.json()["message"]
    assert count(service, lineage_events) == 0


def _without(path: str):
    def change(event):
        *parents, last = path.split(".")
        owner = event
        for key in parents:
            owner = owner[key]
        del owner[last]
    return change


def _set(path: str, value):
    def change(event):
        *parents, last = path.split(".")
        owner = event
        for key in parents:
            owner = owner[key]
        owner[last] = value
    return change


INVALID = [
    ("eventTime", _without("eventTime")),
    ("eventTime", _set("eventTime", "yesterday")),
    ("eventTime", _set("eventTime", 1700000000)),
    ("eventTime", _set("eventTime", "0001-01-01T00:00:00+01:00")),
    ("producer", _without("producer")),
    ("producer", _set("producer", "")),
    ("run.runId", _set("run.runId", "not-a-uuid")),
    ("run.runId", _without("run.runId")),
    ("run.runId", _set("run", "a string")),
    ("job.namespace", _without("job.namespace")),
    ("job.name", _set("job.name", "")),
    ("job.name", _set("job.name", 42)),
    ("job", _without("job")),
    ("eventType", _set("eventType", "FINISHED")),
    ("outputs", _set("outputs", {"name": "x"})),
    ("inputs[0].namespace", _set("inputs", [{"name": "/in"}])),
]


@pytest.mark.parametrize("field, change", INVALID, ids=[f"{f}-{i}" for i, (f, _) in enumerate(INVALID)])
def test_an_invalid_event_is_a_422_naming_the_field(service, field, change):
    event = run_event("START", 0, inputs=[dataset("/in")])
    change(event)
    response = post(service, event)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == 422 and body["field"] == field and "index" not in body
    assert field in body["message"]
    assert count(service, lineage_events) == 0


@pytest.mark.parametrize("field, change", INVALID[:6], ids=[f"{f}-{i}" for i, (f, _) in enumerate(INVALID[:6])])
def test_a_bad_event_in_a_batch_names_its_index_and_stores_nothing(service, field, change):
    batch = [run_event("START", 0, outputs=[dataset("/out")]), run_event("START", 1), run_event("START", 2)]
    change(batch[1])
    response = post(service, batch)
    assert response.status_code == 422, response.text
    assert (response.json()["field"], response.json()["index"]) == (field, 1)
    for table in (lineage_events, runs, jobs, datasets, namespaces):
        assert count(service, table) == 0, table.name


def test_a_bad_ndjson_line_names_its_index(service):
    events = [run_event("START", 0), run_event("START", 1)]
    del events[1]["producer"]
    body = "\n".join(json.dumps(e) for e in events)
    response = post(service, body.encode(), headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 422
    assert (response.json()["field"], response.json()["index"]) == ("producer", 1)
    assert count(service, lineage_events) == 0


@pytest.mark.parametrize("body", [b"[]", b"\n\n", b"42", b'"text"', b"[1, 2]", b"null"])
def test_a_body_without_events_is_refused(service, body):
    content_type = "application/x-ndjson" if body.strip() == b"" else "application/json"
    response = post(service, body, headers={"Content-Type": content_type})
    assert response.status_code in (400, 422), response.text
    assert response.json()["code"] == response.status_code
    assert count(service, lineage_events) == 0


def test_a_lone_surrogate_is_refused_not_a_server_error(service):
    event = run_event("START", 0)
    body = json.dumps(event).replace('"producer": "', '"producer": "\\ud800', 1)
    response = post(service, body.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422), response.text
    assert count(service, lineage_events) == 0


@pytest.mark.parametrize("where", ["job.name", "inputs.0.name", "run.facets.parent.job.name"])
def test_a_nul_character_in_a_name_is_refused(service, where):
    event = run_event("START", 0, inputs=[dataset("/in")],
                      run_facets={"parent": {"_producer": PRODUCER, "_schemaURL": "x",
                                             "run": {"runId": str(uuid.uuid4())},
                                             "job": {"namespace": "tests", "name": "parent"}}})
    owner = event
    *parents, last = where.split(".")
    for key in parents:
        owner = owner[int(key)] if key.isdigit() else owner[key]
    owner[last] = "bad\x00name"
    response = post(service, event)
    assert response.status_code == 422, response.text
    assert count(service, lineage_events) == 0


def test_oversized_or_odd_facet_values_are_stored_as_far_as_the_store_allows(service):
    """Facets within the spec may still not fit the store: what does not fit a column is cut or skipped, never a
    server error (PostgreSQL enforces column lengths and refuses NUL characters in text). What breaks the spec is
    refused (test_validation.py)."""
    lineage = {"_producer": PRODUCER, "_schemaURL": "x", "fields": {
        "id": {"inputFields": [{"namespace": "file", "name": "/in", "field": "id",
                                "transformations": [{"type": "T" * 40, "subtype": "S" * 80, "description": "d\x00",
                                                     "masking": False}, {"type": ""}]},
                               {"namespace": "file", "name": "n" * 2000, "field": "id"}]},
        "f" * 2000: {"inputFields": [{"namespace": "file", "name": "/in", "field": "id"}]}}}
    output = dataset("/out", columnLineage=lineage,
                     lifecycleStateChange={"_producer": PRODUCER, "_schemaURL": "x", "lifecycleStateChange": "TRUNCATE"},
                     dataSource={"_producer": PRODUCER, "_schemaURL": "x", "name": "s" * 2000, "uri": "x" * 5000},
                     documentation={"_producer": PRODUCER, "_schemaURL": "x", "description": "nul\x00here"})
    output["facets"]["schema"]["fields"] = [{"name": "id", "type": "struct<" + "a:int," * 100 + ">",
                                             "description": "x\x00y"}, {"name": "g" * 2000, "type": "int"},
                                            {"name": "id", "type": "again"}]
    event = run_event("COMPLETE", 0, outputs=[output], inputs=[dataset("/in", namespace="x" * 200)],
                      job_facets={"sourceCodeLocation": {"_producer": PRODUCER, "_schemaURL": "x", "type": "git",
                                                         "url": "\x00" + "u" * 3000},
                                  "unknown": {"description": {"not": "a string"}}},
                      run_facets={"parent": {"_producer": PRODUCER, "_schemaURL": "x",
                                             "job": {"namespace": "tests", "name": "parent"},
                                             "run": {"runId": str(uuid.uuid4())}},
                                  "odd": {"value": "with \x00 inside", "number": 10 ** 30}})
    response = post(service, event)
    assert response.status_code == 201, response.text
    out = dataset_id(service, "file", "/out")
    with engine_of(service).connect() as conn:
        fields = conn.execute(select(dataset_fields.c.name, dataset_fields.c.type, dataset_fields.c.description)
                              .where(dataset_fields.c.dataset_id == out)).all()
        row = conn.execute(select(datasets).where(datasets.c.id == out)).mappings().one()
        edges = conn.execute(select(field_lineage).where(field_lineage.c.output_dataset_id == out)).mappings().all()
        job = conn.execute(select(jobs).where(jobs.c.name == "parent.daily_orders")).mappings().one()
    assert [f.name for f in fields] == ["id"]
    assert len(fields[0].type) == 256 and fields[0].description == "xy"
    assert row["description"] == "nulhere" and row["last_lifecycle_state"] == "TRUNCATE"
    assert row["source_name"] == "file"  # the dataSource name does not fit: the namespace stands in
    assert [(e["output_field"], e["transformation_type"], e["transformation_subtype"], e["masking"]) for e in edges] \
        == [("id", "T" * 16, "S" * 32, False), ("id", "", None, False)]
    assert job["location"] == "u" * 3000 and job["description"] is None and job["parent_job_name"] == "parent"
    assert facet(service, "run", event["run"]["runId"], "odd")["value"] == "with \x00 inside"


def test_a_body_over_the_limit_is_a_413(database_url):
    with make_client(database_url, max_body_bytes=2000) as client:
        small = run_event("START", 0)
        assert post(client, small).status_code == 201
        big = run_event("START", 1, run_facets={"padding": {"_producer": PRODUCER, "_schemaURL": "x",
                                                             "text": "x" * 3000}})
        response = post(client, big)
        assert response.status_code == 413, response.text
        assert "2000" in response.json()["message"]

        def chunks():  # no Content-Length: the limit holds while reading
            body = json.dumps(big).encode()
            for start in range(0, len(body), 500):
                yield body[start:start + 500]
        response = client.post(URL, content=chunks(), headers={"Content-Type": "application/json"})
        assert response.status_code == 413, response.text
        assert count(client, lineage_events) == 1


def test_a_gzip_body_is_read_and_its_inflated_size_is_limited(database_url):
    with make_client(database_url, max_body_bytes=5000) as client:
        event = run_event("START", 0)
        response = post(client, gzip.compress(json.dumps(event).encode()),
                        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        assert response.status_code == 201, response.text
        bomb = gzip.compress(json.dumps(run_event("START", 1, run_facets={
            "padding": {"_producer": PRODUCER, "_schemaURL": "x", "text": " " * 100_000}})).encode())
        assert len(bomb) < 5000
        response = post(client, bomb, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        assert response.status_code == 413, response.text
        response = post(client, b"not gzip", headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        assert response.status_code == 400, response.text
        assert count(client, lineage_events) == 1


@pytest.mark.parametrize("error, status", [
    (sqlite3.OperationalError("database is locked"), 503),
    (psycopg.OperationalError("connection to server at 127.0.0.1 failed: Connection refused"), 503),
    (sqlite3.OperationalError("no such column: oops"), 500),
    (KeyError("bug"), 500),
])
def test_a_store_that_is_away_is_a_503_to_retry_and_a_bug_a_500(tmp_path, monkeypatch, error, status):
    app = create_app(ServiceSettings(database_url=f"sqlite:///{tmp_path / 'l.db'}"))

    def fail(_checked):
        raise error
    monkeypatch.setattr(app.state.ingester, "ingest", fail)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = post(client, run_event("START", 0))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == status
    if status == 503:
        assert response.headers["Retry-After"] == "1"
        assert str(error).split(":")[0] in response.json()["message"]


# -- idempotence and order -----------------------------------------------------------------------

def test_the_same_event_twice_is_stored_once(service):
    run_id = str(uuid.uuid4())
    event = run_event("COMPLETE", 0, run_id, outputs=[dataset("/out")])
    assert post(service, event).json() == {"stored": 1, "duplicates": 0}
    assert post(service, event).json() == {"stored": 0, "duplicates": 1}
    # the same content with other key order and spacing is the same event
    reordered = json.dumps(dict(reversed(list(event.items()))), indent=2).encode()
    response = post(service, reordered, headers={"Content-Type": "application/json"})
    assert response.json() == {"stored": 0, "duplicates": 1}
    assert post(service, [event, event]).json() == {"stored": 0, "duplicates": 2}
    assert count(service, lineage_events) == 1
    assert count(service, runs) == 1
    assert count(service, dataset_versions) == 1
    assert run_row(service, run_id)["state"] == "COMPLETED"


def test_a_batch_holding_one_event_twice_stores_it_once(service):
    event = run_event("START", 0)
    assert post(service, [event, event]).json() == {"stored": 1, "duplicates": 1}
    assert count(service, lineage_events) == 1


@pytest.mark.parametrize("steps, state", [
    ((("START", 0), ("RUNNING", 10), ("COMPLETE", 20)), "COMPLETED"),
    ((("START", 0), ("FAIL", 20)), "FAILED"),
    ((("START", 0), ("RUNNING", 10), ("ABORT", 20)), "ABORTED"),
    ((("START", 0), ("OTHER", 5), ("COMPLETE", 20)), "COMPLETED"),
])
def test_a_runs_state_does_not_depend_on_arrival_order(service, steps, state):
    for order in itertools.permutations(steps):
        run_id = str(uuid.uuid4())
        for event_type, seconds in order:
            response = post(service, run_event(event_type, seconds, run_id))
            assert response.status_code == 201, response.text
        run = run_row(service, run_id)
        assert run["state"] == state, order
        assert utc(run["started_at"]) == T0, order
        assert utc(run["ended_at"]) == T0 + timedelta(seconds=20), order


def test_a_late_start_never_reopens_a_finished_run(service):
    run_id = str(uuid.uuid4())
    post(service, run_event("COMPLETE", 10, run_id))
    post(service, run_event("START", 30, run_id))  # a producer with a clock ahead
    post(service, run_event("RUNNING", 40, run_id))
    run = run_row(service, run_id)
    assert run["state"] == "COMPLETED"
    assert utc(run["ended_at"]) == T0 + timedelta(seconds=10)


def test_a_tie_between_terminal_states_does_not_depend_on_order(service):
    states = set()
    for order in (("COMPLETE", "FAIL"), ("FAIL", "COMPLETE")):
        run_id = str(uuid.uuid4())
        for event_type in order:
            post(service, run_event(event_type, 5, run_id))
        states.add(run_row(service, run_id)["state"])
    assert len(states) == 1


def test_facets_fields_and_versions_converge_to_the_newest_event_whatever_the_order(service):
    times = (0, 10, 20)
    for number, order in enumerate(itertools.permutations(range(3))):
        run_id, job, out = str(uuid.uuid4()), f"job_{number}", f"/out/{number}"
        for step in order:
            event = run_event(
                ("START", "RUNNING", "COMPLETE")[step], times[step], run_id, job=job,
                outputs=[dataset(out, fields=tuple(f"c{step}_{i}" for i in range(step + 1)),
                                 documentation={"_producer": PRODUCER, "_schemaURL": "x",
                                                "description": f"step {step}"})],
                run_facets={"progress": {"_producer": PRODUCER, "_schemaURL": "x", "step": step}},
                job_facets={"documentation": {"_producer": PRODUCER, "_schemaURL": "x",
                                              "description": f"job step {step}"}})
            assert post(service, event).status_code == 201
        assert facet(service, "run", run_id, "progress")["step"] == 2, order
        job_id = run_row(service, run_id)["job_id"]
        assert facet(service, "job", str(job_id), "documentation")["description"] == "job step 2", order
        out_id = dataset_id(service, "file", out)
        assert facet(service, "dataset", str(out_id), "documentation")["description"] == "step 2", order
        with engine_of(service).connect() as conn:
            fields = conn.execute(select(dataset_fields.c.name).where(dataset_fields.c.dataset_id == out_id)
                                  .order_by(dataset_fields.c.position)).scalars().all()
            version = conn.execute(select(dataset_versions.c.fields, dataset_versions.c.event_time)
                                   .where(dataset_versions.c.dataset_id == out_id)).one()
            job_row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().one()
        assert fields == ["c2_0", "c2_1", "c2_2"], order
        assert [f["name"] for f in version.fields] == ["c2_0", "c2_1", "c2_2"], order
        assert utc(version.event_time) == T0 + timedelta(seconds=20), order
        assert job_row["description"] == "job step 2", order
        assert utc(job_row["created_at"]) == T0 and utc(job_row["updated_at"]) == T0 + timedelta(seconds=20), order


def test_a_run_id_sent_again_under_another_job_stays_with_its_job(service):
    run_id = str(uuid.uuid4())
    assert post(service, run_event("START", 0, run_id, job="first", outputs=[dataset("/out/a")])).status_code == 201
    response = post(service, run_event("COMPLETE", 5, run_id, job="second", outputs=[dataset("/out/b")]))
    assert response.status_code == 201, response.text
    with engine_of(service).connect() as conn:
        names = dict(conn.execute(select(jobs.c.id, jobs.c.name)).all())
        version = conn.execute(select(job_versions.c.job_id)).scalar_one()
    run = run_row(service, run_id)
    assert names[run["job_id"]] == "first" and set(names.values()) == {"first", "second"}
    assert run["state"] == "COMPLETED" and names[version] == "first"


def test_the_newest_run_decides_the_current_edges_and_lineage(service):
    def write(run_id, seconds, source):
        lineage = {"_producer": PRODUCER, "_schemaURL": "x", "fields": {
            "id": {"inputFields": [{"namespace": "file", "name": source, "field": "id",
                                    "transformations": [{"type": "DIRECT", "subtype": "IDENTITY"}]}]}}}
        return run_event("COMPLETE", seconds, run_id, job="copy", inputs=[dataset(source)],
                         outputs=[dataset("/out/copy", fields=("id",), columnLineage=lineage)])
    old, new = str(uuid.uuid4()), str(uuid.uuid4())
    post(service, write(new, 20, "/in/new"))
    post(service, write(old, 10, "/in/old"))
    with engine_of(service).connect() as conn:
        inputs = conn.execute(select(datasets.c.name).join(job_io, job_io.c.dataset_id == datasets.c.id)
                              .where(job_io.c.direction == "INPUT")).scalars().all()
        sources_of_id = conn.execute(select(datasets.c.name).join(
            field_lineage, field_lineage.c.input_dataset_id == datasets.c.id)).scalars().all()
        job = conn.execute(select(jobs.c.latest_run_uuid)).scalar_one()
    assert inputs == ["/in/new"]
    assert sources_of_id == ["/in/new"]
    assert job == new


# -- the pipeline's real events --------------------------------------------------------------

def _other_database(database_url: str, tmp_path, label: str) -> str:
    """Another empty database on the same backend as ``database_url``."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / f'{label}.db'}"
    server, name = database_url.rsplit("/", 1)
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}_{label}"'))
    admin.dispose()
    return f"{server}/{name}_{label}"


def snapshot(engine) -> dict:
    """The whole derived model, with generated ids replaced by names, to compare two stores."""
    with engine.connect() as conn:
        ds_names = {i: (ns, n) for i, ns, n in conn.execute(select(datasets.c.id, datasets.c.namespace,
                                                                    datasets.c.name))}
        job_names = {i: (ns, n) for i, ns, n in conn.execute(select(jobs.c.id, jobs.c.namespace, jobs.c.name))}

        def table(t, drop=(), **rename):
            out = []
            for row in conn.execute(select(t)).mappings():
                row = {k: v for k, v in row.items() if k not in drop}
                for column, names in rename.items():
                    row[column] = names.get(row[column], row[column])
                out.append(json.dumps(row, sort_keys=True, default=str))
            return sorted(out)

        owner = {"dataset": ds_names, "fields": ds_names, "lineage": ds_names, "written": ds_names, "job": job_names}

        def owner_name(kind: str, key: str):
            if kind in ("input", "output", "read"):  # "<run>:<dataset id>"
                run_id, dataset = key.rsplit(":", 1)
                return [run_id, ds_names[int(dataset)]]
            return owner.get(kind, {}).get(int(key) if key.isdigit() else key, key)
        facet_rows = sorted(json.dumps([kind, owner_name(kind, key), name, str(t), value], sort_keys=True,
                                       default=str)
                            for kind, key, name, t, value in conn.execute(select(facets)))
        return {
            "events": sorted(conn.execute(select(lineage_events.c.event_hash)).scalars()),
            "namespaces": table(namespaces), "sources": table(sources),
            "jobs": table(jobs, drop=("id",)),
            "job_versions": table(job_versions, job_id=job_names),
            "runs": table(runs, job_id=job_names),
            "datasets": table(datasets, drop=("id",)),
            "dataset_versions": table(dataset_versions, dataset_id=ds_names),
            "dataset_fields": table(dataset_fields, dataset_id=ds_names),
            "run_io": table(run_io, dataset_id=ds_names),
            "job_io": table(job_io, dataset_id=ds_names, job_id=job_names),
            "field_lineage": table(field_lineage, drop=("id",), output_dataset_id=ds_names,
                                   input_dataset_id=ds_names),
            "facets": facet_rows,
        }


def _expected_counts(events: list[dict]) -> dict[str, int]:
    job_names = {(e["job"]["namespace"], e["job"]["name"]) for e in events}
    named = {(d["namespace"], d["name"]) for e in events for d in (e.get("inputs") or []) + (e.get("outputs") or [])}
    for e in events:
        for d in e.get("outputs") or []:
            lineage = (d.get("facets") or {}).get("columnLineage") or {}
            for body in (lineage.get("fields") or {}).values():
                named |= {(i["namespace"], i["name"]) for i in body.get("inputFields") or []}
            named |= {(i["namespace"], i["name"]) for i in lineage.get("dataset") or []}
    return {"jobs": len(job_names), "runs": len({e["run"]["runId"] for e in events}), "datasets": len(named),
            "events": len({json.dumps(e, sort_keys=True) for e in events})}


def test_the_pipelines_events_ingest_one_by_one_in_a_batch_and_in_any_order(service, pipeline_events, database_url,
                                                                             tmp_path):
    assert len(pipeline_events) > 50
    expected = _expected_counts(pipeline_events)
    for event in pipeline_events:
        response = post(service, event)
        assert response.status_code == 201, response.text
    assert count(service, lineage_events) == expected["events"]
    assert count(service, jobs) == expected["jobs"]
    assert count(service, runs) == expected["runs"]
    assert count(service, runs, runs.c.state == "COMPLETED") == expected["runs"]
    assert count(service, datasets) == expected["datasets"]
    assert count(service, field_lineage) > 100
    with engine_of(service).connect() as conn:
        assert conn.execute(select(func.count()).select_from(runs).where(runs.c.job_version_uuid.is_(None))).scalar() == 0
        assert conn.execute(select(func.count()).select_from(jobs).where(
            jobs.c.current_version.is_(None), jobs.c.latest_run_uuid.is_not(None))).scalar() == 0
    ordered = snapshot(engine_of(service))

    shuffled = list(pipeline_events)
    random.Random(4).shuffle(shuffled)
    with make_client(_other_database(database_url, tmp_path, "shuffled")) as other:
        for event in shuffled:
            assert post(other, event).status_code == 201
        in_any_order = snapshot(engine_of(other))
    with make_client(_other_database(database_url, tmp_path, "batch")) as other:
        # in batches, newest first: a whole pipeline's events are more than one request may hold
        totals = post_batches(lambda body: post(other, body), list(reversed(pipeline_events)))
        assert totals == {"stored": expected["events"], "duplicates": len(pipeline_events) - expected["events"]}
        in_one_batch = snapshot(engine_of(other))
    for name in ordered:
        assert in_any_order[name] == ordered[name], name
        assert in_one_batch[name] == ordered[name], name


# -- the OpenLineage client, over real HTTP ------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """The service under uvicorn in a thread, on a free loopback port."""

    def __init__(self, database_url: str, **settings):
        self.port = free_port()
        app = create_app(ServiceSettings(database_url=database_url, port=self.port, **settings))
        self.app = app
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the service did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def openlineage_client(url: str, api_key: str | None = None, compression=None):
    from openlineage.client import OpenLineageClient
    from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

    auth = ApiKeyTokenProvider({"apiKey": api_key}) if api_key else None
    config = HttpConfig(url=url, endpoint="api/v1/lineage", timeout=10, compression=compression,
                        retry={"total": 0}, **({"auth": auth} if auth else {}))
    return OpenLineageClient(transport=HttpTransport(config))


def client_events(job: str = "client_job") -> tuple[str, list]:
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import schema_dataset

    run_id = str(uuid.uuid4())
    schema = schema_dataset.SchemaDatasetFacet(fields=[schema_dataset.SchemaDatasetFacetFields(name="id", type="int")])
    made = []
    for state, seconds in ((RunState.START, 0), (RunState.COMPLETE, 30)):
        made.append(RunEvent(eventType=state, eventTime=at(seconds), run=Run(runId=run_id),
                             job=Job(namespace="client", name=job), producer=PRODUCER,
                             inputs=[InputDataset(namespace="file", name="/client/in", facets={"schema": schema})],
                             outputs=[OutputDataset(namespace="file", name="/client/out")]))
    return run_id, made


def test_the_openlineage_python_client_ingests_over_http(database_url):
    from openlineage.client.transport.http import HttpCompression

    with LiveServer(database_url) as live:
        client = openlineage_client(live.url)
        run_id, events = client_events()
        for event in events:
            client.emit(event)
        gzip_client = openlineage_client(live.url, compression=HttpCompression.GZIP)
        gzip_run, gzip_events = client_events("gzip_job")
        for event in gzip_events:
            gzip_client.emit(event)
        with live.app.state.engine.connect() as conn:
            stored = conn.execute(select(lineage_events.c.run_uuid, lineage_events.c.event_type)).all()
            states = dict(conn.execute(select(runs.c.uuid, runs.c.state)).all())
            names = set(conn.execute(select(datasets.c.name)).scalars())
    assert sorted(stored) == sorted([(run_id, "START"), (run_id, "COMPLETE"),
                                     (gzip_run, "START"), (gzip_run, "COMPLETE")])
    assert states == {run_id: "COMPLETED", gzip_run: "COMPLETED"}
    assert names == {"/client/in", "/client/out"}
