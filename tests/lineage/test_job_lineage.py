"""Each job's captured column lineage, column by column, against its expectation in ``expected_<job>.py``."""

from __future__ import annotations

import importlib

import pytest

from lineage_audit.runner import JOBS
from tests.lineage.harness import job_lineage

EXPECTED = {job: importlib.import_module(f"tests.lineage.expected_{job}").EXPECTED for job in JOBS}
TABLES = [(job, table) for job, tables in EXPECTED.items() for table in tables]


@pytest.fixture(scope="module")
def lineage(pipeline_events, pipeline_catalog) -> dict[str, dict]:
    return {job: job_lineage(pipeline_events, pipeline_catalog, job) for job in JOBS}


@pytest.mark.parametrize("job", JOBS)
def test_every_table_the_job_writes_has_lineage(lineage, job):
    assert sorted(lineage[job]) == sorted(EXPECTED[job])


@pytest.mark.parametrize("job, table", TABLES, ids=[f"{job}:{table}" for job, table in TABLES])
def test_column_lineage(lineage, job, table):
    found, expected = lineage[job][table], EXPECTED[job][table]
    assert found["fields"] == expected["fields"]
    assert list(found["fields"]) == list(expected["fields"]), "every column, in the table's order"
    assert found["dataset"] == expected["dataset"]
