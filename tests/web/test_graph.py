"""The lineage graph after the customers and orders jobs ran: tables, then columns, in one view.

Field expectations come from the jobs' hand-written column lineage (tests/lineage/expected_*.py); the
table graph from the events. The two jobs share a table: customers writes the customer master that
orders joins, so an orders column leads back, across both jobs, to the raw customers file.
"""

from __future__ import annotations

import importlib
import re
import time

import pytest
from playwright.sync_api import expect

from tests.web.events import two_job_events
from tests.lineage.harness import table_names
from tests.web.expected import FieldLineage, field_id, reachable, table_graph
from tests.web.ui import (
    attributes, field_edge, graph_url, highlighted, layout_count, nodes, shows_name, visible_text,
    wait_for_graph,
)

CODE = re.compile(r"\b(?:DIRECT|INDIRECT)/[A-Z_]+")


def written(events, job: str, table: str) -> tuple[str, str]:
    """(namespace, name) of the dataset that ``job`` wrote whose path ends with ``/<table>``."""
    for event in events:
        if event["job"]["name"].startswith(f"{job}.") and event["eventType"] == "COMPLETE":
            for output in event["outputs"]:
                if output["name"].endswith(f"/{table}"):
                    return output["namespace"], output["name"]
    raise AssertionError(f"{job} wrote no {table}")


def short(node_id: str) -> str:
    """The label a node shows: a dataset's last path segment, a job's last dotted part."""
    kind, _, name = node_id.split(":", 2)
    return name.rsplit("/", 1)[-1] if kind == "dataset" else name.rsplit(".", 1)[-1]


