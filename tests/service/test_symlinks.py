"""A dataset asked for under one of its symlinks (the ``symlinks`` facet) answers as itself, as in Marquez."""

from __future__ import annotations

from urllib.parse import quote

from tests.service.test_ingest import PRODUCER, dataset, post, run_event

HIVE = "hive://metastore:9083"


def _path(namespace: str, name: str, rest: str = "") -> str:
    return f"/api/v1/namespaces/{quote(namespace, safe='')}/datasets/{quote(name, safe='')}{rest}"


def _table(name: str, *tables: str) -> dict:
    identifiers = [{"namespace": HIVE, "name": table, "type": "TABLE"} for table in tables]
    return dataset(name, symlinks={"_producer": PRODUCER, "_schemaURL": "x", "identifiers": identifiers})


def test_a_dataset_answers_under_its_symlink(service):
    assert post(service, run_event("COMPLETE", 0, outputs=[_table("/warehouse/orders", "sales.orders")])
                ).status_code == 201
    assert post(service, run_event("COMPLETE", 10, job="other", outputs=[_table("/copy/orders", "sales.orders",
                                                                              "sales.copy")])).status_code == 201
    original = service.get(_path("file", "/warehouse/orders")).json()
    response = service.get(_path(HIVE, "sales.orders"))
    assert response.status_code == 200, response.text
    assert response.json() == original  # the earliest dataset declaring the name
    assert service.get(_path(HIVE, "sales.copy")).json()["name"] == "/copy/orders"
    versions = service.get(_path(HIVE, "sales.orders", "/versions")).json()["versions"]
    assert [v["name"] for v in versions] == ["/warehouse/orders"]
    response = service.get(_path(HIVE, "sales.nothing"))
    assert response.status_code == 404 and "not found" in response.json()["message"]
    assert service.get(_path("file", "sales.orders")).status_code == 404  # a symlink names its namespace too


def test_a_dataset_named_so_comes_before_a_symlink(service):
    assert post(service, run_event("COMPLETE", 0, outputs=[_table("/warehouse/orders", "sales.orders")])
                ).status_code == 201
    assert post(service, run_event("COMPLETE", 5, job="hive_job", outputs=[dataset("sales.orders", namespace=HIVE)])
                ).status_code == 201
    body = service.get(_path(HIVE, "sales.orders")).json()
    assert (body["namespace"], body["name"]) == (HIVE, "sales.orders")
