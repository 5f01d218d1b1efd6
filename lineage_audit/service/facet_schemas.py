"""The standard facets the service reads, checked against the OpenLineage spec as the event arrives.

Each facet's rules (required keys, types, enums, date-times and UUIDs) are written here as JSON
schemas (a small subset of the language), compiled once into plain Python checks; an event is
checked only for the facets it carries, so an event without them costs a dictionary lookup per
facet map. A facet that breaks its schema is a 422 naming the first wrong field, e.g.
``outputs[0].facets.schema.fields[1].name``. tests/service/test_validation.py holds these rules
against the spec's own JSON schemas.

Deliberately not required: the ``_producer`` and ``_schemaURL`` every facet should carry (when
present they must be strings). Marquez does not check them either, and many producers omit them.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable, Mapping

from lineage_audit.service.events import EventError, parse_time

_STRING = {"type": "string"}
_BOOLEAN = {"type": "boolean"}
_INTEGER = {"type": "integer"}
_TIME = {"type": "string", "format": "date-time"}
_UUID = {"type": "string", "format": "uuid"}


def _facet(properties: Mapping[str, Any], required: tuple[str, ...] = (), **more: Any) -> dict[str, Any]:
    """A facet object: its own properties plus the base facet's (``_producer``, ``_schemaURL``, ``_deleted``)."""
    base = {"_producer": _STRING, "_schemaURL": _STRING, "_deleted": _BOOLEAN}
    return {"type": "object", "properties": {**base, **properties}, "required": list(required), **more}


