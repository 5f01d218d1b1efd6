"""The provenance report's content (``report_model.build_report``), built from the service on SQLite and PostgreSQL
holding the real events of the customers and orders jobs: enriched_orders' version, schema, writing runs (a failed
one too), upstream tables to the raw sources, column lineage and ledger head, each held against the events the
pipeline emitted or the service's own answers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from lineage_audit.diff_cli import BadInput, ServiceClient
from lineage_audit.report_cli import resolve
from lineage_audit.report_model import build_report, short_name
from tests.service.conftest import post_batches
from tests.web.events import dataset, run_events, two_job_events

NOW = datetime(2026, 12, 8, 9, 30, tzinfo=timezone.utc)


class AppClient(ServiceClient):
    """The report's client on a TestClient (the in-process app) instead of HTTP; 4xx answers are BadInput as
    over HTTP."""

    def __init__(self, test_client):
        super().__init__("http://testserver")
        self.test_client = test_client

    def get(self, path, **params):
        response = self.test_client.get(f"/api/v1{path}", params={k: v for k, v in params.items() if v is not None})
        if 400 <= response.status_code < 500:
            raise BadInput(response.json().get("message", response.text))
        assert response.status_code == 200, response.text
        return response.json()


def writes_of(events: list[dict], short: str) -> list[dict]:
    """The COMPLETE events whose outputs hold the dataset with this short name."""
    return [e for e in events if e["eventType"] == "COMPLETE"
            and any(short_name(o["name"]) == short for o in e["outputs"])]


def output_named(event: dict, short: str) -> dict:
    return next(o for o in event["outputs"] if short_name(o["name"]) == short)


@pytest.fixture
def loaded(service, pipeline_events):
    """The service holding the customers and orders jobs' events; (client, their events)."""
    events = two_job_events(pipeline_events)
    post_batches(lambda batch: service.post("/api/v1/lineage", json=batch), events)
    return AppClient(service), events


def test_enriched_orders_report_from_the_real_events(loaded):
    client, events = loaded
    [write] = writes_of(events, "enriched_orders")
    output = output_named(write, "enriched_orders")
    namespace, name = output["namespace"], output["name"]
    assert resolve(client, "enriched_orders", None) == (namespace, name)
    report = build_report(client, namespace, name, now=NOW)

    assert report["report"] == {"generatedAt": "2026-12-08T09:30:00Z", "serviceUrl": "http://testserver",
                                "command": "lineage-audit report"}
    assert [f["name"] for f in report["schema"]] == [f["name"] for f in output["facets"]["schema"]["fields"]]
    assert {f["name"]: f["type"] for f in report["schema"]}["order_ts"] == "timestamp"
    [run] = report["runs"]
    parent = write["run"]["facets"]["parent"]
    code = write["job"]["facets"]["sourceCodeLocation"]
    assert run["id"] == write["run"]["runId"] and run["job"]["name"] == write["job"]["name"]
    assert run["parent"] == {"job": {"namespace": parent["job"]["namespace"], "name": "orders"},
                             "runId": parent["run"]["runId"]}
    assert (run["state"], run["failed"]) == ("COMPLETED", False)
    assert run["rowsWritten"] == output["outputFacets"]["outputStatistics"]["rowCount"] > 0
    assert run["codeLocation"]["commit"] == code["version"] and run["codeLocation"]["path"] == "jobs/orders.py"
    assert run["codeLocation"]["url"] == code["url"] and run["codeLocation"]["from"] == "run"
    version = client.get(f"/namespaces/file/datasets/{name.replace('/', '%2F')}")["currentVersion"]
    assert report["currentVersion"]["version"] == version == run["datasetVersion"]
    assert report["currentVersion"]["createdByRun"]["id"] == run["id"]
    lifecycle = output["facets"]["lifecycleStateChange"]["lifecycleStateChange"]
    assert report["currentVersion"]["lifecycleState"] == lifecycle

    summary = report["summary"]
    assert [(w["name"], w["parentJobName"]) for w in summary["writers"]] == [(write["job"]["name"], "orders")]
    assert summary["lastRun"]["state"] == "COMPLETED" and summary["currentVersionRows"] == run["rowsWritten"]
    assert report["ledger"] == client.get("/audit/ledger")  # read last: nothing came in since


