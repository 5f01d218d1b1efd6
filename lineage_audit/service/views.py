"""The JSON shapes of Marquez's API (``../shared/marquez/openapi.yml``, Marquez 0.51), built from the store.

Each function takes an open connection and rows of the store and returns plain dicts, ready to be
sent as JSON. Lists are built in few queries: facets, fields and tags of many owners at once.
Lookups that answer 404 and paging are in :mod:`~lineage_audit.service.lookups`; the same shapes as
pydantic models, which only document the routes' responses, in :mod:`~lineage_audit.service.models`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from functools import partial
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, RowMapping

from lineage_audit.service.db import (
    dataset_fields,
    dataset_tags,
    dataset_versions,
    datasets,
    facets,
    field_lineage,
    job_io,
    job_tags,
    job_versions,
    jobs,
    run_io,
    runs,
)


def iso(value: datetime | None) -> str | None:
    """Marquez's timestamp format: UTC with a Z."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def facets_of(conn: Connection, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``{owner key: {facet name: facet}}`` for many owners of one kind."""
    keys = list(dict.fromkeys(str(k) for k in keys))
    found: dict[str, dict[str, Any]] = {k: {} for k in keys}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        rows = conn.execute(select(facets.c.owner_key, facets.c.name, facets.c.value).where(
            facets.c.owner_kind == kind, facets.c.owner_key.in_(chunk)).order_by(facets.c.name))
        for key, name, value in rows:
            found[key][name] = value
    return found


# -- namespaces and sources -------------------------------------------------------------------

def namespace_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": row["name"], "createdAt": iso(row["created_at"]), "updatedAt": iso(row["updated_at"]),
            "ownerName": row["owner_name"], "description": row["description"], "isHidden": bool(row["is_hidden"])}


def source_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": row["type"], "name": row["name"], "createdAt": iso(row["created_at"]),
            "updatedAt": iso(row["updated_at"]), "connectionUrl": row["connection_url"],
            "description": row["description"]}


# -- runs -------------------------------------------------------------------------------------

def runs_view(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    """Marquez ``Run`` objects, with their job version, dataset versions and facets."""
    if not rows:
        return []
    ids = [r["uuid"] for r in rows]
    run_facets = facets_of(conn, "run", ids)
    io: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {"INPUT": [], "OUTPUT": []})
    io_rows = list(conn.execute(select(run_io.c.run_uuid, run_io.c.direction, run_io.c.dataset_version_uuid,
                                       run_io.c.dataset_id, datasets.c.namespace, datasets.c.name)
                                .join(datasets, datasets.c.id == run_io.c.dataset_id)
                                .where(run_io.c.run_uuid.in_(ids))
                                .order_by(datasets.c.namespace, datasets.c.name)))
    # the inputFacets and outputFacets the run's events gave each dataset
    io_facets = {direction: facets_of(conn, direction.lower(), [f"{r.run_uuid}:{r.dataset_id}" for r in io_rows
                                                                 if r.direction == direction])
                 for direction in ("INPUT", "OUTPUT")}
    for run_uuid, direction, version, dataset_id, namespace, name in io_rows:
        io[run_uuid][direction].append({"datasetVersionId": {"namespace": namespace, "name": name,
                                                             "version": version},
                                        "facets": io_facets[direction].get(f"{run_uuid}:{dataset_id}", {})})
    job_names = {row.id: (row.namespace, row.name) for row in conn.execute(
        select(jobs.c.id, jobs.c.namespace, jobs.c.name).where(jobs.c.id.in_({r["job_id"] for r in rows})))}
    result = []
    for row in rows:
        started, ended = row["started_at"], row["ended_at"]
        duration = None
        if started is not None and ended is not None:
            duration = int((_aware(ended) - _aware(started)).total_seconds() * 1000)
        namespace, name = job_names[row["job_id"]]
        result.append({
            "id": row["uuid"],
            "createdAt": iso(row["created_at"]),
            "updatedAt": iso(row["updated_at"]),
            "nominalStartTime": iso(row["nominal_start_time"]),
            "nominalEndTime": iso(row["nominal_end_time"]),
            "state": row["state"],
            "startedAt": iso(started),
            "endedAt": iso(ended),
            "durationMs": duration,
            "args": row.get("args") or {},
            "jobVersion": ({"namespace": namespace, "name": name, "version": row["job_version_uuid"]}
                           if row["job_version_uuid"] else None),
            "inputDatasetVersions": io[row["uuid"]]["INPUT"],
            "outputDatasetVersions": io[row["uuid"]]["OUTPUT"],
            "context": {},
            "facets": run_facets.get(row["uuid"], {}),
            "parentRunUuid": row["parent_run_uuid"],
        })
    return result


