"""Built-in capture of Hive-format tables and of table DDL, as the official listener (1.53.0) reports them.

Hive support is a static setting of a Spark application, so the statements run once, in a
Hive-enabled application of their own (a subprocess) with a warehouse and a Derby metastore in a
temporary folder; each test reads the events that run wrote.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lineage_audit.config import PROJECT_ROOT
from tests.capture.spec import read_events, requires_spec, validate_event

APP = "hive_tables"
SCRIPT = textwrap.dedent('''
    import sys
    from pyspark.sql import SparkSession
    from lineage_audit.capture.listener import install

    root = sys.argv[1]
    spark = (SparkSession.builder.appName("Hive Tables").master("local[1]")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1")
             .config("spark.sql.warehouse.dir", f"{root}/warehouse")
             .config("javax.jdo.option.ConnectionURL", f"jdbc:derby:;databaseName={root}/metastore_db;create=true")
             .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={root}")
             .enableHiveSupport().getOrCreate())
    capture = install(spark, {"spark.openlineage.transport.type": "file",
                              "spark.openlineage.transport.location": f"{root}/events.ndjson",
                              "spark.openlineage.spool.dir": f"{root}/spool",
                              "spark.openlineage.namespace": "tests"})
    with open(f"{root}/rows.csv", "w") as rows:
        rows.write("7\\n8\\n")
    for statement in [
        "CREATE TABLE plain (a INT) USING hive",
        "INSERT INTO plain SELECT CAST(id AS INT) FROM range(3)",
        "CREATE TABLE copied USING hive AS SELECT a FROM plain",
        f"LOAD DATA LOCAL INPATH '{root}/rows.csv' INTO TABLE plain",
        "CREATE TABLE sales (id INT, amount DOUBLE) USING parquet",
        "ALTER TABLE sales ADD COLUMNS (region STRING)",
        "ALTER TABLE sales RENAME TO sales_v2",
        "TRUNCATE TABLE sales_v2",
        "DROP TABLE sales_v2",
    ]:
        spark.sql(statement)
    capture.flush()
    capture.close()
    spark.stop()
''')


@pytest.fixture(scope="module")
def hive_run(tmp_path_factory) -> tuple[Path, list[dict]]:
    root = tmp_path_factory.mktemp("hive")
    script = root / "hive_tables.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(root)], cwd=root, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert done.returncode == 0, done.stderr[-4000:]
    return root, read_events(root / "events.ndjson")


def _run(events: list[dict], job: str) -> list[dict]:
    found = [e for e in events if e["job"]["name"] == f"{APP}.{job}"]
    assert found, f"no events for {job}: {sorted({e['job']['name'] for e in events})}"
    return found


def _lifecycle(event: dict) -> str | None:
    return event["outputs"][0]["facets"].get("lifecycleStateChange", {}).get("lifecycleStateChange")


def test_an_insert_into_a_hive_table_names_the_table_and_counts_the_rows(hive_run):
    root, events = hive_run
    run = _run(events, "execute_insert_into_hive_table.warehouse_plain")
    assert [e["eventType"] for e in run] == ["START", "RUNNING", "COMPLETE"]
    output = run[-1]["outputs"][0]
    assert (output["namespace"], output["name"]) == ("file", f"{root}/warehouse/plain")
    assert output["facets"]["symlinks"]["identifiers"] == [
        {"namespace": f"file:{root}/warehouse", "name": "default.plain", "type": "TABLE"}]
    catalog = output["facets"]["catalog"]
    assert (catalog["framework"], catalog["type"], catalog["name"], catalog["warehouseUri"]) == (
        "hive", "hive", "default", f"file:{root}/warehouse")
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 3
    assert run[0]["job"]["facets"]["sql"]["query"] == "INSERT INTO plain SELECT CAST(id AS INT) FROM range(3)"


def test_a_hive_ctas_is_a_create_run_and_its_insert_a_run_of_its_own(hive_run):
    root, events = hive_run
    ctas = _run(events, "execute_create_hive_table_as_select_command.default_copied")
    insert = _run(events, "execute_insert_into_hive_table.warehouse_copied")
    assert [e["eventType"] for e in ctas] == ["START", "COMPLETE"]
    assert _lifecycle(ctas[-1]) == "CREATE"
    assert [(i["name"], i["facets"]["symlinks"]["identifiers"][0]["name"]) for i in ctas[-1]["inputs"]] == [
        (f"{root}/warehouse/plain", "default.plain")]
    # the official listener gives the CTAS the rows its insert wrote
    assert ctas[-1]["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 3
    assert insert[-1]["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 3


def test_load_data_reads_the_file_into_the_table(hive_run):
    root, events = hive_run
    complete = _run(events, "execute_load_data_command.default_plain")[-1]
    assert [(i["namespace"], i["name"]) for i in complete["inputs"]] == [("file", f"{root}/rows.csv")]
    assert complete["outputs"][0]["name"] == f"{root}/warehouse/plain"
    assert _lifecycle(complete) is None


def test_table_ddl_reports_each_lifecycle_state(hive_run):
    root, events = hive_run
    table, renamed = f"{root}/warehouse/sales", f"{root}/warehouse/sales_v2"
    steps = [
        ("execute_create_table_command.warehouse_plain", f"{root}/warehouse/plain", "CREATE"),
        ("execute_create_data_source_table_command.default_sales", table, "CREATE"),
        ("execute_alter_table_add_columns_command.warehouse_sales", table, "ALTER"),
        ("execute_alter_table_rename_command.warehouse_sales_v2", renamed, "RENAME"),
        ("execute_truncate_table_command.warehouse_sales_v2", renamed, "TRUNCATE"),
        ("drop_table.warehouse_sales_v2", renamed, "DROP"),
    ]
    for job, location, state in steps:
        start, complete = _run(events, job)
        assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
        assert [o["name"] for o in complete["outputs"]] == [location], job
        assert _lifecycle(complete) == state, job
    altered = _run(events, "execute_alter_table_add_columns_command.warehouse_sales")[-1]
    assert [f["name"] for f in altered["outputs"][0]["facets"]["schema"]["fields"]] == ["id", "amount", "region"]
    rename = _run(events, "execute_alter_table_rename_command.warehouse_sales_v2")[-1]
    assert rename["outputs"][0]["facets"]["lifecycleStateChange"]["previousIdentifier"] == {
        "namespace": "file", "name": table}
    assert rename["outputs"][0]["facets"]["symlinks"]["identifiers"][0]["name"] == "default.sales_v2"
    dropped = _run(events, "drop_table.warehouse_sales_v2")[-1]["outputs"][0]
    assert [f["name"] for f in dropped["facets"]["schema"]["fields"]] == ["id", "amount", "region"]


@requires_spec
def test_every_hive_and_ddl_event_conforms_to_the_openlineage_spec(hive_run):
    _, events = hive_run
    custom = set()
    for event in events:
        custom.update(validate_event(event))
    assert custom == {"spark_properties", "spark_applicationDetails", "spark_jobDetails", "environment-properties"}
