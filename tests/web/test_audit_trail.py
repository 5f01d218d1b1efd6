"""The audit trail in the UI (issue 13): the graph as of a past moment, the changes since one, two runs compared.

One job, ``audit_demo.write_report``, runs three times on known days. Between the first and the second run its
code changed: it stopped reading ``customers`` (so the report lost its ``email`` column), started reading
``refunds`` (a new ``refund`` column), ``amount`` became a double computed by a transformation instead of a
copy, and the report grew from 100 to 120 rows. The third run is the second one again.
"""

from __future__ import annotations

import urllib.parse
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from tests.web.events import JOB_NAMESPACE, dataset, run_events
from tests.web.live_service import serve_events
from tests.web.test_graph import eventually
from tests.web.ui import attributes, detail_url, graph_url, wait_for_graph

JOB = "audit_demo.write_report"
JOB_NODE = f"job:{JOB_NAMESPACE}:{JOB}"
ORDERS, CUSTOMERS, REFUNDS, REPORT = (f"/data/audit/{t}" for t in ("orders", "customers", "refunds", "report"))
LATE = "/data/audit/late_input"
DAYS = [datetime(2026, 12, day, 10, 0, tzinfo=timezone.utc) for day in (1, 2, 3)]


def node(name: str) -> str:
    return f"dataset:file:{name}"


def field(dataset_name: str, name: str) -> str:
    return f"datasetField:file:{dataset_name}:{name}"


def first_run(started: datetime) -> list[dict]:
    orders = dataset(ORDERS, {"id": "string", "amount": "int"})
    customers = dataset(CUSTOMERS, {"id": "string", "email": "string"})
    report = dataset(REPORT, {"id": "string", "amount": "int", "email": "string"}, rows=100, lineage={
        "id": [(ORDERS, "id", "DIRECT/IDENTITY")], "amount": [(ORDERS, "amount", "DIRECT/IDENTITY")],
        "email": [(CUSTOMERS, "email", "DIRECT/IDENTITY")]})
    return run_events(JOB, inputs=[orders, customers], outputs=[report], started=started)


def changed_run(started: datetime) -> list[dict]:
    orders = dataset(ORDERS, {"id": "string", "amount": "int"})
    refunds = dataset(REFUNDS, {"id": "string", "refund": "string"})
    report = dataset(REPORT, {"id": "string", "amount": "double", "refund": "string"}, rows=120, lineage={
        "id": [(ORDERS, "id", "DIRECT/IDENTITY")], "amount": [(ORDERS, "amount", "DIRECT/TRANSFORMATION")],
        "refund": [(REFUNDS, "refund", "DIRECT/IDENTITY")]})
    return run_events(JOB, inputs=[orders, refunds], outputs=[report], started=started)


@pytest.fixture(scope="module")
def runs() -> list[list[dict]]:
    """The events of the three runs, oldest first."""
    return [first_run(DAYS[0]), changed_run(DAYS[1]), changed_run(DAYS[2])]


@pytest.fixture(scope="module")
def service(ui_built, runs, tmp_path_factory):
    yield from serve_events(tmp_path_factory, [event for run in runs for event in run])


def end_of(run: list[dict]) -> datetime:
    return datetime.fromisoformat(run[-1]["eventTime"])


def edges(page) -> dict[tuple[str, str], str]:
    """``{(from, to): change}`` of the graph's edges ("" when unchanged or not a changes view)."""
    return {(a["data-from"], a["data-to"]): a["data-change"]
            for a in attributes(page, "[data-testid=graph-edge]", "data-from", "data-to", "data-change")}


def node_changes(page) -> dict[str, str]:
    return {a["data-node-id"]: a["data-change"]
            for a in attributes(page, "[data-testid=graph-node]", "data-node-id", "data-change")}


def asof_in_url(page) -> datetime | None:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).fragment.partition("?")[2])
    return datetime.fromisoformat(query["asOf"][0].replace("Z", "+00:00")) if "asOf" in query else None


