"""``/column-lineage`` as Marquez answers it: edges go from a field to the fields it is computed from,
``depth`` counts edges (Marquez's query always takes the first, so 0 counts as 1), upstream only unless
``withDownstream``. Each walk is breadth first, one batched query per frontier on ``field_lineage``.

Marquez builds this graph from lineage rows, so a field is a node when an edge of the answer joins it: a
dataset or job answers with its fields that have lineage, and a field with none in reach is an empty graph.
Every node has its ``data``; a field at the edge of the graph, or only ever read, has no input fields, the
version its consumer read and its type from the dataset's fields (Marquez gives ``""``). Dataset-level
dependencies (the ``dataset`` part of a columnLineage facet: fields that filter or join rows without feeding
a column) are left out, as Marquez leaves them out. A dataset or field nodeId ending with ``#<version>`` asks
for the lineage at that dataset version: ``column_versions.py``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Sequence

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from lineage_audit.service.db import dataset_fields, dataset_versions, datasets, field_lineage, job_io, run_io
from lineage_audit.service.node_ids import among, chunks, field_node_id, hidden_ids, resolve

FieldKey = tuple[int, str]  # (dataset id, field name)


def column_lineage_graph(conn: Connection, node_id: str, depth: int, with_downstream: bool) -> dict[str, Any]:
    """Marquez's column ``LineageGraph`` (``DATASET_FIELD`` nodes) from a dataset, field or job nodeId."""
    node = resolve(conn, node_id, ("dataset", "datasetField", "job"))
    if node.kind == "datasetField":
        start: set[FieldKey] = {(node.id, node.field)}
    elif node.kind == "dataset":
        start = fields_of(conn, [node.id])
    else:
        outputs = [i for (i,) in conn.execute(select(job_io.c.dataset_id).join(
            datasets, datasets.c.id == job_io.c.dataset_id).where(
            job_io.c.job_id == node.id, job_io.c.direction == "OUTPUT", datasets.c.is_hidden.is_(False)))]
        start = fields_of(conn, outputs)
    # edges[output field][input field] = the transformations of that edge
    edges: dict[FieldKey, dict[FieldKey, list[dict[str, Any]]]] = defaultdict(dict)
    hidden = hidden_ids(conn, datasets)
    depth = column_depth(depth)
    _walk(conn, start, depth, edges, upstream=True, hidden=hidden)
    if with_downstream:
        _walk(conn, start, depth, edges, upstream=False, hidden=hidden)
    return {"graph": field_nodes(conn, edge_ends(edges), edges)}


def column_depth(depth: int) -> int:
    """Marquez's column lineage always takes the first step: depth 0 is depth 1."""
    return max(depth, 1)


def edge_ends(edges: dict[Any, dict[Any, Any]]) -> set[Any]:
    """The fields of a column lineage graph: those its edges join. As in Marquez, whose graph is made of
    lineage rows, a field asked for that has no lineage within reach is not a node."""
    return set(edges) | {i for inputs in edges.values() for i in inputs}


def fields_of(conn: Connection, dataset_ids: Sequence[int]) -> set[FieldKey]:
    """Every field of the datasets: from their schema and from their column lineage."""
    found: set[FieldKey] = set()
    for chunk in chunks(dataset_ids):
        found.update(conn.execute(select(dataset_fields.c.dataset_id, dataset_fields.c.name)
                                  .where(among(conn, dataset_fields.c.dataset_id, chunk))))
        found.update(conn.execute(select(field_lineage.c.output_dataset_id, field_lineage.c.output_field)
                                  .where(among(conn, field_lineage.c.output_dataset_id, chunk),
                                         field_lineage.c.output_field != "").distinct()))
    return found


EDGE_COLUMNS = (field_lineage.c.output_dataset_id, field_lineage.c.output_field, field_lineage.c.input_dataset_id,
                 field_lineage.c.input_field, field_lineage.c.transformation_type,
                 field_lineage.c.transformation_subtype, field_lineage.c.transformation_description,
                 field_lineage.c.masking)


def _walk(conn: Connection, start: set[FieldKey], depth: int, edges: dict, upstream: bool,
          hidden: set[int] = frozenset()) -> None:
    """Breadth first from ``start``, ``depth`` edges at most, recording every edge crossed (none to or
    from a soft-deleted dataset, in ``hidden``)."""
    visited, frontier = set(start), set(start)
    by = field_lineage.c.output_dataset_id if upstream else field_lineage.c.input_dataset_id
    for _ in range(depth):
        reached: set[FieldKey] = set()
        for chunk in chunks({dataset_id for dataset_id, _ in frontier}):
            rows = conn.execute(select(*EDGE_COLUMNS)
                                .where(among(conn, by, chunk), field_lineage.c.output_field != "")
                                .order_by(field_lineage.c.id))
            for row in rows:
                output, input_ = (row[0], row[1]), (row[2], row[3])
                near, far = (output, input_) if upstream else (input_, output)
                if near not in frontier or far[0] in hidden:
                    continue
                record_edge(edges, row)
                if far not in visited:
                    visited.add(far)
                    reached.add(far)
        if not reached:
            return
        frontier = reached


