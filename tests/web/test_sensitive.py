"""Where personal data flows, in the UI (issue 14): class badges on fields and the graph's "Sensitive data" filter,
on the events of all eight jobs of the pipeline run.

What each field must show is what the service answers (``GET /api/v1/audit/classifications`` and the per-dataset
route), read first: a field shows each class once, the strongest way it reached it (in the clear, else masked,
else as an influence). The tests check that the UI shows exactly that, on the real jobs' columns: customers'
``processed_customers`` holds names in the clear and ``email_hash`` masked.
"""

from __future__ import annotations

import urllib.parse

import pytest
from playwright.sync_api import expect

from tests.web.events import JOB_NAMESPACE
from tests.web.expected import field_id
from tests.web.live_service import serve_events
from tests.web.test_graph import eventually, written
from tests.web.ui import attributes, detail_url, graph_url, pipeline_url, visible_text, wait_for_graph

EXPOSURES = ("clear", "masked", "influenced")
Badges = frozenset  # of (class, exposure)


@pytest.fixture(scope="module")
def service(ui_built, pipeline_events, tmp_path_factory):
    """This module's service holds every event of the pipeline run, all eight jobs."""
    yield from serve_events(tmp_path_factory, pipeline_events)


def badges_of(entry: dict) -> Badges:
    """A field entry of the API as the badges it must show: each class once, the strongest way first."""
    shown: dict[str, str] = {}
    for exposure, key in zip(EXPOSURES, ("carries", "masked", "influencedBy")):
        for carry in entry[key]:
            shown.setdefault(carry["class"], exposure)
    return frozenset(shown.items())


@pytest.fixture(scope="module")
def classified(service) -> dict[str, dict]:
    """Every classified field's entry by field id, as the service answers."""
    answer = service.get("audit/classifications")
    assert answer["fields"], "the service classifies no field of the pipeline"
    return {field_id((e["dataset"], e["field"]), e["namespace"]): e for e in answer["fields"]}


@pytest.fixture(scope="module")
def processed(pipeline_events) -> tuple[str, str]:
    return written(pipeline_events, "customers", "processed_customers")


@pytest.fixture(scope="module")
def processed_classes(service, processed) -> dict:
    ns, name = processed
    return service.get(f"namespaces/{urllib.parse.quote(ns, safe='')}/datasets/"
                       f"{urllib.parse.quote(name, safe='')}/classifications")


def test_the_api_says_processed_customers_holds_names_in_the_clear_and_the_email_hash_masked(processed_classes):
    """What the UI tests below rest on, as the service computes it from the customers job's column lineage."""
    by_field = {e["field"]: badges_of(e) for e in processed_classes["fields"]}
    assert ("PII.email", "masked") in by_field["email_hash"]
    assert ("PII.email", "clear") not in by_field["email_hash"]
    assert any(("PII.name", "clear") in badges for badges in by_field.values())
    assert "PII.name" in processed_classes["classes"] and "PII.email" in processed_classes["maskedClasses"]


def dataset_page_badges(scope, selector: str) -> dict[str, Badges]:
    """``{field: badges}`` of a schema table's rows (``tr[data-field]``) in ``scope`` (a page or a locator)."""
    rows = scope.locator(f"{selector} tr[data-field]").evaluate_all(
        "rows => rows.map(r => [r.getAttribute('data-field'), [...r.querySelectorAll('[data-testid=class-badge]')]"
        ".map(b => [b.getAttribute('data-class'), b.getAttribute('data-exposure')])])")
    return {field: frozenset(map(tuple, badges)) for field, badges in rows}


