"""Tests of jobs/analytics.py: every transform on tiny inline frames, then the whole job."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import analytics

EVENT_DDL = (
    "event_id string, user_id string, event_ts string, event_type string, product_id string, "
    "device string, duration_ms long"
)
CLEAN_EVENT_DDL = (
    "event_id string, user_id string, event_ts string, event_type string, product_id string, device string"
)


def ts(text: str) -> datetime:
    """A UTC instant: naive datetimes would be read in the Python process's local time zone."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def events_frame(spark, rows, ddl=CLEAN_EVENT_DDL):
    """Inline events with event_ts given as text, cast in the (UTC) session time zone."""
    return spark.createDataFrame(rows, ddl).withColumn("event_ts", F.col("event_ts").cast("timestamp"))


def session_id(user: str, number: int) -> str:
    return hashlib.sha256(f"{user}|{number}".encode()).hexdigest()[:16]


def test_event_weight(spark):
    types = spark.createDataFrame([("purchase",), ("product_view",), ("search",), ("share",)], "event_type string")
    actual = types.select("event_type", analytics.event_weight(F.col("event_type")).alias("weight"))
    expected = spark.createDataFrame(
        [("purchase", 5.0), ("product_view", 1.0), ("search", 0.0), ("share", 4.0)], "event_type string, weight double"
    )
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_validate_events_keeps_first_of_duplicates_and_names_reasons(spark):
    events = events_frame(spark, [
        ("E1", "U1", "2026-01-01 10:00:00", "product_view", "P1", "mobile", 100),
        ("E2", None, "2026-01-01 10:01:00", "page_view", None, "mobile", 200),
        ("E3", "U1", "2026-01-01 10:02:00", "teleport", None, "mobile", 300),
        ("E1", "U1", "2026-01-01 10:05:00", "purchase", "P1", "mobile", 400),
        ("E4", "U2", "2026-01-01 10:03:00", " Search ", None, None, None),
    ], EVENT_DDL)
    kept, rejected = analytics.validate_events(events)
    expected_kept = spark.createDataFrame([
        ("E1", "U1", ts("2026-01-01 10:00:00"), "product_view", "P1", "mobile", 100),
        ("E4", "U2", ts("2026-01-01 10:03:00"), "search", None, "unknown", None),
    ], "event_id string, user_id string, event_ts timestamp, event_type string, product_id string, "
       "device string, duration_ms long")
    expected_rejected = spark.createDataFrame([
        ("missing user_id", '{"event_id":"E2","event_ts":"2026-01-01T10:01:00.000Z","event_type":"page_view",'
                            '"device":"mobile","duration_ms":200}'),
        ("unknown event_type", '{"event_id":"E3","user_id":"U1","event_ts":"2026-01-01T10:02:00.000Z",'
                               '"event_type":"teleport","device":"mobile","duration_ms":300}'),
        ("duplicate event_id", '{"event_id":"E1","user_id":"U1","event_ts":"2026-01-01T10:05:00.000Z",'
                               '"event_type":"purchase","product_id":"P1","device":"mobile","duration_ms":400}'),
    ], "reject_reason string, raw_record string")
    assert_df_equality(kept, expected_kept, ignore_row_order=True, ignore_nullable=True)
    assert_df_equality(rejected, expected_rejected, ignore_row_order=True, ignore_nullable=True)


