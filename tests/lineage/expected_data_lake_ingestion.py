"""Data lake ingestion: the expected column lineage of every column the job writes
(jobs/data_lake_ingestion.py)."""

from __future__ import annotations

from tests.lineage.harness import AGG, COUNT, ID, MASKED, TR, I

SENSOR_FIELDS = ("sensor_id", "site", "reading_ts", "temperature_c", "humidity_pct", "pressure_hpa", "battery_v")
# What each feed's envelope payload (to_json of a struct) is built from: the fields besides the id and
# the event time (the log line's fields all parse its text; struct fields read their parent column).
PAYLOAD_FIELDS = (
    *[("external_api_data", f) for f in ("endpoint", "status_code", "payload")],
    ("log_files", "value"),
    *[("sensor_data", f) for f in SENSOR_FIELDS if f != "reading_ts"],
    *[("social_media_feeds", f) for f in ("platform", "lang", "text", "hashtags", "mentions", "author", "metrics")],
    # the orders job's order_summary, archived one record per customer and day
    *[("order_summary", f) for f in ("customer_id", "order_date", "order_count", "total_net_amount", "avg_net_amount",
                                     "total_quantity", "distinct_products", "high_value_orders")],
)
# The envelope's event_ts per feed (a log line's timestamp is parsed out of its text).
EVENT_TS_FIELDS = (("external_api_data", "fetched_at"), ("log_files", "value"), ("sensor_data", "reading_ts"),
                   ("social_media_feeds", "posted_at"), ("order_summary", "last_order_ts"))
# split_corrupt on each JSON/CSV feed, the log pattern, the plausible temperature range. The rejects
# pass the same filters (negated), so aggregates over the lake and the rejects depend on these alone.
LAKE_FILTERS = {
    ("external_api_data", "_corrupt_record"): {I("FILTER")},
    ("log_files", "value"): {I("FILTER")},
    ("sensor_data", "_corrupt_record"): {I("FILTER")},
    ("sensor_data", "temperature_c"): {I("FILTER")},
    ("social_media_feeds", "_corrupt_record"): {I("FILTER")},
}
# A coalesce's arguments are also the condition that picks one of them (INDIRECT CONDITIONAL); under a
# count or a hash the condition is masked too.
MASKED_CONDITION = I("CONDITIONAL") + "+masked"
# A count of (or an aggregate over) record_hash, the sha2 of the payload: masked all the way.
OF_HASHES = {field: {COUNT} for field in PAYLOAD_FIELDS}
# ... coalesced with 0 after the left join (records_out, hash_count, xxhash64_sum)
OF_HASHES_OR_ZERO = {field: {COUNT, MASKED_CONDITION} for field in PAYLOAD_FIELDS}
# The log line's id, coalesce('REQ' || nullif(request number, ''), ...), is in the payload: its text decides.
LOG_ID = {("log_files", "value"): {TR, I("CONDITIONAL")}}

