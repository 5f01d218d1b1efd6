"""Column lineage of the jobs' captured events, rendered in the notation of the capture tests.

The expectations, one module per job, are ``expected_<job>.py``; ``test_job_lineage.py`` compares.
``job_lineage(events, catalog, job)`` returns, for each table the job wrote, ``{"fields": {...},
"dataset": {...}}``: per output column the input fields it depends on with the set of transformation
codes (``"DIRECT/IDENTITY"``, ``"INDIRECT/FILTER"``, ``+masked`` when masking is set), and the
dataset-level (INDIRECT) dependencies. Input datasets are named as ``conf/tables.yml`` names them
(``customer_master``; a quarantine table is ``rejects/<source>``; an output read back is its name).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import re
from pathlib import Path

from lineage_audit.config import Catalog

ID = "DIRECT/IDENTITY"
TR = "DIRECT/TRANSFORMATION"
AGG = "DIRECT/AGGREGATION"
MASKED = "DIRECT/TRANSFORMATION+masked"
COUNT = "DIRECT/AGGREGATION+masked"


def I(subtype: str) -> str:  # noqa: E743 - reads as "INDIRECT"
    return f"INDIRECT/{subtype}"


def table_names(catalog: Catalog) -> dict[str, str]:
    """Absolute path -> table name, for every input, output and quarantine table."""
    names = {str(Path(spec.path)): name for name, spec in {**catalog.inputs, **catalog.outputs}.items()}
    for source in catalog.inputs:
        names[str(Path(catalog.rejects(source).path))] = f"rejects/{source}"
    return names


def _code(transformation: Mapping) -> str:
    code = f"{transformation['type']}/{transformation['subtype']}"
    return code + ("+masked" if transformation.get("masking") else "")


def _compact(input_fields: Iterable[Mapping], names: Mapping[str, str]) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for entry in input_fields:
        table = names.get(str(Path(entry["name"])), entry["name"])
        out.setdefault((table, entry["field"]), set()).update(_code(t) for t in entry.get("transformations", []))
    return out


def output_lineage(output: Mapping, names: Mapping[str, str]) -> dict:
    """Every column of the output's schema facet, in order; a column built from literals alone maps to {}."""
    facet = output["facets"]["columnLineage"]
    columns = [f["name"] for f in output["facets"]["schema"]["fields"]]
    unknown = set(facet["fields"]) - set(columns)
    assert not unknown, f"column lineage names columns the output does not have: {sorted(unknown)}"
    fields = facet["fields"]
    return {
        "fields": {col: _compact(fields[col]["inputFields"], names) if col in fields else {} for col in columns},
        "dataset": _compact(facet.get("dataset", []), names),
    }


# Spark ML names a saved model's stage folders with a random uid: "stages/0_Imputer_1a2b3c4d5e6f".
STAGE_UID = re.compile(r"_[0-9a-f]{12}(?=/|$)")


def _table(path: str, names: Mapping[str, str]) -> str:
    """The catalog name of a written path; a part of an output (a saved model's files) as ``<output>/<part>``."""
    if path in names:
        return names[path]
    for root, name in names.items():
        if Path(path).is_relative_to(root):
            return f"{name}/" + STAGE_UID.sub("", Path(path).relative_to(root).as_posix())
    return path


def job_lineage(events: Iterable[Mapping], catalog: Catalog, job: str) -> dict[str, dict]:
    """Lineage per output table from the first COMPLETE event of each of ``job``'s writes."""
    names = table_names(catalog)
    result: dict[str, dict] = {}
    for event in events:
        if event["eventType"] != "COMPLETE" or not event["job"]["name"].startswith(f"{job}."):
            continue
        for output in event["outputs"]:
            result.setdefault(_table(str(Path(output["name"])), names), output_lineage(output, names))
    return result


# --- Across jobs --------------------------------------------------------------------------------
# A column of one job's output flows into another job when that job reads the output: following the
# DIRECT edges of every job's column lineage from an output column back to the generated inputs
# (raw feeds, reference tables) gives the column's end-to-end sources, each with the jobs it passed
# through and whether a masking step (a hash, a count) intervened on the way.

def pipeline_lineage(events: Iterable[Mapping], catalog: Catalog, jobs: Iterable[str]) -> dict[str, dict]:
    """Every job's :func:`job_lineage`, keyed by output table (each table is written by one job)."""
    merged: dict[str, dict] = {}
    for job in jobs:
        merged.update(job_lineage(events, catalog, job))
    return merged


def _direct(codes: set[str]) -> tuple[bool, bool]:
    """(has a DIRECT transformation, every DIRECT transformation masks)."""
    direct = [c for c in codes if c.startswith("DIRECT/")]
    return bool(direct), bool(direct) and all(c.endswith("+masked") for c in direct)


def end_to_end_sources(lineage: Mapping[str, dict], catalog: Catalog, table: str, column: str,
                       _seen: frozenset = frozenset()) -> set[tuple[str, str, bool, tuple[str, ...]]]:
    """``(source table, source column, masked, jobs)`` for every generated input column whose values reach
    ``table.column`` through DIRECT edges; ``jobs`` are the jobs along the way, first to last, and
    ``masked`` says a masking transformation intervened on that path."""
    job = catalog.output(table).job
    found: set[tuple[str, str, bool, tuple[str, ...]]] = set()
    for (source, field), codes in lineage[table]["fields"].get(column, {}).items():
        direct, masked = _direct(codes)
        if not direct:
            continue
        if source in catalog.outputs and (source, field) not in _seen:  # another job's output: follow it
            for origin, origin_field, upstream_masked, jobs in end_to_end_sources(
                    lineage, catalog, source, field, _seen | {(table, column)}):
                found.add((origin, origin_field, masked or upstream_masked, (*jobs, job)))
        elif source not in catalog.outputs:
            found.add((source, field, masked, (job,)))
    return found
