"""Tests of jobs/data_lake_ingestion.py: every transform on inline rows, then the whole job."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from decimal import Decimal

from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from jobs import data_lake_ingestion as job
from lineage_audit.tables import read_table

REJECTS_SCHEMA = StructType([StructField("reject_reason", StringType()), StructField("raw_record", StringType())])
ENVELOPE_SCHEMA = StructType([
    StructField("source", StringType(), False),
    StructField("record_id", StringType()),
    StructField("event_ts", TimestampType()),
    StructField("ingest_date", DateType()),
    StructField("payload", StringType()),
    StructField("record_hash", StringType()),
])
STRUCTURED_SCHEMA = StructType([
    StructField("source", StringType()),
    StructField("record_id", StringType()),
    StructField("event_ts", TimestampType()),
    StructField("attribute", StringType()),
    StructField("position", IntegerType()),
    StructField("value_double", DoubleType()),
    StructField("value_string", StringType()),
    StructField("unit", StringType()),
])


def utc(*parts: int) -> datetime:
    """A UTC-aware timestamp: PySpark would read a naive one in the local time zone."""
    return datetime(*parts, tzinfo=timezone.utc)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def envelope_row(source, record_id, ts, payload):
    return (source, record_id, ts, ts.date() if ts else None, payload, sha(payload))


def api_responses(spark):
    readings = [{"metric": "Temperature ", "value": 5.41, "unit": "C"}, {"metric": "humidity", "value": 47.3, "unit": "%"}]
    rows = [
        ("R1", "/v2/weather/current", utc(2026, 1, 1, 0, 32, 57), 200, {"city": "Zurich", "country": "CH", "readings": readings}),
        ("R2", "/v2/weather/current", utc(2026, 1, 2, 23, 59, 59), 503,
         {"city": "Osaka", "country": "JP", "readings": [{"metric": "wind_speed", "value": 2.6, "unit": "m/s"}]}),
        ("R3", "/v2/weather/current", utc(2026, 1, 3, 8, 0, 0), 200, {"city": "Lyon", "country": "FR", "readings": []}),
    ]
    return spark.createDataFrame(rows, job.EXTERNAL_API_SCHEMA)


def social_posts(spark):
    rows = [
        ("SM1", "twitter", utc(2026, 1, 1, 0, 41, 54), "en", "post 0 #AI #news", ["#AI", "#news"], ["@user47"],
         {"handle": "@user165", "followers": 10, "verified": False}, {"likes": 18, "shares": 3, "comments": 5}),
        ("SM2", "reddit", utc(2026, 1, 5, 12, 0, 0), None, "post 1", [], [],
         {"handle": "@user29", "followers": 20, "verified": True}, {"likes": 1, "shares": 0, "comments": 0}),
        ("SM3", "mastodon", utc(2026, 1, 6, 9, 30, 0), "de", "post 2 #food", ["#food"], None,
         {"handle": "@user120", "followers": 30, "verified": False}, {"likes": 2, "shares": 1, "comments": 1}),
    ]
    return spark.createDataFrame(rows, job.SOCIAL_MEDIA_SCHEMA)


def test_parse_log_lines_extracts_fields_and_rejects_the_rest(spark):
    ok_line = "2026-01-01 00:44:49,414 INFO [web-01] com.shop.CheckoutService - request 00000006 handled in 260 ms"
    error_line = ("2026-01-02 10:00:00,005 ERROR [web-02] com.shop.PaymentGateway - "
                  "request 00000007 failed: upstream timeout after 1200 ms")
    no_request = "2026-01-03 08:00:00,000 WARN [web-03] com.shop.AuthService - cache warmup"
    stack = "    at com.shop.PaymentGateway.call(PaymentGateway.java:42)"
    garbage = "\x00\x00 ### truncated write ###"
    lines = spark.createDataFrame([(x,) for x in (ok_line, error_line, no_request, stack, garbage)], "value string")

    parsed, rejected = job.parse_log_lines(lines)

    expected = spark.createDataFrame([
        ("REQ00000006", utc(2026, 1, 1, 0, 44, 49, 414000), "INFO", "web-01", "com.shop.CheckoutService",
         "CheckoutService", "request 00000006 handled in 260 ms", 260, False),
        ("REQ00000007", utc(2026, 1, 2, 10, 0, 0, 5000), "ERROR", "web-02", "com.shop.PaymentGateway",
         "PaymentGateway", "request 00000007 failed: upstream timeout after 1200 ms", 1200, True),
        (sha(no_request)[:16], utc(2026, 1, 3, 8, 0, 0), "WARN", "web-03", "com.shop.AuthService",
         "AuthService", "cache warmup", None, False),
    ], "log_id string, logged_at timestamp, level string, host string, logger string, service string, "
       "message string, latency_ms int, is_failure boolean")
    assert_df_equality(parsed, expected, ignore_row_order=True, ignore_nullable=True)
    expected_rejects = spark.createDataFrame(
        [("stack-trace continuation line", stack), ("unparseable log line", garbage)], REJECTS_SCHEMA)
    assert_df_equality(rejected, expected_rejects, ignore_row_order=True, ignore_nullable=True)


def test_drop_implausible_readings_keeps_nulls_and_quarantines_outliers(spark):
    rows = [
        ("S0001", "plant-north", utc(2026, 1, 1, 0, 0, 0), 17.5, 40.0, 1013.0, 3.9),
        ("S0002", "plant-south", utc(2026, 1, 1, 1, 0, 0), None, 41.0, 1012.0, 3.8),
        ("S0003", "warehouse-1", utc(2026, 1, 1, 2, 0, 0), 999.0, None, 1011.0, 3.7),
        ("S0004", "warehouse-2", utc(2026, 1, 1, 3, 0, 0), -60.0, 10.0, 1010.0, 3.6),
        ("S0005", "warehouse-2", utc(2026, 1, 1, 4, 0, 0), -75.25, 10.0, 1010.0, 3.6),
    ]
    sensors = spark.createDataFrame(rows, job.SENSOR_SCHEMA)

    kept, rejected = job.drop_implausible_readings(sensors, min_temperature_c=-60.0, max_temperature_c=80.0)

    expected_kept = spark.createDataFrame([rows[0], rows[1], rows[3]], job.SENSOR_SCHEMA)
    assert_df_equality(kept, expected_kept, ignore_row_order=True, ignore_nullable=True)
    expected_rejects = spark.createDataFrame([
        ("implausible temperature_c 999.00 outside [-60.0, 80.0]",
         '{"sensor_id":"S0003","site":"warehouse-1","reading_ts":"2026-01-01T02:00:00.000Z","temperature_c":999.0,'
         '"pressure_hpa":1011.0,"battery_v":3.7}'),
        ("implausible temperature_c -75.25 outside [-60.0, 80.0]",
         '{"sensor_id":"S0005","site":"warehouse-2","reading_ts":"2026-01-01T04:00:00.000Z","temperature_c":-75.25,'
         '"humidity_pct":10.0,"pressure_hpa":1010.0,"battery_v":3.6}'),
    ], REJECTS_SCHEMA)
    assert_df_equality(rejected, expected_rejects, ignore_row_order=True, ignore_nullable=True)


def test_api_to_envelope_keeps_nested_readings_in_the_payload(spark):
    result = job.api_to_envelope(api_responses(spark))

    p1 = ('{"endpoint":"/v2/weather/current","status_code":200,"is_success":true,"city":"Zurich","country":"CH",'
          '"readings":[{"metric":"Temperature ","value":5.41,"unit":"C"},{"metric":"humidity","value":47.3,"unit":"%"}]}')
    p2 = ('{"endpoint":"/v2/weather/current","status_code":503,"is_success":false,"city":"Osaka","country":"JP",'
          '"readings":[{"metric":"wind_speed","value":2.6,"unit":"m/s"}]}')
    p3 = ('{"endpoint":"/v2/weather/current","status_code":200,"is_success":true,"city":"Lyon","country":"FR",'
          '"readings":[]}')
    expected = spark.createDataFrame([
        envelope_row("external_api_data", "R1", utc(2026, 1, 1, 0, 32, 57), p1),
        envelope_row("external_api_data", "R2", utc(2026, 1, 2, 23, 59, 59), p2),
        envelope_row("external_api_data", "R3", utc(2026, 1, 3, 8, 0, 0), p3),
    ], ENVELOPE_SCHEMA)
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_logs_to_envelope(spark):
    entries = spark.createDataFrame([
        ("REQ00000006", utc(2026, 1, 1, 0, 44, 49, 414000), "INFO", "web-01", "com.shop.CheckoutService",
         "CheckoutService", "request 00000006 handled in 260 ms", 260, False),
        ("abc", utc(2026, 1, 3, 8, 0, 0), "WARN", "web-03", "com.shop.AuthService", "AuthService",
         "cache warmup", None, False),
    ], "log_id string, logged_at timestamp, level string, host string, logger string, service string, "
       "message string, latency_ms int, is_failure boolean")

    result = job.logs_to_envelope(entries)

    p1 = ('{"host":"web-01","level":"INFO","logger":"com.shop.CheckoutService","service":"CheckoutService",'
          '"message":"request 00000006 handled in 260 ms","latency_ms":260,"is_failure":false}')
    p2 = ('{"host":"web-03","level":"WARN","logger":"com.shop.AuthService","service":"AuthService",'
          '"message":"cache warmup","is_failure":false}')
    expected = spark.createDataFrame([
        envelope_row("log_files", "REQ00000006", utc(2026, 1, 1, 0, 44, 49, 414000), p1),
        envelope_row("log_files", "abc", utc(2026, 1, 3, 8, 0, 0), p2),
    ], ENVELOPE_SCHEMA)
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_sensors_to_envelope_builds_id_from_sensor_and_time(spark):
    sensors = spark.createDataFrame([
        ("S0001", "plant-north", utc(2026, 1, 1, 0, 11, 55), 17.53, 19.4, 998.4, 2.9),
        ("S0002", "plant-south", utc(2026, 2, 28, 23, 0, 1), None, None, 1004.1, 3.86),
    ], job.SENSOR_SCHEMA)

    result = job.sensors_to_envelope(sensors)

    p1 = ('{"sensor_id":"S0001","site":"plant-north","temperature_c":17.53,"humidity_pct":19.4,'
          '"pressure_hpa":998.4,"battery_v":2.9}')
    p2 = '{"sensor_id":"S0002","site":"plant-south","pressure_hpa":1004.1,"battery_v":3.86}'
    expected = spark.createDataFrame([
        envelope_row("sensor_data", "S0001@20260101T001155", utc(2026, 1, 1, 0, 11, 55), p1),
        envelope_row("sensor_data", "S0002@20260228T230001", utc(2026, 2, 28, 23, 0, 1), p2),
    ], ENVELOPE_SCHEMA)
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_social_to_envelope_flattens_author_and_sums_engagement(spark):
    result = job.social_to_envelope(social_posts(spark))

    p1 = ('{"platform":"twitter","lang":"en","text":"post 0 #AI #news","hashtags":["#AI","#news"],'
          '"mentions":["@user47"],"author_handle":"@user165","author_followers":10,"author_verified":false,'
          '"engagement":26,"metrics":{"likes":18,"shares":3,"comments":5}}')
    p2 = ('{"platform":"reddit","text":"post 1","hashtags":[],"mentions":[],"author_handle":"@user29",'
          '"author_followers":20,"author_verified":true,"engagement":1,"metrics":{"likes":1,"shares":0,"comments":0}}')
    p3 = ('{"platform":"mastodon","lang":"de","text":"post 2 #food","hashtags":["#food"],"author_handle":"@user120",'
          '"author_followers":30,"author_verified":false,"engagement":4,"metrics":{"likes":2,"shares":1,"comments":1}}')
    expected = spark.createDataFrame([
        envelope_row("social_media_feeds", "SM1", utc(2026, 1, 1, 0, 41, 54), p1),
        envelope_row("social_media_feeds", "SM2", utc(2026, 1, 5, 12, 0, 0), p2),
        envelope_row("social_media_feeds", "SM3", utc(2026, 1, 6, 9, 30, 0), p3),
    ], ENVELOPE_SCHEMA)
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_explode_api_readings_gives_one_row_per_reading(spark):
    result = job.explode_api_readings(api_responses(spark))

    expected = spark.createDataFrame([
        ("external_api_data", "R1", utc(2026, 1, 1, 0, 32, 57), "temperature", None, 5.41, None, "C"),
        ("external_api_data", "R1", utc(2026, 1, 1, 0, 32, 57), "humidity", None, 47.3, None, "%"),
        ("external_api_data", "R2", utc(2026, 1, 2, 23, 59, 59), "wind_speed", None, 2.6, None, "m/s"),
    ], STRUCTURED_SCHEMA)
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_explode_post_hashtags_keeps_positions(spark):
    result = job.explode_post_hashtags(social_posts(spark))

    expected = spark.createDataFrame([
        ("social_media_feeds", "SM1", utc(2026, 1, 1, 0, 41, 54), "hashtag", 0, None, "ai", None),
        ("social_media_feeds", "SM1", utc(2026, 1, 1, 0, 41, 54), "hashtag", 1, None, "news", None),
        ("social_media_feeds", "SM3", utc(2026, 1, 6, 9, 30, 0), "hashtag", 0, None, "food", None),
    ], STRUCTURED_SCHEMA)
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def small_lake(spark):
    return spark.createDataFrame([
        ("log_files", "a", utc(2026, 1, 1, 5, 0), date(2026, 1, 1), '{"x":1}', "h1"),
        ("log_files", "b", utc(2026, 1, 3, 7, 0), date(2026, 1, 3), '{"x":"é"}', "h2"),
        ("log_files", "c", utc(2026, 1, 3, 9, 0), date(2026, 1, 3), "{}", "h3"),
        ("sensor_data", "d", utc(2026, 2, 1, 0, 0), date(2026, 2, 1), '{"t":2.5}', "h4"),
    ], ENVELOPE_SCHEMA)


def small_rejects(spark):
    return spark.createDataFrame([
        ("log_files", "unparseable log line", "###"),
        ("sensor_data", "malformed record", "S1,,"),
        ("sensor_data", "implausible temperature_c 999.00 outside [-60.0, 80.0]", "{}"),
        ("social_media_feeds", "malformed record", "{"),
    ], "source string, reject_reason string, raw_record string")


def test_summarise_lake_counts_per_source(spark):
    result = job.summarise_lake(small_lake(spark), small_rejects(spark))

    expected = spark.createDataFrame([
        ("log_files", 3, 1, utc(2026, 1, 1, 5, 0), utc(2026, 1, 3, 9, 0), 2, 7 + 10 + 2),
        ("sensor_data", 1, 2, utc(2026, 2, 1), utc(2026, 2, 1), 1, 9),
        ("social_media_feeds", 0, 1, None, None, 0, 0),
    ], "source string, record_count long, rejected_count long, min_event_ts timestamp, max_event_ts timestamp, "
       "distinct_partitions long, payload_bytes long")
    assert_df_equality(result.drop("ingested_at"), expected, ignore_row_order=True, ignore_nullable=True)
    assert dict(result.dtypes)["ingested_at"] == "timestamp"
    assert result.where(F.col("ingested_at").isNull()).count() == 0


def test_track_lineage_reconciles_and_checksums(spark):
    lines = spark.createDataFrame(
        [("log_files",)] * 4 + [("sensor_data",)] * 2 + [("social_media_feeds",)], "source string")
    paths = {"log_files": "/in/log_files", "sensor_data": "/in/sensor.csv", "social_media_feeds": "/in/social.jsonl"}

    result = job.track_lineage(small_lake(spark), lines, small_rejects(spark),
                               input_paths=paths, target_table="raw_data_lake")

    # xxhash64 (seed 42) of "h1", "h2", "h3" and "h4", summed per source.
    xx = {"h1": -3734023771215069332, "h2": 1826245872171447616, "h3": 413700435598886747,
          "h4": -985746799540460138}
    expected = spark.createDataFrame([
        ("log_files", "/in/log_files", "raw_data_lake", 4, 3, 1, True, 3,
         Decimal(xx["h1"] + xx["h2"] + xx["h3"]), sha("h1h2h3")),
        ("sensor_data", "/in/sensor.csv", "raw_data_lake", 2, 1, 2, False, 1, Decimal(xx["h4"]), sha("h4")),
        ("social_media_feeds", "/in/social.jsonl", "raw_data_lake", 1, 0, 1, True, 0, Decimal(0), None),
    ], StructType([
        StructField("input_table", StringType()), StructField("input_path", StringType()),
        StructField("target_table", StringType()), StructField("records_in", LongType()),
        StructField("records_out", LongType()), StructField("records_rejected", LongType()),
        StructField("is_reconciled", BooleanType()), StructField("hash_count", LongType()),
        StructField("xxhash64_sum", DecimalType(30, 0)), StructField("hash_digest", StringType()),
    ]))
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def _read_output(spark, catalog, table):
    return read_table(spark, catalog.output(table))


def test_execute_writes_reconciled_outputs(spark, pipeline_catalog, job_summary):
    summary = job_summary("data_lake_ingestion")
    assert summary.status == "ok"

    lake = _read_output(spark, pipeline_catalog, "raw_data_lake")
    assert lake.dtypes == [
        ("record_id", "string"), ("event_ts", "timestamp"), ("payload", "string"), ("record_hash", "string"),
        ("source", "string"), ("ingest_date", "date"),
    ]
    assert lake.groupBy("source", "record_id").count().where("count > 1").count() == 0
    assert lake.where(F.col("ingest_date") != F.to_date("event_ts")).count() == 0
    assert lake.where(F.col("record_hash") != F.sha2("payload", 256)).count() == 0

    landed = {r["source"]: r["count"] for r in lake.groupBy("source").count().collect()}
    for source in job.SOURCES:
        spec = pipeline_catalog.table(source)
        if spec.job:  # order_summary, the orders job's output: archived whole, nothing rejected
            assert spark.read.parquet(spec.path).count() == landed[source] > 0
            continue
        lines = spark.read.text(spec.path).count() - (1 if spec.format == "csv" else 0)
        rejects = spark.read.parquet(pipeline_catalog.rejects(source).path)
        assert lines == landed[source] + rejects.count(), source
        assert rejects.where(F.col("reject_reason").isNull() | F.col("raw_record").isNull()).count() == 0
    log_reasons = {r["reject_reason"] for r in spark.read.parquet(pipeline_catalog.rejects("log_files").path).collect()}
    assert log_reasons == {"stack-trace continuation line", "unparseable log line"}
    sensor_rejects = spark.read.parquet(pipeline_catalog.rejects("sensor_data").path)
    assert sensor_rejects.where(F.col("reject_reason").startswith("implausible temperature_c 999.00")).count() > 0

    structured = _read_output(spark, pipeline_catalog, "structured_data_lake")
    assert structured.dtypes == [(f.name, f.dataType.simpleString()) for f in STRUCTURED_SCHEMA.fields]
    assert set(r["attribute"] for r in structured.select("attribute").distinct().collect()) == {
        "temperature", "humidity", "wind_speed", "hashtag"}
    assert structured.where("attribute = 'hashtag'").groupBy("record_id", "position").count() \
        .where("count > 1").count() == 0

    metadata = _read_output(spark, pipeline_catalog, "data_lake_metadata")
    assert metadata.dtypes == [
        ("source", "string"), ("record_count", "bigint"), ("rejected_count", "bigint"),
        ("min_event_ts", "timestamp"), ("max_event_ts", "timestamp"), ("distinct_partitions", "bigint"),
        ("payload_bytes", "bigint"), ("ingested_at", "timestamp"),
    ]
    meta = {r["source"]: r for r in metadata.collect()}
    assert sorted(meta) == sorted(job.SOURCES)
    assert {s: meta[s]["record_count"] for s in job.SOURCES} == landed

    tracking = _read_output(spark, pipeline_catalog, "data_lineage_tracking")
    assert tracking.dtypes == [
        ("input_table", "string"), ("input_path", "string"), ("target_table", "string"), ("records_in", "bigint"),
        ("records_out", "bigint"), ("records_rejected", "bigint"), ("is_reconciled", "boolean"),
        ("hash_count", "bigint"), ("xxhash64_sum", "decimal(30,0)"), ("hash_digest", "string"),
    ]
    rows = {r["input_table"]: r for r in tracking.collect()}
    assert sorted(rows) == sorted(job.SOURCES)
    for source, row in rows.items():
        assert row["input_path"] == pipeline_catalog.table(source).path
        assert row["is_reconciled"] and row["records_out"] == landed[source]
        assert row["records_rejected"] == meta[source]["rejected_count"]
