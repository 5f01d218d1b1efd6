"""Schemas and formats of the raw text feeds, shared by every job that parses them.

Timestamps in the customer and order feeds are read as text and parsed by the jobs, so a bad
value is quarantined with a reason of its own instead of making the whole line malformed.
"""

from __future__ import annotations

from pyspark.sql.types import DoubleType, IntegerType, StringType, StructField, StructType, TimestampType

RAW_CUSTOMERS_SCHEMA = StructType([
    StructField(name, StringType(), True)
    for name in (
        "customer_id", "first_name", "last_name", "email", "phone", "birth_date",
        "country", "city", "signup_date", "updated_at", "segment",
    )
])
# The CRM writes birth dates in any of these; the first that parses wins.
BIRTH_DATE_FORMATS = ("yyyy-MM-dd", "dd/MM/yyyy", "yyyy/MM/dd")

RAW_ORDERS_SCHEMA = StructType([
    StructField("order_id", StringType(), True),
    StructField("customer_id", StringType(), True),
    StructField("product_id", StringType(), True),
    StructField("order_ts", StringType(), True),
    StructField("quantity", IntegerType(), True),
    StructField("unit_price", DoubleType(), True),
    StructField("currency", StringType(), True),
    StructField("status", StringType(), True),
    StructField("channel", StringType(), True),
    StructField("coupon_code", StringType(), True),
])
ORDER_TS_FORMAT = "yyyy-MM-dd'T'HH:mm:ssXXX"  # ISO 8601 with a zone, e.g. 2026-01-01T00:09:49Z

RAW_TRANSACTIONS_SCHEMA = StructType([
    StructField("transaction_id", StringType(), True),
    StructField("account_id", StringType(), True),
    StructField("transaction_ts", TimestampType(), True),
    StructField("amount", DoubleType(), True),
    StructField("currency", StringType(), True),
    StructField("transaction_type", StringType(), True),
    StructField("merchant", StringType(), True),
    StructField("merchant_category", StringType(), True),
    StructField("channel", StringType(), True),
])
