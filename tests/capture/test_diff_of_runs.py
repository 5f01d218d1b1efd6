"""Issue 13's "what changed", end to end with real Spark: a job's code changes between two runs (a new column, a
dropped input, a changed expression, fewer rows), the built-in capture records both, the service gets the events
and its runs diff says exactly what changed, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import functions as F
from sqlalchemy import create_engine, text

from lineage_audit.capture.listener import install
from lineage_audit.service.derive import version_uuid
from tests.capture.spec import read_events
from tests.service.conftest import make_client
from tests.service.postgres import SKIP_REASON, PostgresServer, find_binaries

APP_JOB = "lineage_audit_tests"
QUERY_JOB = f"{APP_JOB}.execute_insert_into_hadoop_fs_relation_command.out_order_report"


def identity() -> dict:
    return {"type": "DIRECT", "subtype": "IDENTITY", "description": "", "masking": False}


def transformation(masking: bool = False) -> dict:
    return {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "", "masking": masking}


@pytest.fixture(scope="module")
def two_versions(spark, tmp_path_factory) -> tuple[Path, list[dict]]:
    """Version 1 joins orders with customers; version 2 drops the join (and ``name``), doubles ``amount``,
    adds a hashed ``email_hash`` and keeps only orders above 1. Each run under capture, into one file."""
    folder = tmp_path_factory.mktemp("diff_of_runs")
    orders, customers, target = (str(folder / name) for name in ("orders", "customers", "out/order_report"))
    spark.createDataFrame([(1, 10, 2.5, "a@x.org"), (2, 11, 4.0, "b@x.org"), (3, 10, 0.5, "c@x.org")],
                          "order_id int, customer_id int, amount double, email string").write.parquet(orders)
    spark.createDataFrame([(10, "Ann"), (11, "Bob")], "customer_id int, name string").write.parquet(customers)

    def version_1() -> None:
        spark.read.parquet(orders).join(spark.read.parquet(customers), "customer_id") \
            .select("order_id", "name", "amount").write.mode("overwrite").parquet(target)

    def version_2() -> None:
        spark.read.parquet(orders).where("amount > 1") \
            .select("order_id", (F.col("amount") * 2).alias("amount"), F.sha2("email", 256).alias("email_hash")) \
            .write.mode("overwrite").parquet(target)

    for job in (version_1, version_2):
        capture = install(spark, {"spark.openlineage.transport.type": "file",
                                  "spark.openlineage.transport.location": str(folder / "events.ndjson"),
                                  "spark.openlineage.spool.dir": str(folder / "spool"),
                                  "spark.openlineage.namespace": "tests"})
        try:
            job()
        finally:
            assert capture.flush()
            capture.close()
    return folder, read_events(folder / "events.ndjson")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('diff_store') / 'lineage.db'}"
        return
    if find_binaries() is None:
        pytest.skip(SKIP_REASON)
    server = PostgresServer().start()
    try:
        admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('CREATE DATABASE "diff_of_runs"'))
        admin.dispose()
        yield server.url.rsplit("/", 1)[0] + "/diff_of_runs"
    finally:
        server.stop()


def runs_of(events: list[dict], job: str) -> list[str]:
    """The run ids of a job, in the order their events came."""
    return list(dict.fromkeys(e["run"]["runId"] for e in events if e["job"]["name"] == job))


def test_the_diff_of_two_runs_says_exactly_what_the_code_change_did(two_versions, store_url):
    folder, events = two_versions
    first, second = runs_of(events, QUERY_JOB)
    orders, customers, target = (str(folder / name) for name in ("orders", "customers", "out/order_report"))
    with make_client(store_url) as service:
        assert service.post("/api/v1/lineage", json=events).status_code == 201
        body = service.get("/api/v1/audit/diff/runs", params={"from": first, "to": second}).json()
        runs = {run: service.get(f"/api/v1/jobs/runs/{run}").json() for run in (first, second)}
        applications = runs_of(events, APP_JOB)
        whole = service.get("/api/v1/audit/diff/runs", params={"from": applications[0], "to": applications[1]})
    header = {run: {"time": runs[run]["startedAt"], "runId": run, "state": "COMPLETED",
                    "jobVersion": runs[run]["jobVersion"]["version"], "datasetVersion": None} for run in runs}
    no_changes = {"fields": {"added": [], "removed": [], "retyped": []},
                  "columnLineage": {"added": [], "removed": [], "changed": []}}

    def source(name: str, field: str) -> dict:
        return {"namespace": "file", "name": name, "field": field}

    assert body == {
        "kind": "runs", "from": header[first], "to": header[second],
        "job": {"namespace": "tests", "name": QUERY_JOB}, "dataset": None,
        "inputs": {"added": [], "removed": [{"namespace": "file", "name": customers}],
                   "unchanged": [{"namespace": "file", "name": orders}]},
        "outputs": {"added": [], "removed": [], "unchanged": [{"namespace": "file", "name": target}]},
        "writers": {"added": [], "removed": [], "unchanged": []},
        "datasets": [
            {"namespace": "file", "name": customers, "role": "INPUT", "fromVersion": version_uuid(
                "file", customers, "read"), "toVersion": None,
             "fields": {"added": [], "removed": [{"name": "customer_id", "type": "integer"},
                                                 {"name": "name", "type": "string"}], "retyped": []},
             "columnLineage": no_changes["columnLineage"], "rowCount": {"from": None, "to": None}, "changed": True},
            {"namespace": "file", "name": orders, "role": "INPUT", "fromVersion": version_uuid("file", orders, "read"),
             "toVersion": version_uuid("file", orders, "read"), **no_changes,
             "rowCount": {"from": None, "to": None}, "changed": False},
            {"namespace": "file", "name": target, "role": "OUTPUT", "fromVersion": version_uuid("file", target, first),
             "toVersion": version_uuid("file", target, second),
             "fields": {"added": [{"name": "email_hash", "type": "string"}],
                        "removed": [{"name": "name", "type": "string"}], "retyped": []},
             "columnLineage": {
                 "added": [{"field": "email_hash", "input": source(orders, "email"),
                            "transformations": [transformation(masking=True)]}],
                 "removed": [{"field": "name", "input": source(customers, "name"), "transformations": [identity()]}],
                 "changed": [{"field": "amount", "input": source(orders, "amount"),
                              "fromTransformations": [identity()], "toTransformations": [transformation()]}]},
             "rowCount": {"from": 3, "to": 2}, "changed": True}],
        "changed": True}
    # the application's runs (one per install) diff the same: their query runs read and wrote it all
    assert whole.status_code == 200
    assert {k: whole.json()[k] for k in ("inputs", "outputs", "datasets", "changed")} == {
        k: body[k] for k in ("inputs", "outputs", "datasets", "changed")}
