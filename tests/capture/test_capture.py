"""Capture end to end in one Spark session: events, spec conformance, failures, spool and replay."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from lineage_audit.capture.emitter import Emitter
from lineage_audit.capture.listener import install
from lineage_audit.capture.settings import http_transport, resolve_settings
from tests.capture.spec import read_events, requires_spec, validate_event

APP_JOB = "lineage_audit_tests"


def _install(spark, tmp_path: Path, **extra: str):
    # Spark hands a listener the queries its bus still holds when it registers: let the bus deliver
    # what earlier tests (and fixtures) ran first, so each capture sees only its own test's queries.
    spark.sparkContext._jsc.sc().listenerBus().waitUntilEmpty(60_000)
    conf = {
        "spark.openlineage.transport.type": "file",
        "spark.openlineage.transport.location": str(tmp_path / "events.ndjson"),
        "spark.openlineage.spool.dir": str(tmp_path / "spool"),
        "spark.openlineage.namespace": "tests",
        **extra,
    }
    return install(spark, conf)


@pytest.fixture
def source(spark, tmp_path) -> str:
    path = str(tmp_path / "source")
    spark.createDataFrame([(1, "a", 2.0), (2, "b", 3.0), (3, "a", 5.0)], "id INT, name STRING, amt DOUBLE") \
        .write.mode("overwrite").parquet(path)
    return path


def _run_and_close(capture, action) -> None:
    try:
        action()
    finally:
        assert capture.flush()
        capture.close()


def test_a_write_gives_start_running_and_complete_under_the_application_run(spark, tmp_path, source):
    capture = _install(spark, tmp_path)
    target = str(tmp_path / "out" / "totals")
    _run_and_close(capture, lambda: spark.read.parquet(source).groupBy("name")
                   .agg(F.sum("amt").alias("total")).write.mode("overwrite").parquet(target))
    events = read_events(tmp_path / "events.ndjson")
    kinds = [(e["eventType"], e["job"]["name"]) for e in events]
    query_job = f"{APP_JOB}.execute_insert_into_hadoop_fs_relation_command.out_totals"
    running = [e for e in events if e["eventType"] == "RUNNING"]
    assert kinds == [("START", APP_JOB), ("START", query_job), *[("RUNNING", query_job)] * len(running),
                     ("COMPLETE", query_job), ("COMPLETE", APP_JOB)]
    # one RUNNING per Spark job of the write (AQE runs the aggregation's shuffle as a job of its own)
    job_ids = [e["run"]["facets"]["spark_jobDetails"]["jobId"] for e in running]
    assert len(running) >= 1 and len(set(job_ids)) == len(job_ids)
    app_run = events[0]["run"]["runId"]
    start, complete = events[1], events[-2]
    assert events[1]["eventTime"] <= running[0]["eventTime"] <= running[-1]["eventTime"] <= complete["eventTime"]
    assert start["run"]["runId"] == complete["run"]["runId"] != app_run
    assert complete["run"]["facets"]["parent"]["run"]["runId"] == app_run
    parent_job = complete["run"]["facets"]["parent"]["job"]
    assert (parent_job["namespace"], parent_job["name"]) == ("tests", APP_JOB)
    assert complete["job"]["facets"]["jobType"]["jobType"] == "SQL_JOB"
    assert complete["run"]["facets"]["processing_engine"]["version"] == spark.version
    details = start["run"]["facets"]["spark_applicationDetails"]
    assert (details["appName"], details["master"], details["applicationId"]) == (
        spark.sparkContext.appName, spark.sparkContext.master, spark.sparkContext.applicationId)
    assert "spark_applicationDetails" not in complete["run"]["facets"]  # as the official listener: START, RUNNING
    assert [(i["namespace"], i["name"]) for i in complete["inputs"]] == [("file", source)]
    source_files = list(Path(source).glob("*.parquet"))
    assert complete["inputs"][0]["inputFacets"]["inputStatistics"] == {
        "_producer": complete["producer"], "_schemaURL": complete["inputs"][0]["inputFacets"]["inputStatistics"][
            "_schemaURL"], "size": sum(f.stat().st_size for f in source_files), "fileCount": len(source_files)}
    output = complete["outputs"][0]
    assert (output["namespace"], output["name"]) == ("file", target)
    assert [(f["name"], f["type"]) for f in output["facets"]["schema"]["fields"]] == [
        ("name", "string"), ("total", "double")]
    assert output["facets"]["lifecycleStateChange"]["lifecycleStateChange"] == "OVERWRITE"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 2
    assert output["outputFacets"]["outputStatistics"]["fileCount"] >= 1
    assert "outputStatistics" not in start["outputs"][0].get("outputFacets", {})


@requires_spec
def test_every_event_conforms_to_the_openlineage_spec(spark, tmp_path, source):
    capture = _install(spark, tmp_path)
    _run_and_close(capture, lambda: spark.read.parquet(source).where("amt > 2")
                   .write.mode("overwrite").json(str(tmp_path / "out" / "big")))
    events = read_events(tmp_path / "events.ndjson")
    assert [e["eventType"] for e in events] == ["START", "START", "RUNNING", "COMPLETE", "COMPLETE"]
    custom = set()
    for event in events:
        custom.update(validate_event(event))
    assert custom == {"spark_properties", "spark_applicationDetails", "spark_jobDetails", "environment-properties"}, custom


def test_a_failing_write_gives_fail_with_the_error_and_still_raises(spark, tmp_path, source):
    capture = _install(spark, tmp_path)

    def failing():
        with pytest.raises(Exception, match="boom"):
            spark.read.parquet(source).select(F.raise_error(F.lit("boom")).cast("string").alias("x")) \
                .write.mode("overwrite").parquet(str(tmp_path / "out" / "never"))

    _run_and_close(capture, failing)
    events = read_events(tmp_path / "events.ndjson")
    fail = [e for e in events if e["eventType"] == "FAIL"]
    assert len(fail) == 1
    error = fail[0]["run"]["facets"]["errorMessage"]
    assert "boom" in error["message"] and error["programmingLanguage"] == "JAVA"
    assert "\tat " in error["stackTrace"]


def test_reads_without_writes_emit_no_query_events(spark, tmp_path, source):
    capture = _install(spark, tmp_path)
    _run_and_close(capture, lambda: (spark.read.parquet(source).count(), spark.read.parquet(source).collect()))
    assert [e["job"]["name"] for e in read_events(tmp_path / "events.ndjson")] == [APP_JOB, APP_JOB]


def test_a_slow_extraction_is_sent_without_column_lineage_and_says_why(spark, tmp_path, source, monkeypatch):
    def slow_lineage(snapshot, settings):
        time.sleep(2)
        return {"fields": {}}

    monkeypatch.setattr("lineage_audit.capture.listener.compute_lineage", slow_lineage)
    capture = _install(spark, tmp_path, **{"spark.openlineage.timeoutSeconds": "0.2"})
    _run_and_close(capture, lambda: spark.read.parquet(source).write.mode("overwrite")
                   .parquet(str(tmp_path / "out" / "copy")))
    complete = [e for e in read_events(tmp_path / "events.ndjson") if e["eventType"] == "COMPLETE"][0]
    assert "columnLineage" not in complete["outputs"][0]["facets"]
    errors = complete["run"]["facets"]["extractionError"]["errors"]
    assert "column lineage" in errors[0]["errorMessage"]


def test_the_official_listener_makes_built_in_capture_stand_down(spark, tmp_path):
    conf = {"spark.extraListeners": "io.openlineage.spark.agent.OpenLineageSparkListener"}
    assert install(spark, conf) is None


def test_disabled_capture_installs_nothing(spark, tmp_path):
    assert _install(spark, tmp_path, **{"spark.openlineage.disabled": "true"}) is None


def test_disabled_facets_are_left_out(spark, tmp_path, source):
    capture = _install(spark, tmp_path, **{"spark.openlineage.facets.spark_properties.disabled": "true",
                                           "spark.openlineage.facets.schema.disabled": "true"})
    _run_and_close(capture, lambda: spark.read.parquet(source).write.mode("overwrite")
                   .parquet(str(tmp_path / "out" / "copy")))
    complete = [e for e in read_events(tmp_path / "events.ndjson") if e["eventType"] == "COMPLETE"][0]
    assert "spark_properties" not in complete["run"]["facets"]
    assert "schema" not in complete["outputs"][0]["facets"]
    assert "dataSource" in complete["outputs"][0]["facets"]


def test_every_run_reports_the_environment_variables_it_is_told_to(spark, tmp_path, source, monkeypatch):
    """``facets.custom_environment_variables=[A;B]``: the ``environment-properties`` run facet holds
    the named variables the driver has (an empty map when none is named), on every event."""
    monkeypatch.setenv("LINEAGE_AUDIT_TEST_TEAM", "payments")
    monkeypatch.delenv("LINEAGE_AUDIT_TEST_UNSET", raising=False)
    capture = _install(spark, tmp_path, **{"spark.openlineage.facets.custom_environment_variables":
                                           "[LINEAGE_AUDIT_TEST_TEAM;LINEAGE_AUDIT_TEST_UNSET]"})
    _run_and_close(capture, lambda: spark.read.parquet(source).write.mode("overwrite")
                   .parquet(str(tmp_path / "out" / "copy")))
    events = read_events(tmp_path / "events.ndjson")
    assert events
    for event in events:
        facet = event["run"]["facets"]["environment-properties"]
        assert facet["environment-properties"] == {"LINEAGE_AUDIT_TEST_TEAM": "payments"}, event["eventType"]


class _Recorder(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_down_spools_everything_and_replay_delivers_each_once(spark, tmp_path, source):
    port = _free_port()  # nothing listens here yet
    capture = _install(spark, tmp_path, **{"spark.openlineage.transport.type": "http",
                                           "spark.openlineage.transport.url": f"http://127.0.0.1:{port}"})
    _run_and_close(capture, lambda: spark.read.parquet(source).write.mode("overwrite")
                   .parquet(str(tmp_path / "out" / "copy")))
    spooled = sorted((tmp_path / "spool").glob("*.json"))
    assert len(spooled) == 5 and capture.emitter.sent == 0  # the application's START, COMPLETE; the write's 3

    _Recorder.received = []
    server = ThreadingHTTPServer(("127.0.0.1", port), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        emitter = Emitter(http_transport(f"http://127.0.0.1:{port}", "api/v1/lineage"), tmp_path / "spool")
        assert emitter.replay() == (5, 0)
        assert emitter.replay() == (0, 0), "a second replay sends nothing again"
    finally:
        server.shutdown()
    kinds = [(e["eventType"], e["job"]["name"].split(".")[-1]) for e in _Recorder.received]
    assert kinds == [("START", APP_JOB), ("START", "out_copy"), ("RUNNING", "out_copy"), ("COMPLETE", "out_copy"),
                     ("COMPLETE", APP_JOB)]
    assert not list((tmp_path / "spool").glob("*.json"))


def test_settings_translate_the_official_transport_keys():
    http = resolve_settings({"spark.openlineage.transport.type": "http",
                             "spark.openlineage.transport.url": "http://marquez:5000/",
                             "spark.openlineage.transport.endpoint": "/api/v1/lineage",
                             "spark.openlineage.transport.auth.type": "api_key",
                             "spark.openlineage.transport.auth.apiKey": "s3cret"}, file_config={}).transport
    assert (http["url"], http["endpoint"], http["auth"]) == (
        "http://marquez:5000", "api/v1/lineage", {"type": "api_key", "apiKey": "s3cret"})
    composite = resolve_settings({
        "spark.openlineage.transport.type": "composite",
        "spark.openlineage.transport.transports.local.type": "file",
        "spark.openlineage.transport.transports.local.location": "/tmp/e.ndjson",
        "spark.openlineage.transport.transports.bus.type": "kafka",
        "spark.openlineage.transport.transports.bus.topicName": "lineage",
        "spark.openlineage.transport.transports.bus.properties.bootstrap.servers": "k:9092",
    }, file_config={}).transport
    assert composite["transports"]["local"] == {"type": "file", "log_file_path": "/tmp/e.ndjson", "append": True}
    assert composite["transports"]["bus"]["topic"] == "lineage"
    assert composite["transports"]["bus"]["config"] == {"bootstrap.servers": "k:9092"}


def test_spark_properties_beat_the_conf_file():
    settings = resolve_settings({"spark.openlineage.namespace": "from-spark"},
                                file_config={"spark.openlineage.namespace": "from-file",
                                             "spark.openlineage.columnLineage.datasetLineageEnabled": "false"})
    assert settings.namespace == "from-spark"
    assert settings.dataset_lineage_enabled is False


def test_save_as_table_is_one_run_with_statistics_however_late_its_ctas_is_reported(spark, tmp_path, source,
                                                                                       monkeypatch):
    from lineage_audit.capture import listener

    def late_ctas(jvm, qe, *args, **kwargs):
        snapshot = listener_take_snapshot(jvm, qe, *args, **kwargs)
        if snapshot is not None and snapshot.command == "CreateDataSourceTableAsSelectCommand":
            time.sleep(2.5)  # longer than the fixed 1 s the capture once waited for a CTAS
        return snapshot

    listener_take_snapshot = listener.take_snapshot
    monkeypatch.setattr(listener, "take_snapshot", late_ctas)
    capture = _install(spark, tmp_path)
    _run_and_close(capture, lambda: spark.read.parquet(source).write.format("parquet").saveAsTable("late_totals"))
    spark.sql("DROP TABLE late_totals")
    events = read_events(tmp_path / "events.ndjson")
    query_runs = {(e["run"]["runId"], e["job"]["name"]) for e in events if e["job"]["name"] != APP_JOB}
    assert [name for _, name in query_runs] == [
        f"{APP_JOB}.execute_create_data_source_table_as_select_command.default_late_totals"]
    complete = [e for e in events if e["eventType"] == "COMPLETE" and e["job"]["name"] != APP_JOB][0]
    output = complete["outputs"][0]
    assert output["facets"]["lifecycleStateChange"]["lifecycleStateChange"] == "CREATE"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 3
    assert [e["eventType"] for e in events if e["job"]["name"] != APP_JOB][1] == "RUNNING"  # the inner write's job


def test_the_openlineage_app_name_names_the_jobs_and_spark_keeps_its_own(spark, tmp_path, source):
    capture = _install(spark, tmp_path, **{"spark.openlineage.appName": "Nightly Totals"})
    _run_and_close(capture, lambda: spark.read.parquet(source).write.mode("overwrite")
                   .parquet(str(tmp_path / "out" / "copy")))
    events = read_events(tmp_path / "events.ndjson")
    assert [e["job"]["name"] for e in events if e["eventType"] == "START"] == [
        "nightly_totals", "nightly_totals.execute_insert_into_hadoop_fs_relation_command.out_copy"]
    assert events[1]["run"]["facets"]["parent"]["job"]["name"] == "nightly_totals"
    # as in the official listener: the facets keep Spark's application name
    assert events[0]["run"]["facets"]["spark_applicationDetails"]["appName"] == spark.sparkContext.appName
    assert events[0]["run"]["facets"]["spark_properties"]["properties"]["spark.app.name"] == spark.sparkContext.appName


def test_a_job_name_ends_in_the_output_folders_as_they_are_spelled(spark, tmp_path, source):
    # The application and the command are snake_case; the output's last two folders keep their case and
    # characters, dots made '_', as the official listener names them (Spark ML saves `<n>_<Class>_<uid>` stages).
    capture = _install(spark, tmp_path)
    stage, dotted = tmp_path / "stages" / "1_StringIndexer_4a2b9c" / "data", tmp_path / "out-dir" / "My.Table-V2"
    _run_and_close(capture, lambda: [spark.read.parquet(source).write.parquet(str(path)) for path in (stage, dotted)])
    events = read_events(tmp_path / "events.ndjson")
    assert sorted({e["job"]["name"] for e in events} - {APP_JOB}) == [
        f"{APP_JOB}.execute_insert_into_hadoop_fs_relation_command.1_StringIndexer_4a2b9c_data",
        f"{APP_JOB}.execute_insert_into_hadoop_fs_relation_command.out-dir_My_Table-V2",
    ]


def test_flush_waits_for_the_command_an_inner_write_ran_in_when_spark_reports_it_late(monkeypatch, tmp_path):
    # Spark reports a saveAsTable's inner write, then the CTAS; under load the CTAS can come after
    # the listener bus looked idle. flush() must not send the inner write as a run of its own meanwhile.
    from lineage_audit.capture.emitter import Emitter as _Emitter
    from lineage_audit.capture.events import Application
    from lineage_audit.capture.listener import Capture
    from lineage_audit.capture.snapshot import CTAS, FILE_INSERT, DatasetRef, QuerySnapshot

    processed = []
    monkeypatch.setattr(Capture, "_process", lambda self, snapshot: processed.append(snapshot))
    settings = resolve_settings({"spark.openlineage.transport.type": "console"})
    app = Application(name="late", run_id="0f8fad5b-d9cb-469f-a165-70867728950e", spark_version="4", properties={}, namespace="tests")
    capture = Capture(app, settings, _Emitter(settings.transport, str(tmp_path / "spool")))
    capture._worker.start()
    table = DatasetRef(uri="file:/warehouse/late_totals")
    inner = QuerySnapshot(FILE_INSERT, "[]", table, ("id",), "Overwrite", (), metrics={"numOutputRows": 3},
                          query_id=8, nested=True, query_uuid="inner")
    ctas = QuerySnapshot(CTAS, "[]", table, ("id",), "ErrorIfExists", (), query_id=7)
    capture._pair(inner, 8)
    threading.Timer(0.5, capture._pair, (ctas, 7)).start()
    assert capture.flush(timeout=20)
    assert [(s.command, s.metrics, s.query_uuid) for s in processed] == [(CTAS, {"numOutputRows": 3}, "inner")]
    capture.close(timeout=5)
