"""marquez-web's read pages against the service: app start, dashboard, jobs, datasets, lineage graphs, search,
events (the requests and fields listed in :mod:`tests.service.marquez_web`)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.service.marquez_web import (
    API, BETA, CLEANUP, CLICKS, DATASET, DATASET_VERSION, EDGE, ETL, FIELD, INGEST, INPUT_FIELD, JOB, NAMESPACE,
    NOW, ORDERS, PG, REPORT, RUN, S3, TAG, call, check, dashboard_jobs, enc, event, Iso, ListOf, load_pipeline,
    Nullable,
)


@pytest.fixture
def ui(service):
    """The service after the small pipeline of :func:`~tests.service.marquez_web.load_pipeline`, and its run ids."""
    return service, load_pipeline(service)


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



def test_dashboard_job_list_is_what_job_run_item_renders(ui):
    # mirrors routes/dashboard/Dashboard.tsx, routes/dashboard/JobRunItem.tsx, store/requests/jobs.ts (getJobs)
    service, _ = ui
    jobs = dashboard_jobs(service)
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
    listed = dashboard_jobs(service, state)
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
    call(service, "POST", f"{API}/lineage", 201, json=event("START", 1, str(uuid.uuid4()), "publish", [ORDERS],
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
