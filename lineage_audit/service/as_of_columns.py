"""``/column-lineage?asOf=T``: the column lineage as the events up to T described it.

The walk and the nodes are ``column_lineage.py``'s. Each dataset's lineage as of T is its rows in
``field_lineage`` when no event after T named it (they are then what T had), else the newest
``columnLineage`` facet up to T (``as_of_datasets.py``) turned into rows as the derivation turns it. A job's
fields are those of its outputs as of T; a field's types and versions are those of T. Downstream, the
datasets computed from a dataset as of T are among those whose lineage names it now and the outputs of the
runs that read it by T.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from lineage_audit.service.as_of import dataset_ids_of
from lineage_audit.service.as_of_graph import GraphAt
from lineage_audit.service.column_lineage import (
    EDGE_COLUMNS, FieldKey, column_depth, edge_ends, field_nodes, record_edge)
from lineage_audit.service.db import dataset_fields, field_lineage, run_io, runs
from lineage_audit.service.derived_values import legacy_transformation, lineage_inputs, store_name, store_text
from lineage_audit.service.node_ids import among, chunks, resolve

EdgeRow = tuple[int, str, int, str, Any, Any, Any, bool]  # as ``EDGE_COLUMNS``


class ColumnsAt(GraphAt):
    """Column lineage of datasets as of a moment, each dataset's read once."""

    def __init__(self, conn: Connection, at: datetime):
        super().__init__(conn, at)
        self.lineage: dict[int, list[EdgeRow]] = {}

    def lineage_rows(self, dataset_ids: Iterable[int]) -> list[EdgeRow]:
        """The field-level lineage rows (outputs among ``dataset_ids``) as of T, in the facet's order."""
        wanted = [i for i in self.shown(dataset_ids) if i not in self.lineage]
        unchanged = [i for i in wanted if not self.datasets.changed_since(i)]
        for dataset_id in wanted:
            self.lineage[dataset_id] = []
        for chunk in chunks(unchanged):
            for row in self.conn.execute(select(*EDGE_COLUMNS).where(
                    among(self.conn, field_lineage.c.output_dataset_id, chunk), field_lineage.c.output_field != "")
                    .order_by(field_lineage.c.id)):
                self.lineage[row[0]].append(tuple(row))
        facets = {i: self.datasets.lineage_facet(i) for i in wanted if i not in set(unchanged)}
        entries = {i: lineage_inputs(f) for i, f in facets.items() if isinstance(f, dict)}
        ids = dataset_ids_of(self.conn, {(e["namespace"], e["name"]) for found in entries.values() for _f, e in found})
        for dataset_id, found in entries.items():
            self.lineage[dataset_id] = [row for field, entry in found if field
                                        for row in _rows(facets[dataset_id], dataset_id, field, entry, ids)]
        return [row for i in dataset_ids if i in self.lineage for row in self.lineage[i]]

    def rows_into(self, dataset_ids: set[int]) -> list[EdgeRow]:
        """The lineage rows as of T whose input is among ``dataset_ids``."""
        outputs: set[int] = set()
        reader, written = run_io.alias("reader"), run_io.alias("written")
        for chunk in chunks(dataset_ids):
            outputs.update(self.conn.execute(select(field_lineage.c.output_dataset_id).where(
                among(self.conn, field_lineage.c.input_dataset_id, chunk)).distinct()).scalars())
            outputs.update(self.conn.execute(
                select(written.c.dataset_id).join(runs, runs.c.uuid == reader.c.run_uuid)
                .join(written, and_(written.c.run_uuid == reader.c.run_uuid, written.c.direction == "OUTPUT"))
                .where(among(self.conn, reader.c.dataset_id, chunk), reader.c.direction == "INPUT",
                       runs.c.created_at <= self.at).distinct()).scalars())
        return [row for row in self.lineage_rows(sorted(outputs)) if row[2] in dataset_ids]

    def fields_of(self, dataset_ids: Iterable[int]) -> set[FieldKey]:
        """Every field of the datasets as of T: from their schema and from their column lineage."""
        shown = self.shown(dataset_ids)
        found = {(row[0], row[1]) for row in self.lineage_rows(sorted(shown))}
        for dataset_id, types in self.types(shown).items():
            found |= {(dataset_id, name) for name in types}
        return found

    def types(self, dataset_ids: Iterable[int]) -> dict[int, dict[str, str | None]]:
        """``{dataset id: {field: type}}`` as of T."""
        found: dict[int, dict[str, str | None]] = defaultdict(dict)
        rows = self.datasets.load(dataset_ids)
        unchanged = [i for i in rows if not self.datasets.changed_since(i)]
        for chunk in chunks(unchanged):
            for dataset_id, name, type_ in self.conn.execute(
                    select(dataset_fields.c.dataset_id, dataset_fields.c.name, dataset_fields.c.type)
                    .where(among(self.conn, dataset_fields.c.dataset_id, chunk))):
                found[dataset_id][name] = type_
        for dataset_id in set(rows) - set(unchanged):
            found[dataset_id] = {f["name"]: f["type"] for f in self.datasets.fields(dataset_id)}
        return found

    def field_exists(self, dataset_id: int, field: str) -> bool:
        if (dataset_id, field) in self.fields_of([dataset_id]):
            return True
        return self.conn.execute(select(field_lineage.c.id).where(  # only ever read: named by lineage of others
            field_lineage.c.input_dataset_id == dataset_id, field_lineage.c.input_field == field).limit(1)).first() \
            is not None

    def walk(self, start: set[FieldKey], depth: int, edges: dict, upstream: bool) -> None:
        """``column_lineage._walk`` over the lineage as of T."""
        visited, frontier = set(start), set(start)
        for _ in range(depth):
            reached: set[FieldKey] = set()
            ids = {dataset_id for dataset_id, _ in frontier}
            rows = self.lineage_rows(sorted(ids)) if upstream else self.rows_into(ids)
            for row in rows:
                output, input_ = (row[0], row[1]), (row[2], row[3])
                near, far = (output, input_) if upstream else (input_, output)
                if near not in frontier or not self.shown([far[0]]):
                    continue
                record_edge(edges, row)
                if far not in visited:
                    visited.add(far)
                    reached.add(far)
            if not reached:
                return
            frontier = reached


