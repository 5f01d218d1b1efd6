"""The provenance report in a browser: ``lineage-audit report`` against a live service holding the customers and
orders jobs' real events (and one failed run of customer_master's writer), the HTML opened from file:// with
every other request blocked. It must show its sections and the service's values with nothing fetched."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from lineage_audit.cli import main
from lineage_audit.report_model import short_name
from tests.web.events import dataset, run_events, two_job_events
from tests.web.live_service import serve_events
from tests.web.ui import VIEWPORT

SECTIONS = ["Summary", "Current version", "Schema", "Runs that wrote it", "Upstream tables", "Column lineage",
            "Classes its columns carry", "Event ledger head"]


def writer_of(events: list[dict], short: str) -> dict:
    return next(e for e in events if e["eventType"] == "COMPLETE"
                and any(short_name(o["name"]) == short for o in e["outputs"]))


@pytest.fixture(scope="module")
def live(pipeline_events, tmp_path_factory):
    """The customers and orders jobs' events, then a run of customer_master's writer that read the same inputs
    and failed."""
    events = two_job_events(pipeline_events)
    write = writer_of(events, "customer_master")
    master = next(o for o in write["outputs"] if short_name(o["name"]) == "customer_master")
    fields = {f["name"]: f["type"] for f in master["facets"]["schema"]["fields"]}
    failed = run_events(write["job"]["name"], state="FAIL", error="disk full", inputs=write["inputs"],
                        outputs=[dataset(master["name"], fields)])
    yield from serve_events(tmp_path_factory, events + failed)


@pytest.fixture(scope="module")
def reports(live, tmp_path_factory):
    """The reports on enriched_orders and customer_master, written by the command: {short name: html path}."""
    out = tmp_path_factory.mktemp("reports")
    for name in ("enriched_orders", "customer_master"):
        assert main(["report", name, "--url", live.url, "--out", str(out)]) == 0
    return {name: out / f"{name}-provenance.html" for name in ("enriched_orders", "customer_master")}


@pytest.fixture
def offline_page(browser):
    """A page that may read file:// alone: every other request is aborted and recorded."""
    context = browser.new_context(viewport=VIEWPORT, timezone_id="UTC")
    page = context.new_page()
    elsewhere, errors = [], []
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                  else (elsewhere.append(route.request.url), route.abort()))
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert elsewhere == [] and errors == []


def test_enriched_orders_report_reads_offline(offline_page, reports, live, pipeline_events, screenshot):
    page = offline_page
    page.goto(reports["enriched_orders"].as_uri())
    expect(page.locator("h1")).to_have_text("Provenance of enriched_orders")
    expect(page.locator("section h2")).to_have_text([
        "Summary", "Current version", "Schema (25 fields)", "Runs that wrote it (1)", "Upstream tables",
        "Column lineage", "Classes its columns carry", "Event ledger head"])
    write = writer_of(two_job_events(pipeline_events), "enriched_orders")
    summary = page.locator('[data-testid="summary-facts"]')
    expect(summary.locator('dd[data-fact="Written by"]')).to_contain_text(
        f"orders (data-lineage-audit:{write['job']['name']})")
    expect(summary.locator('dd[data-fact="Last run"]')).to_contain_text("COMPLETED")
    expect(summary.locator('[data-testid="last-commit"]')).to_have_text(
        write["job"]["facets"]["sourceCodeLocation"]["version"])
    rows = next(o for o in write["outputs"] if short_name(o["name"]) == "enriched_orders")
    expect(summary.locator('dd[data-fact="Rows in the current version"]')).to_have_text(
        f'{rows["outputFacets"]["outputStatistics"]["rowCount"]:,}')

    fields = [f["name"] for f in rows["facets"]["schema"]["fields"]]
    expect(page.locator('[data-testid="schema-table"] tbody tr td:first-child')).to_have_text(fields)
    run = page.locator(f'[data-testid="runs-table"] tr[data-run="{write["run"]["runId"]}"]')
    expect(run).to_contain_text(write["job"]["facets"]["sourceCodeLocation"]["version"])
    expect(page.locator('[data-testid="raw-sources"] li')).to_contain_text(
        ["product_catalog", "raw_customers.csv", "raw_orders.jsonl"])
    expect(page.locator('[data-testid="column-lineage-table"] tr[data-field="customer_country"]')).to_contain_text(
        "customer_master . country_code DIRECT/IDENTITY")
    expect(page.locator('[data-testid="ledger-head"]')).to_have_text(live.get("audit/ledger")["headHash"])
    screenshot(page, "report")


def test_classes_and_a_failed_run_in_customer_master_report(offline_page, reports):
    page = offline_page
    page.goto(reports["customer_master"].as_uri())
    classes = page.locator('[data-testid="classes-table"]')
    clear = classes.locator('tr[data-field="full_name"] [data-kind="clear"]')
    expect(clear).to_have_count(2)
    expect(clear.first).to_contain_text("PII.name from file:")
    expect(clear.first).to_contain_text("raw_customers.csv.first_name (rule: rule 1 of classification.yml")
    masked = classes.locator('tr[data-field="email_hash"] [data-kind="masked"]')
    expect(masked).to_contain_text("PII.email")
    expect(masked).to_contain_text("masked at")
    expect(masked).to_contain_text("DIRECT/TRANSFORMATION masking")
    expect(page.locator('[data-testid="summary-facts"] dd[data-fact="Classes in the clear"]')).to_have_text("PII.name")
    failed = page.locator('[data-testid="runs-table"] tr.failed')
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("FAILED RUN")
    expect(page.locator('[data-testid="runs-table"] tbody tr').first).to_have_attribute("data-state", "FAILED")
    expect(page.locator('dd[data-fact="Runs that wrote it"]')).to_have_text("2 (1 failed)")