def test_sessionise_opens_a_session_only_after_a_gap_longer_than_the_limit(spark):
    events = events_frame(spark, [
        ("E1", "U1", "2026-01-01 10:00:00", "page_view", None, "mobile"),
        ("E2", "U1", "2026-01-01 10:20:00", "product_view", "P1", "mobile"),
        ("E3", "U1", "2026-01-01 11:00:00", "purchase", "P1", "desktop"),   # 40 min gap: new session
        ("E4", "U1", "2026-01-01 11:30:00", "like", "P2", "desktop"),       # exactly 30 min: same session
        ("E5", "U2", "2026-01-01 10:10:00", "search", None, "tablet"),
    ])
    actual = events.transform(analytics.sessionise, gap_minutes=30)
    expected = spark.createDataFrame([
        ("E1", "U1", session_id("U1", 1), 1, ts("2026-01-01 10:00:00"), "page_view", None, "mobile"),
        ("E2", "U1", session_id("U1", 1), 1, ts("2026-01-01 10:20:00"), "product_view", "P1", "mobile"),
        ("E3", "U1", session_id("U1", 2), 2, ts("2026-01-01 11:00:00"), "purchase", "P1", "desktop"),
        ("E4", "U1", session_id("U1", 2), 2, ts("2026-01-01 11:30:00"), "like", "P2", "desktop"),
        ("E5", "U2", session_id("U2", 1), 1, ts("2026-01-01 10:10:00"), "search", None, "tablet"),
    ], "event_id string, user_id string, session_id string, session_number int, event_ts timestamp, "
       "event_type string, product_id string, device string")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_summarise_sessions(spark):
    sessionised = spark.createDataFrame([
        ("E1", "U1", "s1", 1, ts("2026-01-01 10:00:00"), "product_view", "P1", "tablet"),
        ("E2", "U1", "s1", 1, ts("2026-01-01 10:05:30"), "add_to_cart", "P1", "mobile"),
        ("E3", "U1", "s1", 1, ts("2026-01-01 10:07:00"), "purchase", "P2", "mobile"),
        ("E4", "U2", "s9", 1, ts("2026-01-02 08:00:00"), "page_view", None, "desktop"),
    ], "event_id string, user_id string, session_id string, session_number int, event_ts timestamp, "
       "event_type string, product_id string, device string")
    expected = spark.createDataFrame([
        ("U1", "s1", 1, ts("2026-01-01 10:00:00"), ts("2026-01-01 10:07:00"), 420, 3, 2, 1, 1, "tablet", True),
        ("U2", "s9", 1, ts("2026-01-02 08:00:00"), ts("2026-01-02 08:00:00"), 0, 1, 0, 0, 0, "desktop", False),
    ], "user_id string, session_id string, session_number int, session_start timestamp, session_end timestamp, "
       "session_duration_seconds long, event_count long, distinct_products long, purchase_count long, "
       "cart_add_count long, device string, converted boolean")
    assert_df_equality(sessionised.transform(analytics.summarise_sessions), expected,
                       ignore_row_order=True, ignore_nullable=True)


def test_user_profiles_come_from_processed_customers_with_implausible_ages_nulled(spark):
    customers = spark.createDataFrame([
        ("C000001", date(2025, 1, 1), "US", 12, "PREMIUM"),
        ("C000002", date(2025, 2, 1), "DE", 13, "STANDARD"),
        ("C000003", date(2025, 3, 1), "FR", 110, "ENTERPRISE"),
        ("C000004", date(2025, 4, 1), "JP", 111, "PREMIUM"),
        ("C000005", date(2025, 5, 1), "SE", None, "STANDARD"),
    ], "customer_id string, signup_date date, country_code string, age int, segment string")
    expected = spark.createDataFrame([
        ("C000001", date(2025, 1, 1), "US", None, "unknown", True),
        ("C000002", date(2025, 2, 1), "DE", 13, "13-17", False),
        ("C000003", date(2025, 3, 1), "FR", 110, "65+", False),
        ("C000004", date(2025, 4, 1), "JP", None, "unknown", True),
        ("C000005", date(2025, 5, 1), "SE", None, "unknown", False),
    ], "user_id string, signup_date date, country string, age int, age_band string, is_premium boolean")
    assert_df_equality(customers.transform(analytics.user_profiles), expected,
                       ignore_row_order=True, ignore_nullable=True)


def test_enrich_sessions_keeps_sessions_without_a_profile(spark):
    sessions = spark.createDataFrame([
        ("U1", "s1", 1, ts("2026-01-10 23:50:00"), ts("2026-01-11 00:10:00"), 1200, 4, 2, 1, 1, "mobile", True),
        ("U9", "s2", 1, ts("2026-01-12 08:00:00"), ts("2026-01-12 08:00:00"), 0, 1, 0, 0, 0, "desktop", False),
    ], "user_id string, session_id string, session_number int, session_start timestamp, session_end timestamp, "
       "session_duration_seconds long, event_count long, distinct_products long, purchase_count long, "
       "cart_add_count long, device string, converted boolean")
    profiles = spark.createDataFrame([
        ("U1", date(2026, 1, 1), "US", 34, "25-34", True),
        ("U2", date(2026, 1, 5), "DE", 50, "45-54", False),
    ], "user_id string, signup_date date, country string, age int, age_band string, is_premium boolean")
    expected = spark.createDataFrame([
        ("U1", "s1", 1, ts("2026-01-10 23:50:00"), ts("2026-01-11 00:10:00"), date(2026, 1, 10), 1200, 4, 2, 1, 1,
         "mobile", True, "US", 34, "25-34", True, 9),
        ("U9", "s2", 1, ts("2026-01-12 08:00:00"), ts("2026-01-12 08:00:00"), date(2026, 1, 12), 0, 1, 0, 0, 0,
         "desktop", False, None, None, "unknown", False, None),
    ], "user_id string, session_id string, session_number int, session_start timestamp, session_end timestamp, "
       "session_date date, session_duration_seconds long, event_count long, distinct_products long, "
       "purchase_count long, cart_add_count long, device string, converted boolean, country string, age int, "
       "age_band string, is_premium boolean, days_since_signup int")
    assert_df_equality(sessions.transform(analytics.enrich_sessions, profiles), expected,
                       ignore_row_order=True, ignore_nullable=True)


