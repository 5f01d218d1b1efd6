"""Personal data (issue 14): classes from conf rules, tags and the ``tags`` facet, propagated along column
lineage across jobs (carried, masked, influenced by), the three classification routes and the policy check,
on synthetic events (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from tests.service.conftest import make_client
from tests.service.test_audit_diff import IDENTITY, PRODUCER, post, table
from tests.service.test_ingest import run_event

API = "/api/v1"
TRANSFORMED = {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "upper(name)", "masking": False}
HASHED = {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "sha2(email)", "masking": True}
COUNTED = {"type": "DIRECT", "subtype": "AGGREGATION", "description": "count(phone)", "masking": True}
FILTERED = {"type": "INDIRECT", "subtype": "FILTER", "description": None, "masking": False}
JOINED = {"type": "INDIRECT", "subtype": "JOIN", "description": None, "masking": False}
CLASSIFICATION = """
classes:
  PII.email: an e-mail address
  PII.name: a name
  PII.phone: a phone number
rules:
  - {dataset: "CRM_*", column: "email", classes: [PII.email]}
  - {dataset: "crm_customers", column: "NAME", classes: [PII.name]}
  - {dataset: "crm_customers", column: "phone*", classes: [PII.phone]}
"""
POLICY = """
outputs:
  - dataset: mart
    allow: {"PII.*": the customer mart is a system of record}
  - dataset: STAGED
    columns: [EMAIL, phone]
    allow: {PII.email: staging keeps the address for the merge}
