"""Response bodies checked against Marquez's OpenAPI file, ``../shared/marquez/openapi.yml`` (Marquez 0.51).

``assert_matches(body, "Job")`` validates a body against a schema of ``components/schemas`` with
its ``$ref``s resolved. The file is reference data from elsewhere: it is read where it lies, never
copied into the project; ``requires_spec`` skips a test, naming the path, when it is absent.

The file is OpenAPI 3.0 with quirks, read as JSON Schema (2020-12) with these changes:

- ``type:`` with no value puts no constraint on the type (``SearchResult.name``, ``updatedAt``).
- ``propoerties`` (a misspelling in ``UpstreamRunLineage``) is read as ``properties``.
- Any property may be ``null``: the file marks nothing nullable, yet Marquez sends ``null`` for
  every absent value (descriptions, ``endedAt``, ``latestRun``...). ``required`` still means present.
- A ``tags`` property typed string (``DatasetVersion.tags``, the fields of ``DbTable``) also
  accepts an array of strings, which is what Marquez sends.
- ``facets`` maps typed ``additionalProperties: {type: string}`` (``InputDatasetVersion``,
  ``OutputDatasetVersion``) accept facet objects, and ``FacetsResult.facets`` is read as a map of
  facet name to ``CustomFacet`` (the file says one ``CustomFacet``; Marquez sends the map).
- ``oneOf`` is read as ``anyOf`` (``GraphNode.data``: a body matches both ``Dataset`` and ``Job``,
  which require nothing).

Two changes make it stricter, so that it checks something: an ``anyOf`` one of whose inline
branches requires nothing (``Run``: ``IncompleteRun`` or an object with the other fields) is read
as ``allOf``, as a Marquez run has both parts; and a schema with ``items`` but no ``type`` (the
``*List`` schemas) must be an array. Formats ``date-time`` and ``uuid`` are checked; others
(``URL``, ``uri``) are not.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, relevance

from lineage_audit.config import PROJECT_ROOT

SPEC_PATH = PROJECT_ROOT.parent / "shared" / "marquez" / "openapi.yml"
SKIP_REASON = f"Marquez's OpenAPI file not found at {SPEC_PATH}"
requires_spec = pytest.mark.skipif(not SPEC_PATH.exists(), reason=SKIP_REASON)


def spec_available() -> bool:
    return SPEC_PATH.exists()


def _any_type(schema: Any) -> dict:
    return {"anyOf": [{"type": "null"}, schema]}


def _convert(node: Any, name: str | None = None) -> Any:
    """One node of the OpenAPI file as JSON Schema; ``name`` is the property it describes, if any."""
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    if "propoerties" in node:
        node["properties"] = node.pop("propoerties")
    if "type" in node and node["type"] is None:
        del node["type"]
    node.pop("discriminator", None)
    nullable = node.pop("nullable", False)
    if "items" in node and "type" not in node:
        node["type"] = "array"
    if "oneOf" in node:
        node["anyOf"] = node.pop("oneOf")
    if "anyOf" in node and any(isinstance(b, dict) and "$ref" not in b and not b.get("required")
                               for b in node["anyOf"]):
        node["allOf"] = node.pop("anyOf")
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            result[key] = {prop: _any_type(_convert(sub, prop)) for prop, sub in value.items()}
        elif key in ("example", "examples"):
            result[key] = value
        else:
            result[key] = _convert(value)
    if name == "tags" and result.get("type") == "string":
        result = {"anyOf": [result, {"type": "array", "items": {"type": "string"}}]}
    if name == "facets" and result.get("additionalProperties") == {"type": "string"}:
        result["additionalProperties"] = {"type": ["string", "object"]}
    if nullable:
        result = _any_type(result)
    return result


@lru_cache(maxsize=1)
def _document() -> dict:
    if not SPEC_PATH.exists():
        pytest.skip(SKIP_REASON)
    spec = yaml.safe_load(SPEC_PATH.read_text())
    schemas = {name: _convert(schema) for name, schema in spec["components"]["schemas"].items()}
    facets = schemas["FacetsResult"]["properties"]["facets"]
    facets["anyOf"][1] = {"type": "object", "additionalProperties": facets["anyOf"][1]}
    return {"components": {"schemas": schemas}}


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value:
        return False
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is not None


def _uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


FORMATS = FormatChecker(formats=())
FORMATS.checks("date-time")(_date_time)
FORMATS.checks("uuid")(_uuid)


def schema_names() -> list[str]:
    return sorted(_document()["components"]["schemas"])


def errors(body: Any, name: str) -> list[str]:
    """What is wrong with ``body`` as a ``name`` of the file (empty when it matches)."""
    document = _document()
    if name not in document["components"]["schemas"]:
        raise KeyError(f"no schema {name!r} in {SPEC_PATH}")
    validator = Draft202012Validator({**document, "$ref": f"#/components/schemas/{name}"},
                                     format_checker=FORMATS)
    found = sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path])
    return [_describe(error) for error in found]


def _describe(error: ValidationError) -> str:
    deepest = error
    while deepest.context:
        # within an anyOf, the most relevant error of a branch other than the null added above
        branches = [e for e in deepest.context if e.schema != {"type": "null"}]
        if not branches:
            break
        deepest = min(branches, key=relevance)
    where = "/".join(str(p) for p in deepest.absolute_path) or "(the body)"
    return f"{where}: {deepest.message}"


def assert_matches(body: Any, name: str) -> Any:
    """Assert that ``body`` is a valid ``name`` (e.g. ``"Job"``); returns the body."""
    found = errors(body, name)
    assert not found, f"the body is not a valid {name} of Marquez's OpenAPI file:\n  " + "\n  ".join(found[:10])
    return body
