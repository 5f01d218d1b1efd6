"""Marquez's ingest semantics of versions and parents, read back through the API, on SQLite and PostgreSQL:
datasets only read get a version, DatasetEvents and JobEvents make versions, a dataset's current version
moves when its writer completes, readers never change a writer's fields, a run's inputs and outputs carry
their facets, parent facets make the parent job and run, streaming jobs are versioned while they run.

Every scenario is posted in time order, in reverse order and as one batch (each into namespaces of its
own) and must end the same.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid

from lineage_audit.service.db import jobs
from tests.service.test_ingest import PRODUCER, T0, at, dataset, run_event

API = "/api/v1"
ORDERS = ("forward", "reversed", "batch")
DATASET_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent"
JOB_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent"


def facet(**fields) -> dict:
    return {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/x.json", **fields}


def table(name: str, fields=("id", "amount"), **facets) -> dict:
    return dataset(name, "warehouse", fields, **facets)


def rename(events: list[dict], order: str) -> list[dict]:
    """The events of one scenario for one order: namespaces and run ids of their own, so that every order
    lands in the same store without meeting the others."""
    text = json.dumps(events)
    for run_id in set(re.findall(r'"runId": "([0-9a-f-]{36})"', text)):
        text = text.replace(run_id, str(uuid.uuid5(uuid.UUID(run_id), order)))
    text = text.replace('"namespace": "warehouse"', f'"namespace": "warehouse-{order}"')
    text = text.replace('"namespace": "tests"', f'"namespace": "tests-{order}"')
    return json.loads(text)


def post_in_order(service, events: list[dict], order: str) -> None:
    events = rename(events, order)
    if order == "batch":
        bodies = [list(reversed(events))]
    else:
        bodies = events if order == "forward" else list(reversed(events))
    for body in bodies:
        response = service.post(f"{API}/lineage", json=body)
        assert response.status_code == 201, response.text


def run_id_in(order: str, run_id: str) -> str:
    return str(uuid.uuid5(uuid.UUID(run_id), order))


def get(service, path: str) -> dict:
    response = service.get(API + path)
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:300]}"
    return response.json()


def dataset_of(service, order: str, name: str) -> dict:
    return get(service, f"/namespaces/warehouse-{order}/datasets/{name}")


def versions_of(service, order: str, name: str) -> list[dict]:
    return get(service, f"/namespaces/warehouse-{order}/datasets/{name}/versions")["versions"]


def run_of(service, order: str, run_id: str) -> dict:
    return get(service, f"/jobs/runs/{run_id_in(order, run_id)}")


def read_versions(run: dict) -> list[str]:
    return [v["datasetVersionId"]["version"] for v in run["inputDatasetVersions"]]


def field_names(owner: dict) -> list[str]:
    return [f["name"] for f in owner["fields"]]


# -- versions -----------------------------------------------------------------------------------

def test_a_dataset_only_read_gets_a_version_its_readers_list(service):
    first, writer, second = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    events = [run_event("START", 0, first, job="report", inputs=[table("orders")]),
              run_event("COMPLETE", 10, first, job="report"),
              run_event("START", 20, writer, job="load", outputs=[table("orders", ("id", "amount", "country"))]),
              run_event("COMPLETE", 30, writer, job="load"),
              run_event("START", 40, second, job="report", inputs=[table("orders")]),
              run_event("COMPLETE", 50, second, job="report")]
    for order in ORDERS:
        post_in_order(service, events, order)
        versions = versions_of(service, order, "orders")
        assert [v["createdByRun"]["id"] if v["createdByRun"] else None for v in versions] == [
            run_id_in(order, writer), None], order
        written, read = versions
        assert field_names(read) == ["id", "amount"] and read["createdAt"] == at(0), order
        assert dataset_of(service, order, "orders")["currentVersion"] == written["version"], order
        assert read_versions(run_of(service, order, first)) == [read["version"]], order
        assert read_versions(run_of(service, order, second)) == [written["version"]], order


def test_a_dataset_read_only_has_its_read_version_as_current(service):
    reader = str(uuid.uuid4())
    events = [run_event("START", 0, reader, job="report", inputs=[table("customers")]),
              run_event("COMPLETE", 5, reader, job="report")]
    for order in ORDERS:
        post_in_order(service, events, order)
        [version] = versions_of(service, order, "customers")
        assert version["createdByRun"] is None and version["id"]["namespace"] == f"warehouse-{order}", order
        assert dataset_of(service, order, "customers")["currentVersion"] == version["version"], order
        assert run_of(service, order, reader)["inputDatasetVersions"] == [{"datasetVersionId": {
            "namespace": f"warehouse-{order}", "name": "customers", "version": version["version"]}, "facets": {}}]


def test_a_dataset_event_makes_a_dataset_version(service):
    events = [{"eventTime": at(0), "producer": PRODUCER, "schemaURL": DATASET_EVENT_SCHEMA,
               "dataset": table("products", ("sku", "price"))},
              {"eventTime": at(10), "producer": PRODUCER, "schemaURL": DATASET_EVENT_SCHEMA,
               "dataset": table("products", ("sku", "price", "currency"))}]
    for order in ORDERS:
        post_in_order(service, events, order)
        versions = versions_of(service, order, "products")
        assert [field_names(v) for v in versions] == [["sku", "price", "currency"], ["sku", "price"]], order
        assert [v["createdByRun"] for v in versions] == [None, None], order
        assert [v["createdAt"] for v in versions] == [at(10), at(0)], order
        found = dataset_of(service, order, "products")
        assert found["currentVersion"] == versions[0]["version"], order
        assert field_names(found) == ["sku", "price", "currency"], order


def test_a_job_event_makes_a_job_version(service):
    event = {"eventTime": at(0), "producer": PRODUCER, "schemaURL": JOB_EVENT_SCHEMA,
             "job": {"namespace": "tests", "name": "export", "facets": {
                 "sourceCodeLocation": facet(type="git", url="https://git.example.com/export.py")}},
             "inputs": [table("orders")], "outputs": [table("exported")]}
    for order in ORDERS:
        post_in_order(service, [event], order)
        job = get(service, f"/namespaces/tests-{order}/jobs/export")
        [version] = get(service, f"/namespaces/tests-{order}/jobs/export/versions")["versions"]
        assert job["currentVersion"] == version["version"], order
        assert (version["inputs"], version["outputs"]) == (
            [{"namespace": f"warehouse-{order}", "name": "orders"}],
            [{"namespace": f"warehouse-{order}", "name": "exported"}]), order
        assert (version["location"], version["latestRun"], version["createdAt"]) == (
            "https://git.example.com/export.py", None, at(0)), order


def test_the_current_version_moves_when_the_writer_completes(service):
    old, new, reader = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    done = [run_event("START", 0, old, job="load", outputs=[table("ledger")]),
            run_event("COMPLETE", 10, old, job="load", outputs=[table("ledger")])]
    running = [run_event("START", 20, new, job="load", outputs=[table("ledger", ("id", "amount", "note"))]),
               run_event("START", 25, reader, job="report", inputs=[table("ledger")]),
               run_event("COMPLETE", 26, reader, job="report")]
    for order in ORDERS:
        post_in_order(service, done + running, order)
        versions = versions_of(service, order, "ledger")
        assert [v["createdByRun"]["id"] for v in versions] == [run_id_in(order, new), run_id_in(order, old)], order
        found = dataset_of(service, order, "ledger")
        assert found["currentVersion"] == versions[1]["version"], order  # the writer still runs
        assert read_versions(run_of(service, order, reader)) == [versions[1]["version"]], order
        post_in_order(service, [run_event("COMPLETE", 30, new, job="load")], order)
        assert dataset_of(service, order, "ledger")["currentVersion"] == versions[0]["version"], order
        assert read_versions(run_of(service, order, reader)) == [versions[1]["version"]], order


def test_a_failed_writer_leaves_the_current_version(service):
    old, failed = str(uuid.uuid4()), str(uuid.uuid4())
    events = [run_event("COMPLETE", 0, old, job="load", outputs=[table("ledger")]),
              run_event("START", 10, failed, job="load", outputs=[table("ledger")]),
              run_event("FAIL", 20, failed, job="load")]
    for order in ORDERS:
        post_in_order(service, events, order)
        versions = versions_of(service, order, "ledger")
        assert [v["createdByRun"]["state"] for v in versions] == ["FAILED", "COMPLETED"], order
        assert dataset_of(service, order, "ledger")["currentVersion"] == versions[1]["version"], order


def test_a_reader_never_changes_the_writers_fields_and_its_facets_join_the_version_it_read(service):
    writer, reader = str(uuid.uuid4()), str(uuid.uuid4())
    read_as = table("sales", ("id", "amount", "guessed"), quality=facet(checked=True))
    read_as["facets"]["schema"]["fields"][0]["type"] = "int"
    events = [run_event("START", 0, writer, job="load", outputs=[table("sales", quality=facet(checked=False))]),
              run_event("COMPLETE", 10, writer, job="load"),
              run_event("START", 20, reader, job="report", inputs=[read_as]),
              run_event("COMPLETE", 30, reader, job="report")]
    for order in ORDERS:
        post_in_order(service, events, order)
        found = dataset_of(service, order, "sales")
        assert field_names(found) == ["id", "amount"], order
        assert [f["type"] for f in found["fields"]] == ["string", "string"], order
        [version] = versions_of(service, order, "sales")
        assert field_names(version) == ["id", "amount"], order
        assert version["facets"]["quality"]["checked"] is True, order  # the later reader's facet wins
        assert [f["name"] for f in version["facets"]["schema"]["fields"]] == ["id", "amount", "guessed"], order
        assert found["currentVersion"] == version["version"], order


def test_a_runs_inputs_and_outputs_carry_their_input_and_output_facets(service):
    run_id = str(uuid.uuid4())
    source, target = table("raw"), table("clean")
    source["inputFacets"] = {"dataQualityMetrics": facet(rowCount=7, columnMetrics={})}
    target["outputFacets"] = {"outputStatistics": facet(rowCount=5, size=640)}
    events = [run_event("START", 0, run_id, job="clean", inputs=[source], outputs=[target]),
              run_event("COMPLETE", 10, run_id, job="clean")]
    for order in ORDERS:
        post_in_order(service, events, order)
        run = run_of(service, order, run_id)
        assert [v["facets"] for v in run["inputDatasetVersions"]] == [
            {"dataQualityMetrics": facet(rowCount=7, columnMetrics={})}], order
        assert [v["facets"] for v in run["outputDatasetVersions"]] == [
            {"outputStatistics": facet(rowCount=5, size=640)}], order


def test_a_dataset_versions_facets_are_dataset_facets_not_output_facets(service):
    run_id = str(uuid.uuid4())
    target = table("clean", documentation=facet(description="cleaned rows"))
    target["outputFacets"] = {"outputStatistics": facet(rowCount=5)}
    for order in ORDERS:
        post_in_order(service, [run_event("COMPLETE", 0, run_id, job="clean", outputs=[target])], order)
        [version] = versions_of(service, order, "clean")
        assert sorted(version["facets"]) == ["documentation", "schema"], order
        assert "outputStatistics" not in dataset_of(service, order, "clean")["facets"], order


# -- parents ------------------------------------------------------------------------------------

def parent_facet(run_id: str, job: str = "nightly") -> dict:
    return facet(run={"runId": run_id}, job={"namespace": "tests", "name": job})


def test_a_parent_facet_makes_the_parent_job_and_its_run(service):
    parent, child = str(uuid.uuid4()), str(uuid.uuid4())
    events = [run_event("START", 10, child, job="step", run_facets={"parent": parent_facet(parent)}),
              run_event("COMPLETE", 20, child, job="step", run_facets={"parent": parent_facet(parent)})]
    for order in ORDERS:
        post_in_order(service, events, order)
        parent_id = run_id_in(order, parent)
        run = get(service, f"/jobs/runs/{parent_id}")
        assert (run["id"], run["state"], run["startedAt"], run["parentRunUuid"]) == (parent_id, "NEW", None, None)
        runs = get(service, f"/namespaces/tests-{order}/jobs/nightly/runs")["runs"]
        assert [r["id"] for r in runs] == [parent_id], order
        child_run = run_of(service, order, child)
        assert child_run["parentRunUuid"] == parent_id, order
        child_job = get(service, f"/namespaces/tests-{order}/jobs/nightly.step")
        assert (child_job["simpleName"], child_job["parentJobName"]) == ("step", "nightly"), order


def test_the_parents_own_events_decide_its_run(service):
    parent, child = str(uuid.uuid4()), str(uuid.uuid4())
    events = [run_event("START", 0, parent, job="nightly"),
              run_event("COMPLETE", 10, child, job="step", run_facets={"parent": parent_facet(parent)}),
              run_event("COMPLETE", 30, parent, job="nightly")]
    for order in ORDERS:
        post_in_order(service, events, order)
        run = run_of(service, order, parent)
        assert (run["state"], run["startedAt"], run["endedAt"]) == ("COMPLETED", at(0), at(30)), order
        assert len(get(service, f"/namespaces/tests-{order}/jobs/nightly/runs")["runs"]) == 1, order


def test_a_parents_times_count_its_childrens_events_in_any_order_and_batching(service):
    """A child's events that name the parent before or after the parent's own count toward the parent run's
    ``createdAt``/``updatedAt`` whether they arrive alone or in one batch with the parent's."""
    parent, child = str(uuid.uuid4()), str(uuid.uuid4())
    events = [run_event("START", 5, child, job="step", run_facets={"parent": parent_facet(parent)}),
              run_event("START", 10, parent, job="nightly"),
              run_event("COMPLETE", 30, parent, job="nightly"),
              run_event("COMPLETE", 40, child, job="step", run_facets={"parent": parent_facet(parent)})]
    for order in ORDERS:
        post_in_order(service, events, order)
        run = run_of(service, order, parent)
        assert (run["createdAt"], run["updatedAt"], run["startedAt"], run["endedAt"]) == (
            at(5), at(40), at(10), at(30)), order


