"""Marquez's read API (and its small writes) on the events of a whole pipeline run, on SQLite and PostgreSQL.

Expectations are read from the events themselves, so they hold for any run of the pipeline; a
few outputs are also checked field by field. Every body is validated against Marquez's OpenAPI
file when it is present (see ``tests/service/openapi.py``), and against the service's own OpenAPI
document.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator

from lineage_audit.service.events import parse_time
from tests.service.conftest import make_client, post_batches
from tests.service.openapi import FORMATS, assert_matches, errors, requires_spec, spec_available

API = "/api/v1"
JOB_NAMESPACE = "data-lineage-audit"


def enc(name: str) -> str:
    """A name as Marquez's clients put it in a path: every reserved character encoded, '/' included."""
    return quote(name, safe="")


def conforms(body, schema: str, service=None, marquez: bool = True):
    """Check a body against Marquez's schema ``schema`` and, given ``service``, against the model of the
    same name in the service's own OpenAPI document (which must describe what it answers)."""
    if marquez and spec_available():
        assert_matches(body, schema)
    if service is not None:
        document = service.app.openapi()
        [name] = [n for n in document["components"]["schemas"] if n == schema or n.endswith("__" + schema)]
        found = list(Draft202012Validator({**document, "$ref": f"#/components/schemas/{name}"},
                                          format_checker=FORMATS).iter_errors(body))
        assert not found, f"not a {schema} of the service's own OpenAPI document: {found[0].message[:300]}"
    return body


def get(service, path: str, schema: str | None, status: int = 200, **params):
    response = service.get(API + path, params=params)
    assert response.status_code == status, f"GET {path}: {response.status_code} {response.text[:500]}"
    body = response.json()
    if status != 200:
        assert body["code"] == status and isinstance(body["message"], str) and body["message"], body
        return body
    return conforms(body, schema, service) if schema else body


@dataclass
class Expected:
    """What the pipeline's events say: jobs, their runs, and the newest state of every dataset."""

    events: list[dict]
    job_events: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    # (namespace, name) -> the output of the newest event writing it, and that event
    outputs: dict[tuple[str, str], tuple[dict, dict]] = field(default_factory=dict)
    schemas: dict[tuple[str, str], list[dict]] = field(default_factory=dict)

    def __post_init__(self):
        for event in sorted(self.events, key=lambda e: parse_time(e["eventTime"])):
            self.job_events[event["job"]["name"]].append(event)
            for dataset in (event.get("inputs") or []) + (event.get("outputs") or []):
                schema = (dataset.get("facets") or {}).get("schema")
                if schema is not None:
                    self.schemas[(dataset["namespace"], dataset["name"])] = schema["fields"]
            for dataset in event.get("outputs") or []:
                self.outputs[(dataset["namespace"], dataset["name"])] = (dataset, event)

    def output(self, suffix: str) -> tuple[dict, dict]:
        [found] = [value for (_, name), value in self.outputs.items() if name.endswith(suffix)]
        return found

    def writer(self, suffix: str) -> str:
        """The name of the job whose run writes the output ending with ``suffix``."""
        return self.output(suffix)[1]["job"]["name"]


def lineage_of(column_lineage: list[dict]) -> set[tuple]:
    """Marquez's columnLineage as (field, input namespace, input dataset, input field, type, subtype)."""
    return {(entry["name"], source["namespace"], source["dataset"], source["field"], t["type"], t["subtype"])
            for entry in column_lineage for source in entry["inputFields"] for t in source["transformations"]}


def lineage_facet(facet: dict) -> set[tuple]:
    return {(name, source["namespace"], source["name"], source["field"], t.get("type"), t.get("subtype"))
            for name, body in facet.get("fields", {}).items() for source in body.get("inputFields", [])
            for t in source.get("transformations") or [{}]}


@pytest.fixture
def loaded(service, pipeline_events) -> Expected:
    totals = post_batches(lambda body: service.post(f"{API}/lineage", json=body), pipeline_events)
    assert totals == {"stored": len(pipeline_events), "duplicates": 0}
    return Expected(pipeline_events)


