"""Orders: the expected column lineage of every column the job writes (jobs/orders.py)."""

from __future__ import annotations

from tests.lineage.harness import AGG, COUNT, ID, TR, I

# The parsed fields of a raw_orders line. Every one reaches the valid rows' filters: the duplicate
# check orders each order_id's copies by the whole raw line (rebuilt from these fields).
RAW_FIELDS = ("order_id", "customer_id", "product_id", "order_ts", "quantity", "unit_price", "currency", "status",
              "channel", "coupon_code")
RAW_FILTERS = {("raw_orders", "_corrupt_record"): {I("FILTER")},
               **{("raw_orders", f): {I("FILTER")} for f in RAW_FIELDS}}
# Tier and rate: CASE WHEN on the quantity, then on the customer's segment.
TIER = {("raw_orders", "quantity"): {I("CONDITIONAL")}, ("customer_master", "segment"): {I("CONDITIONAL")}}
# round(gross - round(gross * rate)), gross = round(quantity * unit_price)
NET = {("raw_orders", "quantity"): {TR, I("CONDITIONAL")}, ("raw_orders", "unit_price"): {TR},
       ("customer_master", "segment"): {I("CONDITIONAL")}}
GROSS = {("raw_orders", "quantity"): {TR}, ("raw_orders", "unit_price"): {TR}}

EXPECTED = {
    "enriched_orders": {
        "fields": {
            "order_id": {("raw_orders", "order_id"): {TR}},  # upper(trim())
            "customer_id": {("raw_orders", "customer_id"): {TR}},  # the join's USING key is the orders' side
            "customer_segment": {("customer_master", "segment"): {ID}},
            "customer_country": {("customer_master", "country_code"): {ID}},
            "product_id": {("raw_orders", "product_id"): {TR}},
            "is_known_product": {("product_catalog", "product_id"): {TR}},  # catalog_product_id IS NOT NULL
            "product_name": {("product_catalog", "product_name"): {ID}},
            "category": {("product_catalog", "category"): {ID}},
            "brand": {("product_catalog", "brand"): {ID}},
            "list_price": {("product_catalog", "unit_price"): {ID}},
            "order_ts": {("raw_orders", "order_ts"): {TR}},  # try_to_timestamp(trim())
            "order_date": {("raw_orders", "order_ts"): {TR}},
            "order_hour": {("raw_orders", "order_ts"): {TR}},
            "quantity": {("raw_orders", "quantity"): {ID}},
            "unit_price": {("raw_orders", "unit_price"): {ID}},
            "currency": {("raw_orders", "currency"): {TR}},
            "status": {("raw_orders", "status"): {TR}},
            "channel": {("raw_orders", "channel"): {TR}},
            "coupon_code": {("raw_orders", "coupon_code"): {TR}},
            "gross_amount": GROSS,
            "discount_tier": TIER,
            "discount_rate": TIER,
            "discount_amount": NET,
            "net_amount": NET,
            "is_high_value": GROSS,
        },
        "dataset": {
            **RAW_FILTERS,
            ("raw_orders", "customer_id"): {I("FILTER"), I("JOIN")},
            ("raw_orders", "product_id"): {I("FILTER"), I("JOIN")},
            ("customer_master", "customer_id"): {I("JOIN")},
            ("product_catalog", "product_id"): {I("JOIN")},
        },
    },
    "order_summary": {
        "fields": {
            "customer_id": {("raw_orders", "customer_id"): {TR}},
            "order_date": {("raw_orders", "order_ts"): {TR}},
            "order_count": {("raw_orders", "order_id"): {COUNT}},
            "total_net_amount": {("raw_orders", "quantity"): {AGG, I("CONDITIONAL")},
                                 ("raw_orders", "unit_price"): {AGG}, ("customer_master", "segment"): {I("CONDITIONAL")}},
            "avg_net_amount": {("raw_orders", "quantity"): {AGG, I("CONDITIONAL")},
                               ("raw_orders", "unit_price"): {AGG}, ("customer_master", "segment"): {I("CONDITIONAL")}},
            "total_quantity": {("raw_orders", "quantity"): {AGG}},
            "distinct_products": {("raw_orders", "product_id"): {COUNT}},
            "high_value_orders": {("raw_orders", "quantity"): {COUNT}, ("raw_orders", "unit_price"): {COUNT}},
            "first_order_ts": {("raw_orders", "order_ts"): {AGG}},
            "last_order_ts": {("raw_orders", "order_ts"): {AGG}},
        },
        "dataset": {
            **RAW_FILTERS,
            ("raw_orders", "customer_id"): {I("FILTER"), I("JOIN"), I("GROUP_BY")},
            ("raw_orders", "order_ts"): {I("FILTER"), I("GROUP_BY")},  # grouped by to_date(order_ts)
            ("raw_orders", "product_id"): {I("FILTER"), I("JOIN")},
            ("customer_master", "customer_id"): {I("JOIN")},
            ("product_catalog", "product_id"): {I("JOIN")},
        },
    },
    # Malformed lines, failed checks, later copies of an order and unknown customers, in one union.
    "rejects/raw_orders": {
        "fields": {
            "source_table": {},
            # The checks' CASE WHEN, and the duplicates' "exact resend?" test against the copy kept
            # by a window ordered by the raw line (unmasked through that ORDER BY).
            "reject_reason": {("raw_orders", f): {I("CONDITIONAL")} for f in RAW_FIELDS},
            # the JSON of the parsed fields, or the malformed line itself
            "raw_record": {("raw_orders", "_corrupt_record"): {ID}, **{("raw_orders", f): {TR} for f in RAW_FIELDS}},
            "rejected_by_job": {},
        },
        "dataset": {
            **RAW_FILTERS,
            ("raw_orders", "customer_id"): {I("FILTER"), I("JOIN")},  # the anti-join to customer_master
            ("customer_master", "customer_id"): {I("JOIN")},
        },
    },
}