def test_the_older_parent_run_facet_key_is_honoured(service):
    parent, child = str(uuid.uuid4()), str(uuid.uuid4())
    events = [run_event("COMPLETE", 10, child, job="step", run_facets={"parentRun": parent_facet(parent)})]
    for order in ORDERS:
        post_in_order(service, events, order)
        assert run_of(service, order, child)["parentRunUuid"] == run_id_in(order, parent), order
        assert run_of(service, order, parent)["state"] == "NEW", order
        job = get(service, f"/namespaces/tests-{order}/jobs/nightly.step")
        assert (job["simpleName"], job["parentJobName"]) == ("step", "nightly"), order


def name_based_uuid(name: str) -> str:
    """Java's UUID.nameUUIDFromBytes over the URL namespace's bytes and the name: MD5, version 3."""
    digest = bytearray(hashlib.md5(uuid.NAMESPACE_URL.bytes + name.encode()).digest())
    digest[6] = (digest[6] & 0x0F) | 0x30
    digest[8] = (digest[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(digest)))


def test_a_parent_run_id_that_is_not_a_uuid_maps_to_a_name_based_uuid(service):
    """The DAG is the parent job's name up to its last dot: a task group's run maps as its DAG's does."""
    child, other = str(uuid.uuid4()), str(uuid.uuid4())
    airflow_run = "scheduled__2026-03-01T00:00:00+00:00"
    assert name_based_uuid(f"etl_dag.{airflow_run}") == "6ac605b7-f1ee-3d9f-97ec-da01349e5358"
    for number, order in enumerate(ORDERS):
        run_name = f"scheduled{number}__2026-03-01T00:00:00+00:00"
        events = [run_event("COMPLETE", 10, child, job="extract", run_facets={"parent": parent_facet(run_name,
                                                                                                     "etl_dag")}),
                  run_event("COMPLETE", 12, other, job="load",
                            run_facets={"parent": parent_facet(f"group_{run_name}", "etl_dag.load_group")})]
        post_in_order(service, events, order)
        parent_id, group_id = name_based_uuid(f"etl_dag.{run_name}"), name_based_uuid(f"etl_dag.group_{run_name}")
        assert run_of(service, order, child)["parentRunUuid"] == parent_id, order
        assert run_of(service, order, other)["parentRunUuid"] == group_id, order
        runs = get(service, f"/namespaces/tests-{order}/jobs/etl_dag/runs")["runs"]
        assert [(r["id"], r["state"]) for r in runs] == [(parent_id, "NEW")], order
        runs = get(service, f"/namespaces/tests-{order}/jobs/etl_dag.load_group/runs")["runs"]
        assert [(r["id"], r["state"]) for r in runs] == [(group_id, "NEW")], order