def test_every_output_is_listed_with_its_fields_and_column_lineage(service, loaded):
    listing = get(service, "/namespaces/file/datasets", "DatasetList", limit=1000)
    by_name = {d["name"]: d for d in listing["datasets"]}
    assert listing["totalCount"] == len(listing["datasets"])
    assert len(loaded.outputs) >= 35  # 25 outputs and 10 quarantine tables
    for (namespace, name), (output, event) in loaded.outputs.items():
        assert namespace == "file"
        dataset = by_name.get(name)
        assert dataset is not None, f"{name} is not listed"
        assert dataset["id"] == {"namespace": "file", "name": name}
        assert [(f["name"], f["type"]) for f in dataset["fields"]] == [
            (f["name"], f.get("type")) for f in loaded.schemas[(namespace, name)]], name
        expected = lineage_facet(output["facets"]["columnLineage"])
        assert lineage_of(dataset["columnLineage"] or []) == expected, name
        assert (dataset["columnLineage"] is None) == (not expected), name  # null without any, as in Marquez
        assert dataset["facets"]["schema"]["fields"] == output["facets"]["schema"]["fields"]
        assert dataset["currentVersion"] and dataset["lastModifiedAt"] == _z(event["eventTime"])
    # every input is listed too, with its schema
    inputs = {(d["namespace"], d["name"]) for e in loaded.events for d in e.get("inputs") or []}
    assert inputs and all(name in by_name for _, name in inputs)


def test_outputs_checked_field_by_field(service, loaded):
    summary = get(service, f"/namespaces/file/datasets/{enc(loaded.output('/outputs/order_summary')[0]['name'])}",
                  "Dataset")
    assert [f["name"] for f in summary["fields"]][:4] == ["customer_id", "order_date", "order_count",
                                                          "total_net_amount"]
    assert {f["name"]: f["type"] for f in summary["fields"]}["order_count"] == "long"
    lineage = {entry["name"]: entry["inputFields"] for entry in summary["columnLineage"]}
    [order_count] = lineage["order_count"]
    assert order_count["dataset"].endswith("/inputs/raw_orders.jsonl") and order_count["field"] == "order_id"
    assert order_count["transformationType"] == "DIRECT"
    assert order_count["transformations"][0]["subtype"] == "AGGREGATION"
    net = {(source["dataset"].rsplit("/", 1)[-1], source["field"]) for source in lineage["total_net_amount"]}
    assert net == {("customer_master", "segment"), ("raw_orders.jsonl", "quantity"),
                   ("raw_orders.jsonl", "unit_price")}

    customers = get(service, f"/namespaces/file/datasets/{enc(loaded.output('/outputs/processed_customers')[0]['name'])}",
                    "Dataset")
    lineage = {entry["name"]: {(s["dataset"].rsplit("/", 1)[-1], s["field"]) for s in entry["inputFields"]}
               for entry in customers["columnLineage"]}
    assert lineage["full_name"] == {("raw_customers.csv", "first_name"), ("raw_customers.csv", "last_name")}
    assert lineage["country_code"] == {("raw_customers.csv", "country")}
    assert {f["name"]: f["type"] for f in customers["fields"]}["age"] == "integer"


def test_a_dataset_by_encoded_and_by_raw_name(service, loaded):
    name = loaded.output("/outputs/enriched_orders")[0]["name"]
    assert name.startswith("/")
    encoded = get(service, f"/namespaces/file/datasets/{enc(name)}", "Dataset")
    raw = get(service, f"/namespaces/file/datasets/{name}", "Dataset")  # .../datasets//tmp/...
    merged = get(service, f"/namespaces/file/datasets{name}", "Dataset")  # a proxy merged the '//'
    assert encoded == raw == merged
    assert encoded["name"] == encoded["physicalName"] == name and encoded["sourceName"] == "file"
    for path in (f"/namespaces/file/datasets/{enc(name)}/versions", f"/namespaces/file/datasets/{name}/versions"):
        assert get(service, path, "DatasetVersionList")["versions"][0]["name"] == name
    get(service, f"/namespaces/file/datasets/{enc(name + '-missing')}", None, status=404)

    # encoded, a name that looks like a route's tail is still one name
    tricky = "/data/versions"
    event = {"eventTime": "2024-05-01T00:00:00Z", "producer": "https://example.com/test",
             "dataset": {"namespace": "file", "name": tricky}}
    assert service.post(f"{API}/lineage", json=event).status_code == 201
    assert get(service, f"/namespaces/file/datasets/{enc(tricky)}", "Dataset")["name"] == tricky
    listing = get(service, f"/namespaces/file/datasets/{enc(tricky)}/versions", "DatasetVersionList")
    assert ([v["name"] for v in listing["versions"]], listing["totalCount"]) == ([tricky], 1)  # the DatasetEvent's
    get(service, "/namespaces/file/datasets/%2Fdata/versions", None, status=404)  # the versions of /data
    missing = get(service, f"/namespaces/nowhere/datasets/{enc(name)}", None, status=404)
    assert "nowhere" in missing["message"]


