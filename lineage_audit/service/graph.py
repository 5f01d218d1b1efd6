"""Lineage graphs as Marquez answers them: ``/lineage`` (jobs and datasets) and ``/column-lineage`` (fields).

Both walk the store breadth first, one batched query (an IN list) per frontier, on the indexed
tables ``job_io`` and ``field_lineage``; nothing is cached, so a graph always shows every
committed event. A graph of a thousand datasets is megabytes of JSON, mostly their fields: the
database writes those as JSON itself, spliced into the answer unparsed (``lineage_graph_json``).

``/lineage`` follows Marquez: the walk goes from job to job, two jobs being neighbours when they
share a dataset (as input or output, so two readers of one table are neighbours too); ``depth``
counts these job steps. The graph holds the jobs reached and every input and output of each. A
dataset node starts from the job that writes it (else one that reads it); a dataset no current
job touches is a graph of that dataset alone.

``/column-lineage`` follows Marquez too: edges go from a field to the fields it is computed from,
``depth`` counts edges, upstream only unless ``withDownstream``. Dataset-level dependencies (the
``dataset`` part of a columnLineage facet: fields that filter or join rows without feeding a
column) are left out, as Marquez leaves them out; ``GET /datasets`` does not show them either.
Unlike Marquez, every node has its ``data``, fields at the edge of the graph included (with no
input fields), and the starting fields are nodes even when they have no lineage. A dataset or field
nodeId ending with ``#<version>`` asks for the lineage at that dataset version: ``column_versions.py``.
"""

from __future__ import annotations

import gc
import json
import re
import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Iterable, Sequence

from sqlalchemy import String, Text, and_, any_, bindparam, cast, func, null, select, text, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.engine import Connection

from lineage_audit.service.db import (
    dataset_fields,
    dataset_tags,
    dataset_versions,
    datasets,
    field_lineage,
    job_io,
    jobs,
    run_io,
    runs,
)
from lineage_audit.service.views import _job_uuid, iso

CHUNK = 900  # ids per IN list: below SQLite's oldest limit on bound parameters (999)
MAX_COLONS = 64  # in a nodeId: every way of cutting it is tried, so their number is bounded
LINEAGE_FORMS = "job:<namespace>:<name> or dataset:<namespace>:<name>"
COLUMN_FORMS = "dataset:<namespace>:<name>, datasetField:<namespace>:<dataset>:<field> or job:<namespace>:<name>"


class NodeIdError(ValueError):
    """A nodeId the service cannot read (400)."""


class NodeNotFound(LookupError):
    """A well-formed nodeId naming nothing in the store (404)."""


