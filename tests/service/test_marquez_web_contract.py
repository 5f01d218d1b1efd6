"""Marquez's own web UI (marquez-web 0.51) against the service: every request the UI makes, replayed as it
sends it (method, path encoded with ``encodeURIComponent``, query string, body), on a small pipeline.

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

import pytest

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


def _at(minutes_ago: int) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


def _facet(**fields) -> dict:
    return {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/Facet.json", **fields}


def _schema(*fields: tuple[str, str, str | None]) -> dict:
    return _facet(fields=[{"name": name, "type": kind, **({"description": about} if about else {})}
                          for name, kind, about in fields])


def _lineage(**fields: list[tuple[str, str, str]]) -> dict:
    transformation = {"type": "DIRECT", "subtype": "IDENTITY", "description": "", "masking": False}
    return _facet(fields={out: {"inputFields": [{"namespace": ns, "name": name, "field": field,
                                                 "transformations": [transformation]}
                                                for ns, name, field in inputs]}
                          for out, inputs in fields.items()})


RAW = {"namespace": S3, "name": "raw/orders.csv", "facets": {
    "schema": _schema(("order_id", "string", None), ("amount", "double", None), ("customer", "string", None)),
    "dataSource": _facet(name=S3, uri=S3)}}
ORDERS = {"namespace": PG, "name": "public.orders", "facets": {
    "schema": _schema(("order_id", "integer", "the order"), ("amount", "numeric", "in EUR")),
    "dataSource": _facet(name=PG, uri=PG),
    "columnLineage": _lineage(order_id=[(S3, "raw/orders.csv", "order_id")],
                              amount=[(S3, "raw/orders.csv", "amount")]),
    "dataQualityAssertions": _facet(assertions=[{"assertion": "not_null", "success": True, "column": "order_id"},
                                                {"assertion": "positive", "success": False, "column": "amount"}])}}
REVENUE = {"namespace": PG, "name": "public.daily_revenue", "facets": {
    "schema": _schema(("day", "date", None), ("revenue", "numeric", None)),
    "dataSource": _facet(name=PG, uri=PG),
    "columnLineage": _lineage(revenue=[(PG, "public.orders", "amount")])}}
JOB_FACETS = {"sql": _facet(query="INSERT INTO public.orders SELECT order_id, amount FROM raw"),
              "jobType": _facet(processingType="BATCH", integration="SPARK", jobType="JOB")}
RUN_FACETS = {"processing_engine": _facet(version="3.5.1", name="spark", openlineageAdapterVersion="1.23.0")}


def _event(event_type: str, minutes_ago: int, run_id: str, job: str, inputs=(), outputs=(), job_facets=None,
           run_facets=None) -> dict:
    return {"eventType": event_type, "eventTime": _at(minutes_ago), "producer": PRODUCER,
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": run_id, "facets": run_facets or {}},
            "job": {"namespace": ETL, "name": job, "facets": job_facets or {}},
            "inputs": list(inputs), "outputs": list(outputs)}


@pytest.fixture
def ui(service):
    """Within the last hour: ``ingest.orders`` ran twice (raw/orders.csv to public.orders, with column
    lineage and quality assertions), ``report.daily_revenue`` failed, ``stream.clicks`` is running and
    ``cleanup`` was aborted. Returns the service and the run ids by name."""
    runs = {name: str(uuid.uuid4()) for name in ("ingest_1", "ingest_2", "report", "clicks", "cleanup")}
    ingest = dict(inputs=[RAW], outputs=[ORDERS], job_facets=JOB_FACETS, run_facets=RUN_FACETS)
    events = [_event("START", 50, runs["ingest_1"], INGEST, **ingest),
              _event("COMPLETE", 48, runs["ingest_1"], INGEST, **ingest),
              _event("START", 30, runs["ingest_2"], INGEST, **ingest),
              _event("COMPLETE", 27, runs["ingest_2"], INGEST, **ingest),
              _event("START", 20, runs["report"], REPORT, [ORDERS], [REVENUE]),
              _event("FAIL", 19, runs["report"], REPORT, [ORDERS], [REVENUE]),
              _event("START", 10, runs["clicks"], CLICKS),
              _event("START", 8, runs["cleanup"], CLEANUP),
              _event("ABORT", 7, runs["cleanup"], CLEANUP)]
    assert call(service, "POST", f"{API}/lineage", 201, json=events)["stored"] == len(events)
    return service, runs


# -- app start and dashboard -----------------------------------------------------------------------

def test_app_start_lists_namespaces_and_tags(ui):
    # mirrors store/requests/namespaces.ts, store/requests/tags.ts, components/namespace-select/NamespaceSelect.tsx
    service, _ = ui
    body = call(service, "GET", f"{API}/namespaces")
    check(body, {"namespaces": ListOf(NAMESPACE)})
    assert {n["name"] for n in body["namespaces"]} == {ETL, S3, PG}
    check(call(service, "GET", f"{API}/tags"), {"tags": ListOf(TAG)})


@pytest.mark.parametrize("period, zone", [("day", "Europe/Berlin"), ("week", "America/New_York"), ("week", None)])
def test_dashboard_metrics_count_the_pipeline(ui, period, zone):
    # mirrors routes/dashboard/Dashboard.tsx, routes/dashboard/StackedLineageEvents.tsx,
    # routes/dashboard/MiniGraphContainer.tsx, store/requests/lineageMetrics.ts, store/requests/intervalMetrics.ts
    service, _ = ui
    query = f"period={period.upper()}" + (f"&timezone={zone}" if zone else "")  # older builds send no timezone
    events = call(service, "GET", f"{API}/stats/lineage-events?{query}")
    check(events, ListOf({"startInterval": Iso, "endInterval": Iso, "fail": int, "start": int, "complete": int,
                          "abort": int}))
    assert len(events) == (24 if period == "day" else 7)
    totals = {key: sum(bucket[key] for bucket in events) for key in ("start", "complete", "fail", "abort")}
    assert totals == {"start": 5, "complete": 2, "fail": 1, "abort": 1}
    for asset, count in (("jobs", 4), ("datasets", 3), ("sources", 2)):
        metrics = call(service, "GET", f"{API}/stats/{asset}?{query}")
        check(metrics, ListOf({"startInterval": Iso, "endInterval": Iso, "count": int}))
        assert metrics[-1]["count"] == count, asset


def _dashboard_jobs(service, state: str | None = None) -> list[dict]:
    url = f"{API}/jobs?limit=10&offset=0" + (f"&lastRunStates={state}" if state else "")
    body = call(service, "GET", url)
    check(body, {"totalCount": int, "jobs": ListOf(JOB)})
    return body["jobs"]


def test_dashboard_job_list_is_what_job_run_item_renders(ui):
    # mirrors routes/dashboard/Dashboard.tsx, routes/dashboard/JobRunItem.tsx, store/requests/jobs.ts (getJobs)
    service, _ = ui
    jobs = _dashboard_jobs(service)
    assert [job["name"] for job in jobs] == [CLEANUP, CLICKS, REPORT, INGEST]  # newest-updated first
    for job in jobs:
        # JobRunItem reads latestRun.state without a guard and reduces latestRuns without a seed
        assert job["latestRun"] is not None and job["latestRuns"], job["name"]
        assert job["latestRuns"][0]["id"] == job["latestRun"]["id"]
    ingest = jobs[-1]
    assert [run["state"] for run in ingest["latestRuns"]] == ["COMPLETED", "COMPLETED"]
    assert all(run["durationMs"] > 0 for run in ingest["latestRuns"])
    assert {(d["namespace"], d["name"]) for d in ingest["inputs"]} == {(S3, "raw/orders.csv")}


@pytest.mark.parametrize("state, jobs", [("RUNNING", [CLICKS]), ("COMPLETED", [INGEST]), ("FAILED", [REPORT]),
                                         ("ABORTED", [CLEANUP])])
def test_dashboard_state_filter_keeps_the_jobs_whose_latest_run_is_in_it(ui, state, jobs):
    # mirrors routes/dashboard/Dashboard.tsx (the run state buttons), store/requests/jobs.ts (lastRunStates)
    service, _ = ui
    listed = _dashboard_jobs(service, state)
    assert [job["name"] for job in listed] == jobs
    assert all(job["latestRun"]["state"] == state for job in listed)


# -- jobs page and job drawer ----------------------------------------------------------------------

def test_jobs_page_pages_through_a_namespace(ui):
    # mirrors routes/jobs/Jobs.tsx, store/requests/jobs.ts (getJobs with a namespace)
    service, _ = ui
    first = call(service, "GET", f"{API}/namespaces/{enc(ETL)}/jobs?limit=2&offset=0")
    second = call(service, "GET", f"{API}/namespaces/{enc(ETL)}/jobs?limit=2&offset=2")
    for page in (first, second):
        check(page, {"totalCount": int, "jobs": ListOf(JOB)})
        assert page["totalCount"] == 4
    assert [j["name"] for j in first["jobs"] + second["jobs"]] == [CLEANUP, CLICKS, REPORT, INGEST]


def test_job_drawer_reads_the_job_its_runs_and_their_facets(ui):
    # mirrors components/jobs/JobDetailPage.tsx, components/jobs/Runs.tsx, components/jobs/RunInfo.tsx,
    # store/requests/jobs.ts (getJob, getRuns), store/requests/facets.ts, store/sagas/index.ts (fetchLatestRunsSaga)
    service, runs = ui
    job = call(service, "GET", f"{API}/namespaces/{enc(ETL)}/jobs/{enc(INGEST)}")
    check(job, JOB)
    assert job["latestRun"]["id"] == runs["ingest_2"]
    for limit in (14, 100):
        listed = call(service, "GET", f"{API}/namespaces/{enc(ETL)}/jobs/{enc(INGEST)}/runs?limit={limit}&offset=0")
        check(listed, {"totalCount": int, "runs": ListOf(RUN)})
        assert [run["id"] for run in listed["runs"]] == [runs["ingest_2"], runs["ingest_1"]]
        assert listed["totalCount"] == 2
    run_facets = call(service, "GET", f"{API}/jobs/runs/{runs['ingest_2']}/facets?type=run")
    check(run_facets, {"runId": str, "facets": dict})
    assert run_facets["facets"]["processing_engine"]["name"] == "spark"
    job_facets = call(service, "GET", f"{API}/jobs/runs/{runs['ingest_2']}/facets?type=job")
    assert job_facets["facets"]["sql"]["query"].startswith("INSERT INTO public.orders")
    running = call(service, "GET", f"{API}/namespaces/{enc(ETL)}/jobs/{enc(CLICKS)}/runs?limit=14&offset=0")
    [run] = running["runs"]
    assert run["state"] == "RUNNING" and run["endedAt"] is None and run["durationMs"] is None


# -- datasets page and dataset drawer --------------------------------------------------------------

def test_datasets_page_lists_a_namespace_with_quality_and_column_lineage(ui):
    # mirrors routes/datasets/Datasets.tsx, store/requests/datasets.ts (getDatasets), helpers/nodes.ts
    # (datasetFacetsStatus reads facets.dataQualityAssertions.assertions)
    service, _ = ui
    body = call(service, "GET", f"{API}/namespaces/{enc(PG)}/datasets?limit=20&offset=0")
    check(body, {"totalCount": int, "datasets": ListOf(DATASET)})
    assert body["totalCount"] == 2
    by_name = {d["name"]: d for d in body["datasets"]}
    orders = by_name["public.orders"]
    assert orders["id"] == {"namespace": PG, "name": "public.orders"} and orders["deleted"] is False
    assert [a["success"] for a in orders["facets"]["dataQualityAssertions"]["assertions"]] == [True, False]
    assert {entry["name"] for entry in orders["columnLineage"]} == {"order_id", "amount"}
    raw = call(service, "GET", f"{API}/namespaces/{enc(S3)}/datasets?limit=20&offset=0")["datasets"]
    assert [d["columnLineage"] for d in raw] == [None]  # the page shows N/A instead of a link


def test_dataset_drawer_reads_the_newest_version_and_its_run(ui):
    # mirrors components/datasets/DatasetDetailPage.tsx, components/datasets/DatasetInfo.tsx,
    # components/datasets/DatasetVersions.tsx, store/requests/datasets.ts (getDataset, getDatasetVersions),
    # store/sagas/index.ts (fetchInitialDatasetVersionsSaga asks for limit=1)
    service, runs = ui
    dataset = call(service, "GET", f"{API}/namespaces/{enc(PG)}/datasets/{enc('public.orders')}")
    check(dataset, DATASET)
    for limit in (1, 10):
        versions = call(service, "GET",
                        f"{API}/namespaces/{enc(PG)}/datasets/{enc('public.orders')}/versions?limit={limit}&offset=0")
        check(versions, {"totalCount": int, "versions": ListOf(DATASET_VERSION)})
        assert versions["totalCount"] == 2 and len(versions["versions"]) == min(limit, 2)
    newest = versions["versions"][0]
    assert newest["createdByRun"]["id"] == runs["ingest_2"]
    assert newest["createdByRun"]["jobVersion"]["name"] == INGEST
    assert [f["name"] for f in newest["fields"]] == ["order_id", "amount"]
    assert newest["fields"][1]["description"] == "in EUR"
    assert "dataQualityAssertions" in newest["facets"]
    # DatasetInfo then asks for the job facets of the run that wrote the version, to show its SQL
    facets = call(service, "GET", f"{API}/jobs/runs/{newest['createdByRun']['id']}/facets?type=job")
    assert facets["facets"]["sql"]["query"].startswith("INSERT")
    raw = call(service, "GET", f"{API}/namespaces/{enc(S3)}/datasets/{enc('raw/orders.csv')}/versions"
                               f"?limit=10&offset=0")
    check(raw, {"totalCount": int, "versions": ListOf(DATASET_VERSION)})
    assert raw["versions"], "a dataset only read still has a version to show"


# -- tags --------------------------------------------------------------------------------------------

def test_a_new_tag_is_created_with_its_description(ui):
    # mirrors components/jobs/JobTags.tsx (addTag), store/requests/tags.ts (addTags)
    service, _ = ui
    call(service, "PUT", f"{API}/tags/{enc('Sensitive data')}", json={"description": "Handle with care"},
         headers={"Content-Type": "application/json"})
    tags = call(service, "GET", f"{API}/tags")["tags"]
    assert {"name": "Sensitive data", "description": "Handle with care"} in [
        {k: t[k] for k in ("name", "description")} for t in tags]


def test_job_tags_are_added_and_removed(ui):
    # mirrors components/jobs/JobTags.tsx, store/requests/jobs.ts (addJobTag, deleteJobTag)
    service, _ = ui
    url = f"{API}/namespaces/{enc(ETL)}/jobs/{enc(INGEST)}/tags/{enc('tier 1')}"
    call(service, "POST", url)
    job = call(service, "GET", f"{API}/namespaces/{enc(ETL)}/jobs/{enc(INGEST)}")
    assert job["tags"] == ["tier 1"]
    assert "tier 1" in [t["name"] for t in call(service, "GET", f"{API}/tags")["tags"]]
    assert _dashboard_jobs(service, "COMPLETED")[0]["tags"] == ["tier 1"]
    call(service, "DELETE", url)
    assert call(service, "GET", f"{API}/namespaces/{enc(ETL)}/jobs/{enc(INGEST)}")["tags"] == []


def test_dataset_and_field_tags_are_added_and_removed(ui):
    # mirrors components/datasets/DatasetTags.tsx, store/requests/datasets.ts (addDatasetTag, deleteDatasetTag,
    # addDatasetFieldTag, deleteDatasetFieldTag); a name with '/' travels as %2F
    service, _ = ui
    base = f"{API}/namespaces/{enc(S3)}/datasets/{enc('raw/orders.csv')}"
    call(service, "PUT", f"{API}/tags/PII", json={"description": "personal data"})
    check(call(service, "POST", f"{base}/tags/PII"), DATASET)
    check(call(service, "POST", f"{base}/fields/{enc('customer')}/tags/PII"), DATASET)
    dataset = call(service, "GET", base)
    assert dataset["tags"] == ["PII"]
    assert {f["name"]: f["tags"] for f in dataset["fields"]}["customer"] == ["PII"]
    # the drawer's chips are the newest version's tags: the dataset's tags now, as in Marquez (a version's
    # fields keep the tags they were written with; the field drawer reads the dataset's fields)
    assert call(service, "GET", f"{base}/versions?limit=1&offset=0")["versions"][0]["tags"] == ["PII"]
    call(service, "DELETE", f"{base}/fields/{enc('customer')}/tags/PII")
    call(service, "DELETE", f"{base}/tags/PII")
    dataset = call(service, "GET", base)
    assert dataset["tags"] == [] and all(f["tags"] == [] for f in dataset["fields"])
    assert call(service, "GET", f"{base}/versions?limit=1&offset=0")["versions"][0]["tags"] == []


# -- deletes -----------------------------------------------------------------------------------------

def test_deleting_a_dataset_answers_it_and_drops_it_from_the_page(ui):
    # mirrors components/datasets/DatasetDetailPage.tsx (delete button), store/requests/datasets.ts
    # (deleteDataset), store/sagas/index.ts (deleteDatasetSaga reads the answer's name)
    service, _ = ui
    deleted = call(service, "DELETE", f"{API}/namespaces/{enc(PG)}/datasets/{enc('public.daily_revenue')}")
    check(deleted, DATASET)
    assert deleted["name"] == "public.daily_revenue"
    listed = call(service, "GET", f"{API}/namespaces/{enc(PG)}/datasets?limit=20&offset=0")
    assert [d["name"] for d in listed["datasets"]] == ["public.orders"] and listed["totalCount"] == 1
    call(service, "GET", f"{API}/namespaces/{enc(PG)}/datasets/{enc('public.daily_revenue')}", 404)


def test_deleting_a_job_answers_it_and_drops_it_from_the_dashboard(ui):
    # mirrors components/jobs/JobDetailPage.tsx (delete button), store/requests/jobs.ts (deleteJob),
    # store/sagas/index.ts (deleteJobSaga reads the answer's name)
    service, _ = ui
    deleted = call(service, "DELETE", f"{API}/namespaces/{enc(ETL)}/jobs/{enc(REPORT)}")
    check(deleted, JOB)
    assert deleted["name"] == REPORT
    assert REPORT not in [job["name"] for job in _dashboard_jobs(service)]
    assert _dashboard_jobs(service, "FAILED") == []
    call(service, "GET", f"{API}/namespaces/{enc(ETL)}/jobs/{enc(REPORT)}", 404)


def test_deleting_a_namespace_hides_its_jobs_and_datasets(ui):
    # marquez-web sends no namespace delete; components/namespace-select/NamespaceSelect.tsx and
    # routes/dashboard/Dashboard.tsx must still render after one made through the API
    service, _ = ui
    check(call(service, "DELETE", f"{API}/namespaces/{enc(S3)}"), NAMESPACE)
    namespaces = call(service, "GET", f"{API}/namespaces")["namespaces"]
    check(namespaces, ListOf(NAMESPACE))
    assert {n["name"]: n["isHidden"] for n in namespaces}[S3] is True
    assert call(service, "GET", f"{API}/namespaces/{enc(S3)}/datasets?limit=20&offset=0")["datasets"] == []
    assert [job["name"] for job in _dashboard_jobs(service)] == [CLEANUP, CLICKS, REPORT, INGEST]
    assert {r["namespace"] for r in call(service, "GET", f"{API}/search?q=orders&sort=NAME&limit=100")["results"]
            } == {ETL, PG}
    graph = call(service, "GET", f"{API}/lineage?nodeId=job:{enc(ETL)}:{enc(INGEST)}&depth=2")["graph"]
    assert not [node["id"] for node in graph if S3 in node["id"]]


# -- lineage graphs ------------------------------------------------------------------------------------

LINEAGE_NODE = {"id": str, "type": str, "data": dict, "inEdges": ListOf(EDGE), "outEdges": ListOf(EDGE)}
GRAPH_DATASET = {"name": str, "namespace": str, "fields": ListOf(FIELD), "description": Nullable(str)}
GRAPH_JOB = {"name": str, "namespace": str, "description": Nullable(str), "location": Nullable(str),
             "latestRun": Nullable(RUN), "createdAt": Iso, "updatedAt": Iso}


@pytest.mark.parametrize("encoded", [True, False], ids=["nodeId encoded", "nodeId raw"])
def test_table_level_graph_has_the_nodes_the_layout_reads(ui, encoded):
    # mirrors routes/table-level/TableLevel.tsx, routes/table-level/layout.ts,
    # routes/table-level/TableLineageDatasetNode.tsx, routes/table-level/TableLineageJobNode.tsx,
    # routes/table-level/TableLevelDrawer.tsx, store/requests/lineage.ts (older versions send the nodeId raw)
    service, _ = ui
    namespace, name = (enc(PG), enc("public.orders")) if encoded else (PG, "public.orders")
    body = call(service, "GET", f"{API}/lineage?nodeId=dataset:{namespace}:{name}&depth=2&aggregateByParent=false")
    check(body, {"graph": ListOf(LINEAGE_NODE)})
    nodes = {node["id"]: node for node in body["graph"]}
    assert set(nodes) == {f"dataset:{S3}:raw/orders.csv", f"job:{ETL}:{INGEST}", f"dataset:{PG}:public.orders",
                          f"job:{ETL}:{REPORT}", f"dataset:{PG}:public.daily_revenue"}
    for node_id, node in nodes.items():
        check(node["data"], GRAPH_DATASET if node["type"] == "DATASET" else GRAPH_JOB, node_id)
        assert node["type"] in ("DATASET", "JOB")
    assert nodes[f"dataset:{PG}:public.orders"]["inEdges"] == [
        {"origin": f"job:{ETL}:{INGEST}", "destination": f"dataset:{PG}:public.orders"}]
    assert nodes[f"job:{ETL}:{REPORT}"]["data"]["latestRun"]["state"] == "FAILED"
    job_graph = call(service, "GET", f"{API}/lineage?nodeId=job:{enc(ETL)}:{enc(CLICKS)}&depth=2")
    assert [node["id"] for node in job_graph["graph"]] == [f"job:{ETL}:{CLICKS}"]


def test_column_level_graph_has_the_fields_the_layout_reads(ui):
    # mirrors routes/column-level/ColumnLevel.tsx, routes/column-level/layout.ts,
    # routes/column-level/ColumnLevelDrawer.tsx, store/requests/columnlineage.ts
    service, _ = ui
    url = f"{API}/column-lineage?nodeId=dataset:{enc(PG)}:{enc('public.daily_revenue')}&depth=2&withDownstream=true"
    body = call(service, "GET", url)
    check(body, {"graph": ListOf({**LINEAGE_NODE, "data": {
        "namespace": str, "dataset": str, "datasetVersion": Nullable(str), "field": str, "fieldType": Nullable(str),
        "transformationDescription": Nullable(str), "transformationType": Nullable(str),
        "inputFields": ListOf(INPUT_FIELD)}})})
    nodes = {node["id"]: node for node in body["graph"]}
    revenue, amount = f"datasetField:{PG}:public.daily_revenue:revenue", f"datasetField:{PG}:public.orders:amount"
    raw_amount = f"datasetField:{S3}:raw/orders.csv:amount"
    assert {revenue, amount, raw_amount} <= set(nodes)
    assert {"origin": revenue, "destination": amount} in nodes[revenue]["inEdges"]
    assert {"origin": amount, "destination": raw_amount} in nodes[amount]["inEdges"]
    # the drawer of a column node fetches the dataset and shows its columnLineage
    drawer = call(service, "GET", f"{API}/namespaces/{enc(PG)}/datasets/{enc('public.daily_revenue')}")
    assert [entry["name"] for entry in drawer["columnLineage"]] == ["revenue"]


# -- search -------------------------------------------------------------------------------------------

SEARCH_RESULT = {"name": str, "namespace": str, "nodeId": str, "type": str, "updatedAt": Iso}


@pytest.mark.parametrize("sort", ["UPDATE_AT", "NAME"])
def test_classic_search_with_the_ui_filters_and_sorts(ui, sort):
    # mirrors components/search/base-search/BaseSearch.tsx, components/search/SearchListItem.tsx,
    # store/requests/search.ts (getSearch: filter only sent for JOB or DATASET)
    service, _ = ui
    everything = call(service, "GET", f"{API}/search?q=orders&sort={sort}&limit=100")
    check(everything, {"totalCount": int, "results": ListOf(SEARCH_RESULT)})
    assert {(r["type"], r["name"]) for r in everything["results"]} == {
        ("DATASET", "public.orders"), ("DATASET", "raw/orders.csv"), ("JOB", INGEST)}
    assert everything["totalCount"] == 3
    assert {r["nodeId"] for r in everything["results"]} == {
        f"dataset:{PG}:public.orders", f"dataset:{S3}:raw/orders.csv", f"job:{ETL}:{INGEST}"}
    for kind in ("JOB", "DATASET"):
        only = call(service, "GET", f"{API}/search?q=orders&sort={sort}&limit=100&filter={kind}")
        assert only["results"] and {r["type"] for r in only["results"]} == {kind}


def test_advanced_search_hits_have_highlights_and_the_fields_es_search_reads(ui):
    # mirrors components/search/es-search/EsSearch.tsx, store/requests/search.ts (getOpenSearchJobs,
    # getOpenSearchDatasets), types/api.ts (OpenSearchResultJobs, OpenSearchResultDatasets)
    service, runs = ui
    jobs = call(service, "GET", f"{BETA}/search/jobs?q=orders")
    check(jobs, {"hits": ListOf({"run_id": str, "name": str, "namespace": str, "eventType": Nullable(str),
                                 "type": str, "facets": dict, "runFacets": dict}),
                 "highlights": ListOf(dict)})
    assert len(jobs["highlights"]) == len(jobs["hits"]) == 1  # EsSearch reads highlights[index] of each hit
    [hit] = jobs["hits"]
    assert hit["run_id"] == runs["ingest_2"] and hit["runFacets"]["processing_engine"]["name"] == "spark"
    for highlight in jobs["highlights"]:
        check(highlight, {key: ListOf(str) for key in highlight})
    datasets = call(service, "GET", f"{BETA}/search/datasets?q=orders")
    check(datasets, {"hits": ListOf({"run_id": str, "name": str, "namespace": str, "eventType": Nullable(str),
                                     "facets": {"schema": {"fields": ListOf({"name": str})}}}),
                     "highlights": ListOf(dict)})
    assert len(datasets["highlights"]) == len(datasets["hits"]) == 2
    hits = {hit["name"]: hit for hit in datasets["hits"]}
    assert set(hits) == {"public.orders", "raw/orders.csv"}
    # as in Marquez's index, a dataset's hit carries the last run that read or wrote it
    assert (hits["public.orders"]["run_id"], hits["public.orders"]["eventType"]) == (runs["report"], "FAIL")
    assert (hits["raw/orders.csv"]["run_id"], hits["raw/orders.csv"]["eventType"]) == (runs["ingest_2"], "COMPLETE")
    # a dataset without a schema facet still has the fields EsSearch lists
    topic = {"namespace": "kafka://broker:9092", "name": "orders-topic", "facets": {}}
    call(service, "POST", f"{API}/lineage", 201, json=_event("START", 1, str(uuid.uuid4()), "publish", [ORDERS],
                                                             [topic]))
    [hit] = [h for h in call(service, "GET", f"{BETA}/search/datasets?q=topic")["hits"]]
    assert hit["name"] == "orders-topic" and hit["facets"]["schema"]["fields"] == [] and hit["eventType"] == "START"
    assert call(service, "GET", f"{BETA}/search/jobs?q=nothing-like-it") == {"hits": [], "highlights": []}


# -- events page ----------------------------------------------------------------------------------------

def test_events_page_pages_through_a_day_of_events(ui):
    # mirrors routes/events/Events.tsx, store/requests/events.ts, helpers/time.ts (formatDateAPIQuery
    # sends local midnight with a literal ".000Z")
    service, runs = ui
    after = (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    before = (NOW + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    event = {"eventType": str, "eventTime": Iso, "producer": str, "schemaURL": str,
             "run": {"runId": str, "facets": dict}, "job": {"name": str, "namespace": str, "facets": dict},
             "inputs": ListOf({"name": str, "namespace": str, "facets": dict}),
             "outputs": ListOf({"name": str, "namespace": str, "facets": dict})}
    pages = [call(service, "GET", f"{API}/events/lineage?limit=5&before={before}&after={after}"
                                  f"&offset={offset}&sortDirection=desc") for offset in (0, 5)]
    for page in pages:
        check(page, {"events": ListOf(event), "totalCount": int})
        assert page["totalCount"] == 9
    listed = pages[0]["events"] + pages[1]["events"]
    assert len(listed) == 9 and listed[0]["run"]["runId"] == runs["cleanup"]
    assert [e["eventTime"] for e in listed] == sorted((e["eventTime"] for e in listed), reverse=True)
    # before the date pickers are touched the UI may send them empty
    empty = call(service, "GET", f"{API}/events/lineage?limit=100&before=&after=&offset=0&sortDirection=desc")
    assert empty["totalCount"] == 9
