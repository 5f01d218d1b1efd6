"""Financial transactions: validation, currency conversion, daily summaries and fraud indicators.

Inputs: raw_transactions (CSV card and transfer feed), account_master, exchange_rates, and the
customer master the customers job maintains.
Outputs:
- processed_transactions: one row per accepted transaction, joined to its account (inner join)
  and to the account holder's segment and country in the customer master (left join: an account
  whose holder is not in the master keeps nulls there), converted to the reporting currency by the rate of the transaction's date and currency,
  with a signed amount (CREDIT in, DEBIT/FEE/TRANSFER out);
- daily_account_summary: per account and day (with the holder's country), counts, debit and credit totals, net, largest
  amount and distinct merchants, all in the reporting currency;
- fraud_indicators: one row per processed transaction (flagged or not) with window indicators
  per account: running total, velocity in a trailing window, z-score of the amount against all
  the account's transactions, seconds since the previous one, and the flags they raise.
Malformed lines, missing fields, negative amounts, unknown transaction types, repeated
transaction ids, unknown accounts (found with a left_anti join) and currencies without a rate on
the transaction's date are quarantined in rejects_raw_transactions, so
rows(raw_transactions) = rows(processed_transactions) + rows(rejects_raw_transactions).
"""

from __future__ import annotations

import sys

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lineage_audit.config import job_settings
from lineage_audit.job import JobRun
from lineage_audit.raw_feeds import RAW_TRANSACTIONS_SCHEMA
from lineage_audit.tables import as_rejects, split_corrupt

RAW_COLUMNS = tuple(RAW_TRANSACTIONS_SCHEMA.fieldNames())
# Money leaving the account; CREDIT is the only type that brings money in.
OUTGOING_TYPES = ("DEBIT", "FEE", "TRANSFER")
TRANSACTION_TYPES = ("CREDIT", *OUTGOING_TYPES)


def _reject(df: DataFrame, reason: str | Column) -> DataFrame:
    """Quarantine rows with the raw feed's columns only, whatever a step has joined onto them."""
    return as_rejects(df, reason, F.to_json(F.struct(*[F.col(c) for c in RAW_COLUMNS])))


def _normalised_type() -> Column:
    return F.upper(F.trim(F.col("transaction_type")))