"""
CUSTOMERS = {"email": "string", "name": "string", "phone": "string", "country": "string"}


@pytest.fixture
def audit_service(database_url, tmp_path: Path):
    (tmp_path / "classification.yml").write_text(CLASSIFICATION)
    (tmp_path / "policy.yml").write_text(POLICY)
    with make_client(database_url, classification_path=str(tmp_path / "classification.yml"),
                     privacy_policy_path=str(tmp_path / "policy.yml")) as client:
        yield client


def job_run(job: str, start: float, inputs: list[dict], outputs: list[dict]) -> list[dict]:
    run_id = f"0c1a5500-0000-4000-8000-{int(start):012d}"
    return [run_event("START", start, run_id, job=job, inputs=inputs),
            run_event("COMPLETE", start + 1, run_id, job=job, inputs=inputs, outputs=outputs)]


def with_row_dependency(entry: dict, source: str, field: str, transformation: dict) -> dict:
    entry["facets"]["columnLineage"]["dataset"] = [{"namespace": "warehouse", "name": source, "field": field,
                                                    "transformations": [{k: v for k, v in transformation.items()
                                                                        if v is not None}]}]
    return entry


def stage_events() -> list[dict]:
    """crm_customers -[stage]-> staged: an identity, a transformation, a hash, a count, a filter and a join."""
    staged = table("staged", {"email": "string", "name_upper": "string", "email_hash": "string",
                              "phones": "bigint", "country": "string"}, lineage={
        "email": [("crm_customers", "email", [IDENTITY])],
        "name_upper": [("crm_customers", "name", [TRANSFORMED])],
        "email_hash": [("crm_customers", "email", [HASHED])],
        "phones": [("crm_customers", "phone", [COUNTED])],
        "country": [("crm_customers", "country", [IDENTITY]), ("crm_customers", "email", [FILTERED])]})
    return job_run("stage", 0, [table("crm_customers", CUSTOMERS)],
                   [with_row_dependency(staged, "crm_customers", "name", JOINED)])


def downstream_events() -> list[dict]:
    """staged -[mart]-> mart -[report]-> contact_list, and a merge of staged into master that reads master."""
    mart = table("mart", {"email": "string", "email_hash": "string", "country": "string"}, lineage={
        "email": [("staged", "email", [IDENTITY])], "email_hash": [("staged", "email_hash", [IDENTITY])],
        "country": [("staged", "country", [IDENTITY])]})
    contact_list = table("contact_list", {"email": "string", "hash": "string"}, lineage={
        "email": [("mart", "email", [IDENTITY])], "hash": [("mart", "email_hash", [IDENTITY])]})
    master = table("master", {"email": "string"}, lineage={
        "email": [("master", "email", [IDENTITY]), ("staged", "email", [IDENTITY])]})
    return (job_run("mart", 10, [table("staged", {})], [mart])
            + job_run("report", 20, [table("mart", {})], [contact_list])
            + job_run("merge", 30, [table("staged", {}), table("master", {"email": "string"})], [master]))


def field_entry(service, dataset: str, field: str) -> dict:
    response = service.get(f"{API}/namespaces/warehouse/datasets/{quote(dataset, safe='')}/fields/{field}"
                           "/classifications")
    assert response.status_code == 200, response.text
    return response.json()


def summary(carries: list[dict]) -> list[tuple]:
    """(class, source column, the path as "dataset.field" steps) of each carry."""
    return [(c["class"], f"{c['source']['dataset']}.{c['source']['field']}",
             [f"{s['job']['name']}:{s['to']['dataset']}.{s['to']['field']}" for s in c["path"]]) for c in carries]


def test_identity_and_transformation_carry_hash_and_count_mask(audit_service):
    post(audit_service, stage_events())
    source = field_entry(audit_service, "crm_customers", "email")
    assert summary(source["carries"]) == [("PII.email", "crm_customers.email", [])]
    assert source["carries"][0]["source"]["origin"] == "rule"
    assert "rule 1" in source["carries"][0]["source"]["detail"]
    assert summary(field_entry(audit_service, "staged", "email")["carries"]) == [
        ("PII.email", "crm_customers.email", ["stage:staged.email"])]
    assert summary(field_entry(audit_service, "staged", "name_upper")["carries"]) == [
        ("PII.name", "crm_customers.name", ["stage:staged.name_upper"])]
    hashed = field_entry(audit_service, "staged", "email_hash")
    assert hashed["carries"] == [] and summary(hashed["masked"]) == [
        ("PII.email", "crm_customers.email", ["stage:staged.email_hash"])]
    assert hashed["masked"][0]["maskedAt"]["transformation"] == {"type": "DIRECT", "subtype": "TRANSFORMATION",
                                                                 "masking": True, "description": "sha2(email)"}
    counted = field_entry(audit_service, "staged", "phones")
    assert counted["carries"] == [] and [c["class"] for c in counted["masked"]] == ["PII.phone"]


def test_indirect_edges_influence_fields_and_rows(audit_service):
    post(audit_service, stage_events() + downstream_events())
    country = field_entry(audit_service, "staged", "country")
    assert country["carries"] == [] and summary(country["influencedBy"]) == [
        ("PII.email", "crm_customers.email", ["stage:staged.country"])]
    # influence is one step: the copy of the filtered column downstream is not influenced
    assert field_entry(audit_service, "mart", "country")["influencedBy"] == []
    body = audit_service.get(f"{API}/namespaces/warehouse/datasets/staged/classifications").json()
    assert summary(body["rowsInfluencedBy"]) == [("PII.name", "crm_customers.name", ["stage:staged."])]
    assert body["rowsInfluencedBy"][0]["path"][0]["transformation"]["subtype"] == "JOIN"
    assert (body["classes"], body["maskedClasses"], body["influencedByClasses"]) == (
        ["PII.email", "PII.name"], ["PII.email", "PII.phone"], ["PII.email"])
    assert [f["field"] for f in body["fields"]] == ["email", "name_upper", "email_hash", "phones", "country"]


def test_classes_cross_three_jobs_masked_stays_masked_and_cycles_end(audit_service):
    post(audit_service, stage_events() + downstream_events())
    assert summary(field_entry(audit_service, "contact_list", "email")["carries"]) == [
        ("PII.email", "crm_customers.email", ["stage:staged.email", "mart:mart.email", "report:contact_list.email"])]
    hashed = field_entry(audit_service, "contact_list", "hash")
    assert hashed["carries"] == [] and summary(hashed["masked"]) == [
        ("PII.email", "crm_customers.email", ["stage:staged.email_hash", "mart:mart.email_hash",
                                              "report:contact_list.hash"])]
    assert hashed["masked"][0]["maskedAt"]["to"]["dataset"] == "staged"
    # master.email depends on itself: the shortest path, once
    assert summary(field_entry(audit_service, "master", "email")["carries"]) == [
        ("PII.email", "crm_customers.email", ["stage:staged.email", "merge:master.email"])]


def test_policy_names_the_violation_with_its_path(audit_service):
    post(audit_service, stage_events() + downstream_events())
    body = audit_service.get(f"{API}/audit/policy").json()
    assert body["passed"] is False and body["policy"].endswith("policy.yml")
    assert body["checkedFields"] == 5 + 3 + 2 + 1  # staged, mart, contact_list, master
    found = {(v["dataset"], v["field"], v["class"]): v for v in body["violations"]}
    # mart is allowed, staged only in its email column; hashes and counts (masked) and country (influenced)
    # never violate
    assert sorted(found) == [("contact_list", "email", "PII.email"), ("master", "email", "PII.email"),
                             ("staged", "name_upper", "PII.name")]
    assert summary([found[("contact_list", "email", "PII.email")]]) == [
        ("PII.email", "crm_customers.email", ["stage:staged.email", "mart:mart.email", "report:contact_list.email"])]
    assert audit_service.get(f"{API}/audit/policy", params={"namespace": "tests"}).json()["violations"] == []


def test_a_tag_set_through_the_api_classifies_and_propagates_and_the_next_answer_shows_it(audit_service):
    post(audit_service, stage_events() + downstream_events())
    before = audit_service.get(f"{API}/audit/classifications").json()
    assert field_entry(audit_service, "mart", "country")["carries"] == []
    # a tag that is no declared class changes nothing; Marquez upper-cases a field's tag, still a class
    assert audit_service.post(f"{API}/namespaces/warehouse/datasets/crm_customers/fields/country/tags/"
                              "SENSITIVE").status_code == 200
    assert field_entry(audit_service, "mart", "country")["carries"] == []
    assert audit_service.post(f"{API}/namespaces/warehouse/datasets/crm_customers/fields/country/tags/"
                              "pii.name").status_code == 200
    country = field_entry(audit_service, "mart", "country")["carries"]
    assert summary(country) == [("PII.name", "crm_customers.country", ["stage:staged.country", "mart:mart.country"])]
    assert country[0]["source"] | {"detail": ""} == {"namespace": "warehouse", "dataset": "crm_customers",
                                                     "field": "country", "origin": "tag", "detail": ""}
    after = audit_service.get(f"{API}/audit/classifications").json()
    assert len(after["fields"]) > len(before["fields"])
    assert audit_service.delete(f"{API}/namespaces/warehouse/datasets/crm_customers/fields/country/tags/"
                                "pii.name").status_code == 200
    assert field_entry(audit_service, "mart", "country")["carries"] == []


def test_the_tags_facet_classifies_a_field_or_every_field(audit_service):
    leads = table("crm_leads_feed", {"mobile": "string", "handle": "string"})
    leads["facets"]["tags"] = {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/"
                               "TagsDatasetFacet.json", "tags": [
                                   {"key": "classification", "value": "PII.phone", "source": "USER", "field": "mobile"},
                                   {"key": "pii.NAME", "value": "true", "source": "INTEGRATION"},
                                   {"key": "PII.email", "value": "false"},
                                   {"key": "owner", "value": "crm-team"}]}
    copy = table("leads_copy", {"mobile": "string"}, lineage={"mobile": [("crm_leads_feed", "mobile", [IDENTITY])]})
    post(audit_service, job_run("copy_leads", 40, [leads], [copy]))
    mobile = field_entry(audit_service, "crm_leads_feed", "mobile")["carries"]
    assert sorted(c["class"] for c in mobile) == ["PII.name", "PII.phone"]
    assert {c["source"]["origin"] for c in mobile} == {"facet"}
    assert [c["class"] for c in field_entry(audit_service, "crm_leads_feed", "handle")["carries"]] == ["PII.name"]
    copied = field_entry(audit_service, "leads_copy", "mobile")["carries"]
    assert sorted((c["class"], c["source"]["detail"]) for c in copied) == [
        ("PII.name", "tags facet: key=pii.NAME, value=true, source=INTEGRATION"),
        ("PII.phone", "tags facet: key=classification, value=PII.phone, source=USER, field=mobile")]


def test_an_ingested_event_changes_the_next_answer(audit_service):
    post(audit_service, stage_events())
    first = audit_service.get(f"{API}/audit/classifications").json()
    assert "contact_list" not in {f["dataset"] for f in first["fields"]}
    assert audit_service.get(f"{API}/audit/policy").json()["checkedFields"] == 5
    post(audit_service, downstream_events())
    second = audit_service.get(f"{API}/audit/classifications").json()
    assert second["storeVersion"] > first["storeVersion"]
    assert "contact_list" in {f["dataset"] for f in second["fields"]}
    assert audit_service.get(f"{API}/audit/policy").json()["checkedFields"] == 11
    # a soft-deleted job writes nothing any more: its output is no longer checked
    assert audit_service.delete(f"{API}/namespaces/tests/jobs/report").status_code == 200
    assert audit_service.get(f"{API}/audit/policy").json()["checkedFields"] == 9
    # a soft-deleted dataset leaves the answer, and the path through it
    assert audit_service.delete(f"{API}/namespaces/warehouse/datasets/mart").status_code == 200
    assert field_entry(audit_service, "contact_list", "email")["carries"] == []


def test_the_routes_answer_404_and_list_the_declared_classes(audit_service):
    post(audit_service, stage_events())
    body = audit_service.get(f"{API}/audit/classifications").json()
    assert body["classes"] == [{"name": "PII.email", "description": "an e-mail address"},
                               {"name": "PII.name", "description": "a name"},
                               {"name": "PII.phone", "description": "a phone number"}]
    assert all(f["carries"] or f["masked"] or f["influencedBy"] for f in body["fields"])
    for path, message in [("/namespaces/warehouse/datasets/nope/classifications", "Dataset 'nope' not found"),
                          ("/namespaces/nope/datasets/staged/classifications", "Namespace 'nope' not found"),
                          ("/namespaces/warehouse/datasets/staged/fields/nope/classifications",
                           "Field 'nope' not found"),
                          ("/audit/classifications?namespace=nope", "Namespace 'nope' not found"),
                          ("/audit/policy?namespace=nope", "Namespace 'nope' not found")]:
        response = audit_service.get(API + path)
        assert response.status_code == 404 and response.json()["message"].startswith(message), path
    unclassified = audit_service.get(f"{API}/namespaces/warehouse/datasets/crm_customers/classifications").json()
    assert unclassified["id"] == {"namespace": "warehouse", "name": "crm_customers"}
    assert [(f["field"], f["type"], f["carries"]) for f in unclassified["fields"]][3] == ("country", "string", [])
