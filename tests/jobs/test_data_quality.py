"""Tests of jobs/data_quality.py: every transform on a few literal rows, then the whole job."""

from __future__ import annotations

import hashlib
from datetime import datetime

from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType, DoubleType, LongType, StringType, StructField, StructType,
)

from jobs import data_quality as dq

REJECTS_SCHEMA = StructType([StructField("reject_reason", StringType()), StructField("raw_record", StringType())])
REPORT_SCHEMA = StructType([
    StructField("table_name", StringType()), StructField("column_name", StringType()),
    StructField("data_type", StringType()), StructField("is_required", BooleanType()),
    StructField("row_count", LongType()), StructField("null_count", LongType()),
    StructField("null_rate", DoubleType()), StructField("distinct_count", LongType()),
    StructField("min_value", StringType()), StructField("max_value", StringType()),
    StructField("rule", StringType()), StructField("violation_count", LongType()),
    StructField("violation_rate", DoubleType()), StructField("malformed_rows", LongType()),
])
COUNTS_SCHEMA = StructType([
    StructField("column_name", StringType()), StructField("null_count", LongType()),
    StructField("violation_count", LongType()),
])
TS = datetime(2026, 1, 5, 10, 0, 0)


def _counts(spark, df, checks, table="t"):
    malformed = spark.createDataFrame([], REJECTS_SCHEMA)
    return dq.profile_table(df, malformed, table_name=table, checks=checks).select(
        "column_name", "null_count", "violation_count"
    )


def test_profile_table_one_row_per_column(spark):
    schema = StructType([StructField("item_id", StringType()), StructField("amount", DoubleType()),
                         StructField("note", StringType())])
    parsed = spark.createDataFrame(
        [("I001", 5.0, "a"), ("I002", -1.0, None), ("bad", None, "a"), ("I001", 2.5, None)], schema
    )
    malformed = spark.createDataFrame([("malformed record", "x;y"), ("malformed record", "{")], REJECTS_SCHEMA)
    checks = [
        dq._pattern("item_id", r"^I\d{3}$"),
        dq.ColumnCheck("amount", "not negative", F.col("amount") < 0),
        dq.ColumnCheck("note", required=False),
    ]
    out = dq.profile_table(parsed, malformed, table_name="t", checks=checks)
    expected = spark.createDataFrame([
        ("t", "item_id", "string", True, 4, 0, 0.0, 3, "I001", "bad", r"matches ^I\d{3}$", 1, 0.25, 2),
        ("t", "amount", "double", True, 4, 1, 0.25, 3, "-1.0", "5.0", "not negative", 1, 0.25, 2),
        ("t", "note", "string", False, 4, 2, 0.5, 1, "a", "a", None, 0, 0.0, 2),
    ], REPORT_SCHEMA)
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


def test_customer_checks_find_each_defect(spark):
    ok = ("2022-01-01", "2026-01-01 10:00:00")
    rows = [
        ("C000001", "Ann", "Lee", "ann.lee@example.com", "+1 (212) 555-1234", "1990-05-17", "US", "Austin", *ok,
         "PREMIUM"),
        ("X12", "  ANN ", "lee  ", "not-an-email", None, "17/05/1880", "us", "Lyon", "2022-13-01", "yesterday",
         " premium "),  # a segment in any case is fine
        ("C000003", "Bo", "Kim", None, "555", "2031/02/01", "GB", "Leeds", *ok, "GOLD"),
        ("C000004", "Cy", "Ng", "cy@mail.test", "+1 (212) 555-0000", "31/12/1999", "DE", None, *ok, None),
    ]
    out = _counts(spark, spark.createDataFrame(rows, dq.RAW_CUSTOMERS_SCHEMA), dq.customer_checks())
    expected = spark.createDataFrame([
        ("customer_id", 0, 1), ("first_name", 0, 1), ("last_name", 0, 1), ("email", 1, 1), ("phone", 1, 1),
        ("birth_date", 0, 2), ("country", 0, 1), ("city", 1, 0), ("signup_date", 0, 1), ("updated_at", 0, 1),
        ("segment", 1, 1),
    ], COUNTS_SCHEMA)
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


def test_order_checks_find_each_defect(spark):
    rows = [
        ("O0000001", "C000001", "P00001", "2026-01-05T10:00:00Z", 2, 10.0, "USD", "PLACED", "web", None),
        ("O1", "C000001", "P1", "yesterday", 0, -5.0, "XYZ", "LOST", "fax", "spring"),
        ("O0000003", None, "P00003", None, None, 1.0, "USD", "SHIPPED", "store", "VIP"),
    ]
    out = _counts(spark, spark.createDataFrame(rows, dq.RAW_ORDERS_SCHEMA), dq.order_checks())
    expected = spark.createDataFrame([
        ("order_id", 0, 1), ("customer_id", 1, 0), ("product_id", 0, 1), ("order_ts", 1, 1), ("quantity", 1, 1),
        ("unit_price", 0, 1), ("currency", 0, 1), ("status", 0, 1), ("channel", 0, 1), ("coupon_code", 1, 1),
    ], COUNTS_SCHEMA)
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