def _rows(facet: dict, output_id: int, field: str, entry: Any, ids: dict) -> list[EdgeRow]:
    """The rows the derivation makes of one input field of a columnLineage facet (``merge_facets``)."""
    input_id = ids.get((entry["namespace"], entry["name"]))
    if input_id is None:
        return []
    transformations = entry.get("transformations")
    if not isinstance(transformations, list):  # columnLineage 1-0-0: no list, the older keys
        transformations = [legacy_transformation(facet, field, entry)]
    rows = []
    for transformation in transformations or [{}]:
        if not isinstance(transformation, dict):
            transformation = {}
        rows.append((output_id, field, input_id, store_name(entry.get("field")) or "",
                     store_text(transformation.get("type"), 16), store_text(transformation.get("subtype"), 32),
                     store_text(transformation.get("description")), transformation.get("masking") is True))
    return rows


def column_lineage_graph_at(conn: Connection, node_id: str, depth: int, with_downstream: bool,
                            at: datetime) -> dict[str, Any]:
    """``column_lineage.column_lineage_graph`` as of ``at``."""
    graph = ColumnsAt(conn, at)
    node = resolve(conn, node_id, ("dataset", "datasetField", "job"), at, field_exists=graph.field_exists)
    if node.kind == "datasetField":
        start: set[FieldKey] = {(node.id, node.field)}
    elif node.kind == "dataset":
        start = graph.fields_of([node.id])
    else:
        start = graph.fields_of(sorted(graph.runs.job_edges([node.id])[node.id]["OUTPUT"]))
    edges: dict[FieldKey, dict[FieldKey, list[dict[str, Any]]]] = defaultdict(dict)
    depth = column_depth(depth)
    graph.walk(start, depth, edges, upstream=True)
    if with_downstream:
        graph.walk(start, depth, edges, upstream=False)
    keys = edge_ends(edges)
    dataset_ids = {dataset_id for dataset_id, _ in keys}
    graph.datasets.load(dataset_ids)
    graph.datasets.read_versions(dataset_ids)
    versions = {i: (graph.datasets.current.get(i) or {}).get("uuid") for i in dataset_ids}
    types = {(i, name): t for i, found in graph.types(dataset_ids).items() for name, t in found.items()}
    return {"graph": field_nodes(conn, keys, edges, versions, types)}
