"""The generator: deterministic, sized by scale, and carrying the defects the jobs must handle."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lineage_audit.sample_data import GENERATORS, generate, generated_with

SMALL = 0.05


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("small")
    generate(root, scale=SMALL)
    return root


def test_same_seed_gives_identical_files(small, tmp_path):
    generate(tmp_path, scale=SMALL)
    assert _digest(tmp_path / "inputs") == _digest(small / "inputs")


def test_another_seed_gives_other_data(small, tmp_path):
    generate(tmp_path, scale=SMALL, seed=7, tables=["raw_orders"])
    assert (tmp_path / "inputs/raw_orders.jsonl").read_bytes() != (small / "inputs/raw_orders.jsonl").read_bytes()


def test_every_input_of_the_catalog_is_generated(small):
    written = {p.name.split(".")[0] for p in (small / "inputs").iterdir() if not p.name.startswith(".")}
    assert written == set(GENERATORS)
    assert generated_with(small) == {"scale": SMALL, "seed": 42}


def test_rows_grow_linearly_with_scale(tmp_path):
    one = generate(tmp_path / "a", scale=0.1, tables=["raw_orders", "user_events_stream"])
    ten = generate(tmp_path / "b", scale=1.0, tables=["raw_orders", "user_events_stream"])
    # raw_orders is the largest table at scale 1: tens of thousands of rows, plus malformed lines.
    assert 50_000 <= ten["raw_orders"] <= 50_500
    for table in one:
        assert ten[table] / one[table] == pytest.approx(10, rel=0.02)


def test_partial_generation_clears_the_marker(small, tmp_path):
    generate(tmp_path, scale=SMALL)
    generate(tmp_path, scale=SMALL, tables=["raw_orders"])
    assert generated_with(tmp_path) is None


def test_scale_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="scale must be positive"):
        generate(tmp_path, scale=0)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_raw_orders_carry_malformed_lines_negative_prices_and_unknown_customers(small):
    parsed, malformed = [], 0
    for line in _lines(small / "inputs/raw_orders.jsonl"):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            malformed += 1
            continue
        parsed.append(record)
    assert malformed >= 1
    assert any(r.get("unit_price", 0) < 0 for r in parsed)
    assert any("quantity" not in r or not isinstance(r["quantity"], int) for r in parsed)
    ids = [r["order_id"] for r in parsed]
    assert len(ids) > len(set(ids)), "resent orders give duplicate order ids"
    # the CRM export's keys: an order of another customer is quarantined by the orders job
    customers = {r.split(",")[0] for r in _lines(small / "inputs/raw_customers.csv")[1:]}
    assert any(r["customer_id"] not in customers for r in parsed if "customer_id" in r)


def test_raw_customers_have_duplicate_keys_and_bad_lines(small):
    lines = _lines(small / "inputs/raw_customers.csv")
    header, rows = lines[0].split(","), lines[1:]
    assert header[0] == "customer_id"
    well_formed = [r for r in rows if r.count(",") == len(header) - 1 and '"' not in r]
    assert len(well_formed) < len(rows)
    keys = [r.split(",")[0] for r in well_formed]
    assert len(keys) > len(set(keys))
    assert any(",1880" in r or "/1880" in r or "2031" in r for r in well_formed), "out-of-range birth dates"


def test_transactions_have_unknown_currencies_and_negative_amounts(small):
    rows = [r.split(",") for r in _lines(small / "inputs/raw_transactions.csv")[1:]]
    currencies = {r[4] for r in rows if len(r) == 9}
    assert currencies & {"XYZ", "BTC", "ZZZ", "usd?"}
    assert any(r[3].startswith("-") for r in rows if len(r) == 9)


def test_only_what_enters_the_pipeline_from_outside_is_generated(small):
    """The tables one job writes and another reads are the jobs' own, never generated."""
    from lineage_audit.config import load_catalog
    from lineage_audit.privacy_export import EXPORT_TABLE
    from lineage_audit.sample_data import GENERATORS

    catalog = load_catalog(data_dir=small)
    assert not set(GENERATORS) & set(catalog.outputs)
    # every input but the captured lineage's export, which the runner writes before the compliance job
    assert set(GENERATORS) == set(catalog.inputs) - {EXPORT_TABLE}
    for gone in ("customer_master", "user_profiles", "feature_store", "data_lineage_metadata"):
        assert not (small / "inputs" / gone).exists()


def test_the_clickstream_users_are_crm_customers(small):
    users = set(pq.read_table(small / "inputs/user_events_stream")["user_id"].to_pylist())
    customers = {r.split(",")[0] for r in _lines(small / "inputs/raw_customers.csv")[1:]}
    assert users and len(users & customers) > len(users) // 2