def move_as_of_to(page, service, run: list[dict], event_type: str = "COMPLETE") -> None:
    """Moves the as-of slider to one run event: its place among the graph's moments (the slider's stops, once it
    has them all: its last stop is now)."""
    moments = service.get("audit/moments", nodeId=JOB_NODE, depth=1)["moments"]
    run_id = run[0]["run"]["runId"]
    stop = next(i for i, m in enumerate(moments) if m["runId"] == run_id and m["eventType"] == event_type)
    slider = page.get_by_role("slider", name="As of")
    expect(slider).to_have_attribute("max", str(len(moments)))
    slider.fill(str(stop))


OLD_EDGE = (node(CUSTOMERS), JOB_NODE)
NEW_EDGE = (node(REFUNDS), JOB_NODE)
BANNER = "Lineage as of 2026-12-01 10:00:42 UTC: not the current state"


def test_as_of_control_moves_the_graph_to_the_first_run_and_back_to_now(page, service, runs, screenshot):
    page.goto(graph_url(JOB_NODE, depth=1, columns=True))
    wait_for_graph(page)
    expect(page.get_by_test_id("time-banner")).to_have_count(0)
    assert NEW_EDGE in edges(page) and OLD_EDGE not in edges(page)
    expect(page.get_by_test_id("asof-stop")).to_have_text("now: the current state")

    asked = []
    page.on("request", lambda request: asked.append(request.url))
    move_as_of_to(page, service, runs[0])
    expect(page.get_by_test_id("time-banner")).to_contain_text(BANNER)
    expect(page.get_by_test_id("asof-stop")).to_contain_text(
        f"2026-12-01 10:00:42 UTC · COMPLETE · write_report · run {runs[0][0]['run']['runId'][:8]}")
    assert asof_in_url(page) == end_of(runs[0])
    assert eventually(lambda: OLD_EDGE in edges(page) and NEW_EDGE not in edges(page), True)
    # the report as the first run wrote it: email there, no refund yet
    email, refund = (page.locator(f'[data-testid=graph-field][data-field-id="{field(REPORT, f)}"]')
                     for f in ("email", "refund"))
    expect(email).to_have_count(1)
    expect(refund).to_have_count(0)
    page.locator(f'[data-testid=graph-node][data-node-id="{JOB_NODE}"]').click()
    expect(page.get_by_test_id("side-panel")).to_contain_text("Latest run")
    screenshot(page, "audit-as-of-first-run")
    # from the first request of the past view on, every graph, column and detail request asked for the past
    reads = [u for u in asked if "/api/v1/lineage?" in u or "/column-lineage?" in u or "/jobs/" in u]
    past = reads[next(i for i, u in enumerate(reads) if "asOf=" in u):]
    assert any("/column-lineage?" in u for u in past) and any("/jobs/" in u for u in past), past
    assert all("asOf=" in u for u in past), past

    page.get_by_role("button", name="Back to now").click()
    expect(page.get_by_test_id("time-banner")).to_have_count(0)
    assert asof_in_url(page) is None
    assert eventually(lambda: NEW_EDGE in edges(page) and OLD_EDGE not in edges(page), True)
    expect(page.get_by_test_id("asof-stop")).to_have_text("now: the current state")
    screenshot(page, "audit-back-to-now")


def test_a_past_view_survives_a_reload_and_a_moment_typed_in(page, service, runs, screenshot):
    at = end_of(runs[0]).isoformat()
    page.goto(graph_url(JOB_NODE, depth=1) + "&asOf=" + urllib.parse.quote(at, safe=""))
    wait_for_graph(page)
    expect(page.get_by_test_id("time-banner")).to_contain_text(BANNER)
    page.reload()
    wait_for_graph(page)
    expect(page.get_by_test_id("time-banner")).to_contain_text(BANNER)
    assert asof_in_url(page) == end_of(runs[0])
    assert eventually(lambda: OLD_EDGE in edges(page), True)

    # any moment: the day between the first and the second run is still the first run's lineage
    page.get_by_label("Moment (date and time)").fill("2026-12-01T18:30:00")
    page.get_by_role("button", name="Go", exact=True).click()
    expect(page.get_by_test_id("time-banner")).to_contain_text("Lineage as of 2026-12-01 18:30:00 UTC")
    expect(page.get_by_test_id("asof-stop")).to_contain_text("between run events")
    assert asof_in_url(page) == datetime(2026, 12, 1, 18, 30, tzinfo=timezone.utc)
    assert eventually(lambda: OLD_EDGE in edges(page) and NEW_EDGE not in edges(page), True)
    screenshot(page, "audit-as-of-typed-moment")
    # the step buttons go to the run events around it
    page.get_by_role("button", name="Later moment").click()
    expect(page.get_by_test_id("asof-stop")).to_contain_text("2026-12-02 10:00:00 UTC · START")


