"""What changed (issue 13): ``/audit/diff/runs`` between two runs of a job and ``/datasets/{name}/diff`` between
two moments, checked as whole JSON bodies on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from lineage_audit.service.derive import version_uuid
from tests.service.test_ingest import PRODUCER, at, run_event

API = "/api/v1"
JOB = "load_orders"
RUN_A, RUN_B = "0b5c1a4e-0000-4000-8000-00000000000a", "0b5c1a4e-0000-4000-8000-00000000000b"
IDENTITY = {"type": "DIRECT", "subtype": "IDENTITY", "description": None, "masking": False}
TRANSFORMED = {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "amount * 2", "masking": False}
AGGREGATED = {"type": "DIRECT", "subtype": "AGGREGATION", "description": "sum(amount)", "masking": False}
FILTERED = {"type": "INDIRECT", "subtype": "FILTER", "description": None, "masking": False}


def table(name: str, fields: dict[str, str], lineage: dict | None = None, rows: int | None = None,
          read_rows: int | None = None) -> dict:
    """A dataset of namespace ``warehouse``: ``lineage`` is ``{field: [(input, input field, [transformation])]}``."""
    facets: dict = {"schema": {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/"
                               "SchemaDatasetFacet.json",
                               "fields": [{"name": n, "type": t} for n, t in fields.items()]}}
    if lineage is not None:
        facets["columnLineage"] = {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/"
                                   "ColumnLineageDatasetFacet.json", "fields": {
                                       field: {"inputFields": [{"namespace": "warehouse", "name": source,
                                                                "field": source_field, "transformations": [
                                                                    {k: v for k, v in t.items() if v is not None}
                                                                    for t in transformations]}
                                                               for source, source_field, transformations in inputs]}
                                       for field, inputs in lineage.items()}}
    entry = {"namespace": "warehouse", "name": name, "facets": facets}
    if rows is not None:
        entry["outputFacets"] = {"outputStatistics": {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/"
                                                      "spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json",
                                                      "rowCount": rows, "size": rows * 10}}
    if read_rows is not None:
        entry["inputFacets"] = {"inputStatistics": {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/"
                                                    "spec/facets/1-0-0/InputStatisticsInputDatasetFacet.json",
                                                    "rowCount": read_rows}}
    return entry


ORDERS = {"id": "int", "amount": "double", "status": "string"}


def first_run(run_id: str = RUN_A, start: float = 0) -> list[dict]:
    inputs = [table("orders", ORDERS, read_rows=1000), table("customers", {"id": "int", "name": "string"})]
    outputs = [table("enriched", {"id": "int", "amount": "double", "name": "string"}, rows=100, lineage={
        "id": [("orders", "id", [IDENTITY]), ("orders", "status", [FILTERED])],
        "amount": [("orders", "amount", [TRANSFORMED])],
        "name": [("customers", "name", [IDENTITY])]}),
        table("rejects", {"id": "int"}, rows=3)]
    return [run_event("START", start, run_id, job=JOB, inputs=inputs),
            run_event("COMPLETE", start + 10, run_id, job=JOB, inputs=inputs, outputs=outputs)]


def second_run(run_id: str = RUN_B, start: float = 100) -> list[dict]:
    inputs = [table("orders", ORDERS, read_rows=1100), table("countries", {"code": "string"})]
    outputs = [table("enriched", {"id": "bigint", "amount": "double", "country": "string"}, rows=120, lineage={
        "id": [("orders", "id", [IDENTITY]), ("orders", "status", [FILTERED])],
        "amount": [("orders", "amount", [AGGREGATED])],
        "country": [("countries", "code", [IDENTITY])]}),
        table("summary", {"total": "double"}, rows=1, lineage={"total": [("orders", "amount", [AGGREGATED])]})]
    return [run_event("START", start, run_id, job=JOB, inputs=inputs),
            run_event("COMPLETE", start + 10, run_id, job=JOB, inputs=inputs, outputs=outputs)]


def post(service, events: list[dict]) -> None:
    response = service.post(f"{API}/lineage", json=events)
    assert response.status_code == 201, response.text


def written(name: str, run_id: str) -> str:
    return version_uuid("warehouse", name, run_id)


def read(name: str) -> str:
    return version_uuid("warehouse", name, "read")


def ids(*names: str) -> list[dict]:
    return [{"namespace": "warehouse", "name": n} for n in names]


def edge(field: str, source: str, source_field: str, transformations: list[dict] | None = None, **changed) -> dict:
    found = {"field": field, "input": {"namespace": "warehouse", "name": source, "field": source_field}}
    return {**found, **({"transformations": transformations} if transformations is not None else changed)}


def nothing() -> dict:
    return {"fields": {"added": [], "removed": [], "retyped": []},
            "columnLineage": {"added": [], "removed": [], "changed": []}}


def entry(name: str, role: str, before: str | None, after: str | None, rows: tuple, changed: bool,
          fields: dict | None = None, lineage: dict | None = None) -> dict:
    body = nothing()
    body["fields"].update(fields or {})
    body["columnLineage"].update(lineage or {})
    return {"namespace": "warehouse", "name": name, "role": role, "fromVersion": before, "toVersion": after, **body,
            "rowCount": {"from": rows[0], "to": rows[1]}, "changed": changed}


def side(run_id: str, start: float, job_version: str | None) -> dict:
    return {"time": at(start), "runId": run_id, "state": "COMPLETED", "jobVersion": job_version,
            "datasetVersion": None}


def job_version(service, run_id: str) -> str:
    return service.get(f"{API}/jobs/runs/{run_id}").json()["jobVersion"]["version"]


def diff_runs(service, before: str, after: str, status: int = 200) -> dict:
    response = service.get(f"{API}/audit/diff/runs", params={"from": before, "to": after})
    assert response.status_code == status, response.text
    return response.json()


# -- two runs ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("arrival", ["in order", "reversed"])
def test_two_runs_of_a_job_differ_in_inputs_outputs_fields_lineage_and_row_counts(service, arrival):
    events = first_run() + second_run()
    post(service, events if arrival == "in order" else events[::-1])
    assert diff_runs(service, RUN_A, RUN_B) == {
        "kind": "runs",
        "from": side(RUN_A, 0, job_version(service, RUN_A)), "to": side(RUN_B, 100, job_version(service, RUN_B)),
        "job": {"namespace": "tests", "name": JOB}, "dataset": None,
        "inputs": {"added": ids("countries"), "removed": ids("customers"), "unchanged": ids("orders")},
        "outputs": {"added": ids("summary"), "removed": ids("rejects"), "unchanged": ids("enriched")},
        "writers": {"added": [], "removed": [], "unchanged": []},
        "datasets": [
            entry("countries", "INPUT", None, read("countries"), (None, None), True,
                  fields={"added": [{"name": "code", "type": "string"}]}),
            entry("customers", "INPUT", read("customers"), None, (None, None), True,
                  fields={"removed": [{"name": "id", "type": "int"}, {"name": "name", "type": "string"}]}),
            entry("enriched", "OUTPUT", written("enriched", RUN_A), written("enriched", RUN_B), (100, 120), True,
                  fields={"added": [{"name": "country", "type": "string"}],
                          "removed": [{"name": "name", "type": "string"}],
                          "retyped": [{"name": "id", "fromType": "int", "toType": "bigint"}]},
                  lineage={"added": [edge("country", "countries", "code", [IDENTITY])],
                           "removed": [edge("name", "customers", "name", [IDENTITY])],
                           "changed": [edge("amount", "orders", "amount", fromTransformations=[TRANSFORMED],
                                            toTransformations=[AGGREGATED])]}),
            entry("orders", "INPUT", read("orders"), read("orders"), (1000, 1100), True),
            entry("rejects", "OUTPUT", written("rejects", RUN_A), None, (3, None), True,
                  fields={"removed": [{"name": "id", "type": "int"}]}),
            entry("summary", "OUTPUT", None, written("summary", RUN_B), (None, 1), True,
                  fields={"added": [{"name": "total", "type": "double"}]},
                  lineage={"added": [edge("total", "orders", "amount", [AGGREGATED])]}),
        ],
        "changed": True}


def test_the_diff_backwards_swaps_added_and_removed(service):
    post(service, first_run() + second_run())
    forward, backward = diff_runs(service, RUN_A, RUN_B), diff_runs(service, RUN_B, RUN_A)
    for part in ("inputs", "outputs"):
        assert backward[part]["added"] == forward[part]["removed"]
        assert backward[part]["removed"] == forward[part]["added"]
    enriched = next(d for d in backward["datasets"] if d["name"] == "enriched")
    assert enriched["fields"]["retyped"] == [{"name": "id", "fromType": "bigint", "toType": "int"}]
    assert enriched["columnLineage"]["changed"] == [edge("amount", "orders", "amount", fromTransformations=[
        AGGREGATED], toTransformations=[TRANSFORMED])]
    assert enriched["rowCount"] == {"from": 120, "to": 100}


def test_identical_runs_have_nothing_changed(service):
    later = "0b5c1a4e-0000-4000-8000-00000000000c"
    post(service, first_run() + first_run(later, 200))
    body = diff_runs(service, RUN_A, later)
    assert body["changed"] is False
    assert body["inputs"] == {"added": [], "removed": [], "unchanged": ids("customers", "orders")}
    assert body["outputs"] == {"added": [], "removed": [], "unchanged": ids("enriched", "rejects")}
    assert [(d["name"], d["changed"], d["fromVersion"], d["toVersion"]) for d in body["datasets"]] == [
        ("customers", False, read("customers"), read("customers")),
        ("enriched", False, written("enriched", RUN_A), written("enriched", later)),
        ("orders", False, read("orders"), read("orders")),
        ("rejects", False, written("rejects", RUN_A), written("rejects", later))]
    assert all(d["fields"] == nothing()["fields"] and d["columnLineage"] == nothing()["columnLineage"]
               for d in body["datasets"])
    assert diff_runs(service, RUN_A, RUN_A)["changed"] is False


def test_an_application_run_diffs_with_the_datasets_of_its_child_runs(service):
    apps = [str(uuid.uuid4()), str(uuid.uuid4())]
    events = []
    for app, child, start in ((apps[0], RUN_A, 0), (apps[1], RUN_B, 100)):
        parent = {"parent": {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/"
                             "ParentRunFacet.json", "run": {"runId": app}, "job": {"namespace": "tests",
                                                                                   "name": "app"}}}
        children = first_run(child, start) if app == apps[0] else second_run(child, start)
        for event in children:
            event["run"]["facets"] = parent
            event["job"]["name"] = f"app.{JOB}"
        events += [run_event("START", start, app, job="app"), *children,
                   run_event("COMPLETE", start + 20, app, job="app")]
    post(service, events)
    body = diff_runs(service, *apps)
    assert body["job"] == {"namespace": "tests", "name": "app"}
    assert body["inputs"] == {"added": ids("countries"), "removed": ids("customers"), "unchanged": ids("orders")}
    assert body["outputs"] == {"added": ids("summary"), "removed": ids("rejects"), "unchanged": ids("enriched")}
    children = diff_runs(service, RUN_A, RUN_B)
    assert body["datasets"] == children["datasets"] and body["changed"] is True


def test_runs_of_different_jobs_unknown_runs_and_bad_ids(service):
    other = str(uuid.uuid4())
    post(service, first_run() + [run_event("START", 5, other, job="something_else")])
    assert diff_runs(service, RUN_A, other, 400) == {
        "code": 400, "message": f"runs of different jobs: '{RUN_A}' is a run of '{JOB}', '{other}' of "
                                "'something_else'"}
    unknown = str(uuid.uuid4())
    assert diff_runs(service, RUN_A, unknown, 404) == {"code": 404, "message": f"Run '{unknown}' (to) not found."}
    assert diff_runs(service, unknown, RUN_A, 404)["message"] == f"Run '{unknown}' (from) not found."
    assert diff_runs(service, "nope", RUN_A, 400) == {"code": 400, "message": "from: 'nope' is not a UUID"}
    response = service.get(f"{API}/audit/diff/runs", params={"from": RUN_A})
    assert response.status_code == 400 and response.json()["field"] == "to"


# -- a dataset between two moments ----------------------------------------------------------------

def diff_dataset(service, name: str, status: int = 200, **params) -> dict:
    response = service.get(f"{API}/namespaces/warehouse/datasets/{name}/diff", params=params)
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
def two_writes(service):
    """enriched written by RUN_A (complete at 10 s) and RUN_B (started at 100 s, complete at 110 s)."""
    post(service, first_run() + second_run())
    return service


def test_a_dataset_between_two_moments(two_writes):
    body = diff_dataset(two_writes, "enriched", **{"from": at(50), "to": at(200)})
    assert body == {
        "kind": "dataset",
        "from": {"time": at(50), "runId": RUN_A, "state": "COMPLETED", "jobVersion": job_version(two_writes, RUN_A),
                 "datasetVersion": written("enriched", RUN_A)},
        "to": {"time": at(200), "runId": RUN_B, "state": "COMPLETED", "jobVersion": job_version(two_writes, RUN_B),
               "datasetVersion": written("enriched", RUN_B)},
        "job": None, "dataset": {"namespace": "warehouse", "name": "enriched"},
        "inputs": {"added": ids("countries"), "removed": ids("customers"), "unchanged": ids("orders")},
        "outputs": {"added": [], "removed": [], "unchanged": []},
        "writers": {"added": [], "removed": [], "unchanged": [{"namespace": "tests", "name": JOB}]},
        "datasets": [entry(
            "enriched", "OUTPUT", written("enriched", RUN_A), written("enriched", RUN_B), (100, 120), True,
            fields={"added": [{"name": "country", "type": "string"}], "removed": [{"name": "name", "type": "string"}],
                    "retyped": [{"name": "id", "fromType": "int", "toType": "bigint"}]},
            lineage={"added": [edge("country", "countries", "code", [IDENTITY])],
                     "removed": [edge("name", "customers", "name", [IDENTITY])],
                     "changed": [edge("amount", "orders", "amount", fromTransformations=[TRANSFORMED],
                                      toTransformations=[AGGREGATED])]})],
        "changed": True}


def test_a_run_still_running_at_the_moment_has_not_made_its_version_current(two_writes):
    """At 105 s RUN_B has started (its inputs are the writer's) but not completed: RUN_A's version is current."""
    body = diff_dataset(two_writes, "enriched", **{"from": at(50), "to": at(105)})
    assert body["to"] == {"time": at(105), "runId": RUN_A, "state": "COMPLETED",
                          "jobVersion": job_version(two_writes, RUN_A), "datasetVersion": written("enriched", RUN_A)}
    assert body["writers"]["unchanged"] == [{"namespace": "tests", "name": JOB}]
    assert body["inputs"] == {"added": ids("countries"), "removed": ids("customers"), "unchanged": ids("orders")}
    [dataset] = body["datasets"]
    assert (dataset["fields"], dataset["columnLineage"], dataset["rowCount"]) == (
        nothing()["fields"], nothing()["columnLineage"], {"from": 100, "to": 100})
    assert dataset["changed"] is False and body["changed"] is True  # its writer reads other datasets now


def test_a_dataset_that_did_not_exist_at_from_is_all_added(two_writes):
    body = diff_dataset(two_writes, "summary", **{"from": at(50)})  # to: now
    assert body["from"] == {"time": at(50), "runId": None, "state": None, "jobVersion": None,
                            "datasetVersion": None}
    assert body["to"]["datasetVersion"] == written("summary", RUN_B) and body["to"]["runId"] == RUN_B
    assert body["writers"] == {"added": [{"namespace": "tests", "name": JOB}], "removed": [], "unchanged": []}
    assert body["inputs"] == {"added": ids("countries", "orders"), "removed": [], "unchanged": []}
    assert body["datasets"] == [entry("summary", "OUTPUT", None, written("summary", RUN_B), (None, 1), True,
                                      fields={"added": [{"name": "total", "type": "double"}]},
                                      lineage={"added": [edge("total", "orders", "amount", [AGGREGATED])]})]


def test_a_dataset_only_read_has_its_read_version(two_writes):
    body = diff_dataset(two_writes, "orders", **{"from": at(5), "to": at(150)})
    assert body["writers"] == {"added": [], "removed": [], "unchanged": []}
    assert body["datasets"] == [entry("orders", "INPUT", read("orders"), read("orders"), (None, None), False)]
    assert body["changed"] is False


def test_a_dataset_unknown_or_not_yet_existing_and_bad_moments(two_writes):
    assert diff_dataset(two_writes, "nothing", 404, **{"from": at(0)}) == {
        "code": 404, "message": "Dataset 'nothing' not found in namespace 'warehouse'."}
    assert diff_dataset(two_writes, "summary", 404, **{"from": at(0), "to": at(50)}) == {
        "code": 404, "message": f"Dataset 'summary' did not exist in namespace 'warehouse' at {at(50)}."}
    assert diff_dataset(two_writes, "enriched", 400, **{"from": "yesterday"}) == {
        "code": 400, "message": "from: 'yesterday' is not an ISO 8601 timestamp (such as 2026-12-07T10:00:00Z)"}
    assert diff_dataset(two_writes, "enriched", 400, **{"from": at(0), "to": "2026-13-01"})["message"] == (
        "to: '2026-13-01' is not an ISO 8601 timestamp (such as 2026-12-07T10:00:00Z)")
    # a naive moment is UTC, an offset is honoured
    naive = diff_dataset(two_writes, "enriched", **{"from": "2026-03-01T12:00:50", "to": "2026-03-01T13:01:45+01:00"})
    assert naive["from"]["time"] == at(50) and naive["to"]["time"] == at(105)


def test_a_dataset_name_with_slashes_encoded_or_not(service):
    run_id = str(uuid.uuid4())
    out = {**table("x", {"id": "int"}, rows=2), "name": "/data/out"}
    post(service, [run_event("START", 0, run_id, job=JOB), run_event("COMPLETE", 5, run_id, job=JOB, outputs=[out])])
    for path in ("%2Fdata%2Fout", "/data/out"):
        response = service.get(f"{API}/namespaces/warehouse/datasets/{path}/diff", params={"from": at(0)})
        assert response.status_code == 200, (path, response.text)
        assert response.json()["datasets"][0]["rowCount"] == {"from": None, "to": 2}


def test_a_run_that_failed_after_completing_made_its_version_current_until_then(two_writes):
    post(two_writes, [run_event("FAIL", 300, RUN_B, job=JOB)])
    then = diff_dataset(two_writes, "enriched", **{"from": at(50), "to": at(200)})
    assert then["to"]["state"] == "COMPLETED" and then["to"]["datasetVersion"] == written("enriched", RUN_B)
    now = diff_dataset(two_writes, "enriched", **{"from": at(50)})  # RUN_B failed: RUN_A's version is current
    assert (now["to"]["runId"], now["to"]["datasetVersion"]) == (RUN_A, written("enriched", RUN_A))
    assert now["datasets"][0]["fields"] == nothing()["fields"] and now["datasets"][0]["changed"] is False


def test_a_dataset_event_makes_the_current_version_from_its_time(two_writes):
    event = {"eventTime": at(150), "producer": PRODUCER,
             "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
             "dataset": table("enriched", {"id": "bigint", "amount": "decimal(10,2)"})}
    post(two_writes, [event])
    versions = two_writes.get(f"{API}/namespaces/warehouse/datasets/enriched/versions").json()["versions"]
    [declared] = [v["version"] for v in versions if v["createdByRun"] is None]
    body = diff_dataset(two_writes, "enriched", **{"from": at(120), "to": at(160)})
    assert body["from"]["datasetVersion"] == written("enriched", RUN_B)
    assert body["to"] == {"time": at(160), "runId": None, "state": None, "jobVersion": None,
                          "datasetVersion": declared}
    assert body["datasets"] == [entry(
        "enriched", "OUTPUT", written("enriched", RUN_B), declared, (120, None), True,
        fields={"removed": [{"name": "country", "type": "string"}],
                "retyped": [{"name": "amount", "fromType": "double", "toType": "decimal(10,2)"}]},
        lineage={"removed": [edge("amount", "orders", "amount", [AGGREGATED]),
                             edge("country", "countries", "code", [IDENTITY]),
                             edge("id", "orders", "id", [IDENTITY]), edge("id", "orders", "status", [FILTERED])]})]
    # the job still writes it: its writer and inputs are unchanged
    assert body["writers"]["unchanged"] == [{"namespace": "tests", "name": JOB}]


def test_a_dataset_named_diff_is_still_read_with_its_slashes_encoded(service):
    run_id = str(uuid.uuid4())
    out = {**table("x", {"id": "int"}), "name": "/data/diff"}
    post(service, [run_event("START", 0, run_id, job=JOB), run_event("COMPLETE", 5, run_id, job=JOB, outputs=[out])])
    response = service.get(f"{API}/namespaces/warehouse/datasets/%2Fdata%2Fdiff")
    assert response.status_code == 200 and response.json()["name"] == "/data/diff"
    # raw slashes: the diff of "/data"
    assert service.get(f"{API}/namespaces/warehouse/datasets//data/diff", params={"from": at(0)}).json() == {
        "code": 404, "message": "Dataset '/data' not found in namespace 'warehouse'."}
