"""User behaviour analytics: sessions, trending products and category affinities.

Inputs: user_events_stream (clickstream; a user_id is a customer_id), processed_customers (the
customers job's output, from which each user's profile is built), product_catalog.
Outputs:
- real_time_user_analytics: one row per user session (a new session starts after a gap longer
  than ``session_gap_minutes``), with activity counts, conversion and the user's profile;
- trending_content: per ``trending_window_hours`` window, the top ``trending_top_n`` products by a
  weighted engagement score;
- personalization_models: one row per user with a weighted affinity per product category and the
  user's top category.
Events without an id, user or timestamp, of an unknown type, or repeating an event_id are
quarantined, so every raw event is counted in exactly one session or in
rejects_user_events_stream.
"""

from __future__ import annotations

import sys

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lineage_audit.config import job_settings
from lineage_audit.job import JobRun
from lineage_audit.tables import as_rejects

# How much each kind of interaction says about interest in a product; page views and searches
# carry no product and so no weight.
EVENT_WEIGHTS = {"product_view": 1.0, "like": 2.0, "add_to_cart": 3.0, "share": 4.0, "purchase": 5.0}
EVENT_TYPES = ("page_view", "search", *EVENT_WEIGHTS)
CATEGORIES = ("Electronics", "Books", "Home", "Sports", "Fashion", "Toys", "Grocery", "Beauty")
# Ages outside this range are data-entry errors: kept as unknown, never used for age bands.
MIN_PLAUSIBLE_AGE = 13
PREMIUM_SEGMENT = "PREMIUM"
MAX_PLAUSIBLE_AGE = 110


def event_weight(event_type: Column) -> Column:
    """CASE WHEN over EVENT_WEIGHTS; unweighted event types score 0."""
    weight = None
    for name, value in EVENT_WEIGHTS.items():
        weight = (F.when if weight is None else weight.when)(event_type == name, F.lit(value))
    return weight.otherwise(F.lit(0.0))


def validate_events(events: DataFrame, *, event_types=EVENT_TYPES) -> tuple[DataFrame, DataFrame]:
    """Split events into (usable, rejected); the first failing check names the reason."""
    first_of_id = Window.partitionBy("event_id").orderBy(F.col("event_ts").asc_nulls_last(), "user_id")
    event_type = F.lower(F.trim("event_type"))
    checked = events.withColumn(
        "reject_reason",
        F.coalesce(
            F.when(F.col("event_id").isNull(), F.lit("missing event_id")),
            F.when(F.col("user_id").isNull(), F.lit("missing user_id")),
            F.when(F.col("event_ts").isNull(), F.lit("missing event_ts")),
            F.when(~event_type.isin(*event_types) | event_type.isNull(), F.lit("unknown event_type")),
            F.when(F.row_number().over(first_of_id) > 1, F.lit("duplicate event_id")),
        ),
    )
    kept = checked.where(F.col("reject_reason").isNull()).select(
        F.col("event_id").alias("event_id"),
        F.col("user_id").alias("user_id"),
        F.col("event_ts").alias("event_ts"),
        event_type.alias("event_type"),
        F.col("product_id").alias("product_id"),
        F.coalesce(F.col("device"), F.lit("unknown")).alias("device"),
        F.col("duration_ms").alias("duration_ms"),
    )
    rejected = as_rejects(
        checked.where(F.col("reject_reason").isNotNull()),
        F.col("reject_reason"),
        F.to_json(F.struct(*[F.col(c) for c in events.columns])),
    )
    return kept, rejected


def sessionise(events: DataFrame, *, gap_minutes: int) -> DataFrame:
    """Number each user's sessions: a gap above ``gap_minutes`` since the last event opens one."""
    by_user = Window.partitionBy("user_id").orderBy("event_ts", "event_id")
    previous_ts = F.lag("event_ts").over(by_user)
    gap_seconds = F.unix_timestamp("event_ts") - F.unix_timestamp(previous_ts)
    flagged = events.withColumn(
        "opens_session",
        F.when(previous_ts.isNull() | (gap_seconds > gap_minutes * 60), F.lit(1)).otherwise(F.lit(0)),
    )
    running = by_user.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    numbered = flagged.withColumn("session_number", F.sum("opens_session").over(running).cast("int"))
    return numbered.select(
        F.col("event_id").alias("event_id"),
        F.col("user_id").alias("user_id"),
        F.substring(F.sha2(F.concat_ws("|", "user_id", F.col("session_number").cast("string")), 256), 1, 16)
        .alias("session_id"),
        F.col("session_number").alias("session_number"),
        F.col("event_ts").alias("event_ts"),
        F.col("event_type").alias("event_type"),
        F.col("product_id").alias("product_id"),
        F.col("device").alias("device"),
    )