def test_transaction_checks_find_each_defect(spark):
    rows = [
        ("T00000001", "A00001", TS, 10.0, "USD", "DEBIT", "FreshMart", "grocery", "POS"),
        ("T1", "B1", TS, -1.0, "usd?", "REFUND", None, "toys", "web"),
        ("T00000003", "A00003", None, None, "EUR", "FEE", "PowerCo", "utilities", "ATM"),
    ]
    out = _counts(spark, spark.createDataFrame(rows, dq.RAW_TRANSACTIONS_SCHEMA), dq.transaction_checks())
    expected = spark.createDataFrame([
        ("transaction_id", 0, 1), ("account_id", 0, 1), ("transaction_ts", 1, 0), ("amount", 1, 1),
        ("currency", 0, 1), ("transaction_type", 0, 1), ("merchant", 1, 0), ("merchant_category", 0, 1),
        ("channel", 0, 1),
    ], COUNTS_SCHEMA)
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


DUPLICATES_SCHEMA = StructType([
    StructField("table_name", StringType()), StructField("produced_by_job", StringType()),
    StructField("source_format", StringType()),
    StructField("source_path", StringType()), StructField("key_column", StringType()),
    StructField("duplicated_keys", LongType()), StructField("duplicate_key_count", LongType()),
    StructField("duplicate_key_rate", DoubleType()),
])


def test_duplicate_keys_counts_repeats_of_non_null_keys(spark):
    parsed = spark.createDataFrame(
        [("K1", 1), ("K1", 2), ("K1", 3), ("K2", 4), (None, 5), ("K3", 6)], "key string, n int"
    )
    out = dq.duplicate_keys(parsed, table_name="t", key="key", source_format="csv", source_path="/d/t.csv")
    expected = spark.createDataFrame([("t", None, "csv", "/d/t.csv", "key", 1, 2, 0.4)], DUPLICATES_SCHEMA)
    assert_df_equality(out, expected, ignore_nullable=True)


def test_summarise_tables_scores_cells_and_records(spark):
    report = spark.createDataFrame([
        ("t1", "a", True, 100, 0, 5, 0),
        ("t1", "b", False, 100, 0, 10, 5),
        ("t2", "x", True, 50, 50, 0, 0),
    ], "table_name string, column_name string, is_required boolean, row_count long, malformed_rows long, "
       "null_count long, violation_count long")
    duplicates = spark.createDataFrame([
        ("t1", None, "csv", "/d/t1.csv", "a", 4, 10, 0.1), ("t2", "orders", "json", "/d/t2.jsonl", "x", 0, 0, 0.0),
    ], DUPLICATES_SCHEMA)
    out = dq.summarise_tables(report, duplicates)
    expected_schema = StructType([
        StructField("table_name", StringType()), StructField("produced_by_job", StringType()),
        StructField("source_format", StringType()),
        StructField("source_path", StringType()), StructField("total_records", LongType()),
        StructField("row_count", LongType()), StructField("malformed_rows", LongType()),
        StructField("malformed_rate", DoubleType()), StructField("column_count", LongType()),
        StructField("key_column", StringType()), StructField("duplicate_key_count", LongType()),
        StructField("duplicate_key_rate", DoubleType()), StructField("required_null_cells", LongType()),
        StructField("violation_cells", LongType()), StructField("quality_score", DoubleType()),
    ])
    # t1: 10 dirty cells of 200, 10 dirty records of 100 -> 100 x 0.95 x 0.9; t2: half its lines malformed.
    expected = spark.createDataFrame([
        ("t1", None, "csv", "/d/t1.csv", 100, 100, 0, 0.0, 2, "a", 10, 0.1, 5, 5, 85.5),
        ("t2", "orders", "json", "/d/t2.jsonl", 100, 50, 50, 0.5, 1, "x", 0, 0.0, 0, 0, 50.0),
    ], expected_schema)
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


