"""The runner's choices that need no Spark: when data is (re)generated, job order, the report."""

from __future__ import annotations

from pathlib import Path

from lineage_audit.cli import main as cli_main
from lineage_audit.config import load_catalog
from lineage_audit.privacy_export import ExportError
from lineage_audit.runner import (
    JOBS, SKIPPED, UPSTREAM_TABLES, JobResult, ancestor_jobs, ensure_data, report, run_jobs, upstream_jobs,
)
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


def test_every_job_runs_after_the_jobs_whose_outputs_it_reads():
    assert len(JOBS) == len(set(JOBS)) == 8
    assert all((Path("jobs") / f"{job}.py").exists() for job in JOBS)
    catalog = load_catalog(data_dir="/nowhere", table_format="parquet")
    for job in JOBS:
        for upstream in upstream_jobs(job, catalog):
            assert JOBS.index(upstream) < JOBS.index(job), f"{job} reads {upstream}'s outputs but runs first"
    # one connected pipeline: every job after the first reads another job's output
    assert UPSTREAM_TABLES[JOBS[0]] == ()
    assert all(UPSTREAM_TABLES[job] for job in JOBS[1:])
    assert ancestor_jobs("compliance", catalog) == {
        "customers", "orders", "financial", "data_quality", "data_lake_ingestion"}
    assert ancestor_jobs("ml_pipeline", catalog) == {"customers", "orders", "analytics"}