def run_view(conn: Connection, row: RowMapping) -> dict[str, Any]:
    return runs_view(conn, [row])[0]


# -- jobs -------------------------------------------------------------------------------------

def _io_ids(conn: Connection, job_ids: Sequence[int]) -> dict[int, dict[str, list[dict[str, str]]]]:
    found: dict[int, dict[str, list[dict[str, str]]]] = {i: {"INPUT": [], "OUTPUT": []} for i in job_ids}
    rows = conn.execute(select(job_io.c.job_id, job_io.c.direction, datasets.c.namespace, datasets.c.name)
                        .join(datasets, datasets.c.id == job_io.c.dataset_id)
                        .where(job_io.c.job_id.in_(job_ids)).order_by(datasets.c.namespace, datasets.c.name))
    for job_id, direction, namespace, name in rows:
        found[job_id][direction].append({"namespace": namespace, "name": name})
    return found


def jobs_view(conn: Connection, rows: Sequence[RowMapping], latest_runs: int = 10) -> list[dict[str, Any]]:
    """Marquez ``Job`` objects; ``latestRuns`` holds up to ``latest_runs`` runs, newest first."""
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    io = _io_ids(conn, ids)
    job_facets = facets_of(conn, "job", [str(i) for i in ids])
    tags: dict[int, list[str]] = defaultdict(list)
    for job_id, tag in conn.execute(select(job_tags.c.job_id, job_tags.c.tag).where(job_tags.c.job_id.in_(ids))
                                    .order_by(job_tags.c.tag)):
        tags[job_id].append(tag)
    recent: dict[int, list[RowMapping]] = defaultdict(list)
    if latest_runs:
        # the newest runs of every job in one query: runs numbered per job, newest first
        number = func.row_number().over(partition_by=runs.c.job_id,
                                        order_by=(runs.c.created_at.desc(), runs.c.uuid)).label("number")
        ranked = select(runs, number).where(runs.c.job_id.in_(ids)).subquery()
        for row in conn.execute(select(ranked).where(ranked.c.number <= latest_runs)
                                .order_by(ranked.c.job_id, ranked.c.number)).mappings():
            recent[row["job_id"]].append(row)
    every_run = [r for job_id in ids for r in recent[job_id]]
    run_json = {r["id"]: r for r in runs_view(conn, every_run)}
    # a parent job is named without its namespace: the one in the child's namespace, else any of that name
    parents: dict[tuple[str | None, str], int] = {}
    for parent in conn.execute(select(jobs.c.id, jobs.c.name, jobs.c.namespace).where(
            jobs.c.name.in_({r["parent_job_name"] for r in rows if r["parent_job_name"]})).order_by(jobs.c.id)):
        parents[(parent.namespace, parent.name)] = parent.id
        parents.setdefault((None, parent.name), parent.id)
    result = []
    for row in rows:
        latest = [run_json[r["uuid"]] for r in recent[row["id"]]]
        result.append({
            "id": {"namespace": row["namespace"], "name": row["name"]},
            "type": row["type"],
            "name": row["name"],
            "simpleName": row["simple_name"],
            "parentJobName": row["parent_job_name"],
            "parentJobUuid": _job_uuid(parents.get((row["namespace"], row["parent_job_name"]),
                                                   parents.get((None, row["parent_job_name"])))),
            "createdAt": iso(row["created_at"]),
            "updatedAt": iso(row["updated_at"]),
            "namespace": row["namespace"],
            "inputs": io[row["id"]]["INPUT"],
            "outputs": io[row["id"]]["OUTPUT"],
            "location": row["location"],
            "description": row["description"],
            "latestRun": latest[0] if latest else None,
            "latestRuns": latest,
            "facets": job_facets.get(str(row["id"]), {}),
            "currentVersion": row["current_version"],
            "labels": [],
            "tags": tags[row["id"]],
        })
    return result


def job_view(conn: Connection, row: RowMapping) -> dict[str, Any]:
    return jobs_view(conn, [row])[0]


def _job_uuid(job_id: int | None) -> str | None:
    """A stable UUID for a job (the store keys jobs by integer)."""
    if job_id is None:
        return None
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lineage-audit:job:{job_id}"))


