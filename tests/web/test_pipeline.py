"""The pipeline view (``#/pipeline/<namespace>``): every job of the namespace and every dataset it reads or writes,
in one graph laid out left to right, on the events of all eight jobs of the pipeline run.

What it must show is worked out from the events alone (``tests/web/expected.py``: ``Pipeline``), so that the
tests hold whatever the jobs read and write. Tracing takes the column whose upstream chain crosses the most
applications (the eight jobs) and checks every hop; that some column crosses at least three is asserted on its
own, since it holds only once the jobs feed each other.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.events import JOB_NAMESPACE, dataset, run_events
from tests.web.expected import Pipeline, reachable
from tests.web.live_service import serve_events
from tests.web.test_graph import eventually
from tests.web.ui import (
    attributes, field_edge_highlights, highlighted, layout_count, node_boxes, nodes, pipeline_url, traced,
    wait_for_graph,
)


@pytest.fixture(scope="module")
def service(ui_built, pipeline_events, tmp_path_factory):
    """This module's service holds every event of the pipeline run, all eight jobs."""
    yield from serve_events(tmp_path_factory, pipeline_events)


@pytest.fixture(scope="module")
def pipeline(pipeline_events) -> Pipeline:
    return Pipeline(pipeline_events, JOB_NAMESPACE)


def _chain(pipeline: Pipeline, field: str) -> tuple[set[str], set[tuple[str, str]], set[str]]:
    """A field's upstream fields, the hops among them and it, and the applications whose jobs made the hops."""
    upstream = pipeline.fields.upstream(field)
    hops = pipeline.hops(upstream | {field})
    return upstream, hops, {pipeline.application[job] for job in pipeline.jobs_of(hops)}


def _depth(pipeline: Pipeline, field: str, seen: frozenset[str] = frozenset()) -> int:
    """The most hops from the field back to a source column."""
    return max((1 + _depth(pipeline, source, seen | {field}) for source in pipeline.fields.inputs.get(field, {})
                if source not in seen), default=0)


@pytest.fixture(scope="module")
def longest_chain(pipeline) -> str:
    """The output field whose upstream chain crosses the most applications; of those, the deepest chain, then the
    fewest upstream fields (a picture one can follow), then by name."""
    assert pipeline.fields.inputs, "no column lineage in the events"

    def rank(field: str) -> tuple:
        upstream, _, applications = _chain(pipeline, field)
        return -len(applications), -_depth(pipeline, field), len(upstream), field
    return min(pipeline.fields.inputs, key=rank)


def _applications_drawn(pipeline: Pipeline) -> tuple[set[str], set[str]]:
    """(jobs drawn, application jobs listed beside the graph): an application's own job, with no datasets and
    parent of jobs that ran, is listed, not drawn."""
    parents = {name for job, name in pipeline.application.items() if job.rsplit(":", 1)[1] != name}
    listed = {job for job, sides in pipeline.io.items()
              if not sides["INPUT"] and not sides["OUTPUT"] and job.rsplit(":", 1)[1] in parents}
    return set(pipeline.io) - listed, listed


def _on_a_cycle(edge: tuple[str, str], edges: set[tuple[str, str]]) -> bool:
    """Whether the edge's source is reachable from its target (no drawing puts both ends left of the other)."""
    return edge[0] == edge[1] or edge[0] in reachable(edge[1], edges)


def test_the_pipeline_is_in_the_navigation_and_shows_every_job_and_dataset_left_to_right(page, pipeline, screenshot):
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name="Pipeline").click()
    expect(page).to_have_url(re.compile(rf"#/pipeline/{JOB_NAMESPACE}$"))  # the only namespace with jobs
    graph = wait_for_graph(page)

    drawn, applications = _applications_drawn(pipeline)
    assert {job for job, sides in pipeline.io.items() if sides["INPUT"] or sides["OUTPUT"]} <= drawn
    shown = nodes(page)
    assert set(shown) == drawn | pipeline.datasets
    assert {node: a["kind"] for node, a in shown.items()} == {n: n.split(":", 1)[0].upper() for n in shown}
    edges = {(a["data-from"], a["data-to"]) for a in attributes(page, "[data-testid=graph-edge]", "data-from",
                                                                  "data-to")}
    assert edges == pipeline.edges
    assert graph.get_attribute("data-node-count") == str(len(drawn | pipeline.datasets))
    # every job of the events is named beside the graph, by application; the applications' own jobs there only
    listed = {a["data-node-id"]: a["data-application"] for a in attributes(
        page, "[data-testid=pipeline-jobs] [data-node-id]", "data-node-id", "data-application")}
    assert set(listed) == set(pipeline.io)
    assert {job for job, application in listed.items() if application} == applications

    boxes = node_boxes(page)  # left to right: each job right of its inputs, each output right of its job
    for a, b in sorted(edges):
        if not _on_a_cycle((a, b), edges):
            assert boxes[a]["x"] + boxes[a]["width"] <= boxes[b]["x"], (a, b)
    screenshot(page, "pipeline")


