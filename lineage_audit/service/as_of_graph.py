"""``/lineage?asOf=T``: the jobs and datasets around a node as the events up to T described them.

The walk is ``graph.py``'s (job to job through shared datasets, ``depth`` job steps), over the edges each job
had as of T (:class:`~lineage_audit.service.as_of.RunsAt`) instead of ``job_io``: a dataset's jobs as of T
are among the jobs of the runs that read or wrote it by T (``run_io`` by dataset, indexed), the jobs of
its current edges and the jobs with JobEvents, each kept when its edges as of T hold the dataset. Jobs and
datasets soft-deleted since T are in the graph; a dataset whose current version as of T dropped it is not.
Nodes have the same shape as without ``asOf``, with values as of T (``as_of_datasets.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.engine import Connection

from lineage_audit.service.as_of import IO, RunsAt, aware
from lineage_audit.service.as_of_datasets import DatasetsAt
from lineage_audit.service.db import job_io, jobs, run_io, runs
from lineage_audit.service.derived_values import version_uuid
from lineage_audit.service.graph import (
    GraphRows, _fields, _fields_json, _parent_ids, _tags, build_lineage_nodes, graph_json, run_summary)
from lineage_audit.service.node_ids import among, chunks, resolve


class GraphAt:
    """The lineage graph's jobs and datasets as of a moment."""

    def __init__(self, conn: Connection, at: datetime):
        self.conn, self.at = conn, at
        self.runs = RunsAt(conn, at)
        self.datasets = DatasetsAt(conn, at, self.runs)

    def shown(self, dataset_ids: Iterable[int]) -> set[int]:
        """Those of the datasets that existed at T and that their current version then did not drop."""
        rows = self.datasets.load(dataset_ids)
        droppable = self.datasets.droppable(rows)
        self.datasets.read_versions(droppable)
        return {i for i in rows if i not in droppable or not self.datasets.dropped(i)}

    def jobs_of(self, dataset_ids: set[int]) -> dict[int, IO]:
        """The jobs whose edges as of T hold one of the datasets, with those edges."""
        candidates: set[int] = set(self.runs.declared())
        for chunk in chunks(dataset_ids):
            candidates.update(self.conn.execute(
                select(runs.c.job_id).join(run_io, run_io.c.run_uuid == runs.c.uuid)
                .where(among(self.conn, run_io.c.dataset_id, chunk), runs.c.created_at <= self.at).distinct())
                .scalars())
            candidates.update(self.conn.execute(select(job_io.c.job_id).where(
                among(self.conn, job_io.c.dataset_id, chunk)).distinct()).scalars())
        edges = self.runs.job_edges(sorted(candidates))
        return {job_id: io for job_id, io in edges.items() if (io["INPUT"] | io["OUTPUT"]) & dataset_ids}

    def start_of(self, dataset_id: int) -> int | None:
        """The job a dataset's graph starts from, as of T: its newest writer, else its newest reader."""
        found = self.jobs_of({dataset_id})
        if not found:
            return None
        latest = self.runs.latest_runs(found)

        def rank(job_id: int) -> tuple:
            run = latest.get(job_id)
            return dataset_id in found[job_id]["OUTPUT"], aware(run["updated_at"]) if run else self.at, job_id
        return max(found, key=rank)

    def walk(self, start: int | None, depth: int) -> dict[int, dict[str, list[int]]]:
        io: dict[int, dict[str, list[int]]] = {}
        if start is None:
            return io
        seen, frontier, expanded = {start}, [start], set()
        for level in range(depth + 1):
            edges = self.runs.job_edges(frontier)
            shown = self.shown({i for job_id in frontier for side in edges[job_id].values() for i in side})
            new_datasets: set[int] = set()
            for job_id in frontier:
                io[job_id] = {direction: sorted(ids & shown) for direction, ids in edges[job_id].items()}
                new_datasets |= {i for ids in io[job_id].values() for i in ids if i not in expanded}
            if level == depth:
                break
            expanded |= new_datasets
            frontier = sorted(job_id for job_id in self.jobs_of(new_datasets) if job_id not in seen)
            seen.update(frontier)
            if not frontier:
                break
        return io

    def rows(self, io: dict[int, dict[str, list[int]]], dataset_ids: set[int]) -> GraphRows:
        job_rows = {}
        for chunk in chunks(io):
            job_rows |= {row.id: row for row in self.conn.execute(select(jobs).where(among(self.conn, jobs.c.id, chunk)))}
        latest = self.runs.latest_runs(job_rows)
        versions = self.current_versions(job_rows)
        self.datasets.load(dataset_ids)
        self.datasets.read_versions(dataset_ids)
        self.datasets.touched(i for i in dataset_ids if self.datasets.changed_since(i))
        dataset_rows = {i: self.datasets.row_at(i) for i in dataset_ids}
        tags = _tags(self.conn, dataset_ids)
        unchanged = {i for i in dataset_ids if not self.datasets.changed_since(i)}
        tagged = {dataset_id for dataset_id, field in tags if field}
        fields_json = _fields_json(self.conn, unchanged - tagged)
        fields = _fields(self.conn, unchanged - set(fields_json), tags)
        for dataset_id in dataset_ids - unchanged:
            fields[dataset_id] = [{"name": f["name"], "type": f["type"], "tags": tags.get((dataset_id, f["name"]), []),
                                   "description": f["description"]} for f in self.datasets.fields(dataset_id)]
        summaries = {}
        for job_id, run in latest.items():
            if run is not None:
                row = job_rows[job_id]
                summaries[run["uuid"]] = run_summary(tuple(run[c] for c in _RUN_SUMMARY), row.namespace, row.name)
        return GraphRows({i: self._job_row(r, latest.get(i), versions.get(i)) for i, r in job_rows.items()},
                         {i: tuple(r[c] for c in _DATASET_ROW) for i, r in dataset_rows.items()},
                         tags, fields_json, fields, summaries, _parent_ids(self.conn, job_rows.values()))

    def _job_row(self, row: Any, run: dict[str, Any] | None, version: str | None) -> tuple:
        declared = self.runs.declared().get(row.id)
        updated = row.updated_at
        if aware(updated) > self.at:  # its newest event up to T: its latest run's, or its JobEvent's
            updated = max([aware(row.created_at)] + ([aware(run["updated_at"])] if run else [])
                          + ([declared[0]] if declared else []))
        return (row.id, row.namespace, row.name, row.simple_name, row.parent_job_name, row.type, row.location,
                row.description, version, run["uuid"] if run else None, row.created_at, updated)

    def current_versions(self, job_rows: dict[int, Any]) -> dict[int, str | None]:
        """Each job's current version as of T: its newest run finished by T's, or its newest JobEvent's when that
        is newer than its latest run (as the derivation decides it now)."""
        found: dict[int, str | None] = {}
        newest = runs.alias("newest")
        for chunk in chunks(job_rows):
            picked = (select(newest.c.job_version_uuid).where(
                newest.c.job_id == jobs.c.id, newest.c.created_at <= self.at, newest.c.ended_at <= self.at,
                newest.c.job_version_uuid.is_not(None))
                .order_by(newest.c.created_at.desc(), newest.c.uuid.desc()).limit(1).scalar_subquery())
            found |= dict(self.conn.execute(select(jobs.c.id, picked).where(among(self.conn, jobs.c.id, chunk))).all())
        latest = self.runs.latest_runs(job_rows)
        for job_id, (t, value) in self.runs.declared().items():
            run = latest.get(job_id)
            if job_id in job_rows and (run is None or t > aware(run["updated_at"])):
                row = job_rows[job_id]
                found[job_id] = version_uuid(row.namespace, row.name, value.get("inputs", []),
                                             value.get("outputs", []), value.get("location"))
        return found


_RUN_SUMMARY = ("uuid", "state", "job_version_uuid", "parent_run_uuid", "created_at", "updated_at",
                "nominal_start_time", "nominal_end_time", "started_at", "ended_at")
_DATASET_ROW = ("id", "namespace", "name", "type", "source_name", "description", "current_version",
                "last_lifecycle_state", "created_at", "updated_at", "last_modified_at")


def lineage_graph_json_at(conn: Connection, node_id: str, depth: int, at: datetime) -> bytes:
    """``graph.lineage_graph_json`` as of ``at``."""
    node = resolve(conn, node_id, ("job", "dataset"), at)
    graph = GraphAt(conn, at)
    start = node.id if node.kind == "job" else graph.start_of(node.id)
    io = graph.walk(start, depth)
    dataset_ids = {i for sides in io.values() for ids in sides.values() for i in ids}
    if node.kind == "dataset":
        dataset_ids.add(node.id)
    rows = graph.rows(io, dataset_ids)
    return graph_json(build_lineage_nodes(io, rows), rows.fields_json)
