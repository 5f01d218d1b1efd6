"""Live: a job runs while the page is open, and the page shows it without a reload.

The page polls (``?poll=500`` shortens the interval for the tests). A marker set on ``window`` before
the event is posted must still be there afterwards: the page was updated in place, not reloaded.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.events import dataset, run_events
from tests.web.expected import field_id
from tests.web.ui import field_edge, graph_url, layout_count, wait_for_graph

ENRICHED = "outputs/enriched_orders"


def enriched_orders(service) -> str:
    names = [d["name"] for d in service.get("namespaces/file/datasets", limit=1000)["datasets"]]
    return next(n for n in names if n.endswith(ENRICHED))


def mark_window(page) -> None:
    page.evaluate("window.__noReload = 'still here'")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__noReload") == "still here", "the page was reloaded"


def test_overview_shows_a_new_run_without_a_reload(page, service, post):
    page.goto("/?poll=500#/")
    runs = page.locator("[data-testid=recent-runs] [data-testid=run-row]")
    expect(runs.first).to_be_visible()
    expect(runs.filter(has_text="write_daily_totals")).to_have_count(0)
    mark_window(page)

    source = enriched_orders(service)
    target = source.replace(ENRICHED, "outputs/daily_totals")
    post(run_events("live_demo.write_daily_totals", inputs=[dataset(source, ["order_date", "net_amount"])],
                    outputs=[dataset(target, ["order_date", "total"], rows=30, lineage={
                        "order_date": [(source, "order_date", "DIRECT/IDENTITY")],
                        "total": [(source, "net_amount", "DIRECT/AGGREGATION")]})]))

    new_run = runs.filter(has_text="write_daily_totals")
    expect(new_run).to_have_count(1)
    expect(new_run).to_have_attribute("data-state", "COMPLETED")
    assert_not_reloaded(page)


def test_graph_gains_a_new_reader_and_its_output_without_a_reload(page, service, post):
    source = enriched_orders(service)
    page.goto(graph_url(f"dataset:file:{source}", depth=1, poll=500))
    wait_for_graph(page)
    job = "live_demo.write_country_totals"
    target = source.replace(ENRICHED, "outputs/country_totals")
    new_nodes = [f"job:data-lineage-audit:{job}", f"dataset:file:{target}"]
    for node in new_nodes:
        expect(page.locator(f'[data-testid=graph-node][data-node-id="{node}"]')).to_have_count(0)
    mark_window(page)

    post(run_events(job, inputs=[dataset(source, ["customer_country", "net_amount"])],
                    outputs=[dataset(target, ["country", "total"], rows=12, lineage={
                        "country": [(source, "customer_country", "DIRECT/IDENTITY")],
                        "total": [(source, "net_amount", "DIRECT/AGGREGATION")]})]))

    for node in new_nodes:
        expect(page.locator(f'[data-testid=graph-node][data-node-id="{node}"]')).to_have_count(1)
    expect(page.locator(f'[data-testid=graph-edge][data-from="dataset:file:{source}"]'
                        f'[data-to="{new_nodes[0]}"]')).to_have_count(1)
    job_node = page.locator(f'[data-testid=graph-node][data-node-id="{new_nodes[0]}"]')
    expect(job_node).to_have_attribute("data-state", "COMPLETED")
    assert_not_reloaded(page)

    # the job runs again: its node turns RUNNING, then FAILED, and the graph keeps its layout
    expect(page.locator("[data-testid=graph-node]")).to_have_count(int(page.locator(
        "[data-testid=graph]").get_attribute("data-node-count")))
    layouts = layout_count(page)
    start, fail = run_events(job, inputs=[dataset(source, ["customer_country", "net_amount"])],
                             outputs=[dataset(target, ["country", "total"])], state="FAIL", error="out of memory")
    post([start])
    expect(job_node).to_have_attribute("data-state", "RUNNING")
    post([fail])
    expect(job_node).to_have_attribute("data-state", "FAILED")
    assert layout_count(page) == layouts, "a new run state must not lay the graph out again"
    assert_not_reloaded(page)


def test_graph_shows_new_column_lineage_of_a_dataset_in_view_without_a_relayout(page, post):
    """A job runs again and its output's column lineage gains one input field: the column level shows the new
    field edge, and the graph keeps its layout (no node, edge or field row changed)."""
    source, target, job = "/data/web-tests/live/scores", "/data/web-tests/live/ranked", "live_demo.rank"
    inputs = [dataset(source, ["player", "points"])]
    post(run_events(job, inputs=inputs, outputs=[dataset(target, ["player", "rank"], lineage={
        "player": [(source, "player", "DIRECT/IDENTITY")]})]))
    page.goto(graph_url(f"dataset:file:{target}", depth=1, columns=True, poll=500))
    wait_for_graph(page)
    new_edge = field_edge(page, field_id((source, "points")), field_id((target, "rank")))
    expect(field_edge(page, field_id((source, "player")), field_id((target, "player")))).to_have_count(1)
    expect(new_edge).to_have_count(0)
    layouts = layout_count(page)
    mark_window(page)

    post(run_events(job, inputs=inputs, outputs=[dataset(target, ["player", "rank"], lineage={
        "player": [(source, "player", "DIRECT/IDENTITY")], "rank": [(source, "points", "INDIRECT/SORT")]})]))
    expect(new_edge).to_have_count(1)
    expect(new_edge).to_have_attribute("data-transformation", "INDIRECT/SORT")
    assert layout_count(page) == layouts, "new column lineage on the same fields must not lay the graph out again"
    assert_not_reloaded(page)
