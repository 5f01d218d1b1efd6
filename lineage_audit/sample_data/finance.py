"""Accounts, exchange rates and card transactions: inputs of the financial job."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from lineage_audit.sample_data.common import (
    CURRENCIES, PERIOD_DAYS, PERIOD_START, Scale, dates, ids, iso, pick, rng_for, timestamps, defects,
)
from lineage_audit.sample_data.writers import write_csv, write_parquet

# Units of each currency per US dollar at the start of the period.
START_RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "JPY": 151.0, "CHF": 0.88, "CAD": 1.36, "AUD": 1.52, "SEK": 10.4}
MERCHANTS = {
    "grocery": ("FreshMart", "GreenGrocer", "DailyFoods"),
    "travel": ("SkyAir", "RailNow", "CityCabs"),
    "electronics": ("VoltStore", "ByteShop"),
    "restaurants": ("Pasta Place", "Sushi Bar", "Burger Hub"),
    "utilities": ("PowerCo", "WaterWorks"),
}


def account_master(out: Path, scale: Scale, seed: int) -> int:
    rng = rng_for(seed, "account_master")
    n = scale.rows(2_000)
    opened = timestamps(rng, n, days=5 * 365) - np.timedelta64(5 * 365, "D")
    account_type = pick(rng, ("CHECKING", "SAVINGS", "CREDIT"), n, p=(0.55, 0.25, 0.2))
    schema = pa.schema([
        ("account_id", pa.string()), ("customer_id", pa.string()), ("account_type", pa.string()),
        ("currency", pa.string()), ("opened_date", pa.date32()), ("status", pa.string()),
        ("credit_limit", pa.float64()), ("risk_rating", pa.string()),
    ])
    return write_parquet(out, {
        "account_id": ids("A", np.arange(1, n + 1), 5),
        "customer_id": ids("C", rng.integers(1, scale.rows(8_000) + 1, size=n), 6),
        "account_type": account_type,
        "currency": pick(rng, CURRENCIES, n, p=(0.45, 0.2, 0.12, 0.05, 0.05, 0.05, 0.05, 0.03)),
        "opened_date": dates(opened),
        "status": pick(rng, ("ACTIVE", "FROZEN", "CLOSED"), n, p=(0.92, 0.03, 0.05)),
        "credit_limit": np.where(account_type == "CREDIT", np.round(rng.uniform(500, 20_000, n), -2), np.nan),
        "risk_rating": pick(rng, ("LOW", "MEDIUM", "HIGH"), n, p=(0.7, 0.25, 0.05)),
    }, schema)


def exchange_rates(out: Path, scale: Scale, seed: int) -> int:
    """One rate per currency and day of the period: a gentle random walk around START_RATES."""
    rng = rng_for(seed, "exchange_rates")
    days = PERIOD_DAYS + 1
    rate_date, currency, rate = [], [], []
    for code in CURRENCIES:
        walk = np.exp(np.cumsum(rng.normal(0, 0.003, size=days))) if code != "USD" else np.ones(days)
        rate_date += dates(PERIOD_START.astype("datetime64[D]") + np.arange(days).astype("timedelta64[D]"))
        currency += [code] * days
        rate += list(np.round(START_RATES[code] * walk, 6))
    schema = pa.schema([("rate_date", pa.date32()), ("currency", pa.string()), ("units_per_usd", pa.float64())])
    return write_parquet(out, {"rate_date": rate_date, "currency": currency, "units_per_usd": rate}, schema)


def raw_transactions(out: Path, scale: Scale, seed: int) -> int:
    """Card and transfer feed (CSV): unknown currencies, negative amounts, bursts, bad lines."""
    rng = rng_for(seed, "raw_transactions")
    n = scale.rows(40_000)
    n_accounts = scale.rows(2_000)
    account = rng.integers(1, n_accounts + 1, size=n)
    ts = timestamps(rng, n)
    # Fraud-like bursts: 1% of rows are copies of another account's instant, minutes apart.
    burst = np.nonzero(rng.random(n) < 0.01)[0]
    for start in burst[::8]:
        span = slice(start, min(start + 8, n))
        account[span] = account[start]
        ts[span] = ts[start] + np.arange(span.stop - span.start).astype("timedelta64[m]") * 3
    amount = np.round(rng.lognormal(mean=3.5, sigma=1.0, size=n), 2)
    outliers = defects(rng, n, 0.003)
    amount[outliers] *= rng.uniform(40, 120, size=outliers.sum())
    amount[defects(rng, n, 0.01)] *= -1
    currency = pick(rng, CURRENCIES, n, p=(0.5, 0.2, 0.1, 0.05, 0.05, 0.04, 0.04, 0.02))
    unknown = defects(rng, n, 0.01)
    currency[unknown] = pick(rng, ("XYZ", "BTC", "ZZZ", "usd?"), unknown.sum())
    category = pick(rng, tuple(MERCHANTS), n)
    merchant = np.array([MERCHANTS[c][i % len(MERCHANTS[c])] for i, c in enumerate(category)], dtype=object)
    columns = {
        "transaction_id": ids("T", np.arange(1, n + 1), 8),
        "account_id": ids("A", account, 5),
        "transaction_ts": iso(ts),
        "amount": amount,
        "currency": currency,
        "transaction_type": pick(rng, ("DEBIT", "CREDIT", "TRANSFER", "FEE"), n, p=(0.7, 0.15, 0.12, 0.03)),
        "merchant": merchant,
        "merchant_category": category,
        "channel": pick(rng, ("POS", "ONLINE", "ATM"), n, p=(0.5, 0.4, 0.1)),
    }
    malformed = [f"T{i:08d},A00001,2026-02-30 25:61:00,12.5.3,EUR,DEBIT,x,y,POS" for i in rng.integers(1, n, max(1, n // 250))]
    return write_csv(out, columns, malformed, rng)
