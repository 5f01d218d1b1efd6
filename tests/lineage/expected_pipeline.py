"""The pipeline's expected column lineage across jobs: where the values of a downstream column come from.

``FLOWS`` maps an output column to exactly the generated-input columns whose values reach it through
DIRECT edges (``harness.end_to_end_sources``): ``(source table, source column, masked, jobs)``, the jobs
being every hop from the source to the column, first to last, and ``masked`` whether a hash or a count
intervened on that path. INDIRECT dependencies (a filter, a join key, a CASE WHEN condition) carry no
values and so are not followed: the customer's segment decides the orders' discount, yet no segment value
is in ``net_amount``. ``INCLUDES`` holds paths for columns whose sources are too many to list (a profile of
every column of six tables): each listed path must be among them.
"""

from __future__ import annotations

CUSTOMERS_ORDERS = ("customers", "orders")
CUSTOMERS_FINANCIAL = ("customers", "financial")
CUSTOMERS_ANALYTICS = ("customers", "analytics")

FLOWS: dict[tuple[str, str], set[tuple[str, str, bool, tuple[str, ...]]]] = {
    # orders joins the customer master the customers job maintains
    ("enriched_orders", "customer_segment"): {("raw_customers", "segment", False, CUSTOMERS_ORDERS)},
    ("enriched_orders", "customer_country"): {("raw_customers", "country", False, CUSTOMERS_ORDERS)},
    # the segment picks the discount tier (INDIRECT): the amounts come from the order feed alone
    ("enriched_orders", "net_amount"): {("raw_orders", "quantity", False, ("orders",)),
                                       ("raw_orders", "unit_price", False, ("orders",))},
    # financial attaches the account holder from the same master
    ("processed_transactions", "customer_segment"): {("raw_customers", "segment", False, CUSTOMERS_FINANCIAL)},
    ("processed_transactions", "customer_country"): {("raw_customers", "country", False, CUSTOMERS_FINANCIAL)},
    ("daily_account_summary", "customer_country"): {("raw_customers", "country", False, CUSTOMERS_FINANCIAL)},
    # analytics builds its user profiles from processed_customers
    ("real_time_user_analytics", "age"): {("raw_customers", "birth_date", False, CUSTOMERS_ANALYTICS),
                                          ("raw_customers", "updated_at", False, CUSTOMERS_ANALYTICS)},
    ("real_time_user_analytics", "country"): {("raw_customers", "country", False, CUSTOMERS_ANALYTICS)},
    ("real_time_user_analytics", "is_premium"): {("raw_customers", "segment", False, CUSTOMERS_ANALYTICS)},
    ("real_time_user_analytics", "days_since_signup"): {
        ("raw_customers", "signup_date", False, CUSTOMERS_ANALYTICS),
        ("user_events_stream", "event_ts", False, ("analytics",)),
    },
    # the ML job's behavioural features: order figures from order_summary, sessions from analytics
    ("model_predictions", "churn_probability"): {
        *{("training_data", f, False, ("ml_pipeline",))
          for f in ("tenure_months", "monthly_spend", "support_tickets", "num_products", "last_login_days",
                    "contract_type")},
        ("raw_orders", "order_id", True, ("orders", "ml_pipeline")),  # order_count: a count
        ("raw_orders", "order_ts", False, ("orders", "ml_pipeline")),  # order_date, its days since and 90-day window
        ("raw_orders", "quantity", False, ("orders", "ml_pipeline")),  # total_net_amount
        ("raw_orders", "unit_price", False, ("orders", "ml_pipeline")),
        ("user_events_stream", "user_id", True, ("analytics", "ml_pipeline")),  # a count of hashed session ids
    },
    # the model card: how many training rows had behaviour from orders or sessions (counts: masked)
    ("trained_model", "rows_with_behaviour_features"): {
        ("raw_orders", "customer_id", True, ("orders", "ml_pipeline")),
        ("user_events_stream", "user_id", True, ("analytics", "ml_pipeline")),
    },
    # the metrics are computed from the predictions as published: two hops inside the ML job
    ("model_metrics", "model_name"): set(),  # a literal all the way
    # the lake archives order_summary: a record per customer and day
    ("raw_data_lake", "event_ts"): {
        ("external_api_data", "fetched_at", False, ("data_lake_ingestion",)),
        ("log_files", "value", False, ("data_lake_ingestion",)),
        ("sensor_data", "reading_ts", False, ("data_lake_ingestion",)),
        ("social_media_feeds", "posted_at", False, ("data_lake_ingestion",)),
        ("raw_orders", "order_ts", False, ("orders", "data_lake_ingestion")),  # last_order_ts = max(order_ts)
    },
    # compliance's documented edges are named by literals upstream: no value of any feed reaches them
    ("governance_dashboard", "documented_lineage_edges"): set(),
}

# Across three jobs: the raw segment, through the customer master, into the orders the data quality job profiles.
THREE_JOBS = ("customers", "orders", "data_quality")
INCLUDES: dict[tuple[str, str], set[tuple[str, str, bool, tuple[str, ...]]]] = {
    ("data_quality_report", "min_value"): {
        ("raw_customers", "segment", False, THREE_JOBS),
        ("raw_customers", "country", False, ("customers", "financial", "data_quality")),
        # the e-mail, hashed by customers, stays masked downstream; the raw feed's own profile reads it in the clear
        ("raw_customers", "email", True, ("customers", "data_quality")),
        ("raw_customers", "email", False, ("data_quality",)),
    },
    ("quality_alerts", "column_name"): {
        # the alerts are computed from the report in memory, not read back: one hop in data_quality
        ("raw_customers", "segment", False, THREE_JOBS),
    },
    ("raw_data_lake", "payload"): {
        ("raw_orders", "quantity", False, ("orders", "data_lake_ingestion")),
        ("raw_orders", "order_id", True, ("orders", "data_lake_ingestion")),  # order_count
    },
}
# Never in the clear downstream of the customers job: what it hashes.
HASHED_BY_CUSTOMERS = (("raw_customers", "email"), ("raw_customers", "phone"))