def validate_transactions(transactions: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Split parsed rows into (valid, rejected); the first failing check names the reason."""
    first_of_id = Window.partitionBy("transaction_id").orderBy(
        F.col("transaction_ts").asc_nulls_last(), "account_id", "amount"
    )
    checked = transactions.withColumn(
        "reject_reason",
        F.coalesce(
            F.when(F.col("transaction_id").isNull(), F.lit("missing transaction_id")),
            F.when(F.col("account_id").isNull(), F.lit("missing account_id")),
            F.when(F.col("transaction_ts").isNull(), F.lit("missing transaction_ts")),
            F.when(F.col("amount").isNull(), F.lit("missing amount")),
            F.when(F.col("amount") < 0, F.lit("negative amount")),
            F.when(_normalised_type().isNull() | ~_normalised_type().isin(*TRANSACTION_TYPES),
                   F.lit("unknown transaction_type")),
            F.when(F.row_number().over(first_of_id) > 1, F.lit("duplicate transaction_id")),
        ),
    )
    valid = checked.where(F.col("reject_reason").isNull()).select(*[F.col(c).alias(c) for c in RAW_COLUMNS])
    rejected = _reject(checked.where(F.col("reject_reason").isNotNull()), F.col("reject_reason"))
    return valid, rejected


def attach_accounts(transactions: DataFrame, accounts: DataFrame,
                    customers: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Inner-join each transaction to its account, and the account to its holder in the customer master.

    Transactions of unknown accounts are rejected; a holder missing from the master leaves nulls.
    """
    holders = customers.select(
        F.col("customer_id").alias("holder_id"),
        F.col("segment").alias("customer_segment"),
        F.col("country_code").alias("customer_country"),
    )
    account_columns = accounts.join(holders, on=F.col("customer_id") == F.col("holder_id"), how="left").select(
        F.col("account_id").alias("account_id"),
        F.col("customer_id").alias("customer_id"),
        F.col("customer_segment").alias("customer_segment"),
        F.col("customer_country").alias("customer_country"),
        F.col("account_type").alias("account_type"),
        F.col("currency").alias("account_currency"),
        F.col("status").alias("account_status"),
        F.col("risk_rating").alias("risk_rating"),
    )
    joined = transactions.join(account_columns, on="account_id", how="inner").select(
        *[F.col(c).alias(c) for c in RAW_COLUMNS],
        F.col("customer_id").alias("customer_id"),
        F.col("customer_segment").alias("customer_segment"),
        F.col("customer_country").alias("customer_country"),
        F.col("account_type").alias("account_type"),
        F.col("account_currency").alias("account_currency"),
        F.col("account_status").alias("account_status"),
        F.col("risk_rating").alias("risk_rating"),
    )
    unknown = transactions.join(account_columns, on="account_id", how="left_anti")
    return joined, _reject(unknown, "unknown account_id")


def reporting_rates(rates: DataFrame, *, reporting_currency: str) -> DataFrame:
    """Per day and currency: units of the reporting currency that one unit of the currency buys.

    exchange_rates quotes every currency against USD, so a self-join on the day with the
    reporting currency's own quote turns the USD rate into a cross rate.
    """
    source = rates.alias("source")
    target = rates.where(F.col("currency") == reporting_currency).alias("target")
    return source.join(target, on=F.col("source.rate_date") == F.col("target.rate_date"), how="inner").select(
        F.col("source.rate_date").alias("rate_date"),
        F.col("source.currency").alias("rate_currency"),
        (F.col("target.units_per_usd") / F.col("source.units_per_usd")).alias("exchange_rate"),
    )


def convert_currency(
    transactions: DataFrame, rates: DataFrame, *, reporting_currency: str
) -> tuple[DataFrame, DataFrame]:
    """Attach the rate of the transaction's date and currency; rows without one are rejected."""
    cross = reporting_rates(rates, reporting_currency=reporting_currency)
    condition = (F.to_date(F.col("transaction_ts")) == F.col("rate_date")) & (
        F.upper(F.trim(F.col("currency"))) == F.col("rate_currency")
    )
    joined = transactions.join(cross, on=condition, how="left")
    converted = joined.where(F.col("exchange_rate").isNotNull()).select(
        *[F.col(c).alias(c) for c in transactions.columns],
        F.col("exchange_rate").alias("exchange_rate"),
        F.round(F.col("amount") * F.col("exchange_rate"), 2).alias("amount_reporting"),
    )
    unrated = joined.where(F.col("exchange_rate").isNull())
    reason = F.concat(
        F.lit("no exchange rate for currency "), F.coalesce(F.col("currency"), F.lit("<null>")),
        F.lit(" on "), F.date_format(F.col("transaction_ts"), "yyyy-MM-dd"),
    )
    return converted, _reject(unrated, reason)


def derive_transaction_fields(transactions: DataFrame, *, reporting_currency: str) -> DataFrame:
    """The processed_transactions shape: normalised text, calendar fields, signed amount."""
    txn_type = _normalised_type()
    currency = F.upper(F.trim(F.col("currency")))
    return transactions.select(
        F.col("transaction_id").alias("transaction_id"),
        F.col("account_id").alias("account_id"),
        F.col("customer_id").alias("customer_id"),
        F.sha2(F.concat_ws("|", F.col("account_id"), F.col("customer_id")), 256).alias("account_fingerprint"),
        F.col("customer_segment").alias("customer_segment"),
        F.col("customer_country").alias("customer_country"),
        F.col("account_type").alias("account_type"),
        F.col("account_status").alias("account_status"),
        F.col("risk_rating").alias("risk_rating"),
        F.col("transaction_ts").alias("transaction_ts"),
        F.to_date(F.col("transaction_ts")).alias("transaction_date"),
        F.hour(F.col("transaction_ts")).alias("transaction_hour"),
        F.date_format(F.col("transaction_ts"), "EEE").alias("day_of_week"),
        txn_type.alias("transaction_type"),
        F.when(txn_type == "CREDIT", F.lit("IN")).otherwise(F.lit("OUT")).alias("direction"),
        F.trim(F.col("merchant")).alias("merchant"),
        F.lower(F.trim(F.col("merchant_category"))).alias("merchant_category"),
        F.upper(F.trim(F.col("channel"))).alias("channel"),
        currency.alias("original_currency"),
        F.col("amount").alias("original_amount"),
        (currency != F.col("account_currency")).alias("is_foreign_currency"),
        F.col("exchange_rate").alias("exchange_rate"),
        F.lit(reporting_currency).alias("reporting_currency"),
        F.col("amount_reporting").alias("amount_reporting"),
        F.when(txn_type == "CREDIT", F.col("amount_reporting"))
        .when(txn_type.isin(*OUTGOING_TYPES), -F.col("amount_reporting"))
        .alias("signed_amount_reporting"),
    )


def summarise_daily(transactions: DataFrame) -> DataFrame:
    """One row per account and day with totals in the reporting currency."""
    amount = F.col("amount_reporting")
    outgoing = F.col("direction") == "OUT"
    return (
        transactions.groupBy("account_id", "customer_id", "customer_country", "transaction_date", "reporting_currency")
        .agg(
            F.count(F.lit(1)).alias("transaction_count"),
            F.sum(F.when(outgoing, amount).otherwise(F.lit(0.0))).alias("debit_total"),
            F.sum(F.when(~outgoing, amount).otherwise(F.lit(0.0))).alias("credit_total"),
            F.sum("signed_amount_reporting").alias("net_amount"),
            F.max(amount).alias("max_amount"),
            F.count_distinct("merchant").alias("distinct_merchants"),
            F.count_if(F.col("is_foreign_currency")).alias("foreign_currency_count"),
            F.min("transaction_ts").alias("first_transaction_ts"),
            F.max("transaction_ts").alias("last_transaction_ts"),
        )
        .select(
            F.col("account_id").alias("account_id"),
            F.col("customer_id").alias("customer_id"),
            F.col("customer_country").alias("customer_country"),
            F.col("transaction_date").alias("transaction_date"),
            F.col("reporting_currency").alias("reporting_currency"),
            F.col("transaction_count").alias("transaction_count"),
            F.round("debit_total", 2).alias("debit_total"),
            F.round("credit_total", 2).alias("credit_total"),
            F.round("net_amount", 2).alias("net_amount"),
            F.col("max_amount").alias("max_amount"),
            F.col("distinct_merchants").alias("distinct_merchants"),
            F.col("foreign_currency_count").alias("foreign_currency_count"),
            F.col("first_transaction_ts").alias("first_transaction_ts"),
            F.col("last_transaction_ts").alias("last_transaction_ts"),
        )
    )


def fraud_indicators(
    transactions: DataFrame, *, velocity_window_minutes: int, velocity_threshold: int, zscore_threshold: float
) -> DataFrame:
    """One row per transaction with per-account window indicators and the flags they raise.

    velocity_count counts the account's transactions in the trailing window, the current one
    included; a velocity alert needs more than ``velocity_threshold`` of them. The z-score
    compares the amount with the mean and standard deviation of all the account's amounts;
    it is null when they do not vary (or there is only one).
    """
    epoch = F.unix_seconds(F.col("transaction_ts"))
    in_order = Window.partitionBy("account_id").orderBy(epoch, F.col("transaction_id"))
    trailing = Window.partitionBy("account_id").orderBy(epoch).rangeBetween(-60 * velocity_window_minutes, 0)
    whole_account = Window.partitionBy("account_id")
    amount = F.col("amount_reporting")
    mean = F.avg(amount).over(whole_account)
    stddev = F.stddev_samp(amount).over(whole_account)
    indicators = transactions.select(
        "transaction_id", "account_id", "transaction_ts", "amount_reporting", "signed_amount_reporting",
        F.row_number().over(in_order).alias("transaction_seq"),
        F.sum("signed_amount_reporting").over(in_order.rowsBetween(Window.unboundedPreceding, Window.currentRow))
        .alias("running_total"),
        F.count(F.lit(1)).over(trailing).alias("velocity_count"),
        (epoch - F.lag(epoch).over(in_order)).alias("seconds_since_previous"),
        mean.alias("account_mean"),
        stddev.alias("account_stddev"),
        F.when(stddev > 0, (amount - mean) / stddev).alias("zscore"),
    )
    velocity_alert = F.col("velocity_count") > velocity_threshold
    outlier = F.coalesce(F.abs(F.col("zscore")) > zscore_threshold, F.lit(False))
    return indicators.select(
        F.col("transaction_id").alias("transaction_id"),
        F.col("account_id").alias("account_id"),
        F.col("transaction_ts").alias("transaction_ts"),
        F.col("amount_reporting").alias("amount_reporting"),
        F.col("transaction_seq").alias("transaction_seq"),
        F.round("running_total", 2).alias("running_total"),
        F.col("velocity_count").alias("velocity_count"),
        F.col("seconds_since_previous").alias("seconds_since_previous"),
        F.round("account_mean", 2).alias("account_mean_amount"),
        F.round("account_stddev", 2).alias("account_stddev_amount"),
        F.round("zscore", 3).alias("amount_zscore"),
        velocity_alert.alias("is_velocity_alert"),
        outlier.alias("is_amount_outlier"),
        F.when(velocity_alert & outlier, F.lit("HIGH"))
        .when(velocity_alert | outlier, F.lit("MEDIUM"))
        .otherwise(F.lit("LOW"))
        .alias("risk_level"),
    )


def execute(run: JobRun) -> None:
    settings = job_settings("financial")
    reporting_currency = str(settings.get("reporting_currency", "USD"))
    parsed, malformed = split_corrupt(run.read("raw_transactions", RAW_TRANSACTIONS_SCHEMA))
    accounts = run.read("account_master")
    rates = run.read("exchange_rates")
    customers = run.read("customer_master")

    valid, invalid = validate_transactions(parsed)
    known, unknown_accounts = attach_accounts(valid, accounts, customers)
    converted, unrated = convert_currency(known, rates, reporting_currency=reporting_currency)
    # Three outputs are built from it: cache so validation and joins run once, not three times.
    processed = converted.transform(derive_transaction_fields, reporting_currency=reporting_currency).cache()

    run.write("processed_transactions", processed)
    run.write("daily_account_summary", processed.transform(summarise_daily))
    run.write("fraud_indicators", processed.transform(
        fraud_indicators,
        velocity_window_minutes=int(settings.get("velocity_window_minutes", 60)),
        velocity_threshold=int(settings.get("velocity_threshold", 5)),
        zscore_threshold=float(settings.get("zscore_threshold", 3.0)),
    ))
    run.reject("raw_transactions", malformed, invalid, unknown_accounts, unrated)


def main() -> int:
    with JobRun("financial") as run:
        execute(run)
    return run.exit_code


if __name__ == "__main__":
    sys.exit(main())
