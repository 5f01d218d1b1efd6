"""File writers for generated tables, with the deliberate defects of raw feeds.

Columns arrive as a dict of equal-length numpy arrays or lists. ``None`` and NaN are written as
missing values. Malformed lines are spliced in at seeded positions.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

Columns = Mapping[str, Sequence[Any]]


def _clean(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _fresh(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)


def write_parquet(path: Path, columns: Columns, schema: pa.Schema) -> int:
    """Write a Parquet table as a directory with one part file, as Spark would lay it out."""
    _fresh(path)
    path.mkdir(parents=True)
    arrays = [pa.array([_clean(v) for v in columns[f.name]], type=f.type) for f in schema]
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), path / "part-00000.parquet")
    return len(arrays[0]) if arrays else 0


def _splice(lines: list[str], malformed: Iterable[str], rng: np.random.Generator) -> list[str]:
    """Insert malformed lines at random positions; returns the new list."""
    bad = list(malformed)
    if not bad:
        return lines
    positions = np.sort(rng.integers(0, len(lines) + 1, size=len(bad)))
    out, start = [], 0
    for pos, line in zip(positions, bad):
        out.extend(lines[start:pos])
        out.append(line)
        start = pos
    out.extend(lines[start:])
    return out


def write_csv(path: Path, columns: Columns, malformed: Sequence[str], rng: np.random.Generator) -> int:
    """Write CSV with a header; returns the number of data lines (malformed ones included)."""
    _fresh(path)
    names = list(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in zip(*(columns[n] for n in names)):
        writer.writerow(["" if _clean(v) is None else _clean(v) for v in row])
    lines = _splice(buffer.getvalue().splitlines(), malformed, rng)
    path.write_text(",".join(names) + "\n" + "\n".join(lines) + "\n")
    return len(lines)


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]], malformed: Sequence[str], rng: np.random.Generator) -> int:
    """Write one JSON object a line (JSON Lines); returns the number of lines."""
    _fresh(path)
    lines = [json.dumps(r, separators=(",", ":"), default=_clean) for r in records]
    lines = _splice(lines, malformed, rng)
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


def write_text(directory: Path, files: Mapping[str, Sequence[str]]) -> int:
    """Write plain-text files into ``directory``; returns the total number of lines."""
    _fresh(directory)
    directory.mkdir(parents=True)
    total = 0
    for name, lines in files.items():
        (directory / name).write_text("\n".join(lines) + "\n")
        total += len(lines)
    return total


def records(columns: Columns) -> list[dict[str, Any]]:
    """Turn columns into row dicts, dropping keys whose value is missing (as raw JSON feeds do)."""
    names = list(columns)
    out = []
    for row in zip(*(columns[n] for n in names)):
        out.append({k: _clean(v) for k, v in zip(names, row) if _clean(v) is not None})
    return out
