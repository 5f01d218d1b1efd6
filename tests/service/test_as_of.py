"""``asOf`` on /lineage, /column-lineage, dataset and job detail and dataset versions, on SQLite and PostgreSQL:
answers as the events up to a moment described the world, whatever order they arrived in, including jobs,
edges, fields and column lineage that no longer exist."""

from __future__ import annotations

import random
import uuid

import pytest

from tests.service.conftest import make_client
from tests.service.test_ingest import PRODUCER, at, dataset, run_event

API = "/api/v1"
NS = "tests"
FILE = "file"


def lineage_facet(**fields: list[tuple[str, str, str]]) -> dict:
    """A columnLineage facet: output field -> [(input dataset, input field, transformation subtype)]."""
    return {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json",
            "fields": {out: {"inputFields": [
                {"namespace": FILE, "name": name, "field": field,
                 "transformations": [{"type": "DIRECT", "subtype": subtype, "description": "", "masking": False}]}
                for name, field, subtype in inputs]} for out, inputs in fields.items()}}


def post(service, events) -> None:
    response = service.post(f"{API}/lineage", json=events)
    assert response.status_code == 201, response.text


def get(service, path: str, **params):
    response = service.get(f"{API}{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def edges(graph: dict) -> set[tuple[str, str]]:
    return {(e["origin"], e["destination"]) for node in graph["graph"] for e in node["inEdges"] + node["outEdges"]}


def column_edges(graph: dict) -> set[tuple[str, str]]:
    """(field, input field) of a column lineage graph."""
    return {(e["origin"], e["destination"]) for node in graph["graph"] for e in node["inEdges"]}


def node(graph: dict, node_id: str) -> dict:
    return next(n for n in graph["graph"] if n["id"] == node_id)


# -- a job whose inputs change between two runs --------------------------------------------------

RUN_1, RUN_2 = str(uuid.uuid4()), str(uuid.uuid4())


def changing_inputs() -> list[dict]:
    """``orders`` reads raw_orders and customers at 0-10 s, then raw_orders and products at 100-110 s."""
    first = dict(inputs=[dataset("raw_orders"), dataset("customers")], outputs=[dataset("enriched_orders")])
    second = dict(inputs=[dataset("raw_orders"), dataset("products")], outputs=[dataset("enriched_orders")])
    return [run_event("START", 0, RUN_1, job="orders", **first), run_event("COMPLETE", 10, RUN_1, job="orders", **first),
            run_event("START", 100, RUN_2, job="orders", **second),
            run_event("COMPLETE", 110, RUN_2, job="orders", **second)]


def test_lineage_as_of_a_moment_between_two_runs_shows_the_old_edge(service):
    post(service, changing_inputs())
    job = f"job:{NS}:orders"
    before = get(service, "/lineage", nodeId=job, depth=2, asOf=at(50))
    now = get(service, "/lineage", nodeId=job, depth=2)
    assert edges(before) == {(f"dataset:{FILE}:raw_orders", job), (f"dataset:{FILE}:customers", job),
                             (job, f"dataset:{FILE}:enriched_orders")}
    assert edges(now) == {(f"dataset:{FILE}:raw_orders", job), (f"dataset:{FILE}:products", job),
                          (job, f"dataset:{FILE}:enriched_orders")}
    data = node(before, job)["data"]
    assert data["inputs"] == [{"namespace": FILE, "name": "customers"}, {"namespace": FILE, "name": "raw_orders"}]
    assert data["latestRun"]["id"] == RUN_1 and data["latestRun"]["state"] == "COMPLETED"
    assert data["latestRun"]["endedAt"] == at(10)
    assert data["updatedAt"] == at(10)
    assert node(now, job)["data"]["latestRun"]["id"] == RUN_2
    # a dataset only the old run read: its graph as of then starts from that run's job; now it stands alone
    customers = get(service, "/lineage", nodeId=f"dataset:{FILE}:customers", depth=1, asOf=at(50))
    assert {n["id"] for n in customers["graph"]} == {job, f"dataset:{FILE}:raw_orders", f"dataset:{FILE}:customers",
                                                     f"dataset:{FILE}:enriched_orders"}
    assert [n["id"] for n in get(service, "/lineage", nodeId=f"dataset:{FILE}:customers")["graph"]] == [
        f"dataset:{FILE}:customers"]
    # the job's detail as of then: its old inputs and its first run only
    detail = get(service, f"/namespaces/{NS}/jobs/orders", asOf=at(50))
    assert detail["inputs"] == [{"namespace": FILE, "name": "customers"}, {"namespace": FILE, "name": "raw_orders"}]
    assert [r["id"] for r in detail["latestRuns"]] == [RUN_1]
    assert detail["latestRun"]["state"] == "COMPLETED"
    assert detail["currentVersion"] == get(service, f"/namespaces/{NS}/jobs/orders/runs")["runs"][1]["jobVersion"][
        "version"]
    assert get(service, f"/namespaces/{NS}/jobs/orders")["inputs"] == [
        {"namespace": FILE, "name": "products"}, {"namespace": FILE, "name": "raw_orders"}]


def test_a_dataset_or_job_that_did_not_exist_yet_is_not_found(service):
    post(service, changing_inputs())
    for path, params in (("/lineage", {"nodeId": f"dataset:{FILE}:products"}),
                         ("/column-lineage", {"nodeId": f"dataset:{FILE}:products"}),
                         (f"/namespaces/{FILE}/datasets/products", {}),
                         (f"/namespaces/{FILE}/datasets/products/versions", {})):
        response = service.get(f"{API}{path}", params={**params, "asOf": at(50)})
        assert response.status_code == 404, (path, response.text)
    for path in ("/lineage", "/column-lineage"):
        response = service.get(f"{API}{path}", params={"nodeId": f"job:{NS}:orders", "asOf": at(-1)})
        assert response.status_code == 404, response.text
        assert response.json()["message"] == "no job 'tests:orders' (namespace:name) is known"
    response = service.get(f"{API}/namespaces/{NS}/jobs/orders", params={"asOf": at(-1)})
    assert response.status_code == 404
    assert response.json() == {"code": 404, "message": "Job 'orders' not found in namespace 'tests' as of "
                                                        f"{at(-1)}."}


def test_a_bad_moment_is_a_400_with_its_reason(service):
    post(service, changing_inputs())
    for path, params in (("/lineage", {"nodeId": f"job:{NS}:orders"}),
                         ("/column-lineage", {"nodeId": f"dataset:{FILE}:enriched_orders"}),
                         (f"/namespaces/{NS}/jobs/orders", {}), (f"/namespaces/{FILE}/datasets/customers", {}),
                         (f"/namespaces/{FILE}/datasets/customers/versions", {})):
        response = service.get(f"{API}{path}", params={**params, "asOf": "yesterday"})
        assert response.status_code == 400, response.text
        assert response.json() == {"code": 400, "message": "asOf: 'yesterday' is not an ISO 8601 timestamp "
                                                            "(such as 2026-12-07T10:00:00Z)"}
    version = get(service, f"/namespaces/{FILE}/datasets/enriched_orders")["currentVersion"]
    response = service.get(f"{API}/column-lineage", params={"nodeId": f"dataset:{FILE}:enriched_orders#{version}",
                                                            "asOf": at(50)})
    assert response.status_code == 400
    assert response.json()["message"] == "asOf is not supported with a versioned nodeId: a version is already a moment"
    # a moment with an offset, or without a zone (UTC), is the same moment
    job = f"job:{NS}:orders"
    assert get(service, "/lineage", nodeId=job, asOf="2026-03-01T13:00:50+01:00") == get(
        service, "/lineage", nodeId=job, asOf="2026-03-01T12:00:50")


# -- a job soft-deleted after its run -----------------------------------------------------------

def test_a_job_deleted_since_is_shown_as_of_before_its_deletion(service):
    post(service, changing_inputs())
    assert service.delete(f"{API}/namespaces/{NS}/jobs/orders").status_code == 200
    assert service.get(f"{API}/namespaces/{NS}/jobs/orders").status_code == 404
    assert service.get(f"{API}/lineage", params={"nodeId": f"job:{NS}:orders"}).status_code == 404
    job = f"job:{NS}:orders"
    before = get(service, "/lineage", nodeId=job, depth=1, asOf=at(200))
    assert edges(before) == {(f"dataset:{FILE}:raw_orders", job), (f"dataset:{FILE}:products", job),
                             (job, f"dataset:{FILE}:enriched_orders")}
    assert node(before, job)["data"]["latestRun"]["id"] == RUN_2
    detail = get(service, f"/namespaces/{NS}/jobs/orders", asOf=at(200))
    assert detail["outputs"] == [{"namespace": FILE, "name": "enriched_orders"}]
    assert [r["id"] for r in detail["latestRuns"]] == [RUN_2, RUN_1]
    # from the dataset it wrote, the deleted job is there as of then, not now
    written = get(service, "/lineage", nodeId=f"dataset:{FILE}:enriched_orders", depth=1, asOf=at(200))
    assert job in {n["id"] for n in written["graph"]}
    assert job not in {n["id"] for n in get(service, "/lineage", nodeId=f"dataset:{FILE}:enriched_orders")["graph"]}


# -- a run between its START and its COMPLETE ------------------------------------------------------

def test_a_run_between_start_and_complete_is_running_as_of_then(service):
    post(service, changing_inputs())
    job = f"job:{NS}:orders"
    latest = node(get(service, "/lineage", nodeId=job, depth=0, asOf=at(105)), job)["data"]["latestRun"]
    assert (latest["id"], latest["state"], latest["startedAt"], latest["endedAt"], latest["updatedAt"],
            latest["durationMs"]) == (RUN_2, "RUNNING", at(100), None, at(100), None)
    detail = get(service, f"/namespaces/{NS}/jobs/orders", asOf=at(105))
    assert [(r["id"], r["state"], r["endedAt"]) for r in detail["latestRuns"]] == [
        (RUN_2, "RUNNING", None), (RUN_1, "COMPLETED", at(10))]
    running = detail["latestRun"]
    assert running["jobVersion"] is None
    assert [v["datasetVersionId"]["name"] for v in running["inputDatasetVersions"]] == ["products", "raw_orders"]
    # a running writer does not make its version current: the dataset's is still the first run's
    dataset = get(service, f"/namespaces/{FILE}/datasets/enriched_orders", asOf=at(105))
    versions = get(service, f"/namespaces/{FILE}/datasets/enriched_orders/versions")["versions"]
    assert [v["createdByRun"]["id"] for v in versions] == [RUN_2, RUN_1]
    assert dataset["currentVersion"] == versions[1]["version"]
    assert dataset["lastModifiedAt"] == at(10)
    assert get(service, f"/namespaces/{FILE}/datasets/enriched_orders", asOf=at(110))["currentVersion"] == \
        versions[0]["version"]


# -- a dataset whose schema and column lineage change --------------------------------------------

def schema_change() -> list[dict]:
    """``orders`` writes enriched_orders (id, amount) from raw_orders, then (id, total, customer) from raw_orders
    and customers."""
    first = dataset("enriched_orders", FILE, ("id", "amount"), columnLineage=lineage_facet(
        id=[("raw_orders", "id", "IDENTITY")], amount=[("raw_orders", "amount", "IDENTITY")]))
    second = dataset("enriched_orders", FILE, ("id", "total", "customer"), columnLineage=lineage_facet(
        id=[("raw_orders", "id", "IDENTITY")], total=[("raw_orders", "amount", "AGGREGATION")],
        customer=[("customers", "name", "IDENTITY")]))
    raw, customers = dataset("raw_orders", FILE, ("id", "amount")), dataset("customers", FILE, ("id", "name"))
    return [run_event("START", 0, RUN_1, job="orders", inputs=[raw], outputs=[first]),
            run_event("COMPLETE", 10, RUN_1, job="orders", inputs=[raw], outputs=[first]),
            run_event("START", 100, RUN_2, job="orders", inputs=[raw, customers], outputs=[second]),
            run_event("COMPLETE", 110, RUN_2, job="orders", inputs=[raw, customers], outputs=[second])]


def test_a_dataset_as_of_before_its_schema_changed_has_its_old_fields_and_column_lineage(service):
    post(service, schema_change())
    before = get(service, f"/namespaces/{FILE}/datasets/enriched_orders", asOf=at(50))
    assert [(f["name"], f["type"]) for f in before["fields"]] == [("id", "string"), ("amount", "string")]
    assert [(c["name"], [(i["dataset"], i["field"], i["transformations"][0]["subtype"]) for i in c["inputFields"]])
            for c in before["columnLineage"]] == [("id", [("raw_orders", "id", "IDENTITY")]),
                                                  ("amount", [("raw_orders", "amount", "IDENTITY")])]
    assert before["facets"]["schema"]["fields"] == [{"name": "id", "type": "string"},
                                                    {"name": "amount", "type": "string"}]
    now = get(service, f"/namespaces/{FILE}/datasets/enriched_orders")
    assert [f["name"] for f in now["fields"]] == ["id", "total", "customer"]
    columns = get(service, "/column-lineage", nodeId=f"dataset:{FILE}:enriched_orders", asOf=at(50))
    field = f"datasetField:{FILE}:enriched_orders"
    assert column_edges(columns) == {(f"{field}:id", f"datasetField:{FILE}:raw_orders:id"),
                              (f"{field}:amount", f"datasetField:{FILE}:raw_orders:amount")}
    amount = node(columns, f"{field}:amount")["data"]
    assert (amount["fieldType"], amount["datasetVersion"]) == ("string", before["currentVersion"])
    assert column_edges(get(service, "/column-lineage", nodeId=f"dataset:{FILE}:enriched_orders")) == {
        (f"{field}:id", f"datasetField:{FILE}:raw_orders:id"),
        (f"{field}:total", f"datasetField:{FILE}:raw_orders:amount"),
        (f"{field}:customer", f"datasetField:{FILE}:customers:name")}
    # a field that did not exist then is not found; downstream of an input, the old field
    response = service.get(f"{API}/column-lineage", params={"nodeId": f"{field}:total", "asOf": at(50)})
    assert response.status_code == 404, response.text
    down = get(service, "/column-lineage", nodeId=f"datasetField:{FILE}:raw_orders:amount", withDownstream="true",
               asOf=at(50))
    assert column_edges(down) == {(f"{field}:amount", f"datasetField:{FILE}:raw_orders:amount")}
    # the lineage graph's dataset node has the old fields too
    graph = get(service, "/lineage", nodeId=f"dataset:{FILE}:enriched_orders", depth=0, asOf=at(50))
    assert [f["name"] for f in node(graph, f"dataset:{FILE}:enriched_orders")["data"]["fields"]] == ["id", "amount"]


def test_dataset_versions_as_of_list_only_the_versions_up_to_then(service):
    post(service, schema_change())
    every = get(service, f"/namespaces/{FILE}/datasets/enriched_orders/versions")
    assert every["totalCount"] == 2
    before = get(service, f"/namespaces/{FILE}/datasets/enriched_orders/versions", asOf=at(50))
    assert before["totalCount"] == 1
    assert [v["version"] for v in before["versions"]] == [every["versions"][1]["version"]]
    assert [f["name"] for f in before["versions"][0]["fields"]] == ["id", "amount"]
    assert before["versions"][0]["createdByRun"]["state"] == "COMPLETED"
    during = get(service, f"/namespaces/{FILE}/datasets/enriched_orders/versions", asOf=at(105))
    assert [(v["version"], v["createdByRun"]["state"]) for v in during["versions"]] == [
        (every["versions"][0]["version"], "RUNNING"), (every["versions"][1]["version"], "COMPLETED")]
    assert get(service, f"/namespaces/{FILE}/datasets/enriched_orders/versions", asOf=at(200)) == every
    assert get(service, f"/namespaces/{FILE}/datasets/enriched_orders/versions", asOf=at(105),
               limit=1, offset=1)["versions"][0]["version"] == every["versions"][1]["version"]


# -- the moments of a graph ---------------------------------------------------------------------

def test_moments_are_the_run_events_of_the_graph_oldest_first(service):
    post(service, list(reversed(changing_inputs())) + [run_event(None, 300, job="unrelated")])
    found = get(service, "/audit/moments", nodeId=f"dataset:{FILE}:customers", depth=1)
    job = {"namespace": NS, "name": "orders"}
    assert found == {"moments": [
        {"time": at(0), "eventType": "START", "runId": RUN_1, "job": job},
        {"time": at(10), "eventType": "COMPLETE", "runId": RUN_1, "job": job},
        {"time": at(100), "eventType": "START", "runId": RUN_2, "job": job},
        {"time": at(110), "eventType": "COMPLETE", "runId": RUN_2, "job": job}]}
    other = get(service, "/audit/moments", nodeId=f"job:{NS}:unrelated")["moments"]
    assert [(m["time"], m["eventType"]) for m in other] == [(at(300), "OTHER")]
    assert service.get(f"{API}/audit/moments", params={"nodeId": "job:tests:nothing"}).status_code == 404
    assert service.get(f"{API}/audit/moments", params={"nodeId": "nothing"}).status_code == 400


# -- arrival order ------------------------------------------------------------------------------

@pytest.fixture
def other_service(request, database_url, tmp_path):
    """A second service on an empty database of the same backend."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'other.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.new_database("lineage_as_of")
    with make_client(url) as client:
        yield client


def whole_story() -> list[dict]:
    """The schema change, a downstream job whose run is in flight, a DatasetEvent and a JobEvent."""
    report_run = str(uuid.uuid4())
    summary = dataset("order_summary", FILE, ("customer", "total"), columnLineage=lineage_facet(
        customer=[("enriched_orders", "customer", "IDENTITY")], total=[("enriched_orders", "total", "AGGREGATION")]))
    events = schema_change() + [
        run_event("START", 120, report_run, job="order_summary", inputs=[dataset("enriched_orders", FILE)],
                  outputs=[summary]),
        run_event("COMPLETE", 140, report_run, job="order_summary", inputs=[dataset("enriched_orders", FILE)],
                  outputs=[summary]),
        {"eventTime": at(130), "producer": PRODUCER,
         "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
         "dataset": dataset("customers", FILE, ("id", "name", "email"))},
        {"eventTime": at(60), "producer": PRODUCER,
         "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
         "job": {"namespace": NS, "name": "order_summary", "facets": {}},
         "inputs": [dataset("raw_orders", FILE)], "outputs": [dataset("order_summary", FILE)]}]
    return events


def answers(service, moment: str | None) -> dict:
    """Every asOf answer about the story at one moment, or now (404s as such)."""
    requests = [("/lineage", {"nodeId": f"job:{NS}:orders"}), ("/lineage", {"nodeId": f"dataset:{FILE}:customers"}),
                ("/column-lineage", {"nodeId": f"dataset:{FILE}:order_summary", "withDownstream": "true"}),
                ("/column-lineage", {"nodeId": f"datasetField:{FILE}:raw_orders:amount", "withDownstream": "true"}),
                (f"/namespaces/{NS}/jobs/orders", {}), (f"/namespaces/{NS}/jobs/order_summary", {}),
                (f"/namespaces/{FILE}/datasets/enriched_orders", {}), (f"/namespaces/{FILE}/datasets/customers", {}),
                (f"/namespaces/{FILE}/datasets/order_summary/versions", {}),
                (f"/namespaces/{FILE}/datasets/enriched_orders/versions", {})]
    found = {}
    for path, params in requests:
        response = service.get(f"{API}{path}", params={**params, **({"asOf": moment} if moment else {})})
        found[(path, tuple(params.values()))] = response.json() if response.status_code == 200 else response.status_code
    return found


def test_events_in_any_order_give_the_same_answers_as_of_every_moment(service, other_service):
    events = whole_story()
    post(service, events)
    shuffled = list(events)
    random.Random(13).shuffle(shuffled)
    for event in shuffled:
        post(other_service, event)
    for moment in (at(-1), at(5), at(50), at(60), at(105), at(125), at(130), at(200)):
        assert answers(service, moment) == answers(other_service, moment), moment
    story = answers(service, at(125))
    summary = story[(f"/namespaces/{NS}/jobs/order_summary", ())]
    assert (summary["latestRun"]["state"], summary["inputs"]) == ("RUNNING", [{"namespace": FILE,
                                                                                  "name": "enriched_orders"}])
    declared = answers(service, at(60))[(f"/namespaces/{NS}/jobs/order_summary", ())]
    assert (declared["latestRun"], declared["inputs"]) == (None, [{"namespace": FILE, "name": "raw_orders"}])
    customers = answers(service, at(130))[(f"/namespaces/{FILE}/datasets/customers", ())]
    assert [f["name"] for f in customers["fields"]] == ["id", "name", "email"]
    assert [f["name"] for f in story[(f"/namespaces/{FILE}/datasets/customers", ())]["fields"]] == ["id", "name"]


def test_a_dataset_dropped_since_is_there_as_of_before_the_drop_only(service):
    drop = {"_producer": PRODUCER, "_schemaURL": "x", "lifecycleStateChange": "DROP"}
    cleanup = str(uuid.uuid4())
    post(service, changing_inputs() + [
        run_event("START", 200, cleanup, job="cleanup", outputs=[dataset("enriched_orders", lifecycleStateChange=drop)]),
        run_event("COMPLETE", 210, cleanup, job="cleanup",
                  outputs=[dataset("enriched_orders", lifecycleStateChange=drop)])])
    path = f"/namespaces/{FILE}/datasets/enriched_orders"
    assert service.get(f"{API}{path}").status_code == 404
    assert get(service, path, asOf=at(150))["lastLifecycleState"] is None
    assert get(service, path, asOf=at(205))["currentVersion"] == get(service, path, asOf=at(150))["currentVersion"]
    gone = service.get(f"{API}{path}", params={"asOf": at(250)})
    assert gone.status_code == 404
    assert gone.json()["message"] == (f"Dataset 'enriched_orders' not found in namespace 'file' as of {at(250)}: "
                                      "its current version then dropped it.")
    job = f"job:{NS}:orders"
    assert f"dataset:{FILE}:enriched_orders" in {n["id"] for n in get(service, "/lineage", nodeId=job, asOf=at(150))[
        "graph"]}
    later = get(service, "/lineage", nodeId=job, asOf=at(250))
    assert {n["id"] for n in later["graph"]} == {job, f"dataset:{FILE}:raw_orders", f"dataset:{FILE}:products"}


@pytest.mark.parametrize("seconds", [5, 105, 125, 135, 145])
def test_as_of_a_moment_is_what_a_store_given_only_the_events_up_to_then_answers(service, other_service, seconds):
    """The oracle: a second store that only ever received the events up to the moment answers the same now
    (5 s: the first run in flight; 105 s: the second, its inputs' reader facets and a JobEvent's schema; 125 s and
    135 s: a downstream reader in flight, whose reads' facets join the version it read; 145 s: all done)."""
    events = whole_story()
    post(service, events)
    for event in events:
        if event["eventTime"] <= at(seconds):
            post(other_service, event)
    mine, truth = answers(service, at(seconds)), answers(other_service, None)
    for found in (mine, truth):  # as of a moment, fields of column lineage come in name order (see as_of_datasets)
        for answer in found.values():
            if isinstance(answer, dict) and answer.get("columnLineage"):
                answer["columnLineage"].sort(key=lambda c: c["name"])
    assert mine == truth
