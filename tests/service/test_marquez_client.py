"""Marquez's own Python client (marquez-python 0.50, unmodified) reading the service over HTTP.

The service runs in uvicorn on a free port, on SQLite, with the events of a whole pipeline run.
The client percent-encodes every name it puts in a path (``quote(name, safe='')``), slashes of
dataset paths included.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests
import uvicorn
from marquez_client import MarquezClient
from marquez_client.errors import APIError

from lineage_audit.service.app import create_app
from lineage_audit.service.settings import ServiceSettings
from tests.service.conftest import post_batches
from tests.service.test_read_api import newest_updated_first

NAMESPACE = "data-lineage-audit"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory, pipeline_events):
    database = tmp_path_factory.mktemp("marquez-client") / "lineage.db"
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ServiceSettings(database_url=f"sqlite:///{database}")),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="lineage-service", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    try:
        post_batches(lambda body: requests.post(f"{url}/api/v1/lineage", json=body, timeout=60), pipeline_events)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive()


@pytest.fixture(scope="module")
def client(base_url) -> MarquezClient:
    return MarquezClient(base_url)


def _output(events: list[dict], suffix: str) -> tuple[dict, dict]:
    """The output dataset ending with ``suffix`` and the COMPLETE event that wrote it."""
    [found] = [(d, e) for e in events if e["eventType"] == "COMPLETE" for d in e.get("outputs") or []
               if d["name"].endswith(suffix)]
    return found


def test_namespaces_and_sources(client):
    assert [n["name"] for n in client.list_namespaces()["namespaces"]] == [NAMESPACE, "file"]
    assert client.get_namespace("file")["name"] == "file"
    created = client.create_namespace("audit-team", "data-team", "Owners of the audit trail")
    assert (created["ownerName"], created["description"]) == ("data-team", "Owners of the audit trail")
    assert client.get_namespace("audit-team") == created
    assert [s["name"] for s in client.list_sources()["sources"]] == ["file"]
    assert client.get_source("file")["type"] == "FILE"
    with pytest.raises(APIError):
        client.get_namespace("nowhere")


def test_jobs_and_runs(client, pipeline_events):
    names = newest_updated_first(pipeline_events)
    assert sorted(names) == sorted({e["job"]["name"] for e in pipeline_events})
    jobs = client.list_jobs(NAMESPACE)
    assert [j["name"] for j in jobs["jobs"]] == names and jobs["totalCount"] == len(names)

    output, complete = _output(pipeline_events, "/outputs/enriched_orders")
    name = complete["job"]["name"]
    job = client.get_job(NAMESPACE, name)
    assert job["latestRun"]["state"] == "COMPLETED" and job["latestRun"]["id"] == complete["run"]["runId"]
    assert [d["name"] for d in job["outputs"]] == [output["name"]]
    assert {d["name"] for d in job["inputs"]} == {d["name"] for d in complete["inputs"]}

    [run] = client.list_job_runs(NAMESPACE, name)["runs"]
    assert run == job["latestRun"]
    assert client.get_job_run(run["id"]) == run
    assert [v["datasetVersionId"]["name"] for v in run["outputDatasetVersions"]] == [output["name"]]
    with pytest.raises(APIError):
        client.get_job(NAMESPACE, "no.such.job")


def test_datasets_versions_and_column_lineage(client, pipeline_events):
    output, complete = _output(pipeline_events, "/outputs/order_summary")
    listed = client.list_datasets("file")
    assert output["name"] in {d["name"] for d in listed["datasets"]}
    assert listed["totalCount"] == len(listed["datasets"])

    dataset = client.get_dataset("file", output["name"])
    assert dataset["name"] == output["name"]
    assert [(f["name"], f["type"]) for f in dataset["fields"]] == [
        (f["name"], f["type"]) for f in output["facets"]["schema"]["fields"]]
    lineage = {entry["name"]: entry["inputFields"] for entry in dataset["columnLineage"]}
    assert set(lineage) == set(output["facets"]["columnLineage"]["fields"])
    [order_count] = lineage["order_count"]
    assert order_count["dataset"].endswith("/inputs/raw_orders.jsonl") and order_count["field"] == "order_id"
    assert {(s["dataset"].rsplit("/", 1)[-1], s["field"]) for s in lineage["first_order_ts"]} == {
        ("raw_orders.jsonl", "order_ts")}

    # the same lineage as a graph (GET /column-lineage), one field and the whole dataset
    graph = client.get_column_lineage_by_dataset_field("file", output["name"], "order_count")["graph"]
    node = {n["id"]: n for n in graph}[f"datasetField:file:{output['name']}:order_count"]
    assert node["type"] == "DATASET_FIELD"
    assert [(s["dataset"], s["field"]) for s in node["data"]["inputFields"]] == [
        (order_count["dataset"], "order_id")]
    graph = client.get_column_lineage_by_dataset("file", output["name"])["graph"]
    fields = {n["data"]["field"] for n in graph if n["data"]["dataset"] == output["name"]}
    assert fields >= set(lineage)

    [version] = client.list_dataset_versions("file", output["name"])["versions"]
    assert version["version"] == dataset["currentVersion"]
    assert version["createdByRun"]["id"] == complete["run"]["runId"]
    assert client.get_dataset_version("file", output["name"], version["version"]) == version
    with pytest.raises(APIError):
        client.get_dataset("file", output["name"] + "-missing")


def test_tags(client, pipeline_events):
    output, _ = _output(pipeline_events, "/outputs/processed_customers")
    assert client.create_tag("PII", "Personal data") == {"name": "PII", "description": "Personal data"}
    assert client.tag_dataset("file", output["name"], "PII")["tags"] == ["PII"]
    tagged = client.tag_dataset_field("file", output["name"], "email_hash", "PII")
    assert {f["name"]: f["tags"] for f in tagged["fields"]}["email_hash"] == ["PII"]
    assert {t["name"] for t in client.list_tags()["tags"]} == {"PII"}
