"""GET /api/v1/namespaces/{namespace}/lineage and .../column-lineage (this service's extension: the whole graph of
a job namespace), on SQLite and PostgreSQL, with hand-made events:

    etl:     load      reads  postgres://db:5432 public.a           writes warehouse b   (b.x <- a.x, b.xy <- a.x, a.y)
             transform reads  warehouse b                           writes warehouse c   (c.x <- b.x, c.total <- b.xy)
             rewire    read   warehouse old in its first run, reads warehouse b in its newest, writes warehouse e
             cleanup   drops  warehouse tmp (lifecycleStateChange DROP: tmp is deleted)
             planned   known from a JobEvent only: reads warehouse c, writes warehouse f
             etl_app   the application: no datasets of its own
    other:   report    reads  warehouse c                           writes warehouse d   (d.y <- c.x)
    warehouse, postgres://db:5432: datasets only; warehouse lonely is known from a DatasetEvent only
"""

from __future__ import annotations

import uuid

import pytest

from tests.service.test_graph import PG, _assert_lineage_graph, _edges, _field_edges, _graph, _post, _run_event

A, B, C, D = f"dataset:{PG}:public.a", "dataset:warehouse:b", "dataset:warehouse:c", "dataset:warehouse:d"
E, F, OLD, TMP = "dataset:warehouse:e", "dataset:warehouse:f", "dataset:warehouse:old", "dataset:warehouse:tmp"
LOAD, TRANSFORM, REWIRE, CLEANUP = "job:etl:load", "job:etl:transform", "job:etl:rewire", "job:etl:cleanup"
PLANNED, APP, REPORT = "job:etl:planned", "job:etl:etl_app", "job:other:report"


def _field(dataset_node: str, field: str) -> str:
    return f"datasetField:{dataset_node.removeprefix('dataset:')}:{field}"


def _whole(service, namespace: str, kind: str = "lineage") -> dict[str, dict]:
    response = service.get(f"/api/v1/namespaces/{namespace}/{kind}")
    assert response.status_code == 200, response.text
    nodes = response.json()["graph"]
    by_id = {n["id"]: n for n in nodes}
    assert len(by_id) == len(nodes), "node ids are unique"
    assert [n["id"] for n in nodes] == sorted(by_id), "nodes come sorted by id"
    for node in nodes:  # every edge touches its node and ends at a node of the graph
        for edge in node["inEdges"] + node["outEdges"]:
            assert node["id"] in (edge["origin"], edge["destination"])
            assert edge["origin"] in by_id and edge["destination"] in by_id, edge
    return by_id


def _drop(name: str, time: str) -> dict:
    event = _run_event("cleanup", [], ("warehouse", name, {}), namespace="etl", time=time)
    event["outputs"][0]["facets"] = {"lifecycleStateChange": {
        "_producer": "https://example.com/test", "_schemaURL": "x", "lifecycleStateChange": "DROP"}}
    return event


