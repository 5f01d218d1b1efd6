"""Orders: enrich the web-shop feed raw_orders (JSON lines) into enriched_orders and order_summary.

Orders are validated, de-duplicated on order_id, joined to customer_master, the master the customers
job maintains (inner: an order of an unknown customer is quarantined) and to product_catalog (left: an unknown product keeps null
product fields and a flag), then priced: gross amount, a discount tier from conf/jobs.yml, net
amount and a high-value flag. order_summary aggregates the enriched orders per customer and day.
Rows of raw_orders = rows of enriched_orders + rejects of raw_orders.
"""

from __future__ import annotations

import sys

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lineage_audit.config import job_settings
from lineage_audit.job import JobRun
from lineage_audit.raw_feeds import ORDER_TS_FORMAT, RAW_ORDERS_SCHEMA
from lineage_audit.tables import as_rejects, split_corrupt


PREMIUM_SEGMENT = "PREMIUM"

ORDER_COLUMNS = (
    "order_id", "customer_id", "product_id", "order_ts", "quantity", "unit_price",
    "currency", "status", "channel", "coupon_code", "raw_record",
)


def standardise_orders(raw: DataFrame) -> DataFrame:
    """Trim and case the codes, parse order_ts; keep the parsed line as JSON for quarantine."""
    return raw.select(
        F.upper(F.trim("order_id")).alias("order_id"),
        F.upper(F.trim("customer_id")).alias("customer_id"),
        F.upper(F.trim("product_id")).alias("product_id"),
        F.try_to_timestamp(F.trim("order_ts"), F.lit(ORDER_TS_FORMAT)).alias("order_ts"),
        F.col("quantity").alias("quantity"),
        F.col("unit_price").alias("unit_price"),
        F.upper(F.trim("currency")).alias("currency"),
        F.upper(F.trim("status")).alias("status"),
        F.lower(F.trim("channel")).alias("channel"),
        F.upper(F.trim("coupon_code")).alias("coupon_code"),
        F.to_json(F.struct(*[F.col(c) for c in RAW_ORDERS_SCHEMA.fieldNames()])).alias("raw_record"),
    )