def test_dataset_page_shows_a_badge_per_class_with_the_path_it_came_through(
        page, processed, processed_classes, screenshot):
    page.goto(detail_url("dataset", *processed))
    expect(page.locator("[data-testid=schema] th", has_text="Classes")).to_have_count(1)
    expected = {e["field"]: badges_of(e) for e in processed_classes["fields"]}
    assert eventually(lambda: dataset_page_badges(page, "[data-testid=schema]"), expected) == expected

    masked = page.locator('[data-testid=schema] tr[data-field="email_hash"] [data-testid=class-badge]'
                          '[data-class="PII.email"]')
    expect(masked).to_have_text("PII.email masked")
    expect(masked).to_have_class("class-badge exposure-masked")
    carry = next(c for e in processed_classes["fields"] if e["field"] == "email_hash" for c in e["masked"]
                 if c["class"] == "PII.email")
    title = masked.get_attribute("title")
    assert title.startswith("PII.email: masked on the way")
    assert f"from {carry['source']['dataset'].rsplit('/', 1)[-1]}.{carry['source']['field']}" in title
    for step in carry["path"]:
        assert step["job"]["name"] in title and f".{step['to']['field']}" in title
    assert "masked by " in title

    name_field = next(f for f, badges in expected.items() if ("PII.name", "clear") in badges)
    clear = page.locator(f'[data-testid=schema] tr[data-field="{name_field}"] [data-testid=class-badge]'
                         '[data-class="PII.name"]')
    expect(clear).to_have_text("PII.name")
    expect(clear).to_have_class("class-badge exposure-clear")
    assert clear.get_attribute("title").startswith("PII.name: in the clear")
    summary = page.get_by_test_id("dataset-classes")
    summary_rows = {  # the dataset's classes in short: each row as the API's lists
        "clear": set(processed_classes["classes"]), "masked": set(processed_classes["maskedClasses"]),
        "rows": {c["class"] for c in processed_classes["rowsInfluencedBy"]}}
    assert summary_rows["rows"], "the customers job filters raw customers on classified columns"
    for row, want in summary_rows.items():
        shown = summary.get_by_test_id(f"dataset-classes-{row}").locator("[data-class]").evaluate_all(
            "els => els.map(e => e.getAttribute('data-class'))")
        assert set(shown) == want, row
    page.locator("[data-testid=schema]").scroll_into_view_if_needed()
    screenshot(page, "sensitive-dataset")
    page.get_by_test_id("sensitive-graph-link").click()  # the dataset's graph with the filter on
    expect(page.get_by_test_id("sensitive-toggle")).to_be_checked()
    expect(page.get_by_test_id("column-toggle")).to_be_checked()


def graph_field_badges(page) -> dict[str, Badges]:
    """``{field id: badges}`` of every field the graph lists (column level)."""
    shown = {}
    for a in attributes(page, "[data-testid=graph-field]", "data-field-id", "data-classes", "data-masked-classes",
                        "data-influenced-classes"):
        shown[a["data-field-id"]] = frozenset(
            (cls, exposure) for exposure, key in zip(EXPOSURES, ("data-classes", "data-masked-classes",
                                                                  "data-influenced-classes"))
            for cls in a[key].split())
    return shown


def test_graph_fields_carry_the_badges_the_api_gives_and_the_side_panel_lists_them(
        page, processed, classified, screenshot):
    page.goto(graph_url(f"dataset:{processed[0]}:{processed[1]}", depth=1, columns=True, full=False))
    wait_for_graph(page)
    expect(page.locator("[data-testid=graph-field]").first).to_be_visible()
    expected = {f: badges_of(classified[f]) if f in classified else frozenset() for f in graph_field_badges(page)}
    assert any(expected.values())
    assert eventually(lambda: graph_field_badges(page), expected) == expected

    email_hash = page.locator("[data-testid=graph-field]"
                              f'[data-field-id="datasetField:{processed[0]}:{processed[1]}:email_hash"]')
    badge = email_hash.locator("[data-testid=class-badge]")
    expect(badge).to_have_attribute("data-exposure", "masked")
    expect(badge.locator("title")).to_contain_text("masked by ")
    email_hash.locator(".field-name").click()  # selected: its classes in the side panel too
    expect(page.get_by_test_id("panel-field-classes").get_by_test_id("class-badge")).to_have_text("PII.email masked")

    page.locator(f'[data-testid=graph-node][data-node-id="dataset:{processed[0]}:{processed[1]}"] .node-label'
                 ).click()
    panel = page.get_by_test_id("side-panel")
    want = {f.rsplit(":", 1)[-1]: b for f, b in expected.items() if f.startswith(f"datasetField:{processed[0]}:"
                                                                                    f"{processed[1]}:")}
    assert eventually(lambda: dataset_page_badges(panel, "[data-testid=panel-schema]"), want) == want
    page.get_by_label("Find a node in the graph").fill(processed[1].rsplit("/", 1)[-1])
    page.get_by_label("Find a node in the graph").press("Enter")
    page.get_by_test_id("zoom-in").click()
    screenshot(page, "sensitive-badges")