def test_tracing_the_longest_column_chain_highlights_every_hop_and_the_jobs_it_passes(
        page, pipeline, longest_chain, screenshot):
    field = longest_chain
    upstream, hops, _ = _chain(pipeline, field)
    downstream = pipeline.fields.downstream(field)
    down_hops = pipeline.hops(downstream | {field})
    page.goto(pipeline_url(JOB_NAMESPACE, columns=True))
    wait_for_graph(page)
    row = page.locator(f'[data-testid=graph-field][data-field-id="{field}"]')
    expect(row).to_have_count(1)
    layouts = layout_count(page)
    row.click()
    expect(row).to_have_attribute("data-highlight", "selected")

    assert eventually(lambda: highlighted(page, "upstream"), upstream) == upstream
    assert highlighted(page, "downstream") == downstream
    assert highlighted(page, "selected") == {field}
    expected_edges = {hop: "upstream" for hop in hops} | {hop: "downstream" for hop in down_hops}
    assert field_edge_highlights(page) == expected_edges  # every hop, and nothing else
    up_jobs, down_jobs = pipeline.jobs_of(hops), pipeline.jobs_of(down_hops)
    assert traced(page) == {job: "upstream" for job in up_jobs} | {job: "downstream" for job in down_jobs - up_jobs}
    # the side panel names the jobs too, each centred on a click
    assert set(traced(page, "[data-testid=trace-jobs] [data-node-id]")) == up_jobs | down_jobs
    assert layout_count(page) == layouts, "selecting a field must not lay the pipeline out again"

    page.locator("[data-testid=fit-trace]").click()  # the trace fills the view, nothing of it outside
    view, boxes = page.locator("[data-testid=graph]").bounding_box(), node_boxes(page)
    for node in {pipeline.dataset_of[f] for f in upstream | downstream | {field}} | up_jobs | down_jobs:
        box = boxes[node]
        assert view["x"] <= box["x"] and box["x"] + box["width"] <= view["x"] + view["width"] + 1, node
        assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"] + 1, node
    assert layout_count(page) == layouts
    screenshot(page, "pipeline-column-trace")


def test_some_column_is_traced_across_at_least_three_jobs(pipeline, longest_chain):
    """Holds once the jobs feed each other (customers -> orders -> analytics, ...)."""
    upstream, hops, applications = _chain(pipeline, longest_chain)
    assert len(applications) >= 3, (
        f"the longest column chain, {longest_chain} ({len(upstream)} upstream fields), crosses only "
        f"{sorted(applications)}")


def test_the_pipeline_updates_live_and_offers_each_job_namespace(page, pipeline, post):
    page.goto(pipeline_url(JOB_NAMESPACE, poll=200))
    graph = wait_for_graph(page)
    expect(page.locator("[data-testid=pipeline-namespace]")).to_have_count(0)  # one namespace with jobs
    before = len(nodes(page))
    source = sorted(d for d in pipeline.datasets if d.startswith("dataset:file:"))[0].split(":", 2)[2]
    post(run_events("pipeline_live.write_extra", inputs=[dataset(source, ["id"])],
                    outputs=[dataset("/tmp/pipeline-live/extra", ["id"])])
         + run_events("elsewhere", outputs=[dataset("/tmp/pipeline-live/other", ["id"])], namespace="other-team"))
    job = f"job:{JOB_NAMESPACE}:pipeline_live.write_extra"
    expect(page.locator(f'[data-testid=graph-node][data-node-id="{job}"]')).to_have_count(1)
    expect(graph).to_have_attribute("data-node-count", str(before + 2))  # the job and what it writes
    assert "job:other-team:elsewhere" not in nodes(page)  # another namespace's job

    picker = page.locator("[data-testid=pipeline-namespace]")
    expect(picker).to_be_visible()
    assert sorted(picker.locator("option").all_inner_texts()) == sorted([JOB_NAMESPACE, "other-team"])
    picker.select_option("other-team")
    expect(page).to_have_url(re.compile(r"#/pipeline/other-team$"))
    expect(page.locator("[data-testid=graph-node]")).to_have_count(2)
    assert set(nodes(page)) == {"job:other-team:elsewhere", "dataset:file:/tmp/pipeline-live/other"}