def test_upstream_reaches_the_raw_sources_through_customer_master(loaded):
    client, events = loaded
    [write] = writes_of(events, "enriched_orders")
    [master_write] = writes_of(events, "customer_master")
    name = output_named(write, "enriched_orders")["name"]
    upstream = build_report(client, "file", name, now=NOW)["upstream"]

    jobs = {j["name"]: j["distance"] for j in upstream["jobs"]}
    assert jobs == {write["job"]["name"]: 1, master_write["job"]["name"]: 2}
    master = output_named(master_write, "customer_master")["name"]
    by_name = {d["name"]: d for d in upstream["datasets"]}
    assert by_name[master]["writtenBy"] == [f"data-lineage-audit:{master_write['job']['name']}"]
    raw = {i["name"] for i in write["inputs"] if i["name"] != master} | {i["name"] for i in master_write["inputs"]}
    assert {d["name"] for d in upstream["rawSources"]} == raw
    assert {short_name(n) for n in raw} == {"raw_orders.jsonl", "product_catalog", "raw_customers.csv"}


def test_column_lineage_of_each_field(loaded):
    client, events = loaded
    [write] = writes_of(events, "enriched_orders")
    output = output_named(write, "enriched_orders")
    lineage = {f["field"]: f for f in build_report(client, "file", output["name"], now=NOW)["columnLineage"]}
    assert list(lineage) == [f["name"] for f in output["facets"]["schema"]["fields"]]
    for field, facet in output["facets"]["columnLineage"]["fields"].items():
        assert [(i["dataset"], i["field"], [(t["type"], t["subtype"], t["masking"]) for t in i["transformations"]])
                for i in lineage[field]["inputs"]] == \
            [(i["name"], i["field"], [(t["type"], t["subtype"], t["masking"]) for t in i["transformations"]])
             for i in facet["inputFields"]]
    [country] = lineage["customer_country"]["inputs"]
    assert (short_name(country["dataset"]), country["field"], country["transformations"][0]["subtype"]) == \
        ("customer_master", "country_code", "IDENTITY")


def test_a_failed_run_is_listed_and_marked(loaded, service):
    client, events = loaded
    [write] = writes_of(events, "enriched_orders")
    output = output_named(write, "enriched_orders")
    fields = {f["name"]: f["type"] for f in output["facets"]["schema"]["fields"]}
    failed = run_events(write["job"]["name"], outputs=[dataset(output["name"], fields)], state="FAIL",
                        error="Py4JJavaError: disk full")
    post_batches(lambda batch: service.post("/api/v1/lineage", json=batch), failed)
    report = build_report(client, "file", output["name"], now=NOW)

    newest, older = report["runs"]
    assert (newest["id"], newest["state"], newest["failed"]) == (failed[0]["run"]["runId"], "FAILED", True)
    assert newest["rowsWritten"] is None and newest["codeLocation"] is None  # the failing run carried neither
    assert (older["id"], older["failed"]) == (write["run"]["runId"], False)
    summary = report["summary"]
    assert (summary["runCount"], summary["failedRunCount"], summary["lastRun"]["state"]) == (2, 1, "FAILED")