def test_dataset_versions_are_one_per_producing_run(service, loaded):
    output, event = loaded.output("/outputs/fraud_indicators")
    path = f"/namespaces/file/datasets/{enc(output['name'])}"
    dataset = get(service, path, "Dataset")
    listing = get(service, f"{path}/versions", "DatasetVersionList")
    assert listing["totalCount"] == 1
    [version] = listing["versions"]
    assert version["version"] == version["id"]["version"] == dataset["currentVersion"]
    assert version["createdByRun"]["id"] == event["run"]["runId"]
    assert version["createdByRun"]["state"] == "COMPLETED"
    assert [f["name"] for f in version["fields"]] == [f["name"] for f in output["facets"]["schema"]["fields"]]
    assert version["facets"]["columnLineage"] == output["facets"]["columnLineage"]
    assert get(service, f"{path}/versions/{version['version']}", "DatasetVersion") == version
    get(service, f"{path}/versions/{uuid.uuid4()}", None, status=404)

    # a second run writing it adds a version, which becomes current
    rerun = {**event, "run": {**event["run"], "runId": str(uuid.uuid4())},
             "eventTime": (parse_time(event["eventTime"]) + timedelta(minutes=5)).isoformat()}
    assert service.post(f"{API}/lineage", json=rerun).status_code == 201
    listing = get(service, f"{path}/versions", "DatasetVersionList")
    assert listing["totalCount"] == 2
    assert [v["createdByRun"]["id"] for v in listing["versions"]] == [rerun["run"]["runId"], event["run"]["runId"]]
    assert get(service, path, "Dataset")["currentVersion"] == listing["versions"][0]["version"]
    page = get(service, f"{path}/versions", "DatasetVersionList", limit=1, offset=1)
    assert page["versions"] == listing["versions"][1:] and page["totalCount"] == 2


def newest_updated_first(events: list[dict]) -> list[str]:
    """Job names as Marquez lists them: by last update (the newest event naming the job, or a child job
    of it through a parent facet), newest first; then by name."""
    newest: dict[str, datetime] = {}
    for event in events:
        parent = (event.get("run", {}).get("facets", {}).get("parent") or {}).get("job", {}).get("name")
        for name in filter(None, (event["job"]["name"], parent)):
            t = parse_time(event["eventTime"])
            newest[name] = max(newest.get(name, t), t)
    return sorted(newest, key=lambda name: (-newest[name].timestamp(), name))


def test_jobs_lists_and_pages(service, loaded):
    names = newest_updated_first(loaded.events)
    assert sorted(names) == sorted(loaded.job_events)
    listing = get(service, f"/namespaces/{JOB_NAMESPACE}/jobs", "JobList", limit=1000)
    assert [j["name"] for j in listing["jobs"]] == names
    assert listing["totalCount"] == len(names)
    everywhere = get(service, "/jobs", "JobList", limit=1000)
    assert [j["name"] for j in everywhere["jobs"]] == names and everywhere["totalCount"] == len(names)
    pages, offset = [], 0
    while offset < len(names):
        page = get(service, f"/namespaces/{JOB_NAMESPACE}/jobs", "JobList", limit=7, offset=offset)
        assert len(page["jobs"]) == min(7, len(names) - offset) and page["totalCount"] == len(names)
        pages += [j["name"] for j in page["jobs"]]
        offset += 7
    assert pages == names
    assert get(service, "/jobs", "JobList", limit=5, offset=5)["jobs"] == everywhere["jobs"][5:10]
    assert get(service, f"/namespaces/{JOB_NAMESPACE}/jobs", "JobList", limit=0)["jobs"] == []
    assert get(service, f"/namespaces/{JOB_NAMESPACE}/jobs", None, status=400, limit=-1)["field"] == "limit"
    get(service, "/namespaces/nowhere/jobs", None, status=404)


