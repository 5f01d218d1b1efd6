"""Tests of jobs/financial.py: every transform on a few literal rows, then the whole job."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType, DateType, DoubleType, IntegerType, LongType, StringType, StructField, StructType, TimestampType,
)

from jobs import financial

RAW = financial.RAW_TRANSACTIONS_SCHEMA
REJECTS_SCHEMA = StructType([StructField("reject_reason", StringType()), StructField("raw_record", StringType())])


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def raw_row(tid, account, when, amount, currency="EUR", ttype="DEBIT", merchant="FreshMart"):
    return (tid, account, ts(when) if when else None, amount, currency, ttype, merchant, "grocery", "POS")


def raw_json(tid, account, when, amount, currency="EUR", ttype="DEBIT") -> str:
    parts = [f'"transaction_id":"{tid}"', f'"account_id":"{account}"']
    if when:
        parts.append(f'"transaction_ts":"{when.replace(" ", "T")}.000Z"')
    if amount is not None:
        parts.append(f'"amount":{amount}')
    parts += [f'"currency":"{currency}"', f'"transaction_type":"{ttype}"', '"merchant":"FreshMart"',
              '"merchant_category":"grocery"', '"channel":"POS"']
    return "{" + ",".join(parts) + "}"


ACCOUNTS_SCHEMA = StructType([
    StructField("account_id", StringType()), StructField("customer_id", StringType()),
    StructField("account_type", StringType()), StructField("currency", StringType()),
    StructField("opened_date", DateType()), StructField("status", StringType()),
    StructField("credit_limit", DoubleType()), StructField("risk_rating", StringType()),
])
RATES_SCHEMA = StructType([
    StructField("rate_date", DateType()), StructField("currency", StringType()), StructField("units_per_usd", DoubleType()),
])


@pytest.fixture
def rates(spark):
    day = date(2026, 1, 5)
    return spark.createDataFrame(
        [(day, "USD", 1.0), (day, "EUR", 0.8), (day, "GBP", 0.5), (date(2026, 1, 6), "USD", 1.0)], RATES_SCHEMA,
    )


def test_validate_transactions_rejects_bad_rows_with_the_first_failing_reason(spark):
    rows = [
        raw_row("T1", "A1", "2026-01-05 10:00:00", 10.0),
        raw_row("T2", "A1", "2026-01-05 11:00:00", -4.5),
        raw_row("T3", "A2", "2026-01-05 12:00:00", None),
        raw_row("T4", "A2", "2026-01-05 13:00:00", 7.0, ttype="REFUND"),
        raw_row("T1", "A1", "2026-01-05 14:00:00", 3.0),
    ]
    valid, rejected = financial.validate_transactions(spark.createDataFrame(rows, RAW))
    assert_df_equality(valid, spark.createDataFrame([rows[0]], RAW), ignore_nullable=True)
    expected_rejects = spark.createDataFrame([
        ("negative amount", raw_json("T2", "A1", "2026-01-05 11:00:00", -4.5)),
        ("missing amount", raw_json("T3", "A2", "2026-01-05 12:00:00", None)),
        ("unknown transaction_type", raw_json("T4", "A2", "2026-01-05 13:00:00", 7.0, ttype="REFUND")),
        ("duplicate transaction_id", raw_json("T1", "A1", "2026-01-05 14:00:00", 3.0)),
    ], REJECTS_SCHEMA)
    assert_df_equality(rejected, expected_rejects, ignore_row_order=True, ignore_nullable=True)


def test_attach_accounts_inner_joins_adds_the_holder_from_the_customer_master_and_rejects_unknown_accounts(spark):
    rows = [raw_row("T1", "A1", "2026-01-05 10:00:00", 10.0), raw_row("T2", "A9", "2026-01-05 11:00:00", 2.0),
            raw_row("T3", "A2", "2026-01-05 12:00:00", 3.0, currency="GBP")]
    accounts = spark.createDataFrame([
        ("A1", "C000001", "CHECKING", "EUR", date(2021, 1, 1), "ACTIVE", None, "LOW"),
        ("A2", "C000002", "CREDIT", "USD", date(2022, 1, 1), "FROZEN", 500.0, "HIGH"),
    ], ACCOUNTS_SCHEMA)
    # C000002 is not in the master: the transaction is kept, without the holder's segment and country
    master = spark.createDataFrame([("C000001", "PREMIUM", "DE"), ("C000003", "STANDARD", "FR")],
                                   "customer_id string, segment string, country_code string")
    joined, rejected = financial.attach_accounts(spark.createDataFrame(rows, RAW), accounts, master)
    extra = [StructField(n, StringType()) for n in
             ("customer_id", "customer_segment", "customer_country", "account_type", "account_currency",
              "account_status", "risk_rating")]
    expected = spark.createDataFrame([
        rows[0] + ("C000001", "PREMIUM", "DE", "CHECKING", "EUR", "ACTIVE", "LOW"),
        rows[2] + ("C000002", None, None, "CREDIT", "USD", "FROZEN", "HIGH"),
    ], StructType(RAW.fields + extra))
    assert_df_equality(joined, expected, ignore_row_order=True, ignore_nullable=True)
    assert_df_equality(rejected, spark.createDataFrame(
        [("unknown account_id", raw_json("T2", "A9", "2026-01-05 11:00:00", 2.0))], REJECTS_SCHEMA,
    ), ignore_nullable=True)


def test_reporting_rates_turns_usd_quotes_into_cross_rates(spark, rates):
    out = financial.reporting_rates(rates, reporting_currency="EUR")
    expected = spark.createDataFrame([
        (date(2026, 1, 5), "USD", 0.8), (date(2026, 1, 5), "EUR", 1.0), (date(2026, 1, 5), "GBP", 1.6),
    ], StructType([StructField("rate_date", DateType()), StructField("rate_currency", StringType()),
                   StructField("exchange_rate", DoubleType())]))
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


def test_convert_currency_uses_the_rate_of_the_day_and_rejects_missing_rates(spark, rates):
    rows = [
        raw_row("T1", "A1", "2026-01-05 10:00:00", 10.0, currency="EUR"),
        raw_row("T2", "A1", "2026-01-05 11:00:00", 3.3, currency=" gbp"),
        raw_row("T3", "A1", "2026-01-05 12:00:00", 5.0, currency="XYZ"),
        raw_row("T4", "A1", "2026-01-06 09:00:00", 8.0, currency="EUR"),
    ]
    converted, rejected = financial.convert_currency(
        spark.createDataFrame(rows, RAW), rates, reporting_currency="USD"
    )
    expected = spark.createDataFrame(
        [rows[0] + (1.25, 12.5), rows[1] + (2.0, 6.6)],
        StructType(RAW.fields + [StructField("exchange_rate", DoubleType()), StructField("amount_reporting", DoubleType())]),
    )
    assert_df_equality(converted, expected, ignore_row_order=True, ignore_nullable=True)
    assert_df_equality(rejected, spark.createDataFrame([
        ("no exchange rate for currency XYZ on 2026-01-05",
         raw_json("T3", "A1", "2026-01-05 12:00:00", 5.0, currency="XYZ")),
        ("no exchange rate for currency EUR on 2026-01-06", raw_json("T4", "A1", "2026-01-06 09:00:00", 8.0)),
    ], REJECTS_SCHEMA), ignore_row_order=True, ignore_nullable=True)


def test_derive_transaction_fields_signs_amounts_by_type(spark):
    extra = [StructField(n, StringType()) for n in
             ("customer_id", "customer_segment", "customer_country", "account_type", "account_currency",
              "account_status", "risk_rating")]
    schema = StructType(RAW.fields + extra + [StructField("exchange_rate", DoubleType()),
                                              StructField("amount_reporting", DoubleType())])
    account = ("C000001", "PREMIUM", "DE", "CHECKING", "EUR", "ACTIVE", "LOW")
    rows = [
        ("T1", "A1", ts("2026-01-05 10:30:00"), 10.0, "EUR", "credit", " SkyAir ", "Travel ", "online") + account + (1.25, 12.5),
        ("T2", "A1", ts("2026-01-06 23:10:00"), 4.0, "usd", "FEE", "PowerCo", "utilities", "ATM") + account + (1.0, 4.0),
        ("T3", "A1", ts("2026-01-07 00:00:00"), 2.0, "EUR", "Transfer", "RailNow", "travel", "POS") + account + (1.25, 2.5),
    ]
    out = financial.derive_transaction_fields(spark.createDataFrame(rows, schema), reporting_currency="USD")
    fingerprint = hashlib.sha256(b"A1|C000001").hexdigest()
    head = ("A1", "C000001", fingerprint, "PREMIUM", "DE", "CHECKING", "ACTIVE", "LOW")
    expected = [
        ("T1", *head, ts("2026-01-05 10:30:00"), date(2026, 1, 5), 10, "Mon", "CREDIT", "IN", "SkyAir", "travel",
         "ONLINE", "EUR", 10.0, False, 1.25, "USD", 12.5, 12.5),
        ("T2", *head, ts("2026-01-06 23:10:00"), date(2026, 1, 6), 23, "Tue", "FEE", "OUT", "PowerCo", "utilities",
         "ATM", "USD", 4.0, True, 1.0, "USD", 4.0, -4.0),
        ("T3", *head, ts("2026-01-07 00:00:00"), date(2026, 1, 7), 0, "Wed", "TRANSFER", "OUT", "RailNow", "travel",
         "POS", "EUR", 2.0, False, 1.25, "USD", 2.5, -2.5),
    ]
    names = ["transaction_id", "account_id", "customer_id", "account_fingerprint", "customer_segment",
             "customer_country", "account_type", "account_status", "risk_rating", "transaction_ts", "transaction_date", "transaction_hour", "day_of_week",
             "transaction_type", "direction", "merchant", "merchant_category", "channel", "original_currency",
             "original_amount", "is_foreign_currency", "exchange_rate", "reporting_currency", "amount_reporting",
             "signed_amount_reporting"]
    types = [StringType()] * 9 + [TimestampType(), DateType(), IntegerType()] + [StringType()] * 7 + [
        DoubleType(), BooleanType(), DoubleType(), StringType(), DoubleType(), DoubleType()]
    expected_schema = StructType([StructField(n, t) for n, t in zip(names, types)])
    assert_df_equality(out, spark.createDataFrame(expected, expected_schema), ignore_row_order=True,
                       ignore_nullable=True)


def test_summarise_daily_totals_per_account_and_day(spark):
    schema = StructType([
        StructField("account_id", StringType()), StructField("customer_id", StringType()),
        StructField("customer_country", StringType()),
        StructField("transaction_date", DateType()), StructField("reporting_currency", StringType()),
        StructField("transaction_ts", TimestampType()), StructField("direction", StringType()),
        StructField("merchant", StringType()), StructField("amount_reporting", DoubleType()),
        StructField("signed_amount_reporting", DoubleType()), StructField("is_foreign_currency", BooleanType()),
    ])
    d1, d2 = date(2026, 1, 5), date(2026, 1, 6)
    rows = [
        ("A1", "C1", "DE", d1, "USD", ts("2026-01-05 09:00:00"), "OUT", "SkyAir", 10.5, -10.5, False),
        ("A1", "C1", "DE", d1, "USD", ts("2026-01-05 12:00:00"), "IN", "PowerCo", 100.0, 100.0, True),
        ("A1", "C1", "DE", d1, "USD", ts("2026-01-05 18:00:00"), "OUT", "SkyAir", 4.25, -4.25, False),
        ("A1", "C1", "DE", d2, "USD", ts("2026-01-06 08:00:00"), "OUT", "RailNow", 7.0, -7.0, True),
        ("A2", "C2", None, d1, "USD", ts("2026-01-05 10:00:00"), "IN", "PowerCo", 20.0, 20.0, False),
    ]
    out = financial.summarise_daily(spark.createDataFrame(rows, schema))
    expected_schema = StructType([
        StructField("account_id", StringType()), StructField("customer_id", StringType()),
        StructField("customer_country", StringType()),
        StructField("transaction_date", DateType()), StructField("reporting_currency", StringType()),
        StructField("transaction_count", LongType()), StructField("debit_total", DoubleType()),
        StructField("credit_total", DoubleType()), StructField("net_amount", DoubleType()),
        StructField("max_amount", DoubleType()), StructField("distinct_merchants", LongType()),
        StructField("foreign_currency_count", LongType()), StructField("first_transaction_ts", TimestampType()),
        StructField("last_transaction_ts", TimestampType()),
    ])
    expected = spark.createDataFrame([
        ("A1", "C1", "DE", d1, "USD", 3, 14.75, 100.0, 85.25, 100.0, 2, 1, ts("2026-01-05 09:00:00"), ts("2026-01-05 18:00:00")),
        ("A1", "C1", "DE", d2, "USD", 1, 7.0, 0.0, -7.0, 7.0, 1, 1, ts("2026-01-06 08:00:00"), ts("2026-01-06 08:00:00")),
        ("A2", "C2", None, d1, "USD", 1, 0.0, 20.0, 20.0, 20.0, 1, 0, ts("2026-01-05 10:00:00"), ts("2026-01-05 10:00:00")),
    ], expected_schema)
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


def test_fraud_indicators_windows_and_flags(spark):
    schema = StructType([
        StructField("transaction_id", StringType()), StructField("account_id", StringType()),
        StructField("transaction_ts", TimestampType()), StructField("amount_reporting", DoubleType()),
        StructField("signed_amount_reporting", DoubleType()),
    ])
    rows = [
        ("T1", "A1", ts("2026-01-05 10:00:00"), 10.0, -10.0),
        ("T2", "A1", ts("2026-01-05 10:04:00"), 10.0, 10.0),
        ("T3", "A1", ts("2026-01-05 10:08:00"), 10.0, -10.0),
        ("T4", "A1", ts("2026-01-05 10:09:00"), 50.0, -50.0),
        ("T5", "A2", ts("2026-01-05 10:00:00"), 5.0, 5.0),
    ]
    out = financial.fraud_indicators(
        spark.createDataFrame(rows, schema), velocity_window_minutes=10, velocity_threshold=2, zscore_threshold=1.0,
    )
    expected_schema = StructType([
        StructField("transaction_id", StringType()), StructField("account_id", StringType()),
        StructField("transaction_ts", TimestampType()), StructField("amount_reporting", DoubleType()),
        StructField("transaction_seq", IntegerType()), StructField("running_total", DoubleType()),
        StructField("velocity_count", LongType()), StructField("seconds_since_previous", LongType()),
        StructField("account_mean_amount", DoubleType()), StructField("account_stddev_amount", DoubleType()),
        StructField("amount_zscore", DoubleType()), StructField("is_velocity_alert", BooleanType()),
        StructField("is_amount_outlier", BooleanType()), StructField("risk_level", StringType()),
    ])
    # A1: mean 20, sample stddev 20, so z = -0.5 for the small amounts and 1.5 for the 50.
    expected = spark.createDataFrame([
        ("T1", "A1", ts("2026-01-05 10:00:00"), 10.0, 1, -10.0, 1, None, 20.0, 20.0, -0.5, False, False, "LOW"),
        ("T2", "A1", ts("2026-01-05 10:04:00"), 10.0, 2, 0.0, 2, 240, 20.0, 20.0, -0.5, False, False, "LOW"),
        ("T3", "A1", ts("2026-01-05 10:08:00"), 10.0, 3, -10.0, 3, 240, 20.0, 20.0, -0.5, True, False, "MEDIUM"),
        ("T4", "A1", ts("2026-01-05 10:09:00"), 50.0, 4, -60.0, 4, 60, 20.0, 20.0, 1.5, True, True, "HIGH"),
        ("T5", "A2", ts("2026-01-05 10:00:00"), 5.0, 1, 5.0, 1, None, 5.0, None, None, False, False, "LOW"),
    ], expected_schema)
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


def _types(df) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in df.schema.fields}


def test_execute_writes_reconciled_outputs(spark, pipeline_catalog, job_summary):
    summary = job_summary("financial")
    assert summary.status == "ok"
    read = lambda name: spark.read.parquet(pipeline_catalog.output(name).path)  # noqa: E731
    processed, daily, fraud = read("processed_transactions"), read("daily_account_summary"), read("fraud_indicators")
    rejects = spark.read.parquet(pipeline_catalog.rejects("raw_transactions").path)

    assert _types(processed) == {
        "transaction_id": "string", "account_id": "string", "customer_id": "string",
        "account_fingerprint": "string", "customer_segment": "string", "customer_country": "string",
        "account_type": "string", "account_status": "string",
        "risk_rating": "string", "transaction_ts": "timestamp", "transaction_date": "date",
        "transaction_hour": "int", "day_of_week": "string", "transaction_type": "string", "direction": "string",
        "merchant": "string", "merchant_category": "string", "channel": "string", "original_currency": "string",
        "original_amount": "double", "is_foreign_currency": "boolean", "exchange_rate": "double",
        "reporting_currency": "string", "amount_reporting": "double", "signed_amount_reporting": "double",
    }
    assert _types(daily) == {
        "account_id": "string", "customer_id": "string", "customer_country": "string", "transaction_date": "date",
        "reporting_currency": "string", "transaction_count": "bigint", "debit_total": "double", "credit_total": "double", "net_amount": "double",
        "max_amount": "double", "distinct_merchants": "bigint", "foreign_currency_count": "bigint",
        "first_transaction_ts": "timestamp", "last_transaction_ts": "timestamp",
    }
    assert _types(fraud) == {
        "transaction_id": "string", "account_id": "string", "transaction_ts": "timestamp",
        "amount_reporting": "double", "transaction_seq": "int", "running_total": "double",
        "velocity_count": "bigint", "seconds_since_previous": "bigint", "account_mean_amount": "double",
        "account_stddev_amount": "double", "amount_zscore": "double", "is_velocity_alert": "boolean",
        "is_amount_outlier": "boolean", "risk_level": "string",
    }
    raw_lines = summary.rows_in["raw_transactions"]
    n_processed = processed.count()
    assert raw_lines == n_processed + rejects.count()
    assert processed.select("transaction_id").distinct().count() == n_processed
    assert fraud.count() == n_processed and fraud.select("transaction_id").distinct().count() == n_processed
    assert daily.select("account_id", "transaction_date").distinct().count() == daily.count()
    assert daily.agg(F.sum("transaction_count")).first()[0] == n_processed
    assert processed.where(F.col("original_amount") < 0).count() == 0
    assert processed.where("reporting_currency <> 'USD' OR amount_reporting IS NULL").count() == 0
    reasons = {r.reject_reason.split(" for currency ")[0] for r in rejects.select("reject_reason").distinct().collect()}
    assert {"malformed record", "negative amount", "no exchange rate"} <= reasons
    assert rejects.where(F.col("rejected_by_job") != "financial").count() == 0
