"""The overview, the global search and the filtered lists, after the customers and orders jobs ran."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from tests.web.events import dataset, run_events, two_job_events
from tests.web.ui import attributes

JOB_NAMESPACE = "data-lineage-audit"
FAILED_JOB = "customers.execute_insert_into_hadoop_fs_relation_command.outputs_customer_master_delta"
FAILED_INPUT = "/data/web-tests/processed_customers"


@pytest.fixture(scope="module")
def names(pipeline_events) -> dict[str, set[str]]:
    events = two_job_events(pipeline_events)
    return {"jobs": {e["job"]["name"] for e in events},
            "datasets": {d["name"] for e in events for d in e["inputs"] + e["outputs"]},
            "runs": {e["run"]["runId"] for e in events}}


@pytest.fixture(scope="module", autouse=True)
def failed_run(post) -> None:
    """An older run that failed: the overview lists failed runs first all the same."""
    post(run_events(FAILED_JOB, inputs=[dataset(FAILED_INPUT, ["customer_id"])], state="FAIL",
                    error="DELTA_MISSING_DELTA_TABLE", seconds=5,
                    started=datetime.now(timezone.utc) - timedelta(days=1, hours=-1)))


def test_overview_shows_namespaces_recent_runs_failed_first_and_events_per_hour(page, names, screenshot):
    page.goto("/#/")
    jobs_card = page.locator("[data-testid=namespace-card]").filter(has_text=JOB_NAMESPACE)
    files_card = page.locator("[data-testid=namespace-card]").filter(has_text="file")
    expect(jobs_card).to_contain_text(f"{len(names['jobs']) + 1} jobs")  # + the failed run's job
    expect(files_card).to_contain_text(f"{len(names['datasets']) + 1} datasets")  # + its input
    runs = page.locator("[data-testid=recent-runs] [data-testid=run-row]")
    expect(runs.first).to_have_attribute("data-state", "FAILED")
    expect(runs.first).to_contain_text("DELTA_MISSING_DELTA_TABLE")
    expect(runs).to_have_count(len(names["runs"]) + 1)
    states = [a["data-state"] for a in attributes(page, "[data-testid=recent-runs] [data-testid=run-row]",
                                                  "data-state")]
    assert states == ["FAILED"] + ["COMPLETED"] * len(names["runs"])  # the newer runs after the failed one
    expect(page.locator("[data-testid=events-per-hour]")).to_be_visible()
    screenshot(page, "overview")


def test_global_search_finds_a_dataset_and_a_job_and_leads_to_their_pages(page, names):
    page.goto("/#/")
    box = page.locator("[data-testid=global-search]")
    box.fill("enriched_orders")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"#/search\?q=enriched_orders$"))
    dataset_name = next(n for n in names["datasets"] if n.endswith("/enriched_orders"))
    job_name = next(n for n in names["jobs"] if n.endswith("outputs_enriched_orders"))
    results = page.locator("[data-testid=search-row]")
    expect(results).to_have_count(2)
    assert {a["data-name"] for a in attributes(page, "[data-testid=search-row]", "data-name")} == {
        dataset_name, job_name}
    results.filter(has_text=dataset_name).get_by_role("link", name="enriched_orders", exact=True).click()
    expect(page.locator("[data-testid=schema]")).to_contain_text("net_amount")  # the dataset's page

    box.fill("summary")
    box.press("Enter")
    summary_job = next(n for n in names["jobs"] if n.endswith("outputs_order_summary"))
    expect(results.filter(has_text=summary_job)).to_have_count(1)
    results.filter(has_text=summary_job).get_by_role("link", name=summary_job, exact=True).click()
    expect(page.locator("[data-testid=run-history] [data-testid=run-row]")).to_have_count(1)  # the job's page


def test_jobs_list_filters(page, names):
    page.goto("/#/jobs")
    rows = page.locator("[data-testid=job-row]")
    expect(rows).to_have_count(len(names["jobs"]) + 1)
    page.locator("[data-testid=list-filter]").fill("enriched")
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-name", next(n for n in names["jobs"] if "enriched" in n))
    page.locator("[data-testid=list-filter]").fill("CUSTOMERS")  # any case
    expect(rows).to_have_count(len([n for n in names["jobs"] if "customers" in n]) + 1)


def test_datasets_list_filters(page, names):
    page.goto("/#/datasets")
    rows = page.locator("[data-testid=dataset-row]")
    expect(rows).to_have_count(len(names["datasets"]) + 1)
    page.locator("[data-testid=list-filter]").fill("order_summary")
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-name", next(n for n in names["datasets"] if n.endswith("/order_summary")))
    page.locator("[data-testid=list-filter]").fill("nothing-is-named-so")
    expect(rows).to_have_count(0)
