"""Declared corrections of the column lineage (``declared`` in conf/classification.yml): ``masked`` turns a
captured clear carry into a masked one, ``influenced`` into an influence, each only into the columns and from
the input columns it names, shown as ``declared`` on the step; a declaration never changes an edge the capture
reports as masking or INDIRECT, so it never puts a class in the clear (synthetic events, SQLite and
PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineage_audit.config import ConfigError
from lineage_audit.service.classification import parse_classification
from tests.service.conftest import make_client
from tests.service.test_audit_diff import IDENTITY, post, table
from tests.service.test_classifications import CUSTOMERS, FILTERED, HASHED, POLICY, field_entry, job_run, summary

API = "/api/v1"
SHA2_REASON = "sha2(concat_ws('|', email, name)) in stage.py"
WINDOW_REASON = "row_number() over Window.partitionBy('name') in stage.py"
CLASSIFICATION = f"""
classes:
  PII.email: an e-mail address
  PII.name: a name
  PII.phone: a phone number
rules:
  - {{dataset: "CRM_*", column: "email", classes: [PII.email]}}
  - {{dataset: "crm_customers", column: "name", classes: [PII.name]}}
  - {{dataset: "crm_customers", column: "phone", classes: [PII.phone]}}
declared:
  - {{dataset: STAGED, column: FINGER*, as: masked, reason: "{SHA2_REASON}"}}
  - {{dataset: staged, column: [rank, other], input: NAME, as: influenced, reason: "{WINDOW_REASON}"}}
  # neither can change what the capture already says: a hash it reports masking, a filter it reports INDIRECT
  - {{dataset: staged, column: email_hash, as: influenced, reason: "not true, for the test"}}
  - {{dataset: staged, column: country, input: email, as: masked, reason: "not true, for the test"}}