def job_versions_view(conn: Connection, job: RowMapping, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    latest = {r["id"]: r for r in runs_view(conn, list(conn.execute(select(runs).where(
        runs.c.uuid.in_([v["latest_run_uuid"] for v in rows if v["latest_run_uuid"]]))).mappings()))}
    job_facets = facets_of(conn, "job", [str(job["id"])]).get(str(job["id"]), {})
    return [{
        "id": {"namespace": job["namespace"], "name": job["name"], "version": v["uuid"]},
        "name": job["name"],
        "version": v["uuid"],
        "createdAt": iso(v["created_at"]),
        "namespace": job["namespace"],
        "inputs": [{"namespace": ns, "name": name} for ns, name in v["inputs"]],
        "outputs": [{"namespace": ns, "name": name} for ns, name in v["outputs"]],
        "location": v["location"],
        "latestRun": latest.get(v["latest_run_uuid"]),
        "facets": job_facets,
    } for v in rows]


def job_version_rows(conn: Connection, job_id: int, limit: int | None = None, offset: int = 0) -> list[RowMapping]:
    """The versions of a job, newest first."""
    return list(conn.execute(select(job_versions).where(job_versions.c.job_id == job_id)
                             .order_by(job_versions.c.created_at.desc(), job_versions.c.uuid)
                             .limit(limit).offset(offset)).mappings())


# -- datasets ---------------------------------------------------------------------------------

def _fields(conn: Connection, dataset_ids: Sequence[int]) -> tuple[dict[int, list[dict[str, Any]]], dict[int, list[str]]]:
    """Fields (with their tags) of many datasets, and the datasets' own tags."""
    tags: dict[tuple[int, str], list[str]] = defaultdict(list)
    for dataset_id, field, tag in conn.execute(select(dataset_tags).where(dataset_tags.c.dataset_id.in_(dataset_ids))):
        tags[(dataset_id, field)].append(tag)
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in dataset_ids}
    rows = conn.execute(select(dataset_fields).where(dataset_fields.c.dataset_id.in_(dataset_ids))
                        .order_by(dataset_fields.c.dataset_id, dataset_fields.c.position))
    for row in rows.mappings():
        found[row["dataset_id"]].append({"name": row["name"], "type": row["type"],
                                         "tags": sorted(tags.get((row["dataset_id"], row["name"]), [])),
                                         "description": row["description"]})
    return found, {i: sorted(tags.get((i, ""), [])) for i in dataset_ids}


