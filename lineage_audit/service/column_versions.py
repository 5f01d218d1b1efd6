"""``/column-lineage`` at a dataset version: ``dataset:<ns>:<name>#<version>`` and
``datasetField:<ns>:<dataset>:<field>#<version>``, the lineage as it was when that version was written.

The current column lineage (``field_lineage``) keeps only each dataset's newest facet; a version's
own ``columnLineage`` facet is kept with the version (facets of kind ``dataset_version``), so the
walk reads those: a field of version v comes from the input fields v's facet names, each in the
version of its dataset that v's run read (else the newest written by v's time). Every node id then
carries its version, as Marquez's do. Upstream only: ``withDownstream`` with a version is a 400
(what was computed from a version later is not "as it was").
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from typing import Any, Sequence

from sqlalchemy import select
from sqlalchemy.engine import Connection

from lineage_audit.service.column_lineage import column_depth, edge_ends, strongest_transformation
from lineage_audit.service.db import dataset_fields, dataset_versions, datasets, facets, run_io
from lineage_audit.service.derived_values import legacy_transformation
from lineage_audit.service.node_ids import Node, NodeIdError, NodeNotFound, field_node_id, named, resolve
from lineage_audit.service.symlinks import symlinked_ids

VersionedField = tuple[int, str, str | None]  # (dataset id, field, dataset version)


def split_version(node_id: str) -> tuple[str, str | None]:
    """``(node id without its version, version)``; a name may hold "#" itself, so only a UUID after the last
    "#" is a version."""
    base, mark, version = node_id.rpartition("#")
    if not mark or not base:
        return node_id, None
    try:
        return base, str(uuid.UUID(version))
    except ValueError:
        return node_id, None


def versioned_column_lineage(conn: Connection, node_id: str, version: str, depth: int,
                             with_downstream: bool) -> dict[str, Any]:
    if with_downstream:
        raise NodeIdError("withDownstream is not supported with a versioned nodeId: a version's lineage is "
                          "upstream only")
    node = resolve(conn, node_id, ("dataset", "datasetField"))
    lineage = _VersionLineage(conn)
    fields = lineage.fields(node.id, version)
    if fields is None:
        raise NodeNotFound(f"no version {version} of {node_id.partition(':')[2]!r} is known")
    start = _start(node, fields, version)
    edges: dict[VersionedField, dict[VersionedField, list[dict[str, Any]]]] = defaultdict(dict)
    visited, frontier = set(start), set(start)
    for _ in range(column_depth(depth)):
        reached: set[VersionedField] = set()
        for key in frontier:
            for input_key, transformations in lineage.inputs(key).items():
                edges[key][input_key] = transformations
                if input_key not in visited:
                    visited.add(input_key)
                    reached.add(input_key)
        if not reached:
            break
        frontier = reached
    return {"graph": _nodes(conn, lineage, edge_ends(edges), edges)}


def _start(node: Node, fields: dict[str, str | None], version: str) -> set[VersionedField]:
    if node.kind == "dataset":
        return {(node.id, name, version) for name in fields}
    if node.field not in fields:
        raise NodeNotFound(f"field {node.field!r} is not in version {version}")
    return {(node.id, node.field, version)}


class _VersionLineage:
    """What the walk reads of dataset versions, each read once: fields, lineage facet, run, time."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.rows: dict[str, Any] = {}
        self.lineage: dict[str, dict[str, dict[VersionedField, list[dict[str, Any]]]]] = {}

    def _row(self, version: str | None) -> Any:
        if version is None:
            return None
        if version not in self.rows:
            self.rows[version] = self.conn.execute(
                select(dataset_versions.c.dataset_id, dataset_versions.c.run_uuid, dataset_versions.c.fields,
                       dataset_versions.c.event_time).where(dataset_versions.c.uuid == version)).first()
        return self.rows[version]

    def fields(self, dataset_id: int, version: str | None) -> dict[str, str | None] | None:
        """``{field: type}`` of a version of the dataset (its schema, then the fields its lineage names); None
        if the version is not one of the dataset's."""
        row = self._row(version)
        if row is None or row.dataset_id != dataset_id:
            return None
        found = {f["name"]: f.get("type") for f in _json(row.fields) or [] if isinstance(f, dict)}
        for field in self._lineage_of(version):
            found.setdefault(field, None)
        return found

    def inputs(self, key: VersionedField) -> dict[VersionedField, list[dict[str, Any]]]:
        _dataset_id, field, version = key
        return self._lineage_of(version).get(field, {}) if version else {}

    def _lineage_of(self, version: str) -> dict[str, dict[VersionedField, list[dict[str, Any]]]]:
        if version not in self.lineage:
            self.lineage[version] = self._read_lineage(version)
        return self.lineage[version]

    def _read_lineage(self, version: str) -> dict[str, dict[VersionedField, list[dict[str, Any]]]]:
        facet = _json(self.conn.execute(select(facets.c.value).where(
            facets.c.owner_kind == "dataset_version", facets.c.owner_key == version,
            facets.c.name == "columnLineage")).scalar())
        entries = list(lineage_entries(facet))
        inputs = {(e["namespace"], e["name"]) for _f, _b, e in entries}
        ids = named(self.conn, datasets, inputs)
        ids |= symlinked_ids(self.conn, inputs - set(ids))  # lineage named an input under its symlink
        row = self._row(version)
        found: dict[str, dict[VersionedField, list[dict[str, Any]]]] = defaultdict(dict)
        for field, body, entry in entries:
            input_id = ids.get((entry["namespace"], entry["name"]))
            if input_id is None:
                continue
            key = (input_id, entry["field"], self._read_version(row, input_id))
            transformations = found[field].setdefault(key, [])
            for transformation in entry_transformations(entry, body):
                if transformation not in transformations:
                    transformations.append(transformation)
        return found

    def _read_version(self, row: Any, dataset_id: int) -> str | None:
        """The version of an input the run of ``row`` read, else the newest written by ``row``'s time."""
        read = self.conn.execute(select(run_io.c.dataset_version_uuid).where(
            run_io.c.run_uuid == row.run_uuid, run_io.c.dataset_id == dataset_id,
            run_io.c.direction == "INPUT")).scalar() if row.run_uuid else None
        if read is None:
            read = self.conn.execute(select(dataset_versions.c.uuid).where(
                dataset_versions.c.dataset_id == dataset_id, dataset_versions.c.event_time <= row.event_time)
                .order_by(dataset_versions.c.event_time.desc(), dataset_versions.c.uuid).limit(1)).scalar()
        return read


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def lineage_entries(facet: Any):
    """``(output field, its body, input entry)`` of a columnLineage facet's field-level lineage."""
    fields = facet.get("fields") if isinstance(facet, dict) else None
    if not isinstance(fields, dict):
        return
    for field, body in fields.items():
        if isinstance(body, dict) and isinstance(body.get("inputFields"), list):
            for entry in body["inputFields"]:
                if isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in ("namespace", "name",
                                                                                             "field")):
                    yield field, body, entry