def record_edge(edges: dict[FieldKey, dict[FieldKey, list[dict[str, Any]]]], row: Sequence[Any]) -> None:
    """Adds one ``field_lineage`` row (``EDGE_COLUMNS``) to ``edges[output field][input field]``, its
    transformation once (a row without any is an edge without transformations)."""
    out_id, out_field, in_id, in_field, t_type, t_subtype, t_description, masking = row
    transformations = edges[(out_id, out_field)].setdefault((in_id, in_field), [])
    transformation = {"type": t_type, "subtype": t_subtype, "description": t_description, "masking": bool(masking)}
    if (t_type or t_subtype or t_description or masking) and transformation not in transformations:
        transformations.append(transformation)


def field_nodes(conn: Connection, keys: set[FieldKey], edges: dict, as_of_versions: dict[int, str | None] | None = None,
                as_of_types: dict[FieldKey, str | None] | None = None) -> list[dict[str, Any]]:
    """The nodes of the fields ``keys``; with their datasets' current versions and fields' types now, or those
    given (as of a moment)."""
    dataset_ids = {dataset_id for dataset_id, _ in keys}
    names, versions = {}, {}
    for chunk in chunks(dataset_ids):
        for row in conn.execute(select(datasets.c.id, datasets.c.namespace, datasets.c.name,
                                       datasets.c.current_version).where(among(conn, datasets.c.id, chunk))):
            names[row.id] = (row.namespace, row.name)
            versions[row.id] = row.current_version
    types: dict[FieldKey, str | None] = {}
    if as_of_types is None:
        for chunk in chunks(dataset_ids):
            for dataset_id, name, type_ in conn.execute(
                    select(dataset_fields.c.dataset_id, dataset_fields.c.name, dataset_fields.c.type)
                    .where(among(conn, dataset_fields.c.dataset_id, chunk))):
                types[(dataset_id, name)] = type_
    else:
        types, versions = as_of_types, as_of_versions or {}
    read_versions = _input_versions(conn, [versions[d] for d, _ in edges if versions.get(d)])

    def key_of(field: FieldKey) -> str:
        namespace, dataset = names[field[0]]
        return field_node_id(namespace, dataset, field[1])

    out_edges: dict[FieldKey, list[FieldKey]] = defaultdict(list)
    for output, inputs in edges.items():
        for input_ in inputs:
            out_edges[input_].append(output)
    nodes = []
    for field in keys:
        namespace, dataset = names[field[0]]
        node_key = key_of(field)
        inputs = []
        for input_, transformations in sorted(edges.get(field, {}).items(), key=lambda item: key_of(item[0])):
            input_namespace, input_dataset = names[input_[0]]
            strongest = strongest_transformation(transformations)
            inputs.append({
                "namespace": input_namespace, "dataset": input_dataset,
                "datasetVersion": read_versions.get((versions.get(field[0]), input_[0])),
                "field": input_[1],
                "transformationDescription": strongest.get("description"),
                "transformationType": strongest.get("type"),
                "transformations": transformations,
            })
        strongest = strongest_transformation([t for entry in edges.get(field, {}).values() for t in entry])
        version = versions.get(field[0])
        if not inputs and out_edges[field]:  # only read here: the version its first consumer read, as Marquez
            consumer = min(out_edges[field], key=key_of)
            version = read_versions.get((versions.get(consumer[0]), field[0])) or version
        nodes.append({
            "id": node_key,
            "type": "DATASET_FIELD",
            "data": {"namespace": namespace, "dataset": dataset, "datasetVersion": version,
                     "field": field[1], "fieldType": types.get(field),
                     "transformationDescription": strongest.get("description"),
                     "transformationType": strongest.get("type"), "inputFields": inputs},
            "inEdges": [{"origin": node_key, "destination": i}
                        for i in sorted(key_of(k) for k in edges.get(field, {}))],
            "outEdges": [{"origin": node_key, "destination": d} for d in sorted(key_of(k) for k in out_edges[field])],
        })
    nodes.sort(key=lambda n: n["id"])
    return nodes


def strongest_transformation(transformations: list[dict[str, Any]]) -> dict[str, Any]:
    """The transformation that characterises an edge: a DIRECT one if any, else the first."""
    for transformation in transformations:
        if transformation.get("type") == "DIRECT":
            return transformation
    return transformations[0] if transformations else {}


def _input_versions(conn: Connection, output_versions: list[str]) -> dict[tuple[str, int], str | None]:
    """``{(output dataset version, input dataset id): the input's version the producing run read}``."""
    found = {}
    for chunk in chunks(set(output_versions)):
        for version, dataset_id, read in conn.execute(
                select(dataset_versions.c.uuid, run_io.c.dataset_id, run_io.c.dataset_version_uuid)
                .join(run_io, and_(run_io.c.run_uuid == dataset_versions.c.run_uuid, run_io.c.direction == "INPUT"))
                .where(among(conn, dataset_versions.c.uuid, chunk))):
            found[(version, dataset_id)] = read
    return found
