"""Marquez's write API beyond ingest, on SQLite and PostgreSQL: soft deletes (datasets, jobs, namespaces)
and their undelete by a new event, tags on jobs and their removal, the older (pre-OpenLineage) writes of
sources, datasets, jobs and runs, and the job lists' ``lastRunStates`` filter and order."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from tests.service.test_ingest import dataset, run_event
from tests.service.test_read_api import conforms

API = "/api/v1"
NS = "tests"


def enc(name: str) -> str:
    return quote(name, safe="")


def post(service, *events: dict) -> None:
    response = service.post(f"{API}/lineage", json=list(events))
    assert response.status_code == 201, response.text


@pytest.fixture
def chain(service):
    """``extract`` reads /raw and writes /clean (with column lineage); ``report`` reads /clean, writes /report."""
    lineage = {"_producer": "p", "_schemaURL": "s", "fields": {"id": {"inputFields": [
        {"namespace": "file", "name": "/raw", "field": "id"}]}}}
    post(service,
         run_event("COMPLETE", 10, job="extract", inputs=[dataset("/raw")],
                   outputs=[dataset("/clean", columnLineage=lineage)]),
         run_event("COMPLETE", 20, job="report", inputs=[dataset("/clean")], outputs=[dataset("/report")]))
    return service


def names(service, path: str, key: str, **params) -> list[str]:
    response = service.get(API + path, params=params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()[key]]


def graph_ids(service, path: str, node_id: str, **params) -> set[str]:
    response = service.get(API + path, params={"nodeId": node_id, **params})
    assert response.status_code == 200, response.text
    return {node["id"] for node in response.json()["graph"]}


# -- soft delete ------------------------------------------------------------------------------

def test_a_deleted_dataset_answers_as_it_was_then_is_gone_from_reads(chain):
    before = chain.get(f"{API}/namespaces/file/datasets/{enc('/clean')}").json()
    deleted = chain.delete(f"{API}/namespaces/file/datasets/{enc('/clean')}")
    assert deleted.status_code == 200
    assert conforms(deleted.json(), "Dataset") == before
    missing = chain.get(f"{API}/namespaces/file/datasets/{enc('/clean')}")
    assert missing.status_code == 404 and missing.json()["message"] == (
        "Dataset '/clean' not found in namespace 'file'.")
    assert chain.get(f"{API}/namespaces/file/datasets/{enc('/clean')}/versions").status_code == 404
    assert chain.post(f"{API}/namespaces/file/datasets/{enc('/clean')}/tags/PII").status_code == 404
    assert chain.delete(f"{API}/namespaces/file/datasets/{enc('/clean')}").status_code == 404
    listing = chain.get(f"{API}/namespaces/file/datasets").json()
    assert [d["name"] for d in listing["datasets"]] == ["/raw", "/report"] and listing["totalCount"] == 2
    assert chain.get(f"{API}/search", params={"q": "clean"}).json() == {"totalCount": 0, "results": []}


def test_a_deleted_dataset_leaves_the_lineage_graphs(chain):
    assert graph_ids(chain, "/lineage", "job:tests:extract", depth=5) == {
        "job:tests:extract", "job:tests:report", "dataset:file:/raw", "dataset:file:/clean", "dataset:file:/report"}
    assert graph_ids(chain, "/column-lineage", "dataset:file:/raw", withDownstream="true") == {
        "datasetField:file:/raw:id", "datasetField:file:/clean:id"}
    assert chain.delete(f"{API}/namespaces/file/datasets/{enc('/clean')}").status_code == 200
    # the walk no longer goes through /clean: extract and report are not neighbours any more
    assert graph_ids(chain, "/lineage", "job:tests:extract", depth=5) == {"job:tests:extract", "dataset:file:/raw"}
    assert chain.get(f"{API}/lineage", params={"nodeId": "dataset:file:/clean"}).status_code == 404
    assert chain.get(f"{API}/column-lineage", params={"nodeId": "dataset:file:/clean"}).status_code == 404
    # /raw's fields lead only to /clean's: no edge is left, so no field is a node (as in Marquez)
    assert graph_ids(chain, "/column-lineage", "dataset:file:/raw", withDownstream="true") == set()
    assert graph_ids(chain, f"/namespaces/{NS}/lineage", "") == {
        "job:tests:extract", "job:tests:report", "dataset:file:/raw", "dataset:file:/report"}


def test_a_new_event_naming_a_deleted_dataset_brings_it_back(chain):
    chain.delete(f"{API}/namespaces/file/datasets/{enc('/clean')}")
    chain.delete(f"{API}/namespaces/file/datasets/{enc('/raw')}")
    post(chain, run_event("COMPLETE", 30, job="other", outputs=[dataset("/clean")]))
    assert names(chain, "/namespaces/file/datasets", "datasets") == ["/clean", "/report"]
    back = chain.get(f"{API}/namespaces/file/datasets/{enc('/clean')}")
    assert back.status_code == 200 and back.json()["deleted"] is False
    assert "job:tests:extract" in graph_ids(chain, "/lineage", "dataset:file:/clean", depth=1)


def _dropped(t: int) -> dict:
    return run_event("COMPLETE", t, job="drop_table", outputs=[dataset("/clean", lifecycleStateChange={
        "_producer": "p", "_schemaURL": "s", "lifecycleStateChange": "DROP"})])


@pytest.mark.parametrize("order", ["drop last", "drop first"])
def test_a_dataset_whose_newest_version_says_drop_is_deleted(chain, order):
    """``lifecycleStateChange: DROP`` deletes the dataset; a newer write brings it back, an older one does not."""
    rewritten = run_event("COMPLETE", 50, job="rebuild", outputs=[dataset("/clean")])
    post(chain, _dropped(40))
    assert chain.get(f"{API}/namespaces/file/datasets/{enc('/clean')}").status_code == 404
    assert names(chain, "/namespaces/file/datasets", "datasets") == ["/raw", "/report"]
    if order == "drop first":  # an older write arriving after the drop leaves it deleted
        post(chain, run_event("COMPLETE", 35, job="late", outputs=[dataset("/clean")]))
        assert chain.get(f"{API}/namespaces/file/datasets/{enc('/clean')}").status_code == 404
    post(chain, rewritten)
    back = chain.get(f"{API}/namespaces/file/datasets/{enc('/clean')}")
    assert back.status_code == 200 and back.json()["deleted"] is False
    assert back.json()["lastLifecycleState"] is None


def test_a_deleted_job_answers_as_it_was_then_is_gone_until_a_new_event(chain):
    before = chain.get(f"{API}/namespaces/{NS}/jobs/report").json()
    deleted = chain.delete(f"{API}/namespaces/{NS}/jobs/report")
    assert deleted.status_code == 200 and conforms(deleted.json(), "Job") == before
    missing = chain.get(f"{API}/namespaces/{NS}/jobs/report")
    assert missing.status_code == 404 and missing.json()["message"] == "Job 'report' not found in namespace 'tests'."
    assert chain.get(f"{API}/namespaces/{NS}/jobs/report/runs").status_code == 404
    assert chain.delete(f"{API}/namespaces/{NS}/jobs/report").status_code == 404
    assert names(chain, f"/namespaces/{NS}/jobs", "jobs") == ["extract"]
    assert names(chain, "/jobs", "jobs") == ["extract"]
    assert chain.get(f"{API}/jobs", params={"limit": 0}).json()["totalCount"] == 1
    assert chain.get(f"{API}/search", params={"q": "report"}).json()["results"] == [
        {"type": "DATASET", "name": "/report", "updatedAt": "2026-03-01T12:00:20Z", "namespace": "file",
         "nodeId": "dataset:file:/report"}]
    assert graph_ids(chain, "/lineage", "dataset:file:/report", depth=3) == {"dataset:file:/report"}
    assert chain.get(f"{API}/lineage", params={"nodeId": "job:tests:report"}).status_code == 404
    post(chain, run_event("START", 40, job="report"))
    assert names(chain, f"/namespaces/{NS}/jobs", "jobs") == ["report", "extract"]
    assert chain.get(f"{API}/namespaces/{NS}/jobs/report").json()["latestRun"]["state"] == "RUNNING"


def test_a_deleted_namespace_is_hidden_with_its_jobs_and_datasets(chain):
    before = chain.get(f"{API}/namespaces/file").json()
    assert before["isHidden"] is False
    deleted = chain.delete(f"{API}/namespaces/file")
    assert deleted.status_code == 200 and conforms(deleted.json(), "Namespace") == before
    hidden = chain.get(f"{API}/namespaces/file").json()
    assert hidden["isHidden"] is True and {**hidden, "isHidden": False} == before
    assert {n["name"]: n["isHidden"] for n in chain.get(f"{API}/namespaces").json()["namespaces"]} == {
        "file": True, "tests": False}
    assert chain.get(f"{API}/namespaces/file/datasets").json() == {"datasets": [], "totalCount": 0}
    assert chain.delete(f"{API}/namespaces/{NS}").status_code == 200
    assert chain.get(f"{API}/jobs").json() == {"jobs": [], "totalCount": 0}
    assert chain.delete(f"{API}/namespaces/nowhere").status_code == 404
    # an event naming the namespace undeletes it, and the datasets it names
    post(chain, run_event("COMPLETE", 50, job="extract", inputs=[dataset("/raw")]))
    assert chain.get(f"{API}/namespaces/file").json()["isHidden"] is False
    assert names(chain, "/namespaces/file/datasets", "datasets") == ["/raw"]
    assert names(chain, f"/namespaces/{NS}/jobs", "jobs") == ["extract"]
    # as does a PUT of the namespace
    chain.delete(f"{API}/namespaces/file")
    assert chain.put(f"{API}/namespaces/file", json={"ownerName": "me"}).json()["isHidden"] is False


# -- tags -------------------------------------------------------------------------------------

def test_tags_on_a_job(chain):
    tagged = chain.post(f"{API}/namespaces/{NS}/jobs/extract/tags/DAILY")
    assert tagged.status_code == 200 and conforms(tagged.json(), "Job")["tags"] == ["DAILY"]
    assert chain.post(f"{API}/namespaces/{NS}/jobs/extract/tags/CRITICAL").json()["tags"] == ["CRITICAL", "DAILY"]
    assert chain.post(f"{API}/namespaces/{NS}/jobs/extract/tags/DAILY").json()["tags"] == ["CRITICAL", "DAILY"]
    assert chain.get(f"{API}/namespaces/{NS}/jobs/extract").json()["tags"] == ["CRITICAL", "DAILY"]
    assert {j["name"]: j["tags"] for j in chain.get(f"{API}/jobs").json()["jobs"]} == {
        "extract": ["CRITICAL", "DAILY"], "report": []}
    assert [t["name"] for t in chain.get(f"{API}/tags").json()["tags"]] == ["CRITICAL", "DAILY"]
    removed = chain.delete(f"{API}/namespaces/{NS}/jobs/extract/tags/DAILY")
    assert removed.status_code == 200 and conforms(removed.json(), "Job")["tags"] == ["CRITICAL"]
    assert chain.delete(f"{API}/namespaces/{NS}/jobs/extract/tags/DAILY").json()["tags"] == ["CRITICAL"]
    assert chain.post(f"{API}/namespaces/{NS}/jobs/nothing/tags/DAILY").status_code == 404
    assert chain.delete(f"{API}/namespaces/{NS}/jobs/nothing/tags/DAILY").status_code == 404


def test_removing_tags_from_a_dataset_and_a_field(chain):
    path = f"{API}/namespaces/file/datasets/{enc('/clean')}"
    chain.post(f"{path}/tags/PII")
    chain.post(f"{path}/tags/GOLD")
    chain.post(f"{path}/fields/id/tags/PII")
    removed = chain.delete(f"{path}/tags/PII")
    assert removed.status_code == 200 and conforms(removed.json(), "Dataset")["tags"] == ["GOLD"]
    assert {f["name"]: f["tags"] for f in removed.json()["fields"]}["id"] == ["PII"]  # the field keeps its tag
    lower = chain.post(f"{path}/fields/amount/tags/money")  # a field's tag is upper-cased, as in Marquez
    assert {f["name"]: f["tags"] for f in lower.json()["fields"]} == {"id": ["PII"], "amount": ["MONEY"]}
    chain.delete(f"{path}/fields/amount/tags/Money")
    field = chain.delete(f"{path}/fields/id/tags/PII")
    assert field.status_code == 200 and {f["name"]: f["tags"] for f in field.json()["fields"]} == {
        "id": [], "amount": []}
    assert field.json()["tags"] == ["GOLD"]
    assert chain.delete(f"{path}/tags/NEVER").json()["tags"] == ["GOLD"]
    missing = chain.delete(f"{path}/fields/no_such_field/tags/PII")
    assert missing.status_code == 404 and "no_such_field" in missing.json()["message"]
    assert chain.delete(f"{API}/namespaces/file/datasets/{enc('/none')}/tags/GOLD").status_code == 404
    raw = chain.delete(f"{API}/namespaces/file/datasets//clean/tags/GOLD")  # bare slashes
    assert raw.status_code == 200 and raw.json()["tags"] == []


# -- lists ------------------------------------------------------------------------------------

def test_job_lists_newest_updated_first_and_filtered_by_the_latest_runs_state(service):
    post(service, run_event("COMPLETE", 10, job="a_done"), run_event("FAIL", 20, job="b_failed"),
         run_event("START", 30, job="c_running"), run_event("COMPLETE", 5, job="d_failed_later"),
         run_event("FAIL", 40, job="d_failed_later"))
    post(service, {"eventTime": "2026-03-01T12:00:25Z", "producer": "p", "job": {"namespace": NS, "name": "e_no_run"}})
    assert names(service, "/jobs", "jobs") == ["d_failed_later", "c_running", "e_no_run", "b_failed", "a_done"]
    failed = service.get(f"{API}/namespaces/{NS}/jobs", params={"lastRunStates": "FAILED"}).json()
    # jobs without runs are kept, and totalCount counts every job, as in Marquez
    assert [j["name"] for j in failed["jobs"]] == ["d_failed_later", "e_no_run", "b_failed"]
    assert failed["totalCount"] == 5
    assert names(service, "/jobs", "jobs", lastRunStates=["COMPLETED", "RUNNING"]) == [
        "c_running", "e_no_run", "a_done"]
    assert names(service, "/jobs", "jobs", lastRunStates=["completed"], limit=1, offset=1) == ["a_done"]
    bad = service.get(f"{API}/jobs", params={"lastRunStates": "DONE"})
    assert bad.status_code == 400 and bad.json()["message"].startswith("lastRunStates: unknown state 'DONE'")


def test_column_lineage_is_null_for_a_dataset_without_any(chain):
    listed = {d["name"]: d["columnLineage"] for d in chain.get(f"{API}/namespaces/file/datasets").json()["datasets"]}
    assert listed == {"/raw": None, "/report": None, "/clean": [{"name": "id", "inputFields": [
        {"namespace": "file", "dataset": "/raw", "field": "id", "transformationDescription": None,
         "transformationType": None, "transformations": [
             {"type": None, "subtype": None, "description": None, "masking": False}]}]}]}
    assert conforms(chain.get(f"{API}/namespaces/file/datasets/{enc('/raw')}").json(), "Dataset")[
        "columnLineage"] is None


# -- Marquez's older write API ----------------------------------------------------------------

def test_put_a_source(service):
    body = {"type": "postgresql", "connectionUrl": "jdbc:postgresql://db:5432/shop", "description": "Shop"}
    created = service.put(f"{API}/sources/shop", json=body)
    assert created.status_code == 200
    stored = conforms(created.json(), "Source")
    assert {k: stored[k] for k in ("name", "type", "connectionUrl", "description")} == {
        "name": "shop", "type": "POSTGRESQL", "connectionUrl": "jdbc:postgresql://db:5432/shop", "description": "Shop"}
    assert service.get(f"{API}/sources/shop").json() == stored
    updated = service.put(f"{API}/sources/shop", json={**body, "connectionUrl": "jdbc:postgresql://db2/shop"}).json()
    assert updated["connectionUrl"] == "jdbc:postgresql://db2/shop" and updated["createdAt"] == stored["createdAt"]
    assert service.put(f"{API}/sources/shop", json={"type": "POSTGRESQL"}).status_code == 400


def test_put_a_dataset_as_a_dataset_event(service):
    service.put(f"{API}/namespaces/shop", json={"ownerName": "me"})
    service.put(f"{API}/sources/shop-db", json={"type": "POSTGRESQL", "connectionUrl": "postgresql://db/shop"})
    body = {"type": "DB_TABLE", "physicalName": "public.orders", "sourceName": "shop-db", "description": "Orders",
            "fields": [{"name": "id", "type": "INTEGER"}, {"name": "email", "type": "VARCHAR", "tags": ["PII"]}],
            "tags": ["GOLD"]}
    created = service.put(f"{API}/namespaces/shop/datasets/public.orders", json=body)
    assert created.status_code == 200, created.text
    dataset = conforms(created.json(), "Dataset")
    assert {k: dataset[k] for k in ("name", "type", "sourceName", "description", "tags", "columnLineage")} == {
        "name": "public.orders", "type": "DB_TABLE", "sourceName": "shop-db", "description": "Orders",
        "tags": ["GOLD"], "columnLineage": None}
    assert [(f["name"], f["type"], f["tags"]) for f in dataset["fields"]] == [
        ("id", "INTEGER", []), ("email", "VARCHAR", ["PII"])]
    assert service.get(f"{API}/namespaces/shop/datasets/public.orders").json() == dataset
    stream = service.put(f"{API}/namespaces/shop/datasets/clicks", json={
        "type": "STREAM", "physicalName": "clicks", "sourceName": "shop-db", "fields": [],
        "schemaLocation": "http://registry/clicks"}).json()
    assert stream["type"] == "STREAM" and stream["fields"] == []
    # the write is in the audit trail, as the DatasetEvent it was recorded as
    events = service.get(f"{API}/events/lineage").json()["events"]
    assert sorted(e["dataset"]["name"] for e in events) == ["clicks", "public.orders"]
    assert service.put(f"{API}/namespaces/shop/datasets/x", json={**body, "sourceName": "nope"}).json() == {
        "code": 404, "message": "Source 'nope' not found."}
    assert service.put(f"{API}/namespaces/nowhere/datasets/x", json=body).status_code == 404
    assert service.put(f"{API}/namespaces/shop/datasets/x", json={"type": "DB_TABLE"}).status_code == 400


def test_put_a_job_as_a_job_event(chain):
    body = {"type": "BATCH", "inputs": [{"namespace": "file", "name": "/clean"}],
            "outputs": [{"namespace": "file", "name": "/audit"}], "location": "https://git.example.com/audit.py",
            "description": "Audits the clean data"}
    assert chain.put(f"{API}/namespaces/{NS}/jobs/audit", json=body).json() == {
        "code": 404, "message": "Dataset '/audit' not found in namespace 'file'."}
    post(chain, {"eventTime": "2026-03-01T12:00:30Z", "producer": "p", "dataset": dataset("/audit")})
    created = chain.put(f"{API}/namespaces/{NS}/jobs/audit", json=body)
    assert created.status_code == 200, created.text
    job = conforms(created.json(), "Job")
    assert {k: job[k] for k in ("name", "type", "location", "description", "inputs", "outputs", "latestRun")} == {
        "name": "audit", "type": "BATCH", "location": "https://git.example.com/audit.py",
        "description": "Audits the clean data", "inputs": [{"namespace": "file", "name": "/clean"}],
        "outputs": [{"namespace": "file", "name": "/audit"}], "latestRun": None}
    assert "job:tests:audit" in graph_ids(chain, "/lineage", "dataset:file:/audit", depth=1)
    assert chain.put(f"{API}/namespaces/nowhere/jobs/audit", json=body).status_code == 404


def test_a_run_made_and_moved_by_the_older_api(chain):
    run_id = str(uuid.uuid4())
    created = chain.post(f"{API}/namespaces/{NS}/jobs/report/runs", json={
        "id": run_id, "nominalStartTime": "2026-03-02T00:00:00Z", "nominalEndTime": "2026-03-03T00:00:00Z",
        "args": {"email": "me@example.com", "retries": "1"}})
    assert created.status_code == 201, created.text
    assert created.headers["location"].endswith(f"/api/v1/jobs/runs/{run_id}")
    run = conforms(created.json(), "Run")
    assert {k: run[k] for k in ("id", "state", "startedAt", "endedAt", "nominalStartTime", "nominalEndTime",
                                "args")} == {
        "id": run_id, "state": "NEW", "startedAt": None, "endedAt": None, "nominalStartTime": "2026-03-02T00:00:00Z",
        "nominalEndTime": "2026-03-03T00:00:00Z", "args": {"email": "me@example.com", "retries": "1"}}
    job = chain.get(f"{API}/namespaces/{NS}/jobs/report").json()
    assert job["latestRun"]["id"] == run_id and [r["id"] for r in job["latestRuns"]][0] == run_id
    assert chain.get(f"{API}/namespaces/{NS}/jobs/report/runs").json()["runs"][0]["id"] == run_id
    started = chain.post(f"{API}/jobs/runs/{run_id}/start", params={"at": "2026-03-02T01:00:00Z"})
    assert started.status_code == 200 and conforms(started.json(), "Run")["state"] == "RUNNING"
    assert started.json()["startedAt"] == "2026-03-02T01:00:00Z"
    done = chain.post(f"{API}/jobs/runs/{run_id}/complete", params={"at": "2026-03-02T01:00:30Z"}).json()
    assert (done["state"], done["endedAt"], done["durationMs"]) == ("COMPLETED", "2026-03-02T01:00:30Z", 30000)
    assert done["args"] == {"email": "me@example.com", "retries": "1"}
    assert chain.get(f"{API}/namespaces/{NS}/jobs/report").json()["latestRun"]["state"] == "COMPLETED"
    assert names(chain, "/jobs", "jobs", lastRunStates="COMPLETED") == ["report", "extract"]
    # a finished run is not started again (the rules of events); of two ends, the later wins
    assert chain.post(f"{API}/jobs/runs/{run_id}/start").json()["state"] == "COMPLETED"
    assert chain.post(f"{API}/jobs/runs/{run_id}/fail", params={"at": "2026-03-02T01:01:00Z"}).json()["state"] == (
        "FAILED")
    assert chain.post(f"{API}/jobs/runs/{run_id}/abort", params={"at": "2026-03-02T01:00:40Z"}).json()["state"] == (
        "FAILED")


def test_the_older_run_api_refuses_what_marquez_refuses(chain):
    run_id = chain.post(f"{API}/namespaces/{NS}/jobs/report/runs").json()["id"]
    assert chain.get(f"{API}/jobs/runs/{run_id}").json()["state"] == "NEW"
    again = chain.post(f"{API}/namespaces/{NS}/jobs/report/runs", json={"id": run_id})
    assert again.status_code == 400 and again.json()["message"] == f"Run '{run_id}' already exists."
    assert chain.post(f"{API}/namespaces/{NS}/jobs/nothing/runs", json={}).status_code == 404
    assert chain.post(f"{API}/namespaces/{NS}/jobs/report/runs", json={"id": "not-a-uuid"}).status_code == 400
    missing = str(uuid.uuid4())
    assert chain.post(f"{API}/jobs/runs/{missing}/start").json() == {
        "code": 404, "message": f"Run '{missing}' not found."}
    assert chain.post(f"{API}/jobs/runs/{run_id}/complete", params={"at": "yesterday"}).status_code == 400
    assert chain.get(f"{API}/jobs/runs/{run_id}").json()["state"] == "NEW"