def test_a_job_whose_upstream_never_ran_is_skipped_with_the_jobs_to_run_first(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr("lineage_audit.runner.run_job", lambda job, data_dir: started.append(job))
    results = run_jobs(["ml_pipeline"], tmp_path, log=lambda _: None)
    assert started == []
    [skipped] = results
    assert skipped.exit_code == SKIPPED and not skipped.ok
    assert "order_summary (written by orders)" in skipped.skipped
    assert "real_time_user_analytics (written by analytics)" in skipped.skipped
    assert 'make run JOB="customers orders analytics ml_pipeline"' in skipped.skipped
    assert "skipped" in report(results, tmp_path)


def test_the_dependents_of_a_failed_job_do_not_start(tmp_path, monkeypatch):
    started = []

    def fake_run(job, data_dir):
        started.append(job)
        return JobResult(job, 1 if job == "orders" else 0, 1.0, None)

    monkeypatch.setattr("lineage_audit.runner.run_job", fake_run)
    monkeypatch.setattr("lineage_audit.runner.missing_upstream", lambda job, catalog: [])
    monkeypatch.setattr("lineage_audit.runner.export_lineage", lambda job, data_dir, log: None)
    results = {r.job: r for r in run_jobs(list(JOBS), tmp_path, log=lambda _: None)}
    # orders failed: what reads its outputs, directly or not, does not start; the rest runs
    assert started == ["customers", "orders", "financial", "analytics"]
    for job in ("data_quality", "ml_pipeline", "data_lake_ingestion", "compliance"):
        assert results[job].skipped and "which failed" in results[job].skipped, job


def test_report_says_what_failed_and_where_to_look(tmp_path):
    text = report([JobResult("orders", 0, 3.0, None), JobResult("financial", 1, 2.0, None)], tmp_path)
    assert "1/2 jobs succeeded in 5.0 s" in text
    assert "FAILED" in text.splitlines()[3]
    assert str(tmp_path / "rejects") in text
    assert "lineage export" not in text  # compliance never ran here
    (tmp_path / "lineage-export").mkdir()
    assert f"lineage export {tmp_path / 'lineage-export'}" in report([JobResult("compliance", 0, 1.0, None)], tmp_path)


def test_unknown_job_is_refused_with_the_list(capsys):
    assert cli_main(["run", "nope"]) == 2
    assert "choose from: customers, orders" in capsys.readouterr().err


def test_a_missing_upstream_output_names_the_job_that_writes_it(tmp_path):
    from lineage_audit.tables import MissingTableError

    catalog = load_catalog(data_dir=tmp_path, table_format="parquet")
    message = str(MissingTableError(catalog.table("customer_master")))
    assert "'customer_master' not found" in message and "make run JOB=customers" in message
    assert "make data" in str(MissingTableError(catalog.table("raw_orders")))


def test_data_an_older_generator_made_is_made_again_and_its_stale_tables_go(tmp_path):
    import json

    quiet = lambda _: None  # noqa: E731
    assert ensure_data(tmp_path, scale=0.01, log=quiet) is True
    marker = tmp_path / "inputs" / ".generated.json"
    marker.write_text(json.dumps({"scale": 0.01, "seed": 42}))  # as version 1 wrote it
    (tmp_path / "inputs" / "customer_master").mkdir()  # a table version 1 generated and jobs now write
    assert generated_with(tmp_path) is None
    assert ensure_data(tmp_path, scale=None, log=quiet) is True
    assert not (tmp_path / "inputs" / "customer_master").exists()
    assert generated_with(tmp_path) == {"scale": 1.0, "seed": 42}


def test_parallel_runs_jobs_side_by_side_once_what_they_read_is_written(tmp_path, monkeypatch):
    import threading

    events, lock = [], threading.Lock()
    side_by_side = threading.Barrier(2, timeout=10)  # orders and financial both wait for customers alone

    def fake_run(job, data_dir, output=None):
        with lock:
            events.append(("start", job))
        if job in ("orders", "financial"):
            side_by_side.wait()  # raises unless the other one is running too
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(f"{job} printed this\n")
        with lock:
            events.append(("end", job))
        return JobResult(job, 1 if job == "analytics" else 0, 1.0, None)

    monkeypatch.setattr("lineage_audit.runner.run_job", fake_run)
    monkeypatch.setattr("lineage_audit.runner.missing_upstream", lambda job, catalog: [])

    def fake_export(job, data_dir, log):
        with lock:
            events.append(("export", job))

    monkeypatch.setattr("lineage_audit.runner.export_lineage", fake_export)
    logged = []
    results = run_jobs(list(JOBS), tmp_path, log=logged.append, parallel=2)

    assert [r.job for r in results] == list(JOBS)  # reported in pipeline order, whatever ended first
    running, most = set(), 0
    for kind, job in events:
        if kind == "start":
            ended = {j for k, j in events[:events.index((kind, job))] if k == "end"}
            assert set(upstream_jobs(job)) <= ended, f"{job} started before the jobs it reads from ended"
            running.add(job)
            most = max(most, len(running))
        else:
            running.discard(job)
    assert most == 2
    # the lineage is exported once every job before compliance has ended (not only those it reads from),
    # right before compliance starts
    exported = events.index(("export", "compliance"))
    assert events[exported + 1] == ("start", "compliance")
    assert {j for k, j in events[:exported] if k == "end"} == set(JOBS[:-1]) - {"ml_pipeline"}
    # analytics failed: ml_pipeline, which reads its output, is skipped; compliance, which does not, runs
    by_job = {r.job: r for r in results}
    assert "analytics, which failed" in by_job["ml_pipeline"].skipped
    assert by_job["compliance"].ok and ("start", "ml_pipeline") not in events
    assert any("orders printed this" in line for line in logged)  # each job's output is shown when it ends
    assert "6/8 jobs succeeded in 4.0 s (7.0 s of job time)" in report(results, tmp_path, wall_seconds=4.0)


def test_compliance_reads_the_lineage_exported_right_before_it_and_waits_for_it(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr("lineage_audit.runner.run_job", lambda job, data_dir: calls.append(("run", job)) or
                        JobResult(job, 0, 1.0, None))
    monkeypatch.setattr("lineage_audit.runner.missing_upstream", lambda job, catalog: [])

    def failing_export(data_dir, log):
        calls.append(("export", data_dir))
        raise ExportError("the temporary lineage service did not start")

    monkeypatch.setattr("lineage_audit.privacy_export.export_classifications", failing_export)
    [result] = run_jobs(["compliance"], tmp_path, log=lambda _: None)  # `make run JOB=compliance`: it runs too
    assert calls == [("export", tmp_path)]
    assert result.exit_code == SKIPPED and "could not be exported: the temporary lineage service" in result.skipped

    calls.clear()
    monkeypatch.setattr("lineage_audit.privacy_export.export_classifications",
                        lambda data_dir, log: calls.append(("export", data_dir)))
    assert [r.ok for r in run_jobs(["orders", "compliance"], tmp_path, log=lambda _: None)] == [True, True]
    assert calls == [("run", "orders"), ("export", tmp_path), ("run", "compliance")]


def test_a_cluster_run_exports_the_lineage_before_compliance_too(tmp_path, monkeypatch):
    import subprocess
    from types import SimpleNamespace

    from lineage_audit import cluster

    calls = []
    monkeypatch.setattr(cluster, "submit_job", lambda c, job, data_dir: calls.append(("submit", job)) or
                        subprocess.CompletedProcess([], 0))
    monkeypatch.setattr(cluster, "export_lineage", lambda job, data_dir, log: calls.append(("export", job)))
    fake = SimpleNamespace(master_url="spark://127.0.0.1:7077")
    results = cluster.run_jobs_on(fake, ["compliance", "orders"], tmp_path, log=lambda _: None)
    assert calls == [("submit", "orders"), ("export", "compliance"), ("submit", "compliance")]
    assert [r.ok for r in results] == [True, True]

    calls.clear()
    monkeypatch.setattr(cluster, "export_lineage", lambda job, data_dir, log: "skipped: no lineage")
    [result] = cluster.run_jobs_on(fake, ["compliance"], tmp_path, log=lambda _: None)
    assert calls == [] and result.exit_code == SKIPPED and result.skipped == "skipped: no lineage"
