"""``/lineage`` as Marquez answers it: jobs and datasets around a job or dataset nodeId.

The walk goes breadth first, one batched query (an IN list) per frontier, on the indexed table
``job_io``; nothing is cached, so a graph always shows every committed event. A graph of a thousand
datasets is megabytes of JSON, mostly their fields: the database writes those as JSON itself, spliced
into the answer unparsed (``lineage_graph_json``).

As in Marquez, the walk goes from job to job, two jobs being neighbours when they share a dataset (as
input or output, so two readers of one table are neighbours too); ``depth`` counts these job steps. The
graph holds the jobs reached and every input and output of each. A dataset node starts from the job that
writes it (else one that reads it); a dataset no current job touches is a graph of that dataset alone.
Node ids: ``node_ids.py``; ``/column-lineage``: ``column_lineage.py``.
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

from sqlalchemy import String, Text, bindparam, cast, func, null, select, text, type_coerce
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection

from lineage_audit.service.db import (
    dataset_fields,
    dataset_tags,
    datasets,
    job_io,
    jobs,
    runs,
)
from lineage_audit.service.node_ids import among, chunks, dataset_node_id, hidden_ids, job_node_id, named, resolve
from lineage_audit.service.views import _job_uuid, iso


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


@dataclass
class GraphRows:
    """What the nodes of a lineage graph are made of: rows of jobs and datasets (``_JOB_COLUMNS``,
    ``_DATASET_COLUMNS``), tags, fields (as JSON the database built, or as lists), latest runs and parent jobs."""

    jobs: dict[int, Any]
    datasets: dict[int, Any]
    tags: dict[tuple[int, str], list[str]]
    fields_json: dict[int, str]
    fields: dict[int, list[dict[str, Any]]]
    latest: dict[str, dict[str, Any]]
    parents: dict[tuple[str, str], int]


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
    rows = GraphRows(job_rows, dataset_rows, tags, fields_json, fields, _latest_runs(conn, job_rows.values()),
                     _parent_ids(conn, job_rows.values()))
    return build_lineage_nodes(io, rows), fields_json


def build_lineage_nodes(io: dict[int, dict[str, Iterable[int]]], rows: GraphRows) -> list[dict]:
    """The nodes of a lineage graph: its jobs with the datasets of ``io``, and its datasets."""
    dataset_key = {i: dataset_node_id(r[1], r[2]) for i, r in rows.datasets.items()}
    dataset_ref = {i: {"namespace": r[1], "name": r[2]} for i, r in rows.datasets.items()}
    producers: dict[int, list[str]] = defaultdict(list)
    consumers: dict[int, list[str]] = defaultdict(list)
    nodes = []
    for job_id, (_, namespace, name, simple, parent, type_, location, description, version, run_uuid,
                 created, updated) in rows.jobs.items():
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
                "parentJobName": parent, "parentJobUuid": _job_uuid(rows.parents.get((namespace, parent))),
                "createdAt": _ts(created), "updatedAt": _ts(updated), "namespace": namespace,
                "inputs": [dataset_ref[i] for i in inputs], "outputs": [dataset_ref[i] for i in outputs],
                "location": location, "context": {}, "description": description,
                "latestRun": rows.latest.get(run_uuid), "currentVersion": version,
            },
            "inEdges": [{"origin": dataset_key[i], "destination": key} for i in inputs],
            "outEdges": [{"origin": key, "destination": dataset_key[i]} for i in outputs],
        })
    for dataset_id, (_, namespace, name, type_, source, description, version, lifecycle, created, updated,
                     modified) in rows.datasets.items():
        key = dataset_key[dataset_id]
        nodes.append({
            "id": key,
            "type": "DATASET",
            "data": {
                "id": dataset_ref[dataset_id], "type": type_, "name": name, "physicalName": name,
                "createdAt": _ts(created), "updatedAt": _ts(updated), "namespace": namespace,
                "sourceName": source,
                "fields": RawFields(dataset_id) if dataset_id in rows.fields_json else rows.fields.get(dataset_id, []),
                "tags": rows.tags.get((dataset_id, ""), []),
                "lastModifiedAt": _ts(modified), "lastLifecycleState": lifecycle, "description": description,
                "currentVersion": version, "deleted": False,
            },
            "inEdges": [{"origin": job, "destination": key} for job in sorted(producers[dataset_id])],
            "outEdges": [{"origin": key, "destination": job} for job in sorted(consumers[dataset_id])],
        })
    nodes.sort(key=lambda n: n["id"])
    return nodes


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
    """The latest run of each job as Marquez's lineage gives it (see ``run_summary``)."""
    names = {row.latest_run_uuid: (row.namespace, row.name) for row in job_rows if row.latest_run_uuid}
    found = {}
    columns = (runs.c.uuid, runs.c.state, runs.c.job_version_uuid, runs.c.parent_run_uuid,
               _raw_time(runs.c.created_at), _raw_time(runs.c.updated_at), _raw_time(runs.c.nominal_start_time),
               _raw_time(runs.c.nominal_end_time), _raw_time(runs.c.started_at), _raw_time(runs.c.ended_at))
    for chunk in chunks(names):
        for row in conn.execute(select(*columns).where(among(conn, runs.c.uuid, chunk))):
            found[row[0]] = run_summary(row, *names[row[0]])
    return found


def run_summary(row: Sequence[Any], namespace: str, name: str) -> dict[str, Any]:
    """A run as Marquez's lineage gives a job's latest run: every key of a ``Run``, but no facets and no dataset
    versions (Marquez reads the bare runs row there). ``row``: uuid, state, job version, parent run, then the
    created, updated, nominal start and end, started and ended times."""
    run_uuid, state, version, parent, created, updated, nominal_start, nominal_end, started, ended = row
    duration = None
    if started is not None and ended is not None:
        duration = int((_datetime(ended) - _datetime(started)).total_seconds() * 1000)
    return {
        "id": run_uuid, "createdAt": _ts(created), "updatedAt": _ts(updated),
        "nominalStartTime": _ts(nominal_start), "nominalEndTime": _ts(nominal_end), "state": state,
        "startedAt": _ts(started), "endedAt": _ts(ended), "durationMs": duration, "args": {},
        "jobVersion": {"namespace": namespace, "name": name, "version": version} if version else None,
        "inputDatasetVersions": [], "outputDatasetVersions": [], "context": {}, "facets": {},
        "parentRunUuid": parent,
    }


def _parent_ids(conn: Connection, job_rows: Iterable[Any]) -> dict[tuple[str, str], int]:
    return named(conn, jobs, {(row.namespace, row.parent_job_name) for row in job_rows if row.parent_job_name})
