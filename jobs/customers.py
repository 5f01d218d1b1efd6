"""Customers: clean the CRM export raw_customers (CSV) into processed_customers and the customer master.

The first job of the pipeline. Text is trimmed and put in a standard case, the three birth-date
formats are parsed, age is derived as of each record's own ``updated_at`` (so reruns give the same
answer), the latest valid record of each customer wins and e-mail and phone are kept only as
SHA-256 hashes. Malformed lines, missing keys, unusable ages and superseded records are
quarantined, so rows of raw_customers = rows of processed_customers + rejects of raw_customers.

customer_master is the customer record the other jobs build on (orders and financial join it):
one row per customer with the segment, country and hashed e-mail. Where tables are Delta it is
MERGEd (a newer record updates, a new customer is inserted, a customer missing from today's
export stays); with Parquet it is overwritten by today's export.
"""

from __future__ import annotations

import sys

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lineage_audit.config import TableSpec, job_settings
from lineage_audit.job import JobRun
from lineage_audit.raw_feeds import BIRTH_DATE_FORMATS, RAW_CUSTOMERS_SCHEMA
from lineage_audit.tables import as_rejects, count_rows, split_corrupt, table_exists, write_table


SUPERSEDED_REASON = "superseded by a later record"

STANDARD_COLUMNS = (
    "customer_id", "first_name", "last_name", "email", "phone", "birth_date_text", "birth_date",
    "country_code", "city", "segment", "signup_date", "updated_at", "raw_record",
)
DERIVED_COLUMNS = STANDARD_COLUMNS + ("full_name", "email_domain", "age")
PROCESSED_COLUMNS = (
    "customer_id", "first_name", "last_name", "full_name", "email_hash", "email_domain", "phone_hash",
    "birth_date", "age", "country_code", "city", "segment", "signup_date", "updated_at",
)
MASTER_COLUMNS = (
    "customer_id", "full_name", "email_hash", "segment", "country_code", "city", "signup_date", "updated_at",
)
DEFAULT_SEGMENT = "STANDARD"  # the CRM's segment for a customer it has none for


def _clean_text(column: str) -> Column:
    """Trimmed, inner runs of whitespace collapsed, empty strings as null."""
    return F.nullif(F.regexp_replace(F.trim(F.col(column)), r"\s+", " "), F.lit(""))


def _parse_date(column: Column, formats: tuple[str, ...]) -> Column:
    # try_to_timestamp yields null on a mismatch (to_date would fail under ANSI mode).
    return F.coalesce(*[F.to_date(F.try_to_timestamp(column, F.lit(fmt))) for fmt in formats])


def standardise_customers(raw: DataFrame) -> DataFrame:
    """Trim and case the text, keep phone digits only, parse the dates; keep the raw line as JSON."""
    birth_text = _clean_text("birth_date")
    return raw.select(
        F.upper(_clean_text("customer_id")).alias("customer_id"),
        F.initcap(_clean_text("first_name")).alias("first_name"),
        F.initcap(_clean_text("last_name")).alias("last_name"),
        F.lower(_clean_text("email")).alias("email"),
        F.nullif(F.regexp_replace(F.col("phone"), r"[^0-9]", ""), F.lit("")).alias("phone"),
        birth_text.alias("birth_date_text"),
        _parse_date(birth_text, BIRTH_DATE_FORMATS).alias("birth_date"),
        F.upper(_clean_text("country")).alias("country_code"),
        F.initcap(_clean_text("city")).alias("city"),
        F.coalesce(F.upper(_clean_text("segment")), F.lit(DEFAULT_SEGMENT)).alias("segment"),
        _parse_date(_clean_text("signup_date"), ("yyyy-MM-dd",)).alias("signup_date"),
        F.try_to_timestamp(_clean_text("updated_at"), F.lit("yyyy-MM-dd HH:mm:ss")).alias("updated_at"),
        F.to_json(F.struct(*[F.col(c) for c in RAW_CUSTOMERS_SCHEMA.fieldNames()])).alias("raw_record"),
    )


def add_derived_fields(customers: DataFrame) -> DataFrame:
    """full_name, e-mail domain, and age in whole years as of the record's own update date."""
    age_years = F.floor(F.months_between(F.to_date("updated_at"), F.col("birth_date")) / 12).cast("int")
    return customers.select(
        *[F.col(c) for c in STANDARD_COLUMNS],
        F.nullif(F.concat_ws(" ", "first_name", "last_name"), F.lit("")).alias("full_name"),
        F.substring_index("email", "@", -1).alias("email_domain"),
        age_years.alias("age"),
    )


