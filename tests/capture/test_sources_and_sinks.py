"""Capture across the ways Spark reads and writes: file formats, catalog tables, JDBC, Delta.

Each test runs one write with capture installed and checks the events' datasets: their names, the
facets that depend on the kind of source or sink, and the column lineage across it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import functions as F

from lineage_audit.capture.listener import install
from lineage_audit.spark import DELTA_MISSING, delta_available
from tests.capture.spec import read_events, requires_spec, validate_event
from tests.lineage.harness import ID, TR, I

DERBY_URL = "jdbc:derby:memory:lineage_tests;create=true"


def _capture(spark, tmp_path: Path, action) -> list[dict]:
    """Run ``action`` with capture installed; the COMPLETE (or FAIL) events of its writes."""
    # Spark reports queries asynchronously: let the set-up's writes be reported before capture listens
    spark.sparkContext._jsc.sc().listenerBus().waitUntilEmpty(60_000)
    capture = install(spark, {
        "spark.openlineage.transport.type": "file",
        "spark.openlineage.transport.location": str(tmp_path / "events.ndjson"),
        "spark.openlineage.spool.dir": str(tmp_path / "spool"),
        "spark.openlineage.namespace": "tests",
    })
    try:
        action()
    finally:
        assert capture.flush(timeout=300)  # a Delta MERGE runs dozens of queries, each a py4j callback
        capture.close()
    events = read_events(tmp_path / "events.ndjson")
    return [e for e in events if e["eventType"] in ("COMPLETE", "FAIL") and e["job"]["name"].count(".") >= 2]


def _lineage(output: dict) -> dict:
    """Column lineage of one output: {column: {(dataset's last segment, field): {codes}}}."""
    def code(t):
        return f"{t['type']}/{t['subtype']}" + ("+masked" if t.get("masking") else "")
    fields = output["facets"]["columnLineage"]["fields"]
    return {col: {(f["name"].rsplit("/", 1)[-1], f["field"]): {code(t) for t in f["transformations"]}
                  for f in body["inputFields"]} for col, body in fields.items()}


@pytest.fixture
def people(spark, tmp_path) -> str:
    path = str(tmp_path / "people")
    spark.createDataFrame([(1, "ann", 34), (2, "bob", 19), (3, "cyd", 51)], "id INT, name STRING, age INT") \
        .write.parquet(path)
    return path


@pytest.fixture
def fresh_tables(spark):
    yield
    for row in spark.sql("SHOW TABLES IN default").collect():
        spark.sql(f"DROP TABLE IF EXISTS default.{row.tableName}")


def test_orc_in_and_orc_out(spark, tmp_path, people):
    source, target = str(tmp_path / "people_orc"), str(tmp_path / "adults_orc")
    spark.read.parquet(people).write.orc(source)
    [event] = _capture(spark, tmp_path, lambda: spark.read.orc(source).where("age >= 21")
                       .select("id", F.upper("name").alias("name")).write.mode("overwrite").orc(target))
    assert [(i["namespace"], i["name"]) for i in event["inputs"]] == [("file", source)]
    output = event["outputs"][0]
    assert (output["namespace"], output["name"]) == ("file", target)
    assert event["job"]["name"] == "lineage_audit_tests.execute_insert_into_hadoop_fs_relation_command." \
        f"{Path(target).parent.name}_adults_orc"
    assert _lineage(output) == {"id": {("people_orc", "id"): {ID}}, "name": {("people_orc", "name"): {TR}}}
    assert output["facets"]["columnLineage"]["dataset"][0]["transformations"][0]["subtype"] == "FILTER"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 2


def test_csv_json_and_text_inputs_are_named_by_their_paths(spark, tmp_path):
    csv, js, text = (tmp_path / "a.csv", tmp_path / "b.jsonl", tmp_path / "c.log")
    csv.write_text("id,city\n1,Oslo\n")
    js.write_text('{"id": 1, "score": 5}\n')
    text.write_text("1 hello\n")

    def action():
        a = spark.read.option("header", True).schema("id INT, city STRING").csv(str(csv))
        b = spark.read.schema("id INT, score INT").json(str(js))
        c = spark.read.text(str(text)).select(F.split("value", " ")[0].cast("int").alias("id"),
                                              F.split("value", " ")[1].alias("word"))
        a.join(b, "id").join(c, "id").write.mode("overwrite").json(str(tmp_path / "joined"))

    [event] = _capture(spark, tmp_path, action)
    assert sorted(i["name"] for i in event["inputs"]) == sorted(str(p) for p in (csv, js, text))
    assert _lineage(event["outputs"][0]) == {
        "id": {("a.csv", "id"): {ID}}, "city": {("a.csv", "city"): {ID}}, "score": {("b.jsonl", "score"): {ID}},
        "word": {("c.log", "value"): {TR}}}


def test_save_as_table_is_one_write_of_the_table_location_with_its_symlink(spark, tmp_path, people, fresh_tables):
    events = _capture(spark, tmp_path, lambda: spark.read.parquet(people).select("id", "name")
                      .write.mode("overwrite").saveAsTable("people_copy"))
    assert len(events) == 1, [e["job"]["name"] for e in events]
    # Named by its table, as the official listener names a CTAS's job; the dataset stays the location.
    # (The official one also reports the inner file write on its own, named by the path: ...warehouse_people_copy.)
    assert events[0]["job"]["name"] == \
        "lineage_audit_tests.execute_create_data_source_table_as_select_command.default_people_copy"
    output = events[0]["outputs"][0]
    warehouse = spark.conf.get("spark.sql.warehouse.dir")
    assert output["namespace"] == "file"
    assert output["name"] == str(Path(warehouse.removeprefix("file:")) / "people_copy")
    assert output["facets"]["symlinks"]["identifiers"] == [
        {"namespace": f"file:{Path(warehouse.removeprefix('file:'))}", "name": "default.people_copy", "type": "TABLE"}]
    assert output["facets"]["lifecycleStateChange"]["lifecycleStateChange"] == "CREATE"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 3, "the inner write's metrics"
    assert _lineage(output) == {"id": {("people", "id"): {ID}}, "name": {("people", "name"): {ID}}}


def test_insert_into_and_catalog_table_inputs(spark, tmp_path, people, fresh_tables):
    spark.sql("CREATE TABLE adults (id INT, name STRING) USING parquet")
    spark.read.parquet(people).write.saveAsTable("people_t")
    events = _capture(spark, tmp_path, lambda: spark.table("people_t").where("age >= 21")
                      .select("id", "name").write.insertInto("adults"))
    assert len(events) == 1, [(e["job"]["name"], [i["name"] for i in e["inputs"]]) for e in events]
    [event] = events
    [source] = event["inputs"]
    assert source["name"].endswith("/people_t")
    assert source["facets"]["symlinks"]["identifiers"][0]["name"] == "default.people_t"
    output = event["outputs"][0]
    assert output["name"].endswith("/adults")
    assert output["facets"]["symlinks"]["identifiers"][0]["name"] == "default.adults"
    assert "lifecycleStateChange" not in output["facets"], "an append changes no lifecycle state"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 2
    assert _lineage(output) == {"id": {("people_t", "id"): {ID}}, "name": {("people_t", "name"): {ID}}}


def test_sql_ctas_over_a_temp_view_and_a_cte(spark, tmp_path, people, fresh_tables):
    spark.read.parquet(people).createOrReplaceTempView("people_v")
    sql = ("CREATE TABLE age_bands USING parquet AS WITH banded AS ("
           "SELECT id, CASE WHEN age < 30 THEN 'young' ELSE 'other' END AS band FROM people_v) "
           "SELECT band, count(id) AS n FROM banded GROUP BY band")
    [event] = _capture(spark, tmp_path, lambda: spark.sql(sql))
    assert event["job"]["name"] == "lineage_audit_tests.execute_create_data_source_table_as_select_command.default_age_bands"
    output = event["outputs"][0]
    assert output["facets"]["symlinks"]["identifiers"][0]["name"] == "default.age_bands"
    assert output["facets"]["lifecycleStateChange"]["lifecycleStateChange"] == "CREATE"
    assert _lineage(output) == {"band": {("people", "age"): {I("CONDITIONAL")}},
                                "n": {("people", "id"): {"DIRECT/AGGREGATION+masked"}}}


def test_a_with_query_written_by_a_dataframe_writer_keeps_its_sql_text(spark, tmp_path, people):
    """The analyzer puts a WithCTE (with no origin) at the root: the text comes from the parsed nodes."""
    spark.read.parquet(people).createOrReplaceTempView("people_w")
    sql = "WITH old AS (SELECT id, age FROM people_w WHERE age > 30) SELECT a.id, b.age FROM old a JOIN old b ON a.id = b.id"
    [event] = _capture(spark, tmp_path, lambda: spark.sql(sql).write.mode("overwrite").parquet(str(tmp_path / "w")))
    assert event["job"]["facets"]["sql"]["query"] == sql


def test_jdbc_read_and_write(spark, tmp_path, people):
    props = {"driver": "org.apache.derby.jdbc.EmbeddedDriver"}
    spark.read.parquet(people).write.mode("overwrite").jdbc(DERBY_URL, "PEOPLE", properties=props)

    def action():
        spark.read.jdbc(DERBY_URL, "PEOPLE", properties=props).select(
            F.col("ID").alias("id"), (F.col("AGE") + 1).alias("next_age")
        ).write.mode("overwrite").jdbc(DERBY_URL, "NEXT_AGES", properties=props)

    [event] = _capture(spark, tmp_path, action)
    assert [(i["namespace"], i["name"]) for i in event["inputs"]] == [("derby:memory:lineage_tests", "PEOPLE")]
    output = event["outputs"][0]
    assert (output["namespace"], output["name"]) == ("derby:memory:lineage_tests", "NEXT_AGES")
    assert output["facets"]["dataSource"]["name"] == "derby:memory:lineage_tests"
    # Spark quotes the column names it creates, so Derby keeps them lower case
    assert _lineage(output) == {"id": {("PEOPLE", "id"): {ID}}, "next_age": {("PEOPLE", "age"): {TR}}}


def test_local_data_has_no_input_dataset(spark, tmp_path):
    [event] = _capture(spark, tmp_path, lambda: spark.createDataFrame([(1, "x")], "id INT, v STRING")
                       .write.mode("overwrite").parquet(str(tmp_path / "local")))
    assert event["inputs"] == []
    assert event["outputs"][0]["facets"]["columnLineage"]["fields"] == {}


def test_a_dataframe_rebuilt_from_an_rdd_reads_the_files_behind_it(spark, tmp_path, people):
    target = str(tmp_path / "from_rdd")
    [event] = _capture(spark, tmp_path, lambda: spark.read.parquet(people).rdd.map(lambda r: (r.id, r.age * 2))
                       .toDF(["id", "twice"]).write.mode("overwrite").parquet(target))
    # As the official listener reports it: the folder of the files the RDD scans, with its data source
    # alone (an RDD has no schema), and no column lineage through the Python function.
    assert [(i["namespace"], i["name"], sorted(i["facets"])) for i in event["inputs"]] == [
        ("file", people, ["dataSource"])]
    assert event["outputs"][0]["facets"]["columnLineage"]["fields"] == {}


def test_an_rdd_of_local_data_has_no_input_dataset(spark, tmp_path):
    [event] = _capture(spark, tmp_path, lambda: spark.sparkContext.parallelize([(1, "a")]).toDF(["k", "v"])
                       .write.mode("overwrite").parquet(str(tmp_path / "local_rdd")))
    assert event["inputs"] == []


def test_a_date_partition_folder_is_named_by_its_table(spark, tmp_path, people):
    table = tmp_path / "rdd_c"
    [written] = _capture(spark, tmp_path, lambda: spark.read.parquet(people).write.mode("overwrite")
                         .parquet(str(table / "20251030")))
    output = written["outputs"][0]
    assert (output["namespace"], output["name"]) == ("file", str(table))
    assert written["job"]["name"] == "lineage_audit_tests.execute_insert_into_hadoop_fs_relation_command." \
        f"{tmp_path.name}_rdd_c"
    assert output["outputFacets"]["subset"]["outputCondition"] == {
        "type": "location", "locations": [str(table / "20251030")]}
    (tmp_path / "read").mkdir()
    [read] = _capture(spark, tmp_path / "read", lambda: spark.read.parquet(str(table / "20251030"))
                      .select("id").write.mode("overwrite").parquet(str(tmp_path / "ids")))
    [source] = read["inputs"]
    assert source["name"] == str(table)
    assert source["inputFacets"]["subset"]["inputCondition"]["locations"] == [str(table / "20251030")]
    assert _lineage(read["outputs"][0]) == {"id": {("rdd_c", "id"): {ID}}}


def test_a_cached_dataframe_keeps_its_lineage(spark, tmp_path, people):
    cached = spark.read.parquet(people).select("id", (F.col("age") * 12).alias("months")).cache()
    cached.count()
    try:
        [event] = _capture(spark, tmp_path, lambda: cached.where("months > 300").write.mode("overwrite")
                           .parquet(str(tmp_path / "cached_out")))
    finally:
        cached.unpersist()
    assert _lineage(event["outputs"][0]) == {"id": {("people", "id"): {ID}}, "months": {("people", "age"): {TR}}}


@requires_spec
def test_events_of_every_sink_conform_to_the_spec(spark, tmp_path, people, fresh_tables):
    def action():
        df = spark.read.parquet(people)
        df.write.mode("overwrite").orc(str(tmp_path / "o"))
        df.write.mode("overwrite").saveAsTable("spec_t")
        df.write.insertInto("spec_t")
        df.write.mode("overwrite").jdbc(DERBY_URL, "SPEC_T", properties={"driver": "org.apache.derby.jdbc.EmbeddedDriver"})

    events = _capture(spark, tmp_path, action)
    assert len(events) == 4
    for event in events:
        assert set(validate_event(event)) <= {"spark_properties", "environment-properties"}


def test_delta_write_and_merge(spark, tmp_path, people):
    assert delta_available(spark), DELTA_MISSING
    from delta.tables import DeltaTable

    target = str(tmp_path / "people_delta")
    events = _capture(spark, tmp_path, lambda: spark.read.parquet(people).write.format("delta").save(target))
    assert events and events[0]["outputs"][0]["name"] == target
    # Delta's write command keeps no metrics: the rows come from the commit it made
    statistics = events[0]["outputs"][0]["outputFacets"]["outputStatistics"]
    assert statistics["rowCount"] == spark.read.parquet(people).count() and statistics["size"] > 0
    updates = spark.createDataFrame([(1, "ann b", 35)], "id INT, name STRING, age INT")
    (tmp_path / "merge").mkdir()
    merged = _capture(spark, tmp_path / "merge", lambda: DeltaTable.forPath(spark, target).alias("t")
                      .merge(updates.alias("u"), "t.id = u.id").whenMatchedUpdateAll().execute())
    assert any(e["outputs"][0]["name"] == target for e in merged)


def test_delta_merge_lineage_follows_every_clause_as_the_official_listener_does(spark, tmp_path):
    assert delta_available(spark), DELTA_MISSING
    from delta.tables import DeltaTable

    target, source = str(tmp_path / "master"), str(tmp_path / "incoming")
    spark.range(3).selectExpr("id", "id * 2 AS score").write.format("delta").save(target)
    spark.range(5).selectExpr("id", "id * 3 AS points").write.parquet(source)
    incoming = spark.read.parquet(source).selectExpr("id", "points + 1 AS score")
    merged = _capture(spark, tmp_path, lambda: DeltaTable.forPath(spark, target).alias("m")
                      .merge(incoming.alias("i"), "m.id = i.id")
                      .whenMatchedUpdate(condition="i.score > m.score", set={"score": "i.score"})
                      .whenNotMatchedInsertAll().execute())
    (event,) = [e for e in merged if e["eventType"] == "COMPLETE"]
    assert event["job"]["name"].endswith(".execute_merge_into_command." + "_".join(target.split("/")[-2:]))
    assert {i["name"] for i in event["inputs"]} == {target, source}
    output = event["outputs"][0]
    # an update leaves id alone (the target's own id), an insert takes the source's; score comes from the source
    assert _lineage(output) == {
        "id": {("master", "id"): {ID}, ("incoming", "id"): {ID}},
        "score": {("incoming", "points"): {TR}},
    }
    # 3 target rows, all matched and updated (rewritten), plus 2 inserted
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 5
    assert set(validate_event(event)) <= {"spark_properties", "environment-properties"}


def _described(fields: list[dict]) -> dict:
    """A schema facet's fields as {name: type}, or {name: (type, {nested fields})}."""
    return {f["name"]: (f["type"], _described(f["fields"])) if f.get("fields") else f["type"] for f in fields}


def test_nested_types_and_ml_vectors_are_described_as_the_official_listener_describes_them(spark, tmp_path):
    from pyspark.ml.linalg import Matrices, MatrixUDT, Vectors, VectorUDT
    from pyspark.sql.types import ArrayType, IntegerType, MapType, StringType, StructField, StructType

    person = StructType([StructField("name", StringType()), StructField("age", IntegerType())])
    schema = StructType([
        StructField("tags", ArrayType(StringType())), StructField("counts", MapType(StringType(), IntegerType())),
        StructField("grid", ArrayType(ArrayType(IntegerType()))), StructField("people", ArrayType(person)),
        StructField("features", VectorUDT()), StructField("coefficients", MatrixUDT()),
    ])
    rows = [(["a"], {"k": 1}, [[1]], [("ann", 34)], Vectors.dense([1.0, 2.0]), Matrices.dense(1, 1, [1.0]))]
    [event] = _capture(spark, tmp_path, lambda: spark.createDataFrame(rows, schema)
                       .write.parquet(str(tmp_path / "typed")))
    assert _described(event["outputs"][0]["facets"]["schema"]["fields"]) == {
        "tags": ("array", {"_element": "string"}),
        "counts": ("map", {"key": "string", "value": "integer"}),
        "grid": ("array", {"_element": ("array", {"_element": "integer"})}),
        "people": ("array", {"_element": ("struct", {"name": "string", "age": "integer"})}),
        "features": "vector",  # VectorUDT, as Spark's typeName says
        "coefficients": "matrix",
    }


def test_a_ctas_reported_once_the_default_session_is_gone_keeps_its_database_location(spark, tmp_path, people,
                                                                                        fresh_tables):
    # spark.stop() clears the default session while Spark still reports the last queries (a CTAS comes
    # after its inner write): the symlink's namespace is asked of the query's own session.
    spark.read.parquet(people).createOrReplaceTempView("people_v")
    sessions = spark._jvm.org.apache.spark.sql.SparkSession
    sessions.clearDefaultSession()
    try:
        [event] = _capture(spark, tmp_path, lambda: spark.sql(
            "CREATE TABLE adults_ctas USING parquet AS SELECT id FROM people_v WHERE age >= 21"))
    finally:
        sessions.setDefaultSession(spark._jsparkSession)
    warehouse = Path(spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:"))
    assert event["outputs"][0]["facets"]["symlinks"]["identifiers"] == [
        {"namespace": f"file:{warehouse}", "name": "default.adults_ctas", "type": "TABLE"}]


def test_the_remove_path_pattern_names_a_write_after_its_folder_and_the_job_after_the_full_path(
        spark, tmp_path, people):
    """spark.openlineage.dataset.removePath.pattern (spark-defaults.conf cuts a saved model's /model_card):
    the dataset is the model folder, the job name keeps the written path, and no subset facet is made
    (only the partition trimmers make one), as with the official listener."""
    model = tmp_path / "trained_model"
    [written] = _capture(spark, tmp_path, lambda: spark.read.parquet(people).write.mode("overwrite")
                         .parquet(str(model / "model_card")))
    output = written["outputs"][0]
    assert (output["namespace"], output["name"]) == ("file", str(model))
    assert written["job"]["name"].endswith(".trained_model_model_card")
    assert "subset" not in output["outputFacets"]


def test_work_done_with_capture_paused_is_not_captured_and_capture_resumes_after(spark, tmp_path, people):
    from lineage_audit.capture.pause import capture_paused

    def work():
        with capture_paused(spark):
            spark.read.parquet(people).write.mode("overwrite").parquet(str(tmp_path / "hidden"))
        spark.read.parquet(people).write.mode("overwrite").parquet(str(tmp_path / "shown"))

    written = _capture(spark, tmp_path, work)
    assert [e["outputs"][0]["name"] for e in written] == [str(tmp_path / "shown")]
