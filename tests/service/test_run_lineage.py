"""GET /api/v1/runlineage/upstream: the runs upstream of a run, in Marquez's UpstreamRunLineage shape."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from tests.service.test_ingest import at, dataset, post, run_event

URL = "/api/v1/runlineage/upstream"


def _run(service, job: str, start: int, inputs: list[str], outputs: list[str]) -> str:
    """A START and a COMPLETE of ``job`` at ``start`` and ``start + 1`` seconds; returns the run id."""
    run_id = str(uuid.uuid4())
    for event_type, seconds in (("START", start), ("COMPLETE", start + 1)):
        event = run_event(event_type, seconds, run_id=run_id, job=job,
                          inputs=[dataset(name) for name in inputs], outputs=[dataset(name) for name in outputs])
        assert post(service, event).status_code == 201
    return run_id


def _version(service, name: str) -> str:
    return service.get(f"/api/v1/namespaces/file/datasets/{quote(name, safe='')}").json()["currentVersion"]


def _entry(run_id: str, job: str, start: int, inputs: list[dict], service) -> dict:
    version = service.get(f"/api/v1/jobs/runs/{run_id}").json()["jobVersion"]["version"]
    return {"job": {"namespace": "tests", "name": job, "version": version},
            "run": {"id": run_id, "start": at(start), "end": at(start + 1), "status": "COMPLETED"},
            "inputs": inputs}


def test_upstream_runs_follow_the_versions_each_run_read(service):
    load = _run(service, "load", 0, ["/src"], ["/b"])
    mid = _run(service, "mid", 10, ["/b"], ["/c"])
    top = _run(service, "top", 20, ["/c", "/b"], ["/d"])
    b, c = _version(service, "/b"), _version(service, "/c")
    # /src is only read: its READ version, which no run produced
    src = {"namespace": "file", "name": "/src", "version": _version(service, "/src"), "producedByRunId": None}
    b_input = {"namespace": "file", "name": "/b", "version": b, "producedByRunId": load}
    c_input = {"namespace": "file", "name": "/c", "version": c, "producedByRunId": mid}
    first = _entry(top, "top", 20, [b_input, c_input], service)
    upstream = [_entry(load, "load", 0, [src], service), _entry(mid, "mid", 10, [b_input], service)]

    response = service.get(URL, params={"runId": top})
    assert response.status_code == 200, response.text
    assert response.json() == {"runs": [first, *upstream]}  # each run once, by steps then job name
    assert service.get(URL, params={"runId": top, "depth": 1}).json() == {"runs": [first, *upstream]}
    assert service.get(URL, params={"runId": top, "depth": 0}).json() == {"runs": [first]}
    assert service.get(URL, params={"runId": load}).json() == {"runs": [upstream[0]]}


def test_upstream_runs_of_a_later_run_read_the_newer_version(service):
    first = _run(service, "load", 0, [], ["/b"])
    second = _run(service, "load", 10, [], ["/b"])
    reader = _run(service, "read", 20, ["/b"], [])
    runs = service.get(URL, params={"runId": reader}).json()["runs"]
    assert [entry["run"]["id"] for entry in runs] == [reader, second]
    assert runs[0]["inputs"][0]["producedByRunId"] == second != first


def test_upstream_runs_bad_requests(service):
    assert service.get(URL).status_code == 400
    response = service.get(URL, params={"runId": "nope"})
    assert response.status_code == 400 and response.json()["message"] == "runId: 'nope' is not a UUID"
    missing = str(uuid.uuid4())
    response = service.get(URL, params={"runId": missing})
    assert response.status_code == 404 and response.json()["message"] == f"Run '{missing}' not found."
    run_id = _run(service, "load", 0, [], ["/b"])
    assert service.get(URL, params={"runId": run_id, "depth": -1}).status_code == 400
