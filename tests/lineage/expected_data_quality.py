"""Data quality: the expected column lineage of every column the job writes (jobs/data_quality.py)."""

from __future__ import annotations

from tests.lineage.harness import AGG, COUNT, I

# The parsed fields of each raw feed, and the checked columns of each table the upstream jobs published:
# every one is profiled (each has a ColumnCheck).
FEED_FIELDS = {
    "raw_customers": ("customer_id", "first_name", "last_name", "email", "phone", "birth_date", "country", "city",
                      "signup_date", "updated_at", "segment"),
    "raw_orders": ("order_id", "customer_id", "product_id", "order_ts", "quantity", "unit_price", "currency",
                   "status", "channel", "coupon_code"),
    "raw_transactions": ("transaction_id", "account_id", "transaction_ts", "amount", "currency",
                         "transaction_type", "merchant", "merchant_category", "channel"),
    "processed_customers": ("customer_id", "full_name", "email_hash", "phone_hash", "age", "country_code", "segment"),
    "enriched_orders": ("order_id", "customer_segment", "product_name", "discount_rate", "net_amount", "currency"),
    "processed_transactions": ("transaction_id", "customer_country", "exchange_rate", "amount_reporting"),
}
RAW_FEEDS = ("raw_customers", "raw_orders", "raw_transactions")  # text read PERMISSIVE: malformed lines split off
KEYS = {"raw_customers": "customer_id", "raw_orders": "order_id", "raw_transactions": "transaction_id",
        "processed_customers": "customer_id", "enriched_orders": "order_id", "processed_transactions": "transaction_id"}


def every_field(*codes: str) -> dict[tuple[str, str], set[str]]:
    """The same codes for every parsed field of the three feeds."""
    return {(table, field): set(codes) for table, fields in FEED_FIELDS.items() for field in fields}


# The fields a rule judges: count_if(value IS NOT NULL AND coalesce(violation, false)) makes each of
# them a condition of what is counted (INDIRECT CONDITIONAL, masked as counts are). city, merchant and
# transaction_ts only have to be present.
UNRULED = {("raw_customers", "city"), ("raw_transactions", "transaction_ts"), ("raw_transactions", "merchant"),
           ("processed_customers", "full_name"), ("enriched_orders", "product_name")}
RULE_CONDITIONS = {field: {I("CONDITIONAL") + "+masked"} for field in every_field() if field not in UNRULED}


def with_rules(lineage: dict[tuple[str, str], set[str]]) -> dict[tuple[str, str], set[str]]:
    return {field: codes | RULE_CONDITIONS.get(field, set()) for field, codes in lineage.items()}


# A report row is one element of an array of per-column structs (literals, count_if, min, max),
# exploded and read back with c.*: lineage does not follow a struct's members, so every value read
# from it depends on the whole array, i.e. on every field of the feed, as an AGGREGATION (min/max),
# and on the rules' conditions.
PROFILE = with_rules(every_field(AGG))
# split_corrupt's filters on _corrupt_record (parsed rows, and the malformed lines counted);
# distinct_counts groups the unpivoted (column, value) pairs by column and joins back on column_name.
REPORT_DATASET = {
    **{(table, "_corrupt_record"): {I("FILTER")} for table in RAW_FEEDS},
    **every_field(I("GROUP_BY"), I("JOIN")),
}
# duplicate_keys: where(key IS NOT NULL).groupBy(key).
SUMMARY_DATASET = {
    **REPORT_DATASET,
    **{(table, key): {I("FILTER"), I("GROUP_BY"), I("JOIN")} for table, key in KEYS.items()},
}

EXPECTED = {
    "data_quality_report": {
        "fields": {
            "table_name": {},
            "column_name": PROFILE,
            "data_type": PROFILE,
            "is_required": PROFILE,
            "row_count": {},  # count(1)
            "null_count": PROFILE,
            "null_rate": PROFILE,
            # count_distinct of the unpivoted values, then coalesce(distinct_count, 0) after the join
            "distinct_count": every_field(COUNT, I("CONDITIONAL") + "+masked"),
            "min_value": PROFILE,
            "max_value": PROFILE,
            "rule": PROFILE,
            "violation_count": PROFILE,
            "violation_rate": PROFILE,
            "malformed_rows": {},  # count(1) of the malformed lines
        },
        "dataset": REPORT_DATASET,
    },
    "data_lineage_summary": {
        "fields": {
            "table_name": {},
            "produced_by_job": {},  # a literal: the job conf/tables.yml names
            "source_format": {},
            "source_path": {},
            "total_records": {},
            "row_count": {},
            "malformed_rows": {},
            "malformed_rate": {},
            "column_count": with_rules(every_field(COUNT)),  # count_distinct(column_name)
            "key_column": {},
            # Built from count(1) per key: no field's value reaches them.
            "duplicate_key_count": {},
            "duplicate_key_rate": {},
            "required_null_cells": every_field(AGG, I("CONDITIONAL")),  # sum(CASE WHEN is_required THEN null_count)
            "violation_cells": PROFILE,
            "quality_score": every_field(AGG, I("CONDITIONAL")),
        },
        "dataset": SUMMARY_DATASET,  # the join to the duplicates is on the literal table_name
    },
    # Rows unpivoted by stack(): each output column takes its own argument of every row. The
    # table-level checks only stack literals and count(1)-derived values.
    "quality_alerts": {
        "fields": {
            # a sha2 of table_name, column_name and the literal check_name
            "alert_id": with_rules(every_field(COUNT)),
            "table_name": {},
            "column_name": PROFILE,
            "check_name": {},  # literals
            # when(is_required, null_rate), violation_rate
            "observed_rate": every_field(AGG, I("CONDITIONAL")),
            "threshold": {},  # literals
            "affected_rows": PROFILE,  # null_count, violation_count
            "severity": every_field(I("CONDITIONAL")),  # CASE WHEN on observed_rate / threshold
            "message": every_field(AGG, I("CONDITIONAL")),
        },
        # where(observed_rate > threshold) filters on every field as well.
        "dataset": {**SUMMARY_DATASET, **every_field(I("FILTER"), I("GROUP_BY"), I("JOIN"))},
    },
}
