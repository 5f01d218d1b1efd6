"""Data lake ingestion: land four semi-structured feeds and the order summary in one raw lake, audit it.

Inputs: external_api_data (JSON lines: weather responses with a nested ``payload.readings`` array),
log_files (plain text application logs, parsed with regular expressions), sensor_data (CSV IoT
readings), social_media_feeds (JSON lines with a nested author, metrics and hashtag/mention arrays)
and order_summary, the orders job's daily figures per customer, which the lake archives beside the
feeds (one record per customer and order day).

Outputs:

* raw_data_lake -- every accepted record of the five sources in one envelope: ``source`` (the input
  table name), ``record_id``, ``event_ts``, ``ingest_date`` (date of event_ts), ``payload`` (the
  record's remaining fields as JSON text) and ``record_hash`` (SHA-256 of payload); partitioned by
  source and ingest_date.
* structured_data_lake -- the nested arrays flattened to one long schema: ``source``, ``record_id``,
  ``event_ts``, ``attribute``, ``position``, ``value_double``, ``value_string``, ``unit``. One row
  per API reading (attribute = metric, value_double = value, unit; position is null because the
  metric names the reading) and one row per hashtag of a post (attribute = 'hashtag', position =
  0-based index in the post, value_string = the tag lower-cased without '#').
* data_lake_metadata -- per source: records, rejects, event time range, distinct ingest_date
  partitions, payload bytes and the ingestion time.
* data_lineage_tracking -- per source: input table and path, target table, lines in, records out,
  rejects, whether they reconcile, and record_hash checksums (count, xxhash64 sum, SHA-256 digest
  of the sorted hashes) for later audits.

Rejected (quarantined per input): malformed JSON/CSV lines, log lines that do not match the log
format (stack-trace continuations and garbage), and sensor temperatures outside the range in
conf/jobs.yml. Null sensor readings are kept. Lines in = raw_data_lake rows + rejects, per input.
"""

from __future__ import annotations

import sys
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from lineage_audit.config import job_settings
from lineage_audit.job import JobRun
from lineage_audit.tables import REJECT_COLUMNS, as_rejects, split_corrupt

SOURCES = ("external_api_data", "log_files", "sensor_data", "social_media_feeds", "order_summary")
RAW_LAKE = "raw_data_lake"

READING_SCHEMA = StructType([
    StructField("metric", StringType()),
    StructField("value", DoubleType()),
    StructField("unit", StringType()),
])
EXTERNAL_API_SCHEMA = StructType([
    StructField("request_id", StringType()),
    StructField("endpoint", StringType()),
    StructField("fetched_at", TimestampType()),
    StructField("status_code", IntegerType()),
    StructField("payload", StructType([
        StructField("city", StringType()),
        StructField("country", StringType()),
        StructField("readings", ArrayType(READING_SCHEMA)),
    ])),
])
SENSOR_SCHEMA = StructType([
    StructField("sensor_id", StringType()),
    StructField("site", StringType()),
    StructField("reading_ts", TimestampType()),
    StructField("temperature_c", DoubleType()),
    StructField("humidity_pct", DoubleType()),
    StructField("pressure_hpa", DoubleType()),
    StructField("battery_v", DoubleType()),
])
SOCIAL_MEDIA_SCHEMA = StructType([
    StructField("post_id", StringType()),
    StructField("platform", StringType()),
    StructField("posted_at", TimestampType()),
    StructField("lang", StringType()),
    StructField("text", StringType()),
    StructField("hashtags", ArrayType(StringType())),
    StructField("mentions", ArrayType(StringType())),
    StructField("author", StructType([
        StructField("handle", StringType()),
        StructField("followers", LongType()),
        StructField("verified", BooleanType()),
    ])),
    StructField("metrics", StructType([
        StructField("likes", LongType()),
        StructField("shares", LongType()),
        StructField("comments", LongType()),
    ])),
])

# "2026-01-01 00:44:49,414 INFO [web-01] com.shop.CheckoutService - request 00000006 handled in 260 ms"
LOG_LINE_PATTERN = r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) ([A-Z]+) \[([\w.-]+)\] ([\w.$]+) - (.*)$"
LOG_TS_FORMAT = "yyyy-MM-dd HH:mm:ss,SSS"
STACK_TRACE_PATTERN = r"^\s+at "


