"""Semi-structured feeds for the data lake ingestion job: API JSON, logs, sensors, social posts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lineage_audit.sample_data.common import (
    PLACES, Scale, defects, ids, iso, pick, rng_for, timestamps, with_nulls,
)
from lineage_audit.sample_data.writers import records, write_csv, write_jsonl, write_text

LOG_LEVELS = ("INFO", "INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG")
SERVICES = ("CheckoutService", "SearchService", "PaymentGateway", "InventoryService", "AuthService")
HASHTAGS = ("#data", "#spark", "#sale", "#travel", "#food", "#ai", "#music", "#tech", "#summer", "#news")


def external_api_data(out: Path, scale: Scale, seed: int) -> int:
    """Weather API responses: nested payloads with an array of readings per response."""
    rng = rng_for(seed, "external_api_data")
    n = scale.rows(5_000)
    fetched = iso(timestamps(rng, n), sep="T", suffix="Z")
    place = rng.integers(0, len(PLACES), size=n)
    out_records = []
    for i in range(n):
        readings = [
            {"metric": "temperature", "value": round(float(rng.normal(12, 9)), 2), "unit": "C"},
            {"metric": "humidity", "value": round(float(rng.uniform(20, 100)), 1), "unit": "%"},
        ]
        if rng.random() < 0.5:
            readings.append({"metric": "wind_speed", "value": round(float(rng.gamma(2, 3)), 1), "unit": "m/s"})
        out_records.append({
            "request_id": f"R{i + 1:07d}",
            "endpoint": "/v2/weather/current",
            "fetched_at": fetched[i],
            "status_code": int(rng.choice((200, 200, 200, 200, 200, 200, 200, 200, 429, 503))),
            "payload": {"city": PLACES[place[i]][1], "country": PLACES[place[i]][0], "readings": readings},
        })
    malformed = ['{"request_id":"R9999999","payload":{"city":"Osaka"' for _ in range(max(1, n // 200))]
    return write_jsonl(out, out_records, malformed, rng)


def log_files(out: Path, scale: Scale, seed: int) -> int:
    """Application logs, one file per host, with stack-trace and garbage lines among them."""
    rng = rng_for(seed, "log_files")
    n = scale.rows(20_000)
    ts = iso(timestamps(rng, n))
    millis = rng.integers(0, 1000, size=n)
    level = pick(rng, LOG_LEVELS, n)
    service = pick(rng, SERVICES, n)
    latency = rng.gamma(2, 60, size=n).astype(int)
    host = rng.integers(1, 5, size=n)
    files: dict[str, list[str]] = {f"web-{h:02d}.log": [] for h in range(1, 5)}
    for i in range(n):
        name = f"web-{host[i]:02d}.log"
        message = (f"request {i:08d} handled in {latency[i]} ms" if level[i] != "ERROR"
                   else f"request {i:08d} failed: upstream timeout after {latency[i]} ms")
        files[name].append(f"{ts[i]},{millis[i]:03d} {level[i]} [{name[:-4]}] com.shop.{service[i]} - {message}")
        if level[i] == "ERROR" and rng.random() < 0.3:
            files[name].append(f"    at com.shop.{service[i]}.call({service[i]}.java:{rng.integers(10, 400)})")
        if rng.random() < 0.004:
            files[name].append("\x00\x00 ### truncated write ###")
    return write_text(out, files)


def sensor_data(out: Path, scale: Scale, seed: int) -> int:
    """IoT readings (CSV): dropped readings, a stuck sensor reporting 999.0, bad lines."""
    rng = rng_for(seed, "sensor_data")
    n = scale.rows(20_000)
    temperature = np.round(rng.normal(18, 8, size=n), 2)
    temperature[defects(rng, n, 0.005)] = 999.0
    columns = {
        "sensor_id": ids("S", rng.integers(1, 120, size=n), 4),
        "site": pick(rng, ("plant-north", "plant-south", "warehouse-1", "warehouse-2"), n),
        "reading_ts": iso(timestamps(rng, n)),
        "temperature_c": with_nulls(rng, temperature, 0.02),
        "humidity_pct": with_nulls(rng, np.round(rng.uniform(10, 95, size=n), 1), 0.02),
        "pressure_hpa": np.round(rng.normal(1013, 8, size=n), 1),
        "battery_v": np.round(rng.uniform(2.9, 4.2, size=n), 2),
    }
    malformed = ["S0001,plant-north,not-a-time,warm,dry,,," for _ in range(max(1, n // 200))]
    return write_csv(out, columns, malformed, rng)


def social_media_feeds(out: Path, scale: Scale, seed: int) -> int:
    """Posts with a nested author, arrays of hashtags and mentions, and engagement metrics."""
    rng = rng_for(seed, "social_media_feeds")
    n = scale.rows(5_000)
    posted = iso(timestamps(rng, n), sep="T", suffix="Z")
    platform = pick(rng, ("twitter", "instagram", "reddit", "mastodon"), n)
    columns = {
        "post_id": ids("SM", np.arange(1, n + 1), 7),
        "platform": platform,
        "posted_at": posted,
        "lang": with_nulls(rng, pick(rng, ("en", "de", "fr", "ja"), n, p=(0.7, 0.1, 0.1, 0.1)), 0.03),
    }
    out_records = records(columns)
    for i, rec in enumerate(out_records):
        tags = list(pick(rng, HASHTAGS, int(rng.integers(0, 4))))
        rec["text"] = f"post {i} " + " ".join(tags)
        rec["hashtags"] = tags
        rec["mentions"] = [f"@user{int(m)}" for m in rng.integers(1, 500, size=int(rng.integers(0, 3)))]
        rec["author"] = {"handle": f"@user{int(rng.integers(1, 500))}", "followers": int(rng.zipf(1.8) * 10),
                         "verified": bool(rng.random() < 0.05)}
        rec["metrics"] = {"likes": int(rng.poisson(20)), "shares": int(rng.poisson(3)),
                          "comments": int(rng.poisson(5))}
    malformed = ['{"post_id":"SM9999999","hashtags":["#broken"' for _ in range(max(1, n // 200))]
    return write_jsonl(out, out_records, malformed, rng)
