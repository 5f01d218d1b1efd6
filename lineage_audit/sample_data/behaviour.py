"""The clickstream (analytics job); churn labels and model config (ML job)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from lineage_audit.sample_data.common import PERIOD_DAYS, PERIOD_START, Scale, ids, pick, rng_for, with_nulls
from lineage_audit.sample_data.writers import write_parquet

EVENT_TYPES = ("page_view", "product_view", "search", "add_to_cart", "purchase", "like", "share")
FEATURES = ("tenure_months", "monthly_spend", "support_tickets", "num_products", "last_login_days")


def user_events_stream(out: Path, scale: Scale, seed: int) -> int:
    """Clickstream: visits of a few events seconds-to-minutes apart, visits hours or days apart."""
    rng = rng_for(seed, "user_events_stream")
    n = scale.rows(60_000, minimum=200)
    # Visitors are the shop's customers: user_id is the CRM's customer_id (raw_customers).
    n_users, n_products = scale.rows(9_000), scale.rows(500, minimum=24)
    visits = max(1, n // 8)
    visit_user = rng.integers(1, n_users + 1, size=visits)
    visit_start = PERIOD_START + rng.integers(0, PERIOD_DAYS * 86_400, size=visits).astype("timedelta64[s]")
    visit_of_event = np.sort(rng.integers(0, visits, size=n))
    gaps = rng.exponential(90, size=n).astype("int64")
    # Seconds since the visit started: a running sum of gaps that restarts with each visit.
    running = np.cumsum(gaps)
    starts = np.r_[0, np.nonzero(np.diff(visit_of_event))[0] + 1]
    first = starts[np.searchsorted(starts, np.arange(n), side="right") - 1]
    offset = (running - running[first] + gaps[first]).astype("timedelta64[s]")
    event_ts = visit_start[visit_of_event] + offset
    event_type = pick(rng, EVENT_TYPES, n, p=(0.3, 0.3, 0.12, 0.12, 0.06, 0.07, 0.03))
    popular = rng.zipf(1.6, size=n) % n_products + 1  # a few products draw most attention
    product = np.where(np.isin(event_type, ("page_view", "search")), None, ids("P", popular, 5))
    schema = pa.schema([
        ("event_id", pa.string()), ("user_id", pa.string()), ("event_ts", pa.timestamp("us", tz="UTC")),
        ("event_type", pa.string()), ("product_id", pa.string()), ("device", pa.string()),
        ("duration_ms", pa.int64()), ("page_url", pa.string()),
    ])
    return write_parquet(out, {
        "event_id": ids("E", np.arange(1, n + 1), 8),
        "user_id": ids("C", visit_user[visit_of_event], 6),
        "event_ts": event_ts.astype("datetime64[us]"),
        "event_type": event_type,
        "product_id": product,
        "device": pick(rng, ("desktop", "mobile", "tablet"), visits, p=(0.45, 0.45, 0.1))[visit_of_event],
        "duration_ms": with_nulls(rng, rng.integers(200, 120_000, size=n), 0.02),
        "page_url": np.array([f"/p/{p}" if p else "/search" for p in product], dtype=object),
    }, schema)


def training_data(out: Path, scale: Scale, seed: int) -> int:
    """Churn labels with the CRM's contract data: one row per customer, label drawn from a known logistic model.

    The behavioural features (orders, sessions) are not here: the ML job derives them from what the
    orders and analytics jobs publish.
    """
    rng = rng_for(seed, "training_data")
    n = scale.rows(9_000, minimum=200)
    tenure = rng.integers(1, 72, size=n)
    spend = np.round(rng.gamma(4, 20, size=n), 2)
    tickets = rng.poisson(1.2, size=n)
    products = rng.integers(1, 6, size=n)
    last_login = rng.integers(0, 60, size=n)
    contract = pick(rng, ("monthly", "annual", "two_year"), n, p=(0.55, 0.3, 0.15))
    logit = (-1.0 - 0.04 * tenure + 0.5 * tickets - 0.3 * products + 0.05 * last_login
             + np.where(contract == "monthly", 1.0, -0.5))
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int32)
    schema = pa.schema([
        ("customer_id", pa.string()), ("tenure_months", pa.int32()), ("monthly_spend", pa.float64()),
        ("support_tickets", pa.int32()), ("num_products", pa.int32()), ("last_login_days", pa.int32()),
        ("contract_type", pa.string()), ("churned", pa.int32()),
    ])
    return write_parquet(out, {
        "customer_id": ids("C", np.arange(1, n + 1), 6),
        "tenure_months": tenure, "monthly_spend": with_nulls(rng, spend, 0.01),
        "support_tickets": tickets, "num_products": products, "last_login_days": last_login,
        "contract_type": contract, "churned": churned,
    }, schema)


def model_config(out: Path, scale: Scale, seed: int) -> int:
    """Model definitions as JSON Lines; the job trains the one marked active."""
    configs = [
        {"model_name": "churn_classifier", "version": "2.1.0", "active": True, "algorithm": "logistic_regression",
         "label_col": "churned", "numeric_features": list(FEATURES) + ["avg_order_value", "orders_last_90d",
                                                                         "days_since_last_order", "web_sessions_30d"],
         "categorical_features": ["contract_type"], "max_iter": 50, "reg_param": 0.01, "elastic_net_param": 0.0,
         "train_fraction": 0.8, "seed": seed},
        {"model_name": "churn_classifier", "version": "1.4.0", "active": False, "algorithm": "random_forest",
         "label_col": "churned", "numeric_features": list(FEATURES), "categorical_features": ["contract_type"],
         "num_trees": 40, "max_depth": 6, "train_fraction": 0.8, "seed": seed},
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(json.dumps(c) for c in configs) + "\n")
    return len(configs)