def eventually(read, expected, timeout: float = 15.0):
    """``read()`` once it equals ``expected``, else its last value when ``timeout`` runs out (asserted by the
    caller, so that a failure shows the difference). A wait for the page to settle, not a timing assert."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


@pytest.fixture(scope="module")
def events(pipeline_events):
    return two_job_events(pipeline_events)


@pytest.fixture(scope="module")
def fields(pipeline_catalog) -> FieldLineage:
    return FieldLineage.of_jobs(("customers", "orders"), pipeline_catalog)


def select_field(page, field: tuple[str, str]) -> None:
    page.locator(f'[data-testid=graph-field][data-field-id="{field_id(field)}"]').click()
    expect(page.locator(f'[data-testid=graph-field][data-field-id="{field_id(field)}"]')).to_have_attribute(
        "data-highlight", "selected")


def test_graph_of_an_output_shows_its_jobs_and_datasets_and_a_click_opens_details_without_a_rebuild(
        page, events, screenshot):
    enriched = written(events, "orders", "enriched_orders")
    expected_nodes, expected_edges = table_graph(events, enriched, depth=1)
    page.goto(graph_url(f"dataset:{enriched[0]}:{enriched[1]}", depth=1))
    graph = wait_for_graph(page)

    shown = nodes(page)
    assert set(shown) == expected_nodes
    assert {node: a["kind"] for node, a in shown.items()} == {
        node: node.split(":", 1)[0].upper() for node in expected_nodes}
    assert {a["data-from"] + " -> " + a["data-to"] for a in attributes(page, "[data-testid=graph-edge]",
                                                                       "data-from", "data-to")} == {
        f"{a} -> {b}" for a, b in expected_edges}
    assert graph.get_attribute("data-node-count") == str(len(expected_nodes))
    assert graph.get_attribute("data-edge-count") == str(len(expected_edges))
    assert {a["state"] for a in shown.values() if a["kind"] == "JOB"} == {"COMPLETED"}
    # each node is labelled with its short name (the last segment of the path, or of the job name)
    for node in expected_nodes:
        label = visible_text(page.locator(f'[data-testid=graph-node][data-node-id="{node}"]'))
        assert shows_name(label, short(node)), (node, label)

    layouts = layout_count(page)
    master = next(n for n in expected_nodes if n.endswith("/customer_master"))
    page.locator(f'[data-testid=graph-node][data-node-id="{master}"]').click()
    panel = page.locator("[data-testid=side-panel]")
    expect(panel).to_contain_text(master.split(":", 2)[2])  # the full name
    expect(panel).to_contain_text("segment")  # a field of its schema
    expect(page.locator(f'[data-testid=graph-node][data-node-id="{master}"]')).to_have_attribute(
        "data-selected", "true")

    job = next(n for n in expected_nodes if n.startswith("job:") and n.endswith("outputs_enriched_orders"))
    page.locator(f'[data-testid=graph-node][data-node-id="{job}"]').click()
    expect(panel).to_contain_text(job.split(":", 2)[2])
    expect(panel).to_contain_text("COMPLETED")
    expect(page.locator(f'[data-testid=graph-node][data-node-id="{master}"]')).to_have_attribute(
        "data-selected", "false")
    assert layout_count(page) == layouts, "a click must not lay the graph out again"
    assert set(nodes(page)) == expected_nodes
    screenshot(page, "graph-table-level")


def test_focused_graph_full_toggle_depth_zoom_and_fit(page, events):
    """Focused: what feeds the output and what it feeds. Full: everything within the depth. Zoom and fit
    move the view without a new layout."""
    enriched = written(events, "orders", "enriched_orders")
    root = f"dataset:{enriched[0]}:{enriched[1]}"
    everything, edges = table_graph(events, enriched, depth=1)
    focused = {root} | reachable(root, edges) | reachable(root, {(b, a) for a, b in edges})
    # the write job and its 3 inputs, and upstream of customer_master its writer (customers) and the raw CRM
    # export; nothing reads the output
    assert len(focused) == 7 < len(everything)
    page.goto(graph_url(root, depth=1, full=False))
    graph = wait_for_graph(page)
    assert set(nodes(page)) == focused

    layouts = layout_count(page)
    node = page.locator(f'[data-testid=graph-node][data-node-id="{root}"]')
    before = node.bounding_box()
    page.locator("[data-testid=zoom-in]").click()
    assert node.bounding_box()["width"] > before["width"] * 1.1
    page.locator("[data-testid=zoom-out]").click()
    page.locator("[data-testid=zoom-out]").click()
    assert node.bounding_box()["width"] < before["width"]
    page.locator("[data-testid=fit]").click()
    box = graph.bounding_box()
    for element in page.locator("[data-testid=graph-node]").all():  # every node inside the view
        b = element.bounding_box()
        assert box["x"] <= b["x"] and b["x"] + b["width"] <= box["x"] + box["width"] + 1
        assert box["y"] <= b["y"] and b["y"] + b["height"] <= box["y"] + box["height"] + 1
    assert layout_count(page) == layouts, "zoom and fit must not lay the graph out again"

    page.locator("[data-testid=full-toggle]").check()
    expect(graph).to_have_attribute("data-node-count", str(len(everything)))
    expect(page.locator("[data-testid=graph-node]")).to_have_count(len(everything))  # laid out and drawn
    assert set(nodes(page)) == everything
    page.locator("[data-testid=depth]").fill("0")  # the writing job and its datasets only
    just_the_writer, _ = table_graph(events, enriched, depth=0)
    expect(graph).to_have_attribute("data-node-count", str(len(just_the_writer)))
    expect(page.locator("[data-testid=graph-node]")).to_have_count(len(just_the_writer))
    assert set(nodes(page)) == just_the_writer
    expect(page).to_have_url(re.compile(r"depth=0.*full=1"))


def test_selecting_net_amount_highlights_exactly_its_upstream_fields_with_labelled_edges(
        page, events, fields, screenshot):
    enriched = written(events, "orders", "enriched_orders")
    page.goto(graph_url(f"dataset:{enriched[0]}:{enriched[1]}", depth=1))
    wait_for_graph(page)
    before = layout_count(page)
    page.locator("[data-testid=column-toggle]").check()
    expect(page).to_have_url(re.compile(r"columns=1"))
    graph = page.locator("[data-testid=graph]")
    expect(graph).not_to_have_attribute("data-layout-count", str(before))  # laid out again, with the fields
    net_amount = (enriched[1], "net_amount")
    expect(page.locator(f'[data-testid=graph-field][data-field-id="{field_id(net_amount)}"]')).to_be_visible()
    layouts = layout_count(page)

    select_field(page, net_amount)
    upstream = {field_id(f) for f in fields.upstream(net_amount)}
    # quantity, unit_price of raw_orders; segment of customer_master, and the raw segment customers made it from
    assert len(upstream) == 4
    assert eventually(lambda: highlighted(page, "upstream"), upstream) == upstream
    assert highlighted(page, "downstream") == set()  # nothing reads enriched_orders
    assert highlighted(page, "selected") == {field_id(net_amount)}
    assert layout_count(page) == layouts, "selecting a field must not lay the graph out again"

    for source in fields.inputs[net_amount]:  # each edge into net_amount says how it is computed
        edge = field_edge(page, field_id(source), field_id(net_amount))
        expect(edge).to_have_count(1)
        expected = {code.removesuffix("+masked") for code in fields.codes(source, net_amount)}
        assert set(CODE.findall(edge.get_attribute("data-transformation"))) == expected, source
        assert edge.get_attribute("data-masking") == "false"
        assert all(code in visible_text(edge) for code in expected), visible_text(edge)
    screenshot(page, "graph-column-level")


# every change under the graph area: the layout count on screen and how many field rows are drawn
WATCH_FIELD_ROWS = """() => {
    window.__fieldRows = [];
    new MutationObserver(() => window.__fieldRows.push([
        document.querySelector('[data-testid=graph]').getAttribute('data-layout-count'),
        document.querySelectorAll('[data-testid=graph-field]').length,
    ])).observe(document.querySelector('.graph-area'), {subtree: true, childList: true, attributes: true});
}"""


def test_turning_the_column_level_on_draws_fields_only_with_the_layout_that_has_room_for_them(page, events):
    enriched = written(events, "orders", "enriched_orders")
    page.goto(graph_url(f"dataset:{enriched[0]}:{enriched[1]}", depth=2))
    wait_for_graph(page)
    before = layout_count(page)
    page.evaluate(WATCH_FIELD_ROWS)
    page.locator("[data-testid=column-toggle]").check()
    expect(page.locator("[data-testid=graph-field]").first).to_be_visible()
    rows = page.evaluate("window.__fieldRows")
    assert rows, "the page did not change"
    early = [sample for sample in rows if sample[0] == str(before) and sample[1] > 0]
    assert not early, f"field rows drawn on the table-level layout: {early[:3]}"


def test_selecting_a_raw_input_field_highlights_every_column_computed_from_it(page, events, fields):
    enriched = written(events, "orders", "enriched_orders")
    raw_orders = next(name for output, sources in fields.inputs.items() if output[0] == enriched[1]
                      for name, _ in sources if name.endswith("/raw_orders.jsonl"))
    page.goto(graph_url(f"dataset:{enriched[0]}:{enriched[1]}", depth=1, columns=True))
    wait_for_graph(page)
    quantity = (raw_orders, "quantity")
    select_field(page, quantity)
    downstream = {field_id(f) for f in fields.downstream(quantity)}
    # enriched_orders, order_summary and the orders' rejects: all three are in the graph at depth 1
    assert {f.split(":")[2].rsplit("/", 1)[1] for f in downstream} == {"enriched_orders", "order_summary",
                                                                       "raw_orders"}
    assert eventually(lambda: highlighted(page, "downstream"), downstream) == downstream
    assert highlighted(page, "upstream") == set()
    assert {"net_amount", "total_quantity", "reject_reason"} <= {f.rsplit(":", 1)[1] for f in downstream}


OUTPUT_TABLES = [(job, table) for job in ("customers", "orders")
                 for table in importlib.import_module(f"tests.lineage.expected_{job}").EXPECTED]


@pytest.mark.parametrize("job, table", OUTPUT_TABLES, ids=[f"{job}:{table}" for job, table in OUTPUT_TABLES])
def test_every_column_the_two_jobs_write_leads_back_to_its_source_columns(page, fields, pipeline_catalog, job, table):
    """Done when a user can follow any output column back to its source columns in one view: every column of
    every table the two jobs write, selected in turn on one graph, highlights exactly its upstream closure."""
    path = {name: path for path, name in table_names(pipeline_catalog).items()}[table]
    columns = list(importlib.import_module(f"tests.lineage.expected_{job}").EXPECTED[table]["fields"])
    page.goto(graph_url(f"dataset:file:{path}", depth=1, columns=True))
    wait_for_graph(page)
    layouts = layout_count(page)
    for column in columns:
        select_field(page, (path, column))
        upstream = {field_id(f) for f in fields.upstream((path, column))}
        assert eventually(lambda: highlighted(page, "upstream"), upstream) == upstream, column
        # what orders computes from the customer master; nothing reads what orders writes
        downstream = {field_id(f) for f in fields.downstream((path, column))}
        assert eventually(lambda: highlighted(page, "downstream"), downstream) == downstream, column
    assert layout_count(page) == layouts


def test_masked_columns_show_masking_on_their_edges(page, events, fields):
    processed = written(events, "customers", "processed_customers")
    email_hash, email_domain = (processed[1], "email_hash"), (processed[1], "email_domain")
    (email,) = fields.inputs[email_hash]
    # sha2 of the cleaned email (nullif(..., ''), so the email also decides whether the hash is null)
    assert fields.codes(email, email_hash) == {"DIRECT/TRANSFORMATION+masked", "INDIRECT/CONDITIONAL+masked"}
    assert fields.codes(email, email_domain) == {"DIRECT/TRANSFORMATION", "INDIRECT/CONDITIONAL"}  # clear text
    page.goto(graph_url(f"dataset:{processed[0]}:{processed[1]}", depth=1, columns=True))
    wait_for_graph(page)

    select_field(page, email_hash)
    assert eventually(lambda: highlighted(page, "upstream"), {field_id(email)}) == {field_id(email)}
    masked = field_edge(page, field_id(email), field_id(email_hash))
    expect(masked).to_have_attribute("data-masking", "true")
    expect(masked).to_have_attribute("data-transformation", re.compile(r"\bDIRECT/TRANSFORMATION\b"))
    expect(masked).to_contain_text(re.compile(r"mask|\N{LOCK}", re.IGNORECASE))
    clear = field_edge(page, field_id(email), field_id(email_domain))
    expect(clear).to_have_attribute("data-masking", "false")
    expect(clear).not_to_contain_text(re.compile(r"mask|\N{LOCK}", re.IGNORECASE))

    select_field(page, email)  # the other way: what the email becomes
    downstream = {field_id(f) for f in fields.downstream(email)}
    assert {field_id(email_hash), field_id(email_domain)} <= downstream
    assert eventually(lambda: highlighted(page, "downstream"), downstream) == downstream


def test_an_orders_column_leads_back_across_jobs_to_the_raw_customers_file(page, events, fields):
    """customers writes customer_master, orders joins it: the orders' customer_segment leads back through
    both jobs to the segment column of raw_customers.csv, and that raw column leads forward to the orders."""
    enriched = written(events, "orders", "enriched_orders")
    segment = (enriched[1], "customer_segment")
    upstream = {field_id(f) for f in fields.upstream(segment)}
    assert {f.rsplit("/", 1)[1] for f in upstream} == {"customer_master:segment", "raw_customers.csv:segment"}
    page.goto(graph_url(f"dataset:{enriched[0]}:{enriched[1]}", depth=2, columns=True))
    wait_for_graph(page)
    select_field(page, segment)
    assert eventually(lambda: highlighted(page, "upstream"), upstream) == upstream
    raw_segment = next(f for f in fields.upstream(segment) if f[0].endswith("raw_customers.csv"))
    select_field(page, raw_segment)
    downstream = {field_id(f) for f in fields.downstream(raw_segment)}
    assert field_id(segment) in downstream
    assert eventually(lambda: highlighted(page, "downstream"), downstream) == downstream
