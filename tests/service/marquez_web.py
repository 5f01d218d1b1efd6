"""What Marquez's own web UI (marquez-web 0.51) sends and reads, for the tests that replay every request the
UI makes against the service as it sends it (method, path encoded with ``encodeURIComponent``, query
string, body), on a small pipeline: ``test_marquez_web_pages.py`` and ``test_marquez_web_edits.py``.

Each test names the marquez-web files it mirrors (repository MarquezProject/marquez, folder web/src). The
checks are on what the UI reads: a field it calls ``.map``/``.length``/``.reduce`` on must be a list, a
field it reads off an object must be present (``null`` where it may be absent, never missing), dates are
ISO 8601 strings ``moment`` parses, counts are numbers. Request inventory (store/requests/*.ts):

==========================  ===============================================================================
dashboard                   GET /stats/lineage-events|jobs|datasets|sources?period=DAY|WEEK&timezone=<IANA>
                            GET /jobs?limit=10&offset=0[&lastRunStates=RUNNING|COMPLETED|FAILED|ABORTED]
app start                   GET /namespaces, GET /tags
jobs page and drawer        GET /namespaces/{ns}/jobs?limit&offset, GET /namespaces/{ns}/jobs/{job},
                            GET /namespaces/{ns}/jobs/{job}/runs?limit&offset,
                            GET /jobs/runs/{id}/facets?type=run|job
datasets page and drawer    GET /namespaces/{ns}/datasets?limit&offset, GET /namespaces/{ns}/datasets/{ds},
                            GET /namespaces/{ns}/datasets/{ds}/versions?limit&offset
tags                        PUT /tags/{tag} {"description"}, POST|DELETE .../jobs/{job}/tags/{tag},
                            POST|DELETE .../datasets/{ds}/tags/{tag}, POST|DELETE .../fields/{f}/tags/{tag}
deletes                     DELETE /namespaces/{ns}/datasets/{ds}, DELETE /namespaces/{ns}/jobs/{job}
graphs                      GET /lineage?nodeId=<type>:<ns>:<name>&depth=N[&aggregateByParent=false]
                            GET /column-lineage?nodeId=dataset:<ns>:<name>&depth=N&withDownstream=true
search                      GET /search?q&sort=UPDATE_AT|NAME&limit=100[&filter=JOB|DATASET]
                            GET /api/v2beta/search/jobs?q, GET /api/v2beta/search/datasets?q
events page                 GET /events/lineage?limit&before&after&offset&sortDirection=desc
==========================  ===============================================================================

marquez-web sends no namespace delete; ``DELETE /namespaces/{ns}`` is checked with the deletes because
the UI must keep working after one (the namespace selector lists it, its jobs and datasets are gone).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import quote


API = "/api/v1"
BETA = "/api/v2beta"
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.23.0/integration/spark"
S3, PG, ETL = "s3://raw-bucket", "postgres://db.example.com:5432", "etl"
INGEST, REPORT, CLICKS, CLEANUP = "ingest.orders", "report.daily_revenue", "stream.clicks", "cleanup"
RUN_STATES = ("NEW", "RUNNING", "COMPLETED", "FAILED", "ABORTED")


def enc(value: str) -> str:
    """JavaScript's ``encodeURIComponent``, which marquez-web applies to every name in a path."""
    return quote(value, safe="-_.!~*'()")


# -- what the UI reads: a small schema language ---------------------------------------------------

class Iso:
    """An ISO 8601 date-time string (the UI formats it with ``moment``)."""


class Nullable:
    def __init__(self, shape):
        self.shape = shape


class ListOf:
    def __init__(self, shape):
        self.shape = shape


