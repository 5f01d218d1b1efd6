"""Lineage across jobs, from the captured events: the jobs read what upstream jobs write, and columns
followed through every hop reach the raw feeds (expectations in ``expected_pipeline.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineage_audit.config import load_catalog
from lineage_audit.runner import JOBS, UPSTREAM_TABLES
from tests.lineage.expected_pipeline import FLOWS, HASHED_BY_CUSTOMERS, INCLUDES
from tests.lineage.harness import end_to_end_sources, pipeline_lineage, table_names


@pytest.fixture(scope="module")
def lineage(pipeline_events, pipeline_catalog) -> dict[str, dict]:
    return pipeline_lineage(pipeline_events, pipeline_catalog, JOBS)


@pytest.mark.parametrize("capture", ["builtin", "official"])
def test_each_job_reads_exactly_the_upstream_outputs_the_runner_orders_it_by(request, capture):
    """Under either capture, the datasets a job's events read include other jobs' outputs under the very
    names those jobs' events wrote them: the graph is one pipeline, and the runner's order is the real one."""
    data_dir = request.getfixturevalue("pipeline_run" if capture == "builtin" else "official_pipeline_run")
    events = request.getfixturevalue("pipeline_events" if capture == "builtin" else "official_pipeline_events")
    catalog = load_catalog(data_dir=data_dir, table_format="parquet")
    names = table_names(catalog)
    written = {o["name"] for e in events if e["eventType"] == "COMPLETE" for o in e.get("outputs", [])}
    for job in JOBS:
        inputs = {i["name"] for e in events if e["job"]["name"].startswith(f"{job}.") for i in e.get("inputs", [])}
        upstream = {names[str(Path(n))] for n in inputs if names.get(str(Path(n))) in catalog.outputs
                    and catalog.output(names[str(Path(n))]).job != job}
        assert upstream == set(UPSTREAM_TABLES[job]), job
        assert {n for n in inputs if names.get(str(Path(n))) in upstream} <= written, job


@pytest.mark.parametrize("column", sorted(FLOWS), ids=[f"{t}.{c}" for t, c in sorted(FLOWS)])
def test_a_column_reaches_exactly_its_raw_sources_through_every_hop(lineage, pipeline_catalog, column):
    assert end_to_end_sources(lineage, pipeline_catalog, *column) == FLOWS[column]


@pytest.mark.parametrize("column", sorted(INCLUDES), ids=[f"{t}.{c}" for t, c in sorted(INCLUDES)])
def test_a_wide_column_reaches_these_raw_sources_among_others(lineage, pipeline_catalog, column):
    found = end_to_end_sources(lineage, pipeline_catalog, *column)
    assert INCLUDES[column] <= found, sorted(INCLUDES[column] - found)


def test_every_column_with_values_from_an_upstream_job_reaches_a_generated_input(lineage, pipeline_catalog):
    """No chain breaks between jobs: a column computed from another job's output resolves to raw sources."""
    crossing = 0
    for table, found in lineage.items():
        if table not in pipeline_catalog.outputs:
            continue
        for column, inputs in found["fields"].items():
            upstream = [(t, f) for (t, f), codes in inputs.items()
                        if t in pipeline_catalog.outputs and any(c.startswith("DIRECT/") for c in codes)]
            if not upstream:
                continue
            crossing += 1
            sources = end_to_end_sources(lineage, pipeline_catalog, table, column)
            literal_only = all(not end_to_end_sources(lineage, pipeline_catalog, t, f) for t, f in upstream)
            assert sources or literal_only, (table, column)
    assert crossing >= 50, "the jobs feed each other column by column"


def test_what_customers_hashes_is_masked_wherever_it_flows(lineage, pipeline_catalog):
    seen = 0
    for table in lineage:
        if table not in pipeline_catalog.outputs or pipeline_catalog.output(table).job == "customers":
            continue
        for column in lineage[table]["fields"]:
            for source, field, masked, jobs in end_to_end_sources(lineage, pipeline_catalog, table, column):
                if (source, field) in HASHED_BY_CUSTOMERS and jobs[0] == "customers":
                    seen += 1
                    assert masked, (table, column, source, field, jobs)
    assert seen > 0, "a hashed e-mail or phone reaches a downstream job"


def test_the_lineage_service_graph_of_compliance_report_reaches_the_raw_feeds_through_the_upstream_jobs(
        pipeline_events, pipeline_catalog, tmp_path):
    """The question a user asks the service: where does compliance_report come from? Every job of the
    pipeline that leads to it, and the raw feeds they read, are in its upstream graph."""
    from tests.service.conftest import make_client

    with make_client(f"sqlite:///{tmp_path / 'store.db'}") as client:
        for event in pipeline_events:
            assert client.post("/api/v1/lineage", json=event).status_code == 201
        report = str(Path(pipeline_catalog.output("compliance_report").path))
        graph = client.get("/api/v1/lineage", params={"nodeId": f"dataset:file:{report}", "depth": 20}).json()["graph"]
    names = table_names(pipeline_catalog)
    datasets = {names.get(n["data"]["name"], n["data"]["name"]) for n in graph if n["type"] == "DATASET"}
    jobs = {n["data"]["name"].split(".")[0] for n in graph if n["type"] == "JOB"}
    assert {"compliance", "data_quality", "data_lake_ingestion", "customers", "orders", "financial"} <= jobs
    assert {"raw_customers", "raw_orders", "raw_transactions", "data_lineage_summary", "processed_customers",
            "customer_master", "order_summary"} <= datasets