def test_a_job_that_gains_a_parent_later_is_renamed_with_its_runs(service):
    before, with_parent, after = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    step = {"job": "step", "outputs": [table("staged")]}
    events = [run_event("START", 0, before, **step), run_event("COMPLETE", 10, before, job="step"),
              run_event("START", 20, with_parent, run_facets={"parent": parent_facet(str(uuid.uuid4()))}, **step),
              run_event("COMPLETE", 30, with_parent, job="step"),
              run_event("START", 40, after, **step), run_event("COMPLETE", 50, after, job="step")]
    for order in ORDERS:
        post_in_order(service, events, order)
        names = sorted(j["name"] for j in get(service, f"/namespaces/tests-{order}/jobs")["jobs"])
        assert names == ["nightly", "nightly.step"], order
        job = get(service, f"/namespaces/tests-{order}/jobs/nightly.step")
        assert (job["simpleName"], job["parentJobName"]) == ("step", "nightly"), order
        assert (job["createdAt"], job["updatedAt"]) == (at(0), at(50)), order
        runs = get(service, f"/namespaces/tests-{order}/jobs/nightly.step/runs")["runs"]
        assert [r["id"] for r in runs] == [run_id_in(order, r) for r in (after, with_parent, before)], order
        [version] = get(service, f"/namespaces/tests-{order}/jobs/nightly.step/versions")["versions"]
        assert {r["jobVersion"]["version"] for r in runs} == {version["version"]} == {job["currentVersion"]}, order
        assert (version["createdAt"], version["latestRun"]["id"]) == (at(10), run_id_in(order, after)), order


