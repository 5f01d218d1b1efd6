"""Data quality measurement of three raw feeds and of the tables the upstream jobs made of them.

Inputs: raw_customers (CSV), raw_orders (JSON Lines), raw_transactions (CSV), each read with its
own schema below, and what the customers, orders and financial jobs published from them:
processed_customers, enriched_orders and processed_transactions. Measuring both sides shows what
the cleaning removed and whether what the pipeline publishes keeps its own rules.
Outputs:
- data_quality_report: one row per (table, column): rows, nulls and null rate, distinct values,
  min and max as text, the column's rule with its violation count and rate, and the table's
  malformed-line count (always 0 for a published table);
- data_lineage_summary: one row per measured table: the job that produced it (null for a raw
  feed), source format and path, well-formed and malformed rows, column count, duplicate keys and
  an overall quality score (0-100);
- quality_alerts: every null rate (required columns only), violation rate, duplicate-key rate
  and malformed-line rate above the data_quality thresholds of conf/jobs.yml, with a severity
  and a message.
The job measures and rejects nothing; malformed lines are counted, not quarantined.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lineage_audit.config import job_settings
from lineage_audit.job import JobRun
from lineage_audit.raw_feeds import (
    BIRTH_DATE_FORMATS, ORDER_TS_FORMAT, RAW_CUSTOMERS_SCHEMA, RAW_ORDERS_SCHEMA, RAW_TRANSACTIONS_SCHEMA,
)
from lineage_audit.tables import split_corrupt

# Key column of each table, for the duplicate-key check.
TABLE_KEYS = {"raw_customers": "customer_id", "raw_orders": "order_id", "raw_transactions": "transaction_id",
              "processed_customers": "customer_id", "enriched_orders": "order_id",
              "processed_transactions": "transaction_id"}
SEGMENTS = ("STANDARD", "PREMIUM", "ENTERPRISE")
SHA256_PATTERN = r"^[0-9a-f]{64}$"
KNOWN_CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK")
ORDER_STATUSES = ("PLACED", "SHIPPED", "DELIVERED", "CANCELLED", "RETURNED")
TRANSACTION_TYPES = ("DEBIT", "CREDIT", "TRANSFER", "FEE")
MERCHANT_CATEGORIES = ("grocery", "travel", "electronics", "restaurants", "utilities")
EARLIEST_BIRTH_DATE = "1900-01-01"
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
PHONE_PATTERN = r"^\+\d{1,3} \(\d{3}\) \d{3}-\d{4}$"


@dataclass(frozen=True)
class ColumnCheck:
    """How one column is judged: ``violation`` is true for a non-null value breaking ``rule``."""

    column: str
    rule: str | None = None
    violation: Column | None = None
    required: bool = True  # nulls raise alerts only in required columns


def _pattern(column: str, regex: str) -> ColumnCheck:
    return ColumnCheck(column, f"matches {regex}", ~F.col(column).rlike(regex))


def _one_of(column: str, values: tuple[str, ...], required: bool = True) -> ColumnCheck:
    return ColumnCheck(column, f"one of {','.join(values)}", ~F.col(column).isin(*values), required)


def _trimmed(column: str) -> ColumnCheck:
    return ColumnCheck(column, "no surrounding whitespace", F.col(column) != F.trim(F.col(column)))


def _parses_as(column: str, pattern: str) -> ColumnCheck:
    return ColumnCheck(column, f"parses as {pattern}", F.try_to_timestamp(F.col(column), F.lit(pattern)).isNull())


def customer_checks() -> list[ColumnCheck]:
    birth = F.coalesce(*[F.try_to_timestamp(F.col("birth_date"), F.lit(f)) for f in BIRTH_DATE_FORMATS]).cast("date")
    signup = F.try_to_timestamp(F.col("signup_date"), F.lit("yyyy-MM-dd")).cast("date")
    implausible_birth = birth.isNull() | (birth < F.lit(EARLIEST_BIRTH_DATE).cast("date")) | (birth > signup)
    return [
        _pattern("customer_id", r"^C\d{6}$"),
        _trimmed("first_name"),
        _trimmed("last_name"),
        _pattern("email", EMAIL_PATTERN),
        ColumnCheck("phone", f"matches {PHONE_PATTERN}", ~F.col("phone").rlike(PHONE_PATTERN), required=False),
        ColumnCheck("birth_date", f"a date ({' | '.join(BIRTH_DATE_FORMATS)}) from {EARLIEST_BIRTH_DATE} "
                                  "up to signup_date", implausible_birth),
        _pattern("country", r"^[A-Z]{2}$"),
        ColumnCheck("city"),
        _parses_as("signup_date", "yyyy-MM-dd"),
        _parses_as("updated_at", "yyyy-MM-dd HH:mm:ss"),
        ColumnCheck("segment", f"one of {','.join(SEGMENTS)} in any case",
                    ~F.upper(F.trim(F.col("segment"))).isin(*SEGMENTS), required=False),
    ]


def processed_customer_checks() -> list[ColumnCheck]:
    return [
        _pattern("customer_id", r"^C\d{6}$"),
        ColumnCheck("full_name"),
        ColumnCheck("email_hash", "a SHA-256 hex digest", ~F.col("email_hash").rlike(SHA256_PATTERN), required=False),
        ColumnCheck("phone_hash", "a SHA-256 hex digest", ~F.col("phone_hash").rlike(SHA256_PATTERN), required=False),
        ColumnCheck("age", "within [0, 120]", ~F.col("age").between(0, 120)),
        _pattern("country_code", r"^[A-Z]{2}$"),
        _one_of("segment", SEGMENTS),
    ]


def enriched_order_checks() -> list[ColumnCheck]:
    return [
        _pattern("order_id", r"^O\d{7}$"),
        _one_of("customer_segment", SEGMENTS),
        ColumnCheck("product_name", required=False),  # an unknown product keeps the order, without a name
        ColumnCheck("discount_rate", "within [0, 1]", ~F.col("discount_rate").between(0, 1)),
        ColumnCheck("net_amount", "not negative", F.col("net_amount") < 0),
        _one_of("currency", KNOWN_CURRENCIES),
    ]


def processed_transaction_checks() -> list[ColumnCheck]:
    return [
        _pattern("transaction_id", r"^T\d{8}$"),
        ColumnCheck("customer_country", "matches ^[A-Z]{2}$", ~F.col("customer_country").rlike(r"^[A-Z]{2}$"),
                    required=False),  # an account holder missing from the customer master
        ColumnCheck("exchange_rate", "positive", F.col("exchange_rate") <= 0),
        ColumnCheck("amount_reporting", "not negative", F.col("amount_reporting") < 0),
    ]


def order_checks() -> list[ColumnCheck]:
    return [
        _pattern("order_id", r"^O\d{7}$"),
        _pattern("customer_id", r"^C\d{6}$"),
        _pattern("product_id", r"^P\d{5}$"),
        _parses_as("order_ts", ORDER_TS_FORMAT),
        ColumnCheck("quantity", "positive", F.col("quantity") <= 0),
        ColumnCheck("unit_price", "not negative", F.col("unit_price") < 0),
        _one_of("currency", KNOWN_CURRENCIES),
        _one_of("status", ORDER_STATUSES),
        _one_of("channel", ("web", "mobile", "store")),
        ColumnCheck("coupon_code", r"matches ^[A-Z0-9]+$", ~F.col("coupon_code").rlike(r"^[A-Z0-9]+$"),
                    required=False),
    ]


def transaction_checks() -> list[ColumnCheck]:
    return [
        _pattern("transaction_id", r"^T\d{8}$"),
        _pattern("account_id", r"^A\d{5}$"),
        ColumnCheck("transaction_ts"),
        ColumnCheck("amount", "not negative", F.col("amount") < 0),
        _one_of("currency", KNOWN_CURRENCIES),
        _one_of("transaction_type", TRANSACTION_TYPES),
        ColumnCheck("merchant"),
        _one_of("merchant_category", MERCHANT_CATEGORIES),
        _one_of("channel", ("POS", "ONLINE", "ATM")),
    ]


def _column_profile(df: DataFrame, check: ColumnCheck) -> Column:
    """Aggregate expressions describing one column, packed in a struct."""
    value = F.col(check.column)
    # Nulls are counted as nulls, never also as violations.
    violations = (F.count_if(value.isNotNull() & F.coalesce(check.violation, F.lit(False)))
                  if check.violation is not None else F.lit(0))
    return F.struct(
        F.lit(check.column).alias("column_name"),
        F.lit(df.schema[check.column].dataType.simpleString()).alias("data_type"),
        F.lit(check.required).alias("is_required"),
        F.lit(check.rule).cast("string").alias("rule"),
        F.count_if(value.isNull()).alias("null_count"),
        F.min(value).cast("string").alias("min_value"),
        F.max(value).cast("string").alias("max_value"),
        violations.cast("long").alias("violation_count"),
    )


def distinct_counts(parsed: DataFrame, *, columns: list[str]) -> DataFrame:
    """Exact distinct non-null values per column, as (column_name, distinct_count) rows.

    Unpivoting to (column, value) pairs and grouping costs one shuffle; a count_distinct per
    column in one aggregate would instead expand every row once per column.
    """
    pairs = parsed.select(F.explode(F.array(*[
        F.struct(F.lit(c).alias("column_name"), F.col(c).cast("string").alias("value")) for c in columns
    ])).alias("pair"))
    return pairs.groupBy(F.col("pair.column_name").alias("column_name")).agg(
        F.count_distinct(F.col("pair.value")).alias("distinct_count")
    ).select(F.col("column_name").alias("column_name"), F.col("distinct_count").alias("distinct_count"))


def profile_table(parsed: DataFrame, malformed: DataFrame, *, table_name: str,
                  checks: list[ColumnCheck]) -> DataFrame:
    """One report row per checked column of ``parsed``; malformed lines are counted per table."""
    profiles = parsed.agg(
        F.count(F.lit(1)).alias("row_count"),
        F.array(*[_column_profile(parsed, check) for check in checks]).alias("columns"),
    )
    malformed_count = malformed.agg(F.count(F.lit(1)).alias("malformed_rows"))
    exploded = profiles.join(malformed_count, how="cross").select(
        "row_count", "malformed_rows", F.explode("columns").alias("c")
    ).select("row_count", "malformed_rows", "c.*")
    distinct = distinct_counts(parsed, columns=[check.column for check in checks])
    return exploded.join(distinct, on="column_name", how="left").select(
        F.lit(table_name).alias("table_name"),
        F.col("column_name").alias("column_name"),
        F.col("data_type").alias("data_type"),
        F.col("is_required").alias("is_required"),
        F.col("row_count").alias("row_count"),
        F.col("null_count").alias("null_count"),
        F.round(F.try_divide(F.col("null_count"), F.col("row_count")), 4).alias("null_rate"),
        F.coalesce(F.col("distinct_count"), F.lit(0)).alias("distinct_count"),
        F.col("min_value").alias("min_value"),
        F.col("max_value").alias("max_value"),
        F.col("rule").alias("rule"),
        F.col("violation_count").alias("violation_count"),
        F.round(F.try_divide(F.col("violation_count"), F.col("row_count")), 4).alias("violation_rate"),
        F.col("malformed_rows").alias("malformed_rows"),
    )


def duplicate_keys(parsed: DataFrame, *, table_name: str, key: str, source_format: str,
                   source_path: str, produced_by: str | None = None) -> DataFrame:
    """One row for the table: how many rows repeat a key already seen (nulls are not keys)."""
    per_key = parsed.where(F.col(key).isNotNull()).groupBy(key).agg(F.count(F.lit(1)).alias("occurrences"))
    return per_key.agg(
        F.coalesce(F.sum("occurrences"), F.lit(0)).alias("keyed_rows"),
        F.coalesce(F.sum(F.col("occurrences") - 1), F.lit(0)).alias("duplicate_key_count"),
        F.count_if(F.col("occurrences") > 1).alias("duplicated_keys"),
    ).select(
        F.lit(table_name).alias("table_name"),
        F.lit(produced_by).cast("string").alias("produced_by_job"),
        F.lit(source_format).alias("source_format"),
        F.lit(source_path).alias("source_path"),
        F.lit(key).alias("key_column"),
        F.col("duplicated_keys").alias("duplicated_keys"),
        F.col("duplicate_key_count").cast("long").alias("duplicate_key_count"),
        F.round(F.try_divide(F.col("duplicate_key_count"), F.col("keyed_rows")), 4).alias("duplicate_key_rate"),
    )


def summarise_tables(report: DataFrame, duplicates: DataFrame) -> DataFrame:
    """One row per table: sizes, defects and a score.

    quality_score = 100 x (share of clean cells) x (share of clean records), where a cell is
    dirty when it breaks its rule or is null in a required column, and a record is dirty when
    it is malformed or repeats a key.
    """
    per_table = report.groupBy("table_name").agg(
        F.max("row_count").alias("row_count"),
        F.max("malformed_rows").alias("malformed_rows"),
        F.count_distinct("column_name").alias("column_count"),
        F.sum(F.when(F.col("is_required"), F.col("null_count")).otherwise(F.lit(0))).alias("required_nulls"),
        F.sum("violation_count").alias("violations"),
    )
    joined = per_table.join(duplicates, on="table_name", how="left")
    total = F.col("row_count") + F.col("malformed_rows")
    dup_count = F.coalesce(F.col("duplicate_key_count"), F.lit(0))
    clean_cells = 1 - F.try_divide(F.col("required_nulls") + F.col("violations"),
                                   F.col("row_count") * F.col("column_count"))
    clean_records = 1 - F.try_divide(F.col("malformed_rows") + dup_count, total)
    return joined.select(
        F.col("table_name").alias("table_name"),
        F.col("produced_by_job").alias("produced_by_job"),
        F.col("source_format").alias("source_format"),
        F.col("source_path").alias("source_path"),
        total.alias("total_records"),
        F.col("row_count").alias("row_count"),
        F.col("malformed_rows").alias("malformed_rows"),
        F.round(F.try_divide(F.col("malformed_rows"), total), 4).alias("malformed_rate"),
        F.col("column_count").alias("column_count"),
        F.col("key_column").alias("key_column"),
        dup_count.alias("duplicate_key_count"),
        F.col("duplicate_key_rate").alias("duplicate_key_rate"),
        F.col("required_nulls").alias("required_null_cells"),
        F.col("violations").alias("violation_cells"),
        F.round(F.lit(100.0) * clean_cells * clean_records, 2).alias("quality_score"),
    )


def _check_rows(df: DataFrame, checks: list[tuple[str, Column, Column, Column, float]]) -> DataFrame:
    """Unpivot (check, column, observed rate, affected rows, threshold) tuples into one row each."""
    args = [F.lit(len(checks))]
    for name, column_name, rate, count, threshold in checks:
        args += [F.lit(name), column_name, rate.cast("double"), count.cast("long"), F.lit(float(threshold))]
    return df.select(
        F.col("table_name"), F.col("rule"),
        F.stack(*args).alias("check_name", "column_name", "observed_rate", "affected_rows", "threshold"),
    )


def raise_alerts(report: DataFrame, tables: DataFrame, *, max_null_rate: float, max_violation_rate: float,
                 max_duplicate_key_rate: float) -> DataFrame:
    """Every rate above its threshold, with a severity growing with how far above it is.

    Malformed lines are judged against ``max_violation_rate``; their column is ``*``.
    """
    column = F.col("column_name")
    column_checks = _check_rows(report, [
        # A null rate only counts against a required column.
        ("null_rate", column, F.when(F.col("is_required"), F.col("null_rate")), F.col("null_count"), max_null_rate),
        ("violation_rate", column, F.col("violation_rate"), F.col("violation_count"), max_violation_rate),
    ])
    table_checks = _check_rows(tables.withColumn("rule", F.lit(None).cast("string")), [
        ("duplicate_key_rate", F.col("key_column"), F.col("duplicate_key_rate"), F.col("duplicate_key_count"),
         max_duplicate_key_rate),
        ("malformed_rate", F.lit("*"), F.col("malformed_rate"), F.col("malformed_rows"), max_violation_rate),
    ])
    breaches = column_checks.unionByName(table_checks).where(F.col("observed_rate") > F.col("threshold"))
    ratio = F.col("observed_rate") / F.col("threshold")
    return breaches.select(
        F.substring(F.sha2(F.concat_ws("|", "table_name", "column_name", "check_name"), 256), 1, 16).alias("alert_id"),
        F.col("table_name").alias("table_name"),
        F.col("column_name").alias("column_name"),
        F.col("check_name").alias("check_name"),
        F.col("observed_rate").alias("observed_rate"),
        F.col("threshold").alias("threshold"),
        F.col("affected_rows").alias("affected_rows"),
        F.when(ratio >= 10, F.lit("CRITICAL")).when(ratio >= 3, F.lit("HIGH")).otherwise(F.lit("WARNING"))
        .alias("severity"),
        F.format_string(
            "%s.%s: %s %.2f%% exceeds %.2f%% (%d rows)%s",
            "table_name", "column_name", F.regexp_replace("check_name", "_", " "),
            F.col("observed_rate") * 100, F.col("threshold") * 100, "affected_rows",
            F.coalesce(F.concat(F.lit("; rule: "), F.col("rule")), F.lit("")),
        ).alias("message"),
    )


def execute(run: JobRun) -> None:
    settings = job_settings("data_quality")
    sources = {
        "raw_customers": (RAW_CUSTOMERS_SCHEMA, customer_checks()),
        "raw_orders": (RAW_ORDERS_SCHEMA, order_checks()),
        "raw_transactions": (RAW_TRANSACTIONS_SCHEMA, transaction_checks()),
    }
    published = {
        "processed_customers": processed_customer_checks(),
        "enriched_orders": enriched_order_checks(),
        "processed_transactions": processed_transaction_checks(),
    }
    profiles, duplicates = [], []
    measured = [(table, *split_corrupt(run.read(table, schema)), checks)
                for table, (schema, checks) in sources.items()]
    for table, checks in published.items():
        df = run.read(table)
        measured.append((table, df, df.limit(0), checks))  # a published table has no malformed lines
    for table, parsed, malformed, checks in measured:
        spec = run.catalog.table(table)
        profiles.append(profile_table(parsed, malformed, table_name=table, checks=checks))
        duplicates.append(duplicate_keys(parsed, table_name=table, key=TABLE_KEYS[table], source_format=spec.format,
                                         source_path=spec.path, produced_by=spec.job))
    # Both feed two outputs each; cached so the profiling aggregations run once.
    report = reduce(DataFrame.unionByName, profiles).cache()
    tables = summarise_tables(report, reduce(DataFrame.unionByName, duplicates)).cache()

    run.write("data_quality_report", report)
    run.write("data_lineage_summary", tables)
    run.write("quality_alerts", raise_alerts(
        report, tables,
        max_null_rate=float(settings.get("max_null_rate", 0.02)),
        max_violation_rate=float(settings.get("max_violation_rate", 0.01)),
        max_duplicate_key_rate=float(settings.get("max_duplicate_key_rate", 0.01)),
    ))


def main() -> int:
    with JobRun("data_quality") as run:
        execute(run)
    return run.exit_code


if __name__ == "__main__":
    sys.exit(main())
