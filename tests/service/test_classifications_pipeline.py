"""Personal data on the real jobs' lineage (the built-in capture's events of the eight jobs, and for the policy
and the declared corrections the official OpenLineage listener's too), with the shipped
``conf/classification.yml`` and ``conf/privacy_policy.yml``: what reaches which output, what the jobs mask,
that the shipped policy holds on both captures' lineage, and that a job copying raw customers' e-mail unmasked into a reporting table,
run with real Spark under the built-in capture, breaks it (the route, and ``lineage-audit audit`` against a
running service), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from lineage_audit.capture.listener import install
from lineage_audit.cli import main
from tests.capture.spec import read_events
from tests.service.conftest import post_batches
from tests.web.live_service import LiveService

API = "/api/v1"


@pytest.fixture(scope="module")
def leaking_job(spark, pipeline_run, tmp_path_factory) -> tuple[str, list[dict]]:
    """A job that is not one of the eight: raw customers' e-mails, copied as they are into a reporting table."""
    folder = tmp_path_factory.mktemp("leaking_job")
    target = str(folder / "reports" / "contact_list")
    capture = install(spark, {"spark.openlineage.transport.type": "file",
                              "spark.openlineage.transport.location": str(folder / "events.ndjson"),
                              "spark.openlineage.spool.dir": str(folder / "spool"),
                              "spark.openlineage.namespace": "tests"})
    try:
        spark.read.option("header", True).csv(str(pipeline_run / "inputs" / "raw_customers.csv")) \
            .select("customer_id", "email").write.mode("overwrite").parquet(target)
    finally:
        assert capture.flush()
        capture.close()
    return target, read_events(folder / "events.ndjson")


@pytest.fixture(params=["builtin", "official"])
def captured(request) -> tuple[str, list[dict]]:
    """The eight jobs' events under the built-in capture, or under the official listener (``make run``)."""
    fixture = "pipeline_events" if request.param == "builtin" else "official_pipeline_events"
    return request.param, request.getfixturevalue(fixture)


def ingest(service, events: list[dict]) -> None:
    post_batches(lambda body: service.post(f"{API}/lineage", json=body), events)


def dataset_of(events: list[dict], suffix: str) -> str:
    names = {d["name"] for e in events for d in e.get("inputs", []) + e.get("outputs", [])}
    return next(name for name in names if name.endswith(suffix))


def field_entry(service, dataset: str, field: str) -> dict:
    response = service.get(f"{API}/namespaces/file/datasets/{quote(dataset, safe='')}/fields/{field}/classifications")
    assert response.status_code == 200, response.text
    return response.json()


def hops(carry: dict) -> list[tuple[str, str, str, bool]]:
    """Each step as (writing job's app, output column, subtype, masking)."""
    return [(s["job"]["name"].split(".")[0], f"{s['to']['dataset'].rsplit('/', 1)[-1]}.{s['to']['field']}",
             s["transformation"]["subtype"], s["transformation"]["masking"]) for s in carry["path"]]


def test_the_real_jobs_carry_names_and_mask_contact_details(service, pipeline_events):
    ingest(service, pipeline_events)
    raw = dataset_of(pipeline_events, "/inputs/raw_customers.csv")
    email = field_entry(service, raw, "email")
    assert [(c["class"], c["source"]["origin"]) for c in email["carries"]] == [("PII.email", "rule")]
    # the customers job hashes e-mails and phones: they reach its outputs only masked
    for output, field, class_name in [("processed_customers", "email_hash", "PII.email"),
                                      ("processed_customers", "phone_hash", "PII.phone"),
                                      ("customer_master", "email_hash", "PII.email")]:
        entry = field_entry(service, dataset_of(pipeline_events, f"/outputs/{output}"), field)
        assert entry["carries"] == [], (output, field)
        assert [(c["class"], hops(c)) for c in entry["masked"]] == [
            (class_name, [("customers", f"{output}.{field}", "TRANSFORMATION", True)])]
        assert entry["masked"][0]["maskedAt"] == entry["masked"][0]["path"][-1]
    # names reach the customer master in the clear
    full_name = field_entry(service, dataset_of(pipeline_events, "/outputs/customer_master"), "full_name")
    assert sorted((c["class"], c["source"]["field"], tuple(hops(c))) for c in full_name["carries"]) == [
        ("PII.name", name, (("customers", "customer_master.full_name", "TRANSFORMATION", False),))
        for name in ("first_name", "last_name")]
    # across two jobs: the age computed from birth dates reaches the user analytics
    age = field_entry(service, dataset_of(pipeline_events, "/outputs/real_time_user_analytics"), "age")
    assert [(c["class"], hops(c)) for c in age["carries"]] == [("PII.birth_date", [
        ("customers", "processed_customers.age", "TRANSFORMATION", False),
        ("analytics", "real_time_user_analytics.age", "TRANSFORMATION", False)])]
    # counting distinct users masks them
    unique = field_entry(service, dataset_of(pipeline_events, "/outputs/trending_content"), "unique_users")
    assert unique["carries"] == [] and [c["class"] for c in unique["masked"]] == ["PII.online_id"]
    enriched = service.get(f"{API}/namespaces/file/datasets/"
                           f"{quote(dataset_of(pipeline_events, '/outputs/enriched_orders'), safe='')}"
                           "/classifications").json()
    assert (enriched["classes"], enriched["maskedClasses"]) == ([], [])


