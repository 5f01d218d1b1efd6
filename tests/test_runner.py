"""The runner's choices that need no Spark: when data is (re)generated, job order, the report."""

from __future__ import annotations

from pathlib import Path

from lineage_audit.cli import main as cli_main
from lineage_audit.runner import JOBS, JobResult, ensure_data, report
from lineage_audit.sample_data import generated_with


def test_existing_data_is_reused_unless_another_scale_is_asked_for(tmp_path):
    quiet = lambda _: None  # noqa: E731
    assert ensure_data(tmp_path, scale=0.01, log=quiet) is True
    assert ensure_data(tmp_path, scale=None, log=quiet) is False, "no scale given: keep what is there"
    assert ensure_data(tmp_path, scale=0.01, log=quiet) is False
    assert ensure_data(tmp_path, scale=0.02, log=quiet) is True
    assert generated_with(tmp_path)["scale"] == 0.02


def test_no_data_and_no_scale_generates_scale_one(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr("lineage_audit.runner.generate", lambda d, scale, seed, progress: calls.append(scale))
    ensure_data(tmp_path, scale=None, log=lambda _: None)
    assert calls == [1.0]


def test_customers_runs_before_orders():
    assert JOBS.index("customers") < JOBS.index("orders")
    assert len(JOBS) == len(set(JOBS)) == 8
    assert all((Path("jobs") / f"{job}.py").exists() for job in JOBS)


def test_report_says_what_failed_and_where_to_look(tmp_path):
    text = report([JobResult("orders", 0, 3.0, None), JobResult("financial", 1, 2.0, None)], tmp_path)
    assert "1/2 jobs succeeded in 5.0 s" in text
    assert "FAILED" in text.splitlines()[3]
    assert str(tmp_path / "rejects") in text


def test_unknown_job_is_refused_with_the_list(capsys):
    assert cli_main(["run", "nope"]) == 2
    assert "choose from: customers, orders" in capsys.readouterr().err