def validate_orders(orders: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Split into (valid, rejected): keys, a positive quantity, a non-negative price, a timestamp."""
    reason = (
        F.when(F.col("order_id").isNull(), "missing order_id")
        .when(F.col("customer_id").isNull(), "missing customer_id")
        .when(F.col("quantity").isNull(), "null quantity")
        .when(F.col("quantity") <= 0, "non-positive quantity")
        .when(F.col("unit_price").isNull(), "null unit_price")
        .when(F.col("unit_price") < 0, "negative unit_price")
        .when(F.col("order_ts").isNull(), "unparseable order_ts")
    )
    checked = orders.withColumn("reject_reason", reason)
    valid = checked.where(F.col("reject_reason").isNull()).select(*[F.col(c) for c in ORDER_COLUMNS])
    rejected = as_rejects(checked.where(F.col("reject_reason").isNotNull()), F.col("reject_reason"), F.col("raw_record"))
    return valid, rejected


def drop_duplicate_orders(orders: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Split into (first record per order_id, later copies); a copy's reason says if it is exact."""
    # The raw line breaks ties on order_ts, so reruns keep the same copy.
    first_seen = Window.partitionBy("order_id").orderBy(F.col("order_ts").asc(), F.col("raw_record").asc())
    ranked = orders.select(
        *[F.col(c) for c in ORDER_COLUMNS],
        F.row_number().over(first_seen).alias("copy_number"),
        F.first(F.sha2("raw_record", 256)).over(first_seen).alias("kept_record_hash"),
    )
    kept = ranked.where(F.col("copy_number") == 1).select(*[F.col(c) for c in ORDER_COLUMNS])
    reason = (
        F.when(F.sha2("raw_record", 256) == F.col("kept_record_hash"), "duplicate order_id: exact resend")
        .otherwise("duplicate order_id: conflicting content")
    )
    duplicates = as_rejects(ranked.where(F.col("copy_number") > 1), reason, F.col("raw_record"))
    return kept, duplicates


def unknown_customer_orders(orders: DataFrame, customers: DataFrame) -> DataFrame:
    """Rejects for the orders whose customer_id is not in the customer master."""
    unknown = orders.join(customers.select("customer_id"), on="customer_id", how="left_anti")
    return as_rejects(unknown, "unknown customer_id", F.col("raw_record"))


def enrich_orders(orders: DataFrame, customers: DataFrame, products: DataFrame) -> DataFrame:
    """Attach the customer (inner join) and the product (left join, flagged when unknown)."""
    customer_fields = customers.select(
        F.col("customer_id"),
        F.col("segment").alias("customer_segment"),
        F.col("country_code").alias("customer_country"),
    )
    product_fields = products.select(
        F.col("product_id").alias("catalog_product_id"),
        F.col("product_name"),
        F.col("category"),
        F.col("brand"),
        F.col("unit_price").alias("list_price"),
    )
    joined = (
        orders.join(customer_fields, on="customer_id", how="inner")
        .join(product_fields, on=F.col("product_id") == F.col("catalog_product_id"), how="left")
    )
    return joined.select(
        "order_id", "customer_id", "customer_segment", "customer_country", "product_id",
        F.col("catalog_product_id").isNotNull().alias("is_known_product"),
        "product_name", "category", "brand", "list_price",
        "order_ts", "quantity", "unit_price", "currency", "status", "channel", "coupon_code",
    )


def price_orders(
    orders: DataFrame, *, bulk_quantity: int, bulk_discount: float, premium_discount: float, high_value_amount: float
) -> DataFrame:
    """Gross, discount (first matching tier wins), net, high-value flag, order date and hour."""
    gross = F.round(F.col("quantity") * F.col("unit_price"), 2)
    tier = (
        F.when(F.col("quantity") >= bulk_quantity, F.lit("BULK"))
        .when(F.col("customer_segment") == PREMIUM_SEGMENT, F.lit("PREMIUM"))
        .otherwise(F.lit("NONE"))
    )
    rate = (
        F.when(F.col("quantity") >= bulk_quantity, F.lit(bulk_discount))
        .when(F.col("customer_segment") == PREMIUM_SEGMENT, F.lit(premium_discount))
        .otherwise(F.lit(0.0))
    )
    discount = F.round(gross * rate, 2)
    return orders.select(
        "order_id", "customer_id", "customer_segment", "customer_country", "product_id",
        "is_known_product", "product_name", "category", "brand", "list_price",
        "order_ts",
        F.to_date("order_ts").alias("order_date"),
        F.hour("order_ts").alias("order_hour"),
        "quantity", "unit_price", "currency", "status", "channel", "coupon_code",
        gross.alias("gross_amount"),
        tier.alias("discount_tier"),
        rate.alias("discount_rate"),
        discount.alias("discount_amount"),
        F.round(gross - discount, 2).alias("net_amount"),
        (gross > high_value_amount).alias("is_high_value"),
    )


def summarise_orders(orders: DataFrame) -> DataFrame:
    """One row per customer and order date."""
    return orders.groupBy("customer_id", "order_date").agg(
        F.count("order_id").alias("order_count"),
        F.round(F.sum("net_amount"), 2).alias("total_net_amount"),
        F.round(F.avg("net_amount"), 2).alias("avg_net_amount"),
        F.sum("quantity").alias("total_quantity"),
        F.countDistinct("product_id").alias("distinct_products"),
        F.count_if(F.col("is_high_value")).alias("high_value_orders"),
        F.min("order_ts").alias("first_order_ts"),
        F.max("order_ts").alias("last_order_ts"),
    ).select(
        "customer_id", "order_date", "order_count", "total_net_amount", "avg_net_amount",
        "total_quantity", "distinct_products", "high_value_orders", "first_order_ts", "last_order_ts",
    )


def execute(run: JobRun) -> None:
    settings = job_settings("orders")
    parsed, malformed = split_corrupt(run.read("raw_orders", RAW_ORDERS_SCHEMA))
    customers = run.read("customer_master")
    products = run.read("product_catalog")
    valid, invalid = validate_orders(parsed.transform(standardise_orders))
    orders, duplicates = drop_duplicate_orders(valid)
    enriched = enrich_orders(orders, customers, products).transform(
        price_orders,
        bulk_quantity=int(settings["bulk_quantity"]),
        bulk_discount=float(settings["bulk_discount"]),
        premium_discount=float(settings["premium_discount"]),
        high_value_amount=float(settings["high_value_amount"]),
    )
    run.write("enriched_orders", enriched)
    run.write("order_summary", enriched.transform(summarise_orders))
    run.reject("raw_orders", malformed, invalid, duplicates, unknown_customer_orders(orders, customers))


def main() -> int:
    with JobRun("orders") as run:
        execute(run)
    return run.exit_code


if __name__ == "__main__":
    sys.exit(main())
