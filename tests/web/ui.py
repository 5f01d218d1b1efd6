"""Reading the web UI through its DOM contract: page addresses, and what a page shows as plain data.

>>> graph_url("dataset:file:/data/out", depth=2, columns=True)
'/#/lineage?node=dataset%3Afile%3A%2Fdata%2Fout&depth=2&columns=1&full=1'
>>> detail_url("job", "data-lineage-audit", "orders.write")
'/#/job/data-lineage-audit/orders.write'
>>> pipeline_url("data-lineage-audit", columns=True, poll=200)
'/?poll=200#/pipeline/data-lineage-audit?columns=1'
"""

from __future__ import annotations

import urllib.parse
from contextlib import contextmanager

VIEWPORT = {"width": 1440, "height": 900}


@contextmanager
def open_page(browser, base_url: str):
    """A page in a fresh context; when the block ends, fails if the page opened a dialog, had an uncaught
    script error, or asked anything of another origin (a CDN, say)."""
    context = browser.new_context(viewport=VIEWPORT, base_url=base_url, timezone_id="UTC")
    page = context.new_page()
    dialogs, errors, elsewhere = [], [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: None if request.url.startswith((base_url + "/", "data:", "blob:"))
            else elsewhere.append(request.url))
    try:
        yield page
    finally:
        context.close()
    assert not dialogs, f"the page opened dialogs: {dialogs}"
    assert not errors, f"uncaught errors in the page: {errors}"
    assert not elsewhere, f"the page asked other origins: {elsewhere[:5]}"


def hash_route(route: str, **params) -> str:
    """``#/<route>?<params>``, every value URL-encoded (nodeIds hold colons and slashes)."""
    query = "&".join(f"{k}={urllib.parse.quote(str(v), safe='')}" for k, v in params.items())
    return f"#/{route}" + (f"?{query}" if query else "")


def graph_url(node_id: str, *, depth: int = 1, columns: bool = False, full: bool = True,
              poll: int | None = None) -> str:
    """The graph page of a nodeId; ``poll`` (ms) shortens the page's refresh interval."""
    prefix = f"/?poll={poll}" if poll else "/"
    return prefix + hash_route("lineage", node=node_id, depth=depth, columns=int(columns), full=int(full))


def pipeline_url(namespace: str, *, columns: bool = False, poll: int | None = None) -> str:
    """The pipeline page of a job namespace; ``poll`` (ms) shortens the page's refresh interval."""
    prefix = f"/?poll={poll}" if poll else "/"
    return f"{prefix}#/pipeline/{urllib.parse.quote(namespace, safe='')}" + ("?columns=1" if columns else "")


def detail_url(kind: str, namespace: str, name: str) -> str:
    """``/#/job/<ns>/<name>`` or ``/#/dataset/<ns>/<name>``."""
    return f"/#/{kind}/{urllib.parse.quote(namespace, safe='')}/{urllib.parse.quote(name, safe='')}"


def wait_for_graph(page):
    """The graph container once a layout is on screen (``data-render-ms`` set)."""
    page.locator("[data-testid=graph][data-render-ms]").wait_for()
    return page.locator("[data-testid=graph]")


def attributes(page, selector: str, *names: str) -> list[dict[str, str]]:
    """The named attributes of every element matching ``selector``, in document order (missing = '')."""
    return page.eval_on_selector_all(
        selector, "(els, names) => els.map(e => Object.fromEntries(names.map(n => [n, e.getAttribute(n) ?? ''])))",
        list(names))


def nodes(page) -> dict[str, dict[str, str]]:
    """``{nodeId: {kind, state, selected}}`` of the graph's nodes."""
    return {a["data-node-id"]: {"kind": a["data-kind"], "state": a["data-state"], "selected": a["data-selected"]}
            for a in attributes(page, "[data-testid=graph-node]", "data-node-id", "data-kind", "data-state",
                                "data-selected")}


def node_boxes(page) -> dict[str, dict[str, float]]:
    """``{nodeId: {x, y, width, height}}`` of the graph's nodes as drawn (screen pixels)."""
    return page.eval_on_selector_all(
        "[data-testid=graph-node]", "els => Object.fromEntries(els.map(e => { const r = e.getBoundingClientRect(); "
        "return [e.getAttribute('data-node-id'), {x: r.x, y: r.y, width: r.width, height: r.height}]; }))")


def traced(page, selector: str = "[data-testid=graph-node]") -> dict[str, str]:
    """``{nodeId: upstream | downstream}`` of the jobs a selected field passes through (``data-trace``)."""
    return {a["data-node-id"]: a["data-trace"] for a in attributes(page, selector, "data-node-id", "data-trace")
            if a["data-trace"]}


def field_edge_highlights(page) -> dict[tuple[str, str], str]:
    """``{(from field id, to field id): highlight}`` of the highlighted field edges."""
    return {(a["data-from"], a["data-to"]): a["data-highlight"]
            for a in attributes(page, "[data-testid=field-edge]", "data-from", "data-to", "data-highlight")
            if a["data-highlight"]}


def highlights(page) -> dict[str, str]:
    """``{field id: highlight}`` of every field shown (column level)."""
    return {a["data-field-id"]: a["data-highlight"]
            for a in attributes(page, "[data-testid=graph-field]", "data-field-id", "data-highlight")}


def highlighted(page, kind: str) -> set[str]:
    return {field for field, mark in highlights(page).items() if mark == kind}


def field_edge(page, source: str, target: str):
    """The field edge from one field id to another."""
    return page.locator(f"[data-testid=field-edge][data-from={_quoted(source)}][data-to={_quoted(target)}]")


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def visible_text(locator) -> str:
    """The element's text without its ``<title>`` tooltips: what is drawn (SVG or HTML)."""
    return locator.evaluate("el => { const c = el.cloneNode(true); "
                            "c.querySelectorAll('title').forEach(t => t.remove()); return c.textContent; }")


def shows_name(text: str, name: str, shortest: int = 12) -> bool:
    """Whether ``text`` shows ``name``, whole or cut with an ellipsis after at least ``shortest`` characters.

    >>> shows_name("outputs_enriched_ord…", "outputs_enriched_orders"), shows_name("outputs…", "outputs_x_y_z_w")
    (True, False)
    """
    return name in text or any(name[:k] + "\N{HORIZONTAL ELLIPSIS}" in text
                               for k in range(min(shortest, len(name)), len(name)))


def layout_count(page) -> int:
    return int(page.locator("[data-testid=graph]").get_attribute("data-layout-count"))
