"""Shared fixtures: one Spark session for the whole run, and tiny generated sample data."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest

from lineage_audit.config import CONF_DIR_ENV, PROJECT_ROOT, SPARK_DEFAULTS_ENV, Catalog, load_catalog
from lineage_audit.runner import JOBS
from lineage_audit.sample_data import generate
from lineage_audit.spark import build_session
from tests.pipeline import PIPELINE_SCALE, run_cli

TEST_SCALE = 0.02  # a few hundred to a thousand rows per table: every defect still appears


@pytest.fixture(scope="session", autouse=True)
def lineage_server_nobody_listens_on(tmp_path_factory):
    """The jobs the tests run send their events to a port where nothing listens, so capture spools them.

    Never to the configured one: ``make run`` leaves the user's lineage service running on port 5000,
    whose store would fill with the tests' runs and whose answers would leave the tests' spool empty.
    The tests' subprocesses read ``spark-defaults.conf`` from a copy (``LINEAGE_AUDIT_SPARK_DEFAULTS``)
    that differs in the transport URL alone, and ``conf/`` from a copy (``LINEAGE_AUDIT_CONF_DIR``).
    """
    conf = tmp_path_factory.mktemp("conf")
    shutil.copytree(PROJECT_ROOT / "conf", conf, dirs_exist_ok=True)
    with socket.socket() as probe:  # a port free now; nothing of the tests' listens on it later
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    defaults = conf / "spark-defaults.conf"
    text = (PROJECT_ROOT / "spark-defaults.conf").read_text()
    assert "http://127.0.0.1:5000" in text, "the transport URL the tests replace is no longer in spark-defaults.conf"
    defaults.write_text(text.replace("http://127.0.0.1:5000", f"http://127.0.0.1:{port}"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CONF_DIR_ENV, str(conf))
        patch.setenv(SPARK_DEFAULTS_ENV, str(defaults))
        yield conf


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("warehouse")  # catalog tables of the tests: never in the checkout
    session = build_session(
        "lineage-audit-tests",
        conf={"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2",
              "spark.sql.warehouse.dir": str(warehouse)},
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


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory) -> Path:
    """A data directory after ``lineage-audit run`` (what ``make run`` calls) of all eight jobs.

    No lineage server listens, so capture spools every event to ``<data>/lineage-spool``. While
    iterating on tests, ``LINEAGE_AUDIT_TEST_PIPELINE_DIR=<dir>`` reuses a finished run in ``<dir>``
    (made with ``LINEAGE_AUDIT_DATA_DIR=<dir> lineage-audit run --scale 0.02``) instead.
    """
    reuse = os.environ.get("LINEAGE_AUDIT_TEST_PIPELINE_DIR")
    if reuse:
        assert (Path(reuse) / "runs").is_dir(), f"LINEAGE_AUDIT_TEST_PIPELINE_DIR={reuse} holds no finished run"
        return Path(reuse)
    root = tmp_path_factory.mktemp("pipeline")
    done = run_cli(["run", "--scale", PIPELINE_SCALE], root)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "8/8 jobs succeeded" in done.stdout
    for job in JOBS:
        assert f"== {job}: ok in" in done.stdout
    return root


@pytest.fixture(scope="session")
def pipeline_events(pipeline_run) -> list[dict]:
    """Every OpenLineage event the pipeline run emitted, oldest first."""
    return [json.loads(p.read_text()) for p in sorted((pipeline_run / "lineage-spool").glob("*.json"))]


@pytest.fixture(scope="session")
def pipeline_catalog(pipeline_run) -> Catalog:
    return load_catalog(data_dir=pipeline_run, table_format="parquet")
