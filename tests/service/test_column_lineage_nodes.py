"""/column-lineage: which fields are nodes, and what a field with no upstream says, as Marquez's
ColumnLineageService builds its graph from lineage rows (ColumnLineageServiceTest): a field is a node when an
edge of the answer joins it; a field only read is a node with no inputs, the version its consumer read, and its
type from the dataset's schema (the writer's, else the reader's)."""

from __future__ import annotations

from urllib.parse import quote

from tests.service import test_graph
from tests.service.test_graph import PG, _field_edges, _graph, _post, _run_event, _versions

chain = test_graph.chain  # the fixture: a -> t1 -> b -> t2 -> c, t3 reads b too


def _read_version(service, job: str, namespace: str, name: str) -> str:
    runs = service.get(f"/api/v1/namespaces/chain/jobs/{job}/runs").json()["runs"]
    [version] = [v["datasetVersionId"]["version"] for v in runs[0]["inputDatasetVersions"]
                 if (v["datasetVersionId"]["namespace"], v["datasetVersionId"]["name"]) == (namespace, name)]
    return version


def test_a_field_only_ever_read_is_a_node_without_inputs(service, chain):
    a_x, b_x, b_xy = f"datasetField:{PG}:public.a:x", "datasetField:warehouse:b:x", "datasetField:warehouse:b:xy"
    nodes = _graph(service, "column-lineage", b_x)
    assert set(nodes) == {b_x, a_x}
    [a_read] = _versions(service, quote(PG, safe=""), "public.a")  # a has no writer: its READ version
    assert _read_version(service, "t1", PG, "public.a") == a_read
    assert nodes[a_x] == {
        "id": a_x, "type": "DATASET_FIELD",
        "data": {"namespace": PG, "dataset": "public.a", "datasetVersion": a_read, "field": "x",
                 "fieldType": "string",  # the reader's schema: no writer gave one
                 "transformationDescription": None, "transformationType": None, "inputFields": []},
        "inEdges": [], "outEdges": [{"origin": a_x, "destination": b_x}]}
    assert _field_edges(_graph(service, "column-lineage", b_xy)) == {(b_xy, a_x), (b_xy, f"{a_x[:-1]}y")}


def test_an_input_field_takes_the_writers_type_and_the_version_its_consumer_read(service):
    writer = _run_event("w", [("src", "s", ["k"])], ("lake", "orders", {"id": [("src", "s", "k", "DIRECT",
                                                                               "IDENTITY", False)]}))
    writer["outputs"][0]["facets"]["schema"]["fields"] = [{"name": "id", "type": "bigint"},
                                                          {"name": "note", "type": "string"}]
    reader = _run_event("r", [("lake", "orders", ["id", "note"])],
                        ("lake", "report", {"n": [("lake", "orders", "note", "DIRECT", "IDENTITY", False)]}),
                        time="2026-01-01T01:00:00Z")
    reader["inputs"][0]["facets"]["schema"]["fields"] = [{"name": "note", "type": "varchar"}]  # a reader's view
    rewrite = _run_event("w", [("src", "s", ["k"])], ("lake", "orders", {"id": [("src", "s", "k", "DIRECT",
                                                                                "IDENTITY", False)]}),
                         time="2026-01-01T02:00:00Z")  # a newer version, after the report read the first
    rewrite["outputs"][0]["facets"]["schema"] = writer["outputs"][0]["facets"]["schema"]
    _post(service, [writer, reader, rewrite])
    note, n = "datasetField:lake:orders:note", "datasetField:lake:report:n"
    nodes = _graph(service, "column-lineage", n)
    assert set(nodes) == {n, note}  # orders.note has no upstream: a node only as report.n's input
    written, newer = _versions(service, "lake", "orders")
    assert service.get("/api/v1/namespaces/lake/datasets/orders").json()["currentVersion"] == newer
    data = nodes[note]["data"]
    assert (data["fieldType"], data["datasetVersion"], data["inputFields"]) == ("string", written, [])
    assert nodes[n]["data"]["inputFields"][0]["datasetVersion"] == written


def test_a_dataset_answers_with_its_fields_that_have_lineage(service):
    event = _run_event("w", [("src", "s", ["k"])], ("lake", "orders", {"id": [("src", "s", "k", "DIRECT",
                                                                              "IDENTITY", False)]}))
    event["outputs"][0]["facets"]["schema"]["fields"].append({"name": "loaded_at", "type": "timestamp"})
    _post(service, [event])
    nodes = _graph(service, "column-lineage", "dataset:lake:orders")
    assert set(nodes) == {"datasetField:lake:orders:id", "datasetField:src:s:k"}  # loaded_at has no lineage
    assert _graph(service, "column-lineage", "datasetField:lake:orders:loaded_at") == {}
    assert _graph(service, "column-lineage", "job:chain:w") == nodes
    [version] = _versions(service, "lake", "orders")
    assert set(_graph(service, "column-lineage", f"dataset:lake:orders#{version}")) == {
        f"datasetField:lake:orders:id#{version}", f"datasetField:src:s:k#{_versions(service, 'src', 's')[0]}"}