def test_a_job_with_its_latest_run_inputs_and_outputs(service, loaded):
    name = loaded.writer("/outputs/order_summary")
    events = loaded.job_events[name]
    complete = events[-1]
    job = get(service, f"/namespaces/{JOB_NAMESPACE}/jobs/{enc(name)}", "Job")
    assert job["id"] == {"namespace": JOB_NAMESPACE, "name": name} and job["parentJobName"] == "orders"
    assert job["simpleName"] == name[len("orders."):]
    assert {(d["namespace"], d["name"]) for d in job["inputs"]} == {
        (d["namespace"], d["name"]) for d in complete["inputs"]}
    assert [d["name"].rsplit("/", 1)[-1] for d in job["outputs"]] == ["order_summary"]
    run = job["latestRun"]
    assert run["id"] == complete["run"]["runId"] and run["state"] == "COMPLETED"
    assert run["startedAt"] == _z(events[0]["eventTime"]) and run["endedAt"] == _z(complete["eventTime"])
    assert run["durationMs"] == int((parse_time(complete["eventTime"]) - parse_time(events[0]["eventTime"]))
                                    .total_seconds() * 1000)
    assert [v["datasetVersionId"]["name"] for v in run["outputDatasetVersions"]] == [job["outputs"][0]["name"]]
    assert job["latestRuns"] == [run]
    assert job["facets"]["jobType"]["jobType"] == "SQL_JOB"
    assert run["jobVersion"] == {"namespace": JOB_NAMESPACE, "name": name, "version": job["currentVersion"]}

    sibling = get(service, f"/namespaces/{JOB_NAMESPACE}/jobs/{enc(loaded.writer('/outputs/enriched_orders'))}",
                  "Job")
    assert job["parentJobUuid"] == sibling["parentJobUuid"] == str(uuid.UUID(job["parentJobUuid"]))
    parent = get(service, f"/namespaces/{JOB_NAMESPACE}/jobs/orders", "Job")
    assert parent["latestRun"]["state"] == "COMPLETED" and parent["parentJobName"] is None
    assert parent["facets"]["jobType"]["jobType"] == "APPLICATION"
    assert get(service, f"/namespaces/{JOB_NAMESPACE}/jobs/no.such.job", None, status=404)["message"].count(
        "no.such.job") == 1
    get(service, f"/namespaces/nowhere/jobs/{enc(name)}", None, status=404)


def test_job_versions_and_runs(service, loaded):
    name = loaded.writer("/outputs/enriched_orders")
    path = f"/namespaces/{JOB_NAMESPACE}/jobs/{enc(name)}"
    job = get(service, path, "Job")
    versions = get(service, f"{path}/versions", "JobVersionList")
    [version] = versions["versions"]
    assert version["version"] == job["currentVersion"] and versions["totalCount"] == 1
    assert version["inputs"] == job["inputs"] and version["outputs"] == job["outputs"]
    assert version["latestRun"]["id"] == job["latestRun"]["id"]
    assert get(service, f"{path}/versions/{version['version']}", "JobVersion") == version
    get(service, f"{path}/versions/{uuid.uuid4()}", None, status=404)

    # two more runs of the same job: runs are listed newest first, and paged
    complete = loaded.job_events[name][-1]
    later = []
    for minutes in (10, 20):
        event = {**complete, "run": {**complete["run"], "runId": str(uuid.uuid4())},
                 "eventTime": (parse_time(complete["eventTime"]) + timedelta(minutes=minutes)).isoformat()}
        later.append(event["run"]["runId"])
        assert service.post(f"{API}/lineage", json=event).status_code == 201
    runs = get(service, f"{path}/runs", "RunList")
    assert [r["id"] for r in runs["runs"]] == [later[1], later[0], complete["run"]["runId"]]
    assert runs["totalCount"] == 3 and all(r["state"] == "COMPLETED" for r in runs["runs"])
    page = get(service, f"{path}/runs", "RunList", limit=1, offset=1)
    assert [r["id"] for r in page["runs"]] == [later[0]] and page["totalCount"] == 3
    assert get(service, path, "Job")["latestRun"]["id"] == later[1]
    get(service, f"/namespaces/{JOB_NAMESPACE}/jobs/no.such.job/runs", None, status=404)


