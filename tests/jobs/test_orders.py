"""Tests of jobs/orders.py: each transform on a few inline rows, then the whole job on sample data."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType, DateType, DoubleType, IntegerType, LongType, StringType, StructField, StructType, TimestampType,
)

from jobs import orders

ORDER_SCHEMA = StructType([
    StructField("order_id", StringType()),
    StructField("customer_id", StringType()),
    StructField("product_id", StringType()),
    StructField("order_ts", TimestampType()),
    StructField("quantity", IntegerType()),
    StructField("unit_price", DoubleType()),
    StructField("currency", StringType()),
    StructField("status", StringType()),
    StructField("channel", StringType()),
    StructField("coupon_code", StringType()),
    StructField("raw_record", StringType()),
])
REJECTS_SCHEMA = StructType([StructField("reject_reason", StringType()), StructField("raw_record", StringType())])
# customer_master as the customers job writes it (jobs/customers.py MASTER_COLUMNS)
CUSTOMER_MASTER_SCHEMA = (
    "customer_id string, full_name string, email_hash string, segment string, country_code string, city string, "
    "signup_date date, updated_at timestamp"
)
PRODUCT_CATALOG_SCHEMA = (
    "product_id string, product_name string, category string, brand string, unit_price double, "
    "currency string, is_active boolean"
)
ENRICHED_FIELDS = [
    StructField("order_id", StringType()),
    StructField("customer_id", StringType()),
    StructField("customer_segment", StringType()),
    StructField("customer_country", StringType()),
    StructField("product_id", StringType()),
    StructField("is_known_product", BooleanType()),
    StructField("product_name", StringType()),
    StructField("category", StringType()),
    StructField("brand", StringType()),
    StructField("list_price", DoubleType()),
    StructField("order_ts", TimestampType()),
    StructField("quantity", IntegerType()),
    StructField("unit_price", DoubleType()),
    StructField("currency", StringType()),
    StructField("status", StringType()),
    StructField("channel", StringType()),
    StructField("coupon_code", StringType()),
]
ENRICHED_SCHEMA = StructType(ENRICHED_FIELDS)
PRICED_SCHEMA = StructType(ENRICHED_FIELDS[:11] + [
    StructField("order_date", DateType()),
    StructField("order_hour", IntegerType()),
] + ENRICHED_FIELDS[11:] + [
    StructField("gross_amount", DoubleType()),
    StructField("discount_tier", StringType()),
    StructField("discount_rate", DoubleType()),
    StructField("discount_amount", DoubleType()),
    StructField("net_amount", DoubleType()),
    StructField("is_high_value", BooleanType()),
])
SUMMARY_SCHEMA = StructType([
    StructField("customer_id", StringType()),
    StructField("order_date", DateType()),
    StructField("order_count", LongType()),
    StructField("total_net_amount", DoubleType()),
    StructField("avg_net_amount", DoubleType()),
    StructField("total_quantity", LongType()),
    StructField("distinct_products", LongType()),
    StructField("high_value_orders", LongType()),
    StructField("first_order_ts", TimestampType()),
    StructField("last_order_ts", TimestampType()),
])
PRICING = {"bulk_quantity": 10, "bulk_discount": 0.10, "premium_discount": 0.05, "high_value_amount": 1000.0}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def order(order_id, *, customer="C1", product="P1", ts=utc(2026, 1, 2, 9, 30), quantity=2, price=10.0, raw=None):
    return (order_id, customer, product, ts, quantity, price, "USD", "PLACED", "web", None, raw or order_id)


def enriched(order_id, customer, segment, product, *, known=True, quantity=1, price=10.0, ts=utc(2026, 1, 2, 9, 30)):
    product_fields = ("Acme Toys 1", "Toys", "Acme", 9.5) if known else (None, None, None, None)
    return (order_id, customer, segment, "GB", product, known, *product_fields, ts, quantity, price,
            "USD", "PLACED", "web", None)


def test_standardise_orders_trims_codes_and_parses_the_timestamp(spark):
    raw = spark.createDataFrame([
        (" o0000001", "c000001 ", "p00001", "2026-01-02T09:30:15Z", 2, 19.5, "usd", "placed", " Web ", None),
        ("O0000002", "C000002", "P00002", "2026-01-02T23:59:59+02:00", None, -3.0, "USD", "SHIPPED", "mobile", "vip"),
        ("O0000003", "C000003", "P00003", "02/01/2026 10:00", 1, 5.0, "USD", "PLACED", "store", None),
    ], orders.RAW_ORDERS_SCHEMA)

    expected = spark.createDataFrame([
        ("O0000001", "C000001", "P00001", utc(2026, 1, 2, 9, 30, 15), 2, 19.5, "USD", "PLACED", "web", None,
         '{"order_id":" o0000001","customer_id":"c000001 ","product_id":"p00001",'
         '"order_ts":"2026-01-02T09:30:15Z","quantity":2,"unit_price":19.5,"currency":"usd",'
         '"status":"placed","channel":" Web "}'),
        ("O0000002", "C000002", "P00002", utc(2026, 1, 2, 21, 59, 59), None, -3.0, "USD", "SHIPPED", "mobile", "VIP",
         '{"order_id":"O0000002","customer_id":"C000002","product_id":"P00002",'
         '"order_ts":"2026-01-02T23:59:59+02:00","unit_price":-3.0,"currency":"USD",'
         '"status":"SHIPPED","channel":"mobile","coupon_code":"vip"}'),
        ("O0000003", "C000003", "P00003", None, 1, 5.0, "USD", "PLACED", "store", None,
         '{"order_id":"O0000003","customer_id":"C000003","product_id":"P00003",'
         '"order_ts":"02/01/2026 10:00","quantity":1,"unit_price":5.0,"currency":"USD",'
         '"status":"PLACED","channel":"store"}'),
    ], ORDER_SCHEMA)

    assert_df_equality(orders.standardise_orders(raw), expected, ignore_row_order=True, ignore_nullable=True)


def test_validate_orders_rejects_null_quantity_negative_price_and_bad_timestamps(spark):
    rows = spark.createDataFrame([
        order("O1"),
        order("O2", quantity=None),
        order("O3", price=-4.5),
        order("O4", ts=None),
        order("O5", customer=None),
    ], ORDER_SCHEMA)

    valid, rejected = orders.validate_orders(rows)

    expected_rejected = spark.createDataFrame([
        ("null quantity", "O2"),
        ("negative unit_price", "O3"),
        ("unparseable order_ts", "O4"),
        ("missing customer_id", "O5"),
    ], REJECTS_SCHEMA)
    assert_df_equality(valid, spark.createDataFrame([order("O1")], ORDER_SCHEMA), ignore_nullable=True)
    assert_df_equality(rejected, expected_rejected, ignore_row_order=True, ignore_nullable=True)


def test_drop_duplicate_orders_keeps_the_first_copy_and_names_exact_resends(spark):
    rows = spark.createDataFrame([
        order("O1", ts=utc(2026, 1, 2, 9), raw="o1 original"),
        order("O1", ts=utc(2026, 1, 2, 9), raw="o1 original"),
        order("O2", ts=utc(2026, 1, 3, 8), quantity=5, raw="o2 later"),
        order("O2", ts=utc(2026, 1, 3, 7), raw="o2 first"),
        order("O3", raw="o3"),
    ], ORDER_SCHEMA)

    kept, duplicates = orders.drop_duplicate_orders(rows)

    expected_kept = spark.createDataFrame([
        order("O1", ts=utc(2026, 1, 2, 9), raw="o1 original"),
        order("O2", ts=utc(2026, 1, 3, 7), raw="o2 first"),
        order("O3", raw="o3"),
    ], ORDER_SCHEMA)
    expected_duplicates = spark.createDataFrame([
        ("duplicate order_id: exact resend", "o1 original"),
        ("duplicate order_id: conflicting content", "o2 later"),
    ], REJECTS_SCHEMA)
    assert_df_equality(kept, expected_kept, ignore_row_order=True, ignore_nullable=True)
    assert_df_equality(duplicates, expected_duplicates, ignore_row_order=True, ignore_nullable=True)


def test_unknown_customer_orders_quarantines_orders_of_unknown_customers(spark):
    rows = spark.createDataFrame([
        order("O1", customer="C1", raw="o1"),
        order("O2", customer="C999", raw="o2"),
        order("O3", customer="C2", raw="o3"),
        order("O4", customer="C998", raw="o4"),
    ], ORDER_SCHEMA)
    master = spark.createDataFrame([
        ("C1", "Ana Silva", "hash-C1", "PREMIUM", "GB", "London", date(2024, 1, 1), None),
        ("C2", "Lars Jensen", "hash-C2", "STANDARD", "SE", "Malmo", date(2024, 1, 1), None),
    ], CUSTOMER_MASTER_SCHEMA)

    expected = spark.createDataFrame(
        [("unknown customer_id", "o2"), ("unknown customer_id", "o4")], REJECTS_SCHEMA
    )
    assert_df_equality(
        orders.unknown_customer_orders(rows, master), expected, ignore_row_order=True, ignore_nullable=True
    )


def test_enrich_orders_inner_joins_customers_and_left_joins_products(spark):
    rows = spark.createDataFrame([
        order("O1", customer="C1", product="P1"),
        order("O2", customer="C2", product="P404"),
        order("O3", customer="C999", product="P1"),
    ], ORDER_SCHEMA)
    master = spark.createDataFrame([
        ("C1", "Ana Silva", "hash-C1", "PREMIUM", "GB", "London", date(2024, 1, 1), None),
        ("C2", "Lars Jensen", "hash-C2", "STANDARD", "GB", "Leeds", date(2024, 1, 1), None),
    ], CUSTOMER_MASTER_SCHEMA)
    catalog = spark.createDataFrame([
        ("P1", "Acme Toys 1", "Toys", "Acme", 9.5, "USD", True),
        ("P2", "Stark Books 2", "Books", "Stark", 12.0, "USD", True),
    ], PRODUCT_CATALOG_SCHEMA)

    expected = spark.createDataFrame([
        enriched("O1", "C1", "PREMIUM", "P1", quantity=2),
        enriched("O2", "C2", "STANDARD", "P404", known=False, quantity=2),
    ], ENRICHED_SCHEMA)

    assert_df_equality(
        orders.enrich_orders(rows, master, catalog), expected, ignore_row_order=True, ignore_nullable=True
    )


def test_price_orders_applies_the_first_matching_discount_tier(spark):
    rows = spark.createDataFrame([
        enriched("O1", "C1", "STANDARD", "P1", quantity=3, price=19.99, ts=utc(2026, 1, 2, 23, 15)),
        enriched("O2", "C2", "PREMIUM", "P1", quantity=2, price=50.0),
        enriched("O3", "C2", "PREMIUM", "P1", quantity=12, price=100.0),
        enriched("O4", "C3", "ENTERPRISE", "P9", known=False, quantity=10, price=0.5),
    ], ENRICHED_SCHEMA)

    def priced(base, order_date, hour, gross, tier, rate, discount, net, high):
        return (*base[:11], order_date, hour, *base[11:], gross, tier, rate, discount, net, high)

    expected = spark.createDataFrame([
        priced(enriched("O1", "C1", "STANDARD", "P1", quantity=3, price=19.99, ts=utc(2026, 1, 2, 23, 15)),
               date(2026, 1, 2), 23, 59.97, "NONE", 0.0, 0.0, 59.97, False),
        priced(enriched("O2", "C2", "PREMIUM", "P1", quantity=2, price=50.0),
               date(2026, 1, 2), 9, 100.0, "PREMIUM", 0.05, 5.0, 95.0, False),
        priced(enriched("O3", "C2", "PREMIUM", "P1", quantity=12, price=100.0),
               date(2026, 1, 2), 9, 1200.0, "BULK", 0.10, 120.0, 1080.0, True),
        priced(enriched("O4", "C3", "ENTERPRISE", "P9", known=False, quantity=10, price=0.5),
               date(2026, 1, 2), 9, 5.0, "BULK", 0.10, 0.5, 4.5, False),
    ], PRICED_SCHEMA)

    assert_df_equality(
        orders.price_orders(rows, **PRICING), expected, ignore_row_order=True, ignore_nullable=True
    )


def test_summarise_orders_aggregates_per_customer_and_day(spark):
    def line(order_id, customer, product, ts, quantity, net, high=False):
        base = enriched(order_id, customer, "STANDARD", product, quantity=quantity, ts=ts)
        return (*base[:11], ts.date(), ts.hour, *base[11:], net, "NONE", 0.0, 0.0, net, high)

    rows = spark.createDataFrame([
        line("O1", "C1", "P1", utc(2026, 1, 2, 8), 1, 10.0),
        line("O2", "C1", "P2", utc(2026, 1, 2, 17), 3, 1500.5, high=True),
        line("O3", "C1", "P1", utc(2026, 1, 2, 12), 2, 20.0),
        line("O4", "C1", "P1", utc(2026, 1, 3, 9), 4, 40.0),
        line("O5", "C2", "P3", utc(2026, 1, 2, 9), 1, 7.25),
    ], PRICED_SCHEMA)

    expected = spark.createDataFrame([
        ("C1", date(2026, 1, 2), 3, 1530.5, 510.17, 6, 2, 1, utc(2026, 1, 2, 8), utc(2026, 1, 2, 17)),
        ("C1", date(2026, 1, 3), 1, 40.0, 40.0, 4, 1, 0, utc(2026, 1, 3, 9), utc(2026, 1, 3, 9)),
        ("C2", date(2026, 1, 2), 1, 7.25, 7.25, 1, 1, 0, utc(2026, 1, 2, 9), utc(2026, 1, 2, 9)),
    ], SUMMARY_SCHEMA)

    assert_df_equality(orders.summarise_orders(rows), expected, ignore_row_order=True, ignore_nullable=True)


def test_execute_enriches_summarises_and_reconciles_with_rejects(spark, pipeline_catalog, job_summary):
    summary = job_summary("orders")
    assert summary.status == "ok"

    enriched_out = spark.read.parquet(pipeline_catalog.output("enriched_orders").path)
    summary_out = spark.read.parquet(pipeline_catalog.output("order_summary").path)
    assert [(f.name, f.dataType) for f in enriched_out.schema.fields] == [
        (f.name, f.dataType) for f in PRICED_SCHEMA.fields
    ]
    assert [(f.name, f.dataType) for f in summary_out.schema.fields] == [
        (f.name, f.dataType) for f in SUMMARY_SCHEMA.fields
    ]
    enriched_rows = enriched_out.count()
    assert enriched_out.select("order_id").distinct().count() == enriched_rows
    assert summary_out.select("customer_id", "order_date").distinct().count() == summary_out.count()
    assert summary_out.agg(F.sum("order_count")).first()[0] == enriched_rows
    assert enriched_out.where((F.col("quantity") <= 0) | (F.col("unit_price") < 0)).count() == 0

    rejects = spark.read.parquet(pipeline_catalog.rejects("raw_orders").path)
    raw_lines = len(Path(pipeline_catalog.input("raw_orders").path).read_text().splitlines())
    assert raw_lines == enriched_rows + rejects.count()
    reasons = {r.reject_reason for r in rejects.select("reject_reason").distinct().collect()}
    assert {"malformed record", "null quantity", "negative unit_price", "unknown customer_id"} <= reasons
