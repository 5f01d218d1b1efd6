"""Names from events are text: markup in a dataset, job or field name shows literally and runs nothing.

Every page is opened with the ``page`` fixture, which fails the test if a dialog opens (``alert``) or a
script error goes uncaught; each page is also searched for elements the names would have injected.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.events import dataset, run_events
from tests.web.ui import detail_url, graph_url, hash_route, shows_name, visible_text, wait_for_graph

EVIL_DATASET = "<img src=x onerror=alert(1)>"
EVIL_JOB = "<script>alert(1)</script>"
EVIL_FIELD = "<svg onload=alert(2)>"
SOURCE = "/data/web-tests/plain_source"

INJECTED = """() => ({
    images: document.querySelectorAll('img[src="x"]').length,
    handlers: document.querySelectorAll('[onerror], [onload]').length,
    scripts: [...document.scripts].filter(s => s.textContent.includes('alert(')).length,
    svgs: [...document.querySelectorAll('svg')].filter(s => s.hasAttribute('onload')).length,
})"""


@pytest.fixture(scope="module", autouse=True)
def evil_run(post):
    post(run_events(EVIL_JOB, inputs=[dataset(SOURCE, ["a", "b"])],
                    outputs=[dataset(EVIL_DATASET, ["id", EVIL_FIELD], rows=3, lineage={
                        "id": [(SOURCE, "a", "DIRECT/IDENTITY")], EVIL_FIELD: [(SOURCE, "b", "DIRECT/TRANSFORMATION")]})]))


def assert_nothing_injected(page) -> None:
    assert page.evaluate(INJECTED) == {"images": 0, "handlers": 0, "scripts": 0, "svgs": 0}


def test_the_page_comes_with_a_content_security_policy(page):
    response = page.goto("/")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_lists_show_markup_in_names_as_text(page):
    page.goto("/" + hash_route("datasets"))
    page.locator("[data-testid=list-filter]").fill("onerror")
    row = page.locator("[data-testid=dataset-row]")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-name", EVIL_DATASET)
    expect(row).to_contain_text(EVIL_DATASET)

    page.goto("/" + hash_route("jobs"))
    page.locator("[data-testid=list-filter]").fill("script")
    row = page.locator("[data-testid=job-row]")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-name", EVIL_JOB)
    expect(row).to_contain_text(EVIL_JOB)
    assert_nothing_injected(page)


def test_global_search_shows_markup_in_names_as_text(page):
    page.goto("/#/")
    box = page.locator("[data-testid=global-search]")
    box.fill("alert")
    box.press("Enter")
    rows = page.locator("[data-testid=search-row]")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=EVIL_DATASET)).to_have_attribute("data-name", EVIL_DATASET)
    expect(rows.filter(has_text=EVIL_JOB)).to_have_attribute("data-name", EVIL_JOB)
    assert_nothing_injected(page)


def test_graph_and_details_show_markup_in_names_as_text(page):
    page.goto(graph_url(f"dataset:file:{EVIL_DATASET}", depth=1, columns=True))
    wait_for_graph(page)
    node = page.locator(f"[data-testid=graph-node][data-node-id='dataset:file:{EVIL_DATASET}']")
    assert shows_name(visible_text(node), EVIL_DATASET), visible_text(node)
    field = page.locator(f"[data-testid=graph-field][data-field-id='datasetField:file:{EVIL_DATASET}:{EVIL_FIELD}']")
    assert shows_name(visible_text(field), EVIL_FIELD), visible_text(field)
    field.click()
    expect(page.locator("[data-testid=side-panel]")).to_contain_text(EVIL_FIELD)
    job = page.locator(f"[data-testid=graph-node][data-node-id='job:data-lineage-audit:{EVIL_JOB}']")
    assert shows_name(visible_text(job), EVIL_JOB), visible_text(job)
    job.click()
    expect(page.locator("[data-testid=side-panel]")).to_contain_text(EVIL_JOB)
    assert_nothing_injected(page)

    page.goto(detail_url("dataset", "file", EVIL_DATASET))
    expect(page.locator("[data-testid=schema]")).to_contain_text(EVIL_FIELD)
    expect(page.locator("main")).to_contain_text(EVIL_DATASET)
    expect(page.locator("[data-testid=column-lineage-table]")).to_contain_text(EVIL_FIELD)
    assert_nothing_injected(page)

    page.goto(detail_url("job", "data-lineage-audit", EVIL_JOB))
    expect(page.locator("[data-testid=run-history] [data-testid=run-row]")).to_have_count(1)
    expect(page.locator("main")).to_contain_text(EVIL_JOB)
    assert_nothing_injected(page)


def test_a_field_name_with_colons_highlights_on_its_own_dataset(page, post):
    """Field ids (`datasetField:<ns>:<dataset>:<field>`) cannot be split where names hold colons: field `k:v`
    of `src` and field `v` of `src:k` have the same id. Selecting what `k:v` feeds marks `src`'s field only."""
    src, twin, out = "/data/web-tests/colons/src", "/data/web-tests/colons/src:k", "/data/web-tests/colons/out"
    post(run_events("colons.copy", inputs=[dataset(src, ["k:v", "plain"]), dataset(twin, ["v", "w"])],
                    outputs=[dataset(out, ["to:1", "other"], lineage={
                        "to:1": [(src, "k:v", "DIRECT/IDENTITY")], "other": [(twin, "w", "DIRECT/IDENTITY")]})]))
    page.goto(graph_url(f"dataset:file:{out}", depth=1, columns=True))
    wait_for_graph(page)
    selected = page.locator(f'[data-testid=graph-node][data-node-id="dataset:file:{out}"] '
                            f'[data-testid=graph-field][data-field-id="datasetField:file:{out}:to:1"]')
    selected.click()
    expect(selected).to_have_attribute("data-highlight", "selected")
    marks = {(f["node"], f["id"]): f["mark"] for f in page.eval_on_selector_all(
        "[data-testid=graph-field]", "els => els.map(e => ({node: e.closest('[data-testid=graph-node]')"
        ".getAttribute('data-node-id'), id: e.getAttribute('data-field-id'),"
        " mark: e.getAttribute('data-highlight')}))")}
    same_id = f"datasetField:file:{src}:k:v"  # = f"datasetField:file:{twin}:v"
    assert marks[(f"dataset:file:{src}", same_id)] == "upstream"
    assert marks[(f"dataset:file:{twin}", same_id)] == ""
    marked = {key for key, mark in marks.items() if mark}
    assert marked == {(f"dataset:file:{out}", f"datasetField:file:{out}:to:1"), (f"dataset:file:{src}", same_id)}


def test_search_takes_what_the_user_types_literally(page, post):
    # the API reads q as a LIKE pattern (as Marquez does): "_" and "%" typed in the box must not be wildcards
    post(run_events("web_tests.like_wildcards", inputs=[dataset(SOURCE, ["a"])],
                    outputs=[dataset("/data/web-tests/rate_a_b", ["a"]), dataset("/data/web-tests/rate_axb", ["a"]),
                             dataset("/data/web-tests/share_100%", ["a"]), dataset("/data/web-tests/share_1000", ["a"])]))
    page.goto("/#/")
    box = page.locator("[data-testid=global-search]")
    rows = page.locator("[data-testid=search-row]")
    for typed, found in (("rate_a_b", "/data/web-tests/rate_a_b"), ("share_100%", "/data/web-tests/share_100%")):
        box.fill(typed)
        box.press("Enter")
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_attribute("data-name", found)