def test_a_run_and_its_facets(service, loaded):
    name = loaded.writer("/outputs/daily_account_summary")
    events = loaded.job_events[name]
    run_id = events[-1]["run"]["runId"]
    run = get(service, f"/jobs/runs/{run_id}", "Run")
    listed = get(service, f"/namespaces/{JOB_NAMESPACE}/jobs/{enc(name)}/runs", "RunList")["runs"]
    assert listed == [run]
    assert run["state"] == "COMPLETED"
    inputs = sorted(d["name"] for d in events[-1]["inputs"])
    assert sorted(v["datasetVersionId"]["name"] for v in run["inputDatasetVersions"]) == inputs
    parent = events[-1]["run"]["facets"]["parent"]["run"]["runId"]
    assert run["parentRunUuid"] == parent

    facets = get(service, f"/jobs/runs/{run_id}/facets", "FacetsResult", type="run")
    assert facets["runId"] == run_id
    expected = {}
    for event in events:
        expected.update(event["run"].get("facets") or {})
    assert facets["facets"] == expected
    job_facets = get(service, f"/jobs/runs/{run_id}/facets", "FacetsResult", type="job")
    assert job_facets["facets"] == events[-1]["job"]["facets"]
    assert get(service, f"/jobs/runs/{parent}/facets", "FacetsResult", type="job")["facets"]["jobType"][
        "jobType"] == "APPLICATION"

    assert get(service, f"/jobs/runs/{run_id}/facets", None, status=400)["field"] == "type"
    get(service, f"/jobs/runs/{run_id}/facets", None, status=400, type="dataset")
    get(service, f"/jobs/runs/{uuid.uuid4()}", None, status=404)
    get(service, f"/jobs/runs/{uuid.uuid4()}/facets", None, status=404, type="run")
    get(service, "/jobs/runs/not-a-uuid", None, status=400)


def test_namespaces_and_sources(service, loaded):
    listing = get(service, "/namespaces", "NamespaceList")
    assert [n["name"] for n in listing["namespaces"]] == [JOB_NAMESPACE, "file"]
    assert listing["totalCount"] == 2
    assert get(service, "/namespaces", "NamespaceList", limit=1, offset=1)["namespaces"] == listing["namespaces"][1:]
    assert get(service, f"/namespaces/{JOB_NAMESPACE}", "Namespace") == listing["namespaces"][0]
    assert get(service, "/namespaces/nowhere", None, status=404)["message"] == "Namespace 'nowhere' not found."

    name = "postgres://db.example.com:5432"
    created = service.put(f"{API}/namespaces/{enc(name)}", json={"ownerName": "audit", "description": "warehouse"})
    assert created.status_code == 200, created.text
    assert conforms(created.json(), "Namespace")["name"] == name
    updated = service.put(f"{API}/namespaces/{enc(name)}", json={"ownerName": "data-team"}).json()
    assert (updated["ownerName"], updated["description"], updated["createdAt"]) == (
        "data-team", None, created.json()["createdAt"])
    assert get(service, f"/namespaces/{enc(name)}", "Namespace") == updated
    assert get(service, f"/namespaces/{enc(name)}/datasets", "DatasetList") == {"datasets": [], "totalCount": 0}
    assert get(service, "/namespaces", "NamespaceList")["totalCount"] == 3
    assert service.put(f"{API}/namespaces/x", json={"description": "no owner"}).status_code == 400
    assert service.put(f"{API}/namespaces/{enc('bad name')}", json={"ownerName": "me"}).status_code == 400

    sources = get(service, "/sources", "SourceList")
    assert [(s["name"], s["type"], s["connectionUrl"]) for s in sources["sources"]] == [("file", "FILE", "file")]
    assert get(service, "/sources/file", "Source") == sources["sources"][0]
    get(service, "/sources/nowhere", None, status=404)