@contextmanager
def paused_gc():
    """No cyclic garbage collection while a big answer is built: it holds no cycles, and with tens of
    thousands of new dicts the collector's passes cost a third of the time. Reference counting still frees
    everything; the collector is back on (if it was on) when the block ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def to_json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Node:
    kind: str  # job, dataset, datasetField
    id: int  # the job's or dataset's id in the store
    field: str | None = None


def job_node_id(namespace: str, name: str) -> str:
    return f"job:{namespace}:{name}"


def dataset_node_id(namespace: str, name: str) -> str:
    return f"dataset:{namespace}:{name}"


def field_node_id(namespace: str, dataset: str, field: str) -> str:
    return f"datasetField:{namespace}:{dataset}:{field}"


def chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def among(conn: Connection, column, values: list[Any]):
    """``column IN (values)``; on PostgreSQL ``= ANY(array)``, one parameter instead of hundreds, which the
    server plans many times faster."""
    if conn.dialect.name == "postgresql":  # text[] rather than varchar(n)[]: a cast would cut longer values
        return column == any_(bindparam(None, values, type_=ARRAY(String() if isinstance(column.type, String)
                                                                   else column.type)))
    return column.in_(values)


def _splits(text: str) -> list[tuple[str, str]]:
    """Every way to cut ``text`` in two at a colon, both parts non-empty."""
    return [(text[:i], text[i + 1:]) for i, c in enumerate(text) if c == ":" and 0 < i < len(text) - 1]


# -- nodeIds ----------------------------------------------------------------------------------

def resolve(conn: Connection, node_id: str, kinds: Sequence[str]) -> Node:
    """The job, dataset or field a nodeId names.

    Namespaces and names may hold colons themselves (``postgres://host:5432``), so every way of
    cutting the nodeId is tried against the store; if several name something, the longest
    namespace wins.
    """
    forms = COLUMN_FORMS if "datasetField" in kinds else LINEAGE_FORMS
    kind, _, rest = node_id.partition(":")
    if kind not in kinds or not rest:
        raise NodeIdError(f"nodeId {node_id!r} is not of the form {forms}")
    if rest.count(":") > MAX_COLONS:
        raise NodeIdError(f"nodeId holds more than {MAX_COLONS} colons")
    if "\x00" in rest:
        raise NodeIdError("nodeId holds a NUL character")
    if kind in ("job", "dataset"):
        splits = _splits(rest)
        if not splits:
            raise NodeIdError(f"nodeId {node_id!r} is not of the form {forms}")
        found = _named(conn, jobs if kind == "job" else datasets, splits)
        if not found:
            raise NodeNotFound(f"no {kind} {rest!r} (namespace:name) is known")
        return Node(kind, found[max(found, key=lambda pair: len(pair[0]))])
    # datasetField: namespace, dataset and field, cut at two colons
    triples = [(ns, ds, field) for ns, remainder in _splits(rest) for ds, field in _splits(remainder)]
    if not triples:
        raise NodeIdError(f"nodeId {node_id!r} is not of the form {forms}")
    found = _named(conn, datasets, {(ns, ds) for ns, ds, _ in triples})
    candidates = [(ns, found[(ns, ds)], field) for ns, ds, field in triples if (ns, ds) in found]
    for ns, dataset_id, field in sorted(candidates, key=lambda c: -len(c[0])):
        if _field_exists(conn, dataset_id, field):
            return Node("datasetField", dataset_id, field)
    raise NodeNotFound(f"no dataset field {rest!r} (namespace:dataset:field) is known")


def _named(conn: Connection, table, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Ids of the jobs or datasets among (namespace, name) pairs (soft-deleted ones are not named)."""
    pairs = set(pairs)
    found = {}
    for chunk in chunks({name for _, name in pairs}):
        for row_id, namespace, name in conn.execute(select(table.c.id, table.c.namespace, table.c.name)
                                                    .where(among(conn, table.c.name, chunk),
                                                           table.c.is_hidden.is_(False))):
            if (namespace, name) in pairs:
                found[(namespace, name)] = row_id
    return found


def _field_exists(conn: Connection, dataset_id: int, field: str) -> bool:
    """A field is known from the dataset's schema or from column lineage naming it."""
    queries = (
        select(dataset_fields.c.name).where(dataset_fields.c.dataset_id == dataset_id, dataset_fields.c.name == field),
        select(field_lineage.c.id).where(field_lineage.c.output_dataset_id == dataset_id,
                                         field_lineage.c.output_field == field),
        select(field_lineage.c.id).where(field_lineage.c.input_dataset_id == dataset_id,
                                         field_lineage.c.input_field == field),
    )
    return any(conn.execute(query.limit(1)).first() is not None for query in queries)


def hidden_ids(conn: Connection, table) -> set[int]:
    """Ids of the soft-deleted jobs or datasets: graphs leave them out, and do not walk through them."""
    return set(conn.execute(select(table.c.id).where(table.c.is_hidden.is_(True))).scalars())


# -- /lineage ---------------------------------------------------------------------------------

def _lineage(conn: Connection, node_id: str, depth: int) -> tuple[list[dict], dict[int, str]]:
    node = resolve(conn, node_id, ("job", "dataset"))
    start = node.id if node.kind == "job" else _job_of_dataset(conn, node.id)
    io: dict[int, dict[str, list[int]]] = {}
    if start is not None:
        hidden_jobs, hidden_datasets = hidden_ids(conn, jobs), hidden_ids(conn, datasets)
        seen, frontier, expanded = {start}, [start], set()
        for level in range(depth + 1):
            new_datasets: set[int] = set()
            for chunk in chunks(frontier):
                for job_id, dataset_id, direction in conn.execute(
                        select(job_io.c.job_id, job_io.c.dataset_id, job_io.c.direction)
                        .where(among(conn, job_io.c.job_id, chunk))):
                    if dataset_id in hidden_datasets:
                        continue
                    io.setdefault(job_id, {"INPUT": [], "OUTPUT": []})[direction].append(dataset_id)
                    if dataset_id not in expanded:
                        new_datasets.add(dataset_id)
            for job_id in frontier:
                io.setdefault(job_id, {"INPUT": [], "OUTPUT": []})
            if level == depth:
                break
            expanded |= new_datasets
            frontier = []
            for chunk in chunks(new_datasets):
                for (job_id,) in conn.execute(select(job_io.c.job_id)
                                              .where(among(conn, job_io.c.dataset_id, chunk))):
                    if job_id not in seen and job_id not in hidden_jobs:
                        seen.add(job_id)
                        frontier.append(job_id)
            if not frontier:
                break
    dataset_ids = {i for sides in io.values() for ids in sides.values() for i in ids}
    if node.kind == "dataset":
        dataset_ids.add(node.id)
    return lineage_nodes(conn, io, dataset_ids)


def lineage_graph(conn: Connection, node_id: str, depth: int) -> dict[str, Any]:
    """Marquez's ``LineageGraph`` around a job or dataset nodeId."""
    nodes, fields = _lineage(conn, node_id, depth)
    for node in nodes:
        if node["type"] == "DATASET" and isinstance(node["data"]["fields"], RawFields):
            node["data"]["fields"] = json.loads(fields[node["data"]["fields"].dataset_id])
    return {"graph": nodes}


def lineage_graph_json(conn: Connection, node_id: str, depth: int) -> bytes:
    """The same graph as JSON, the fields of datasets spliced in as the database wrote them."""
    return graph_json(*_lineage(conn, node_id, depth))


def graph_json(nodes: list[dict], fields: dict[int, str]) -> bytes:
    """``{"graph": nodes}`` as JSON, each dataset's ``RawFields`` replaced by the JSON text in ``fields``."""
    text = json.dumps({"graph": nodes}, ensure_ascii=False, separators=(",", ":"), default=RawFields.placeholder)
    return _PLACEHOLDER.sub(lambda match: fields[int(match.group(1))], text).encode()


def _job_of_dataset(conn: Connection, dataset_id: int) -> int | None:
    """The job a dataset's graph starts from: its newest writer, else its newest reader (as Marquez)."""
    rows = conn.execute(select(job_io.c.job_id, job_io.c.direction, jobs.c.latest_run_time)
                        .join(jobs, jobs.c.id == job_io.c.job_id)
                        .where(job_io.c.dataset_id == dataset_id, jobs.c.is_hidden.is_(False))).all()
    if not rows:
        return None
    newest = max(rows, key=lambda r: (r.direction == "OUTPUT", _sortable_time(r.latest_run_time), r.job_id))
    return newest.job_id


def _sortable_time(value: Any) -> str:
    return iso(value) or ""


def _raw_time(column):
    """A timestamp column read as the driver gives it: no parsing into datetime (see ``_ts``)."""
    return type_coerce(column, String).label(column.name)


def _ts(value: Any) -> str | None:
    """Marquez's timestamp format from a raw value: SQLite's stored text (UTC) or a datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":  # "YYYY-MM-DD HH:MM:SS.ffffff": how SQLite holds them
            text = value[:10] + "T" + value[11:]
            return (text[:-7] if text.endswith(".000000") else text) + "Z"
        value = _datetime(value)
    return iso(value)


def _datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


_JOB_COLUMNS = (jobs.c.id, jobs.c.namespace, jobs.c.name, jobs.c.simple_name, jobs.c.parent_job_name, jobs.c.type,
                jobs.c.location, jobs.c.description, jobs.c.current_version, jobs.c.latest_run_uuid,
                _raw_time(jobs.c.created_at), _raw_time(jobs.c.updated_at))
_DATASET_COLUMNS = (datasets.c.id, datasets.c.namespace, datasets.c.name, datasets.c.type, datasets.c.source_name,
                    datasets.c.description, datasets.c.current_version, datasets.c.last_lifecycle_state,
                    _raw_time(datasets.c.created_at), _raw_time(datasets.c.updated_at),
                    _raw_time(datasets.c.last_modified_at))


def lineage_nodes(conn: Connection, io: dict[int, dict[str, list[int]]], dataset_ids: set[int]) -> list[dict]:
    job_rows = {}
    for chunk in chunks(io):
        for row in conn.execute(select(*_JOB_COLUMNS).where(among(conn, jobs.c.id, chunk))):
            job_rows[row[0]] = row
    dataset_rows = {}
    for chunk in chunks(dataset_ids):
        for row in conn.execute(select(*_DATASET_COLUMNS).where(among(conn, datasets.c.id, chunk))):
            dataset_rows[row[0]] = row
    tags = _tags(conn, dataset_ids)
    tagged = {dataset_id for dataset_id, field in tags if field}
    fields_json = _fields_json(conn, dataset_ids - tagged)
    fields = _fields(conn, tagged | {i for i in dataset_ids - tagged if i not in fields_json}, tags)
    latest = _latest_runs(conn, job_rows.values())
    parents = _parent_ids(conn, job_rows.values())

    dataset_key = {i: dataset_node_id(r[1], r[2]) for i, r in dataset_rows.items()}
    dataset_ref = {i: {"namespace": r[1], "name": r[2]} for i, r in dataset_rows.items()}
    producers: dict[int, list[str]] = defaultdict(list)
    consumers: dict[int, list[str]] = defaultdict(list)
    nodes = []
    for job_id, (_, namespace, name, simple, parent, type_, location, description, version, run_uuid,
                 created, updated) in job_rows.items():
        key = job_node_id(namespace, name)
        inputs = sorted(set(io[job_id]["INPUT"]), key=dataset_key.__getitem__)
        outputs = sorted(set(io[job_id]["OUTPUT"]), key=dataset_key.__getitem__)
        for dataset_id in inputs:
            consumers[dataset_id].append(key)
        for dataset_id in outputs:
            producers[dataset_id].append(key)
        nodes.append({
            "id": key,
            "type": "JOB",
            "data": {
                "id": {"namespace": namespace, "name": name}, "type": type_, "name": name, "simpleName": simple,
                "parentJobName": parent, "parentJobUuid": _job_uuid(parents.get((namespace, parent))),
                "createdAt": _ts(created), "updatedAt": _ts(updated), "namespace": namespace,
                "inputs": [dataset_ref[i] for i in inputs], "outputs": [dataset_ref[i] for i in outputs],
                "location": location, "context": {}, "description": description,
                "latestRun": latest.get(run_uuid), "currentVersion": version,
            },
            "inEdges": [{"origin": dataset_key[i], "destination": key} for i in inputs],
            "outEdges": [{"origin": key, "destination": dataset_key[i]} for i in outputs],
        })
    for dataset_id, (_, namespace, name, type_, source, description, version, lifecycle, created, updated,
                     modified) in dataset_rows.items():
        key = dataset_key[dataset_id]
        nodes.append({
            "id": key,
            "type": "DATASET",
            "data": {
                "id": dataset_ref[dataset_id], "type": type_, "name": name, "physicalName": name,
                "createdAt": _ts(created), "updatedAt": _ts(updated), "namespace": namespace,
                "sourceName": source,
                "fields": RawFields(dataset_id) if dataset_id in fields_json else fields.get(dataset_id, []),
                "tags": tags.get((dataset_id, ""), []),
                "lastModifiedAt": _ts(modified), "lastLifecycleState": lifecycle, "description": description,
                "currentVersion": version, "deleted": False,
            },
            "inEdges": [{"origin": job, "destination": key} for job in sorted(producers[dataset_id])],
            "outEdges": [{"origin": key, "destination": job} for job in sorted(consumers[dataset_id])],
        })
    nodes.sort(key=lambda n: n["id"])
    return nodes, fields_json


class RawFields:
    """Where a dataset's fields go, as JSON text the database built (see ``_fields_json``)."""

    __slots__ = ("dataset_id",)
    token = uuid.uuid4().hex  # placeholders are control characters and this token: no real value looks alike

    def __init__(self, dataset_id: int):
        self.dataset_id = dataset_id

    def placeholder(self) -> str:
        return f"\x00{self.token}:{self.dataset_id}"


_PLACEHOLDER = re.compile(r'"\\u0000' + RawFields.token + r':(\d+)"')


def _tags(conn: Connection, dataset_ids: Iterable[int]) -> dict[tuple[int, str], list[str]]:
    """Tags per (dataset id, field); field "" for the dataset's own tags."""
    tags: dict[tuple[int, str], list[str]] = defaultdict(list)
    for chunk in chunks(dataset_ids):
        for dataset_id, field, tag in conn.execute(
                select(dataset_tags.c.dataset_id, dataset_tags.c.field, dataset_tags.c.tag)
                .where(among(conn, dataset_tags.c.dataset_id, chunk)).order_by(dataset_tags.c.tag)):
            tags[(dataset_id, field)].append(tag)
    return tags


def _fields(conn: Connection, dataset_ids: Iterable[int], tags: dict) -> dict[int, list[dict[str, Any]]]:
    """Fields per dataset id, in schema order, with their tags."""
    fields: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for chunk in chunks(dataset_ids):
        for dataset_id, name, type_, description in conn.execute(
                select(dataset_fields.c.dataset_id, dataset_fields.c.name, dataset_fields.c.type,
                       dataset_fields.c.description)
                .where(among(conn, dataset_fields.c.dataset_id, chunk))
                .order_by(dataset_fields.c.dataset_id, dataset_fields.c.position)):
            fields[dataset_id].append({"name": name, "type": type_, "tags": tags.get((dataset_id, name), []),
                                       "description": description})
    return fields


def _fields_json(conn: Connection, dataset_ids: Iterable[int]) -> dict[int, str]:
    """The fields of untagged datasets as JSON arrays built by the database: for big graphs, many times faster
    than rows turned into dicts and back into JSON. A dataset whose fields SQLite did not keep in schema order
    (it promises no order within a group) is left out, for ``_fields`` to read."""
    f = dataset_fields.c
    found: dict[int, str] = {}
    postgres = conn.dialect.name == "postgresql"
    for chunk in chunks(dataset_ids):
        if postgres:
            field = func.json_build_object("name", f.name, "type", f.type, "tags", func.json_build_array(),
                                           "description", f.description)
            statement = (select(f.dataset_id, cast(func.json_agg(aggregate_order_by(field, f.position)), Text),
                                null()).where(among(conn, f.dataset_id, chunk)).group_by(f.dataset_id))
        else:
            statement = _SQLITE_FIELDS.bindparams(ids=chunk)
        for dataset_id, fields, positions in conn.execute(statement):
            if postgres or positions == _positions(positions.count(",") + 1):
                found[dataset_id] = fields
    return found


# Read through the (dataset_id, position) index, so that each group comes in schema order.
_SQLITE_FIELDS = text(
    "SELECT dataset_id, json_group_array(json_object('name', name, 'type', type, 'tags', json_array(), "
    "'description', description)), group_concat(position, ',') "
    "FROM dataset_fields INDEXED BY ix_dataset_fields_position WHERE dataset_id IN :ids GROUP BY dataset_id"
).bindparams(bindparam("ids", expanding=True))


@lru_cache(maxsize=256)
def _positions(count: int) -> str:
    return ",".join(str(i) for i in range(count))


def _latest_runs(conn: Connection, job_rows: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """The latest run of each job as Marquez's lineage gives it: every key of a ``Run``, but no facets and no
    dataset versions (Marquez reads the bare runs row there)."""
    names = {row.latest_run_uuid: (row.namespace, row.name) for row in job_rows if row.latest_run_uuid}
    found = {}
    columns = (runs.c.uuid, runs.c.state, runs.c.job_version_uuid, runs.c.parent_run_uuid,
               _raw_time(runs.c.created_at), _raw_time(runs.c.updated_at), _raw_time(runs.c.nominal_start_time),
               _raw_time(runs.c.nominal_end_time), _raw_time(runs.c.started_at), _raw_time(runs.c.ended_at))
    for chunk in chunks(names):
        rows = conn.execute(select(*columns).where(among(conn, runs.c.uuid, chunk)))
        for run_uuid, state, version, parent, created, updated, nominal_start, nominal_end, started, ended in rows:
            duration = None
            if started is not None and ended is not None:
                duration = int((_datetime(ended) - _datetime(started)).total_seconds() * 1000)
            namespace, name = names[run_uuid]
            found[run_uuid] = {
                "id": run_uuid, "createdAt": _ts(created), "updatedAt": _ts(updated),
                "nominalStartTime": _ts(nominal_start), "nominalEndTime": _ts(nominal_end), "state": state,
                "startedAt": _ts(started), "endedAt": _ts(ended), "durationMs": duration, "args": {},
                "jobVersion": {"namespace": namespace, "name": name, "version": version} if version else None,
                "inputDatasetVersions": [], "outputDatasetVersions": [], "context": {}, "facets": {},
                "parentRunUuid": parent,
            }
    return found


def _parent_ids(conn: Connection, job_rows: Iterable[Any]) -> dict[tuple[str, str], int]:
    return _named(conn, jobs, {(row.namespace, row.parent_job_name) for row in job_rows if row.parent_job_name})


# -- /column-lineage --------------------------------------------------------------------------

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


def field_nodes(conn: Connection, keys: set[FieldKey], edges: dict) -> list[dict[str, Any]]:
    dataset_ids = {dataset_id for dataset_id, _ in keys}
    names, versions = {}, {}
    for chunk in chunks(dataset_ids):
        for row in conn.execute(select(datasets.c.id, datasets.c.namespace, datasets.c.name,
                                       datasets.c.current_version).where(among(conn, datasets.c.id, chunk))):
            names[row.id] = (row.namespace, row.name)
            versions[row.id] = row.current_version
    types: dict[FieldKey, str | None] = {}
    for chunk in chunks(dataset_ids):
        for dataset_id, name, type_ in conn.execute(
                select(dataset_fields.c.dataset_id, dataset_fields.c.name, dataset_fields.c.type)
                .where(among(conn, dataset_fields.c.dataset_id, chunk))):
            types[(dataset_id, name)] = type_
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
            strongest = _strongest(transformations)
            inputs.append({
                "namespace": input_namespace, "dataset": input_dataset,
                "datasetVersion": read_versions.get((versions.get(field[0]), input_[0])),
                "field": input_[1],
                "transformationDescription": strongest.get("description"),
                "transformationType": strongest.get("type"),
                "transformations": transformations,
            })
        strongest = _strongest([t for entry in edges.get(field, {}).values() for t in entry])
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


def _strongest(transformations: list[dict[str, Any]]) -> dict[str, Any]:
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