def summarise_sessions(sessionised: DataFrame) -> DataFrame:
    """One row per user session: span, activity counts, first device and conversion."""
    sessions = sessionised.groupBy("user_id", "session_id", "session_number").agg(
        F.min("event_ts").alias("session_start"),
        F.max("event_ts").alias("session_end"),
        F.count(F.lit(1)).alias("event_count"),
        F.countDistinct("product_id").alias("distinct_products"),
        F.sum(F.when(F.col("event_type") == "purchase", 1).otherwise(0)).alias("purchase_count"),
        F.sum(F.when(F.col("event_type") == "add_to_cart", 1).otherwise(0)).alias("cart_add_count"),
        F.min_by("device", "event_ts").alias("device"),
    )
    return sessions.select(
        F.col("user_id").alias("user_id"),
        F.col("session_id").alias("session_id"),
        F.col("session_number").alias("session_number"),
        F.col("session_start").alias("session_start"),
        F.col("session_end").alias("session_end"),
        (F.unix_timestamp("session_end") - F.unix_timestamp("session_start")).alias("session_duration_seconds"),
        F.col("event_count").alias("event_count"),
        F.col("distinct_products").alias("distinct_products"),
        F.col("purchase_count").cast("long").alias("purchase_count"),
        F.col("cart_add_count").cast("long").alias("cart_add_count"),
        F.col("device").alias("device"),
        (F.col("purchase_count") > 0).alias("converted"),
    )


def user_profiles(customers: DataFrame, *, min_age: int = MIN_PLAUSIBLE_AGE,
                  max_age: int = MAX_PLAUSIBLE_AGE) -> DataFrame:
    """A profile per customer: implausible ages nulled (the profile is kept), an age band, premium or not."""
    age = F.when(F.col("age").between(min_age, max_age), F.col("age"))
    band = (
        F.when(age.isNull(), F.lit("unknown"))
        .when(age < 18, F.lit("13-17"))
        .when(age < 25, F.lit("18-24"))
        .when(age < 35, F.lit("25-34"))
        .when(age < 45, F.lit("35-44"))
        .when(age < 55, F.lit("45-54"))
        .when(age < 65, F.lit("55-64"))
        .otherwise(F.lit("65+"))
    )
    return customers.select(
        F.col("customer_id").alias("user_id"),
        F.col("signup_date").alias("signup_date"),
        F.col("country_code").alias("country"),
        age.alias("age"),
        band.alias("age_band"),
        (F.col("segment") == PREMIUM_SEGMENT).alias("is_premium"),
    )


def enrich_sessions(sessions: DataFrame, profiles: DataFrame) -> DataFrame:
    """Attach the (cleaned) profile; sessions of users without a profile are kept."""
    joined = sessions.alias("s").join(profiles.alias("p"), on="user_id", how="left")
    return joined.select(
        F.col("user_id").alias("user_id"),
        F.col("s.session_id").alias("session_id"),
        F.col("s.session_number").alias("session_number"),
        F.col("s.session_start").alias("session_start"),
        F.col("s.session_end").alias("session_end"),
        F.to_date("s.session_start").alias("session_date"),
        F.col("s.session_duration_seconds").alias("session_duration_seconds"),
        F.col("s.event_count").alias("event_count"),
        F.col("s.distinct_products").alias("distinct_products"),
        F.col("s.purchase_count").alias("purchase_count"),
        F.col("s.cart_add_count").alias("cart_add_count"),
        F.col("s.device").alias("device"),
        F.col("s.converted").alias("converted"),
        F.col("p.country").alias("country"),
        F.col("p.age").alias("age"),
        F.coalesce(F.col("p.age_band"), F.lit("unknown")).alias("age_band"),
        F.coalesce(F.col("p.is_premium"), F.lit(False)).alias("is_premium"),
        F.datediff(F.to_date("s.session_start"), F.col("p.signup_date")).alias("days_since_signup"),
    )