def test_search(service, loaded):
    dataset = loaded.output("/outputs/order_summary")[0]["name"]
    job = loaded.writer("/outputs/order_summary")
    found = get(service, "/search", "SearchResultList", q="order_summary")
    assert {(r["type"], r["namespace"], r["name"]) for r in found["results"]} == {
        ("DATASET", "file", dataset), ("JOB", JOB_NAMESPACE, job)}
    assert found["totalCount"] == 2
    by_type = {r["type"]: r for r in found["results"]}
    assert by_type["DATASET"]["nodeId"] == f"dataset:file:{dataset}"
    assert by_type["JOB"]["nodeId"] == f"job:{JOB_NAMESPACE}:{job}"
    assert get(service, "/search", "SearchResultList", q="ORDER_Summary") == found  # case-insensitive
    assert [r["type"] for r in get(service, "/search", "SearchResultList", q="order_summary",
                                   filter="DATASET")["results"]] == ["DATASET"]
    assert [r["name"] for r in get(service, "/search", "SearchResultList", q="order_summary",
                                   filter="job")["results"]] == [job]
    # LIKE wildcards: _ one character, % any run of them
    assert {r["name"] for r in get(service, "/search", "SearchResultList", q="order_summar_")["results"]} == {
        dataset, job}
    assert [r["name"] for r in get(service, "/search", "SearchResultList", q="outputs/order%summary",
                                   limit=100)["results"]] == [dataset]
    assert get(service, "/search", "SearchResultList", q="order_summary_")["results"] == []
    # limit (Marquez's default is 10), sort by name or by update, namespace
    many = get(service, "/search", "SearchResultList", q="/outputs/", limit=1000)["results"]
    listed = get(service, "/namespaces/file/datasets", "DatasetList", limit=1000)["datasets"]
    assert len(many) == len([d for d in listed if "/outputs/" in d["name"]]) > 10
    assert len(get(service, "/search", "SearchResultList", q="/outputs/")["results"]) == 10
    assert [r["name"] for r in many] == sorted(r["name"] for r in many)
    newest = get(service, "/search", "SearchResultList", q="/outputs/", sort="UPDATE_AT", limit=1000)["results"]
    assert [r["updatedAt"] for r in newest] == sorted((r["updatedAt"] for r in many), reverse=True)
    assert {r["namespace"] for r in get(service, "/search", "SearchResultList", q="orders", limit=100,
                                        namespace=JOB_NAMESPACE)["results"]} == {JOB_NAMESPACE}
    day = _z(loaded.events[0]["eventTime"])[:10]
    assert get(service, "/search", "SearchResultList", q="order_summary", before=day)["results"] == []
    assert get(service, "/search", "SearchResultList", q="order_summary", after="2000-01-01")["totalCount"] == 2
    assert get(service, "/search", None, status=400, q="x", filter="TABLE")["code"] == 400
    assert get(service, "/search", None, status=400)["field"] == "q"


