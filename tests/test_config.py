"""Configuration: table catalog, formats, Spark defaults, and the errors users see."""

from __future__ import annotations


import pytest

from lineage_audit.config import PROJECT_ROOT, ConfigError, load_catalog
from lineage_audit.job import JobRun
from lineage_audit.spark import DELTA_MISSING, default_properties, delta_available, parse_properties
from lineage_audit.tables import as_rejects, split_corrupt


def test_paths_are_resolved_under_the_data_dir(tmp_path):
    catalog = load_catalog(data_dir=tmp_path)
    assert catalog.input("raw_orders").path == str(tmp_path / "inputs/raw_orders.jsonl")
    assert catalog.input("raw_orders").format == "json"
    assert catalog.output("raw_data_lake").partition_by == ("source", "ingest_date")
    assert catalog.rejects("raw_orders").path == str(tmp_path / "rejects/raw_orders")


def test_environment_chooses_data_dir_and_format(tmp_path, monkeypatch):
    monkeypatch.setenv("LINEAGE_AUDIT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LINEAGE_AUDIT_TABLE_FORMAT", "delta")
    catalog = load_catalog()
    assert catalog.output("order_summary").path.startswith(str(tmp_path))
    assert catalog.output("order_summary").format == "delta"
    assert catalog.output("trained_model").format == "mlmodel"
    assert catalog.output("customer_master").format == "delta"  # the customers job MERGEs into it


def test_every_output_names_the_job_writing_it_and_a_job_reads_it_like_an_input(tmp_path):
    from lineage_audit.runner import JOBS

    catalog = load_catalog(data_dir=tmp_path, table_format="parquet")
    assert {spec.format for spec in catalog.outputs.values()} == {"parquet", "mlmodel"}
    assert {spec.job for spec in catalog.outputs.values()} == set(JOBS)
    assert all(spec.job is None for spec in catalog.inputs.values())
    assert catalog.table("customer_master") == catalog.output("customer_master")
    assert catalog.table("raw_orders") == catalog.input("raw_orders")
    with pytest.raises(ConfigError, match="no input or output table named 'nope'"):
        catalog.table("nope")


def test_unknown_format_and_table_are_named_in_the_error(tmp_path):
    with pytest.raises(ConfigError, match="'orc'"):
        load_catalog(data_dir=tmp_path, table_format="orc")
    with pytest.raises(ConfigError, match="no input table named 'nope'"):
        load_catalog(data_dir=tmp_path).input("nope")


def test_broken_conf_file_is_reported_with_its_path(tmp_path, monkeypatch):
    (tmp_path / "tables.yml").write_text("inputs: [unclosed")
    monkeypatch.setenv("LINEAGE_AUDIT_CONF_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="tables.yml is not valid YAML"):
        load_catalog()


def test_spark_defaults_file_is_parsed_and_log4j_made_absolute():
    assert parse_properties("a.b   1\n\n# x\nc\td e\n") == {"a.b": "1", "c": "d e"}
    props = default_properties()
    assert props["spark.master"].startswith("local")
    assert props["spark.sql.adaptive.enabled"] == "true"
    option = props["spark.driver.extraJavaOptions"]
    assert f"-Dlog4j2.configurationFile={PROJECT_ROOT / 'conf/log4j2.properties'}" in option
    assert props["spark.extraListeners"] == "io.openlineage.spark.agent.OpenLineageSparkListener"
    assert props["spark.openlineage.transport.url"].startswith("http://127.0.0.1:")  # the tests point it elsewhere


def test_missing_input_names_the_table_and_the_command(spark, tmp_path, capsys):
    catalog = load_catalog(data_dir=tmp_path)
    with JobRun("probe", spark=spark, catalog=catalog) as run:
        run.read("product_catalog")
    assert run.exit_code == 2
    err = capsys.readouterr().err
    assert "input table 'product_catalog' not found" in err and "make data" in err


def test_malformed_lines_become_rejects(spark, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,amount\n1,2.5\nbroken;line\n3,x\n")
    df = spark.read.schema("id INT, amount DOUBLE, _corrupt_record STRING").options(
        header=True, mode="PERMISSIVE", columnNameOfCorruptRecord="_corrupt_record").csv(str(path))
    parsed, rejects = split_corrupt(df)
    assert [tuple(r) for r in parsed.collect()] == [(1, 2.5)]
    assert sorted(tuple(r) for r in rejects.collect()) == [
        ("malformed record", "3,x"), ("malformed record", "broken;line")]


def test_as_rejects_keeps_the_whole_record_as_json(spark):
    df = spark.createDataFrame([("O1", -3.0)], "order_id STRING, unit_price DOUBLE")
    row = as_rejects(df, "negative unit_price").collect()[0]
    assert row.reject_reason == "negative unit_price"
    assert row.raw_record == '{"order_id":"O1","unit_price":-3.0}'


def test_delta_is_on_in_the_test_session(spark):
    assert delta_available(spark), DELTA_MISSING
    assert spark.conf.get("spark.sql.extensions") == "io.delta.sql.DeltaSparkSessionExtension"
