"""Schemathesis against the service's own OpenAPI document: every operation it holds (one test each),
generated requests (valid and invalid), and never a 5xx. SQLite, with a few events stored so reads
find data."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from lineage_audit.service.app import create_app
from lineage_audit.service.settings import ServiceSettings
from tests.service.test_ingest import dataset, run_event

# Schemathesis's lazy loader (schemathesis.pytest.from_fixture) fails on pytest 9 ('_nodeid'), so the
# schema is loaded when the module is: from the app itself, on a database that lives as long as the run.
_DIRECTORY = tempfile.TemporaryDirectory(prefix="lineage-fuzz-")
APP = create_app(ServiceSettings(database_url=f"sqlite:///{Path(_DIRECTORY.name) / 'lineage.db'}"))
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)
schemathesis.serializer.alias("application/x-ndjson", "text/plain")  # an NDJSON body is text


@pytest.fixture(scope="module", autouse=True)
def stored_events():
    with TestClient(APP) as client:
        run_id = str(uuid.uuid4())
        lineage = {"_producer": "x", "_schemaURL": "x", "fields": {"id": {"inputFields": [
            {"namespace": "file", "name": "/fuzz/in", "field": "id", "transformations": [{"type": "DIRECT"}]}]}}}
        events = [run_event("START", 0, run_id, inputs=[dataset("/fuzz/in")], outputs=[dataset("/fuzz/out")]),
                  run_event("COMPLETE", 9, run_id, inputs=[dataset("/fuzz/in")],
                            outputs=[dataset("/fuzz/out", columnLineage=lineage)])]
        assert client.post("/api/v1/lineage", json=events).status_code == 201


def test_the_document_holds_the_ingest_operation():
    operations = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert ("POST", "/api/v1/lineage") in operations


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_operation_answers_with_a_server_error(case):
    case.call_and_validate(checks=[not_a_server_error])