def test_names_resolve_full_short_or_within_a_namespace(loaded, service):
    client, events = loaded
    name = output_named(writes_of(events, "enriched_orders")[0], "enriched_orders")["name"]
    assert resolve(client, f"file:{name}", None) == ("file", name)
    assert resolve(client, name, None) == ("file", name)
    assert resolve(client, "enriched_orders", "file") == ("file", name)
    other = run_events("elsewhere.copy", outputs=[dataset("/lake/enriched_orders", ["id"], namespace="s3://lake")])
    post_batches(lambda batch: service.post("/api/v1/lineage", json=batch), other)
    with pytest.raises(BadInput) as ambiguous:
        resolve(client, "enriched_orders", None)
    assert str(ambiguous.value) == ("'enriched_orders' names 2 datasets; give the full name (namespace:name) or "
                                    f"--namespace:\n  file:{name}\n  s3://lake:/lake/enriched_orders")
    assert resolve(client, "s3://lake:/lake/enriched_orders", None) == ("s3://lake", "/lake/enriched_orders")
    assert resolve(client, "enriched_orders", "s3://lake") == ("s3://lake", "/lake/enriched_orders")
    with pytest.raises(BadInput, match="no dataset is named 'enriched' or has it as its short name"):
        resolve(client, "enriched", None)
    with pytest.raises(BadInput, match="no dataset in namespace 'file' is named 'nowhere'"):
        resolve(client, "nowhere", "file")


def test_classes_of_customer_master_as_the_service_answers(loaded):
    """customer_master holds full_name in the clear (PII.name from first_name and last_name) and email_hash masked
    (PII.email, hashed by the customers job): the report keeps the service's answer, paths included."""
    client, events = loaded
    [write] = writes_of(events, "customer_master")
    name = output_named(write, "customer_master")["name"]
    report = build_report(client, "file", name, now=NOW)
    answer = client.get(f"/namespaces/file/datasets/{name.replace('/', '%2F')}/classifications")
    assert report["classifications"] == {"available": True, **answer}
    fields = {f["field"]: f for f in report["classifications"]["fields"]}
    assert [(c["class"], c["source"]["field"]) for c in fields["full_name"]["carries"]] == \
        [("PII.name", "first_name"), ("PII.name", "last_name")]
    [masked] = fields["email_hash"]["masked"]
    assert (masked["class"], masked["maskedAt"]["transformation"]["masking"]) == ("PII.email", True)
    assert masked["maskedAt"]["job"]["name"] == write["job"]["name"]
    summary = report["summary"]
    assert (summary["classesInTheClear"], summary["maskedClasses"]) == (["PII.name"], ["PII.email"])
    assert {short_name(d["name"]) for d in report["upstream"]["rawSources"]} == {"raw_customers.csv"}


def test_a_service_without_the_classification_routes_gives_a_report_that_says_so(loaded):
    """An older service (before issue 14) answers 404 on the route: the report is still made, and says why the
    section is empty rather than showing no classes."""
    client, events = loaded
    name = output_named(writes_of(events, "enriched_orders")[0], "enriched_orders")["name"]

    class OlderService(AppClient):
        def get(self, path, **params):
            if path.endswith("/classifications"):
                raise BadInput(f"Dataset '{name}/classifications' not found in namespace 'file'.")
            return super().get(path, **params)

    report = build_report(OlderService(client.test_client), "file", name, now=NOW)
    assert report["classifications"] == {
        "available": False, "reason": f"the service did not answer classifications: Dataset '{name}/classifications' "
                                      "not found in namespace 'file'."}
    assert report["summary"]["classesInTheClear"] is None


def test_a_step_a_declaration_corrected_says_so_with_its_reason():
    from lineage_audit.report_html import _step

    ref = {"namespace": "file", "dataset": "/data/outputs/processed_customers", "field": "email_hash"}
    step = {"job": {"namespace": "data-lineage-audit", "name": "customers"},
            "from": {**ref, "dataset": "/data/inputs/raw_customers.csv", "field": "email"}, "to": ref,
            "transformation": {"type": "DIRECT", "subtype": "TRANSFORMATION", "masking": False, "description": ""}}
    assert "declared" not in _step(step)
    html = _step({**step, "declared": {"as": "masked", "reason": "sha2(email, 256) in jobs/customers.py"}})
    assert "declared masked" in html and "sha2(email, 256) in jobs/customers.py" in html