def _envelope(source: str, record_id: Column, event_ts: Column, payload: Column) -> list[Column]:
    """The common raw-lake columns; the hash is taken over the JSON text actually stored."""
    payload_json = F.to_json(payload)
    return [
        F.lit(source).alias("source"),
        record_id.alias("record_id"),
        event_ts.alias("event_ts"),
        F.to_date(event_ts).alias("ingest_date"),
        payload_json.alias("payload"),
        F.sha2(payload_json, 256).alias("record_hash"),
    ]


def parse_log_lines(lines: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Split raw log text (column ``value``) into parsed entries and rejects of unparseable lines."""
    matches = F.col("value").rlike(LOG_LINE_PATTERN)
    field = lambda group: F.regexp_extract("value", LOG_LINE_PATTERN, group)  # noqa: E731
    logger = field(4)
    message = field(5)
    request_no = F.regexp_extract(message, r"request (\d+)", 1)
    parsed = lines.where(matches).select(
        F.coalesce(F.concat(F.lit("REQ"), F.nullif(request_no, F.lit(""))),
                   F.substring(F.sha2("value", 256), 1, 16)).alias("log_id"),
        F.try_to_timestamp(field(1), F.lit(LOG_TS_FORMAT)).alias("logged_at"),
        field(2).alias("level"),
        field(3).alias("host"),
        logger.alias("logger"),
        F.substring_index(logger, ".", -1).alias("service"),
        message.alias("message"),
        F.nullif(F.regexp_extract(message, r"(\d+) ms", 1), F.lit("")).cast("int").alias("latency_ms"),
        message.contains("failed").alias("is_failure"),
    )
    reason = (F.when(F.col("value").rlike(STACK_TRACE_PATTERN), F.lit("stack-trace continuation line"))
              .otherwise(F.lit("unparseable log line")))
    rejected = as_rejects(lines.where(~matches), reason, F.col("value"))
    return parsed, rejected


def drop_implausible_readings(sensors: DataFrame, *, min_temperature_c: float,
                              max_temperature_c: float) -> tuple[DataFrame, DataFrame]:
    """Keep readings inside the plausible range or missing; quarantine the rest with the value."""
    temperature = F.col("temperature_c")
    plausible = temperature.isNull() | temperature.between(min_temperature_c, max_temperature_c)
    kept = sensors.where(plausible).select(*[F.col(c).alias(c) for c in SENSOR_SCHEMA.fieldNames()])
    reason = F.format_string("implausible temperature_c %.2f outside [%.1f, %.1f]",
                             temperature, F.lit(min_temperature_c), F.lit(max_temperature_c))
    return kept, as_rejects(sensors.where(~plausible), reason)


def api_to_envelope(responses: DataFrame) -> DataFrame:
    return responses.select(*_envelope(
        "external_api_data", F.col("request_id"), F.col("fetched_at"),
        F.struct("endpoint", "status_code", (F.col("status_code") == 200).alias("is_success"),
                 F.col("payload.city").alias("city"), F.col("payload.country").alias("country"),
                 F.col("payload.readings").alias("readings")),
    ))


def logs_to_envelope(entries: DataFrame) -> DataFrame:
    return entries.select(*_envelope(
        "log_files", F.col("log_id"), F.col("logged_at"),
        F.struct("host", "level", "logger", "service", "message", "latency_ms", "is_failure"),
    ))


def sensors_to_envelope(readings: DataFrame) -> DataFrame:
    record_id = F.concat_ws("@", "sensor_id", F.date_format("reading_ts", "yyyyMMdd'T'HHmmss"))
    return readings.select(*_envelope(
        "sensor_data", record_id, F.col("reading_ts"),
        F.struct("sensor_id", "site", "temperature_c", "humidity_pct", "pressure_hpa", "battery_v"),
    ))


def social_to_envelope(posts: DataFrame) -> DataFrame:
    return posts.select(*_envelope(
        "social_media_feeds", F.col("post_id"), F.col("posted_at"),
        F.struct("platform", "lang", "text", "hashtags", "mentions",
                 F.col("author.handle").alias("author_handle"),
                 F.col("author.followers").alias("author_followers"),
                 F.col("author.verified").alias("author_verified"),
                 (F.col("metrics.likes") + F.col("metrics.shares") + F.col("metrics.comments"))
                 .alias("engagement"),
                 F.col("metrics").alias("metrics")),
    ))


def order_summary_to_envelope(summary: DataFrame) -> DataFrame:
    """One record per customer and order day, stamped with the day's last order."""
    record_id = F.concat_ws("@", "customer_id", F.date_format("order_date", "yyyyMMdd"))
    return summary.select(*_envelope(
        "order_summary", record_id, F.col("last_order_ts"),
        F.struct("customer_id", "order_date", "order_count", "total_net_amount", "avg_net_amount",
                 "total_quantity", "distinct_products", "high_value_orders"),
    ))


def explode_api_readings(responses: DataFrame) -> DataFrame:
    """One structured row per reading of each API response."""
    readings = responses.select("request_id", "fetched_at", F.explode("payload.readings").alias("reading"))
    return readings.select(
        F.lit("external_api_data").alias("source"),
        F.col("request_id").alias("record_id"),
        F.col("fetched_at").alias("event_ts"),
        F.lower(F.trim("reading.metric")).alias("attribute"),
        F.lit(None).cast("int").alias("position"),
        F.col("reading.value").alias("value_double"),
        F.lit(None).cast("string").alias("value_string"),
        F.col("reading.unit").alias("unit"),
    )


def explode_post_hashtags(posts: DataFrame) -> DataFrame:
    """One structured row per hashtag of each post, keeping the tag's position in the post."""
    tags = posts.select("post_id", "posted_at", F.posexplode("hashtags").alias("pos", "tag"))
    return tags.select(
        F.lit("social_media_feeds").alias("source"),
        F.col("post_id").alias("record_id"),
        F.col("posted_at").alias("event_ts"),
        F.lit("hashtag").alias("attribute"),
        F.col("pos").alias("position"),
        F.lit(None).cast("double").alias("value_double"),
        F.lower(F.regexp_replace("tag", "^#", "")).alias("value_string"),
        F.lit(None).cast("string").alias("unit"),
    )


def summarise_lake(lake: DataFrame, rejects: DataFrame) -> DataFrame:
    """Per source: what landed in the raw lake and how much was quarantined."""
    landed = lake.groupBy("source").agg(
        F.count("*").alias("record_count"),
        F.min("event_ts").alias("min_event_ts"),
        F.max("event_ts").alias("max_event_ts"),
        F.countDistinct("ingest_date").alias("distinct_partitions"),
        F.sum(F.octet_length("payload")).alias("payload_bytes"),
    )
    rejected = rejects.groupBy("source").agg(F.count("*").alias("rejected_count"))
    # Full outer: a source whose every line was rejected still gets a metadata row.
    joined = landed.join(rejected, on="source", how="full_outer")
    return joined.select(
        F.col("source").alias("source"),
        F.coalesce("record_count", F.lit(0)).alias("record_count"),
        F.coalesce("rejected_count", F.lit(0)).alias("rejected_count"),
        F.col("min_event_ts").alias("min_event_ts"),
        F.col("max_event_ts").alias("max_event_ts"),
        F.coalesce("distinct_partitions", F.lit(0)).alias("distinct_partitions"),
        F.coalesce("payload_bytes", F.lit(0)).alias("payload_bytes"),
        F.current_timestamp().alias("ingested_at"),
    )


def track_lineage(lake: DataFrame, lines: DataFrame, rejects: DataFrame, *,
                  input_paths: dict[str, str], target_table: str) -> DataFrame:
    """Per source: lines read, records landed and rejected, and checksums of the landed hashes.

    ``lines`` has one row (column ``source``) per raw input line; ``input_paths`` maps each
    source table to its location.
    """
    landed = lake.groupBy("source").agg(
        F.count("record_hash").alias("records_out"),
        # Decimal sum: a sum of 64-bit hashes overflows a long (an error under ANSI mode).
        F.sum(F.xxhash64("record_hash").cast("decimal(20,0)")).alias("xxhash64_sum"),
        F.sha2(F.concat_ws("", F.sort_array(F.collect_list("record_hash"))), 256).alias("hash_digest"),
    )
    read = lines.groupBy("source").agg(F.count("*").alias("records_in"))
    rejected = rejects.groupBy("source").agg(F.count("*").alias("records_rejected"))
    joined = read.join(landed, on="source", how="left").join(rejected, on="source", how="left")
    paths = F.create_map(*[F.lit(x) for pair in sorted(input_paths.items()) for x in pair])
    out = F.coalesce("records_out", F.lit(0))
    rejected_n = F.coalesce("records_rejected", F.lit(0))
    return joined.select(
        F.col("source").alias("input_table"),
        F.element_at(paths, F.col("source")).alias("input_path"),
        F.lit(target_table).alias("target_table"),
        F.col("records_in").alias("records_in"),
        out.alias("records_out"),
        rejected_n.alias("records_rejected"),
        (F.col("records_in") == out + rejected_n).alias("is_reconciled"),
        out.alias("hash_count"),
        F.coalesce("xxhash64_sum", F.lit(0).cast("decimal(30,0)")).alias("xxhash64_sum"),
        F.col("hash_digest").alias("hash_digest"),
    )


def _tag_source(source: str, df: DataFrame, *columns: str) -> DataFrame:
    return df.select(F.lit(source).alias("source"), *columns)


def execute(run: JobRun) -> None:
    settings = job_settings("data_lake_ingestion")
    raw = {
        "external_api_data": run.read("external_api_data", EXTERNAL_API_SCHEMA),
        "log_files": run.read("log_files"),
        "sensor_data": run.read("sensor_data", SENSOR_SCHEMA),
        "social_media_feeds": run.read("social_media_feeds", SOCIAL_MEDIA_SCHEMA),
        "order_summary": run.read("order_summary"),
    }
    responses, bad_api = split_corrupt(raw["external_api_data"])
    entries, bad_logs = parse_log_lines(raw["log_files"])
    sensors, bad_sensors = split_corrupt(raw["sensor_data"])
    sensors, implausible = drop_implausible_readings(
        sensors,
        min_temperature_c=float(settings["min_temperature_c"]),
        max_temperature_c=float(settings["max_temperature_c"]),
    )
    posts, bad_posts = split_corrupt(raw["social_media_feeds"])
    rejected = {
        "external_api_data": [bad_api],
        "log_files": [bad_logs],
        "sensor_data": [bad_sensors, implausible],
        "social_media_feeds": [bad_posts],
    }

    lake = reduce(DataFrame.unionByName, [
        responses.transform(api_to_envelope),
        entries.transform(logs_to_envelope),
        sensors.transform(sensors_to_envelope),
        posts.transform(social_to_envelope),
        raw["order_summary"].transform(order_summary_to_envelope),  # a published table: nothing to reject
    ])
    structured = responses.transform(explode_api_readings).unionByName(
        posts.transform(explode_post_hashtags))
    all_rejects = reduce(DataFrame.unionByName, [
        _tag_source(source, frame, *REJECT_COLUMNS) for source, frames in rejected.items() for frame in frames
    ])
    lines = reduce(DataFrame.unionByName, [_tag_source(source, df) for source, df in raw.items()])

    # Three outputs aggregate the lake: keep it rather than parse every feed three times.
    lake = lake.cache()
    # One file per (source, ingest_date) directory instead of one per input split and directory.
    run.write(RAW_LAKE, lake.repartition("source", "ingest_date"))
    run.write("structured_data_lake", structured)
    run.write("data_lake_metadata", summarise_lake(lake, all_rejects))
    run.write("data_lineage_tracking", track_lineage(
        lake, lines, all_rejects,
        input_paths={source: run.catalog.table(source).path for source in SOURCES},
        target_table=RAW_LAKE,
    ))
    for source, frames in rejected.items():
        run.reject(source, *frames)


def main() -> int:
    with JobRun("data_lake_ingestion") as run:
        execute(run)
    return run.exit_code


if __name__ == "__main__":
    sys.exit(main())
