"""Shared fixtures: one Spark session for the whole run, and tiny generated sample data."""

from __future__ import annotations

import pytest

from lineage_audit.config import Catalog, load_catalog
from lineage_audit.sample_data import generate
from lineage_audit.spark import build_session

TEST_SCALE = 0.02  # a few hundred to a thousand rows per table: every defect still appears


@pytest.fixture(scope="session")
def spark():
    session = build_session(
        "lineage-audit-tests",
        conf={"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"},
        capture=False,  # capture tests install it themselves, with a file transport
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sample_catalog(tmp_path_factory) -> Catalog:
    """Inputs generated once per test run at TEST_SCALE, in a temporary data directory."""
    data_dir = tmp_path_factory.mktemp("data")
    generate(data_dir, scale=TEST_SCALE)
    return load_catalog(data_dir=data_dir, table_format="parquet")
