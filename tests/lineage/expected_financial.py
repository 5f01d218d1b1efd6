"""Financial: the expected column lineage of every column the job writes (jobs/financial.py)."""

from __future__ import annotations

from tests.lineage.harness import AGG, COUNT, ID, MASKED, TR, I

RAW_FIELDS = ("transaction_id", "account_id", "transaction_ts", "amount", "currency", "transaction_type", "merchant",
              "merchant_category", "channel")
# Every output row went through the same steps: the malformed-line split, the checks (kept where
# the reason is null; the duplicate check's row_number is over a window partitioned by
# transaction_id, ordered by transaction_ts, account_id, amount), the inner join to account_master
# (itself left-joined to the holder in the customer master the customers job writes), and the left join to the USD cross rates (a self-join of exchange_rates on the day, its target
# side filtered on the reporting currency), kept where a rate was found.
STEPS = {
    ("raw_transactions", "_corrupt_record"): {I("FILTER")},
    ("raw_transactions", "transaction_id"): {I("FILTER")},
    ("raw_transactions", "account_id"): {I("FILTER"), I("JOIN")},
    ("raw_transactions", "transaction_ts"): {I("FILTER"), I("JOIN")},  # joined on to_date(transaction_ts)
    ("raw_transactions", "amount"): {I("FILTER")},
    ("raw_transactions", "transaction_type"): {I("FILTER")},
    ("raw_transactions", "currency"): {I("JOIN")},
    ("account_master", "account_id"): {I("JOIN")},
    ("account_master", "customer_id"): {I("JOIN")},
    ("customer_master", "customer_id"): {I("JOIN")},
    ("exchange_rates", "rate_date"): {I("JOIN")},
    ("exchange_rates", "currency"): {I("FILTER"), I("JOIN")},
    ("exchange_rates", "units_per_usd"): {I("FILTER")},  # exchange_rate IS NOT NULL
}
# round(amount * target.units_per_usd / source.units_per_usd)
AMOUNT_REPORTING = {("raw_transactions", "amount"): {TR}, ("exchange_rates", "units_per_usd"): {TR}}
# CASE WHEN on the normalised type: the amount reporting, or its negation
SIGNED_AMOUNT = {**AMOUNT_REPORTING, ("raw_transactions", "transaction_type"): {I("CONDITIONAL")}}
SUMMED_AMOUNT = {("raw_transactions", "amount"): {AGG}, ("exchange_rates", "units_per_usd"): {AGG},
                 ("raw_transactions", "transaction_type"): {I("CONDITIONAL")}}
# The fraud windows: per account ordered by unix_seconds(transaction_ts) and transaction_id; the
# trailing velocity window ordered by the time alone.
IN_ORDER = {("raw_transactions", f): {I("WINDOW")} for f in ("account_id", "transaction_ts", "transaction_id")}
TRAILING = {("raw_transactions", f): {I("WINDOW")} for f in ("account_id", "transaction_ts")}
ACCOUNT_STAT = {("raw_transactions", "amount"): {AGG}, ("exchange_rates", "units_per_usd"): {AGG},
                ("raw_transactions", "account_id"): {I("WINDOW")}}
# when(stddev > 0, (amount - mean) / stddev), mean and stddev over the account's window
ZSCORE = {("raw_transactions", "amount"): {AGG, I("CONDITIONAL")},
          ("exchange_rates", "units_per_usd"): {AGG, I("CONDITIONAL")},
          ("raw_transactions", "account_id"): {I("WINDOW"), I("CONDITIONAL")}}

