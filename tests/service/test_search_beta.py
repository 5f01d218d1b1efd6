"""GET /api/v2beta/search/jobs and /search/datasets: marquez-web's advanced search, from the service's store."""

from __future__ import annotations

import uuid

from tests.service.conftest import make_client
from tests.service.test_ingest import PRODUCER, dataset, post, run_event

BETA = "/api/v2beta/search"


def _orders(service) -> tuple[str, str]:
    """Two runs: ``load_orders`` (START then COMPLETE) writing /warehouse/orders, and ``report`` (START)."""
    load, report = str(uuid.uuid4()), str(uuid.uuid4())
    sql = {"_producer": PRODUCER, "_schemaURL": "x", "query": "SELECT 1"}
    engine = {"_producer": PRODUCER, "_schemaURL": "x", "name": "spark", "version": "4.2.0"}
    output = dataset("/warehouse/orders", fields=("order_id", "amount"))
    for event_type, seconds in (("START", 0), ("COMPLETE", 5)):
        assert post(service, run_event(event_type, seconds, run_id=load, job="load_orders", outputs=[output],
                                       job_facets={"sql": sql}, run_facets={"processing_engine": engine})
                    ).status_code == 201
    assert post(service, run_event("START", 10, run_id=report, job="report",
                                   inputs=[dataset("/warehouse/orders", fields=("order_id", "amount"))])
                ).status_code == 201
    return load, report


def test_search_jobs_answers_hits_and_highlights(service):
    load, report = _orders(service)
    response = service.get(f"{BETA}/jobs", params={"q": "ORDERS"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"hits", "highlights"}
    [hit] = body["hits"]
    assert {k: hit[k] for k in ("run_id", "name", "namespace", "eventType", "type")} == {
        "run_id": load, "name": "load_orders", "namespace": "tests", "eventType": "COMPLETE", "type": "BATCH"}
    assert hit["facets"]["sql"]["query"] == "SELECT 1"
    assert hit["runFacets"]["processing_engine"]["name"] == "spark"
    assert body["highlights"] == [{"name": ["load_<em>orders</em>"]}]
    both = service.get(f"{BETA}/jobs", params={"q": "test"}).json()  # the namespace matches: newest first
    assert [(h["name"], h["run_id"], h["eventType"]) for h in both["hits"]] == [
        ("report", report, "START"), ("load_orders", load, "COMPLETE")]
    assert both["highlights"] == [{"namespace": ["<em>test</em>s"]}] * 2
    assert service.get(f"{BETA}/jobs", params={"q": "%"}).json() == {"hits": [], "highlights": []}


def test_search_datasets_matches_names_and_fields(service):
    _load, report = _orders(service)
    body = service.get(f"{BETA}/datasets", params={"q": "order_id"}).json()
    [hit] = body["hits"]
    # as in Marquez's index, the run of the last event naming the dataset: report's START reading it
    assert {k: hit[k] for k in ("run_id", "name", "namespace", "eventType")} == {
        "run_id": report, "name": "/warehouse/orders", "namespace": "file", "eventType": "START"}
    assert [f["name"] for f in hit["facets"]["schema"]["fields"]] == ["order_id", "amount"]
    assert body["highlights"] == [{"facets.schema.fields.name": ["<em>order_id</em>"]}]
    body = service.get(f"{BETA}/datasets", params={"q": "house/ORD"}).json()
    assert [h["name"] for h in body["hits"]] == ["/warehouse/orders"]
    assert body["highlights"] == [{"name": ["/ware<em>house/ord</em>ers"]}]
    assert service.get(f"{BETA}/datasets", params={"q": "nothing"}).json() == {"hits": [], "highlights": []}
    assert service.get(f"{BETA}/datasets").status_code == 400


def test_search_beta_is_behind_the_read_key(database_url):
    with make_client(database_url, read_api_key="read-key-5") as client:
        for path in (f"{BETA}/jobs", f"{BETA}/datasets"):
            assert client.get(path, params={"q": "x"}).status_code == 401
            response = client.get(path, params={"q": "x"}, headers={"Authorization": "Bearer read-key-5"})
            assert response.status_code == 200 and response.json() == {"hits": [], "highlights": []}
