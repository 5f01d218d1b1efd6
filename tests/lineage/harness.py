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