def sensitive_marks(page, selector: str, key: str) -> dict[str, str]:
    return {a[key]: a["data-sensitive"] for a in attributes(page, selector, key, "data-sensitive")}


def exposure_for(entry: dict | None, cls: str | None) -> str:
    """How the field holds ``cls`` (any class: None), the strongest way; "none" when it holds none."""
    for exposure, key in zip(EXPOSURES, ("carries", "masked", "influencedBy")):
        if entry and any(cls is None or c["class"] == cls for c in entry[key]):
            return exposure
    return "none"


def fragment_query(page) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).fragment.partition("?")[2])


def test_the_sensitive_filter_lights_exactly_the_fields_holding_a_class_and_survives_a_reload(
        page, classified, screenshot):
    page.goto(pipeline_url(JOB_NAMESPACE))
    wait_for_graph(page)
    page.get_by_test_id("sensitive-toggle").check()
    assert fragment_query(page).get("sensitive") == ["1"] and fragment_query(page).get("columns") == ["1"]
    expect(page.locator("[data-testid=graph-field]").first).to_be_visible()

    def check(cls: str | None) -> None:
        def expected():
            return {f: exposure_for(classified.get(f), cls)
                    for f in sensitive_marks(page, "[data-testid=graph-field]", "data-field-id")}
        want = expected()
        assert "clear" in want.values() and "none" in want.values()
        assert eventually(lambda: sensitive_marks(page, "[data-testid=graph-field]", "data-field-id"), want) == want
        # a dataset is lit the strongest way one of its fields holds the class
        datasets = {a["data-node-id"]: a["data-sensitive"] for a in attributes(
            page, "[data-testid=graph-node][data-kind=DATASET]", "data-node-id", "data-sensitive")}
        for node, mark in datasets.items():
            held = [m for f, m in want.items() if f.startswith(f"datasetField:{node.removeprefix('dataset:')}:")]
            strongest = next((e for e in EXPOSURES if e in held), "none")
            assert mark == strongest, node
        legend = page.get_by_test_id("legend-classes")
        for exposure in EXPOSURES:
            expect(legend).to_have_attribute(f"data-{exposure}", str(list(want.values()).count(exposure)))

    check(None)
    screenshot(page, "sensitive-pipeline")
    # a field holding more classes than its row has room for: the first badges, then "+n" naming the rest
    shown_fields = sensitive_marks(page, "[data-testid=graph-field]", "data-field-id")
    crowded = max(shown_fields, key=lambda f: len(badges_of(classified[f])) if f in classified else 0)
    classes_held = {cls for cls, _ in badges_of(classified[crowded])}
    assert len(classes_held) >= 4, (crowded, classes_held)
    row = page.locator(f'[data-testid=graph-field][data-field-id="{crowded}"]')
    drawn = set(row.locator("[data-testid=class-badge]").evaluate_all("els => els.map(e => e.dataset.class)"))
    more = row.locator(".field-badge-more")
    assert visible_text(more) == f"+{len(classes_held) - len(drawn)}"
    rest = more.locator("title").text_content()
    assert drawn and all(cls in rest for cls in classes_held - drawn) and not any(cls in rest for cls in drawn)
    page.reload()
    wait_for_graph(page)
    expect(page.get_by_test_id("sensitive-toggle")).to_be_checked()
    check(None)

    page.get_by_test_id("sensitive-class").select_option("PII.email")
    assert fragment_query(page).get("class") == ["PII.email"]
    check("PII.email")
    page.get_by_test_id("sensitive-toggle").uncheck()
    assert "sensitive" not in fragment_query(page)
    expect(page.locator("[data-testid=graph-field][data-sensitive=clear]")).to_have_count(0)