def check(value, shape, where: str = "body") -> None:
    """Assert ``value`` has ``shape``: a type, ``Iso``, ``Nullable(s)``, ``ListOf(s)`` or a dict of field shapes
    (every field named must be present; others may be there too)."""
    if isinstance(shape, Nullable):
        if value is not None:
            check(value, shape.shape, where)
    elif isinstance(shape, ListOf):
        assert isinstance(value, list), f"{where}: a list expected, got {value!r:.200}"
        for index, item in enumerate(value):
            check(item, shape.shape, f"{where}[{index}]")
    elif isinstance(shape, dict):
        assert isinstance(value, dict), f"{where}: an object expected, got {value!r:.200}"
        for key, field_shape in shape.items():
            assert key in value, f"{where}.{key}: missing (the UI reads it)"
            check(value[key], field_shape, f"{where}.{key}")
    elif shape is Iso:
        assert isinstance(value, str), f"{where}: an ISO date-time string expected, got {value!r}"
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    elif shape is int:
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: a number expected, got {value!r}"
    else:
        assert isinstance(value, shape), f"{where}: {shape.__name__} expected, got {value!r:.200}"


ID = {"namespace": str, "name": str}
FIELD = {"name": str, "type": Nullable(str), "tags": ListOf(str), "description": Nullable(str)}
JOB_VERSION = {"namespace": str, "name": str, "version": str}
RUN = {"id": str, "createdAt": Iso, "updatedAt": Iso, "nominalStartTime": Nullable(Iso),
       "nominalEndTime": Nullable(Iso), "state": str, "startedAt": Nullable(Iso), "endedAt": Nullable(Iso),
       "durationMs": Nullable(int), "args": dict, "jobVersion": Nullable(JOB_VERSION), "facets": dict}
JOB = {"id": ID, "type": str, "name": str, "createdAt": Iso, "updatedAt": Iso, "inputs": ListOf(ID),
       "outputs": ListOf(ID), "namespace": str, "location": Nullable(str), "description": Nullable(str),
       "latestRun": Nullable(RUN), "latestRuns": ListOf(RUN), "tags": ListOf(str),
       "parentJobName": Nullable(str), "parentJobUuid": Nullable(str)}
INPUT_FIELD = {"namespace": str, "dataset": str, "field": str, "transformationDescription": Nullable(str),
               "transformationType": Nullable(str)}
DATASET = {"id": ID, "type": str, "name": str, "physicalName": str, "createdAt": Iso, "updatedAt": Iso,
           "namespace": str, "sourceName": str, "fields": ListOf(FIELD), "tags": ListOf(str),
           "lastModifiedAt": Nullable(Iso), "description": Nullable(str), "facets": dict, "deleted": bool,
           "columnLineage": Nullable(ListOf({"name": str, "inputFields": ListOf(INPUT_FIELD)}))}
DATASET_VERSION = {"id": {**ID, "version": str}, "type": str, "name": str, "physicalName": str, "createdAt": Iso,
                   "version": str, "namespace": str, "sourceName": str, "fields": ListOf(FIELD),
                   "tags": ListOf(str), "lifecycleState": Nullable(str), "description": Nullable(str),
                   "createdByRun": Nullable(RUN), "facets": dict}
EDGE = {"origin": str, "destination": str}
NAMESPACE = {"name": str, "createdAt": Iso, "updatedAt": Iso, "ownerName": str, "description": Nullable(str),
             "isHidden": bool}
TAG = {"name": str, "description": Nullable(str)}


def call(service, method: str, url: str, status: int = 200, **kwargs):
    """``url`` exactly as marquez-web builds it (already encoded); the parsed JSON answer."""
    response = service.request(method, url, **kwargs)
    assert response.status_code == status, f"{method} {url}: {response.status_code} {response.text[:500]}"
    return response.json()


# -- the pipeline the UI looks at ------------------------------------------------------------------

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def at(minutes_ago: int) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