def test_the_shipped_policy_holds_for_the_eight_jobs(service, captured):
    _capture, events = captured
    ingest(service, events)
    body = service.get(f"{API}/audit/policy").json()
    assert Path(body["policy"]).name == "privacy_policy.yml"  # the conf/ copy of the tests
    assert body["violations"] == [] and body["passed"] is True
    outputs = {d["name"] for e in events for d in e.get("outputs", [])}
    assert body["checkedFields"] >= len(outputs) > 30


def declared_steps(body: dict) -> set[tuple[str, str, str, str]]:
    """(output dataset's short name, output field, input field, declared as) of every declared step."""
    return {(s["to"]["dataset"].rsplit("/", 1)[-1], s["to"]["field"], s["from"]["field"], s["declared"]["as"])
            for f in body["fields"] for status in ("carries", "masked", "influencedBy") for c in f[status]
            for s in c["path"] if "declared" in s}


def test_the_declared_corrections_fill_the_official_listeners_gaps_only(service, captured):
    capture, events = captured
    ingest(service, events)
    declared = declared_steps(service.get(f"{API}/audit/classifications").json())
    email_hash = field_entry(service, dataset_of(events, "/outputs/processed_customers"), "email_hash")
    assert email_hash["carries"] == [] and [c["class"] for c in email_hash["masked"]] == ["PII.email"]
    masked_at = email_hash["masked"][0]["maskedAt"]
    user_sequence = field_entry(service, dataset_of(events, "/outputs/audit_trail"), "user_sequence")
    assert user_sequence["carries"] == [] and [c["class"] for c in user_sequence["influencedBy"]] == ["PII.online_id"]
    if capture == "builtin":  # the built-in capture reports the hash as masking and the window key as INDIRECT
        assert declared == set() and masked_at["transformation"]["masking"] is True
        assert user_sequence["influencedBy"][0]["path"][-1]["transformation"]["subtype"] == "WINDOW"
        return
    # the official listener calls sha2 a clear TRANSFORMATION: masked as declared, the capture left as it is
    assert masked_at["transformation"]["masking"] is False and masked_at["declared"]["as"] == "masked"
    assert "jobs/customers.py" in masked_at["declared"]["reason"]
    assert user_sequence["influencedBy"][0]["path"][-1]["declared"]["as"] == "influenced"
    # the three gaps: hashes, distinct counts (and a count_if), a window's partition key
    assert {("processed_customers", "email_hash", "email", "masked"),
            ("processed_customers", "phone_hash", "phone", "masked"),
            ("customer_master", "email_hash", "email", "masked"),
            ("audit_trail", "event_fingerprint", "client_ip", "masked"),
            ("real_time_user_analytics", "session_id", "user_id", "masked"),
            ("trending_content", "unique_users", "user_id", "masked"),
            ("governance_dashboard", "distinct_users", "user_name", "masked"),
            ("compliance_report", "users_with_violations", "user_name", "masked"),
            ("trained_model", "rows_with_behaviour_features", "user_id", "masked"),
            ("real_time_user_analytics", "session_number", "user_id", "influenced"),
            ("audit_trail", "previous_access_ts", "user_name", "influenced")} <= declared


def test_a_job_copying_emails_into_a_report_violates_the_policy(service, pipeline_events, leaking_job):
    target, events = leaking_job
    ingest(service, pipeline_events + events)
    body = service.get(f"{API}/audit/policy").json()
    assert body["passed"] is False
    assert [(v["dataset"], v["field"], v["class"]) for v in body["violations"]] == [(target, "email", "PII.email")]
    violation = body["violations"][0]
    assert violation["source"] | {"detail": ""} == {
        "namespace": "file", "dataset": dataset_of(pipeline_events, "/inputs/raw_customers.csv"), "field": "email",
        "origin": "rule", "detail": ""}
    writer = next(e["job"]["name"] for e in events if e.get("outputs"))
    assert hops(violation) == [(writer.split(".")[0], "contact_list.email", "IDENTITY", False)]
    assert violation["path"][0]["job"] == {"namespace": "tests", "name": writer}


@pytest.fixture(params=["sqlite", "postgresql"])
def live_service(request, tmp_path):
    url = None
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        url = server.new_database("lineage_audit_cli")
    service = LiveService(tmp_path, url)
    try:
        yield service
    finally:
        service.stop()


def test_lineage_audit_audit_passes_then_fails_with_the_full_path(live_service, pipeline_events, leaking_job,
                                                                  capsys):
    live_service.post(pipeline_events)
    assert main(["audit", "--url", live_service.url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("policy ") and "privacy_policy.yml holds" in out
    target, events = leaking_job
    live_service.post(events)
    assert main(["audit", "--url", live_service.url]) == 1
    raw = dataset_of(pipeline_events, "/inputs/raw_customers.csv")
    job = next(e["job"]["name"] for e in events if e.get("outputs"))
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [f"file:{target}.email  PII.email in the clear",
                         f"   {Path(raw).name}.email (rule) -[{job}: DIRECT/IDENTITY]-> contact_list.email"]
    assert lines[2].startswith("1 violation of ") and len(lines) == 3
    assert main(["audit", "--url", live_service.url, "--json"]) == 1
    assert '"passed": false' in capsys.readouterr().out
    assert main(["audit", "--url", "http://127.0.0.1:9"]) == 2