def test_the_filter_on_a_lineage_graph_lights_the_names_and_sets_the_masked_email_apart(
        page, processed, classified, screenshot):
    node = f"dataset:{processed[0]}:{processed[1]}"
    page.goto(graph_url(node, depth=1, columns=False, full=False))
    wait_for_graph(page)
    page.get_by_test_id("sensitive-toggle").check()
    assert fragment_query(page).get("sensitive") == ["1"] and fragment_query(page).get("columns") == ["1"]
    field = f'[data-testid=graph-field][data-field-id="datasetField:{processed[0]}:{processed[1]}:email_hash"]'
    expect(page.locator(field)).to_have_attribute("data-sensitive", "masked")
    expect(page.locator(f'[data-testid=graph-node][data-node-id="{node}"]')).to_have_attribute(
        "data-sensitive", "clear")
    want = {f: exposure_for(classified.get(f), None)
            for f in sensitive_marks(page, "[data-testid=graph-field]", "data-field-id")}
    assert eventually(lambda: sensitive_marks(page, "[data-testid=graph-field]", "data-field-id"), want) == want
    # drawn so: the rest dimmed, a name in the clear on red, the masked email hash on grey
    style = "(e, p) => getComputedStyle(e.querySelector('.field-row') ?? e)[p]"
    dimmed = page.locator("[data-testid=graph-field][data-sensitive=none]").first
    assert dimmed.evaluate("e => getComputedStyle(e).opacity") == "0.3"
    name = page.locator(f'[data-testid=graph-field][data-field-id="datasetField:{processed[0]}:{processed[1]}:'
                        'first_name"]')
    assert name.get_attribute("data-sensitive") == "clear"
    assert name.evaluate(style, "fill") == "rgb(254, 226, 226)"
    assert page.locator(field).evaluate(style, "fill") == "rgb(241, 245, 249)"
    # the picture: the dataset centred, selected (its schema and classes in the panel) and near enough to read
    page.get_by_label("Find a node in the graph").fill(processed[1].rsplit("/", 1)[-1])
    page.get_by_label("Find a node in the graph").press("Enter")
    expect(page.get_by_test_id("panel-schema")).to_be_visible()
    page.get_by_test_id("zoom-in").click()
    screenshot(page, "sensitive-graph")


def test_in_a_past_view_the_badges_and_the_filter_say_their_classes_are_the_current_ones(page, processed):
    past = graph_url(f"dataset:{processed[0]}:{processed[1]}", depth=1, columns=True, full=False) \
        + "&asOf=2099-01-01T00%3A00%3A00Z"
    field = f'[data-testid=graph-field][data-field-id="datasetField:{processed[0]}:{processed[1]}:'
    page.goto(past)
    wait_for_graph(page)
    expect(page.locator(field + 'first_name"]')).to_have_attribute("data-classes", "PII.name")
    expect(page.get_by_test_id("sensitive-now")).to_have_text(
        "The classes shown are the current ones, not as of this moment.")
    page.goto(past + "&sensitive=1&class=PII.name")
    wait_for_graph(page)
    expect(page.get_by_test_id("sensitive-now")).to_have_count(1)
    expect(page.get_by_test_id("sensitive-class")).to_have_value("PII.name")
    expect(page.locator(field + 'first_name"]')).to_have_attribute("data-sensitive", "clear")
    expect(page.locator(field + 'email_hash"]')).to_have_attribute("data-sensitive", "none")  # PII.email only
