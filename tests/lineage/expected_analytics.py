"""Analytics: the expected column lineage of every column the job writes (jobs/analytics.py)."""

from __future__ import annotations

from tests.lineage.harness import AGG, COUNT, ID, MASKED, TR, I

EVENTS = "user_events_stream"
# The fields of a user_events_stream row (all of them go into a reject's raw_record).
EVENT_FIELDS = ("event_id", "user_id", "event_ts", "event_type", "product_id", "device", "duration_ms", "page_url")
# validate_events' reasons: CASE WHENs on these, the last on a row_number over (event_id ORDER BY event_ts, user_id).
CHECKED = ("event_id", "user_id", "event_ts", "event_type")
VALID_FILTERS = {(EVENTS, f): {I("FILTER")} for f in CHECKED}
# sessionise: CASE WHEN on the gap to the previous event (lag over user_id ORDER BY event_ts, event_id),
# summed over the same window.
SESSION_KEYS = ("user_id", "event_ts", "event_id")
SESSION_NUMBER = {(EVENTS, f): {I("CONDITIONAL"), I("WINDOW")} for f in SESSION_KEYS}
# Weights and counts by event type: CASE WHEN on event_type, values literal.
BY_TYPE = {(EVENTS, "event_type"): {I("CONDITIONAL")}}
# count(when(...)): counting masks, also along the condition.
COUNT_BY_TYPE = {(EVENTS, "event_type"): {I("CONDITIONAL+masked")}}
# event_weight summed per category, pivoted or grouped on the catalog's category.
AFFINITY = {(EVENTS, "event_type"): {I("CONDITIONAL")}, ("product_catalog", "category"): {I("CONDITIONAL")}}
CATEGORIES = ("electronics", "books", "home", "sports", "fashion", "toys", "grocery", "beauty")

