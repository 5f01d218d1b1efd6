"""The jobs, unchanged, on a Spark standalone cluster: same outputs and same lineage as a local run.

A master and two one-core workers on loopback (``lineage_audit/cluster.py``); customers and orders
are handed to ``spark-submit --master spark://... --properties-file spark-defaults.conf``, once
under each capture, on data generated with the local run's scale and seed in a directory of
their own. The local runs are the session fixtures ``pipeline_run`` (built-in capture) and
``official_pipeline_run`` (the official listener).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from chispa import assert_df_equality

from lineage_audit.capture.choice import CAPTURE_ENV
from lineage_audit.cluster import standalone_cluster, submit_job, submit_script
from lineage_audit.config import FORMAT_ENV, load_catalog
from tests.conftest import spooled_events
from tests.pipeline import PIPELINE_SCALE, run_cli

pytestmark = pytest.mark.e2e

CLUSTER_JOBS = ("customers", "orders")
LOCAL_RUN = {"builtin": "pipeline_run", "official": "official_pipeline_run"}  # the fixture of each capture
# What customers and orders write: their outputs and the quarantine of their raw inputs.
OUTPUTS = ("processed_customers", "enriched_orders", "order_summary")
REJECTS = ("raw_customers", "raw_orders")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with standalone_cluster(workers=2, cores=1, memory="1g", root=tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture(scope="module", params=sorted(LOCAL_RUN))
def runs(request, tmp_path_factory) -> tuple[str, Path, Path]:
    """(capture, local data dir, cluster data dir): customers and orders submitted to the cluster."""
    capture = request.param
    local = request.getfixturevalue(LOCAL_RUN[capture])  # first: the local run needs no idle cluster
    cluster = request.getfixturevalue("cluster")
    data = tmp_path_factory.mktemp(f"cluster-{capture}")
    generated = run_cli(["generate", "--scale", PIPELINE_SCALE], data)
    assert generated.returncode == 0, generated.stderr[-2000:]
    for job in CLUSTER_JOBS:
        done = submit_job(cluster, job, data, {CAPTURE_ENV: capture, FORMAT_ENV: "parquet"},
                          capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
        assert f"== {job}: ok in" in done.stdout
    return capture, local, data


def _tables(data_dir: Path) -> dict[str, str]:
    catalog = load_catalog(data_dir=data_dir, table_format="parquet")
    paths = {name: catalog.output(name).path for name in OUTPUTS}
    paths.update({f"rejects of {name}": catalog.rejects(name).path for name in REJECTS})
    return paths


def test_the_cluster_writes_what_a_local_run_writes(spark, runs):
    capture, local, on_cluster = runs
    cluster_tables = _tables(on_cluster)
    for table, path in _tables(local).items():
        expected = spark.read.parquet(path)
        actual = spark.read.parquet(cluster_tables[table])
        assert actual.count() == expected.count() > 0, f"{table} under {capture}"
        assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def _summary(event: dict, data_dir: Path) -> str:
    """One event as what it says about lineage: no run ids, times or properties; ``<data>`` for the root."""
    def dataset(d: dict) -> dict:
        fields = d.get("facets", {}).get("columnLineage", {}).get("fields", {})
        return {
            "name": [d["namespace"], d["name"]],
            "schema": [f["name"] for f in d.get("facets", {}).get("schema", {}).get("fields", [])],
            "rows": d.get("outputFacets", {}).get("outputStatistics", {}).get("rowCount"),
            "columns": {column: sorted([i["namespace"], i["name"], i["field"],
                                        sorted([t.get("type"), t.get("subtype")] for t in i.get("transformations", []))]
                                       for i in lineage.get("inputFields", []))
                        for column, lineage in fields.items()},
        }

    summary = {
        "type": event["eventType"],
        "job": event["job"]["name"],
        "parent": event["run"].get("facets", {}).get("parent", {}).get("job", {}).get("name"),
        "inputs": sorted([d["namespace"], d["name"]] for d in event.get("inputs", [])),
        "outputs": sorted((dataset(d) for d in event.get("outputs", [])), key=lambda d: d["name"]),
    }
    return json.dumps(summary, sort_keys=True).replace(str(data_dir), "<data>")


def _of_cluster_jobs(events: list[dict]) -> list[dict]:
    return [e for e in events if e["job"]["name"].split(".")[0] in CLUSTER_JOBS]


def test_the_cluster_run_has_the_local_lineage(runs, cluster):
    capture, local, on_cluster = runs
    cluster_events = spooled_events(on_cluster)
    local_events = _of_cluster_jobs(spooled_events(local))
    assert {e["job"]["name"] for e in cluster_events} >= set(CLUSTER_JOBS)
    expected = Counter(_summary(e, local) for e in local_events)
    actual = Counter(_summary(e, on_cluster) for e in cluster_events)
    assert actual == expected, f"under {capture}: only on the cluster {actual - expected}, only local {expected - actual}"
    # and they did run there: --master beat spark-defaults.conf's local[*]
    masters = {e["run"]["facets"]["spark_properties"]["properties"]["spark.master"]
               for e in cluster_events if "spark_properties" in e["run"].get("facets", {})}
    assert masters == {cluster.master_url}


def test_executors_receive_the_capture_jars(runs, cluster):
    """Each application's executors fetched the JARs by absolute path: Delta always, the listener's when official."""
    capture, _, _ = runs
    apps = [app for app in cluster.state()["completedapps"] if app["name"] in CLUSTER_JOBS]
    assert sorted({app["name"] for app in apps}) == sorted(CLUSTER_JOBS)
    for app in apps:
        executor_dirs = [d for work in cluster.work_dirs() for d in (work / app["id"]).glob("*") if d.is_dir()]
        assert len(executor_dirs) >= 1, f"{app['name']} ({app['id']}) had no executor"
        for executor in executor_dirs:
            jars = {p.name for p in executor.glob("*.jar")}
            assert "delta-spark_2.13-4.4.0.jar" in jars


DELTA_PROBE = """
import sys
from lineage_audit.spark import build_session

spark = build_session("delta-on-executors")
path = sys.argv[1]
# four partitions over two one-core executors: Delta's commit protocol runs in their tasks
spark.range(0, 1000, numPartitions=4).selectExpr("id", "id % 7 AS bucket").write.format("delta").save(path)
rows = spark.read.format("delta").load(path).where("bucket = 3").count()
print(f"master={spark.sparkContext.master} rows={rows}")
spark.stop()
"""


def test_a_delta_write_runs_on_the_executors(cluster, tmp_path):
    script = tmp_path / "delta_probe.py"
    script.write_text(DELTA_PROBE)
    table = tmp_path / "numbers_delta"
    done = submit_script(cluster, script, [str(table)], tmp_path, {CAPTURE_ENV: "builtin"},
                         capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-5000:]
    # a standalone driver runs no task itself: the executors wrote the files through Delta's classes
    assert f"master={cluster.master_url} rows=143" in done.stdout  # 3, 10, ..., 997
    assert (table / "_delta_log" / "00000000000000000000.json").exists()
