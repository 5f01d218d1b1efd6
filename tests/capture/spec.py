"""Validation of emitted events against the OpenLineage JSON Schemas in ../shared/openlineage-spec.

The schemas are reference data from elsewhere: they are read from the shared folder, never copied
into the project. Tests that need them skip, with the path in the reason, where it is absent.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from lineage_audit.config import PROJECT_ROOT

SPEC_DIR = PROJECT_ROOT.parent / "shared" / "openlineage-spec"
requires_spec = pytest.mark.skipif(
    not (SPEC_DIR / "OpenLineage.json").exists(), reason=f"OpenLineage JSON Schemas not found in {SPEC_DIR}"
)
FACET_CONTAINERS = (("run", "facets"), ("job", "facets"))


@lru_cache(maxsize=1)
def _schemas() -> tuple[dict, dict[str, dict], Registry]:
    core = json.loads((SPEC_DIR / "OpenLineage.json").read_text())
    facets = {p.name: json.loads(p.read_text()) for p in (SPEC_DIR / "facets").glob("*.json")}
    resources = [(core["$id"], Resource.from_contents(core))]
    resources += [(doc["$id"], Resource.from_contents(doc)) for doc in facets.values()]
    return core, facets, Registry().with_resources(resources)


def _facet_maps(event: dict):
    for owner, key in FACET_CONTAINERS:
        yield event.get(owner, {}).get(key, {})
    for dataset in event.get("inputs", []):
        yield dataset.get("facets", {})
        yield dataset.get("inputFacets", {})
    for dataset in event.get("outputs", []):
        yield dataset.get("facets", {})
        yield dataset.get("outputFacets", {})


def validate_event(event: dict) -> list[str]:
    """Validate an event and each of its facets; returns the names of custom facets seen."""
    core, facets, registry = _schemas()
    Draft202012Validator(core, registry=registry).validate(event)
    custom = []
    for facet_map in _facet_maps(event):
        for name, facet in facet_map.items():
            schema_file = facet["_schemaURL"].split("#")[0].rsplit("/", 1)[-1]
            if schema_file in facets:
                Draft202012Validator(facets[schema_file], registry=registry).validate({name: facet})
            else:  # a producer's own facet: it must still be a valid base facet
                base = {"$ref": f"{core['$id']}#/$defs/BaseFacet"}
                Draft202012Validator(base, registry=registry).validate(facet)
                custom.append(name)
    return custom


def read_events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