@pytest.fixture
def namespaces(service):
    _post(service, [
        _run_event("load", [(PG, "public.a", ["y", "x"])],
                   ("warehouse", "b", {"x": [(PG, "public.a", "x", "DIRECT", "IDENTITY", False)],
                                       "xy": [(PG, "public.a", "x", "DIRECT", "TRANSFORMATION", False),
                                              (PG, "public.a", "y", "DIRECT", "TRANSFORMATION", True)]}),
                   namespace="etl"),
        _run_event("transform", [("warehouse", "b", ["x", "xy"])],
                   ("warehouse", "c", {"x": [("warehouse", "b", "x", "DIRECT", "IDENTITY", False)],
                                       "total": [("warehouse", "b", "xy", "DIRECT", "AGGREGATION", False)]}),
                   namespace="etl"),
        _run_event("rewire", [("warehouse", "old", ["k"])],
                   ("warehouse", "e", {"k": [("warehouse", "old", "k", "DIRECT", "IDENTITY", False)]}),
                   namespace="etl", time="2026-01-01T00:00:00Z"),
        _run_event("rewire", [("warehouse", "b", ["x"])],
                   ("warehouse", "e", {"k": [("warehouse", "b", "x", "DIRECT", "IDENTITY", False)]}),
                   namespace="etl", time="2026-01-02T00:00:00Z"),
        _drop("tmp", "2026-01-02T00:00:00Z"),
        {"eventTime": "2026-01-03T00:00:00Z", "producer": "https://example.com/test",
         "job": {"namespace": "etl", "name": "planned"},
         "inputs": [{"namespace": "warehouse", "name": "c"}], "outputs": [{"namespace": "warehouse", "name": "f"}]},
        {"eventType": "COMPLETE", "eventTime": "2026-01-01T00:00:00Z", "producer": "https://example.com/test",
         "run": {"runId": str(uuid.uuid4())}, "job": {"namespace": "etl", "name": "etl_app"}},
        _run_event("report", [("warehouse", "c", ["x"])],
                   ("warehouse", "d", {"y": [("warehouse", "c", "x", "DIRECT", "IDENTITY", False)]}),
                   namespace="other"),
        {"eventTime": "2026-01-01T00:00:00Z", "producer": "https://example.com/test",
         "dataset": {"namespace": "warehouse", "name": "lonely", "facets": {"schema": {"fields": [
             {"name": "id", "type": "int"}]}}}},
    ])


def test_the_lineage_of_a_namespace_is_every_job_of_it_with_all_its_datasets(service, namespaces):
    nodes = _whole(service, "etl")
    assert set(nodes) == {LOAD, TRANSFORM, REWIRE, CLEANUP, PLANNED, APP, A, B, C, E, F}  # tmp was dropped
    # jobs of another namespace (report) are not in it, nor what only they touch (d); nor the dataset rewire no
    # longer reads (old), nor one no job touches (lonely); c, which report also reads, is
    assert _edges(nodes) == {(A, LOAD), (LOAD, B), (B, TRANSFORM), (TRANSFORM, C), (B, REWIRE), (REWIRE, E),
                             (C, PLANNED), (PLANNED, F)}
    assert nodes[C]["outEdges"] == [{"origin": C, "destination": PLANNED}]  # not report's
    assert nodes[B]["outEdges"] == [{"origin": B, "destination": REWIRE}, {"origin": B, "destination": TRANSFORM}]
    assert nodes[APP]["inEdges"] == nodes[APP]["outEdges"] == [] and nodes[APP]["data"]["inputs"] == []
    assert nodes[A]["data"]["namespace"] == PG and nodes[A]["data"]["name"] == "public.a"
    assert [f["name"] for f in nodes[A]["data"]["fields"]] == ["y", "x"]  # schema order
    # a dropped table is deleted (Marquez: lifecycleStateChange DROP), so it leaves the graph as a DELETE would
    assert service.get("/api/v1/namespaces/warehouse/datasets/tmp").status_code == 404
    assert nodes[CLEANUP]["outEdges"] == [] and TMP not in _whole(service, "etl")
    assert nodes[PLANNED]["data"]["latestRun"] is None
    assert _edges(_whole(service, "other")) == {(C, REPORT), (REPORT, D)}
    _assert_lineage_graph({"graph": list(nodes.values())})


def test_its_nodes_are_those_of_marquez_lineage(service, namespaces):
    """Each job is the node /lineage gives at depth 0; each dataset's data too (its edges join more jobs here)."""
    nodes = _whole(service, "etl")
    for job in (LOAD, TRANSFORM, REWIRE, CLEANUP, PLANNED, APP):
        around = _graph(service, "lineage", job, depth=0)
        assert nodes[job] == around[job], job
        for dataset in {e["origin"] for e in around[job]["inEdges"]} | {e["destination"]
                                                                      for e in around[job]["outEdges"]}:
            assert nodes[dataset]["data"] == around[dataset]["data"], dataset


