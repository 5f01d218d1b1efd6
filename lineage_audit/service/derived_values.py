"""What the derivation reads out of events and facets, as values the store can hold: names, texts, a
schema's fields, a columnLineage facet's inputs, source types, times; and the names of derived versions.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any, Mapping

from lineage_audit.service.events import NAME_LIMIT, parse_time

VERSION_NAMESPACE = uuid.UUID("6f1f6d52-3f77-4f5e-9d3f-6b1c0f9b7a11")  # uuid5 namespace of derived versions


def version_uuid(*parts: Any) -> str:
    return str(uuid.uuid5(VERSION_NAMESPACE, json.dumps(parts, sort_keys=True, default=str)))


def facets_of(owner: Any, key: str = "facets") -> dict[str, Any]:
    value = owner.get(key) if isinstance(owner, dict) else None
    return {k: v for k, v in value.items() if isinstance(v, dict)} if isinstance(value, dict) else {}


def store_text(value: Any, limit: int | None = None) -> str | None:
    """A string the store can hold (no NUL, at most ``limit`` characters), or None."""
    if value.__class__ is not str:
        return None
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value[:limit] if limit and len(value) > limit else value


def store_name(value: Any) -> str | None:
    """A name the store can key by, or None."""
    return value if value.__class__ is str and 0 < len(value) <= NAME_LIMIT and "\x00" not in value else None


def schema_fields(facet: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    fields = facet.get("fields")
    if not isinstance(fields, list):
        return None
    found, seen = [], set()
    for f in fields:
        name = store_name(f.get("name")) if isinstance(f, dict) else None
        if name is not None and name not in seen:
            seen.add(name)
            found.append({"name": name, "type": store_text(f.get("type"), 256), "description": store_text(f.get("description"))})
    return found


def lineage_inputs(facet: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """``(output field, input entry)`` of a columnLineage facet; "" is the dataset-level dependencies."""
    found = []
    fields = facet.get("fields")
    if isinstance(fields, dict):
        for field, body in fields.items():
            if store_name(field) is not None and isinstance(body, dict) and isinstance(body.get("inputFields"), list):
                found += [(field, entry) for entry in body["inputFields"]]
    if isinstance(facet.get("dataset"), list):
        found += [("", entry) for entry in facet["dataset"]]
    return [(field, entry) for field, entry in found
            if isinstance(entry, dict) and store_name(entry.get("namespace")) and store_name(entry.get("name"))]


def legacy_transformation(facet: Mapping[str, Any], field: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The transformation of an input field in columnLineage 1-0-0: ``transformationType`` and
    ``transformationDescription``, on the input field or else on its output field."""
    body = facet.get("fields", {}).get(field) if isinstance(facet.get("fields"), dict) else None
    keys = ("transformationType", "transformationDescription")
    source = entry if any(k in entry for k in keys) else body if isinstance(body, dict) else {}
    return {"type": source.get("transformationType"), "description": source.get("transformationDescription")}


def source_type(url: str) -> str:
    scheme = url.split(":", 1)[0].lower() if ":" in url else url.lower()
    known = {"postgres": "POSTGRESQL", "postgresql": "POSTGRESQL", "mysql": "MYSQL", "s3": "S3", "s3a": "S3",
             "gs": "GCS", "hdfs": "HDFS", "file": "FILE", "kafka": "KAFKA"}
    return known.get(scheme) or (scheme.upper()[:64] or "UNKNOWN")


def maybe_time(value: Any) -> datetime | None:
    try:
        return parse_time(value) if value else None
    except ValueError:
        return None


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()



def min_max(span: list[Any] | None, t: Any) -> list[Any]:
    if span is None:
        return [t, t]
    if t < span[0]:
        span[0] = t
    if t > span[1]:
        span[1] = t
    return span


def is_later(candidate: Any, current: Any) -> bool:
    return current is None or candidate > current