def entry_transformations(entry: dict[str, Any], body: dict[str, Any]) -> list[dict[str, Any]]:
    """The transformations of an input field as ``record_edge`` shapes them (columnLineage 1-0-0's older keys
    when ``transformations`` is absent)."""
    listed = entry.get("transformations")
    if not isinstance(listed, list):
        legacy = legacy_transformation({"fields": {"": body}}, "", entry)
        listed = [legacy] if any(legacy.values()) else []
    found = []
    for t in listed:
        if isinstance(t, dict):
            found.append({"type": t.get("type"), "subtype": t.get("subtype"), "description": t.get("description"),
                          "masking": t.get("masking") is True})
    return found


def _nodes(conn: Connection, lineage: _VersionLineage, keys: set[VersionedField],
           edges: dict[VersionedField, dict[VersionedField, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    names = _names(conn, {d for d, _f, _v in keys})
    current_types = _current_types(conn, {d for d, _f, v in keys if v is None})

    def key_of(key: VersionedField) -> str:
        dataset_id, field, version = key
        base = field_node_id(*names[dataset_id], field)
        return f"{base}#{version}" if version else base

    def type_of(key: VersionedField) -> str | None:
        dataset_id, field, version = key
        if version is None:
            return current_types.get((dataset_id, field))
        return (lineage.fields(dataset_id, version) or {}).get(field)

    consumers: dict[VersionedField, list[str]] = defaultdict(list)
    for output, inputs in edges.items():
        for input_key in inputs:
            consumers[input_key].append(key_of(output))
    nodes = []
    for key in keys:
        node_key, inputs = key_of(key), edges.get(key, {})
        input_fields = []
        for input_key, transformations in sorted(inputs.items(), key=lambda item: key_of(item[0])):
            strongest = strongest_transformation(transformations)
            input_fields.append({"namespace": names[input_key[0]][0], "dataset": names[input_key[0]][1],
                                 "datasetVersion": input_key[2], "field": input_key[1],
                                 "transformationDescription": strongest.get("description"),
                                 "transformationType": strongest.get("type"), "transformations": transformations})
        strongest = strongest_transformation([t for found in inputs.values() for t in found])
        nodes.append({
            "id": node_key, "type": "DATASET_FIELD",
            "data": {"namespace": names[key[0]][0], "dataset": names[key[0]][1], "datasetVersion": key[2],
                     "field": key[1], "fieldType": type_of(key),
                     "transformationDescription": strongest.get("description"),
                     "transformationType": strongest.get("type"), "inputFields": input_fields},
            "inEdges": [{"origin": node_key, "destination": i} for i in sorted(key_of(k) for k in inputs)],
            "outEdges": [{"origin": node_key, "destination": d} for d in sorted(consumers[key])],
        })
    nodes.sort(key=lambda n: n["id"])
    return nodes


def _names(conn: Connection, dataset_ids: set[int]) -> dict[int, tuple[str, str]]:
    rows = conn.execute(select(datasets.c.id, datasets.c.namespace, datasets.c.name)
                        .where(datasets.c.id.in_(sorted(dataset_ids)))) if dataset_ids else []
    return {row.id: (row.namespace, row.name) for row in rows}


def _current_types(conn: Connection, dataset_ids: Sequence[int] | set[int]) -> dict[tuple[int, str], str | None]:
    if not dataset_ids:
        return {}
    return {(d, name): type_ for d, name, type_ in conn.execute(
        select(dataset_fields.c.dataset_id, dataset_fields.c.name, dataset_fields.c.type)
        .where(dataset_fields.c.dataset_id.in_(sorted(dataset_ids))))}
