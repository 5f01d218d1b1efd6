"""Shared vocabulary of the generators: the reference period, sizes, ids, seeded randomness."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date

import numpy as np

PERIOD_START = np.datetime64("2026-01-01T00:00:00", "s")
PERIOD_DAYS = 90
REFERENCE_DATE = date(2026, 4, 1)  # "today" for ages, tenures and retention checks

FIRST_NAMES = (
    "Olivia Liam Emma Noah Amelia Oliver Ava Elijah Sophia Lucas Mia Mateo Isabella Levi Aria Ethan "
    "Chloe Hiro Yuki Aarav Priya Fatima Omar Lea Jonas Ingrid Lars Chiara Marco Ana Diego Zoe Kwame"
).split()
LAST_NAMES = (
    "Smith Johnson Garcia Müller Rossi Dubois Silva Kowalski Nakamura Tanaka Patel Singh Kim Nguyen "
    "Andersson Jensen Novak Costa Okafor Mensah Brown Martin Lopez Wilson Moreau Fischer Haddad"
).split()
# (country code, city, currency)
PLACES = (
    ("US", "New York", "USD"), ("US", "Austin", "USD"), ("GB", "London", "GBP"), ("GB", "Leeds", "GBP"),
    ("DE", "Berlin", "EUR"), ("FR", "Lyon", "EUR"), ("IT", "Milan", "EUR"), ("JP", "Osaka", "JPY"),
    ("CH", "Zurich", "CHF"), ("CA", "Toronto", "CAD"), ("AU", "Sydney", "AUD"), ("SE", "Malmo", "SEK"),
)
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK")
PRODUCT_CATEGORIES = ("Electronics", "Books", "Home", "Sports", "Fashion", "Toys", "Grocery", "Beauty")


@dataclass(frozen=True)
class Scale:
    """Row counts are ``base * factor``, never below a floor that keeps every code path exercised."""

    factor: float

    def rows(self, base: int, minimum: int = 20) -> int:
        return max(minimum, int(round(base * self.factor)))


def rng_for(seed: int, table: str) -> np.random.Generator:
    """An independent, reproducible stream per table: adding a table never shifts the others."""
    return np.random.default_rng([seed, zlib.crc32(table.encode())])


def ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width))


def pick(rng: np.random.Generator, values, n: int, p=None) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]


def timestamps(rng: np.random.Generator, n: int, days: int = PERIOD_DAYS) -> np.ndarray:
    """Uniform instants within the reference period, to the second, sorted."""
    return np.sort(PERIOD_START + rng.integers(0, days * 86_400, size=n).astype("timedelta64[s]"))


def iso(ts: np.ndarray, sep: str = " ", suffix: str = "") -> np.ndarray:
    text = np.datetime_as_string(ts, unit="s").astype(object)
    return np.array([t.replace("T", sep) + suffix for t in text], dtype=object)


def defects(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """A mask of about ``rate`` of ``n`` rows, never empty: tiny test data still has every defect."""
    mask = rng.random(n) < rate
    if rate > 0 and n and not mask.any():
        mask[rng.integers(n)] = True
    return mask


def with_nulls(rng: np.random.Generator, values: np.ndarray, rate: float) -> np.ndarray:
    """A copy of ``values`` with about ``rate`` of them replaced by None."""
    out = np.asarray(values, dtype=object).copy()
    out[defects(rng, len(out), rate)] = None
    return out


def dates(ts: np.ndarray) -> list:
    return [d.item() for d in ts.astype("datetime64[D]")]
