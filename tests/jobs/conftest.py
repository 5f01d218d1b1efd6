"""Fixtures of the job tests: each job's whole run, read from the built-in pipeline run.

The pipeline run (``pipeline_run``: the eight jobs as ``make run`` runs them, at the tests' sample scale)
happens once per test session anyway; a job test reads its outputs, rejects and summary instead of
running the job again in this process. The transformations are tested one by one on small frames.
"""

from __future__ import annotations

import json

import pytest

from lineage_audit.job import JobSummary


@pytest.fixture(scope="session")
def job_summary(pipeline_run):
    """``job_summary(job)``: the summary the job saved in the pipeline run (status, rows in, out, rejected)."""

    def read(job: str) -> JobSummary:
        return JobSummary(**json.loads((pipeline_run / "runs" / f"{job}.json").read_text()))

    return read
