"""Customers: the expected column lineage of every column the job writes (jobs/customers.py)."""

from __future__ import annotations

from tests.lineage.harness import ID, MASKED, TR, I

# The parsed fields of a raw_customers line. Every one reaches the rows' filters: the latest record
# of a customer is the first row of a window ordered by updated_at, then by the whole raw line (the
# JSON of these fields), and the rows are kept or quarantined on that row_number.
RAW_FIELDS = ("customer_id", "first_name", "last_name", "email", "phone", "birth_date", "country", "city",
              "signup_date", "updated_at", "segment")
RAW_FILTERS = {("raw_customers", "_corrupt_record"): {I("FILTER")},
               **{("raw_customers", f): {I("FILTER")} for f in RAW_FIELDS}}

EXPECTED = {
    "processed_customers": {
        "fields": {
            # Every column is cleaned through nullif(..., "") or coalesce (the birth date's formats): its
            # field is also the condition that picks null or the value (INDIRECT CONDITIONAL).
            "customer_id": {("raw_customers", "customer_id"): {TR, I("CONDITIONAL")}},  # upper(nullif(trim()))
            "first_name": {("raw_customers", "first_name"): {TR, I("CONDITIONAL")}},  # initcap
            "last_name": {("raw_customers", "last_name"): {TR, I("CONDITIONAL")}},
            "full_name": {("raw_customers", "first_name"): {TR, I("CONDITIONAL")},
                          ("raw_customers", "last_name"): {TR, I("CONDITIONAL")}},
            # sha2(lower(trim(email))): the condition is hashed along with the value
            "email_hash": {("raw_customers", "email"): {MASKED, I("CONDITIONAL") + "+masked"}},
            "email_domain": {("raw_customers", "email"): {TR, I("CONDITIONAL")}},  # substring_index: clear text
            "phone_hash": {("raw_customers", "phone"): {MASKED, I("CONDITIONAL") + "+masked"}},
            "birth_date": {("raw_customers", "birth_date"): {TR, I("CONDITIONAL")}},  # coalesce over three formats
            # years between the birth date and the record's own update date
            "age": {("raw_customers", "birth_date"): {TR, I("CONDITIONAL")},
                    ("raw_customers", "updated_at"): {TR, I("CONDITIONAL")}},
            "country_code": {("raw_customers", "country"): {TR, I("CONDITIONAL")}},
            "city": {("raw_customers", "city"): {TR, I("CONDITIONAL")}},
            # coalesce(upper(nullif(trim()))), 'STANDARD')
            "segment": {("raw_customers", "segment"): {TR, I("CONDITIONAL")}},
            "signup_date": {("raw_customers", "signup_date"): {TR, I("CONDITIONAL")}},
            "updated_at": {("raw_customers", "updated_at"): {TR, I("CONDITIONAL")}},  # try_to_timestamp
        },
        # The checks (customer_id, birth date, updated_at, age) and the latest-record window.
        "dataset": RAW_FILTERS,
    },
    # The master the other jobs join: a projection of the processed customers (filled in below).
    "customer_master": {},
    # Malformed lines, failed checks and superseded records, in one union.
    "rejects/raw_customers": {
        "fields": {
            "source_table": {},
            # The checks' CASE WHEN: its conditions, and the values that quote the birth date text and
            # the age (months between updated_at and birth_date). The other reasons are literals.
            "reject_reason": {("raw_customers", "customer_id"): {I("CONDITIONAL")},
                              ("raw_customers", "birth_date"): {I("CONDITIONAL"), TR},
                              ("raw_customers", "updated_at"): {I("CONDITIONAL"), TR}},
            # the JSON of the parsed fields, or the malformed line itself
            "raw_record": {("raw_customers", "_corrupt_record"): {ID},
                           **{("raw_customers", f): {TR} for f in RAW_FIELDS}},
            "rejected_by_job": {},
        },
        "dataset": RAW_FILTERS,
    },
}

_PROCESSED = EXPECTED["processed_customers"]
EXPECTED["customer_master"] = {
    "fields": {column: _PROCESSED["fields"][column] for column in (
        "customer_id", "full_name", "email_hash", "segment", "country_code", "city", "signup_date", "updated_at")},
    "dataset": RAW_FILTERS,
}
