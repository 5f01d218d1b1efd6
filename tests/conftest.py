"""Shared fixtures: one Spark session for the whole run, and tiny generated sample data."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest

from lineage_audit.capture.choice import CAPTURE_ENV
from lineage_audit.config import CONF_DIR_ENV, FORMAT_ENV, PROJECT_ROOT, SPARK_DEFAULTS_ENV, Catalog, load_catalog
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


def _pipeline(tmp_path_factory, name: str, reuse_env: str, env: dict[str, str],
              then: list[str] | None = None) -> Path:
    """A data directory after ``lineage-audit run`` (what ``make run`` calls) of all eight jobs.

    No lineage server listens, so every event is spooled to ``<data>/lineage-spool``. ``then``
    names jobs run once more afterwards (customers again: its second run MERGEs into the Delta
    master). While iterating on tests, ``<reuse_env>=<dir>`` reuses a finished run in ``<dir>``.
    """
    reuse = os.environ.get(reuse_env)
    if reuse:
        assert (Path(reuse) / "runs").is_dir(), f"{reuse_env}={reuse} holds no finished run"
        return Path(reuse)
    root = tmp_path_factory.mktemp(name)
    done = run_cli(["run", "--scale", PIPELINE_SCALE], root, env=env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "8/8 jobs succeeded" in done.stdout
    for job in JOBS:
        assert f"== {job}: ok in" in done.stdout
    if then:
        again = run_cli(["run", *then], root, env=env)
        assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-4000:]
    return root


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory) -> Path:
    """The eight jobs under the built-in capture (``LINEAGE_AUDIT_TEST_PIPELINE_DIR`` reuses a run).

    The lineage expectations (tests/lineage), the service and the web UI tests read its events; the
    differential suite holds them against :func:`official_pipeline_run`'s.
    """
    return _pipeline(tmp_path_factory, "pipeline", "LINEAGE_AUDIT_TEST_PIPELINE_DIR",
                     {CAPTURE_ENV: "builtin", FORMAT_ENV: "parquet"})


@pytest.fixture(scope="session")
def official_pipeline_run(tmp_path_factory) -> Path:
    """The eight jobs as ``make run`` runs them: the official OpenLineage listener, Parquet tables."""
    return _pipeline(tmp_path_factory, "official-pipeline", "LINEAGE_AUDIT_TEST_OFFICIAL_PIPELINE_DIR",
                     {CAPTURE_ENV: "official", FORMAT_ENV: "parquet"})


@pytest.fixture(scope="session")
def delta_pipeline_run(tmp_path_factory) -> Path:
    """``LINEAGE_AUDIT_TABLE_FORMAT=delta``: the eight jobs writing Delta, then customers again (MERGE).

    Under the official listener alone: Delta's JARs come from Maven as the listener's do, so a site
    with Delta has the listener. The built-in capture's Delta writes and MERGEs are held against the
    official listener's by the differential suite (``delta`` shapes) and checked in tests/capture.
    """
    return _pipeline(tmp_path_factory, "delta-pipeline", "LINEAGE_AUDIT_TEST_DELTA_PIPELINE_DIR",
                     {CAPTURE_ENV: "official", FORMAT_ENV: "delta"}, then=["customers"])


def spooled_events(data_dir: Path) -> list[dict]:
    """Every OpenLineage event a run spooled, oldest first."""
    return [json.loads(p.read_text()) for p in sorted((data_dir / "lineage-spool").glob("*.json"))]


@pytest.fixture(scope="session")
def official_pipeline_events(official_pipeline_run) -> list[dict]:
    return spooled_events(official_pipeline_run)


@pytest.fixture(scope="session")
def pipeline_events(pipeline_run) -> list[dict]:
    """Every OpenLineage event the built-in pipeline run emitted, oldest first."""
    return spooled_events(pipeline_run)


@pytest.fixture(scope="session")
def pipeline_catalog(pipeline_run) -> Catalog:
    return load_catalog(data_dir=pipeline_run, table_format="parquet")