def test_score_product_windows(spark):
    events = events_frame(spark, [
        ("E1", "U1", "2026-01-01 01:00:00", "product_view", "P1", "mobile"),
        ("E2", "U2", "2026-01-01 23:59:59", "purchase", "P1", "mobile"),
        ("E3", "U1", "2026-01-01 05:00:00", "page_view", None, "mobile"),
        ("E4", "U1", "2026-01-02 00:00:00", "like", "P1", "mobile"),
        ("E5", "U1", "2026-01-02 03:00:00", "add_to_cart", "P2", "mobile"),
    ])
    expected = spark.createDataFrame([
        (ts("2026-01-01 00:00:00"), ts("2026-01-02 00:00:00"), "P1", 6.0, 1, 1, 2),
        (ts("2026-01-02 00:00:00"), ts("2026-01-03 00:00:00"), "P1", 2.0, 0, 0, 1),
        (ts("2026-01-02 00:00:00"), ts("2026-01-03 00:00:00"), "P2", 3.0, 0, 0, 1),
    ], "window_start timestamp, window_end timestamp, product_id string, engagement_score double, "
       "view_count long, purchase_count long, unique_users long")
    assert_df_equality(events.transform(analytics.score_product_windows, window_hours=24), expected,
                       ignore_row_order=True, ignore_nullable=True)


def test_rank_trending_keeps_ties_within_top_n(spark):
    day1, day2, day3 = ts("2026-01-01 00:00:00"), ts("2026-01-02 00:00:00"), ts("2026-01-03 00:00:00")
    scored = spark.createDataFrame([
        (day1, day2, "P1", 10.0, 4, 1, 3),
        (day1, day2, "P2", 5.0, 5, 0, 2),
        (day1, day2, "P3", 5.0, 2, 1, 2),
        (day1, day2, "P4", 0.0, 0, 0, 0),
        (day2, day3, "P9", 3.0, 3, 0, 1),
    ], "window_start timestamp, window_end timestamp, product_id string, engagement_score double, "
       "view_count long, purchase_count long, unique_users long")
    products = spark.createDataFrame([
        ("P1", "Acme Books 1", "Books"), ("P2", "Acme Toys 2", "Toys"), ("P3", "Wayne Home 3", "Home"),
    ], "product_id string, product_name string, category string")
    expected = spark.createDataFrame([
        (day1, day2, 1, 1, "P1", "Acme Books 1", "Books", 10.0, 0.5, 4, 1, 3),
        (day1, day2, 2, 2, "P2", "Acme Toys 2", "Toys", 5.0, 0.25, 5, 0, 2),
        (day1, day2, 2, 2, "P3", "Wayne Home 3", "Home", 5.0, 0.25, 2, 1, 2),
        (day2, day3, 1, 1, "P9", "unknown product P9", "Unknown", 3.0, 1.0, 3, 0, 1),
    ], "window_start timestamp, window_end timestamp, trend_rank int, dense_trend_rank int, product_id string, "
       "product_name string, category string, engagement_score double, score_share double, view_count long, "
       "purchase_count long, unique_users long")
    assert_df_equality(scored.transform(analytics.rank_trending, products, top_n=2), expected,
                       ignore_row_order=True, ignore_nullable=True)