EXPECTED = {
    "raw_data_lake": {
        "fields": {
            "source": {},
            "record_id": {
                ("external_api_data", "request_id"): {ID},
                # coalesce('REQ' || nullif(request number, ''), substring(sha2(value))): one path unmasked
                ("log_files", "value"): {TR, I("CONDITIONAL")},
                ("sensor_data", "sensor_id"): {TR},  # concat_ws('@', sensor_id, date_format(reading_ts))
                ("sensor_data", "reading_ts"): {TR},
                ("social_media_feeds", "post_id"): {ID},
                ("order_summary", "customer_id"): {TR},  # concat_ws('@', customer_id, date_format(order_date))
                ("order_summary", "order_date"): {TR},
            },
            "event_ts": {
                ("external_api_data", "fetched_at"): {ID},
                ("log_files", "value"): {TR},
                ("sensor_data", "reading_ts"): {ID},
                ("social_media_feeds", "posted_at"): {ID},
                ("order_summary", "last_order_ts"): {ID},
            },
            "ingest_date": {field: {TR} for field in EVENT_TS_FIELDS},
            "payload": {**{field: {TR} for field in PAYLOAD_FIELDS}, **LOG_ID},
            "record_hash": {**{field: {MASKED} for field in PAYLOAD_FIELDS},
                            ("log_files", "value"): {MASKED, MASKED_CONDITION}},
        },
        "dataset": LAKE_FILTERS,
    },
    # API readings (explode of payload.readings) and post hashtags (posexplode), in one long schema.
    "structured_data_lake": {
        "fields": {
            "source": {},
            "record_id": {("external_api_data", "request_id"): {ID}, ("social_media_feeds", "post_id"): {ID}},
            "event_ts": {("external_api_data", "fetched_at"): {ID}, ("social_media_feeds", "posted_at"): {ID}},
            "attribute": {("external_api_data", "payload"): {TR}},  # the reading's metric, or 'hashtag'
            "position": {("social_media_feeds", "hashtags"): {TR}},
            "value_double": {("external_api_data", "payload"): {TR}},
            "value_string": {("social_media_feeds", "hashtags"): {TR}},
            "unit": {("external_api_data", "payload"): {TR}},
        },
        "dataset": {("external_api_data", "_corrupt_record"): {I("FILTER")},
                    ("social_media_feeds", "_corrupt_record"): {I("FILTER")}},
    },
    # Per source (a literal): the lake grouped, full outer joined with the rejects grouped.
    "data_lake_metadata": {
        "fields": {
            "source": {},
            "record_count": {},  # count(*)
            "rejected_count": {},
            "min_event_ts": {field: {AGG} for field in EVENT_TS_FIELDS},
            "max_event_ts": {field: {AGG} for field in EVENT_TS_FIELDS},
            # coalesce(countDistinct(ingest_date), 0), coalesce(sum(octet_length(payload)), 0)
            "distinct_partitions": {field: {COUNT, MASKED_CONDITION} for field in EVENT_TS_FIELDS},
            "payload_bytes": {field: {AGG, I("CONDITIONAL")} for field in PAYLOAD_FIELDS},
            "ingested_at": {},
        },
        "dataset": LAKE_FILTERS,
    },
    # Lines read per source (the raw reads, unfiltered, tagged with a literal) left joined with the lake
    # and the rejects grouped by source.
    "data_lineage_tracking": {
        "fields": {
            "input_table": {},
            "input_path": {},
            "target_table": {},
            "records_in": {},
            "records_out": OF_HASHES_OR_ZERO,  # coalesce(count(record_hash), 0)
            "records_rejected": {},
            "is_reconciled": OF_HASHES_OR_ZERO,  # records_in = records_out + records_rejected
            "hash_count": OF_HASHES_OR_ZERO,
            "xxhash64_sum": OF_HASHES_OR_ZERO,  # coalesce(sum(xxhash64(record_hash)), 0)
            # sha2 of the sorted collect_list(record_hash); the log id's condition is hashed along
            "hash_digest": {**OF_HASHES, ("log_files", "value"): {COUNT, MASKED_CONDITION}},
        },
        "dataset": LAKE_FILTERS,
    },
    "rejects/external_api_data": {
        "fields": {
            "source_table": {},
            "reject_reason": {},
            "raw_record": {("external_api_data", "_corrupt_record"): {ID}},
            "rejected_by_job": {},
        },
        "dataset": {("external_api_data", "_corrupt_record"): {I("FILTER")}},
    },
    "rejects/log_files": {
        "fields": {
            "source_table": {},
            "reject_reason": {("log_files", "value"): {I("CONDITIONAL")}},  # stack-trace line or not
            "raw_record": {("log_files", "value"): {ID}},
            "rejected_by_job": {},
        },
        "dataset": {("log_files", "value"): {I("FILTER")}},
    },
    # Malformed lines, and implausible temperatures with the parsed row as JSON.
    "rejects/sensor_data": {
        "fields": {
            "source_table": {},
            "reject_reason": {("sensor_data", "temperature_c"): {TR}},  # format_string with the value
            "raw_record": {("sensor_data", "_corrupt_record"): {ID}, **{("sensor_data", f): {TR} for f in SENSOR_FIELDS}},
            "rejected_by_job": {},
        },
        "dataset": {("sensor_data", "_corrupt_record"): {I("FILTER")}, ("sensor_data", "temperature_c"): {I("FILTER")}},
    },
    "rejects/social_media_feeds": {
        "fields": {
            "source_table": {},
            "reject_reason": {},
            "raw_record": {("social_media_feeds", "_corrupt_record"): {ID}},
            "rejected_by_job": {},
        },
        "dataset": {("social_media_feeds", "_corrupt_record"): {I("FILTER")}},
    },
}