EXPECTED = {
    "real_time_user_analytics": {
        "fields": {
            "user_id": {(EVENTS, "user_id"): {ID}},  # the left join's USING key is the sessions' side
            # substring(sha2(concat_ws(user_id, session_number))): masking holds along the whole path.
            "session_id": {(EVENTS, "user_id"): {MASKED, I("CONDITIONAL+masked"), I("WINDOW+masked")},
                           (EVENTS, "event_ts"): {I("CONDITIONAL+masked"), I("WINDOW+masked")},
                           (EVENTS, "event_id"): {I("CONDITIONAL+masked"), I("WINDOW+masked")}},
            "session_number": SESSION_NUMBER,
            "session_start": {(EVENTS, "event_ts"): {AGG}},
            "session_end": {(EVENTS, "event_ts"): {AGG}},
            "session_date": {(EVENTS, "event_ts"): {AGG}},
            "session_duration_seconds": {(EVENTS, "event_ts"): {AGG}},
            "event_count": {},  # count(1)
            "distinct_products": {(EVENTS, "product_id"): {COUNT}},
            "purchase_count": BY_TYPE,
            "cart_add_count": BY_TYPE,
            # min_by(coalesce(device, 'unknown'), event_ts)
            "device": {(EVENTS, "device"): {AGG, I("CONDITIONAL")}, (EVENTS, "event_ts"): {AGG}},
            "converted": BY_TYPE,
            # the profile is built from the customers job's processed_customers (user_id = customer_id)
            "country": {("processed_customers", "country_code"): {ID}},
            # when(age between 13 and 110, age): a branch's value is a TRANSFORMATION, a bare column too
            "age": {("processed_customers", "age"): {TR, I("CONDITIONAL")}},
            "age_band": {("processed_customers", "age"): {I("CONDITIONAL")}},
            # coalesce(segment = 'PREMIUM', false)
            "is_premium": {("processed_customers", "segment"): {TR, I("CONDITIONAL")}},
            "days_since_signup": {(EVENTS, "event_ts"): {AGG}, ("processed_customers", "signup_date"): {TR}},
        },
        "dataset": {
            **VALID_FILTERS,
            # grouped by user_id, session_id, session_number
            **{(EVENTS, f): {I("FILTER"), I("GROUP_BY")} for f in SESSION_KEYS},
            (EVENTS, "user_id"): {I("FILTER"), I("GROUP_BY"), I("JOIN")},
            ("processed_customers", "customer_id"): {I("JOIN")},
        },
    },
    "trending_content": {
        "fields": {
            # window(event_ts, '24 hours').start / .end: computed from event_ts, under no condition of the
            # job's (Spark's analyzer writes the window's floor as a CASE WHEN on event_ts).
            # Spark's analyzer computes a tumbling window's start with a CASE WHEN on event_ts (negative
            # remainders): capture reports the plan Spark runs, so the condition shows as CONDITIONAL.
            "window_start": {(EVENTS, "event_ts"): {TR, I("CONDITIONAL")}},
            "window_end": {(EVENTS, "event_ts"): {TR, I("CONDITIONAL")}},
            # rank over (window_start ORDER BY engagement_score)
            "trend_rank": {(EVENTS, "event_ts"): {I("WINDOW")}, (EVENTS, "event_type"): {I("WINDOW")}},
            "dense_trend_rank": {(EVENTS, "event_ts"): {I("WINDOW")}, (EVENTS, "event_type"): {I("WINDOW")}},
            "product_id": {(EVENTS, "product_id"): {ID}},
            # coalesce(product_name, concat('unknown product ', product_id)), coalesce(category, 'Unknown')
            "product_name": {("product_catalog", "product_name"): {TR, I("CONDITIONAL")},
                             (EVENTS, "product_id"): {TR, I("CONDITIONAL")}},
            "category": {("product_catalog", "category"): {TR, I("CONDITIONAL")}},
            "engagement_score": BY_TYPE,
            # engagement_score / sum(engagement_score) over (window_start)
            "score_share": {(EVENTS, "event_type"): {I("CONDITIONAL")}, (EVENTS, "event_ts"): {I("WINDOW")}},
            "view_count": COUNT_BY_TYPE,
            "purchase_count": COUNT_BY_TYPE,
            "unique_users": {(EVENTS, "user_id"): {COUNT}},
        },
        "dataset": {
            **VALID_FILTERS,
            (EVENTS, "event_ts"): {I("FILTER"), I("GROUP_BY")},  # grouped by window(event_ts)
            (EVENTS, "product_id"): {I("FILTER"), I("GROUP_BY"), I("JOIN")},  # product_id IS NOT NULL
            ("product_catalog", "product_id"): {I("JOIN")},
        },
    },
    "personalization_models": {
        "fields": {
            "user_id": {(EVENTS, "user_id"): {ID}},
            **{f"affinity_{category}": AFFINITY for category in CATEGORIES},
            "total_affinity": AFFINITY,
            "top_category": {("product_catalog", "category"): {ID}},
            "top_category_score": BY_TYPE,  # sum(weight) per user and category
        },
        "dataset": {
            **VALID_FILTERS,
            (EVENTS, "user_id"): {I("FILTER"), I("GROUP_BY"), I("JOIN")},
            (EVENTS, "product_id"): {I("JOIN")},
            ("product_catalog", "product_id"): {I("JOIN")},
            # category IN (...), the pivot and the per-category grouping
            ("product_catalog", "category"): {I("FILTER"), I("GROUP_BY")},
        },
    },
    # Events failing a check or repeating an event_id.
    "rejects/user_events_stream": {
        "fields": {
            "source_table": {},
            "reject_reason": {(EVENTS, f): {I("CONDITIONAL")} for f in CHECKED},
            "raw_record": {(EVENTS, f): {TR} for f in EVENT_FIELDS},  # to_json of the whole event
            "rejected_by_job": {},
        },
        "dataset": VALID_FILTERS,
    },
}
