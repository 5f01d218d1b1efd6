"""The step before the compliance job: the classifications of the captured lineage, as its input table.

The export reads the events the tests' built-in pipeline run spooled (``pipeline_run``; no server
listened), from a real lineage service (in this process, on a temporary SQLite) or, where none
answers, from the spool itself.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lineage_audit.config import SPARK_DEFAULTS_ENV, load_catalog, spark_defaults
from lineage_audit.privacy_export import (
    EXPORT_TABLE, ROUTE, _from_service, _http, captured_events, export_classifications, export_rows,
    temporary_service,
)
from lineage_audit.service.settings import load_settings
from tests.conftest import spooled_events

STEP_JOB = {"namespace": "ns", "name": "customers.write"}


def _ref(dataset: str, field: str) -> dict:
    return {"namespace": "file", "dataset": dataset, "field": field}


def _step(source: dict, target: dict, masking: bool = False, kind: str = "DIRECT") -> dict:
    subtype = "TRANSFORMATION" if kind == "DIRECT" else "FILTER"
    return {"job": STEP_JOB, "from": source, "to": target,
            "transformation": {"type": kind, "subtype": subtype, "masking": masking, "description": None}}


def test_export_rows_name_each_class_its_status_source_and_path(tmp_path):
    email = _ref(f"{tmp_path}/inputs/raw_customers.csv", "email")
    hashed = _ref(f"{tmp_path}/outputs/processed_customers", "email_hash")
    domains = _ref(f"{tmp_path}/outputs/domains", "count")
    source = {**email, "origin": "rule", "detail": "rule 3"}
    masking = _step(email, hashed, masking=True)
    answer = {"classes": [], "storeVersion": 7, "fields": [
        {**email, "type": "string", "carries": [{"class": "PII.email", "source": source, "path": []}],
         "masked": [], "influencedBy": []},
        {**hashed, "type": "string", "carries": [], "influencedBy": [],
         "masked": [{"class": "PII.email", "source": source, "path": [masking], "maskedAt": masking}]},
        {**domains, "type": "long", "carries": [], "masked": [], "influencedBy": [
            {"class": "PII.email", "source": source, "path": [_step(email, domains, kind="INDIRECT")]}]},
        # another data directory's table, in the same service: not this run's
        {**_ref("/elsewhere/outputs/processed_customers", "email_hash"), "type": "string", "carries": [],
         "influencedBy": [], "masked": [{"class": "PII.email", "source": source, "path": [masking],
                                         "maskedAt": masking}]},
    ]}

    rows = export_rows(answer, inside=tmp_path)

    assert [(r["dataset"].removeprefix(str(tmp_path)), r["field"], r["status"]) for r in rows] == [
        ("/inputs/raw_customers.csv", "email", "clear"),
        ("/outputs/domains", "count", "influenced"),
        ("/outputs/processed_customers", "email_hash", "masked")]
    source_row, influenced, masked = rows
    assert source_row["hops"] == 0 and source_row["via"] == [] and source_row["jobs"] == []
    assert source_row["path"] == "raw_customers.csv.email" and source_row["source_origin"] == "rule"
    assert masked["data_class"] == "PII.email" and masked["masked_by_job"] == "customers.write"
    assert masked["via"] == [{"dataset": email["dataset"], "field": "email"}] and masked["jobs"] == ["customers.write"]
    assert masked["path"] == ("raw_customers.csv.email -[customers.write: DIRECT/TRANSFORMATION masked]-> "
                              "processed_customers.email_hash")
    assert influenced["path"].endswith("-[customers.write: INDIRECT/FILTER]-> domains.count")
    assert influenced["masked_by_job"] is None and influenced["field_type"] == "long"
    assert len(export_rows(answer)) == 4  # without a data directory, every dataset
    (tmp_path.parent / "linked").unlink(missing_ok=True)
    (tmp_path.parent / "linked").symlink_to(tmp_path)  # a data directory given through a link
    assert export_rows(answer, inside=tmp_path.parent / "linked") == rows


def test_captured_events_are_the_spool_then_what_a_crashed_application_left(tmp_path):
    spool = tmp_path / "lineage-spool"
    spool.mkdir()
    (spool / "002.json").write_text(json.dumps({"n": 2}))
    (spool / "001.json").write_text(json.dumps({"n": 1}))
    (spool / ".003.json.tmp").write_text("{")  # being written: not an event yet
    journals = tmp_path / "lineage-journal"
    journals.mkdir()
    (journals / "app.ndjson").write_text(json.dumps({"n": 3}) + "\n\n" + '{"n": 4, "cut')

    assert [e["n"] for e in captured_events(tmp_path)] == [1, 2, 3]
    assert list(captured_events(tmp_path / "nothing-ran-here")) == []


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _assert_the_pipelines_personal_data(rows: list[dict], data_dir: Path) -> None:
    by_column = {}
    for row in rows:
        assert row["dataset"].startswith(f"{data_dir}/")
        by_column.setdefault((row["dataset"].rsplit("/", 1)[-1], row["field"]), set()).add(
            (row["data_class"], row["status"]))
    assert by_column[("raw_customers.csv", "email")] == {("PII.email", "clear")}
    assert ("PII.email", "masked") in by_column[("processed_customers", "email_hash")]
    assert ("PII.name", "clear") in by_column[("processed_customers", "full_name")]
    assert any(status == "influenced" for found in by_column.values() for _, status in found)
    (full_name,) = [r for r in rows if r["dataset"].endswith("/processed_customers") and r["field"] == "full_name"
                    and r["source_field"] == "first_name"]
    assert full_name["hops"] == 1 and full_name["jobs"][0].startswith("customers.")
    assert full_name["path"].startswith("raw_customers.csv.first_name -[customers.")


def test_without_a_service_the_spooled_lineage_of_the_data_directory_is_exported(pipeline_run, tmp_path):
    said = []
    export = export_classifications(pipeline_run, log=said.append, out=tmp_path / "export.jsonl")

    assert "captured lineage of this data directory" in export.source and "no lineage service answered" in \
        export.source
    assert f"{len(spooled_events(pipeline_run))} spooled events" in export.source
    assert export.rows == len(_rows(export.path)) > 0
    _assert_the_pipelines_personal_data(_rows(export.path), pipeline_run)
    assert said == [f"Exported {export.rows} classified column rows to {export.path} from {export.source} "
                    f"in {export.seconds:.1f} s"]
    # the catalog's location, unless told otherwise
    assert load_catalog(data_dir=tmp_path).input(EXPORT_TABLE).path.startswith(f"{tmp_path}/")


class _NoSuchRoute(BaseHTTPRequestHandler):
    """A lineage server that knows no classification route (Marquez, or an older service)."""

    def do_GET(self):  # the name http.server calls
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"code": 404, "message": "HTTP 404 Not Found"}')

    def log_message(self, *args):
        pass


def _capture_sends_to(url: str, work: Path, monkeypatch) -> None:
    defaults = work / f"spark-defaults-{url.rsplit(':', 1)[-1]}.conf"
    lines = [line for line in spark_defaults().read_text().splitlines()
             if not line.startswith("spark.openlineage.transport.url")]
    defaults.write_text("\n".join([*lines, f"spark.openlineage.transport.url {url}"]) + "\n")
    monkeypatch.setenv(SPARK_DEFAULTS_ENV, str(defaults))


def test_the_service_the_capture_sends_to_is_asked_first(pipeline_run, tmp_path, monkeypatch):
    events = spooled_events(pipeline_run)
    no_route = ThreadingHTTPServer(("127.0.0.1", 0), _NoSuchRoute)
    threading.Thread(target=no_route.serve_forever, daemon=True).start()
    try:
        _capture_sends_to(f"http://127.0.0.1:{no_route.server_address[1]}", tmp_path, monkeypatch)
        fallback = export_classifications(pipeline_run, log=lambda _: None, out=tmp_path / "fallback.jsonl")
    finally:
        no_route.shutdown()
    assert f"answered {ROUTE} with HTTP 404" in fallback.source and "spooled events" in fallback.source

    with temporary_service(tmp_path, load_settings().max_body_bytes * 10) as url:
        for start in range(0, len(events), 50):
            status, _ = _http("POST", url + "/api/v1/lineage", body=json.dumps(events[start:start + 50]).encode())
            assert status == 201
        _capture_sends_to(url, tmp_path, monkeypatch)
        asked = export_classifications(pipeline_run, log=lambda _: None, out=tmp_path / "service.jsonl")

    assert asked.source == f"the lineage service at {url}"
    assert _rows(asked.path) == _rows(fallback.path)  # the same lineage, the same export
    _assert_the_pipelines_personal_data(_rows(asked.path), pipeline_run)


@pytest.mark.parametrize("answer", [b"[]", b'{"fields": {}}', b"not json"])
def test_a_service_giving_an_unreadable_answer_is_not_trusted(answer, tmp_path, monkeypatch):
    class Unreadable(_NoSuchRoute):
        def do_GET(self):  # the name http.server calls
            self.send_response(200)
            self.end_headers()
            self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Unreadable)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _capture_sends_to(f"http://127.0.0.1:{server.server_address[1]}", tmp_path, monkeypatch)
        found, why = _from_service()
    finally:
        server.shutdown()
    assert found is None and "gave an unreadable answer" in why
