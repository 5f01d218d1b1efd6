"""A dataset under one of its symlinks (the ``symlinks`` facet), as in Marquez: an event that reads or writes a
dataset under a symlink name is filed under that dataset, and a dataset asked for by the name answers."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from lineage_audit.service import db
from lineage_audit.service.db import make_engine, migrate
from tests.service.test_ingest import PRODUCER, T0, dataset, post, run_event

HIVE = "hive://metastore:9083"
LINEAGE_SCHEMA = "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"


def _path(namespace: str, name: str, rest: str = "") -> str:
    return f"/api/v1/namespaces/{quote(namespace, safe='')}/datasets/{quote(name, safe='')}{rest}"


def _table(name: str, *tables: str, **facets) -> dict:
    identifiers = [{"namespace": HIVE, "name": table, "type": "TABLE"} for table in tables]
    return dataset(name, symlinks={"_producer": PRODUCER, "_schemaURL": "x", "identifiers": identifiers}, **facets)


def _hive(name: str, **kwargs) -> dict:
    return dataset(name, namespace=HIVE, **kwargs)


def _ok(service, body) -> None:
    response = post(service, body)
    assert response.status_code == 201, response.text


def _dataset_names(service, namespace: str) -> list[str]:
    response = service.get(f"/api/v1/namespaces/{quote(namespace, safe='')}/datasets")
    if response.status_code == 404:
        return []
    return [d["name"] for d in response.json()["datasets"]]


def _write_orders(service, seconds: float = 0, run_id: str | None = None) -> dict:
    """The job that writes the orders table by its location, declaring its Hive name."""
    event = run_event("COMPLETE", seconds, run_id, job="write_orders",
                      outputs=[_table("/warehouse/orders", "sales.orders")])
    _ok(service, event)
    return event


def test_a_dataset_answers_under_its_symlink(service):
    _write_orders(service)
    _ok(service, run_event("COMPLETE", 10, job="other", outputs=[_table("/copy/orders", "sales.orders",
                                                                        "sales.copy")]))
    original = service.get(_path("file", "/warehouse/orders")).json()
    response = service.get(_path(HIVE, "sales.orders"))
    assert response.status_code == 200, response.text
    assert response.json() == original  # the dataset that declared the name first
    assert service.get(_path(HIVE, "sales.copy")).json()["name"] == "/copy/orders"
    versions = service.get(_path(HIVE, "sales.orders", "/versions")).json()["versions"]
    assert [v["name"] for v in versions] == ["/warehouse/orders"]
    response = service.get(_path(HIVE, "sales.nothing"))
    assert response.status_code == 404 and "not found" in response.json()["message"]
    assert service.get(_path("file", "sales.orders")).status_code == 404  # a symlink names its namespace too


def test_a_run_reading_a_symlink_reads_the_dataset(service):
    write = _write_orders(service)
    reader = str(uuid.uuid4())
    _ok(service, run_event("COMPLETE", 10, reader, job="read_orders", inputs=[_hive("sales.orders")],
                           outputs=[dataset("/reports/daily")]))
    assert _dataset_names(service, "file") == ["/reports/daily", "/warehouse/orders"]
    assert _dataset_names(service, HIVE) == []
    written = service.get(f"/api/v1/jobs/runs/{write['run']['runId']}").json()["outputDatasetVersions"]
    run = service.get(f"/api/v1/jobs/runs/{reader}").json()
    assert [v["datasetVersionId"] for v in run["inputDatasetVersions"]] == [v["datasetVersionId"] for v in written]
    assert written[0]["datasetVersionId"]["name"] == "/warehouse/orders"
    graph = service.get("/api/v1/lineage", params={"nodeId": "job:tests:read_orders", "depth": 2}).json()["graph"]
    ids = {node["id"] for node in graph}
    assert ids == {"job:tests:write_orders", "dataset:file:/warehouse/orders", "job:tests:read_orders",
                   "dataset:file:/reports/daily"}
    edges = {(e["origin"], e["destination"]) for node in graph for e in node["outEdges"]}
    assert ("dataset:file:/warehouse/orders", "job:tests:read_orders") in edges
    assert ("job:tests:write_orders", "dataset:file:/warehouse/orders") in edges
    job = service.get("/api/v1/namespaces/tests/jobs/read_orders").json()
    assert job["inputs"] == [{"namespace": "file", "name": "/warehouse/orders"}]


def test_a_run_writing_a_symlink_writes_a_version_of_the_dataset(service):
    _write_orders(service)
    writer = str(uuid.uuid4())
    _ok(service, run_event("COMPLETE", 20, writer, job="hive_job",
                           outputs=[_hive("sales.orders", fields=("id", "amount", "region"))]))
    assert _dataset_names(service, HIVE) == []
    body = service.get(_path("file", "/warehouse/orders")).json()
    assert [f["name"] for f in body["fields"]] == ["id", "amount", "region"]  # the newest writer's schema
    versions = service.get(_path("file", "/warehouse/orders", "/versions")).json()["versions"]
    assert len(versions) == 2 and versions[0]["createdByRun"]["id"] == writer
    assert body["currentVersion"] == versions[0]["version"]
    event_version = {"eventTime": "2026-03-01T12:01:00Z", "producer": PRODUCER,
                     "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
                     "dataset": _hive("sales.orders", fields=("id",))}
    _ok(service, event_version)
    assert [f["name"] for f in service.get(_path("file", "/warehouse/orders")).json()["fields"]] == ["id"]
    assert _dataset_names(service, HIVE) == []


def test_a_name_a_dataset_had_first_stays_its_own(service):
    """Marquez's arrival order: a dataset named so before the symlink was declared keeps the name."""
    _ok(service, run_event("COMPLETE", 0, job="hive_job", outputs=[_hive("sales.orders")]))
    _write_orders(service, 5)
    body = service.get(_path(HIVE, "sales.orders")).json()
    assert (body["namespace"], body["name"]) == (HIVE, "sales.orders")
    _ok(service, run_event("COMPLETE", 10, job="read_orders", inputs=[_hive("sales.orders")]))
    job = service.get("/api/v1/namespaces/tests/jobs/read_orders").json()
    assert job["inputs"] == [{"namespace": HIVE, "name": "sales.orders"}]
    assert _dataset_names(service, HIVE) == ["sales.orders"]