def test_a_parentless_job_merges_into_its_child_job_where_a_store_holds_both(service):
    """A store written before jobs were renamed may hold "step" and "nightly.step": the next event with the
    parent moves the runs and facets of "step" into "nightly.step" (the newer facet of a name wins)."""
    old_run, new_run = str(uuid.uuid4()), str(uuid.uuid4())
    documented = {"documentation": facet(description="old text")}
    assert service.post(f"{API}/lineage", json=run_event("COMPLETE", 0, old_run, job="step",
                                                         job_facets=documented)).status_code == 201
    with service.app.state.engine.begin() as conn:
        conn.execute(jobs.insert().values(namespace="tests", name="nightly.step", simple_name="step",
                                          parent_job_name="nightly", type="BATCH", created_at=T0, updated_at=T0))
    newer = {"documentation": facet(description="new text")}
    event = run_event("COMPLETE", 20, new_run, job="step", job_facets=newer,
                      run_facets={"parent": parent_facet(str(uuid.uuid4()))})
    assert service.post(f"{API}/lineage", json=event).status_code == 201
    assert service.get(f"{API}/namespaces/tests/jobs/step").status_code == 404
    job = get(service, "/namespaces/tests/jobs/nightly.step")
    assert (job["description"], job["facets"]["documentation"]["description"]) == ("new text", "new text")
    assert [r["id"] for r in job["latestRuns"]] == [new_run, old_run]