def column_lineage_of(conn: Connection, dataset_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Per dataset, Marquez's ``columnLineage``: each field with its input fields and transformations."""
    inputs = datasets.alias("inputs")
    rows = conn.execute(select(field_lineage, inputs.c.namespace, inputs.c.name)
                        .join(inputs, inputs.c.id == field_lineage.c.input_dataset_id)
                        .where(field_lineage.c.output_dataset_id.in_(dataset_ids))
                        .order_by(field_lineage.c.id)).mappings()
    return column_lineage_shape(rows, dataset_ids)


def column_lineage_shape(rows: Iterable[Mapping[str, Any]], dataset_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Marquez's ``columnLineage`` per dataset from ``field_lineage`` rows with their input's namespace and name."""
    found: dict[int, dict[str, dict[tuple[str, str, str], dict[str, Any]]]] = defaultdict(dict)
    for row in rows:
        if row["output_field"] == "":
            continue  # dataset-level dependencies are not a field's lineage
        per_field = found[row["output_dataset_id"]].setdefault(row["output_field"], {})
        key = (row["namespace"], row["name"], row["input_field"])
        entry = per_field.setdefault(key, {"namespace": row["namespace"], "dataset": row["name"],
                                           "field": row["input_field"], "transformationDescription": None,
                                           "transformationType": None, "transformations": []})
        transformation = {"type": row["transformation_type"], "subtype": row["transformation_subtype"],
                          "description": row["transformation_description"], "masking": row["masking"]}
        entry["transformations"].append(transformation)
        if entry["transformationType"] is None or row["transformation_type"] == "DIRECT":
            entry["transformationType"] = row["transformation_type"]
            entry["transformationDescription"] = row["transformation_description"]
    return {dataset_id: [{"name": field, "inputFields": list(entries.values())}
                         for field, entries in found.get(dataset_id, {}).items()] for dataset_id in dataset_ids}


def datasets_view(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    """Marquez ``Dataset`` objects, with fields, facets and column lineage."""
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    fields, own_tags = _fields(conn, ids)
    dataset_facets = facets_of(conn, "dataset", [str(i) for i in ids])
    lineage = column_lineage_of(conn, ids)
    return [{
        "id": {"namespace": row["namespace"], "name": row["name"]},
        "type": row["type"],
        "name": row["name"],
        "physicalName": row["name"],
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
        "namespace": row["namespace"],
        "sourceName": row["source_name"],
        "fields": fields[row["id"]],
        "tags": own_tags[row["id"]],
        "lastModifiedAt": iso(row["last_modified_at"]),
        "lastLifecycleState": row["last_lifecycle_state"],
        "description": row["description"],
        "facets": dataset_facets.get(str(row["id"]), {}),
        "currentVersion": row["current_version"],
        "columnLineage": lineage.get(row["id"]) or None,  # Marquez: null when the dataset has none
        "deleted": False,
    } for row in rows]


def dataset_view(conn: Connection, row: RowMapping) -> dict[str, Any]:
    return datasets_view(conn, [row])[0]


def dataset_versions_view(conn: Connection, dataset: RowMapping, rows: Sequence[RowMapping],
                          run_views: Any = None) -> list[dict[str, Any]]:
    """Marquez ``DatasetVersion`` objects: one per run that wrote the dataset, with that run (as ``run_views(rows)``
    gives runs, if given: as of a moment).

    As in Marquez, a version's ``tags`` are the dataset's tags now (marquez-web's dataset drawer shows and
    edits the newest version's), while its fields keep the tags they had when it was written: none."""
    own_tags = sorted(conn.execute(select(dataset_tags.c.tag).where(dataset_tags.c.dataset_id == dataset["id"],
                                                                    dataset_tags.c.field == "")).scalars())
    created_by = {r["id"]: r for r in (run_views or partial(runs_view, conn))(list(conn.execute(select(runs).where(
        runs.c.uuid.in_([v["run_uuid"] for v in rows if v["run_uuid"]]))).mappings()))}
    version_facets = _version_facets(conn, dataset["id"], [v["uuid"] for v in rows])
    return [{
        "id": {"namespace": dataset["namespace"], "name": dataset["name"], "version": v["uuid"]},
        "type": dataset["type"],
        "name": dataset["name"],
        "physicalName": dataset["name"],
        "createdAt": iso(v["created_at"]),
        "version": v["uuid"],
        "namespace": dataset["namespace"],
        "sourceName": dataset["source_name"],
        "fields": [{"name": f["name"], "type": f.get("type"), "tags": [], "description": f.get("description")}
                   for f in v["fields"]],
        "tags": own_tags,
        "lifecycleState": v["lifecycle_state"],
        "description": dataset["description"],
        "createdByRun": created_by.get(v["run_uuid"]),
        "facets": version_facets.get(v["uuid"], {}),
    } for v in rows]


def _version_facets(conn: Connection, dataset_id: int, versions: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Facets of dataset versions: the writer's, with those of the runs that read each version merged in
    event time order (a later reader's facet of the same name wins), as Marquez merges them."""
    timed: dict[str, list[tuple[Any, str, Any]]] = defaultdict(list)
    for start in range(0, len(versions), 500):
        chunk = list(versions[start:start + 500])
        for key, name, t, value in conn.execute(select(facets.c.owner_key, facets.c.name, facets.c.event_time,
                                                       facets.c.value).where(facets.c.owner_kind == "dataset_version",
                                                                             facets.c.owner_key.in_(chunk))):
            timed[key].append((_aware(t), name, value))
        readers = conn.execute(select(run_io.c.run_uuid, run_io.c.dataset_version_uuid).where(
            run_io.c.dataset_id == dataset_id, run_io.c.direction == "INPUT",
            run_io.c.dataset_version_uuid.in_(chunk))).all()
        read_by = {f"{run}:{dataset_id}": version for run, version in readers}
        for reader_start in range(0, len(read_by), 500):
            keys = list(read_by)[reader_start:reader_start + 500]
            for key, name, t, value in conn.execute(select(facets.c.owner_key, facets.c.name, facets.c.event_time,
                                                           facets.c.value).where(facets.c.owner_kind == "read",
                                                                                 facets.c.owner_key.in_(keys))):
                timed[read_by[key]].append((_aware(t), name, value))
    found: dict[str, dict[str, Any]] = {}
    for version, entries in timed.items():
        merged: dict[str, Any] = {}
        for _t, name, value in sorted(entries, key=lambda e: (e[0], e[1])):
            merged[name] = value
        found[version] = dict(sorted(merged.items()))
    return found


def dataset_version_rows(conn: Connection, dataset_id: int, limit: int | None = None,
                         offset: int = 0) -> list[RowMapping]:
    """The versions of a dataset, newest first."""
    return list(conn.execute(select(dataset_versions).where(dataset_versions.c.dataset_id == dataset_id)
                             .order_by(dataset_versions.c.event_time.desc(), dataset_versions.c.uuid)
                             .limit(limit).offset(offset)).mappings())


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