def _alert_id(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def test_raise_alerts_only_above_thresholds_with_severity(spark):
    report = spark.createDataFrame([
        ("t1", "a", "rule a", True, 0.05, 5, 0.0, 0),
        ("t1", "b", None, False, 0.5, 50, 0.2, 20),
        ("t2", "x", "rule x", True, 0.02, 2, 0.04, 4),
    ], "table_name string, column_name string, rule string, is_required boolean, null_rate double, "
       "null_count long, violation_rate double, violation_count long")
    tables = spark.createDataFrame([
        ("t1", "a", 0.1, 10, 0.0, 0), ("t2", "x", 0.0, 0, 0.5, 50),
    ], "table_name string, key_column string, duplicate_key_rate double, duplicate_key_count long, "
       "malformed_rate double, malformed_rows long")
    out = dq.raise_alerts(report, tables, max_null_rate=0.02, max_violation_rate=0.01, max_duplicate_key_rate=0.05)
    expected_schema = StructType([
        StructField("alert_id", StringType()), StructField("table_name", StringType()),
        StructField("column_name", StringType()), StructField("check_name", StringType()),
        StructField("observed_rate", DoubleType()), StructField("threshold", DoubleType()),
        StructField("affected_rows", LongType()), StructField("severity", StringType()),
        StructField("message", StringType()),
    ])
    expected = spark.createDataFrame([
        (_alert_id("t1", "a", "null_rate"), "t1", "a", "null_rate", 0.05, 0.02, 5, "WARNING",
         "t1.a: null rate 5.00% exceeds 2.00% (5 rows); rule: rule a"),
        (_alert_id("t1", "b", "violation_rate"), "t1", "b", "violation_rate", 0.2, 0.01, 20, "CRITICAL",
         "t1.b: violation rate 20.00% exceeds 1.00% (20 rows)"),
        (_alert_id("t2", "x", "violation_rate"), "t2", "x", "violation_rate", 0.04, 0.01, 4, "HIGH",
         "t2.x: violation rate 4.00% exceeds 1.00% (4 rows); rule: rule x"),
        (_alert_id("t1", "a", "duplicate_key_rate"), "t1", "a", "duplicate_key_rate", 0.1, 0.05, 10, "WARNING",
         "t1.a: duplicate key rate 10.00% exceeds 5.00% (10 rows)"),
        (_alert_id("t2", "*", "malformed_rate"), "t2", "*", "malformed_rate", 0.5, 0.01, 50, "CRITICAL",
         "t2.*: malformed rate 50.00% exceeds 1.00% (50 rows)"),
    ], expected_schema)
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


def _types(df) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in df.schema.fields}


def test_execute_measures_every_input(spark, pipeline_catalog, job_summary):
    run_summary = job_summary("data_quality")
    assert run_summary.status == "ok"
    assert run_summary.rows_rejected == {}  # the job measures; it quarantines nothing
    read = lambda name: spark.read.parquet(pipeline_catalog.output(name).path)  # noqa: E731
    report, tables, alerts = read("data_quality_report"), read("data_lineage_summary"), read("quality_alerts")

    assert _types(report) == {f.name: f.dataType.simpleString() for f in REPORT_SCHEMA.fields}
    assert _types(tables) == {
        "table_name": "string", "produced_by_job": "string", "source_format": "string", "source_path": "string",
        "total_records": "bigint",
        "row_count": "bigint", "malformed_rows": "bigint", "malformed_rate": "double", "column_count": "bigint",
        "key_column": "string", "duplicate_key_count": "bigint", "duplicate_key_rate": "double",
        "required_null_cells": "bigint", "violation_cells": "bigint", "quality_score": "double",
    }
    assert _types(alerts) == {
        "alert_id": "string", "table_name": "string", "column_name": "string", "check_name": "string",
        "observed_rate": "double", "threshold": "double", "affected_rows": "bigint", "severity": "string",
        "message": "string",
    }
    # 11 + 10 + 9 checked columns of the raw feeds, 7 + 6 + 4 of what the upstream jobs published
    assert report.count() == 47 == report.select("table_name", "column_name").distinct().count()
    assert alerts.select("alert_id").distinct().count() == alerts.count() > 0

    summary = {r.table_name: r for r in tables.collect()}
    raw_feeds = {"raw_customers", "raw_orders", "raw_transactions"}
    published = {"processed_customers": "customers", "enriched_orders": "orders", "processed_transactions": "financial"}
    assert set(summary) == raw_feeds | set(published)
    for table, row in summary.items():
        # Every line read is either a profiled row or a counted malformed line.
        assert row.total_records == run_summary.rows_in[table] == row.row_count + row.malformed_rows
        assert row.produced_by_job == published.get(table)
        if table in raw_feeds:
            assert row.malformed_rows > 0 and 0 < row.quality_score < 100
        else:  # what the pipeline publishes is clean, keyed once per row, and keeps its own rules
            assert row.malformed_rows == 0 and row.duplicate_key_count == 0 and row.violation_cells == 0
    assert sorted(r.column_count for r in summary.values()) == [4, 6, 7, 9, 10, 11]
    assert summary["raw_transactions"].duplicate_key_count == 0
    assert summary["raw_customers"].duplicate_key_count > 0

    # The negative-amount count agrees with an independent read of the CSV.
    raw = spark.read.csv(pipeline_catalog.input("raw_transactions").path, header=True,
                         schema=dq.RAW_TRANSACTIONS_SCHEMA)
    amount = report.where("table_name = 'raw_transactions' AND column_name = 'amount'").first()
    assert amount.violation_count == raw.where("amount < 0").count() > 0
    assert alerts.where("table_name = 'raw_customers' AND check_name = 'duplicate_key_rate'").count() == 1
