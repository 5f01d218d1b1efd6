"""Data inventory, access logs and regulations: the compliance job's own inputs.

The inventory names the columns of the pipeline's tables that hold sensitive data, as a governance team
keeps it by hand; the lineage the compliance job audits comes from the data quality and data-lake jobs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from lineage_audit.sample_data.common import Scale, dates, ids, pick, rng_for, timestamps, with_nulls
from lineage_audit.sample_data.writers import write_parquet

# (table, column, data category, sensitivity, owning team): the project's own sensitive columns.
INVENTORY = (
    ("processed_customers", "first_name", "PII", "HIGH", "crm"),
    ("processed_customers", "last_name", "PII", "HIGH", "crm"),
    ("processed_customers", "full_name", "PII", "HIGH", "crm"),
    ("processed_customers", "email_hash", "PII", "HIGH", "crm"),
    ("processed_customers", "phone_hash", "PII", "HIGH", "crm"),
    ("processed_customers", "birth_date", "PII", "HIGH", "crm"),
    ("processed_customers", "age", "PII", "MEDIUM", "crm"),
    ("processed_customers", "country_code", "PII", "LOW", "crm"),
    ("customer_master", "full_name", "PII", "HIGH", "crm"),
    ("customer_master", "email_hash", "PII", "HIGH", "crm"),
    ("customer_master", "city", "PII", "MEDIUM", "crm"),
    ("enriched_orders", "customer_id", "PII", "MEDIUM", "commerce"),
    ("enriched_orders", "net_amount", "FINANCIAL", "MEDIUM", "commerce"),
    ("order_summary", "total_net_amount", "FINANCIAL", "MEDIUM", "commerce"),
    ("processed_transactions", "account_id", "PCI", "HIGH", "payments"),
    ("processed_transactions", "amount_reporting", "FINANCIAL", "HIGH", "payments"),
    ("processed_transactions", "merchant", "FINANCIAL", "LOW", "payments"),
    ("account_master", "account_id", "PCI", "HIGH", "payments"),
    ("account_master", "credit_limit", "FINANCIAL", "HIGH", "payments"),
    ("fraud_indicators", "amount_zscore", "FINANCIAL", "MEDIUM", "risk"),
    ("real_time_user_analytics", "age", "PII", "MEDIUM", "growth"),
    ("real_time_user_analytics", "country", "PII", "LOW", "growth"),
    ("user_events_stream", "user_id", "BEHAVIOURAL", "MEDIUM", "growth"),
    ("user_events_stream", "page_url", "BEHAVIOURAL", "LOW", "growth"),
    ("model_predictions", "churn_probability", "BEHAVIOURAL", "MEDIUM", "data-science"),
    ("training_data", "monthly_spend", "FINANCIAL", "MEDIUM", "data-science"),
    ("raw_data_lake", "payload", "PII", "MEDIUM", "data-platform"),
    ("data_access_logs", "client_ip", "PII", "MEDIUM", "security"),
    ("social_media_feeds", "author_handle", "PII", "LOW", "marketing"),
    ("product_catalog", "unit_price", "PUBLIC", "LOW", "commerce"),
    ("exchange_rates", "units_per_usd", "PUBLIC", "LOW", "payments"),
)
# (regulation, requirement id, data category, encryption, masking, max retention days, roles, purposes)
REGULATIONS = (
    ("GDPR", "GDPR-32", "PII", True, True, 730, "data_engineer,support,auditor,service_account",
     "support,fraud_investigation,audit,operations"),
    ("GDPR", "GDPR-5-1-e", "BEHAVIOURAL", False, True, 395, "data_scientist,analyst,service_account,auditor",
     "analytics,personalisation,audit,operations"),
    ("CCPA", "CCPA-1798-100", "PII", False, True, 730, "data_engineer,support,auditor,service_account",
     "support,audit,operations"),
    ("PCI-DSS", "PCI-3.4", "PCI", True, True, 365, "data_engineer,auditor,service_account",
     "fraud_investigation,audit,operations"),
    ("SOX", "SOX-404", "FINANCIAL", False, False, 2555, "analyst,data_engineer,auditor,service_account,data_scientist",
     "reporting,audit,operations,fraud_investigation,analytics"),
    ("INTERNAL", "POL-PUBLIC", "PUBLIC", False, False, 3650,
     "analyst,data_engineer,data_scientist,support,auditor,service_account,marketing",
     "analytics,reporting,marketing,support,audit,operations,personalisation"),
)
ROLES = ("analyst", "data_engineer", "data_scientist", "support", "auditor", "service_account", "marketing")
PURPOSES = ("analytics", "reporting", "support", "fraud_investigation", "audit", "operations", "marketing",
            "personalisation")
def sensitive_data_inventory(out: Path, scale: Scale, seed: int) -> int:
    rng = rng_for(seed, "sensitive_data_inventory")
    n = len(INVENTORY)
    cols = list(zip(*INVENTORY))
    schema = pa.schema([
        ("table_name", pa.string()), ("column_name", pa.string()), ("data_category", pa.string()),
        ("sensitivity", pa.string()), ("owner_team", pa.string()), ("is_encrypted", pa.bool_()),
        ("is_masked", pa.bool_()), ("retention_days", pa.int32()), ("last_reviewed", pa.date32()),
    ])
    return write_parquet(out, {
        "table_name": cols[0], "column_name": cols[1], "data_category": cols[2], "sensitivity": cols[3],
        "owner_team": cols[4],
        "is_encrypted": with_nulls(rng, rng.random(n) < 0.6, 0.08),
        "is_masked": rng.random(n) < 0.5,
        "retention_days": pick(rng, (90, 365, 730, 1095, 2555), n),
        "last_reviewed": dates(timestamps(rng, n, days=400) - np.timedelta64(300, "D")),
    }, schema)


def regulatory_requirements(out: Path, scale: Scale, seed: int) -> int:
    cols = list(zip(*REGULATIONS))
    schema = pa.schema([
        ("regulation", pa.string()), ("requirement_id", pa.string()), ("data_category", pa.string()),
        ("requires_encryption", pa.bool_()), ("requires_masking", pa.bool_()),
        ("max_retention_days", pa.int32()), ("allowed_roles", pa.string()), ("allowed_purposes", pa.string()),
    ])
    names = [f.name for f in schema]
    return write_parquet(out, dict(zip(names, cols)), schema)


def data_access_logs(out: Path, scale: Scale, seed: int) -> int:
    rng = rng_for(seed, "data_access_logs")
    n = scale.rows(30_000)
    target = rng.integers(0, len(INVENTORY), size=n)
    role = pick(rng, ROLES, n, p=(0.3, 0.2, 0.15, 0.12, 0.05, 0.13, 0.05))
    user = np.array([f"{r}_{int(i)}" for r, i in zip(role, rng.integers(1, 25, size=n))], dtype=object)
    user[role == "service_account"] = "svc_etl"
    schema = pa.schema([
        ("access_id", pa.string()), ("user_name", pa.string()), ("role", pa.string()), ("table_name", pa.string()),
        ("column_name", pa.string()), ("action", pa.string()), ("access_ts", pa.timestamp("us", tz="UTC")),
        ("purpose", pa.string()), ("rows_accessed", pa.int64()), ("client_ip", pa.string()),
        ("approved", pa.bool_()),
    ])
    return write_parquet(out, {
        "access_id": ids("AC", np.arange(1, n + 1), 7),
        "user_name": user,
        "role": role,
        "table_name": [INVENTORY[t][0] for t in target],
        "column_name": [INVENTORY[t][1] for t in target],
        "action": pick(rng, ("READ", "WRITE", "EXPORT", "DELETE"), n, p=(0.85, 0.1, 0.04, 0.01)),
        "access_ts": timestamps(rng, n).astype("datetime64[us]"),
        "purpose": with_nulls(rng, pick(rng, PURPOSES, n), 0.02),
        "rows_accessed": rng.zipf(1.5, size=n).clip(1, 5_000_000),
        "client_ip": [f"10.{a}.{b}.{c}" for a, b, c in rng.integers(0, 255, size=(n, 3))],
        "approved": rng.random(n) > 0.03,
    }, schema)