def test_the_column_lineage_of_a_namespace_crosses_its_jobs(service, namespaces):
    nodes = _whole(service, "etl", "column-lineage")
    assert {n["type"] for n in nodes.values()} == {"DATASET_FIELD"}
    a_x, a_y, b_x, b_xy = _field(A, "x"), _field(A, "y"), _field(B, "x"), _field(B, "xy")
    c_x, c_total, e_k = _field(C, "x"), _field(C, "total"), _field(E, "k")
    # every field of the graph's datasets (f and tmp have none), with the lineage of what etl's jobs write
    assert set(nodes) == {a_x, a_y, b_x, b_xy, c_x, c_total, e_k}
    assert _field_edges(nodes) == {(b_x, a_x), (b_xy, a_x), (b_xy, a_y), (c_x, b_x), (c_total, b_xy), (e_k, b_x)}
    # c.total leads back across two jobs: transform (b.xy) and load (a.x, a.y), masking kept
    total = nodes[c_total]["data"]
    assert [(f["dataset"], f["field"], f["transformationType"]) for f in total["inputFields"]] == [
        ("b", "xy", "DIRECT")]
    assert total["inputFields"][0]["transformations"] == [
        {"type": "DIRECT", "subtype": "AGGREGATION", "description": "DIRECT AGGREGATION", "masking": False}]
    masked = next(f for f in nodes[b_xy]["data"]["inputFields"] if f["field"] == "y")
    assert masked["namespace"] == PG and masked["transformations"][0]["masking"] is True
    # d.y <- c.x is report's (namespace other): not here, and c.x feeds nothing in etl
    assert nodes[c_x]["outEdges"] == []
    assert _field_edges(_whole(service, "other", "column-lineage")) == {(_field(D, "y"), c_x)}
    # each field's data is what /column-lineage says of it one edge deep; a field with no upstream is a node
    # of its consumers' graphs only (as in Marquez), and says there what it says here
    for field_id, node in nodes.items():
        asked = field_id if node["inEdges"] else min(edge["destination"] for edge in node["outEdges"])
        assert node["data"] == _graph(service, "column-lineage", asked, depth=1)[field_id]["data"], field_id


def test_unknown_namespaces_404_and_namespaces_without_jobs_are_empty(service, namespaces):
    for kind in ("lineage", "column-lineage"):
        response = service.get(f"/api/v1/namespaces/nowhere/{kind}")
        assert response.status_code == 404, response.text
        assert response.json() == {"code": 404, "message": "Namespace 'nowhere' not found."}
        assert _whole(service, "warehouse", kind) == {}  # datasets only
        assert _whole(service, PG.replace("/", "%2F"), kind) == {}  # a colon and slashes (%2F) in its name
    assert service.get("/api/v1/namespaces/etl").status_code == 200  # Marquez's route is unchanged


def test_a_namespace_with_a_slash_in_its_name(service):
    _post(service, [_run_event("j", [("warehouse", "in", ["v"])],
                               ("warehouse", "out", {"v": [("warehouse", "in", "v", "DIRECT", "IDENTITY", False)]}),
                               namespace="team/etl")])
    nodes = _whole(service, "team%2Fetl")
    assert set(nodes) == {"job:team/etl:j", "dataset:warehouse:in", "dataset:warehouse:out"}
    assert set(_whole(service, "team%2Fetl", "column-lineage")) == {"datasetField:warehouse:in:v",
                                                                     "datasetField:warehouse:out:v"}


def test_new_events_show_at_once(service, namespaces):
    assert TRANSFORM in _whole(service, "etl")
    _post(service, [_run_event("transform", [("warehouse", "b", ["x"]), ("warehouse", "g", ["z"])],
                               ("warehouse", "c", {"x": [("warehouse", "g", "z", "DIRECT", "IDENTITY", False)]}),
                               namespace="etl", time="2026-02-01T00:00:00Z")])
    nodes = _whole(service, "etl")
    assert (("dataset:warehouse:g", TRANSFORM)) in _edges(nodes)
    fields = _whole(service, "etl", "column-lineage")
    assert [e["destination"] for e in fields[_field(C, "x")]["inEdges"]] == ["datasetField:warehouse:g:z"]
    assert _field(C, "total") not in fields  # the new schema of c has x only, and no lineage names total
