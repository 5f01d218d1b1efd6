"""API keys: the ingest key guards writes, the read key guards reads; both are Bearer tokens."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lineage_audit.service.db import lineage_events
from tests.service.conftest import make_client
from tests.service.test_ingest import LiveServer, URL, client_events, openlineage_client, run_event

INGEST_KEY = "ingest-key-4f1c"
READ_KEY = "read-key-9a2e"
OPEN = {"/api/v1/health", "/api/v1/openapi.json", "/api/v1/docs"}


def read_paths(client) -> list[str]:
    """Every GET of the API without path parameters (the read routes, whatever exists now)."""
    document = client.get("/api/v1/openapi.json").json()
    return sorted(path for path, operations in document["paths"].items()
                  if "get" in operations and "{" not in path and path not in OPEN)


def stored(client) -> int:
    with client.app.state.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(lineage_events)).scalar_one()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_refused(response, which: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == 401
    assert f"{which} API key" in response.json()["message"]


@pytest.mark.parametrize("headers", [{}, bearer("wrong"), bearer(""), {"Authorization": f"Basic {INGEST_KEY}"},
                                     {"Authorization": INGEST_KEY}, bearer(INGEST_KEY + "x"), bearer(READ_KEY)])
def test_writes_need_the_ingest_key(database_url, headers):
    with make_client(database_url, ingest_api_key=INGEST_KEY, read_api_key=READ_KEY) as client:
        assert_refused(client.post(URL, json=run_event("START", 0), headers=headers), "ingest")
        assert stored(client) == 0


def test_the_ingest_key_lets_events_in_and_reads_stay_open(database_url):
    with make_client(database_url, ingest_api_key=INGEST_KEY) as client:
        assert_refused(client.post(URL, json=run_event("START", 0)), "ingest")
        response = client.post(URL, json=run_event("START", 0), headers=bearer(INGEST_KEY))
        assert response.status_code == 201, response.text
        response = client.post(URL, json=run_event("START", 1), headers={"Authorization": f"bearer  {INGEST_KEY}"})
        assert response.status_code == 201, response.text
        assert stored(client) == 2
        paths = read_paths(client)
        assert "/api/v1/namespaces" in paths
        for path in paths:
            assert client.get(path).status_code != 401, path
        assert client.get("/api/v1/namespaces").status_code == 200
        assert client.get("/api/v1/health").status_code == 200


def test_the_read_key_guards_every_read(database_url):
    with make_client(database_url, read_api_key=READ_KEY) as client:
        assert client.post(URL, json=run_event("START", 0)).status_code == 201  # no ingest key: writes are open
        paths = read_paths(client)
        assert "/api/v1/namespaces" in paths
        for path in paths:
            assert_refused(client.get(path), "read")
            assert_refused(client.get(path, headers=bearer("wrong")), "read")
            assert client.get(path, headers=bearer(READ_KEY)).status_code != 401, path
        response = client.get("/api/v1/namespaces", headers=bearer(READ_KEY))
        assert response.status_code == 200
        assert "tests" in [n["name"] for n in response.json()["namespaces"]]
        assert client.get("/api/v1/health").status_code == 200  # for `serve --background` and load balancers


def test_one_key_does_not_open_the_other_door(database_url):
    with make_client(database_url, ingest_api_key=INGEST_KEY, read_api_key=READ_KEY) as client:
        assert client.post(URL, json=run_event("START", 0), headers=bearer(INGEST_KEY)).status_code == 201
        assert_refused(client.get("/api/v1/namespaces", headers=bearer(INGEST_KEY)), "read")
        assert client.get("/api/v1/namespaces", headers=bearer(READ_KEY)).status_code == 200


def test_a_key_beyond_ascii_is_compared_as_the_client_sent_it(database_url):
    key = "clé-ünïcode"
    with make_client(database_url, ingest_api_key=key) as client:
        response = client.post(URL, json=run_event("START", 0), headers={"Authorization": f"Bearer {key}".encode()})
        assert response.status_code == 201, response.text
        wrong = client.post(URL, json=run_event("START", 1), headers={"Authorization": b"Bearer cle-unicode"})
        assert_refused(wrong, "ingest")


def test_the_openlineage_clients_api_key_auth(database_url):
    from requests.exceptions import HTTPError

    with LiveServer(database_url, ingest_api_key=INGEST_KEY) as live:
        run_id, events = client_events()
        client = openlineage_client(live.url, api_key=INGEST_KEY)
        for event in events:
            client.emit(event)
        with pytest.raises(HTTPError) as refused:
            openlineage_client(live.url, api_key="not-the-key").emit(events[0])
        assert refused.value.response.status_code == 401
        with pytest.raises(HTTPError) as refused:
            openlineage_client(live.url).emit(events[0])
        assert refused.value.response.status_code == 401
        with live.app.state.engine.connect() as conn:
            runs_seen = conn.execute(select(lineage_events.c.run_uuid, lineage_events.c.event_type)).all()
    assert sorted(runs_seen) == sorted([(run_id, "START"), (run_id, "COMPLETE")])
