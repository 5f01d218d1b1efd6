"""Fixtures of the lineage service tests: every test that takes ``service`` runs on SQLite and on
PostgreSQL (a server started from the installed binaries, one fresh database per test)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from lineage_audit.service.app import create_app
from lineage_audit.service.settings import ServiceSettings
from tests.service.postgres import SKIP_REASON, PostgresServer, find_binaries

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server():
    if find_binaries() is None:
        pytest.skip(SKIP_REASON)
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """A fresh, empty database: a SQLite file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lineage.db'}"
    return request.getfixturevalue("postgres_server").new_database("lineage_test")


def make_client(database_url: str, **settings) -> TestClient:
    return TestClient(create_app(ServiceSettings(database_url=database_url, **settings)))


@pytest.fixture
def service(database_url):
    """A TestClient of the service on an empty database (both backends)."""
    with make_client(database_url) as client:
        yield client


BATCH_BYTES = 4_000_000  # a whole pipeline's events are more than the 10 MB a request body may hold


def batches(events: list[dict], limit: int = BATCH_BYTES) -> list[list[dict]]:
    """``events`` in order, cut into lists whose JSON stays under ``limit`` bytes."""
    out: list[list[dict]] = [[]]
    size = 0
    for event in events:
        length = len(json.dumps(event)) + 2
        if out[-1] and size + length > limit:
            out.append([])
            size = 0
        out[-1].append(event)
        size += length
    return out


def post_batches(post, events: list[dict]) -> dict[str, int]:
    """Post ``events`` in batches (``post(body)`` returns the response); the summed stored/duplicates counts."""
    totals = {"stored": 0, "duplicates": 0}
    for batch in batches(events):
        response = post(batch)
        assert response.status_code == 201, response.text
        for key in totals:
            totals[key] += response.json()[key]
    return totals
