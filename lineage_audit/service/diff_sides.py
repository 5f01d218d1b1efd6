"""The two sides of a diff, read from the store: what a run read and wrote, or a dataset at a moment.

A side holds, per dataset, the version involved and what that version says: its fields, its column lineage
(the ``columnLineage`` facet kept with the version) and its row count (the ``outputStatistics`` the writing
run gave it; for a run's input, the ``inputStatistics`` the reading run gave). :mod:`~lineage_audit.service.diff`
compares two sides.

A run's inputs and outputs are its own and those of its child runs: an application run (a Spark job's
``orders``) reads and writes through the runs of its queries, and a diff of two application runs is what
changed in the job. Where several runs of the tree read or wrote a dataset, the latest one says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, RowMapping

from lineage_audit.service.column_versions import entry_transformations, lineage_entries
from lineage_audit.service.db import dataset_versions, datasets, facets, jobs, run_io, runs
from lineage_audit.service.derived_values import schema_fields
from lineage_audit.service.diff_moments import (
    aware, current_version_at, existed_at, run_states_at, writer_runs_at)
from lineage_audit.service.node_ids import named
from lineage_audit.service.symlinks import symlinked_ids
from lineage_audit.service.views import iso

Key = tuple[str, str]  # (namespace, name)
EdgeKey = tuple[str, str, str, str]  # (output field, input namespace, input dataset, input field)
MAX_RUN_TREE_DEPTH = 5  # application run -> query runs; deeper trees are not made by capture


@dataclass
class DatasetState:
    """A dataset as one side has it: the version involved and what it says."""

    namespace: str
    name: str
    role: str  # OUTPUT or INPUT
    version: str | None = None
    fields: dict[str, str | None] = field(default_factory=dict)  # name -> type, in schema order
    lineage: dict[EdgeKey, list[dict[str, Any]]] = field(default_factory=dict)
    row_count: int | None = None


@dataclass
class Side:
    """One side of a diff: the run or the moment, and the datasets involved."""

    time: str | None = None
    run_id: str | None = None
    state: str | None = None
    job_version: str | None = None
    dataset_version: str | None = None
    inputs: set[Key] = field(default_factory=set)
    outputs: set[Key] = field(default_factory=set)
    writers: set[Key] = field(default_factory=set)
    datasets: dict[tuple[str, str, str], DatasetState] = field(default_factory=dict)

    def header(self) -> dict[str, Any]:
        return {"time": self.time, "runId": self.run_id, "state": self.state, "jobVersion": self.job_version,
                "datasetVersion": self.dataset_version}


# -- runs -----------------------------------------------------------------------------------------

def run_side(conn: Connection, run: RowMapping) -> Side:
    """What a run (with its child runs) read and wrote, each dataset in the version it read or wrote."""
    tree = _run_tree(conn, run["uuid"])
    side = Side(time=iso(run["started_at"] or run["created_at"]), run_id=run["uuid"], state=run["state"],
                job_version=run["job_version_uuid"])
    chosen: dict[tuple[int, str], tuple[Any, ...]] = {}
    for row in conn.execute(select(run_io.c.run_uuid, run_io.c.dataset_id, run_io.c.direction,
                                   run_io.c.dataset_version_uuid, datasets.c.namespace, datasets.c.name)
                            .join(datasets, datasets.c.id == run_io.c.dataset_id)
                            .where(run_io.c.run_uuid.in_(sorted(tree)))):
        known = chosen.get((row.dataset_id, row.direction))
        if known is None or tree[row.run_uuid] > tree[known[0]]:
            chosen[(row.dataset_id, row.direction)] = tuple(row)
    reader = _VersionReader(conn)
    for run_id, dataset_id, direction, version, namespace, name in chosen.values():
        (side.outputs if direction == "OUTPUT" else side.inputs).add((namespace, name))
        state = DatasetState(namespace, name, direction, version)
        reader.describe(state, version)
        if direction == "INPUT":  # the schema the run saw: a dataset never written has one READ version
            state.fields = _read_schema(conn, run_id, dataset_id) or state.fields
        state.row_count = _row_count(conn, "output" if direction == "OUTPUT" else "input", run_id, dataset_id)
        side.datasets[(namespace, name, direction)] = state
    return side


def _run_tree(conn: Connection, run_id: str) -> dict[str, tuple]:
    """``{run: its order}`` of the run and its descendants; the order puts the latest run last (by its end,
    then its start)."""
    found: dict[str, tuple] = {}
    frontier = [run_id]
    for _ in range(MAX_RUN_TREE_DEPTH):
        if not frontier:
            break
        rows = conn.execute(select(runs.c.uuid, runs.c.ended_at, runs.c.state_time, runs.c.created_at)
                            .where(runs.c.uuid.in_(frontier)))
        for uuid, ended, state_time, created in rows:
            found[uuid] = (aware(ended or state_time), aware(created), uuid)
        frontier = sorted(set(conn.execute(select(runs.c.uuid).where(runs.c.parent_run_uuid.in_(frontier)))
                              .scalars()) - set(found))
    return found


def _read_schema(conn: Connection, run_id: str, dataset_id: int) -> dict[str, str | None] | None:
    value = _facet(conn, "read", f"{run_id}:{dataset_id}", "schema")
    listed = schema_fields(value) if isinstance(value, dict) else None
    return {f["name"]: f.get("type") for f in listed} if listed is not None else None


def _row_count(conn: Connection, kind: str, run_id: str | None, dataset_id: int) -> int | None:
    if run_id is None:
        return None
    value = _facet(conn, kind, f"{run_id}:{dataset_id}", f"{kind}Statistics")
    count = value.get("rowCount") if isinstance(value, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def _facet(conn: Connection, kind: str, key: str, name: str) -> Any:
    value = conn.execute(select(facets.c.value).where(facets.c.owner_kind == kind, facets.c.owner_key == key,
                                                      facets.c.name == name)).scalar()
    return json.loads(value) if isinstance(value, str) else value


class _VersionReader:
    """Fields and column lineage of dataset versions; input datasets named as the store names them (a name
    under a symlink becomes the dataset's own)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.names: dict[Key, Key] = {}

    def describe(self, state: DatasetState, version: str | None) -> None:
        row = self.conn.execute(select(dataset_versions.c.fields).where(dataset_versions.c.uuid == version)
                                ).first() if version else None
        if row is None:
            return
        listed = json.loads(row.fields) if isinstance(row.fields, str) else row.fields
        state.fields = {f["name"]: f.get("type") for f in listed or [] if isinstance(f, dict) and "name" in f}
        facet = _facet(self.conn, "dataset_version", version, "columnLineage")
        entries = list(lineage_entries(facet))
        self._learn({(e["namespace"], e["name"]) for _f, _b, e in entries})
        for output_field, body, entry in entries:
            input_ = self.names.get((entry["namespace"], entry["name"]), (entry["namespace"], entry["name"]))
            found = state.lineage.setdefault((output_field, *input_, entry["field"]), [])
            for transformation in entry_transformations(entry, body):
                if transformation not in found:
                    found.append(transformation)

    def _learn(self, keys: set[Key]) -> None:
        keys -= set(self.names)
        if not keys:
            return
        ids = named(self.conn, datasets, keys)
        ids |= symlinked_ids(self.conn, keys - set(ids))
        if ids:
            rows = self.conn.execute(select(datasets.c.id, datasets.c.namespace, datasets.c.name)
                                     .where(datasets.c.id.in_(sorted(set(ids.values())))))
            by_id = {row.id: (row.namespace, row.name) for row in rows}
            self.names.update({key: by_id[i] for key, i in ids.items()})


# -- a dataset at a moment ------------------------------------------------------------------------

def dataset_side(conn: Connection, dataset: RowMapping, moment: datetime) -> Side:
    """The dataset at ``moment``: its current version then, the jobs writing it and what they read."""
    side = Side(time=iso(moment))
    if not existed_at(dataset, moment):
        return side
    key = (dataset["namespace"], dataset["name"])
    version = current_version_at(conn, dataset["id"], moment)
    writers = writer_runs_at(conn, dataset["id"], moment)
    side.writers = {(row.namespace, row.name) for row in conn.execute(
        select(jobs.c.namespace, jobs.c.name).where(jobs.c.id.in_(sorted(writers))))} if writers else set()
    if writers:
        side.inputs = {(row.namespace, row.name) for row in conn.execute(
            select(datasets.c.namespace, datasets.c.name).join(run_io, run_io.c.dataset_id == datasets.c.id)
            .where(run_io.c.run_uuid.in_(sorted(writers.values())), run_io.c.direction == "INPUT"))}
    written = version is not None and version["origin"] != "READ"
    state = DatasetState(*key, "OUTPUT" if written or writers else "INPUT")
    if version is not None:
        state.version = side.dataset_version = version["uuid"]
        _VersionReader(conn).describe(state, version["uuid"])
        run_id = version["run_uuid"]
        state.row_count = _row_count(conn, "output", run_id, dataset["id"])
        if run_id:
            side.run_id = run_id
            decided = run_states_at(conn, [run_id], moment).get(run_id)
            side.state = decided.state if decided else None
            side.job_version = conn.execute(select(runs.c.job_version_uuid).where(runs.c.uuid == run_id)).scalar()
    side.datasets[(*key, state.role)] = state
    return side
