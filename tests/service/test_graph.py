"""GET /api/v1/lineage and /api/v1/column-lineage, on SQLite and PostgreSQL: the pipeline's events, and small
hand-made chains where depth and direction matter."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import pytest

from lineage_audit.service.graph import lineage_graph, lineage_graph_json
from tests.service.openapi import assert_matches
from tests.service.conftest import post_batches

NS = "data-lineage-audit"
WRITER = "orders.execute_insert_into_hadoop_fs_relation_command.outputs_enriched_orders"


def _dataset(events: list[dict], suffix: str) -> str:
    """The full name of the pipeline dataset whose name ends with ``suffix`` (names hold the run's directory)."""
    names = {d["name"] for e in events for key in ("inputs", "outputs") for d in e.get(key) or ()}
    found = sorted(n for n in names if n.endswith(suffix))
    assert len(found) == 1, (suffix, found)
    return found[0]


def _post(service, events: list[dict]) -> None:
    post_batches(lambda body: service.post("/api/v1/lineage", json=body), events)


def _graph(service, path: str, node_id: str, **params) -> dict[str, dict]:
    response = service.get(f"/api/v1/{path}", params={"nodeId": node_id, **params})
    assert response.status_code == 200, response.text
    nodes = response.json()["graph"]
    by_id = {n["id"]: n for n in nodes}
    assert len(by_id) == len(nodes), "node ids are unique"
    for node in nodes:  # every edge touches its node and ends at a node of the graph
        for edge in node["inEdges"] + node["outEdges"]:
            assert node["id"] in (edge["origin"], edge["destination"])
            assert edge["origin"] in by_id and edge["destination"] in by_id, edge
    return by_id


def _edges(nodes: dict[str, dict]) -> set[tuple[str, str]]:
    return {(e["origin"], e["destination"]) for n in nodes.values() for e in n["inEdges"] + n["outEdges"]}


def _field_edges(nodes: dict[str, dict]) -> set[tuple[str, str]]:
    """(field, input field) pairs: a field's inEdges point to its inputs, each input's outEdges back to it (as
    Marquez has them)."""
    edges = {(e["origin"], e["destination"]) for n in nodes.values() for e in n["inEdges"]}
    assert edges == {(e["destination"], e["origin"]) for n in nodes.values() for e in n["outEdges"]}
    return edges


@pytest.fixture
def pipeline(service, pipeline_events):
    _post(service, pipeline_events)
    return pipeline_events


# -- /lineage ---------------------------------------------------------------------------------

def test_lineage_of_a_dataset_at_depth_0_is_its_writer_with_its_inputs_and_outputs(service, pipeline):
    enriched, raw_orders = _dataset(pipeline, "/outputs/enriched_orders"), _dataset(pipeline, "/raw_orders.jsonl")
    customers, products = _dataset(pipeline, "/outputs/customer_master"), _dataset(pipeline, "/inputs/product_catalog")
    nodes = _graph(service, "lineage", f"dataset:file:{enriched}", depth=0)
    job = f"job:{NS}:{WRITER}"
    inputs = [f"dataset:file:{name}" for name in (customers, products, raw_orders)]
    assert set(nodes) == {job, f"dataset:file:{enriched}", *inputs}
    assert _edges(nodes) == {(i, job) for i in inputs} | {(job, f"dataset:file:{enriched}")}
    writer = nodes[job]
    assert writer["type"] == "JOB" and nodes[f"dataset:file:{enriched}"]["type"] == "DATASET"
    assert [e["origin"] for e in writer["inEdges"]] == sorted(inputs)
    assert writer["data"]["inputs"] == [{"namespace": "file", "name": n} for n in sorted([customers, products,
                                                                                          raw_orders])]
    assert writer["data"]["outputs"] == [{"namespace": "file", "name": enriched}]
    assert writer["data"]["parentJobName"] == "orders"
    assert writer["data"]["latestRun"]["state"] == "COMPLETED"
    data = nodes[f"dataset:file:{enriched}"]["data"]
    assert (data["namespace"], data["name"], data["sourceName"]) == ("file", enriched, "file")
    assert {"name": "net_amount", "type": "double", "tags": [], "description": None} in data["fields"]
    # the same graph from the job's side
    assert _graph(service, "lineage", job, depth=0) == nodes


def test_lineage_depth_counts_job_steps_through_shared_datasets(service, pipeline):
    enriched = f"dataset:file:{_dataset(pipeline, '/outputs/enriched_orders')}"
    jobs_at = {depth: {n[len(f"job:{NS}:"):] for n in _graph(service, "lineage", enriched, depth=depth)
                       if n.startswith("job:")} for depth in (0, 1, 2, 3)}
    assert jobs_at[0] == {WRITER}
    # depth 1: every job sharing a dataset with the writer, readers of the same inputs included (as Marquez):
    # the writer of customer_master, its other reader (financial), the readers of enriched_orders and of
    # product_catalog
    assert {WRITER, "orders.execute_insert_into_hadoop_fs_relation_command.outputs_order_summary",
            "orders.execute_insert_into_hadoop_fs_relation_command.rejects_raw_orders",
            "customers.execute_insert_into_hadoop_fs_relation_command.outputs_customer_master",
            "financial.execute_insert_into_hadoop_fs_relation_command.outputs_processed_transactions",
            "data_quality.execute_insert_into_hadoop_fs_relation_command.outputs_data_quality_report",
            "analytics.execute_insert_into_hadoop_fs_relation_command.outputs_trending_content"} <= jobs_at[1]
    assert not any(j.startswith(("compliance.", "ml_pipeline.", "data_lake_ingestion.")) for j in jobs_at[1])
    # depth 2: through order_summary (ML, the lake) and data_lineage_summary (compliance): one pipeline
    assert {j.split(".")[0] for j in jobs_at[2]} >= {"compliance", "ml_pipeline", "data_lake_ingestion"}
    assert jobs_at[0] < jobs_at[1] < jobs_at[2] <= jobs_at[3]


def test_lineage_default_depth_and_a_job_without_datasets(service, pipeline):
    enriched = f"dataset:file:{_dataset(pipeline, '/outputs/enriched_orders')}"
    assert _graph(service, "lineage", enriched) == _graph(service, "lineage", enriched, depth=20)
    parent = _graph(service, "lineage", f"job:{NS}:orders")  # the application's job: no inputs, no outputs
    assert list(parent) == [f"job:{NS}:orders"]
    assert parent[f"job:{NS}:orders"]["data"]["inputs"] == [] and parent[f"job:{NS}:orders"]["inEdges"] == []


def test_lineage_matches_marquez_lineage_graph_schema(service, pipeline):
    enriched = f"dataset:file:{_dataset(pipeline, '/outputs/enriched_orders')}"
    response = service.get("/api/v1/lineage", params={"nodeId": enriched, "depth": 2})
    assert response.status_code == 200
    body = response.json()
    assert {n["type"] for n in body["graph"]} == {"JOB", "DATASET"}
    _assert_lineage_graph(body)


@pytest.mark.parametrize("node_id", ["foo", "job:", "job:nocolon", "dataset:file", "run:x:y", "datasetField:a:b:c",
                                     ":file:x", "job::x"])
def test_lineage_rejects_malformed_node_ids(service, node_id):
    response = service.get("/api/v1/lineage", params={"nodeId": node_id})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 400
    assert "job:<namespace>:<name> or dataset:<namespace>:<name>" in response.json()["message"]


def test_node_ids_with_too_many_colons_or_a_nul_are_refused(service):
    for path, node_id, reason in (("lineage", "job:" + "a:" * 70 + "b", "more than 64 colons"),
                                  ("column-lineage", "datasetField:" + "a:" * 70 + "b", "more than 64 colons"),
                                  ("lineage", "job:ns:a\x00b", "NUL"), ("column-lineage", "dataset:ns\x00:a", "NUL")):
        response = service.get(f"/api/v1/{path}", params={"nodeId": node_id})
        assert response.status_code == 400, response.text
        assert reason in response.json()["message"]


def test_lineage_bad_parameters_and_unknown_nodes(service, pipeline):
    enriched = f"dataset:file:{_dataset(pipeline, '/outputs/enriched_orders')}"
    for params in ({"nodeId": enriched, "depth": -1}, {"nodeId": enriched, "depth": "two"}, {}):
        response = service.get("/api/v1/lineage", params=params)
        assert response.status_code == 400, (params, response.text)
    for node_id in (f"job:{NS}:no_such_job", "dataset:file:/no/such/dataset", f"job:nowhere:{WRITER}",
                    enriched.replace("dataset:", "job:")):
        response = service.get("/api/v1/lineage", params={"nodeId": node_id})
        assert response.status_code == 404, (node_id, response.text)
        assert response.json() == {"code": 404, "message": response.json()["message"]}


def _run_event(job: str, inputs: list[tuple[str, str, list[str]]], output: tuple[str, str, dict[str, list]],
               namespace: str = "chain", event_type: str = "COMPLETE", time: str = "2026-01-01T00:00:00Z") -> dict:
    """A run of ``job`` reading ``inputs`` ([(namespace, name, fields)]) and writing ``output``: (namespace,
    name, {field: [(input namespace, input name, input field, transformation type, subtype, masking)]})."""
    out_namespace, out_name, lineage = output
    first_sources = next(iter(lineage.values()), [])
    # a dataset-level dependency too (a filter on the first input field), which column lineage leaves out
    dataset_level = [{"namespace": ns, "name": name, "field": f,
                      "transformations": [{"type": "INDIRECT", "subtype": "FILTER"}]}
                     for ns, name, f, *_ in first_sources[:1]]
    return {
        "eventType": event_type, "eventTime": time, "producer": "https://example.com/test",
        "run": {"runId": str(uuid.uuid4())}, "job": {"namespace": namespace, "name": job},
        "inputs": [{"namespace": ns, "name": name, "facets": {"schema": {"fields": [
            {"name": f, "type": "string"} for f in fields]}}} for ns, name, fields in inputs],
        "outputs": [{"namespace": out_namespace, "name": out_name, "facets": {
            "schema": {"fields": [{"name": f, "type": "string"} for f in lineage]},
            "columnLineage": {"fields": {field: {"inputFields": [
                {"namespace": ns, "name": name, "field": f,
                 "transformations": [{"type": t, "subtype": s, "description": f"{t} {s}", "masking": m}]}
                for ns, name, f, t, s, m in sources]} for field, sources in lineage.items()},
                "dataset": dataset_level}}}],
    }


PG = "postgres://db.example:5432"


@pytest.fixture
def chain(service):
    """a (in a namespace with a colon) -> t1 -> b -> t2 -> c, and t3 reads b too."""
    _post(service, [
        _run_event("t1", [(PG, "public.a", ["y", "x"])],
                   ("warehouse", "b", {"x": [(PG, "public.a", "x", "DIRECT", "IDENTITY", False)],
                                       "xy": [(PG, "public.a", "x", "DIRECT", "TRANSFORMATION", False),
                                              (PG, "public.a", "y", "DIRECT", "TRANSFORMATION", True)]})),
        _run_event("t2", [("warehouse", "b", ["x", "xy"])],
                   ("warehouse", "c", {"x": [("warehouse", "b", "x", "DIRECT", "AGGREGATION", False),
                                             ("warehouse", "b", "xy", "INDIRECT", "GROUP_BY", False)]})),
        _run_event("t3", [("warehouse", "b", ["xy"])],
                   ("warehouse", "d", {"z": [("warehouse", "b", "xy", "DIRECT", "IDENTITY", False)]})),
    ])


def test_lineage_of_a_chain_and_namespaces_with_colons(service, chain):
    a, b, c, d = f"dataset:{PG}:public.a", "dataset:warehouse:b", "dataset:warehouse:c", "dataset:warehouse:d"
    t1, t2, t3 = "job:chain:t1", "job:chain:t2", "job:chain:t3"
    assert set(_graph(service, "lineage", c, depth=0)) == {t2, b, c}
    assert set(_graph(service, "lineage", c, depth=1)) == {t1, t2, t3, a, b, c, d}
    nodes = _graph(service, "lineage", a, depth=0)  # a is only read: the graph starts from its reader
    assert set(nodes) == {t1, a, b}
    assert nodes[a]["data"]["namespace"] == PG and nodes[a]["data"]["name"] == "public.a"
    assert _edges(nodes) == {(a, t1), (t1, b)}


def test_lineage_latest_run_has_every_key_of_a_run_without_facets_or_dataset_versions(service, chain):
    """As Marquez's lineage: the latest run is the runs row alone, so facets and dataset versions are empty."""
    job = _graph(service, "lineage", "job:chain:t2", depth=0)["job:chain:t2"]["data"]
    run = service.get(f"/api/v1/jobs/runs/{job['latestRun']['id']}").json()
    assert run["inputDatasetVersions"] and run["outputDatasetVersions"]
    assert job["latestRun"] == {**run, "inputDatasetVersions": [], "outputDatasetVersions": [], "facets": {}}
    assert job["latestRun"]["parentRunUuid"] is None and job["latestRun"]["context"] == {} == job["context"]


def test_lineage_as_dicts_and_as_json_agree(service, chain):
    """The route sends JSON with the datasets' fields as the database wrote them; the dict form parses them."""
    with service.app.state.engine.connect() as conn:
        for node_id in ("job:chain:t2", "dataset:warehouse:b", f"dataset:{PG}:public.a"):
            as_dict = lineage_graph(conn, node_id, 3)
            assert as_dict == json.loads(lineage_graph_json(conn, node_id, 3))
            fields = {n["id"]: [f["name"] for f in n["data"]["fields"]] for n in as_dict["graph"]
                      if n["type"] == "DATASET"}
            assert fields[f"dataset:{PG}:public.a"] == ["y", "x"]  # schema order, not by name


def test_lineage_shows_tags_of_datasets_and_fields(service, chain):
    for path in ("namespaces/warehouse/datasets/c/fields/x/tags/PII", "namespaces/warehouse/datasets/b/tags/gold"):
        assert service.post(f"/api/v1/{path}").status_code == 200
    nodes = _graph(service, "lineage", "job:chain:t2", depth=0)
    assert nodes["dataset:warehouse:c"]["data"]["fields"] == [{"name": "x", "type": "string", "tags": ["PII"],
                                                               "description": None}]
    assert nodes["dataset:warehouse:b"]["data"]["tags"] == ["gold"]
    # b's fields are its writer's (t1's), not those its readers saw
    assert [(f["name"], f["tags"]) for f in nodes["dataset:warehouse:b"]["data"]["fields"]] == [("x", []), ("xy", [])]


def test_lineage_reflects_new_events_at_once(service, chain):
    assert "dataset:warehouse:e" not in _graph(service, "lineage", "job:chain:t2", depth=0)
    # t2 runs again, now also reading e: its current inputs change
    _post(service, [_run_event("t2", [("warehouse", "b", ["x"]), ("warehouse", "e", ["k"])],
                               ("warehouse", "c", {"x": [("warehouse", "b", "x", "DIRECT", "IDENTITY", False)]}),
                               time="2026-01-02T00:00:00Z")])
    nodes = _graph(service, "lineage", "job:chain:t2", depth=0)
    assert set(nodes) == {"job:chain:t2", "dataset:warehouse:b", "dataset:warehouse:c", "dataset:warehouse:e"}
    column = _graph(service, "column-lineage", "datasetField:warehouse:c:x", depth=5)
    assert set(column) == {"datasetField:warehouse:c:x", "datasetField:warehouse:b:x", f"datasetField:{PG}:public.a:x"}


def test_a_dataset_no_job_touches_is_a_graph_of_itself(service):
    _post(service, [{"eventTime": "2026-01-01T00:00:00Z", "producer": "https://example.com/test",
                     "dataset": {"namespace": "warehouse", "name": "lonely", "facets": {"schema": {"fields": [
                         {"name": "id", "type": "int"}]}}}}])
    nodes = _graph(service, "lineage", "dataset:warehouse:lonely")
    assert list(nodes) == ["dataset:warehouse:lonely"]
    assert nodes["dataset:warehouse:lonely"]["data"]["fields"][0]["name"] == "id"
    assert _graph(service, "column-lineage", "dataset:warehouse:lonely") == {}  # no lineage, no field nodes


# -- /column-lineage --------------------------------------------------------------------------

def test_column_lineage_of_a_field_names_its_exact_inputs_and_transformations(service, pipeline):
    enriched, raw_orders = _dataset(pipeline, "/outputs/enriched_orders"), _dataset(pipeline, "/raw_orders.jsonl")
    customers = _dataset(pipeline, "/outputs/customer_master")
    raw_customers = _dataset(pipeline, "/raw_customers.csv")
    node_id = f"datasetField:file:{enriched}:net_amount"
    inputs = {f"datasetField:file:{customers}:segment", f"datasetField:file:{raw_orders}:quantity",
              f"datasetField:file:{raw_orders}:unit_price"}
    # further up, the customers job computed the master's segment from the raw CRM export
    upstream_of_master = f"datasetField:file:{raw_customers}:segment"
    assert set(_graph(service, "column-lineage", node_id)) == {node_id, *inputs, upstream_of_master}
    nodes = _graph(service, "column-lineage", node_id, depth=1)
    assert set(nodes) == {node_id} | inputs  # the FILTER and JOIN inputs of the whole dataset are left out
    assert {n["type"] for n in nodes.values()} == {"DATASET_FIELD"}
    net = nodes[node_id]
    assert net["inEdges"] == [{"origin": node_id, "destination": i} for i in sorted(inputs)]  # field -> its input
    assert net["outEdges"] == []
    for input_id in inputs:
        assert nodes[input_id]["outEdges"] == [{"origin": input_id, "destination": node_id}]
        assert nodes[input_id]["data"]["inputFields"] == []  # beyond the depth asked for
    data = net["data"]
    assert (data["namespace"], data["dataset"], data["field"], data["fieldType"]) == ("file", enriched, "net_amount",
                                                                                       "double")
    assert data["datasetVersion"] and data["transformationType"] == "DIRECT"
    by_field = {(f["dataset"], f["field"]): f for f in data["inputFields"]}
    assert set(by_field) == {(customers, "segment"), (raw_orders, "quantity"), (raw_orders, "unit_price")}
    segment, quantity = by_field[(customers, "segment")], by_field[(raw_orders, "quantity")]
    assert segment["transformationType"] == "INDIRECT"
    assert segment["transformations"] == [{"type": "INDIRECT", "subtype": "CONDITIONAL", "description": "",
                                           "masking": False}]
    assert quantity["transformationType"] == "DIRECT"  # DIRECT wins over the INDIRECT use of the same field
    assert quantity["transformations"] == [
        {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "", "masking": False},
        {"type": "INDIRECT", "subtype": "CONDITIONAL", "description": "", "masking": False}]
    assert by_field[(raw_orders, "unit_price")]["namespace"] == "file"


def test_column_lineage_keeps_masking(service, pipeline):
    processed, raw = _dataset(pipeline, "/outputs/processed_customers"), _dataset(pipeline, "/raw_customers.csv")
    nodes = _graph(service, "column-lineage", f"datasetField:file:{processed}:email_hash", depth=1)
    (email,) = nodes[f"datasetField:file:{processed}:email_hash"]["data"]["inputFields"]
    assert (email["dataset"], email["field"]) == (raw, "email")
    # sha2 of the cleaned e-mail, itself nullif(..., ''): the e-mail decides whether the hash is null
    assert email["transformations"] == [
        {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "", "masking": True},
        {"type": "INDIRECT", "subtype": "CONDITIONAL", "description": "", "masking": True}]


def test_column_lineage_of_a_dataset_and_of_a_job(service, pipeline):
    enriched = _dataset(pipeline, "/outputs/enriched_orders")
    nodes = _graph(service, "column-lineage", f"dataset:file:{enriched}")
    fields = {n["data"]["field"] for n in nodes.values() if n["data"]["dataset"] == enriched}
    assert len(fields) == 25 and {"net_amount", "customer_segment", "order_id", "brand"} <= fields
    for node in nodes.values():
        if node["data"]["dataset"] == enriched:
            assert node["inEdges"], node["id"]  # every output field has lineage in this job
    assert {n["data"]["dataset"].rsplit("/", 1)[1] for n in nodes.values()} == {
        "enriched_orders", "raw_orders.jsonl", "customer_master", "product_catalog",
        "raw_customers.csv"}  # upstream of customer_master, through the customers job
    assert _graph(service, "column-lineage", f"job:{NS}:{WRITER}") == nodes
    # the application's job writes nothing itself: no fields
    assert _graph(service, "column-lineage", f"job:{NS}:orders") == {}


def test_column_lineage_depth_and_downstream(service, chain):
    a_x, a_y, b_x, b_xy, c_x, d_z = (f"datasetField:{PG}:public.a:x", f"datasetField:{PG}:public.a:y",
                                     "datasetField:warehouse:b:x", "datasetField:warehouse:b:xy",
                                     "datasetField:warehouse:c:x", "datasetField:warehouse:d:z")
    assert set(_graph(service, "column-lineage", c_x, depth=1)) == {c_x, b_x, b_xy}
    assert _graph(service, "column-lineage", c_x, depth=0) == _graph(service, "column-lineage", c_x, depth=1)
    nodes = _graph(service, "column-lineage", c_x, depth=2)
    assert set(nodes) == {c_x, b_x, b_xy, a_x, a_y}
    assert _field_edges(nodes) == {(c_x, b_x), (c_x, b_xy), (b_x, a_x), (b_xy, a_x), (b_xy, a_y)}
    (masked,) = [f for f in nodes[b_xy]["data"]["inputFields"] if f["field"] == "y"]
    assert masked["namespace"] == PG and masked["transformations"][0]["masking"] is True
    # upstream only by default: the fields computed from a.x are not there, and a.x has no lineage of its own
    assert _graph(service, "column-lineage", a_x) == {}
    down = _graph(service, "column-lineage", a_x, withDownstream="true")
    assert set(down) == {a_x, b_x, b_xy, c_x, d_z}
    assert _field_edges(down) == {(b_x, a_x), (b_xy, a_x), (c_x, b_x), (c_x, b_xy), (d_z, b_xy)}
    assert set(_graph(service, "column-lineage", a_x, withDownstream="true", depth=1)) == {a_x, b_x, b_xy}
    # from the middle, both ways
    assert set(_graph(service, "column-lineage", b_xy, withDownstream="true", depth=1)) == {b_xy, a_x, a_y, c_x, d_z}
    # a job's output fields
    assert set(_graph(service, "column-lineage", "job:chain:t2", depth=1)) == {c_x, b_x, b_xy}


def test_column_lineage_bad_requests(service, chain):
    for node_id in ("foo", "datasetField:warehouse:b", "datasetField:", "run:a:b"):
        response = service.get("/api/v1/column-lineage", params={"nodeId": node_id})
        assert response.status_code == 400, (node_id, response.text)
        assert "datasetField:<namespace>:<dataset>:<field>" in response.json()["message"]
    for node_id in ("datasetField:warehouse:b:nope", "datasetField:warehouse:zz:x", "dataset:warehouse:zz",
                    "job:chain:nope"):
        response = service.get("/api/v1/column-lineage", params={"nodeId": node_id})
        assert response.status_code == 404, (node_id, response.text)
    response = service.get("/api/v1/column-lineage", params={"nodeId": "dataset:warehouse:b",
                                                             "withDownstream": "maybe"})
    assert response.status_code == 400


# -- the LineageGraph schema of Marquez's openapi.yml ------------------------------------------

def _assert_lineage_graph(body: dict) -> None:
    assert_matches(body, "LineageGraph")
    for node in body["graph"]:  # the file's oneOf cannot tell a Job from a Dataset: each against its own
        assert_matches(node["data"], {"JOB": "Job", "DATASET": "Dataset"}[node["type"]])


# -- /column-lineage at a dataset version -----------------------------------------------------

def _versions(service, namespace: str, name: str) -> list[str]:
    """The dataset's versions, oldest first."""
    body = service.get(f"/api/v1/namespaces/{namespace}/datasets/{name}/versions").json()
    return [v["version"] for v in sorted(body["versions"], key=lambda v: v["createdAt"])]


@pytest.fixture
def rewired(service, chain):
    """The chain, then t1 runs again a day later computing b.x from a.y instead of a.x: a new version of b."""
    _post(service, [_run_event("t1", [(PG, "public.a", ["y", "x"])],
                               ("warehouse", "b", {"x": [(PG, "public.a", "y", "DIRECT", "TRANSFORMATION", False)]}),
                               time="2026-01-02T00:00:00Z")])
    return _versions(service, "warehouse", "b"), _versions(service, "warehouse", "c")


def test_column_lineage_at_a_version_is_the_lineage_as_it_was(service, rewired):
    (b1, b2), (c1,) = rewired
    a_x, a_y = f"datasetField:{PG}:public.a:x", f"datasetField:{PG}:public.a:y"
    now = _graph(service, "column-lineage", "datasetField:warehouse:c:x", depth=5)
    assert _field_edges(now) == {("datasetField:warehouse:c:x", "datasetField:warehouse:b:x"),
                                 ("datasetField:warehouse:c:x", "datasetField:warehouse:b:xy"),
                                 ("datasetField:warehouse:b:x", a_y)}  # b's newest lineage names x only
    # c's only version read b's first version, whose x came from a.x; a is only read: at its READ version
    [a1] = _versions(service, quote(PG, safe=""), "public.a")
    then = _graph(service, "column-lineage", f"datasetField:warehouse:c:x#{c1}", depth=5)
    assert _field_edges(then) == {(f"datasetField:warehouse:c:x#{c1}", f"datasetField:warehouse:b:x#{b1}"),
                                  (f"datasetField:warehouse:c:x#{c1}", f"datasetField:warehouse:b:xy#{b1}"),
                                  (f"datasetField:warehouse:b:x#{b1}", f"{a_x}#{a1}"),
                                  (f"datasetField:warehouse:b:xy#{b1}", f"{a_x}#{a1}"),
                                  (f"datasetField:warehouse:b:xy#{b1}", f"{a_y}#{a1}")}
    data = then[f"datasetField:warehouse:c:x#{c1}"]["data"]
    assert (data["datasetVersion"], data["fieldType"], data["transformationType"]) == (c1, "string", "DIRECT")
    assert [(i["dataset"], i["field"], i["datasetVersion"], [t["subtype"] for t in i["transformations"]])
            for i in data["inputFields"]] == [("b", "x", b1, ["AGGREGATION"]), ("b", "xy", b1, ["GROUP_BY"])]
    assert then[f"{a_x}#{a1}"]["data"]["inputFields"] == [] and then[f"{a_x}#{a1}"]["data"]["datasetVersion"] == a1
    assert _field_edges(_graph(service, "column-lineage", f"dataset:warehouse:b#{b2}", depth=5)) == {
        (f"datasetField:warehouse:b:x#{b2}", f"{a_y}#{a1}")}
    assert set(_graph(service, "column-lineage", f"dataset:warehouse:b#{b1}", depth=0)) == {
        f"datasetField:warehouse:b:x#{b1}", f"datasetField:warehouse:b:xy#{b1}", f"{a_x}#{a1}", f"{a_y}#{a1}"}


def test_column_lineage_at_a_version_refuses_downstream_and_unknown_versions(service, rewired):
    (b1, _b2), (c1,) = rewired
    response = service.get("/api/v1/column-lineage", params={"nodeId": f"dataset:warehouse:b#{b1}",
                                                              "withDownstream": "true"})
    assert response.status_code == 400 and "withDownstream" in response.json()["message"]
    for node_id in (f"dataset:warehouse:b#{uuid.uuid4()}", f"dataset:warehouse:b#{c1}",
                    f"datasetField:warehouse:b:nope#{b1}", f"datasetField:warehouse:nope:x#{b1}"):
        response = service.get("/api/v1/column-lineage", params={"nodeId": node_id})
        assert response.status_code == 404, (node_id, response.text)


def test_column_lineage_reads_the_older_transformation_keys(service):
    """columnLineage 1-0-0: no transformations list, the field's transformationDescription/Type instead."""
    event = _run_event("old", [("src", "s", ["k"])],
                       ("dst", "d", {"k": [("src", "s", "k", "DIRECT", "IDENTITY", False)]}))
    lineage = event["outputs"][0]["facets"]["columnLineage"]
    lineage["dataset"] = []
    lineage["fields"]["k"] = {"inputFields": [{"namespace": "src", "name": "s", "field": "k"}],
                              "transformationDescription": "copied as is", "transformationType": "IDENTITY"}
    _post(service, [event])
    expected = [{"type": "IDENTITY", "subtype": None, "description": "copied as is", "masking": False}]
    [version] = _versions(service, "dst", "d")
    for node_id in ("datasetField:dst:d:k", f"datasetField:dst:d:k#{version}"):
        data = _graph(service, "column-lineage", node_id)[node_id]["data"]
        assert [i["transformations"] for i in data["inputFields"]] == [expected], node_id
        assert (data["transformationType"], data["transformationDescription"]) == ("IDENTITY", "copied as is")