def test_a_batch_resolves_names_as_its_events_one_by_one(service):
    declared_first = [run_event("COMPLETE", 0, job="write_orders", outputs=[_table("/a/orders", "db.a")]),
                      run_event("COMPLETE", 5, job="reader", inputs=[_hive("db.a")])]
    read_first = [run_event("COMPLETE", 0, job="reader", inputs=[_hive("db.b")]),
                  run_event("COMPLETE", 5, job="write_orders", outputs=[_table("/b/orders", "db.b")])]
    _ok(service, declared_first + read_first)
    assert _dataset_names(service, "file") == ["/a/orders", "/b/orders"]
    assert _dataset_names(service, HIVE) == ["db.b"]


def test_a_symlink_declared_under_a_symlink_names_the_same_dataset(service):
    _write_orders(service)
    _ok(service, run_event("COMPLETE", 5, job="hive_job", outputs=[
        dataset("sales.orders", namespace=HIVE, symlinks={"_producer": PRODUCER, "_schemaURL": "x", "identifiers": [
            {"namespace": "s3://bucket", "name": "orders", "type": "TABLE"}]})]))
    _ok(service, run_event("COMPLETE", 10, job="reader", inputs=[dataset("orders", namespace="s3://bucket")]))
    job = service.get("/api/v1/namespaces/tests/jobs/reader").json()
    assert job["inputs"] == [{"namespace": "file", "name": "/warehouse/orders"}]
    assert service.get(_path("s3://bucket", "orders")).json()["name"] == "/warehouse/orders"


def test_column_lineage_naming_an_input_by_its_symlink_leads_to_the_dataset(service):
    write = _write_orders(service)
    lineage = {"_producer": PRODUCER, "_schemaURL": LINEAGE_SCHEMA, "fields": {"total": {"inputFields": [
        {"namespace": HIVE, "name": "sales.orders", "field": "amount",
         "transformations": [{"type": "DIRECT", "subtype": "AGGREGATION"}]}]}}}
    _ok(service, run_event("COMPLETE", 10, job="report", inputs=[_hive("sales.orders")],
                           outputs=[dataset("/reports/totals", fields=("total",), columnLineage=lineage)]))
    response = service.get("/api/v1/column-lineage", params={"nodeId": "datasetField:file:/reports/totals:total"})
    assert response.status_code == 200, response.text
    nodes = {node["id"]: node for node in response.json()["graph"]}
    assert set(nodes) == {"datasetField:file:/reports/totals:total", "datasetField:file:/warehouse/orders:amount"}
    [field] = nodes["datasetField:file:/reports/totals:total"]["data"]["inputFields"]
    assert (field["namespace"], field["dataset"], field["field"]) == ("file", "/warehouse/orders", "amount")
    versions = service.get(_path("file", "/reports/totals", "/versions")).json()["versions"]
    response = service.get("/api/v1/column-lineage", params={
        "nodeId": f"datasetField:file:/reports/totals:total#{versions[0]['version']}"})
    written = service.get(f"/api/v1/jobs/runs/{write['run']['runId']}").json()["outputDatasetVersions"][0]
    assert {n["id"] for n in response.json()["graph"]} == {
        f"datasetField:file:/reports/totals:total#{versions[0]['version']}",
        f"datasetField:file:/warehouse/orders:amount#{written['datasetVersionId']['version']}"}


def test_the_migration_keeps_the_symlinks_stored_before_it(database_url):
    """A store from before revision 0005 kept symlinks only as facets: each name no dataset has goes to the
    earliest created dataset declaring it, which is what such a store answered."""
    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(Path(db.__file__).with_name("migrations")))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    facet = {"identifiers": [{"namespace": HIVE, "name": "sales.orders", "type": "TABLE"},
                             {"namespace": "file", "name": "/own/name", "type": "TABLE"}]}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO namespaces (name, owner_name, created_at, updated_at, is_hidden) "
                          "VALUES ('file', 'anonymous', :t, :t, false)"), {"t": T0})
        for number, name in enumerate(("/late", "/early", "/own/name")):
            conn.execute(text("INSERT INTO datasets (id, namespace, name, source_name, type, created_at, updated_at, "
                              "is_hidden) VALUES (:id, 'file', :name, 'file', 'DB_TABLE', :t, :t, false)"),
                         {"id": number + 1, "name": name, "t": T0 + timedelta(hours=-number if number < 2 else 0)})
        for dataset_id in (1, 2):
            conn.execute(text("INSERT INTO facets (owner_kind, owner_key, name, event_time, value) VALUES "
                              "('dataset', :key, 'symlinks', :t, :value)"),
                         {"key": str(dataset_id), "t": T0, "value": json.dumps(facet)})
    migrate(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT namespace, name, dataset_id, type FROM dataset_symlinks")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [(HIVE, "sales.orders", 2, "TABLE")]  # /early; /own/name is a dataset's