def test_events_listing(service, loaded):
    total = len(loaded.events)
    newest = get(service, "/events/lineage", "LineageEventList", limit=1000)
    assert newest["totalCount"] == total == len(newest["events"])
    times = [parse_time(e["eventTime"]) for e in newest["events"]]
    assert times == sorted(times, reverse=True)
    oldest = get(service, "/events/lineage", "LineageEventList", sortDirection="asc", limit=1000)
    assert [parse_time(e["eventTime"]) for e in oldest["events"]] == sorted(times)
    assert {(e["run"]["runId"], e["eventType"]) for e in oldest["events"]} == {
        (e["run"]["runId"], e["eventType"]) for e in loaded.events}
    first = next(e for e in loaded.events if e["run"]["runId"] == oldest["events"][0]["run"]["runId"]
                 and e["eventType"] == oldest["events"][0]["eventType"])
    assert oldest["events"][0] == first  # the event as it was sent
    page = get(service, "/events/lineage", "LineageEventList", limit=10, offset=10)
    assert page["events"] == newest["events"][10:20] and page["totalCount"] == total
    middle = sorted(times)[len(times) // 2]
    after = get(service, "/events/lineage", "LineageEventList", after=middle.isoformat(), limit=1000)
    before = get(service, "/events/lineage", "LineageEventList", before=middle.isoformat(), limit=1000)
    assert after["totalCount"] == sum(t >= middle for t in times) == len(after["events"])
    assert before["totalCount"] == sum(t < middle for t in times) == len(before["events"])
    assert get(service, "/events/lineage", None, status=400, sortDirection="sideways")["code"] == 400
    assert get(service, "/events/lineage", None, status=400, before="not a time")["code"] == 400


def test_stats_of_lineage_events(service):
    now = datetime.now(timezone.utc)
    times = [now - timedelta(hours=30), now - timedelta(hours=5), now - timedelta(hours=5, minutes=1), now]
    events = [{"eventType": kind, "eventTime": t.isoformat(), "producer": "https://example.com/test",
               "run": {"runId": str(uuid.uuid4())}, "job": {"namespace": "stats", "name": "job"}}
              for kind, t in zip(("START", "COMPLETE", "FAIL", "START"), times)]
    events[1]["outputs"] = [{"namespace": "stats", "name": "out"}]  # first seen 5 hours ago
    assert service.post(f"{API}/lineage", json=events).status_code == 201
    day = get(service, "/stats/lineage-events", None, period="DAY")
    assert len(day) == 24
    for bucket in day:
        assert set(bucket) == {"startInterval", "endInterval", "count", "start", "complete", "fail", "abort"}
        conforms(bucket, "LineageMetric", service, marquez=False)
    starts = [parse_time(b["startInterval"]) for b in day]
    assert all(b - a == timedelta(hours=1) for a, b in zip(starts, starts[1:]))
    assert starts[-1] <= now < parse_time(day[-1]["endInterval"])
    assert sum(b["count"] for b in day) == 3  # the event of 30 hours ago is out of the day
    assert day[-1]["start"] == 1
    five = next(b for b in day if parse_time(b["startInterval"]) <= times[1] < parse_time(b["endInterval"]))
    assert five["complete"] == 1 and five["fail"] + sum(b["fail"] for b in day if b is not five) == 1
    week = get(service, "/stats/lineage-events", None, period="WEEK")
    assert len(week) == 7 and sum(b["count"] for b in week) == 4
    assert week[-1]["startInterval"] == now.strftime("%Y-%m-%dT00:00:00Z")
    assert parse_time(week[0]["startInterval"]) == parse_time(week[-1]["startInterval"]) - timedelta(days=6)
    tokyo = get(service, "/stats/lineage-events", None, period="WEEK", timezone="Asia/Tokyo")
    assert tokyo[-1]["startInterval"].endswith("T15:00:00Z") and sum(b["count"] for b in tokyo) == 4
    # jobs, datasets and sources: how many existed at the end of each interval
    assert [b["count"] for b in get(service, "/stats/jobs", None, period="DAY")] == [1] * 24
    week_jobs = [b["count"] for b in get(service, "/stats/jobs", None, period="WEEK")]
    assert week_jobs[0] == 0 and week_jobs[-1] == 1 and week_jobs == sorted(week_jobs)
    for kind in ("datasets", "sources"):
        buckets = get(service, f"/stats/{kind}", None, period="DAY")
        counts = [(parse_time(conforms(b, "IntervalMetric", service, marquez=False)["endInterval"]), b["count"])
                  for b in buckets]
        assert [count for _, count in counts] == [int(end > times[1]) for end, _ in counts], kind
    get(service, "/stats/lineage-events", None, status=400, period="MONTH")
    get(service, "/stats/lineage-events", None, status=400, period="WEEK", timezone="Nowhere/Else")


def test_tags_on_datasets_and_fields(service, loaded):
    created = service.put(f"{API}/tags/PII", json={"description": "Personal data"})
    assert created.status_code == 200 and conforms(created.json(), "Tag") == {
        "name": "PII", "description": "Personal data"}
    assert service.put(f"{API}/tags/EMPTY").json() == {"name": "EMPTY", "description": None}
    name = loaded.output("/outputs/processed_customers")[0]["name"]
    path = f"{API}/namespaces/file/datasets/{enc(name)}"
    tagged = service.post(f"{path}/tags/PII")
    assert tagged.status_code == 200 and conforms(tagged.json(), "Dataset")["tags"] == ["PII"]
    field = service.post(f"{path}/fields/email_hash/tags/SENSITIVE")
    assert field.status_code == 200
    fields = {f["name"]: f["tags"] for f in conforms(field.json(), "Dataset")["fields"]}
    assert fields["email_hash"] == ["SENSITIVE"] and fields["customer_id"] == []
    assert service.post(f"{path}/fields/email_hash/tags/SENSITIVE").status_code == 200  # idempotent
    dataset = get(service, f"/namespaces/file/datasets/{enc(name)}", "Dataset")
    assert dataset["tags"] == ["PII"] and {f["name"]: f["tags"] for f in dataset["fields"]}["email_hash"] == [
        "SENSITIVE"]
    raw = service.post(f"{API}/namespaces/file/datasets/{name}/fields/city/tags/PII")  # bare slashes
    assert raw.status_code == 200 and {f["name"]: f["tags"] for f in raw.json()["fields"]}["city"] == ["PII"]
    assert [t["name"] for t in get(service, "/tags", "TagList")["tags"]] == ["EMPTY", "PII", "SENSITIVE"]
    missing = service.post(f"{path}/fields/no_such_field/tags/PII")
    assert missing.status_code == 404 and "no_such_field" in missing.json()["message"]
    assert service.post(f"{API}/namespaces/file/datasets/{enc(name + 'x')}/tags/PII").status_code == 404


def test_writes_need_the_ingest_key(database_url):
    with make_client(database_url, ingest_api_key="secret") as client:
        assert client.put(f"{API}/tags/PII", json={}).status_code == 401
        assert client.put(f"{API}/namespaces/team", json={"ownerName": "me"}).status_code == 401
        good = {"Authorization": "Bearer secret"}
        assert client.put(f"{API}/namespaces/team", json={"ownerName": "me"}, headers=good).status_code == 200
        assert client.get(f"{API}/namespaces/team").status_code == 200  # reads need no key here


def test_the_service_documents_its_routes(service):
    document = service.get(f"{API}/openapi.json").json()
    routes = {("get", "/namespaces"), ("get", "/namespaces/{namespace}"), ("put", "/namespaces/{namespace}"),
              ("get", "/sources"), ("get", "/sources/{source}"), ("get", "/jobs"),
              ("get", "/namespaces/{namespace}/jobs"), ("get", "/namespaces/{namespace}/jobs/{job}"),
              ("get", "/namespaces/{namespace}/jobs/{job}/versions"),
              ("get", "/namespaces/{namespace}/jobs/{job}/versions/{version}"),
              ("get", "/namespaces/{namespace}/jobs/{job}/runs"), ("get", "/jobs/runs/{id}"),
              ("get", "/jobs/runs/{id}/facets"), ("get", "/namespaces/{namespace}/datasets"),
              ("get", "/namespaces/{namespace}/datasets/{dataset}"),
              ("get", "/namespaces/{namespace}/datasets/{dataset}/versions"),
              ("get", "/namespaces/{namespace}/datasets/{dataset}/versions/{version}"),
              ("post", "/namespaces/{namespace}/datasets/{dataset}/tags/{tag}"),
              ("post", "/namespaces/{namespace}/datasets/{dataset}/fields/{field}/tags/{tag}"),
              ("get", "/tags"), ("put", "/tags/{tag}"), ("get", "/search"), ("get", "/events/lineage"),
              ("get", "/stats/lineage-events"), ("get", "/stats/jobs"), ("get", "/stats/datasets"),
              ("get", "/stats/sources")}
    schemas = document["components"]["schemas"]

    def body_schema(method: str, path: str) -> dict:
        schema = document["paths"][API + path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        return schemas[schema.get("items", schema)["$ref"].rsplit("/", 1)[-1]]

    for method, path in routes:
        operation = document["paths"][API + path][method]
        assert operation["responses"]["200"]["description"] and operation["summary"], (method, path)
        assert body_schema(method, path)["properties"], (method, path)
        if "{" in path:
            assert operation["responses"]["404" if method == "get" else "401"]["description"], (method, path)
    job = body_schema("get", "/namespaces/{namespace}/jobs/{job}")
    assert set(job["required"]) >= {"id", "name", "namespace", "inputs", "outputs", "latestRuns"}


@requires_spec
def test_the_schema_check_catches_wrong_bodies():
    run = {"id": str(uuid.uuid4()), "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z",
           "state": "COMPLETED", "startedAt": None, "endedAt": None, "durationMs": None, "args": {},
           "inputDatasetVersions": [], "outputDatasetVersions": [], "facets": {}}
    assert errors(run, "Run") == []
    assert errors({**run, "state": "DONE"}, "Run") == ["state: 'DONE' is not one of "
                                                       "['NEW', 'RUNNING', 'COMPLETED', 'FAILED', 'ABORTED']"]
    assert errors({**run, "endedAt": "yesterday"}, "Run") == ["endedAt: 'yesterday' is not a 'date-time'"]
    assert errors({**run, "inputDatasetVersions": [{"facets": {}}]}, "Run") == [
        "inputDatasetVersions/0: 'datasetVersionId' is a required property"]
    assert errors({"jobs": {}}, "JobList") == ["jobs: {} is not of type 'array'"]
    assert errors({"datasets": [{"fields": [{"type": "string"}]}]}, "DatasetList") == [
        "datasets/0/fields/0: 'name' is a required property"]
    assert errors({"facets": {"x": {"_producer": "p"}}, "runId": "r"}, "FacetsResult") == [
        "facets/x: '_schemaURL' is a required property"]
    with pytest.raises(AssertionError, match="not a valid Job"):
        assert_matches({"inputs": "none"}, "Job")
    # the relaxed quirks: a null anywhere, tags given as a list, a name whose type is left empty
    assert errors({"tags": ["PII"], "description": None, "id": None, "type": "DB_TABLE", "name": "n",
                   "physicalName": "n", "createdAt": "2024-01-01T00:00:00Z", "version": str(uuid.uuid4()),
                   "namespace": "ns", "sourceName": "s"}, "DatasetVersion") == []
    assert errors({"results": [{"type": "JOB", "name": 3}], "totalCount": 1}, "SearchResultList") == []


def _z(value: str) -> str:
    """An event time as the service writes timestamps: UTC, microseconds, Z."""
    return parse_time(value).isoformat().replace("+00:00", "Z")
