"""Job and dataset pages: run history with the error of a failed run; schema, versions and their difference,
row counts and the column lineage table."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from tests.web.events import dataset, run_events, two_job_events
from tests.web.ui import attributes, detail_url

JOB_NAMESPACE = "data-lineage-audit"
ERROR = "AnalysisException: [PATH_NOT_FOUND] Path does not exist: file:/data/inputs/raw_orders.jsonl"
SCORES = "/data/web-tests/outputs/customer_scores"


@pytest.fixture(scope="module")
def enriched(pipeline_events) -> dict:
    """The orders job's write of enriched_orders: its job name, output, inputs, and the run's start and end."""
    events = [e for e in two_job_events(pipeline_events) if e["job"]["name"].endswith("outputs_enriched_orders")]
    complete = next(e for e in events if e["eventType"] == "COMPLETE")
    start = next(e for e in events if e["eventType"] == "START" and e["run"]["runId"] == complete["run"]["runId"])
    return {"job": complete["job"]["name"], "output": complete["outputs"][0], "inputs": complete["inputs"],
            "times": tuple(datetime.fromisoformat(e["eventTime"]) for e in (start, complete))}


@pytest.fixture(scope="module")
def failed_rerun(post, enriched) -> float:
    """A later run of the same write fails (FAIL with an error message) after 42 s; returns its start (epoch s)."""
    earliest = enriched["times"][1].replace(microsecond=0) + timedelta(seconds=1)  # after the real run
    started = max(earliest, datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=5))
    post(run_events(enriched["job"], inputs=enriched["inputs"], state="FAIL", error=ERROR, started=started,
                    seconds=42))
    return started.timestamp()


def test_job_page_shows_run_history_and_the_error_of_a_failed_run(page, enriched, failed_rerun, screenshot):
    page.goto(detail_url("job", JOB_NAMESPACE, enriched["job"]))
    rows = page.locator("[data-testid=run-history] [data-testid=run-row]")
    expect(rows).to_have_count(2)
    assert [rows.nth(i).get_attribute("data-state") for i in range(2)] == ["FAILED", "COMPLETED"]  # newest first
    failed, completed = rows.nth(0), rows.nth(1)
    expect(failed.locator("[data-testid=run-error]")).to_have_text(ERROR)
    expect(completed.locator("[data-testid=run-error]")).to_have_count(0)
    error_facet = failed.locator("[data-testid=facet]").filter(has_text="errorMessage")
    expect(error_facet).to_have_count(1)
    expect(error_facet).not_to_have_attribute("open", "")  # folded ...
    error_facet.locator("summary").first.click()
    expect(error_facet).to_contain_text('"python"')  # ... and its JSON once opened

    # state, start, end and duration: the failed run's as posted, the real run's as its events say
    cells = run_cells(page)
    assert cells[0]["State"] == "FAILED" and cells[1]["State"] == "COMPLETED"
    assert (cells[0]["Started"], cells[0]["Ended"]) == (shown_time(failed_rerun), shown_time(failed_rerun + 42))
    assert cells[0]["Duration"] == "42.0 s"
    start, end = enriched["times"]
    assert (cells[1]["Started"], cells[1]["Ended"]) == (shown_time(start), shown_time(end))
    assert re.fullmatch(r"\d+ ms|\d+\.\d s|\d+ min \d+ s", cells[1]["Duration"]), cells[1]["Duration"]
    expect(page.locator("main")).to_contain_text(enriched["job"])  # the full name, beside the short one

    job_type = page.locator("[data-testid=facet]").filter(has_text="jobType").last
    expect(job_type).to_have_js_property("tagName", "DETAILS")
    expect(job_type).not_to_have_attribute("open", "")  # folded ...
    job_type.locator("summary").first.click()
    expect(job_type).to_contain_text('"SQL_JOB"')  # ... and its JSON once opened
    screenshot(page, "job-detail")


def run_cells(page) -> list[dict[str, str]]:
    """Each run row of the history as {column header: cell text}."""
    return page.locator("[data-testid=run-history]").evaluate("""table => {
        const headers = [...table.querySelectorAll('thead th')].map(th => th.textContent.trim());
        return [...table.querySelectorAll('[data-testid=run-row]')].map(row => Object.fromEntries(
            [...row.children].map((cell, i) => [headers[i], cell.textContent.trim()])));
    }""")


def shown_time(at: datetime | float) -> str:
    """A time as the pages show it (the browser runs in UTC)."""
    if not isinstance(at, datetime):
        at = datetime.fromtimestamp(at, timezone.utc)
    return at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def test_dataset_page_shows_schema_row_count_and_column_lineage(page, enriched, screenshot):
    output = enriched["output"]
    page.goto(detail_url("dataset", output["namespace"], output["name"]))
    schema = page.locator("[data-testid=schema]")
    for column in (f["name"] for f in output["facets"]["schema"]["fields"]):
        expect(schema).to_contain_text(column)
    rows = output["outputFacets"]["outputStatistics"]["rowCount"]
    expect(page.locator("[data-testid=row-count]")).to_have_count(1)  # one version
    expect(page.locator("[data-testid=row-count]")).to_have_text(f"{rows:,}")
    expect(page.locator("[data-testid=row-count]")).to_have_attribute("data-rows", str(rows))

    # the column lineage table: one row per (column, input field), with the transformation
    table = page.locator("[data-testid=column-lineage-table]")
    shown = table.evaluate("t => [...t.querySelectorAll('tbody tr')].map(r => [...r.cells].map(c => "
                           "c.textContent.trim()))")
    lineage = output["facets"]["columnLineage"]["fields"]
    assert len(shown) == sum(len(column["inputFields"]) for column in lineage.values())
    for column in ("net_amount", "customer_segment"):
        for source in lineage[column]["inputFields"]:
            codes = {f"{t['type']}/{t['subtype']}" for t in source["transformations"]}
            assert any(cells[0] == column and source["name"].rsplit("/", 1)[1] in cells and source["field"] in cells
                       and all(code in " ".join(cells) for code in codes) for cells in shown), (column, source)
    screenshot(page, "dataset-detail", full_page=True)


def test_dataset_page_shows_versions_and_the_schema_difference(page, post):
    version_1 = {"customer_id": "string", "score": "double", "segment": "string"}
    version_2 = {"customer_id": "string", "score": "decimal(18,2)", "tier": "string"}
    now = datetime.now(timezone.utc)
    post(run_events("scores.write_customer_scores", outputs=[dataset(SCORES, version_1, rows=100)],
                    started=now - timedelta(minutes=30), seconds=10)
         + run_events("scores.write_customer_scores", outputs=[dataset(SCORES, version_2, rows=1200)],
                      started=now - timedelta(minutes=10), seconds=10))

    page.goto(detail_url("dataset", "file", SCORES))
    schema = page.locator("[data-testid=schema]")
    expect(schema).to_contain_text("tier")  # the current schema
    expect(schema).not_to_contain_text("segment")
    expect(page.locator("[data-testid=versions] [data-testid=row-count]")).to_have_text(["1,200", "100"])
    diff = page.locator("[data-testid=schema-diff]")  # the previous version against the newest
    expect(diff).to_have_attribute("data-changes", "3")
    changes = {a["data-change"]: text for a, text in zip(
        attributes(page, "[data-testid=schema-diff] [data-change]", "data-change"),
        diff.locator("[data-change]").all_text_contents())}
    assert set(changes) == {"added", "removed", "type"}
    assert "tier" in changes["added"] and "segment" in changes["removed"]
    assert re.search(r"score\W+double\W+decimal\(18,2\)", changes["type"]), changes["type"]
    expect(diff).not_to_contain_text("customer_id")  # unchanged


def test_an_application_job_lists_the_jobs_it_ran_and_where_its_code_is(page, pipeline_events):
    events = two_job_events(pipeline_events)
    children = {e["job"]["name"] for e in events
                if e["run"]["facets"].get("parent", {}).get("job", {}).get("name") == "orders"}
    assert len(children) >= 2  # enriched_orders, order_summary, the rejects
    page.goto(detail_url("job", JOB_NAMESPACE, "orders"))
    rows = page.locator("[data-testid=child-job-row]")
    expect(rows).to_have_count(len(children))
    assert {a["data-name"] for a in attributes(page, "[data-testid=child-job-row]", "data-name")} == children
    location = next((e["job"]["facets"]["sourceCodeLocation"] for e in events
                     if e["job"]["name"] == "orders" and "sourceCodeLocation" in e["job"].get("facets", {})), None)
    if location is not None:  # capture sends it since this session; a reused older run may lack it
        expect(page.locator("[data-testid=source-location]")).to_contain_text(location["url"])
        if location.get("version"):
            expect(page.locator("[data-testid=source-location]")).to_contain_text(location["version"][:12])