def test_changes_since_the_first_run_colour_what_was_added_removed_and_changed(page, service, runs, screenshot):
    page.goto(graph_url(JOB_NODE, depth=1))
    wait_for_graph(page)
    move_as_of_to(page, service, runs[0])
    expect(page.get_by_test_id("time-banner")).to_contain_text(BANNER)
    page.get_by_label("Show changes since this moment").check()
    expect(page.get_by_test_id("time-banner")).to_contain_text("Changes since 2026-12-01 10:00:42 UTC")
    assert "since=" in page.url and asof_in_url(page) is None

    shown = eventually(lambda: edges(page), {
        (node(ORDERS), JOB_NODE): "", OLD_EDGE: "removed", NEW_EDGE: "added", (JOB_NODE, node(REPORT)): ""})
    assert shown == {(node(ORDERS), JOB_NODE): "", OLD_EDGE: "removed", NEW_EDGE: "added",
                     (JOB_NODE, node(REPORT)): ""}
    assert node_changes(page) == {node(ORDERS): "", node(CUSTOMERS): "removed", node(REFUNDS): "added",
                                  JOB_NODE: "", node(REPORT): "changed"}
    removed = page.locator(f'[data-testid=graph-edge][data-from="{node(CUSTOMERS)}"]')
    assert removed.evaluate("e => getComputedStyle(e).strokeDasharray") != "none"
    expect(page.get_by_test_id("legend-changes")).to_contain_text("Added since")

    page.locator(f'[data-testid=graph-node][data-node-id="{node(REPORT)}"]').click()
    changes = page.get_by_test_id("side-panel").get_by_test_id("field-changes").locator("li")
    expect(changes).to_have_count(3)
    assert [(a["data-change"], a["data-field"]) for a in
            attributes(page, "[data-testid=side-panel] [data-testid=field-changes] li", "data-change",
                       "data-field")] == [("added", "refund"), ("removed", "email"), ("retyped", "amount")]
    expect(changes.nth(2)).to_contain_text("int → double")
    # the column-lineage edges that changed, from the service's dataset diff
    lineage = page.get_by_test_id("side-panel").get_by_test_id("column-lineage-changes").locator("li")
    expect(lineage).to_have_count(3)
    assert [(a["data-change"], a["data-field"], a["data-input"]) for a in attributes(
        page, "[data-testid=side-panel] [data-testid=column-lineage-changes] li", "data-change", "data-field",
        "data-input")] == [("added", "refund", f"{REFUNDS}:refund"), ("removed", "email", f"{CUSTOMERS}:email"),
                           ("changed", "amount", f"{ORDERS}:amount")]
    screenshot(page, "audit-changes-since")

    page.get_by_test_id("column-toggle").check()
    email = page.locator(f'[data-testid=graph-field][data-field-id="{field(REPORT, "email")}"]')
    expect(email).to_have_attribute("data-change", "removed")
    expect(page.locator(f'[data-testid=graph-field][data-field-id="{field(REPORT, "refund")}"]')).to_have_attribute(
        "data-change", "added")
    screenshot(page, "audit-changes-since-columns")

    page.get_by_role("button", name="Leave changes view").click()
    expect(page.get_by_test_id("time-banner")).to_have_count(0)
    assert not eventually(lambda: OLD_EDGE in edges(page), False)
    assert set(node_changes(page).values()) == {""}


