"""Fixtures of the job tests: the upstream jobs a job reads from, run once on the tiny sample data."""

from __future__ import annotations

import importlib

import pytest

from lineage_audit.job import JobRun
from lineage_audit.runner import ancestor_jobs, pipeline_order


@pytest.fixture(scope="session")
def run_upstream(spark, sample_catalog):
    """``run_upstream(job)`` runs, once per test session, every job whose outputs ``job`` reads (directly
    or not), in pipeline order, into ``sample_catalog``: a job test then runs its job as the pipeline does."""
    done: set[str] = set()

    def run(job: str) -> None:
        for upstream in pipeline_order(ancestor_jobs(job, sample_catalog)):
            if upstream in done:
                continue
            module = importlib.import_module(f"jobs.{upstream}")
            with JobRun(upstream, spark=spark, catalog=sample_catalog) as upstream_run:
                module.execute(upstream_run)
            assert upstream_run.summary.status == "ok", upstream_run.summary.error
            done.add(upstream)

    return run