def validate_customers(customers: DataFrame, *, min_age: int, max_age: int) -> tuple[DataFrame, DataFrame]:
    """Split into (valid, rejected): a customer needs a key and an age within [min_age, max_age]."""
    reason = (
        F.when(F.col("customer_id").isNull(), "missing customer_id")
        .when(F.col("birth_date_text").isNull(), "missing birth_date")
        .when(F.col("birth_date").isNull(), F.concat(F.lit("unparseable birth_date: "), F.col("birth_date_text")))
        .when(F.col("updated_at").isNull(), "unparseable updated_at")
        .when(
            ~F.col("age").between(min_age, max_age),
            F.format_string("age %d outside [%d, %d]", F.col("age"), F.lit(min_age), F.lit(max_age)),
        )
    )
    checked = customers.withColumn("reject_reason", reason)
    valid = checked.where(F.col("reject_reason").isNull()).select(*[F.col(c) for c in DERIVED_COLUMNS])
    rejected = as_rejects(checked.where(F.col("reject_reason").isNotNull()), F.col("reject_reason"), F.col("raw_record"))
    return valid, rejected


def keep_latest_record(customers: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Split into (latest record per customer_id, superseded records) by updated_at."""
    # The raw line breaks ties between records updated in the same second, so reruns agree.
    latest_first = Window.partitionBy("customer_id").orderBy(F.col("updated_at").desc(), F.col("raw_record").desc())
    ranked = customers.withColumn("record_rank", F.row_number().over(latest_first))
    latest = ranked.where(F.col("record_rank") == 1).select(*[F.col(c) for c in DERIVED_COLUMNS])
    superseded = as_rejects(ranked.where(F.col("record_rank") > 1), SUPERSEDED_REASON, F.col("raw_record"))
    return latest, superseded


def protect_pii(customers: DataFrame) -> DataFrame:
    """Replace clear-text e-mail and phone by their SHA-256 hashes; the final column order."""
    return customers.select(
        F.col("customer_id"),
        F.col("first_name"),
        F.col("last_name"),
        F.col("full_name"),
        F.sha2(F.col("email"), 256).alias("email_hash"),
        F.col("email_domain"),
        F.sha2(F.col("phone"), 256).alias("phone_hash"),
        F.col("birth_date"),
        F.col("age"),
        F.col("country_code"),
        F.col("city"),
        F.col("segment"),
        F.col("signup_date"),
        F.col("updated_at"),
    )


def to_customer_master(customers: DataFrame) -> DataFrame:
    """The master record other jobs join: identity, segment and place, no clear-text contact data."""
    return customers.select(*[F.col(c) for c in MASTER_COLUMNS])


def merge_into_customer_master(spark: SparkSession, customers: DataFrame, master: TableSpec) -> None:
    """Upsert into the Delta customer master: newer records update, new keys insert."""
    from delta.tables import DeltaTable  # only importable where the Delta JARs are configured

    if not (table_exists(spark, master.path) and DeltaTable.isDeltaTable(spark, master.path)):
        write_table(customers, master)  # the first run creates the table
        return
    existing = DeltaTable.forPath(spark, master.path).toDF().columns
    if list(existing) != list(customers.columns):
        write_table(customers, master)  # a master of another shape (an older version of this job) is replaced
        return
    (
        DeltaTable.forPath(spark, master.path).alias("master")
        .merge(customers.alias("incoming"), "master.customer_id = incoming.customer_id")
        .whenMatchedUpdateAll(condition="incoming.updated_at > master.updated_at")
        .whenNotMatchedInsertAll()
        .execute()
    )


def execute(run: JobRun) -> None:
    settings = job_settings("customers")
    parsed, malformed = split_corrupt(run.read("raw_customers", RAW_CUSTOMERS_SCHEMA))
    valid, invalid = validate_customers(
        parsed.transform(standardise_customers).transform(add_derived_fields),
        min_age=int(settings["min_age"]),
        max_age=int(settings["max_age"]),
    )
    latest, superseded = keep_latest_record(valid)
    customers = latest.transform(protect_pii)
    run.write("processed_customers", customers)
    run.reject("raw_customers", malformed, invalid, superseded)
    master = run.catalog.output("customer_master")
    if master.format == "delta":
        merge_into_customer_master(run.spark, customers.transform(to_customer_master), master)
        # A MERGE is not an overwrite, so it bypasses run.write.
        run.record_rows(master.name, count_rows(run.spark, master))
    else:
        run.write("customer_master", customers.transform(to_customer_master))


def main() -> int:
    with JobRun("customers") as run:
        execute(run)
    return run.exit_code


if __name__ == "__main__":
    sys.exit(main())
