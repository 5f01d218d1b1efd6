"""The whole graph of a job namespace: an extension of Marquez's API, for the web UI's pipeline view.

Marquez draws lineage around one node (``/lineage?nodeId=``, ``/column-lineage?nodeId=``); a whole
pipeline from there needs the right node and a depth large enough, and still brings in whatever
other namespaces' jobs share a dataset. These two answers hold a namespace's jobs instead:

- ``namespace_lineage_json``: every job of the namespace, each with all its current inputs and outputs
  (``job_io``: as of its latest run), and those datasets, whatever namespace they live in. Nodes and
  edges are exactly those of ``/lineage`` (see :mod:`lineage_audit.service.graph`); an edge only joins
  nodes of the graph, so a job of another namespace that writes a shared dataset is not in it.
- ``namespace_column_lineage``: every field of those datasets (schema, and fields their lineage
  names) as ``DATASET_FIELD`` nodes of ``/column-lineage``, with the column lineage of each dataset a
  job of the namespace writes: edges from a field to the fields it is computed from. The lineage of a
  dataset the namespace only reads was made by someone else's job and is left out.

Both answer for a namespace that exists (else :class:`NamespaceNotFound`); one without jobs is an
empty graph. Nothing is cached: each answer shows every committed event.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from lineage_audit.service.db import datasets, field_lineage, job_io, jobs, namespaces
from lineage_audit.service.column_lineage import EDGE_COLUMNS, FieldKey, field_nodes, fields_of, record_edge
from lineage_audit.service.graph import graph_json, lineage_nodes
from lineage_audit.service.node_ids import among, chunks, hidden_ids


class NamespaceNotFound(LookupError):
    """No namespace of that name (404)."""


def _jobs_io(conn: Connection, namespace: str) -> dict[int, dict[str, list[int]]]:
    """``{job id: {"INPUT": [dataset ids], "OUTPUT": [...]}}`` of every job of the namespace."""
    if conn.execute(select(namespaces.c.name).where(namespaces.c.name == namespace)).first() is None:
        raise NamespaceNotFound(f"Namespace '{namespace}' not found.")
    io: dict[int, dict[str, list[int]]] = {
        job_id: {"INPUT": [], "OUTPUT": []}
        for (job_id,) in conn.execute(select(jobs.c.id).where(jobs.c.namespace == namespace,
                                                              jobs.c.is_hidden.is_(False)))}
    hidden = hidden_ids(conn, datasets)
    for chunk in chunks(io):
        for job_id, dataset_id, direction in conn.execute(
                select(job_io.c.job_id, job_io.c.dataset_id, job_io.c.direction)
                .where(among(conn, job_io.c.job_id, chunk))):
            if dataset_id not in hidden:
                io[job_id][direction].append(dataset_id)
    return io


def namespace_lineage_json(conn: Connection, namespace: str) -> bytes:
    """``{"graph": [...]}``: the namespace's jobs and their datasets, as ``/lineage`` draws them."""
    io = _jobs_io(conn, namespace)
    dataset_ids = {i for sides in io.values() for ids in sides.values() for i in ids}
    return graph_json(*lineage_nodes(conn, io, dataset_ids))


def namespace_column_lineage(conn: Connection, namespace: str) -> dict[str, Any]:
    """``{"graph": [...]}``: the fields of the namespace's datasets with the column lineage of its writes."""
    io = _jobs_io(conn, namespace)
    dataset_ids = {i for sides in io.values() for ids in sides.values() for i in ids}
    written = {i for sides in io.values() for i in sides["OUTPUT"]}
    edges: dict[FieldKey, dict[FieldKey, list[dict[str, Any]]]] = defaultdict(dict)
    hidden = hidden_ids(conn, datasets)
    for chunk in chunks(written):
        for row in conn.execute(select(*EDGE_COLUMNS)
                                .where(among(conn, field_lineage.c.output_dataset_id, chunk),
                                       field_lineage.c.output_field != "")
                                .order_by(field_lineage.c.id)):
            if row[2] not in hidden:  # the input dataset
                record_edge(edges, row)
    keys = fields_of(conn, sorted(dataset_ids)) | set(edges) | {i for inputs in edges.values() for i in inputs}
    return {"graph": field_nodes(conn, keys, edges)}