"""


@pytest.fixture
def declared_service(database_url, tmp_path: Path):
    (tmp_path / "classification.yml").write_text(CLASSIFICATION)
    (tmp_path / "policy.yml").write_text(POLICY)
    with make_client(database_url, classification_path=str(tmp_path / "classification.yml"),
                     privacy_policy_path=str(tmp_path / "policy.yml")) as client:
        yield client


def stage_events() -> list[dict]:
    """crm_customers -[stage]-> staged -[mart]-> mart, with the lineage a capture that misses hashes and
    window keys reports: the fingerprint (a hash) and the rank (a row number over names) as IDENTITY."""
    staged = table("staged", {"email": "string", "fingerprint": "string", "rank": "int", "email_hash": "string",
                              "country": "string"}, lineage={
        "email": [("crm_customers", "email", [IDENTITY])],
        "fingerprint": [("crm_customers", "email", [IDENTITY]), ("crm_customers", "name", [IDENTITY])],
        "rank": [("crm_customers", "name", [IDENTITY]), ("crm_customers", "phone", [IDENTITY])],
        "email_hash": [("crm_customers", "email", [HASHED])],
        "country": [("crm_customers", "country", [IDENTITY]), ("crm_customers", "email", [FILTERED])]})
    mart = table("mart", {"fingerprint": "string", "rank": "int"}, lineage={
        "fingerprint": [("staged", "fingerprint", [IDENTITY])], "rank": [("staged", "rank", [IDENTITY])]})
    return (job_run("stage", 0, [table("crm_customers", CUSTOMERS)], [staged])
            + job_run("mart", 10, [table("staged", {})], [mart]))


def test_a_masked_declaration_masks_a_captured_identity_at_its_step_and_downstream(declared_service):
    post(declared_service, stage_events())
    fingerprint = field_entry(declared_service, "staged", "fingerprint")
    assert fingerprint["carries"] == [] and fingerprint["influencedBy"] == []
    assert summary(fingerprint["masked"]) == [("PII.email", "crm_customers.email", ["stage:staged.fingerprint"]),
                                              ("PII.name", "crm_customers.name", ["stage:staged.fingerprint"])]
    masked_at = fingerprint["masked"][0]["maskedAt"]
    # the transformation stays as captured; the step says what was declared, and why
    assert masked_at["transformation"] == {"type": "DIRECT", "subtype": "IDENTITY", "masking": False,
                                           "description": None}
    assert masked_at["declared"] == {"as": "masked", "reason": SHA2_REASON}
    downstream = field_entry(declared_service, "mart", "fingerprint")
    assert downstream["carries"] == [] and summary(downstream["masked"]) == [
        ("PII.email", "crm_customers.email", ["stage:staged.fingerprint", "mart:mart.fingerprint"]),
        ("PII.name", "crm_customers.name", ["stage:staged.fingerprint", "mart:mart.fingerprint"])]
    assert downstream["masked"][0]["maskedAt"] == masked_at
    assert "declared" not in downstream["masked"][0]["path"][1]
    # a column no entry names keeps what the capture says
    email = field_entry(declared_service, "staged", "email")["carries"]
    assert summary(email) == [("PII.email", "crm_customers.email", ["stage:staged.email"])]
    assert "declared" not in email[0]["path"][0]


def test_an_influenced_declaration_applies_only_from_the_input_columns_it_names(declared_service):
    post(declared_service, stage_events())
    rank = field_entry(declared_service, "staged", "rank")
    assert summary(rank["influencedBy"]) == [("PII.name", "crm_customers.name", ["stage:staged.rank"])]
    assert rank["influencedBy"][0]["path"][0]["declared"] == {"as": "influenced", "reason": WINDOW_REASON}
    assert rank["influencedBy"][0]["path"][0]["transformation"]["type"] == "DIRECT"
    # the phone is no input the entry names: still carried in the clear
    assert summary(rank["carries"]) == [("PII.phone", "crm_customers.phone", ["stage:staged.rank"])]
    assert "declared" not in rank["carries"][0]["path"][0]
    # influence is one step, as a captured INDIRECT edge's: the copy of the rank holds no name
    mart_rank = field_entry(declared_service, "mart", "rank")
    assert [c["class"] for c in mart_rank["carries"]] == ["PII.phone"]
    assert (mart_rank["masked"], mart_rank["influencedBy"]) == ([], [])
    body = declared_service.get(f"{API}/namespaces/warehouse/datasets/staged/classifications").json()
    assert "PII.name" in body["influencedByClasses"] and "PII.name" not in body["classes"]


def test_a_declaration_never_changes_a_captured_masking_or_indirect_edge(declared_service):
    post(declared_service, stage_events())
    hashed = field_entry(declared_service, "staged", "email_hash")
    assert (hashed["carries"], hashed["influencedBy"]) == ([], [])
    assert [c["class"] for c in hashed["masked"]] == ["PII.email"]
    assert hashed["masked"][0]["maskedAt"]["transformation"]["masking"] is True
    assert "declared" not in hashed["masked"][0]["maskedAt"]
    country = field_entry(declared_service, "staged", "country")
    assert (country["carries"], country["masked"]) == ([], [])
    assert summary(country["influencedBy"]) == [("PII.email", "crm_customers.email", ["stage:staged.country"])]
    assert "declared" not in country["influencedBy"][0]["path"][0]


def test_the_policy_reads_the_declared_lineage(declared_service):
    post(declared_service, stage_events())
    body = declared_service.get(f"{API}/audit/policy").json()
    # the fingerprint (masked) and the rank's name (influenced) pass; the rank's phone is still in the clear
    # (mart may hold any PII in the clear)
    assert {(v["dataset"], v["field"], v["class"]) for v in body["violations"]} == {("staged", "rank", "PII.phone")}


@pytest.mark.parametrize("entry, message", [
    ({"dataset": "t", "column": "c", "as": "masked"}, "needs 'dataset', 'column', 'as' and 'reason'"),
    ({"dataset": "t", "column": "c", "as": "clear", "reason": "r"}, "'as' must be one of masked, influenced"),
    ({"dataset": "t", "column": "c", "as": "masked", "reason": " "}, "'reason' must say what the job's code does"),
    ({"dataset": "t", "column": [], "as": "masked", "reason": "r"}, "'column' must be a pattern or a list"),
    ({"dataset": "t", "column": "c", "as": "masked", "reason": "r", "class": "x"}, "unknown keys class"),
])
def test_a_declared_entry_must_say_where_what_and_why(entry, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        parse_classification({"classes": {}, "declared": [entry]}, "classification.yml")