# -- streaming ----------------------------------------------------------------------------------

def test_a_streaming_job_is_versioned_while_it_runs_and_keeps_its_edges(service):
    run_id = str(uuid.uuid4())
    streaming = {"jobType": facet(processingType="STREAMING", integration="FLINK", jobType="JOB")}
    events = [run_event("START", 0, run_id, job="enrich", inputs=[table("clicks")], outputs=[table("sessions")],
                        job_facets=streaming),
              run_event("RUNNING", 60, run_id, job="enrich", job_facets=streaming)]
    for order in ORDERS:
        post_in_order(service, events, order)
        job = get(service, f"/namespaces/tests-{order}/jobs/enrich")
        assert job["type"] == "STREAM" and job["latestRun"]["state"] == "RUNNING", order
        [version] = get(service, f"/namespaces/tests-{order}/jobs/enrich/versions")["versions"]
        assert job["currentVersion"] == version["version"], order
        assert job["latestRun"]["jobVersion"]["version"] == version["version"], order
        assert [d["name"] for d in job["inputs"]] == ["clicks"], order
        assert [d["name"] for d in job["outputs"]] == ["sessions"], order
        [written] = versions_of(service, order, "sessions")
        assert dataset_of(service, order, "sessions")["currentVersion"] == written["version"], order
