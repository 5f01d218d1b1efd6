"""Tests of jobs/customers.py: each transform on a few inline rows, then the whole job on sample data."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql.types import (
    DateType, IntegerType, StringType, StructField, StructType, TimestampType,
)

from jobs import customers
from lineage_audit.config import TableSpec
from lineage_audit.spark import DELTA_MISSING, delta_available

STANDARD_SCHEMA = StructType([
    StructField("customer_id", StringType()),
    StructField("first_name", StringType()),
    StructField("last_name", StringType()),
    StructField("email", StringType()),
    StructField("phone", StringType()),
    StructField("birth_date_text", StringType()),
    StructField("birth_date", DateType()),
    StructField("country_code", StringType()),
    StructField("city", StringType()),
    StructField("segment", StringType()),
    StructField("signup_date", DateType()),
    StructField("updated_at", TimestampType()),
    StructField("raw_record", StringType()),
])
DERIVED_SCHEMA = StructType(STANDARD_SCHEMA.fields + [
    StructField("full_name", StringType()),
    StructField("email_domain", StringType()),
    StructField("age", IntegerType()),
])
REJECTS_SCHEMA = StructType([StructField("reject_reason", StringType()), StructField("raw_record", StringType())])
PROCESSED_SCHEMA = StructType([
    StructField("customer_id", StringType()),
    StructField("first_name", StringType()),
    StructField("last_name", StringType()),
    StructField("full_name", StringType()),
    StructField("email_hash", StringType()),
    StructField("email_domain", StringType()),
    StructField("phone_hash", StringType()),
    StructField("birth_date", DateType()),
    StructField("age", IntegerType()),
    StructField("country_code", StringType()),
    StructField("city", StringType()),
    StructField("segment", StringType()),
    StructField("signup_date", DateType()),
    StructField("updated_at", TimestampType()),
])

# SHA-256 of the clear text, computed independently with hashlib.
ANA_EMAIL_SHA = "7bda2560ce1bf126ff5df73ed84b6c9f8dd6064e33fc273eb05b7761e31c2b86"
ANA_PHONE_SHA = "d6736136ea896c1bfdc553e0e86e702c70d060d805696ca3e4e9e0961353860a"
LARS_EMAIL_SHA = "48f4cc4b1f6b19ad9b3004976e905d3df380cb50b8f435b39b364e99855162d8"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def derived_row(customer_id, *, birth_text="2000-03-15", birth=date(2000, 3, 15), updated=utc(2026, 3, 15, 10),
                age=26, raw="{}", email="ana.silva@example.com", phone="15551234567", first="Ana", last="Silva"):
    full_name = " ".join(p for p in (first, last) if p)
    domain = email.split("@")[1] if email else None
    return (customer_id, first, last, email, phone, birth_text, birth, "GB", "London", "STANDARD", date(2024, 1, 10),
            updated, raw, full_name, domain, age)


def test_standardise_customers_cleans_text_and_parses_every_date_format(spark):
    raw = spark.createDataFrame([
        ("  c000001 ", "  ANA ", "silva  ", "ANA.SILVA@EXAMPLE.COM ", "+1 (555) 123-4567", "2000-03-15",
         " gb", "london", "2024-01-10", "2026-03-15 10:00:00", " premium "),
        ("C000002", "Lars", "Jensen", None, None, "16/03/2000", "SE", "Malmo", "2023-05-01", "2026-03-15 10:00:00", None),
        ("C000003", "mary  ann", "o'neil", "M@X.TEST", "   ", "2000/03/17", "de", "new york", "bad", "2026-03-15", "standard"),
        ("C000004", "Kim", "Lee", "k@x.test", "555", "31-12-1999", "US", "Austin", "2024-02-29", "2026-03-15 10:00:00", "ENTERPRISE"),
    ], customers.RAW_CUSTOMERS_SCHEMA)

    expected = spark.createDataFrame([
        ("C000001", "Ana", "Silva", "ana.silva@example.com", "15551234567", "2000-03-15", date(2000, 3, 15),
         "GB", "London", "PREMIUM", date(2024, 1, 10), utc(2026, 3, 15, 10),
         '{"customer_id":"  c000001 ","first_name":"  ANA ","last_name":"silva  ",'
         '"email":"ANA.SILVA@EXAMPLE.COM ","phone":"+1 (555) 123-4567","birth_date":"2000-03-15",'
         '"country":" gb","city":"london","signup_date":"2024-01-10","updated_at":"2026-03-15 10:00:00",'
         '"segment":" premium "}'),
        ("C000002", "Lars", "Jensen", None, None, "16/03/2000", date(2000, 3, 16),
         "SE", "Malmo", "STANDARD", date(2023, 5, 1), utc(2026, 3, 15, 10),
         '{"customer_id":"C000002","first_name":"Lars","last_name":"Jensen","birth_date":"16/03/2000",'
         '"country":"SE","city":"Malmo","signup_date":"2023-05-01","updated_at":"2026-03-15 10:00:00"}'),
        ("C000003", "Mary Ann", "O'neil", "m@x.test", None, "2000/03/17", date(2000, 3, 17),
         "DE", "New York", "STANDARD", None, None,
         '{"customer_id":"C000003","first_name":"mary  ann","last_name":"o\'neil","email":"M@X.TEST",'
         '"phone":"   ","birth_date":"2000/03/17","country":"de","city":"new york","signup_date":"bad",'
         '"updated_at":"2026-03-15","segment":"standard"}'),
        ("C000004", "Kim", "Lee", "k@x.test", "555", "31-12-1999", None,
         "US", "Austin", "ENTERPRISE", date(2024, 2, 29), utc(2026, 3, 15, 10),
         '{"customer_id":"C000004","first_name":"Kim","last_name":"Lee","email":"k@x.test","phone":"555",'
         '"birth_date":"31-12-1999","country":"US","city":"Austin","signup_date":"2024-02-29",'
         '"updated_at":"2026-03-15 10:00:00","segment":"ENTERPRISE"}'),
    ], STANDARD_SCHEMA)

    assert_df_equality(customers.standardise_customers(raw), expected, ignore_row_order=True, ignore_nullable=True)


def test_add_derived_fields_computes_age_as_of_the_update_date(spark):
    standard = spark.createDataFrame([
        ("C1", "Ana", "Silva", "ana@example.com", None, "t", date(2000, 3, 15), "GB", "London", "STANDARD",
         date(2024, 1, 10), utc(2026, 3, 15, 23, 59), "r1"),
        ("C2", "Ana", None, "ana@mail.test", None, "t", date(2000, 3, 16), "GB", "London", "STANDARD",
         date(2024, 1, 10), utc(2026, 3, 15, 0, 0), "r2"),
        ("C3", "Ana", "Silva", None, None, "t", date(2031, 2, 1), "GB", "London", "STANDARD",
         date(2024, 1, 10), utc(2026, 1, 3), "r3"),
        ("C4", "Ana", "Silva", "a@corp.example.org", None, "t", None, "GB", "London", "STANDARD",
         date(2024, 1, 10), utc(2026, 1, 3), "r4"),
    ], STANDARD_SCHEMA)

    expected = spark.createDataFrame([
        ("C1", "Ana", "Silva", "ana@example.com", None, "t", date(2000, 3, 15), "GB", "London", "STANDARD",
         date(2024, 1, 10), utc(2026, 3, 15, 23, 59), "r1", "Ana Silva", "example.com", 26),
        ("C2", "Ana", None, "ana@mail.test", None, "t", date(2000, 3, 16), "GB", "London", "STANDARD",
         date(2024, 1, 10), utc(2026, 3, 15, 0, 0), "r2", "Ana", "mail.test", 25),
        ("C3", "Ana", "Silva", None, None, "t", date(2031, 2, 1), "GB", "London", "STANDARD",
         date(2024, 1, 10), utc(2026, 1, 3), "r3", "Ana Silva", None, -6),
        ("C4", "Ana", "Silva", "a@corp.example.org", None, "t", None, "GB", "London", "STANDARD",
         date(2024, 1, 10), utc(2026, 1, 3), "r4", "Ana Silva", "corp.example.org", None),
    ], DERIVED_SCHEMA)

    assert_df_equality(customers.add_derived_fields(standard), expected, ignore_row_order=True, ignore_nullable=True)


def test_validate_customers_rejects_missing_keys_and_unusable_ages(spark):
    rows = spark.createDataFrame([
        derived_row("C1", raw="ok"),
        derived_row(None, raw="no id"),
        derived_row("C3", birth_text=None, birth=None, age=None, raw="no birth"),
        derived_row("C4", birth_text="31-12-1999", birth=None, age=None, raw="bad birth"),
        derived_row("C5", birth_text="1880/05/17", birth=date(1880, 5, 17), age=145, raw="too old"),
    ], DERIVED_SCHEMA)

    valid, rejected = customers.validate_customers(rows, min_age=0, max_age=120)

    expected_valid = spark.createDataFrame([derived_row("C1", raw="ok")], DERIVED_SCHEMA)
    expected_rejected = spark.createDataFrame([
        ("missing customer_id", "no id"),
        ("missing birth_date", "no birth"),
        ("unparseable birth_date: 31-12-1999", "bad birth"),
        ("age 145 outside [0, 120]", "too old"),
    ], REJECTS_SCHEMA)
    assert_df_equality(valid, expected_valid, ignore_nullable=True)
    assert_df_equality(rejected, expected_rejected, ignore_row_order=True, ignore_nullable=True)


def test_keep_latest_record_keeps_the_newest_update_per_customer(spark):
    rows = spark.createDataFrame([
        derived_row("C1", updated=utc(2026, 1, 5), raw="c1 old"),
        derived_row("C1", updated=utc(2026, 2, 5), raw="c1 new", email="ana@mail.test"),
        derived_row("C1", updated=utc(2026, 1, 20), raw="c1 middle"),
        derived_row("C2", updated=utc(2026, 1, 1), raw="c2 only"),
    ], DERIVED_SCHEMA)

    latest, superseded = customers.keep_latest_record(rows)

    expected_latest = spark.createDataFrame([
        derived_row("C1", updated=utc(2026, 2, 5), raw="c1 new", email="ana@mail.test"),
        derived_row("C2", updated=utc(2026, 1, 1), raw="c2 only"),
    ], DERIVED_SCHEMA)
    expected_superseded = spark.createDataFrame([
        ("superseded by a later record", "c1 old"),
        ("superseded by a later record", "c1 middle"),
    ], REJECTS_SCHEMA)
    assert_df_equality(latest, expected_latest, ignore_row_order=True, ignore_nullable=True)
    assert_df_equality(superseded, expected_superseded, ignore_row_order=True, ignore_nullable=True)


def test_protect_pii_replaces_email_and_phone_by_hashes(spark):
    rows = spark.createDataFrame([
        derived_row("C1", raw="r1"),
        derived_row("C2", raw="r2", email="lars.jensen@mail.test", phone=None, first="Lars", last="Jensen"),
        derived_row("C3", raw="r3", email=None, phone=None),
    ], DERIVED_SCHEMA)

    expected = spark.createDataFrame([
        ("C1", "Ana", "Silva", "Ana Silva", ANA_EMAIL_SHA, "example.com", ANA_PHONE_SHA, date(2000, 3, 15), 26,
         "GB", "London", "STANDARD", date(2024, 1, 10), utc(2026, 3, 15, 10)),
        ("C2", "Lars", "Jensen", "Lars Jensen", LARS_EMAIL_SHA, "mail.test", None, date(2000, 3, 15), 26,
         "GB", "London", "STANDARD", date(2024, 1, 10), utc(2026, 3, 15, 10)),
        ("C3", "Ana", "Silva", "Ana Silva", None, None, None, date(2000, 3, 15), 26,
         "GB", "London", "STANDARD", date(2024, 1, 10), utc(2026, 3, 15, 10)),
    ], PROCESSED_SCHEMA)

    assert_df_equality(customers.protect_pii(rows), expected, ignore_row_order=True, ignore_nullable=True)


def test_merge_into_customer_master_inserts_new_and_updates_newer_records(spark, tmp_path):
    assert delta_available(spark), DELTA_MISSING
    master = TableSpec("customer_master", str(tmp_path / "master"), "delta")
    first = spark.createDataFrame([
        ("C1", "Ana", "Silva", "Ana Silva", None, None, None, None, 30, "GB", "London", "STANDARD", None, utc(2026, 1, 1)),
        ("C2", "Lars", "Jensen", "Lars Jensen", None, None, None, None, 40, "SE", "Malmo", "STANDARD", None, utc(2026, 1, 1)),
    ], PROCESSED_SCHEMA)
    second = spark.createDataFrame([
        ("C1", "Ana", "Silva", "Ana Silva", None, None, None, None, 31, "GB", "Leeds", "STANDARD", None, utc(2026, 2, 1)),
        ("C2", "Lars", "Jensen", "Lars Jensen", None, None, None, None, 39, "SE", "Lund", "STANDARD", None, utc(2025, 12, 1)),
        ("C3", "Kim", "Lee", "Kim Lee", None, None, None, None, 22, "US", "Austin", "STANDARD", None, utc(2026, 2, 1)),
    ], PROCESSED_SCHEMA)

    customers.merge_into_customer_master(spark, first, master)
    customers.merge_into_customer_master(spark, second, master)

    result = spark.read.format("delta").load(master.path).select("customer_id", "age", "city")
    expected = spark.createDataFrame(
        [("C1", 31, "Leeds"), ("C2", 40, "Malmo"), ("C3", 22, "Austin")], "customer_id string, age int, city string"
    )
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_execute_writes_unique_customers_and_reconciles_with_rejects(spark, pipeline_catalog, job_summary):
    summary = job_summary("customers")
    assert summary.status == "ok"

    output = spark.read.parquet(pipeline_catalog.output("processed_customers").path)
    assert [(f.name, f.dataType) for f in output.schema.fields] == [
        (f.name, f.dataType) for f in PROCESSED_SCHEMA.fields
    ]
    assert output.select("customer_id").distinct().count() == output.count()
    assert output.where(F.col("age").isNull() | ~F.col("age").between(0, 120)).count() == 0
    assert output.where(F.col("email_hash").rlike("^[0-9a-f]{64}$")).count() > 0
    assert output.where(~F.col("segment").isin("STANDARD", "PREMIUM", "ENTERPRISE")).count() == 0

    # the customer master the downstream jobs read: one row per processed customer, no clear-text contact data
    master = spark.read.parquet(pipeline_catalog.output("customer_master").path)
    assert tuple(master.columns) == customers.MASTER_COLUMNS
    assert master.count() == output.count() == master.select("customer_id").distinct().count()

    rejects = spark.read.parquet(pipeline_catalog.rejects("raw_customers").path)
    raw_lines = len(Path(pipeline_catalog.input("raw_customers").path).read_text().splitlines()) - 1  # header
    assert raw_lines == output.count() + rejects.count()
    reasons = {r.reject_reason.split(" ")[0] for r in rejects.select("reject_reason").distinct().collect()}
    assert {"malformed", "superseded", "age"} <= reasons
    assert rejects.where(F.col("rejected_by_job") != "customers").count() == 0
