"""Customers, products and orders: inputs of the customers, orders and data quality jobs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from lineage_audit.sample_data.common import (
    FIRST_NAMES, LAST_NAMES, PLACES, PRODUCT_CATEGORIES, Scale, dates, defects, ids, iso, pick, rng_for, timestamps,
    with_nulls,
)
from lineage_audit.sample_data.writers import records, write_csv, write_jsonl, write_parquet

SEGMENTS = ("STANDARD", "PREMIUM", "ENTERPRISE")
ORDER_STATUSES = ("PLACED", "SHIPPED", "DELIVERED", "CANCELLED", "RETURNED")


def _people(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    first = pick(rng, FIRST_NAMES, n)
    last = pick(rng, LAST_NAMES, n)
    place = rng.integers(0, len(PLACES), size=n)
    domains = pick(rng, ("example.com", "mail.test", "corp.example.org"), n)
    email = np.array(
        [f"{given.lower()}.{family.lower()}{i % 97}@{d}" for i, (given, family, d) in enumerate(zip(first, last, domains))],
        dtype=object,
    )
    return {
        "first_name": first,
        "last_name": last,
        "email": email,
        "country": np.array([PLACES[i][0] for i in place], dtype=object),
        "city": np.array([PLACES[i][1] for i in place], dtype=object),
    }


def raw_customers(out: Path, scale: Scale, seed: int) -> int:
    """CRM export: untrimmed mixed-case text, three date formats, duplicate keys, bad lines."""
    rng = rng_for(seed, "raw_customers")
    n = scale.rows(10_000)
    # About 6% of rows are later updates of a customer already in the file: duplicate keys.
    unique = int(n * 0.94)
    keys = np.concatenate([np.arange(1, unique + 1), rng.integers(1, unique + 1, size=n - unique)])
    rng.shuffle(keys)
    people = _people(rng, n)
    age_days = rng.integers(18 * 365, 85 * 365, size=n)
    birth = np.datetime64("2026-04-01", "D") - age_days.astype("timedelta64[D]")
    out_of_range = defects(rng, n, 0.01)
    birth[out_of_range] = pick(rng, (np.datetime64("1880-05-17"), np.datetime64("2031-02-01")), out_of_range.sum())
    birth_text = birth.astype(str).astype(object)
    fmt = rng.integers(0, 3, size=n)
    birth_text = np.array([
        b if f == 0 else (f"{b[8:10]}/{b[5:7]}/{b[0:4]}" if f == 1 else b.replace("-", "/"))
        for b, f in zip(birth_text, fmt)
    ], dtype=object)
    messy_case = rng.random(n) < 0.3
    first = np.array([f"  {v.upper()} " if m else v for v, m in zip(people["first_name"], messy_case)], dtype=object)
    last = np.array([f"{v.lower()}  " if m else v for v, m in zip(people["last_name"], messy_case)], dtype=object)
    country = np.array([c.lower() if m else c for c, m in zip(people["country"], messy_case)], dtype=object)
    email = np.array([e.upper() if m else e for e, m in zip(people["email"], messy_case)], dtype=object)
    phone = np.array([f"+1 ({a}) {b}-{c}" for a, b, c in zip(
        rng.integers(200, 999, n), rng.integers(200, 999, n), rng.integers(1000, 9999, n))], dtype=object)
    updated = timestamps(rng, n)
    columns = {
        "customer_id": ids("C", keys, 6),
        "first_name": first,
        "last_name": with_nulls(rng, last, 0.005),
        "email": with_nulls(rng, email, 0.02),
        "phone": with_nulls(rng, phone, 0.03),
        "birth_date": with_nulls(rng, birth_text, 0.01),
        "country": country,
        "city": people["city"],
        "signup_date": np.array(
            dates(updated - rng.integers(30, 2_000, size=n).astype("timedelta64[D]")), dtype=object
        ).astype(str),
        "updated_at": iso(updated),
        # The CRM's customer segment, in the same careless case as the rest of the export.
        "segment": with_nulls(rng, np.array([v.lower() if m else v for v, m in zip(
            pick(rng, SEGMENTS, n, p=(0.7, 0.2, 0.1)), messy_case)], dtype=object), 0.01),
    }
    malformed = [f"C{i:06d};broken;semicolon;export" for i in rng.integers(1, n, size=max(1, n // 200))]
    malformed += ['"C999999,unterminated quote,' for _ in range(max(1, n // 1000))]
    return write_csv(out, columns, malformed, rng)


def product_catalog(out: Path, scale: Scale, seed: int) -> int:
    rng = rng_for(seed, "product_catalog")
    n = scale.rows(500, minimum=24)
    category = np.array([PRODUCT_CATEGORIES[i % len(PRODUCT_CATEGORIES)] for i in range(n)], dtype=object)
    brand = pick(rng, ("Acme", "Globex", "Initech", "Umbrella", "Soylent", "Stark", "Wayne", "Tyrell"), n)
    price = np.round(rng.lognormal(mean=3.3, sigma=0.9, size=n) + 0.99, 2)
    schema = pa.schema([
        ("product_id", pa.string()), ("product_name", pa.string()), ("category", pa.string()),
        ("brand", pa.string()), ("unit_price", pa.float64()), ("currency", pa.string()), ("is_active", pa.bool_()),
    ])
    return write_parquet(out, {
        "product_id": ids("P", np.arange(1, n + 1), 5),
        "product_name": np.array([f"{b} {c} {i}" for i, (b, c) in enumerate(zip(brand, category), 1)], dtype=object),
        "category": category,
        "brand": brand,
        "unit_price": price,
        "currency": ["USD"] * n,
        "is_active": rng.random(n) > 0.03,
    }, schema)


def raw_orders(out: Path, scale: Scale, seed: int) -> int:
    """Web-shop order feed (JSON Lines) with unknown customers, negative prices, bad lines."""
    rng = rng_for(seed, "raw_orders")
    n = scale.rows(50_000)
    n_customers, n_products = scale.rows(8_000), scale.rows(500, minimum=24)
    customer = rng.integers(1, n_customers + 1, size=n)
    unknown_customer = defects(rng, n, 0.01)
    customer[unknown_customer] = rng.integers(900_000, 999_999, size=unknown_customer.sum())
    product = rng.integers(1, n_products + 1, size=n)
    unknown_product = defects(rng, n, 0.005)
    product[unknown_product] = rng.integers(90_000, 99_999, size=unknown_product.sum())
    price = np.round(rng.lognormal(mean=3.3, sigma=0.9, size=n) + 0.99, 2)
    price[defects(rng, n, 0.01)] *= -1
    quantity = rng.integers(1, 4, size=n) + (rng.random(n) < 0.08) * rng.integers(5, 20, size=n)
    columns = {
        "order_id": ids("O", np.arange(1, n + 1), 7),
        "customer_id": ids("C", customer, 6),
        "product_id": ids("P", product, 5),
        "order_ts": iso(timestamps(rng, n), sep="T", suffix="Z"),
        "quantity": with_nulls(rng, quantity, 0.01),
        "unit_price": price,
        "currency": ["USD"] * n,
        "status": pick(rng, ORDER_STATUSES, n, p=(0.2, 0.3, 0.4, 0.06, 0.04)),
        "channel": pick(rng, ("web", "mobile", "store"), n, p=(0.5, 0.35, 0.15)),
        "coupon_code": with_nulls(rng, pick(rng, ("WELCOME10", "SPRING", "VIP"), n), 0.9),
    }
    # Resent by the shop: the previous line again, same order id and same content.
    resent = np.nonzero(defects(rng, n, 0.005))[0]
    resent = resent[resent > 0]
    for name, values in columns.items():
        values = np.asarray(values, dtype=object)
        values[resent] = values[resent - 1]
        columns[name] = values
    bad = max(1, n // 200)
    malformed = [f'{{"order_id":"O{i:07d}","customer_id":"C000001","quantity":' for i in rng.integers(1, n, bad)]
    malformed += ['{"order_id":"O0000000","quantity":"three"}'] * max(1, n // 2000)
    return write_jsonl(out, records(columns), malformed, rng)
