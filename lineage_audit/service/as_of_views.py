"""Job detail, dataset detail and dataset versions as of a moment T, in the shapes of
:mod:`~lineage_audit.service.views` (see :mod:`~lineage_audit.service.as_of` for what "as of T" reads).

A job or dataset that existed at T (its first event at or before T) answers, even if soft-deleted since; one
that did not is a 404. Tags are not events: they are today's.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable, Mapping

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.engine import Connection, RowMapping

from lineage_audit.service.as_of import RunsAt, aware, recompute_runs
from lineage_audit.service.as_of_columns import ColumnsAt
from lineage_audit.service.db import dataset_tags, dataset_versions, datasets, facets, jobs, run_io, runs
from lineage_audit.service.derived_values import schema_fields, version_uuid
from lineage_audit.service.lookups import namespace_row
from lineage_audit.service.views import (
    column_lineage_shape, dataset_versions_view, datasets_view, iso, jobs_view, runs_view)

LATEST_RUNS = 10  # as ``jobs_view`` gives them
FACET_RUNS = 20  # runs searched, newest first, for a job facet whose stored value is newer than T


def job_row_at(conn: Connection, namespace: str, job: str, at: datetime) -> Any:
    namespace_row(conn, namespace)
    row = conn.execute(select(jobs).where(jobs.c.namespace == namespace, jobs.c.name == job,
                                          jobs.c.created_at <= at)).first()
    if row is None:
        raise HTTPException(404, f"Job '{job}' not found in namespace '{namespace}' as of {iso(at)}.")
    return row


def dataset_row_at(conn: Connection, namespace: str, dataset: str, at: datetime) -> RowMapping:
    """The dataset named so (or with the leading slash a merged ``//`` lost) that existed at ``at``."""
    namespace_row(conn, namespace)
    for name in (dataset, "/" + dataset) if not dataset.startswith("/") else (dataset,):
        row = conn.execute(select(datasets).where(datasets.c.namespace == namespace, datasets.c.name == name,
                                                  datasets.c.created_at <= at)).mappings().first()
        if row is not None:
            return row
    raise HTTPException(404, f"Dataset '{dataset}' not found in namespace '{namespace}' as of {iso(at)}.")


def runs_view_at(conn: Connection, runs_at: RunsAt, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``views.runs_view`` of runs as of T: a run straddling T with the state, facets and datasets of its events
    up to T."""
    as_of = runs_at.rows_at(rows)
    found = runs_view(conn, as_of)
    for row, view in zip(as_of, found):
        run = runs_at.recomputed.get(row["uuid"])
        if run is None:
            continue
        view["facets"] = {name: value for name, (_t, value) in sorted(run.facets.items())}
        read = {(v["datasetVersionId"]["namespace"], v["datasetVersionId"]["name"]): v["datasetVersionId"]["version"]
                for v in view["inputDatasetVersions"]}
        for direction, key in (("INPUT", "inputDatasetVersions"), ("OUTPUT", "outputDatasetVersions")):
            view[key] = [{"datasetVersionId": {"namespace": ns, "name": name,
                                               "version": read.get((ns, name)) if direction == "INPUT"
                                               else version_uuid(ns, name, row["uuid"])},
                          "facets": {n: v for n, (_t, v) in sorted(io_facets.items())}}
                         for ((ns, name), side), io_facets in sorted(run.io.items()) if side == direction]
    return found


def job_view_at(conn: Connection, row: Any, at: datetime) -> dict[str, Any]:
    """``views.job_view`` as of T: the job's edges, runs, facets and current version then."""
    graph = ColumnsAt(conn, at)
    view = jobs_view(conn, [row._mapping], latest_runs=0)[0]
    io = graph.runs.job_edges([row.id])[row.id]
    names = {r.id: {"namespace": r.namespace, "name": r.name} for r in conn.execute(
        select(datasets.c.id, datasets.c.namespace, datasets.c.name).where(datasets.c.id.in_(io["INPUT"] | io["OUTPUT"])))}
    recent = list(conn.execute(select(runs).where(runs.c.job_id == row.id, runs.c.created_at <= at)
                               .order_by(runs.c.created_at.desc(), runs.c.uuid).limit(LATEST_RUNS)).mappings())
    latest = runs_view_at(conn, graph.runs, recent)
    newest = graph.runs.latest_runs([row.id])[row.id]
    updated = row.updated_at if aware(row.updated_at) <= at else max(
        [aware(row.created_at)] + ([aware(newest["updated_at"])] if newest else []))
    view.update(inputs=sorted((names[i] for i in io["INPUT"]), key=lambda d: (d["namespace"], d["name"])),
                outputs=sorted((names[i] for i in io["OUTPUT"]), key=lambda d: (d["namespace"], d["name"])),
                latestRun=latest[0] if latest else None, latestRuns=latest, updatedAt=iso(aware(updated)),
                facets=_job_facets_at(conn, row.id, at), currentVersion=graph.current_versions({row.id: row})[row.id])
    return view


def _job_facets_at(conn: Connection, job_id: int, at: datetime) -> dict[str, Any]:
    """The job's facets as of T: per name, the stored (newest) value when it is not newer than T, else the newest
    up to T in the events of its newest runs."""
    found, later = {}, set()
    for name, t, value in conn.execute(select(facets.c.name, facets.c.event_time, facets.c.value).where(
            facets.c.owner_kind == "job", facets.c.owner_key == str(job_id))):
        if aware(t) <= at:
            found[name] = value
        else:
            later.add(name)
    if later:
        recent = conn.execute(select(runs.c.uuid).where(runs.c.job_id == job_id, runs.c.created_at <= at)
                              .order_by(runs.c.created_at.desc()).limit(FACET_RUNS)).scalars().all()
        older: dict[str, tuple[datetime, Any]] = {}
        for run in recompute_runs(conn, at, recent).values():
            for name, (t, value) in run.job_facets.items():
                if name in later and (name not in older or t >= older[name][0]):
                    older[name] = (t, value)
        found |= {name: value for name, (_t, value) in older.items()}
    return dict(sorted(found.items()))


def _dataset_at(conn: Connection, row: RowMapping, at: datetime) -> ColumnsAt:
    """The dataset's versions as of T; a 404 when its current version then dropped it (as Marquez deletes it)."""
    graph = ColumnsAt(conn, at)
    graph.datasets.load([row["id"]])
    graph.datasets.read_versions([row["id"]])
    if graph.datasets.dropped(row["id"]):
        raise HTTPException(404, f"Dataset '{row['name']}' not found in namespace '{row['namespace']}' as of "
                                 f"{iso(at)}: its current version then dropped it.")
    return graph


def dataset_view_at(conn: Connection, row: RowMapping, at: datetime) -> dict[str, Any]:
    """``views.dataset_view`` as of T: current version, fields, facets and column lineage then."""
    graph = _dataset_at(conn, row, at)
    as_of = graph.datasets.row_at(row["id"])
    view = datasets_view(conn, [as_of | {c: aware(as_of[c]) for c in ("created_at", "updated_at", "last_modified_at")}])[0]
    if not graph.datasets.changed_since(row["id"]):
        return view
    tags: dict[str, list[str]] = {}
    for field, tag in conn.execute(select(dataset_tags.c.field, dataset_tags.c.tag).where(
            dataset_tags.c.dataset_id == row["id"])):
        tags.setdefault(field, []).append(tag)
    view["fields"] = [{"name": f["name"], "type": f["type"], "tags": sorted(tags.get(f["name"], [])),
                       "description": f["description"]} for f in graph.datasets.fields(row["id"])]
    view["facets"] = graph.datasets.facets(row["id"])
    lineage = graph.lineage_rows([row["id"]])
    names = {r.id: (r.namespace, r.name) for r in conn.execute(select(datasets.c.id, datasets.c.namespace,
                                                                      datasets.c.name).where(
        datasets.c.id.in_({r[2] for r in lineage})))}
    shaped = column_lineage_shape([{
        "output_dataset_id": r[0], "output_field": r[1], "namespace": names[r[2]][0], "name": names[r[2]][1],
        "input_field": r[3], "transformation_type": r[4], "transformation_subtype": r[5],
        "transformation_description": r[6], "masking": r[7]} for r in lineage], [row["id"]])
    view["columnLineage"] = shaped.get(row["id"]) or None
    return view


def dataset_versions_at(conn: Connection, row: RowMapping, at: datetime, limit: int, offset: int) -> dict[str, Any]:
    """The versions the dataset had at T, newest first, each with its facets and its run as of T."""
    graph = _dataset_at(conn, row, at)
    ordered = sorted(graph.datasets.versions[row["id"]], key=lambda v: v["uuid"])
    ordered.sort(key=lambda v: v["seen"], reverse=True)
    page = [v["uuid"] for v in ordered[offset:offset + limit]]
    found = {r["uuid"]: r for r in conn.execute(select(dataset_versions).where(
        dataset_versions.c.uuid.in_(page))).mappings()} if page else {}
    versions = dataset_versions_view(conn, graph.datasets.row_at(row["id"]), [found[u] for u in page],
                                     lambda rows: runs_view_at(conn, graph.runs, rows))
    timed = _version_facets_at(conn, graph, row, page)
    for version in versions:  # a writer straddling T: its version's fields of its events up to T
        version["facets"] = timed.get(version["version"], {})
        run = graph.runs.recomputed.get((version["createdByRun"] or {}).get("id"))
        written = run.dataset_facets.get(((row["namespace"], row["name"]), "OUTPUT"), {}) if run else {}
        schema = written.get("schema", (None, None))[1]
        fields = schema_fields(schema) if isinstance(schema, dict) else None
        if fields is not None:
            version["fields"] = [{"name": f["name"], "type": f["type"], "tags": [], "description": f["description"]}
                                 for f in fields]
    return {"versions": versions, "totalCount": len(ordered)}


def _version_facets_at(conn: Connection, graph: ColumnsAt, row: RowMapping, versions: list[str]
                       ) -> dict[str, dict[str, Any]]:
    """``views._version_facets`` as of T: the writer's facets and those of the runs that read each version, carried
    by events up to T (a run straddling T: its events up to T), merged in event time order."""
    at, key = graph.at, (row["namespace"], row["name"])
    timed: dict[str, list[tuple[datetime, str, Any]]] = {v: [] for v in versions}
    for version, name, t, value in conn.execute(select(facets.c.owner_key, facets.c.name, facets.c.event_time,
                                                       facets.c.value).where(facets.c.owner_kind == "dataset_version",
                                                                             facets.c.owner_key.in_(versions))):
        timed[version].append((aware(t), name, value))
    readers = conn.execute(select(run_io.c.run_uuid, run_io.c.dataset_version_uuid, runs.c.updated_at)
                           .join(runs, runs.c.uuid == run_io.c.run_uuid)
                           .where(run_io.c.dataset_id == row["id"], run_io.c.direction == "INPUT",
                                  run_io.c.dataset_version_uuid.in_(versions), runs.c.created_at <= at)).all()
    read_by = {f"{run}:{row['id']}": version for run, version, _u in readers}
    for owner, name, t, value in conn.execute(select(facets.c.owner_key, facets.c.name, facets.c.event_time,
                                                     facets.c.value).where(facets.c.owner_kind == "read",
                                                                           facets.c.owner_key.in_(read_by))):
        timed[read_by[owner]].append((aware(t), name, value))
    straddling = [(run, version, "INPUT") for run, version, updated in readers if aware(updated) > at]
    straddling += [(v["run"], v["uuid"], "OUTPUT") for v in graph.datasets.versions[row["id"]]
                   if v["uuid"] in timed and v["run"] in graph.runs.recomputed]
    graph.runs.rows_at(conn.execute(select(runs).where(runs.c.uuid.in_({r for r, _v, _d in straddling}))).mappings())
    for run_id, version, direction in straddling:
        run = graph.runs.recomputed.get(run_id)
        timed[version] += [(t, name, value) for name, (t, value) in
                           (run.dataset_facets.get((key, direction), {}) if run else {}).items()]
    found = {}
    for version, entries in timed.items():
        merged = {name: value for t, name, value in sorted(
            (e for e in entries if e[0] <= at), key=lambda e: (e[0], e[1]))}
        found[version] = {name: json.loads(value) if isinstance(value, str) else value
                          for name, value in sorted(merged.items())}
    return found