def _object(properties: Mapping[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": dict(properties), "required": list(required)}


_SCHEMA_FIELD = {"$ref": "#/$defs/field"}
_FIELD_DEFS = {"field": _object({"name": _STRING, "type": _STRING, "description": _STRING,
                                 "ordinal_position": _INTEGER, "fields": {"type": "array", "items": _SCHEMA_FIELD}},
                                ("name",))}
_TRANSFORMATION = _object({"type": _STRING, "subtype": _STRING, "description": _STRING, "masking": _BOOLEAN},
                          ("type",))
_INPUT_FIELD = _object({"namespace": _STRING, "name": _STRING, "field": _STRING,
                        "transformations": {"type": "array", "items": _TRANSFORMATION}},
                       ("namespace", "name", "field"))
_JOB_REF = _object({"namespace": _STRING, "name": _STRING}, ("namespace", "name"))
# The spec says a UUID; older Airflow integrations send ``scheduled__...`` and Marquez maps such an id to a
# name-based UUID (see derive), so any string is taken here.
_RUN_REF = _object({"runId": _STRING}, ("runId",))

DATASET_FACETS: dict[str, dict[str, Any]] = {
    "schema": _facet({"fields": {"type": "array", "items": _SCHEMA_FIELD}}, **{"$defs": _FIELD_DEFS}),
    "columnLineage": _facet({
        "fields": {"type": "object", "additionalProperties": _object({
            "inputFields": {"type": "array", "items": _INPUT_FIELD},
            "transformationDescription": _STRING, "transformationType": _STRING}, ("inputFields",))},
        "dataset": {"type": "array", "items": _INPUT_FIELD}}, ("fields",)),
    "dataSource": _facet({"name": _STRING, "uri": _STRING}),
    "lifecycleStateChange": _facet({
        "lifecycleStateChange": {"enum": ["ALTER", "CREATE", "DROP", "OVERWRITE", "RENAME", "TRUNCATE"]},
        "previousIdentifier": _object({"name": _STRING, "namespace": _STRING}, ("name", "namespace"))},
        ("lifecycleStateChange",)),
    "documentation": _facet({"description": _STRING, "contentType": _STRING}, ("description",)),
    "symlinks": _facet({"identifiers": {"type": "array", "items": _object(
        {"namespace": _STRING, "name": _STRING, "type": _STRING}, ("namespace", "name", "type"))}}),
}
OUTPUT_FACETS = {"outputStatistics": _facet({"rowCount": _INTEGER, "size": _INTEGER, "fileCount": _INTEGER})}
RUN_FACETS = {
    "nominalTime": _facet({"nominalStartTime": _TIME, "nominalEndTime": _TIME}, ("nominalStartTime",)),
    "parent": _facet({"run": _RUN_REF, "job": _JOB_REF,
                      "root": _object({"run": _RUN_REF, "job": _JOB_REF}, ("run", "job"))}, ("run", "job")),
}
JOB_FACETS = {
    "jobType": _facet({"processingType": _STRING, "integration": _STRING, "jobType": _STRING},
                      ("processingType", "integration")),
    "documentation": _facet({"description": _STRING, "contentType": _STRING}, ("description",)),
}


class _Invalid(Exception):
    """A wrong value: ``steps`` is its path below the facet, filled in as the error rises (no path is built
    for the values that are right)."""

    def __init__(self, reason: str, *steps: str):
        super().__init__(reason)
        self.reason, self.steps = reason, list(steps)

    def path(self, facet_path: str) -> str:
        return facet_path + "".join(reversed(self.steps))


def _is_time(value: str) -> bool:
    if not isinstance(value, str):  # a format says nothing of other types (JSON Schema): "type" does
        return True
    try:
        parse_time(value)
    except ValueError:
        return False
    return True


def _is_uuid(value: str) -> bool:
    if not isinstance(value, str):
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


FORMAT_CHECKS: dict[str, Callable[[str], bool]] = {"date-time": _is_time, "uuid": _is_uuid}
_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: v.__class__ is str,
    "boolean": lambda v: v.__class__ is bool,
    "integer": lambda v: (v.__class__ is int) or (v.__class__ is float and v.is_integer()),
    "object": lambda v: v.__class__ is dict,
    "array": lambda v: v.__class__ is list,
}
Check = Callable[[Any], None]


def _compile(schema: Mapping[str, Any], defs: Mapping[str, Any], compiled: dict[str, Check]) -> Check:
    """A function checking a value against ``schema`` (the subset of JSON schema written above): it raises
    ``_Invalid`` with the path of the first wrong value. Plain Python: the jsonschema library is many times
    slower, and ingest checks every facet it reads."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in compiled:
            compiled[name] = lambda value: compiled[name + "!"](value)
            compiled[name + "!"] = _compile(defs[name], defs, compiled)
        return compiled[name]
    steps: list[Check] = []
    kind = schema.get("type")
    if kind is not None:
        is_kind = _TYPES[kind]

        def check_type(value: Any) -> None:
            if not is_kind(value):
                raise _Invalid(f"must be of type {kind}")
        steps.append(check_type)
    if "enum" in schema:
        allowed = tuple(schema["enum"])

        def check_enum(value: Any) -> None:
            if value not in allowed:
                raise _Invalid("must be one of " + ", ".join(allowed))
        steps.append(check_enum)
    if "format" in schema:
        is_format, name = FORMAT_CHECKS[schema["format"]], schema["format"]

        def check_format(value: Any) -> None:
            if value.__class__ is str and not is_format(value):
                raise _Invalid(f"must be a valid {name}")
        steps.append(check_format)
    steps += _compile_containers(schema, defs, compiled)
    if len(steps) == 1:
        return steps[0]

    def check_all(value: Any) -> None:
        for step in steps:
            step(value)
    return check_all


def _compile_containers(schema: Mapping[str, Any], defs: Mapping[str, Any], compiled: dict[str, Check]) -> list[Check]:
    """The checks of an object's keys and values, or of an array's items (skipped for other values: the type
    check reports those)."""
    steps: list[Check] = []
    required = tuple(schema.get("required", ()))
    properties = {key: _compile(sub, defs, compiled) for key, sub in schema.get("properties", {}).items()}
    others = _compile(schema["additionalProperties"], defs, compiled) if "additionalProperties" in schema else None
    if required or properties or others:
        def check_object(value: Any) -> None:
            if value.__class__ is not dict:
                return
            for key in required:
                if key not in value:
                    raise _Invalid("is required", f".{key}")
            for key, item in value.items():
                check = properties.get(key, others)
                if check is not None:
                    try:
                        check(item)
                    except _Invalid as invalid:
                        invalid.steps.append(f".{key}")
                        raise
        steps.append(check_object)
    if "items" in schema:
        each = _compile(schema["items"], defs, compiled)

        def check_items(value: Any) -> None:
            if value.__class__ is list:
                for position, item in enumerate(value):
                    try:
                        each(item)
                    except _Invalid as invalid:
                        invalid.steps.append(f"[{position}]")
                        raise
        steps.append(check_items)
    return steps


def _checks(schemas: Mapping[str, dict[str, Any]]) -> dict[str, Check]:
    return {name: _compile(schema, schema.get("$defs", {}), {}) for name, schema in schemas.items()}


_DATASET = _checks(DATASET_FACETS)
_OUTPUT = _checks(OUTPUT_FACETS)
_RUN = _checks(RUN_FACETS)
_JOB = _checks(JOB_FACETS)


def _check_map(owner: Any, key: str, path: str, checks: Mapping[str, Check], index: int | None) -> None:
    facets = owner.get(key) if isinstance(owner, dict) else None
    if not isinstance(facets, dict):
        return
    for name, check in checks.items():
        facet = facets.get(name)
        if facet is None:
            continue
        try:
            check(facet)
        except _Invalid as invalid:
            where = invalid.path(f"{path}.{key}.{name}")
            raise EventError(422, f"{where} {invalid.reason} (OpenLineage {name} facet)", where, index) from None


def check_facets(event: Mapping[str, Any], index: int | None = None) -> None:
    """Raise a 422 for the first standard facet of ``event`` that breaks its OpenLineage schema."""
    _check_map(event.get("run"), "facets", "run", _RUN, index)
    _check_map(event.get("job"), "facets", "job", _JOB, index)
    if isinstance(event.get("dataset"), dict):
        _check_map(event["dataset"], "facets", "dataset", _DATASET, index)
    for side in ("inputs", "outputs"):
        datasets = event.get(side)
        if not isinstance(datasets, list):
            continue
        for position, dataset in enumerate(datasets):
            path = f"{side}[{position}]"
            _check_map(dataset, "facets", path, _DATASET, index)
            if side == "outputs":
                _check_map(dataset, "outputFacets", path, _OUTPUT, index)
