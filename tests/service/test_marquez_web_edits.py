"""marquez-web's edits against the service: tags added and removed, deletes (the requests and fields listed in
:mod:`tests.service.marquez_web`)."""

from __future__ import annotations

import pytest

from tests.service.marquez_web import (
    API, CLEANUP, CLICKS, DATASET, ETL, INGEST, JOB, NAMESPACE, PG, REPORT, S3, call, check, dashboard_jobs,
    enc, ListOf, load_pipeline,
)


@pytest.fixture
def ui(service):
    """The service after the small pipeline of :func:`~tests.service.marquez_web.load_pipeline`, and its run ids."""
    return service, load_pipeline(service)


# -- tags --------------------------------------------------------------------------------------------

def test_a_new_tag_is_created_with_its_description(ui):
    # mirrors components/jobs/JobTags.tsx (addTag), store/requests/tags.ts (addTags)
    service, _ = ui
    call(service, "PUT", f"{API}/tags/{enc('Sensitive data')}", json={"description": "Handle with care"},
         headers={"Content-Type": "application/json"})
    tags = call(service, "GET", f"{API}/tags")["tags"]
    assert {"name": "Sensitive data", "description": "Handle with care"} in [
        {k: t[k] for k in ("name", "description")} for t in tags]


def test_job_tags_are_added_and_removed(ui):
    # mirrors components/jobs/JobTags.tsx, store/requests/jobs.ts (addJobTag, deleteJobTag)
    service, _ = ui
    url = f"{API}/namespaces/{enc(ETL)}/jobs/{enc(INGEST)}/tags/{enc('tier 1')}"
    call(service, "POST", url)
    job = call(service, "GET", f"{API}/namespaces/{enc(ETL)}/jobs/{enc(INGEST)}")
    assert job["tags"] == ["tier 1"]
    assert "tier 1" in [t["name"] for t in call(service, "GET", f"{API}/tags")["tags"]]
    assert dashboard_jobs(service, "COMPLETED")[0]["tags"] == ["tier 1"]
    call(service, "DELETE", url)
    assert call(service, "GET", f"{API}/namespaces/{enc(ETL)}/jobs/{enc(INGEST)}")["tags"] == []


def test_dataset_and_field_tags_are_added_and_removed(ui):
    # mirrors components/datasets/DatasetTags.tsx, store/requests/datasets.ts (addDatasetTag, deleteDatasetTag,
    # addDatasetFieldTag, deleteDatasetFieldTag); a name with '/' travels as %2F
    service, _ = ui
    base = f"{API}/namespaces/{enc(S3)}/datasets/{enc('raw/orders.csv')}"
    call(service, "PUT", f"{API}/tags/PII", json={"description": "personal data"})
    check(call(service, "POST", f"{base}/tags/PII"), DATASET)
    check(call(service, "POST", f"{base}/fields/{enc('customer')}/tags/PII"), DATASET)
    dataset = call(service, "GET", base)
    assert dataset["tags"] == ["PII"]
    assert {f["name"]: f["tags"] for f in dataset["fields"]}["customer"] == ["PII"]
    # the drawer's chips are the newest version's tags: the dataset's tags now, as in Marquez (a version's
    # fields keep the tags they were written with; the field drawer reads the dataset's fields)
    assert call(service, "GET", f"{base}/versions?limit=1&offset=0")["versions"][0]["tags"] == ["PII"]
    call(service, "DELETE", f"{base}/fields/{enc('customer')}/tags/PII")
    call(service, "DELETE", f"{base}/tags/PII")
    dataset = call(service, "GET", base)
    assert dataset["tags"] == [] and all(f["tags"] == [] for f in dataset["fields"])
    assert call(service, "GET", f"{base}/versions?limit=1&offset=0")["versions"][0]["tags"] == []


# -- deletes -----------------------------------------------------------------------------------------

def test_deleting_a_dataset_answers_it_and_drops_it_from_the_page(ui):
    # mirrors components/datasets/DatasetDetailPage.tsx (delete button), store/requests/datasets.ts
    # (deleteDataset), store/sagas/index.ts (deleteDatasetSaga reads the answer's name)
    service, _ = ui
    deleted = call(service, "DELETE", f"{API}/namespaces/{enc(PG)}/datasets/{enc('public.daily_revenue')}")
    check(deleted, DATASET)
    assert deleted["name"] == "public.daily_revenue"
    listed = call(service, "GET", f"{API}/namespaces/{enc(PG)}/datasets?limit=20&offset=0")
    assert [d["name"] for d in listed["datasets"]] == ["public.orders"] and listed["totalCount"] == 1
    call(service, "GET", f"{API}/namespaces/{enc(PG)}/datasets/{enc('public.daily_revenue')}", 404)


def test_deleting_a_job_answers_it_and_drops_it_from_the_dashboard(ui):
    # mirrors components/jobs/JobDetailPage.tsx (delete button), store/requests/jobs.ts (deleteJob),
    # store/sagas/index.ts (deleteJobSaga reads the answer's name)
    service, _ = ui
    deleted = call(service, "DELETE", f"{API}/namespaces/{enc(ETL)}/jobs/{enc(REPORT)}")
    check(deleted, JOB)
    assert deleted["name"] == REPORT
    assert REPORT not in [job["name"] for job in dashboard_jobs(service)]
    assert dashboard_jobs(service, "FAILED") == []
    call(service, "GET", f"{API}/namespaces/{enc(ETL)}/jobs/{enc(REPORT)}", 404)


def test_deleting_a_namespace_hides_its_jobs_and_datasets(ui):
    # marquez-web sends no namespace delete; components/namespace-select/NamespaceSelect.tsx and
    # routes/dashboard/Dashboard.tsx must still render after one made through the API
    service, _ = ui
    check(call(service, "DELETE", f"{API}/namespaces/{enc(S3)}"), NAMESPACE)
    namespaces = call(service, "GET", f"{API}/namespaces")["namespaces"]
    check(namespaces, ListOf(NAMESPACE))
    assert {n["name"]: n["isHidden"] for n in namespaces}[S3] is True
    assert call(service, "GET", f"{API}/namespaces/{enc(S3)}/datasets?limit=20&offset=0")["datasets"] == []
    assert [job["name"] for job in dashboard_jobs(service)] == [CLEANUP, CLICKS, REPORT, INGEST]
    assert {r["namespace"] for r in call(service, "GET", f"{API}/search?q=orders&sort=NAME&limit=100")["results"]
            } == {ETL, PG}
    graph = call(service, "GET", f"{API}/lineage?nodeId=job:{enc(ETL)}:{enc(INGEST)}&depth=2")["graph"]
    assert not [node["id"] for node in graph if S3 in node["id"]]