def score_product_windows(events: DataFrame, *, window_hours: int) -> DataFrame:
    """Per tumbling window and product: interaction counts and a weighted engagement score."""
    with_product = events.where(F.col("product_id").isNotNull())
    scored = with_product.groupBy(F.window("event_ts", f"{window_hours} hours"), "product_id").agg(
        F.sum(event_weight(F.col("event_type"))).alias("engagement_score"),
        F.count(F.when(F.col("event_type") == "product_view", True)).alias("view_count"),
        F.count(F.when(F.col("event_type") == "purchase", True)).alias("purchase_count"),
        F.countDistinct("user_id").alias("unique_users"),
    )
    return scored.select(
        F.col("window.start").alias("window_start"),
        F.col("window.end").alias("window_end"),
        F.col("product_id").alias("product_id"),
        F.col("engagement_score").alias("engagement_score"),
        F.col("view_count").alias("view_count"),
        F.col("purchase_count").alias("purchase_count"),
        F.col("unique_users").alias("unique_users"),
    )


def rank_trending(scored: DataFrame, products: DataFrame, *, top_n: int) -> DataFrame:
    """Rank products within each window by score and keep the top ``top_n`` ranks."""
    in_window = Window.partitionBy("window_start")
    by_score = in_window.orderBy(F.col("engagement_score").desc())
    ranked = (
        scored.withColumn("trend_rank", F.rank().over(by_score))
        .withColumn("dense_trend_rank", F.dense_rank().over(by_score))
        .withColumn("window_score", F.sum("engagement_score").over(in_window))
        .where(F.col("trend_rank") <= top_n)
    )
    joined = ranked.join(F.broadcast(products), on="product_id", how="left")
    return joined.select(
        F.col("window_start").alias("window_start"),
        F.col("window_end").alias("window_end"),
        F.col("trend_rank").alias("trend_rank"),
        F.col("dense_trend_rank").alias("dense_trend_rank"),
        F.col("product_id").alias("product_id"),
        F.coalesce(F.col("product_name"), F.concat(F.lit("unknown product "), F.col("product_id")))
        .alias("product_name"),
        F.coalesce(F.col("category"), F.lit("Unknown")).alias("category"),
        F.col("engagement_score").alias("engagement_score"),
        F.round(F.col("engagement_score") / F.col("window_score"), 4).alias("score_share"),
        F.col("view_count").alias("view_count"),
        F.col("purchase_count").alias("purchase_count"),
        F.col("unique_users").alias("unique_users"),
    )


def category_affinity(events: DataFrame, products: DataFrame, *, categories=CATEGORIES) -> DataFrame:
    """User x category affinity (pivot of weighted interactions) and each user's top category."""
    weighted = (
        events.join(products, on="product_id", how="inner")
        .where(F.col("category").isin(*categories))
        .select("user_id", "category", event_weight(F.col("event_type")).alias("weight"))
    )
    pivoted = weighted.groupBy("user_id").pivot("category", list(categories)).agg(F.sum("weight"))
    per_category = weighted.groupBy("user_id", "category").agg(F.sum("weight").alias("category_score"))
    strongest = Window.partitionBy("user_id").orderBy(F.col("category_score").desc(), "category")
    top = (
        per_category.withColumn("position", F.row_number().over(strongest))
        .where(F.col("position") == 1)
        .select("user_id", F.col("category").alias("top_category"), "category_score")
    )
    affinities = [F.coalesce(F.col(c), F.lit(0.0)) for c in categories]
    joined = pivoted.join(top, on="user_id", how="inner")
    return joined.select(
        F.col("user_id").alias("user_id"),
        *[a.alias(f"affinity_{c.lower()}") for a, c in zip(affinities, categories)],
        sum(affinities[1:], affinities[0]).alias("total_affinity"),
        F.col("top_category").alias("top_category"),
        F.col("category_score").alias("top_category_score"),
    )


def execute(run: JobRun) -> None:
    settings = job_settings("analytics")
    events, rejected = validate_events(run.read("user_events_stream"))
    events = events.cache()  # read by all three outputs
    profiles = run.read("processed_customers").transform(user_profiles)
    products = run.read("product_catalog").select("product_id", "product_name", "category")

    sessions = (
        events.transform(sessionise, gap_minutes=settings["session_gap_minutes"])
        .transform(summarise_sessions)
        .transform(enrich_sessions, profiles)
    )
    run.write("real_time_user_analytics", sessions)
    trending = events.transform(score_product_windows, window_hours=settings["trending_window_hours"]).transform(
        rank_trending, products, top_n=settings["trending_top_n"]
    )
    run.write("trending_content", trending)
    run.write("personalization_models", events.transform(category_affinity, products))
    run.reject("user_events_stream", rejected)
    events.unpersist()


def main() -> int:
    with JobRun("analytics") as run:
        execute(run)
    return run.exit_code


if __name__ == "__main__":
    sys.exit(main())