EXPECTED = {
    "processed_transactions": {
        "fields": {
            "transaction_id": {("raw_transactions", "transaction_id"): {ID}},
            "account_id": {("raw_transactions", "account_id"): {ID}},  # the join's USING key is the feed's side
            "customer_id": {("account_master", "customer_id"): {ID}},
            "account_fingerprint": {("raw_transactions", "account_id"): {MASKED},
                                    ("account_master", "customer_id"): {MASKED}},  # sha2(concat_ws())
            "customer_segment": {("customer_master", "segment"): {ID}},
            "customer_country": {("customer_master", "country_code"): {ID}},
            "account_type": {("account_master", "account_type"): {ID}},
            "account_status": {("account_master", "status"): {ID}},
            "risk_rating": {("account_master", "risk_rating"): {ID}},
            "transaction_ts": {("raw_transactions", "transaction_ts"): {ID}},
            "transaction_date": {("raw_transactions", "transaction_ts"): {TR}},
            "transaction_hour": {("raw_transactions", "transaction_ts"): {TR}},
            "day_of_week": {("raw_transactions", "transaction_ts"): {TR}},
            "transaction_type": {("raw_transactions", "transaction_type"): {TR}},  # upper(trim())
            "direction": {("raw_transactions", "transaction_type"): {I("CONDITIONAL")}},  # 'IN' / 'OUT' literals
            "merchant": {("raw_transactions", "merchant"): {TR}},
            "merchant_category": {("raw_transactions", "merchant_category"): {TR}},
            "channel": {("raw_transactions", "channel"): {TR}},
            "original_currency": {("raw_transactions", "currency"): {TR}},
            "original_amount": {("raw_transactions", "amount"): {ID}},
            "is_foreign_currency": {("raw_transactions", "currency"): {TR}, ("account_master", "currency"): {TR}},
            "exchange_rate": {("exchange_rates", "units_per_usd"): {TR}},  # a ratio of two quotes
            "reporting_currency": {},
            "amount_reporting": AMOUNT_REPORTING,
            "signed_amount_reporting": SIGNED_AMOUNT,
        },
        "dataset": STEPS,
    },
    "daily_account_summary": {
        "fields": {
            "account_id": {("raw_transactions", "account_id"): {ID}},
            "customer_id": {("account_master", "customer_id"): {ID}},
            "customer_country": {("customer_master", "country_code"): {ID}},
            "transaction_date": {("raw_transactions", "transaction_ts"): {TR}},
            "reporting_currency": {},  # a literal grouping key
            "transaction_count": {},  # count(1)
            "debit_total": SUMMED_AMOUNT,  # sum(when(direction == 'OUT', amount_reporting))
            "credit_total": SUMMED_AMOUNT,
            "net_amount": SUMMED_AMOUNT,  # sum(signed_amount_reporting)
            "max_amount": {("raw_transactions", "amount"): {AGG}, ("exchange_rates", "units_per_usd"): {AGG}},
            "distinct_merchants": {("raw_transactions", "merchant"): {COUNT}},
            "foreign_currency_count": {("raw_transactions", "currency"): {COUNT},
                                       ("account_master", "currency"): {COUNT}},  # count_if(is_foreign_currency)
            "first_transaction_ts": {("raw_transactions", "transaction_ts"): {AGG}},
            "last_transaction_ts": {("raw_transactions", "transaction_ts"): {AGG}},
        },
        "dataset": {
            **STEPS,
            ("raw_transactions", "account_id"): {I("FILTER"), I("JOIN"), I("GROUP_BY")},
            ("raw_transactions", "transaction_ts"): {I("FILTER"), I("JOIN"), I("GROUP_BY")},  # by transaction_date
            ("account_master", "customer_id"): {I("JOIN"), I("GROUP_BY")},
            ("customer_master", "country_code"): {I("GROUP_BY")},
        },
    },
    "fraud_indicators": {
        "fields": {
            "transaction_id": {("raw_transactions", "transaction_id"): {ID}},
            "account_id": {("raw_transactions", "account_id"): {ID}},
            "transaction_ts": {("raw_transactions", "transaction_ts"): {ID}},
            "amount_reporting": AMOUNT_REPORTING,
            "transaction_seq": IN_ORDER,  # row_number()
            "running_total": {**IN_ORDER, **SUMMED_AMOUNT},  # sum(signed_amount_reporting) over the rows so far
            "velocity_count": TRAILING,  # count(1)
            # unix_seconds(transaction_ts) - lag(unix_seconds(transaction_ts))
            "seconds_since_previous": {**IN_ORDER, ("raw_transactions", "transaction_ts"): {TR, I("WINDOW")}},
            "account_mean_amount": ACCOUNT_STAT,
            "account_stddev_amount": ACCOUNT_STAT,
            "amount_zscore": ZSCORE,
            "is_velocity_alert": TRAILING,  # velocity_count > threshold
            "is_amount_outlier": ZSCORE,  # coalesce(abs(zscore) > threshold, false)
            # CASE WHEN on the two flags, literal levels
            "risk_level": {("raw_transactions", "account_id"): {I("CONDITIONAL")},
                           ("raw_transactions", "transaction_ts"): {I("CONDITIONAL")},
                           ("raw_transactions", "amount"): {I("CONDITIONAL")},
                           ("exchange_rates", "units_per_usd"): {I("CONDITIONAL")}},
        },
        "dataset": STEPS,
    },
    # Malformed lines, failed checks, unknown accounts (a left_anti join) and currencies without a
    # rate that day (the left join's rows without one), in one union.
    "rejects/raw_transactions": {
        "fields": {
            "source_table": {},
            # The checks' conditions (their reasons are literals), and the missing rate's message,
            # which quotes the currency (coalesce(currency, '<null>')) and the transaction's day.
            "reject_reason": {("raw_transactions", "transaction_id"): {I("CONDITIONAL")},
                              ("raw_transactions", "account_id"): {I("CONDITIONAL")},
                              ("raw_transactions", "transaction_ts"): {I("CONDITIONAL"), TR},
                              ("raw_transactions", "amount"): {I("CONDITIONAL")},
                              ("raw_transactions", "transaction_type"): {I("CONDITIONAL")},
                              ("raw_transactions", "currency"): {TR, I("CONDITIONAL")}},
            # the JSON of the parsed fields, or the malformed line itself
            "raw_record": {("raw_transactions", "_corrupt_record"): {ID},
                           **{("raw_transactions", f): {TR} for f in RAW_FIELDS}},
            "rejected_by_job": {},
        },
        "dataset": STEPS,
    },
}
