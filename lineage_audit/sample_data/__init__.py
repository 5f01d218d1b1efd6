"""Deterministic sample inputs for the eight jobs, sized by a scale factor.

Only what enters the pipeline from outside is generated: raw feeds, reference tables and event
logs. The tables one job writes and another reads (the customer master, say) are the jobs' own.

The same ``seed`` and ``scale`` give byte-identical files. At scale 1 the largest table
(raw_orders) has 50,000 rows; row counts grow linearly with the scale. Every raw feed carries
deliberate defects (nulls, duplicate keys, malformed lines, negative amounts, unknown
currencies, out-of-range ages) so the jobs' quality and quarantine paths have work to do.

>>> import tempfile
>>> rows = generate(tempfile.mkdtemp(), scale=0.001, tables=["exchange_rates"])
>>> rows["exchange_rates"]
728
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Callable, Iterable

from lineage_audit.config import load_catalog
from lineage_audit.sample_data import behaviour, commerce, finance, governance, lake
from lineage_audit.sample_data.common import Scale

DEFAULT_SEED = 42
MARKER = ".generated.json"  # in the inputs folder: the scale and seed of a complete generation
# Raised whenever what is generated changes (tables, columns), so that data made by an older version is
# made again instead of being read by jobs that expect the new shape. 2: the connected pipeline.
GENERATOR_VERSION = 2
Generator = Callable[[Path, Scale, int], int]

GENERATORS: dict[str, Generator] = {
    "raw_customers": commerce.raw_customers,
    "product_catalog": commerce.product_catalog,
    "raw_orders": commerce.raw_orders,
    "account_master": finance.account_master,
    "exchange_rates": finance.exchange_rates,
    "raw_transactions": finance.raw_transactions,
    "user_events_stream": behaviour.user_events_stream,
    "training_data": behaviour.training_data,
    "model_config": behaviour.model_config,
    "external_api_data": lake.external_api_data,
    "log_files": lake.log_files,
    "sensor_data": lake.sensor_data,
    "social_media_feeds": lake.social_media_feeds,
    "sensitive_data_inventory": governance.sensitive_data_inventory,
    "data_access_logs": governance.data_access_logs,
    "regulatory_requirements": governance.regulatory_requirements,
}


def generate(
    data_dir: str | Path | None = None,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
    tables: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write the input tables where ``conf/tables.yml`` puts them; returns rows (lines) per table."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, not {scale}")
    catalog = load_catalog(data_dir=data_dir)
    wanted = list(tables) if tables is not None else list(GENERATORS)
    unknown = sorted(set(wanted) - set(GENERATORS))
    if unknown:
        raise ValueError(f"no generator for {', '.join(unknown)}; known: {', '.join(GENERATORS)}")
    inputs_dir = Path(catalog.root) / "inputs"
    if set(wanted) == set(GENERATORS) and (inputs_dir / MARKER).exists():
        # a complete regeneration: drop what an older version generated and this one does not
        stale = {p.name for p in inputs_dir.iterdir()} - {Path(catalog.input(n).path).name for n in GENERATORS}
        for name in stale - {MARKER}:
            target = inputs_dir / name
            shutil.rmtree(target) if target.is_dir() else target.unlink()
    counts = {}
    for name in wanted:
        started = time.perf_counter()
        counts[name] = GENERATORS[name](Path(catalog.input(name).path), Scale(scale), seed)
        if progress:
            progress(f"  {name:<26} {counts[name]:>10,} rows  {time.perf_counter() - started:5.1f} s")
    marker = Path(catalog.root) / "inputs" / MARKER
    if set(wanted) == set(GENERATORS):
        marker.write_text(json.dumps({"scale": scale, "seed": seed, "version": GENERATOR_VERSION}))
    elif marker.exists():
        marker.unlink()  # a partial regeneration: the set no longer matches one scale and seed
    return counts


def generated_with(data_dir: str | Path | None = None) -> dict | None:
    """The scale and seed of the complete sample data in ``data_dir``; None if there is none, or if an
    older version of the generator made it (its tables are not what the jobs now read)."""
    marker = Path(load_catalog(data_dir=data_dir).root) / "inputs" / MARKER
    if not marker.exists():
        return None
    made = json.loads(marker.read_text())
    if made.pop("version", None) != GENERATOR_VERSION:
        return None
    return made