def test_category_affinity_pivots_listed_categories_and_picks_the_top_one(spark):
    events = events_frame(spark, [
        ("E1", "U1", "2026-01-01 10:00:00", "purchase", "P1", "mobile"),
        ("E2", "U1", "2026-01-01 10:01:00", "add_to_cart", "P2", "mobile"),
        ("E3", "U1", "2026-01-01 10:02:00", "like", "P2", "mobile"),
        ("E4", "U2", "2026-01-01 10:03:00", "product_view", "P2", "mobile"),
        ("E5", "U2", "2026-01-01 10:04:00", "product_view", "P1", "mobile"),
    ])
    products = spark.createDataFrame([
        ("P1", "Acme Books 1", "Books"), ("P2", "Acme Toys 2", "Toys"), ("P3", "Wayne Home 3", "Home"),
    ], "product_id string, product_name string, category string")
    actual = events.transform(analytics.category_affinity, products, categories=("Books", "Toys", "Home"))
    expected = spark.createDataFrame([
        ("U1", 5.0, 5.0, 0.0, 10.0, "Books", 5.0),   # tie broken alphabetically
        ("U2", 1.0, 1.0, 0.0, 2.0, "Books", 1.0),
    ], "user_id string, affinity_books double, affinity_toys double, affinity_home double, "
       "total_affinity double, top_category string, top_category_score double")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


EXPECTED_SCHEMAS = {
    "real_time_user_analytics": [
        ("user_id", "string"), ("session_id", "string"), ("session_number", "int"),
        ("session_start", "timestamp"), ("session_end", "timestamp"), ("session_date", "date"),
        ("session_duration_seconds", "bigint"), ("event_count", "bigint"), ("distinct_products", "bigint"),
        ("purchase_count", "bigint"), ("cart_add_count", "bigint"), ("device", "string"), ("converted", "boolean"),
        ("country", "string"), ("age", "int"), ("age_band", "string"),
        ("is_premium", "boolean"), ("days_since_signup", "int"),
    ],
    "trending_content": [
        ("window_start", "timestamp"), ("window_end", "timestamp"), ("trend_rank", "int"),
        ("dense_trend_rank", "int"), ("product_id", "string"), ("product_name", "string"), ("category", "string"),
        ("engagement_score", "double"), ("score_share", "double"), ("view_count", "bigint"),
        ("purchase_count", "bigint"), ("unique_users", "bigint"),
    ],
    "personalization_models": [("user_id", "string")]
    + [(f"affinity_{c.lower()}", "double") for c in analytics.CATEGORIES]
    + [("total_affinity", "double"), ("top_category", "string"), ("top_category_score", "double")],
}
KEYS = {
    "real_time_user_analytics": ["user_id", "session_id"],
    "trending_content": ["window_start", "product_id"],
    "personalization_models": ["user_id"],
}


@pytest.fixture(scope="module")
def analytics_outputs(spark, pipeline_catalog, job_summary):
    summary = job_summary("analytics")
    assert summary.status == "ok"
    return {t: spark.read.parquet(pipeline_catalog.output(t).path) for t in EXPECTED_SCHEMAS}


@pytest.mark.parametrize("table", sorted(EXPECTED_SCHEMAS))
def test_job_output_schema_and_keys(analytics_outputs, table):
    df = analytics_outputs[table]
    assert df.dtypes == EXPECTED_SCHEMAS[table]
    assert df.count() > 0
    assert df.select(*KEYS[table]).distinct().count() == df.count()


def test_job_every_event_is_in_a_session_or_rejected(spark, pipeline_catalog, analytics_outputs):
    raw = spark.read.parquet(pipeline_catalog.input("user_events_stream").path).count()
    in_sessions = analytics_outputs["real_time_user_analytics"].agg(F.sum("event_count")).first()[0]
    rejected = spark.read.parquet(pipeline_catalog.rejects("user_events_stream").path).count()
    assert raw == in_sessions + rejected
    assert in_sessions > 0


def test_job_values_respect_settings(analytics_outputs):
    sessions = analytics_outputs["real_time_user_analytics"]
    assert sessions.where("age < 13 OR age > 110").count() == 0
    assert sessions.where("age IS NULL AND age_band != 'unknown'").count() == 0
    assert sessions.where("converted != (purchase_count > 0) OR session_end < session_start").count() == 0
    trending = analytics_outputs["trending_content"]
    assert trending.where("trend_rank > 10 OR window_end - window_start != INTERVAL 24 HOURS").count() == 0
    affinity = analytics_outputs["personalization_models"]
    assert affinity.where("top_category_score <= 0 AND total_affinity > 0").count() == 0
