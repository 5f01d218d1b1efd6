"""All eight jobs as a user runs them: generated data, separate Spark applications, real files.

Runs ``lineage-audit run`` (what ``make run`` calls) on tiny data in a temporary directory, then
reads every output back with Spark and checks its schema and invariants.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest

from lineage_audit.capture.choice import CAPTURE_ENV
from lineage_audit.config import FORMAT_ENV, PROJECT_ROOT, SPARK_DEFAULTS_ENV, load_catalog
from lineage_audit.runner import JOBS
from tests.capture.spec import requires_spec, validate_event
from tests.conftest import spooled_events
from tests.pipeline import run_cli

pytestmark = pytest.mark.e2e
NAMESPACE = "data-lineage-audit"  # the jobs' (spark.openlineage.namespace in spark-defaults.conf)

# Every output table: its columns in order, written out so a schema change is a visible decision.
EXPECTED_COLUMNS: dict[str, list[str]] = {
    "customer_master": ["customer_id", "full_name", "email_hash", "segment", "country_code", "city",
        "signup_date", "updated_at"],
    "processed_customers": ["customer_id", "first_name", "last_name", "full_name", "email_hash",
        "email_domain", "phone_hash", "birth_date", "age", "country_code", "city", "segment", "signup_date",
        "updated_at"],
    "enriched_orders": ["order_id", "customer_id", "customer_segment", "customer_country", "product_id",
        "is_known_product", "product_name", "category", "brand", "list_price", "order_ts", "order_date",
        "order_hour", "quantity", "unit_price", "currency", "status", "channel", "coupon_code", "gross_amount",
        "discount_tier", "discount_rate", "discount_amount", "net_amount", "is_high_value"],
    "order_summary": ["customer_id", "order_date", "order_count", "total_net_amount", "avg_net_amount",
        "total_quantity", "distinct_products", "high_value_orders", "first_order_ts", "last_order_ts"],
    "processed_transactions": ["transaction_id", "account_id", "customer_id", "account_fingerprint",
        "customer_segment", "customer_country", "account_type", "account_status", "risk_rating", "transaction_ts", "transaction_date",
        "transaction_hour", "day_of_week", "transaction_type", "direction", "merchant", "merchant_category",
        "channel", "original_currency", "original_amount", "is_foreign_currency", "exchange_rate",
        "reporting_currency", "amount_reporting", "signed_amount_reporting"],
    "daily_account_summary": ["account_id", "customer_id", "customer_country", "transaction_date", "reporting_currency",
        "transaction_count", "debit_total", "credit_total", "net_amount", "max_amount", "distinct_merchants",
        "foreign_currency_count", "first_transaction_ts", "last_transaction_ts"],
    "fraud_indicators": ["transaction_id", "account_id", "transaction_ts", "amount_reporting",
        "transaction_seq", "running_total", "velocity_count", "seconds_since_previous", "account_mean_amount",
        "account_stddev_amount", "amount_zscore", "is_velocity_alert", "is_amount_outlier", "risk_level"],
    "data_quality_report": ["table_name", "column_name", "data_type", "is_required", "row_count", "null_count",
        "null_rate", "distinct_count", "min_value", "max_value", "rule", "violation_count", "violation_rate",
        "malformed_rows"],
    "data_lineage_summary": ["table_name", "produced_by_job", "source_format", "source_path", "total_records", "row_count",
        "malformed_rows", "malformed_rate", "column_count", "key_column", "duplicate_key_count",
        "duplicate_key_rate", "required_null_cells", "violation_cells", "quality_score"],
    "quality_alerts": ["alert_id", "table_name", "column_name", "check_name", "observed_rate", "threshold",
        "affected_rows", "severity", "message"],
    "real_time_user_analytics": ["user_id", "session_id", "session_number", "session_start", "session_end",
        "session_date", "session_duration_seconds", "event_count", "distinct_products", "purchase_count",
        "cart_add_count", "device", "converted", "country", "age", "age_band", "is_premium",
        "days_since_signup"],
    "trending_content": ["window_start", "window_end", "trend_rank", "dense_trend_rank", "product_id",
        "product_name", "category", "engagement_score", "score_share", "view_count", "purchase_count",
        "unique_users"],
    "personalization_models": ["user_id", "affinity_electronics", "affinity_books", "affinity_home",
        "affinity_sports", "affinity_fashion", "affinity_toys", "affinity_grocery", "affinity_beauty",
        "total_affinity", "top_category", "top_category_score"],
    "model_predictions": ["customer_id", "label", "prediction", "churn_probability", "split",
        "has_behaviour_features", "model_name", "model_version"],
    "model_metrics": ["metric", "value", "split", "model_name", "model_version"],
    "feature_importance": ["feature_index", "feature_name", "source_column", "feature_kind", "weight_kind",
        "weight", "abs_weight", "importance_rank", "model_name", "model_version"],
    "raw_data_lake": ["record_id", "event_ts", "payload", "record_hash", "source", "ingest_date"],
    "structured_data_lake": ["source", "record_id", "event_ts", "attribute", "position", "value_double",
        "value_string", "unit"],
    "data_lake_metadata": ["source", "record_count", "rejected_count", "min_event_ts", "max_event_ts",
        "distinct_partitions", "payload_bytes", "ingested_at"],
    "data_lineage_tracking": ["input_table", "input_path", "target_table", "records_in", "records_out",
        "records_rejected", "is_reconciled", "hash_count", "xxhash64_sum", "hash_digest"],
    "compliance_report": ["regulation", "requirement_id", "data_category", "accesses", "violations",
        "role_violations", "purpose_violations", "violation_rate", "users_with_violations", "compliance_status"],
    "data_privacy_assessment": ["table_name", "column_name", "data_category", "sensitivity", "owner_team",
        "regulations", "is_encrypted", "requires_encryption", "is_masked", "requires_masking",
        "retention_days", "max_retention_days", "retention_excess_days", "gaps", "risk_score", "risk_level",
        "inventory_status", "lineage_status", "masked_per_lineage", "lineage_classes", "lineage_masked_classes",
        "lineage_influenced_by", "lineage_sources", "flows_to_clear", "flows_to_masked"],
    "governance_dashboard": ["owner_team", "tables_owned", "columns_owned", "high_sensitivity_columns",
        "unencrypted_columns", "access_count", "violation_count", "distinct_users", "documented_lineage_edges",
        "undocumented_table_count", "undocumented_tables"],
    "audit_trail": ["sequence_number", "access_id", "user_name", "role", "user_sequence", "access_ts",
        "previous_access_ts", "previous_table_name", "seconds_since_previous", "table_name", "column_name",
        "action", "purpose", "rows_accessed", "client_network", "approved", "data_category", "sensitivity",
        "is_violation", "violation_reasons", "event_fingerprint"],
}

# Tables whose key must be unique.
UNIQUE_KEYS = {
    "processed_customers": ["customer_id"],
    "customer_master": ["customer_id"],
    "enriched_orders": ["order_id"],
    "processed_transactions": ["transaction_id"],
    "fraud_indicators": ["transaction_id"],
    "audit_trail": ["access_id"],
    "model_predictions": ["customer_id"],
}

# (raw input, row-level output): every input row is in the output or in the input's rejects.
RECONCILED = {
    "customers": [("raw_customers", "processed_customers")],
    "orders": [("raw_orders", "enriched_orders")],
    "financial": [("raw_transactions", "processed_transactions")],
    "compliance": [("data_access_logs", "audit_trail")],
    "ml_pipeline": [("training_data", "model_predictions")],
}
LAKE_SOURCES = ("external_api_data", "log_files", "sensor_data", "social_media_feeds", "order_summary")


@pytest.fixture(scope="module")
def data_dir(pipeline_run) -> Path:
    return pipeline_run


@pytest.fixture(scope="module")
def summaries(data_dir) -> dict[str, dict]:
    runs = data_dir / "runs"
    return {job: json.loads((runs / f"{job}.json").read_text()) for job in JOBS}


@pytest.fixture(scope="module")
def catalog(data_dir):
    return load_catalog(data_dir=data_dir, table_format="parquet")


def _read(spark, catalog, table):
    return spark.read.parquet(catalog.output(table).path)


def test_every_output_exists_with_its_schema(spark, catalog):
    produced = {name for name, spec in catalog.outputs.items() if spec.format != "mlmodel"}
    assert produced == set(EXPECTED_COLUMNS)
    for table, columns in EXPECTED_COLUMNS.items():
        df = _read(spark, catalog, table)
        assert df.columns == columns, table
        assert df.count() > 0, f"{table} is empty"


def test_trained_model_is_a_loadable_pipeline(catalog):
    from pyspark.ml import PipelineModel

    model = PipelineModel.load(catalog.output("trained_model").path)
    assert len(model.stages) >= 3


def test_keys_are_unique(spark, catalog):
    for table, key in UNIQUE_KEYS.items():
        df = _read(spark, catalog, table)
        assert df.count() == df.select(*key).distinct().count(), table


def test_rows_reconcile(spark, catalog, summaries):
    for job, pairs in RECONCILED.items():
        summary = summaries[job]
        for source, output in pairs:
            rows_in = summary["rows_in"][source]
            rows_out = summary["rows_out"][output]
            rejected = summary["rows_rejected"].get(source, 0)
            assert rows_in == rows_out + rejected, (job, source, rows_in, rows_out, rejected)
            assert rows_out == _read(spark, catalog, output).count()


def test_data_lake_reconciles_across_its_five_sources(summaries):
    summary = summaries["data_lake_ingestion"]
    rows_in = sum(summary["rows_in"][s] for s in LAKE_SOURCES)
    rejected = sum(summary["rows_rejected"].get(s, 0) for s in LAKE_SOURCES)
    assert rows_in == summary["rows_out"]["raw_data_lake"] + rejected


def test_defects_were_quarantined_with_reasons(spark, catalog):
    for source in ("raw_customers", "raw_orders", "raw_transactions", "log_files", "sensor_data"):
        rejects = spark.read.parquet(catalog.rejects(source).path)
        assert rejects.columns == ["source_table", "reject_reason", "raw_record", "rejected_by_job"]
        reasons = {r.reject_reason for r in rejects.select("reject_reason").distinct().collect()}
        assert reasons, f"no rejects for {source}"
        assert all(reasons), source


@pytest.fixture()
def own_copy(pipeline_run, tmp_path) -> Path:
    """A copy of the pipeline's data directory for a test that runs a job again: the shared run's
    events (read by the lineage tests) stay those of the eight jobs, each run once."""
    copy = tmp_path / "data"
    shutil.copytree(pipeline_run, copy, ignore=shutil.ignore_patterns("lineage-spool", "lineage-journal"))
    return copy


@pytest.fixture(scope="module")
def official_rerun(official_pipeline_run, tmp_path_factory) -> tuple[Path, set[str]]:
    """``make run`` twice: a copy of the official pipeline's data directory, all eight jobs run again in it.

    Returns the copy and the names of the spool files of the first run (the rest are the second run's).
    """
    copy = tmp_path_factory.mktemp("rerun") / "data"
    shutil.copytree(official_pipeline_run, copy, ignore=shutil.ignore_patterns("lineage-journal"))
    first = {p.name for p in (copy / "lineage-spool").glob("*.json")}
    done = run_cli(["run"], copy, env={CAPTURE_ENV: "official", FORMAT_ENV: "parquet"})
    assert done.returncode == 0 and "8/8 jobs succeeded" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    return copy, first


def test_rerun_overwrites_instead_of_appending(official_pipeline_run, official_rerun):
    copy, _ = official_rerun
    for job in JOBS:
        before = json.loads((official_pipeline_run / "runs" / f"{job}.json").read_text())
        again = json.loads((copy / "runs" / f"{job}.json").read_text())
        assert (again["rows_out"], again["rows_rejected"]) == (before["rows_out"], before["rows_rejected"]), job


def _names_in_store(client) -> tuple[set[str], set[str], int]:
    """(namespace/job names, namespace/dataset names, runs) that a lineage store lists."""
    jobs = client.get("/api/v1/jobs", params={"limit": 10_000}).json()["jobs"]
    datasets = set()
    for namespace in client.get("/api/v1/namespaces").json()["namespaces"]:
        listed = client.get(f"/api/v1/namespaces/{namespace['name']}/datasets", params={"limit": 10_000}).json()
        datasets |= {f"{namespace['name']}/{d['name']}" for d in listed["datasets"]}
    runs = sum(client.get(f"/api/v1/namespaces/{j['namespace']}/jobs/{j['name']}/runs",
                          params={"limit": 10_000}).json()["totalCount"] for j in jobs)
    return {f"{j['namespace']}/{j['name']}" for j in jobs}, datasets, runs


@pytest.fixture(scope="module")
def rerun_store(request, official_rerun, tmp_path_factory):
    """A lineage store fed the first run's events, then the second's (as a service running through
    ``make run`` twice gets them): the client, what it listed after the first run, and the moment between."""
    from tests.service.conftest import make_client

    copy, first = official_rerun
    spool = sorted((copy / "lineage-spool").glob("*.json"))
    # the first run wrote in the original data directory: the same tables, relocated into the copy
    original = str(request.getfixturevalue("official_pipeline_run"))
    once = [json.loads(p.read_text().replace(original, str(copy))) for p in spool if p.name in first]
    twice = [json.loads(p.read_text()) for p in spool if p.name not in first]
    assert once and twice
    between = max(e["eventTime"] for e in once)
    assert between < min(e["eventTime"] for e in twice)
    database = tmp_path_factory.mktemp("rerun-store") / "store.db"
    with make_client(f"sqlite:///{database}") as client:
        for event in once:
            assert client.post("/api/v1/lineage", json=event).status_code == 201
        listed_once = _names_in_store(client)
        for event in twice:
            assert client.post("/api/v1/lineage", json=event).status_code == 201
        yield SimpleNamespace(client=client, copy=copy, once=listed_once, between=between,
                              database_url=f"sqlite:///{database}", events=len(once) + len(twice))


def test_a_second_make_run_adds_runs_but_no_job_or_dataset_name(rerun_store):
    """The store after ``make run`` twice names the same jobs and datasets as after once: stable identities
    (a saved model is one dataset, its stage folders do not appear, no name holds a random id)."""
    jobs_once, datasets_once, runs_once = rerun_store.once
    jobs_twice, datasets_twice, runs_twice = _names_in_store(rerun_store.client)
    assert jobs_twice == jobs_once
    assert datasets_twice == datasets_once
    assert runs_twice > runs_once
    catalog = load_catalog(data_dir=rerun_store.copy, table_format="parquet")
    model = f"file/{catalog.output('trained_model').path}"
    assert model in datasets_once and not any(d.startswith(model + "/") for d in datasets_once)
    assert sum(j.endswith("trained_model_model_card") for j in jobs_once) == 1, "one job writes the model"


def test_the_ledger_of_both_runs_verifies(rerun_store):
    """Every event of both runs is in the ledger, in a chain that ``lineage-audit verify`` recomputes."""
    head = rerun_store.client.get("/api/v1/audit/ledger").json()
    assert head["length"] == rerun_store.events and len(head["headHash"]) == 64
    done = run_cli(["verify", "--database-url", rerun_store.database_url,
                    "--expect", f"{head['length']}:{head['headHash']}"], rerun_store.copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Ledger verified: {head['length']} entries, head {head['headHash']}" in done.stdout


@pytest.mark.parametrize("job", JOBS)
def test_two_runs_of_unchanged_code_on_unchanged_data_differ_in_nothing(rerun_store, job):
    """The runs diff of each job's two runs: the same inputs, outputs, fields, column lineage and row counts."""
    client = rerun_store.client
    runs = client.get(f"/api/v1/namespaces/{NAMESPACE}/jobs/{job}/runs").json()["runs"]
    assert len(runs) == 2 and all(r["state"] == "COMPLETED" for r in runs)
    newer, older = runs
    diff = client.get("/api/v1/audit/diff/runs", params={"from": older["id"], "to": newer["id"]}).json()
    assert diff["changed"] is False, [d for d in diff["datasets"] if d["changed"]]
    assert not diff["inputs"]["added"] and not diff["inputs"]["removed"] and diff["inputs"]["unchanged"]
    assert not diff["outputs"]["added"] and not diff["outputs"]["removed"] and diff["outputs"]["unchanged"]
    outputs = [d for d in diff["datasets"] if d["role"] == "OUTPUT"]
    assert outputs and all(d["rowCount"]["from"] == d["rowCount"]["to"] is not None for d in outputs), outputs


def test_spark_submit_runs_a_job_with_the_shared_properties(own_copy, summaries):
    spark_submit = Path(sys.executable).with_name("spark-submit")
    if not spark_submit.exists():
        spark_submit = Path(shutil.which("spark-submit") or "spark-submit")
    env = {**os.environ, "LINEAGE_AUDIT_DATA_DIR": str(own_copy), "PYSPARK_PYTHON": sys.executable,
           "PYSPARK_DRIVER_PYTHON": sys.executable}
    # the README's command; the tests' copy of spark-defaults.conf differs in the transport URL alone
    done = subprocess.run(
        [str(spark_submit), "--properties-file", os.environ[SPARK_DEFAULTS_ENV], "jobs/orders.py"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "== orders: ok in" in done.stdout
    assert json.loads((own_copy / "runs/orders.json").read_text())["rows_out"] == summaries["orders"]["rows_out"]
    # every write of the job reached the lineage store (here: the spool, nobody listening)
    written = {o["name"] for e in spooled_events(own_copy) if e["eventType"] == "COMPLETE" for o in e["outputs"]}
    assert set(_written(own_copy, summaries["orders"], "parquet")) <= written


def test_missing_input_fails_fast_with_the_command_to_fix_it(tmp_path):
    env = {**os.environ, "LINEAGE_AUDIT_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "jobs/orders.py"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "input table 'raw_orders' not found" in done.stderr
    assert "make data" in done.stderr
    assert "Traceback" not in done.stderr


def _written(data_dir: Path, summary: dict, table_format: str) -> dict[str, int]:
    """Path -> rows of every table a job wrote (outputs and quarantine tables), from its summary."""
    catalog = load_catalog(data_dir=data_dir, table_format=table_format)
    # a saved model counts the rows of its card, the one write of it that lineage records
    written = {catalog.output(t).path: rows for t, rows in summary["rows_out"].items()}
    written.update({catalog.rejects(t).path: rows for t, rows in summary["rows_rejected"].items()})
    return written


def _check_every_write(events: list[dict], data_dir: Path, table_format: str, capture: str) -> None:
    """Every table every job wrote is the output of a COMPLETE event under the job's application run,
    with its exact row count and, where it was computed from input datasets, its column lineage."""
    model = load_catalog(data_dir=data_dir, table_format=table_format).output("trained_model").path
    for job in JOBS:
        summary = json.loads((data_dir / "runs" / f"{job}.json").read_text())
        app = [e for e in events if e["job"]["name"] == job]
        assert [e["eventType"] for e in app][:1] == ["START"] and app[-1]["eventType"] == "COMPLETE", job
        completes = [e for e in events if e["job"]["name"].startswith(f"{job}.") and e["eventType"] == "COMPLETE"]
        for event in completes:
            assert "extractionError" not in event["run"]["facets"], event["job"]["name"]
            assert event["run"]["facets"]["parent"]["job"]["name"] == job
        if capture == "builtin":  # the official listener sends no source location for PySpark drivers
            for event in app + completes:
                location = event["job"]["facets"]["sourceCodeLocation"]
                assert location["url"].endswith(f"/jobs/{job}.py"), (job, location)
        for path, rows in _written(data_dir, summary, table_format).items():
            if capture == "official" and table_format == "delta" and path == model:
                # openlineage-spark 1.53.0 with the Delta extensions sends no event at all for the model
                # card's write (a Parquet aggregate of the training set), wherever it comes in the job;
                # with Parquet tables it does (README, "Built-in against official")
                continue
            outputs = [(e, o) for e in completes for o in e["outputs"] if o["name"] == path]
            assert len(outputs) == 1, (capture, job, path, len(outputs))
            event, output = outputs[0]
            # openlineage-spark 1.53.0 sends no outputStatistics for Delta writes (see docs/capture-comparison.md)
            if not (capture == "official" and table_format == "delta"):
                assert output["outputFacets"]["outputStatistics"]["rowCount"] == rows, (capture, path)
            if event["inputs"]:
                assert output["facets"]["columnLineage"]["fields"], (capture, path)


@pytest.mark.parametrize("capture", ["builtin", "official"])
def test_every_write_of_every_job_is_captured_with_rows_and_column_lineage(request, capture):
    # No lineage server runs in these runs, so every event was spooled for a later replay.
    data_dir = request.getfixturevalue("pipeline_run" if capture == "builtin" else "official_pipeline_run")
    _check_every_write(spooled_events(data_dir), data_dir, "parquet", capture)


@requires_spec
@pytest.mark.parametrize("capture", ["builtin", "official"])
def test_every_event_the_jobs_emitted_conforms_to_the_openlineage_spec(request, capture):
    data_dir = request.getfixturevalue("pipeline_run" if capture == "builtin" else "official_pipeline_run")
    events = spooled_events(data_dir)
    assert len(events) >= 2 * len(JOBS)
    for event in events:
        assert set(validate_event(event)) <= {"spark_properties", "spark_applicationDetails", "spark_jobDetails",
                                             "environment-properties"}


def test_delta_pipeline_writes_delta_and_merges_the_customer_master(delta_pipeline_run, spark):
    """``LINEAGE_AUDIT_TABLE_FORMAT=delta``: every output a Delta table, each write captured with its rows
    and column lineage, and the second customers run MERGEs into the customer master."""
    capture = "official"
    catalog = load_catalog(data_dir=delta_pipeline_run, table_format="delta")
    for name, spec in catalog.outputs.items():
        if spec.format != "mlmodel":
            assert (Path(spec.path) / "_delta_log").is_dir(), name
    events = spooled_events(delta_pipeline_run)
    customer_runs = [i for i, e in enumerate(events) if e["job"]["name"] == "customers" and e["eventType"] == "START"]
    assert len(customer_runs) == 2, "customers ran twice"
    first_pass = events[:customer_runs[1]]
    _check_every_write(first_pass, delta_pipeline_run, "delta", capture)
    master = catalog.output("customer_master").path
    merges = [e for e in events[customer_runs[1]:] if e["eventType"] == "COMPLETE"
              and "merge_into_command" in e["job"]["name"] and any(o["name"] == master for o in e["outputs"])]
    assert len(merges) == 1, capture
    output = next(o for o in merges[0]["outputs"] if o["name"] == master)
    lineage = output["facets"]["columnLineage"]["fields"]
    raw = str(Path(catalog.input("raw_customers").path))
    # the master's e-mail hash comes from the raw feed's e-mail, through the MERGE
    assert any(f["name"] == raw and f["field"] == "email" for f in lineage["email_hash"]["inputFields"]), lineage
    rows = spark.read.format("delta").load(master).count()
    assert rows == json.loads((delta_pipeline_run / "runs/customers.json").read_text())["rows_out"]["processed_customers"]


def _graph_shape(answer: dict) -> set[tuple[str, tuple[str, ...]]]:
    return {(node["id"], tuple(sorted(e["destination"] for e in node["outEdges"]))) for node in answer["graph"]}


def test_as_of_the_moment_between_the_runs_the_first_run_is_the_latest(rerun_store):
    """As of the moment between the two runs: the same graph, but the first run is every job's latest and
    its versions are the datasets' current ones."""
    client, between = rerun_store.client, rerun_store.between
    catalog = load_catalog(data_dir=rerun_store.copy, table_format="parquet")
    name = catalog.output("enriched_orders").path
    node = f"dataset:file:{name}"
    now = client.get("/api/v1/lineage", params={"nodeId": node, "depth": 3}).json()
    then = client.get("/api/v1/lineage", params={"nodeId": node, "depth": 3, "asOf": between}).json()
    assert _graph_shape(then) == _graph_shape(now) and len(now["graph"]) > 3

    newer, older = client.get(f"/api/v1/namespaces/{NAMESPACE}/jobs/orders/runs").json()["runs"]
    job_then = client.get(f"/api/v1/namespaces/{NAMESPACE}/jobs/orders", params={"asOf": between}).json()
    assert job_then["latestRun"]["id"] == older["id"] and job_then["latestRun"]["state"] == "COMPLETED"
    assert client.get(f"/api/v1/namespaces/{NAMESPACE}/jobs/orders").json()["latestRun"]["id"] == newer["id"]

    path = f"/api/v1/namespaces/file/datasets/{quote(name, safe='')}"
    versions = client.get(f"{path}/versions").json()["versions"]
    versions_then = client.get(f"{path}/versions", params={"asOf": between}).json()["versions"]
    assert len(versions) == 2 and [v["version"] for v in versions_then] == [versions[1]["version"]]
    dataset_then = client.get(path, params={"asOf": between}).json()
    assert dataset_then["currentVersion"] == versions[1]["version"] != versions[0]["version"]
    assert [f["name"] for f in dataset_then["fields"]] == EXPECTED_COLUMNS["enriched_orders"]
