"""``lineage-audit report`` against a running service (``lineage-audit serve`` on a free port, SQLite and
PostgreSQL) holding the customers and orders jobs' real events: the files it writes and where, that the HTML
and the JSON say the same, and its exit codes."""

from __future__ import annotations

import json
from html import escape

import pytest

from lineage_audit.cli import main
from lineage_audit.config import SPARK_DEFAULTS_ENV
from lineage_audit.diff_cli import ServiceClient
from lineage_audit.report_model import build_report
from tests.web.events import dataset, run_events, two_job_events
from tests.web.live_service import LiveService, free_port

SECTIONS = ("summary", "version", "schema", "runs", "upstream", "column-lineage", "classes", "ledger")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, tmp_path_factory, pipeline_events):
    """The service with the customers and orders jobs' events, and one job writing two datasets that share the
    short name orders_copy."""
    workdir = tmp_path_factory.mktemp("report-cli")
    url = None
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        url = server.new_database("lineage_report_cli")
    service = LiveService(workdir, url)
    try:
        service.post(two_job_events(pipeline_events) + run_events("lake.copy", outputs=[
            dataset("/lake/a/orders_copy", ["id"]), dataset("/lake/b/orders_copy", ["id"])]))
        yield service
    finally:
        service.stop()


def report(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["report", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def enriched_orders(live) -> str:
    [found] = [r["name"] for r in live.get("search", q="enriched_orders", filter="DATASET")["results"]]
    return found


def test_writes_html_and_json_here_with_the_same_content(live, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = report(capsys, "enriched_orders", "--url", live.url)
    assert (code, err) == (0, "")
    name = enriched_orders(live)
    ledger = live.get("audit/ledger")
    html_path, json_path = tmp_path / "enriched_orders-provenance.html", tmp_path / "enriched_orders-provenance.json"
    assert out == (f"Provenance of file:{name}\n  1 run(s) wrote it; 3 raw source(s) upstream; "
                   f"ledger head {ledger['length']}:{ledger['headHash']}\n  classes in the clear: none\n"
                   f"Wrote {html_path}\n  and {json_path}\n")
    written = json.loads(json_path.read_text())
    again = build_report(ServiceClient(live.url), "file", name)
    assert written["report"].pop("generatedAt") and again["report"].pop("generatedAt")
    assert written == again  # nothing changed in between: the same report
    assert written["ledger"]["headHash"] == ledger["headHash"]

    html = html_path.read_text()
    for section in SECTIONS:
        assert f'<section id="{section}" data-section="{section}">' in html
    for value in ([f["name"] for f in written["schema"]] + [r["id"] for r in written["runs"]]
                  + [d["name"] for d in written["upstream"]["rawSources"]]
                  + [written["ledger"]["headHash"], written["currentVersion"]["version"], live.url]):
        assert escape(value) in html
    for external in ("<script", "<link", "src=", "href=", "url(", "@import"):  # self-contained
        assert external not in html


def test_out_a_directory_or_an_html_file(live, capsys, tmp_path):
    name = enriched_orders(live)
    code, out, _err = report(capsys, f"file:{name}", "--url", live.url, "--out", str(tmp_path / "new" / "dir"))
    assert code == 0 and out.startswith(f"Provenance of file:{name}\n")
    assert sorted(p.name for p in (tmp_path / "new" / "dir").iterdir()) == [
        "enriched_orders-provenance.html", "enriched_orders-provenance.json"]
    code, _out, _err = report(capsys, "customer_master", "--namespace", "file", "--url", live.url,
                              "--out", str(tmp_path / "audit" / "cm.html"))
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "audit").iterdir()) == ["cm.html", "cm.json"]
    written = json.loads((tmp_path / "audit" / "cm.json").read_text())
    assert written["summary"]["classesInTheClear"] == ["PII.name"]
    assert written["summary"]["maskedClasses"] == ["PII.email"]


@pytest.mark.parametrize("args, message", [
    (("orders_copy",), "'orders_copy' names 2 datasets; give the full name (namespace:name) or --namespace:\n"
                       "  file:/lake/a/orders_copy\n  file:/lake/b/orders_copy"),
    (("orders",), "no dataset is named 'orders' or has it as its short name (the last segment of its path, or the "
                  "table part of a catalog name)"),
    (("enriched_orders", "--namespace", "data-lineage-audit"),
     "no dataset in namespace 'data-lineage-audit' is named 'enriched_orders' or has it as its short name (the last "
     "segment of its path, or the table part of a catalog name)"),
])
def test_an_unknown_or_ambiguous_dataset_exits_2(live, capsys, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    assert report(capsys, *args, "--url", live.url) == (2, "", f"lineage-audit report: {message}\n")
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_service_exits_1(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = report(capsys, "enriched_orders", "--url", url)
    assert (code, out) == (1, "")
    assert err.startswith(f"lineage-audit report: the lineage service at {url} cannot be reached (")
    assert list(tmp_path.iterdir()) == []


def test_the_default_url_is_where_the_capture_sends_events(live, capsys, tmp_path, monkeypatch):
    defaults = tmp_path / "spark-defaults.conf"
    defaults.write_text(f"spark.openlineage.transport.type http\nspark.openlineage.transport.url {live.url}\n")
    monkeypatch.setenv(SPARK_DEFAULTS_ENV, str(defaults))
    code, out, _err = report(capsys, "enriched_orders", "--out", str(tmp_path / "r.html"))
    assert code == 0 and json.loads((tmp_path / "r.json").read_text())["report"]["serviceUrl"] == live.url