def test_comparing_two_runs_on_the_job_page_lists_exactly_what_changed(page, service, runs, screenshot):
    page.goto(detail_url("job", JOB_NAMESPACE, JOB))
    expect(page.locator("[data-testid=run-history] [data-testid=run-row]")).to_have_count(3)
    compare = page.get_by_role("button", name="Compare", exact=True)
    expect(compare).to_be_disabled()
    for run in runs[:2]:
        page.get_by_label(f"Pick run {run[0]['run']['runId'][:8]} to compare").check()
    compare.click()
    diff = page.get_by_test_id("runs-diff")
    expect(diff).to_have_attribute("data-changed", "true")
    expect(diff).to_contain_text(f"From run {runs[0][0]['run']['runId'][:8]}")

    def items(selector: str) -> list[tuple[str, str]]:
        return [(a["data-change"], a["data-dataset"] or a["data-field"]) for a in
                attributes(page, f"[data-testid=runs-diff] {selector} li", "data-change", "data-dataset",
                           "data-field")]

    assert items("[data-testid=diff-inputs]") == [("added", REFUNDS), ("removed", CUSTOMERS)]
    assert not page.get_by_test_id("diff-outputs").count()
    report = diff.locator(f'[data-testid=diff-dataset][data-dataset="{REPORT}"]')
    report_fields = f'[data-testid=diff-dataset][data-dataset="{REPORT}"] [data-testid=field-changes]'
    assert items(report_fields) == [("added", "refund"), ("removed", "email"), ("retyped", "amount")]
    lineage = report.get_by_test_id("column-lineage-changes").locator("li")
    expect(lineage).to_have_count(3)
    expect(lineage.nth(0)).to_have_text("+ refund ← refunds.refund DIRECT/IDENTITY")
    expect(lineage.nth(1)).to_have_text("− email ← customers.email DIRECT/IDENTITY")
    expect(lineage.nth(2)).to_have_text("~ amount ← orders.amount DIRECT/IDENTITY → DIRECT/TRANSFORMATION")
    expect(report.get_by_test_id("row-count")).to_have_text("Rows: 100 → 120")
    # an input only one run read: said in one line, its fields not listed one by one
    for name, which, fields in ((CUSTOMERS, "older", "email, id"), (REFUNDS, "newer", "id, refund")):
        only = diff.locator(f'[data-testid=diff-dataset][data-dataset="{name}"]')
        expect(only.get_by_test_id("only-in")).to_have_text(f"Read by the {which} run only (fields: {fields}).")
        expect(only.get_by_test_id("field-changes")).to_have_count(0)
    screenshot(page, "audit-compare-runs", full_page=True)
    # the comparison is in the address: a reload (or a shared link) shows it again
    ids = [run[0]["run"]["runId"] for run in runs]
    assert urllib.parse.unquote(page.url).endswith(f"?compare={ids[0]},{ids[1]}")
    page.reload()
    expect(page.get_by_test_id("runs-diff")).to_have_attribute("data-changed", "true")

    # the second and third runs did the same
    page.get_by_label(f"Pick run {runs[0][0]['run']['runId'][:8]} to compare").uncheck()
    page.get_by_label(f"Pick run {runs[2][0]['run']['runId'][:8]} to compare").check()
    compare.click()
    expect(diff).to_have_attribute("data-changed", "false")
    expect(diff.get_by_text("No differences")).to_be_visible()
    screenshot(page, "audit-compare-no-differences")


def test_live_refresh_keeps_a_past_view_in_the_past(page, service, runs):
    """New events re-read the graph, still as of the moment: the new run's input appears only back at now."""
    at = end_of(runs[0]).isoformat()
    page.goto(graph_url(JOB_NODE, depth=1, poll=200) + "&asOf=" + urllib.parse.quote(at, safe=""))
    wait_for_graph(page)
    reads = []
    page.on("request", lambda r: reads.append(r.url) if "/api/v1/lineage?" in r.url else None)
    service.post(run_events(JOB, inputs=[dataset(LATE, ["id"])], outputs=[dataset(REPORT, ["id"])]))
    posted = len(reads)
    for _ in range(75):  # Playwright hands over the page's requests while it waits, not during a sleep
        if len(reads) > posted:
            break
        page.wait_for_timeout(200)
    assert len(reads) > posted, "the graph was not read again after new events"
    page.wait_for_timeout(1000)  # a few more polls
    assert all("asOf=" in url for url in reads), reads
    expect(page.get_by_test_id("time-banner")).to_contain_text(BANNER)
    assert OLD_EDGE in edges(page) and (node(LATE), JOB_NODE) not in edges(page)
    page.get_by_role("button", name="Back to now").click()
    assert eventually(lambda: (node(LATE), JOB_NODE) in edges(page), True)
