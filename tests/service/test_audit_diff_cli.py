"""``lineage-audit diff`` against a running service (``lineage-audit serve`` on a free port), on SQLite and
PostgreSQL: its text, ``--json``, how it finds jobs and datasets, and its exit codes."""

from __future__ import annotations

import json

import pytest

from lineage_audit.cli import main
from lineage_audit.config import SPARK_DEFAULTS_ENV
from tests.service.test_audit_diff import JOB, RUN_A, RUN_B, first_run, read, second_run, written
from tests.service.test_ingest import at, run_event
from tests.web.live_service import LiveService, free_port

LONELY_RUN = "0b5c1a4e-0000-4000-8000-0000000000ff"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, tmp_path_factory):
    """The service with two runs of load_orders and of lonely, one of reload_orders (whose name ends with the
    other's)."""
    workdir = tmp_path_factory.mktemp("diff-cli")
    url = None
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        url = server.new_database("lineage_diff_cli")
    service = LiveService(workdir, url)
    try:
        service.post(first_run() + second_run() + [run_event("START", 300, job="reload_orders"),
                                                   run_event("START", 300, LONELY_RUN, job="lonely"),
                                                   run_event("START", 400, job="lonely")])
        yield service
    finally:
        service.stop()


def diff(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["diff", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def job_version(live, run_id: str) -> str:
    return live.get(f"jobs/runs/{run_id}")["jobVersion"]["version"]


def test_two_runs_as_text(live, capsys):
    code, out, _err = diff(capsys, RUN_A, RUN_B, "--url", live.url)
    assert code == 0
    assert out == "\n".join([
        "Runs of job tests:load_orders",
        f"  from run {RUN_A}  COMPLETED, started {at(0)}, job version {job_version(live, RUN_A)}",
        f"  to   run {RUN_B}  COMPLETED, started {at(100)}, job version {job_version(live, RUN_B)}",
        "Inputs:",
        "  + warehouse:countries",
        "  - warehouse:customers",
        "  = warehouse:orders",
        "Outputs:",
        "  + warehouse:summary",
        "  - warehouse:rejects",
        "  = warehouse:enriched",
        "Datasets:",
        "  + warehouse:countries (input)",
        "      + field code string",
        "  - warehouse:customers (input)",
        "      - field id int",
        "      - field name string",
        "  ~ warehouse:enriched (output)",
        "      + field country string",
        "      - field name string",
        "      ~ field id int -> bigint",
        "      + lineage country <- warehouse:countries.code (DIRECT/IDENTITY)",
        "      - lineage name <- warehouse:customers.name (DIRECT/IDENTITY)",
        "      ~ lineage amount <- warehouse:orders.amount (DIRECT/TRANSFORMATION 'amount * 2') -> "
        "(DIRECT/AGGREGATION 'sum(amount)')",
        "      rows 100 -> 120",
        "  ~ warehouse:orders (input)",
        "      rows 1,000 -> 1,100",
        "  - warehouse:rejects (output)",
        "      - field id int",
        "      rows 3 -> ?",
        "  + warehouse:summary (output)",
        "      + field total double",
        "      + lineage total <- warehouse:orders.amount (DIRECT/AGGREGATION 'sum(amount)')",
        "      rows ? -> 1",
        "Changed.", ""])


def test_json_is_the_api_answer_and_a_job_diffs_its_last_two_runs(live, capsys):
    code, out, _err = diff(capsys, RUN_A, RUN_B, "--url", live.url, "--json")
    assert code == 0
    assert json.loads(out) == live.get("audit/diff/runs", **{"from": RUN_A, "to": RUN_B})
    # the full name, though "reload_orders" ends with it too
    assert diff(capsys, "--job", "load_orders", "--url", live.url, "--json")[:2] == (0, out)
    code, out, _err = diff(capsys, "--job", "nely", "--url", live.url, "--json")  # a unique suffix
    assert code == 0 and json.loads(out)["job"] == {"namespace": "tests", "name": "lonely"}
    code, _out, err = diff(capsys, "--job", "orders", "--url", live.url)
    assert code == 2
    assert err == ("lineage-audit diff: 'orders' names 2 jobs; give more of the name:\n"
                   "  tests: load_orders\n  tests: reload_orders\n")
    code, _out, err = diff(capsys, "--job", "reload_orders", "--url", live.url)
    assert (code, err) == (2, "lineage-audit diff: job 'reload_orders' has 1 run(s); a diff needs two\n")


def test_a_dataset_between_two_moments(live, capsys):
    code, out, _err = diff(capsys, "--dataset", "riched", "--since", at(50), "--until", at(200), "--url", live.url)
    assert code == 0
    assert out == "\n".join([
        "Dataset warehouse:enriched",
        f"  from {at(50)}  version {written('enriched', RUN_A)} written by run {RUN_A} (COMPLETED)",
        f"  to   {at(200)}  version {written('enriched', RUN_B)} written by run {RUN_B} (COMPLETED)",
        "Inputs (of its writers):",
        "  + warehouse:countries",
        "  - warehouse:customers",
        "  = warehouse:orders",
        "Writers:",
        "  = tests:load_orders",
        "Datasets:",
        "  ~ warehouse:enriched (output)",
        "      + field country string",
        "      - field name string",
        "      ~ field id int -> bigint",
        "      + lineage country <- warehouse:countries.code (DIRECT/IDENTITY)",
        "      - lineage name <- warehouse:customers.name (DIRECT/IDENTITY)",
        "      ~ lineage amount <- warehouse:orders.amount (DIRECT/TRANSFORMATION 'amount * 2') -> "
        "(DIRECT/AGGREGATION 'sum(amount)')",
        "      rows 100 -> 120",
        "Changed.", ""])
    code, out, _err = diff(capsys, "--dataset", "summary", "--since", at(50), "--url", live.url, "--json")
    printed = json.loads(out)
    answered = live.get("namespaces/warehouse/datasets/summary/diff", **{"from": at(50)})
    assert code == 0 and printed["to"].pop("time") and answered["to"].pop("time")  # now: a moment apart
    assert printed == answered
    code, out, _err = diff(capsys, "--dataset", "orders", "--since", at(5), "--until", at(150), "--url", live.url)
    assert out == "\n".join([
        "Dataset warehouse:orders", f"  from {at(5)}  version {read('orders')}",
        f"  to   {at(150)}  version {read('orders')}", "Datasets:", "  = warehouse:orders (input): unchanged",
        "Nothing changed.", ""])


@pytest.mark.parametrize("args, message", [
    ((RUN_A, "0b5c1a4e-0000-4000-8000-000000000999"), "Run '0b5c1a4e-0000-4000-8000-000000000999' (to) not found."),
    ((RUN_A, LONELY_RUN), f"runs of different jobs: '{RUN_A}' is a run of 'load_orders', '{LONELY_RUN}' of 'lonely'"),
    ((RUN_A, "x"), "to: 'x' is not a UUID"),
    ((RUN_A,), "two run ids are needed, not 1"),
    ((), "give two run ids, --job NAME, or --dataset NAME --since MOMENT (one of them)"),
    ((RUN_A, RUN_B, "--job", "load_orders"), "give two run ids, --job NAME, or --dataset NAME --since MOMENT "
                                             "(one of them)"),
    (("--dataset", "enriched"), "--dataset needs --since MOMENT"),
    (("--job", JOB, "--since", at(0)), "--since and --until go with --dataset"),
    (("--dataset", "enriched", "--since", "last week"), "from: 'last week' is not an ISO 8601 timestamp (such as 2026-12-07T10:00:00Z)"),
    (("--dataset", "summary", "--since", at(0), "--until", at(50)),
     f"Dataset 'summary' did not exist in namespace 'warehouse' at {at(50)}."),
    (("--dataset", "nowhere", "--since", at(0)), "no dataset is named 'nowhere' or has a name ending with it"),
])
def test_bad_input_exits_2_with_the_reason(live, capsys, args, message):
    assert diff(capsys, *args, "--url", live.url) == (2, "", f"lineage-audit diff: {message}\n")


def test_an_unreachable_service_exits_1(capsys):
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = diff(capsys, RUN_A, RUN_B, "--url", url)
    assert (code, out) == (1, "")
    assert err.startswith(f"lineage-audit diff: the lineage service at {url} cannot be reached (")
    assert err.endswith("start it with `make serve` or `lineage-audit serve --background`, or give --url\n")


def test_the_default_url_is_where_the_capture_sends_events(live, capsys, tmp_path, monkeypatch):
    defaults = tmp_path / "spark-defaults.conf"
    defaults.write_text(f"spark.openlineage.transport.type http\nspark.openlineage.transport.url {live.url}\n")
    monkeypatch.setenv(SPARK_DEFAULTS_ENV, str(defaults))
    code, out, _err = diff(capsys, RUN_A, RUN_B, "--json")
    assert code == 0 and json.loads(out)["changed"] is True