def facet(**fields) -> dict:
    return {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/Facet.json", **fields}


def schema(*fields: tuple[str, str, str | None]) -> dict:
    return facet(fields=[{"name": name, "type": kind, **({"description": about} if about else {})}
                          for name, kind, about in fields])


def lineage(**fields: list[tuple[str, str, str]]) -> dict:
    transformation = {"type": "DIRECT", "subtype": "IDENTITY", "description": "", "masking": False}
    return facet(fields={out: {"inputFields": [{"namespace": ns, "name": name, "field": field,
                                                 "transformations": [transformation]}
                                                for ns, name, field in inputs]}
                          for out, inputs in fields.items()})


RAW = {"namespace": S3, "name": "raw/orders.csv", "facets": {
    "schema": schema(("order_id", "string", None), ("amount", "double", None), ("customer", "string", None)),
    "dataSource": facet(name=S3, uri=S3)}}
ORDERS = {"namespace": PG, "name": "public.orders", "facets": {
    "schema": schema(("order_id", "integer", "the order"), ("amount", "numeric", "in EUR")),
    "dataSource": facet(name=PG, uri=PG),
    "columnLineage": lineage(order_id=[(S3, "raw/orders.csv", "order_id")],
                              amount=[(S3, "raw/orders.csv", "amount")]),
    "dataQualityAssertions": facet(assertions=[{"assertion": "not_null", "success": True, "column": "order_id"},
                                                {"assertion": "positive", "success": False, "column": "amount"}])}}
REVENUE = {"namespace": PG, "name": "public.daily_revenue", "facets": {
    "schema": schema(("day", "date", None), ("revenue", "numeric", None)),
    "dataSource": facet(name=PG, uri=PG),
    "columnLineage": lineage(revenue=[(PG, "public.orders", "amount")])}}
JOB_FACETS = {"sql": facet(query="INSERT INTO public.orders SELECT order_id, amount FROM raw"),
              "jobType": facet(processingType="BATCH", integration="SPARK", jobType="JOB")}
RUN_FACETS = {"processing_engine": facet(version="3.5.1", name="spark", openlineageAdapterVersion="1.23.0")}


def event(event_type: str, minutes_ago: int, run_id: str, job: str, inputs=(), outputs=(), job_facets=None,
           run_facets=None) -> dict:
    return {"eventType": event_type, "eventTime": at(minutes_ago), "producer": PRODUCER,
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": run_id, "facets": run_facets or {}},
            "job": {"namespace": ETL, "name": job, "facets": job_facets or {}},
            "inputs": list(inputs), "outputs": list(outputs)}


def load_pipeline(service) -> dict[str, str]:
    """Within the last hour: ``ingest.orders`` ran twice (raw/orders.csv to public.orders, with column
    lineage and quality assertions), ``report.daily_revenue`` failed, ``stream.clicks`` is running and
    ``cleanup`` was aborted. Returns the run ids by name."""
    runs = {name: str(uuid.uuid4()) for name in ("ingest_1", "ingest_2", "report", "clicks", "cleanup")}
    ingest = dict(inputs=[RAW], outputs=[ORDERS], job_facets=JOB_FACETS, run_facets=RUN_FACETS)
    events = [event("START", 50, runs["ingest_1"], INGEST, **ingest),
              event("COMPLETE", 48, runs["ingest_1"], INGEST, **ingest),
              event("START", 30, runs["ingest_2"], INGEST, **ingest),
              event("COMPLETE", 27, runs["ingest_2"], INGEST, **ingest),
              event("START", 20, runs["report"], REPORT, [ORDERS], [REVENUE]),
              event("FAIL", 19, runs["report"], REPORT, [ORDERS], [REVENUE]),
              event("START", 10, runs["clicks"], CLICKS),
              event("START", 8, runs["cleanup"], CLEANUP),
              event("ABORT", 7, runs["cleanup"], CLEANUP)]
    assert call(service, "POST", f"{API}/lineage", 201, json=events)["stored"] == len(events)
    return runs

def dashboard_jobs(service, state: str | None = None) -> list[dict]:
    url = f"{API}/jobs?limit=10&offset=0" + (f"&lastRunStates={state}" if state else "")
    body = call(service, "GET", url)
    check(body, {"totalCount": int, "jobs": ListOf(JOB)})
    return body["jobs"]
