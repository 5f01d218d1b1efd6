"""Datasets as of a moment T (see :mod:`lineage_audit.service.as_of`): which existed, their current version,
fields, facets and column lineage as the events up to T made them.

A dataset whose last event is at or before T (``datasets.updated_at <= T``) is, as of T, what the store holds
now, but for its current version (a writer's completion need not name it). Any other dataset is read from
what the store keeps per version and per read, each value with the time of the newest event that carried it:

- its current version: the service's own rule over the versions that existed at T (the writer that completed
  last by T, or the newest DatasetEvent; else the version its first readers made), each run's state as of T;
- its facets: per name, the newest value carried by an event up to T (of the dataset, of one of its versions,
  of a run's read of it, or of a run straddling T, recomputed);
- its fields: the newest writer's schema up to T, a reader's only while no writer gave one; its column
  lineage: the newest ``columnLineage`` facet up to T.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import DateTime, String, func, select, type_coerce
from sqlalchemy.engine import Connection

from lineage_audit.service.as_of import RunsAt, aware, recompute_runs
from lineage_audit.service.db import dataset_versions, datasets, facets, jobs, lineage_events, run_io, runs
from lineage_audit.service.derived_values import schema_fields, store_name, store_text
from lineage_audit.service.events import TERMINAL
from lineage_audit.service.merge_sql import Sql
from lineage_audit.service.node_ids import among, chunks

Candidate = tuple[datetime, bool, Any]  # (event time, from a writer, value)
# timestamps as the driver gives them (SQLite: text), not parsed: a graph reads hundreds of rows
_DATASET_COLUMNS = tuple(type_coerce(c, String).label(c.name) if isinstance(c.type, DateTime) else c
                         for c in datasets.c if c.name != "is_hidden")


def _raw(column: Any) -> Any:
    return type_coerce(column, String).label(column.name)


_VERSION_COLUMNS = (dataset_versions.c.dataset_id, dataset_versions.c.uuid, dataset_versions.c.origin,
                    _raw(dataset_versions.c.event_time), _raw(dataset_versions.c.created_at),
                    dataset_versions.c.lifecycle_state, dataset_versions.c.run_uuid, runs.c.state,
                    _raw(runs.c.ended_at), jobs.c.type)


class DatasetsAt:
    """Datasets as of a moment, each read once per request."""

    def __init__(self, conn: Connection, at: datetime, runs_at: RunsAt):
        self.conn, self.at, self.runs_at = conn, at, runs_at
        self.sql = Sql(conn.dialect.name)  # times of runs recomputed, as the store holds times
        self.rows: dict[int, Mapping[str, Any]] = {}
        self.versions: dict[int, list[dict[str, Any]]] = {}  # dataset id -> its versions at T, as of T
        self.current: dict[int, dict[str, Any] | None] = {}
        self._candidates: dict[int, dict[str, list[Candidate]]] = {}
        self._touched: dict[int, datetime | None] = {}

    def load(self, dataset_ids: Iterable[int]) -> dict[int, Mapping[str, Any]]:
        """The ``datasets`` rows of those that existed at T."""
        wanted = [i for i in set(dataset_ids) if i not in self.rows]
        for chunk in chunks(wanted):
            for row in self.conn.execute(select(*_DATASET_COLUMNS, (datasets.c.updated_at > self.at).label("changed"))
                                         .where(among(self.conn, datasets.c.id, chunk),
                                                datasets.c.created_at <= self.at)).mappings():
                self.rows[row["id"]] = row
        return {i: self.rows[i] for i in dataset_ids if i in self.rows}

    def changed_since(self, dataset_id: int) -> bool:
        """Whether events after T named the dataset (else the store's values are those as of T)."""
        return bool(self.rows[dataset_id]["changed"])

    def droppable(self, dataset_ids: Iterable[int]) -> set[int]:
        """Those of the datasets that have a version saying DROP (only they can be dropped as of T)."""
        found: set[int] = set()
        for chunk in chunks(set(dataset_ids)):
            found.update(self.conn.execute(select(dataset_versions.c.dataset_id).where(
                among(self.conn, dataset_versions.c.dataset_id, chunk), dataset_versions.c.lifecycle_state == "DROP",
                dataset_versions.c.created_at <= self.at).distinct()).scalars())
        return found

    def read_versions(self, dataset_ids: Iterable[int]) -> None:
        """The versions each dataset had at T, with their times and their writers' states as of T."""
        wanted = [i for i in set(dataset_ids) if i not in self.versions]
        rows = []
        for chunk in chunks(wanted):
            rows += self.conn.execute(
                select(*_VERSION_COLUMNS, (dataset_versions.c.event_time <= self.at).label("seen_by_then"),
                       (runs.c.updated_at > self.at).label("straddling")).select_from(dataset_versions.outerjoin(
                    runs, runs.c.uuid == dataset_versions.c.run_uuid).outerjoin(jobs, jobs.c.id == runs.c.job_id))
                .where(among(self.conn, dataset_versions.c.dataset_id, chunk),
                       dataset_versions.c.created_at <= self.at)).mappings().all()
        straddling = {r["run_uuid"] for r in rows if r["run_uuid"] and r["straddling"]}
        missing = straddling - set(self.runs_at.recomputed)
        if missing:
            self.runs_at.recomputed.update(recompute_runs(self.conn, self.at, missing))
        for dataset_id in wanted:
            self.versions[dataset_id] = []
        for row in rows:
            self.versions[row["dataset_id"]].append(self._version_at(row, row["run_uuid"] in straddling))
        for dataset_id in wanted:
            self.current[dataset_id] = _current(self.versions[dataset_id])

    def _version_at(self, row: Mapping[str, Any], straddling: bool) -> dict[str, Any]:
        """A version's times as of T, as the driver gives timestamps (they compare as the store's do)."""
        created = row["created_at"]
        seen = row["event_time"] if row["seen_by_then"] else created  # its newest event up to T, as near as kept
        state, ended = row["state"], row["ended_at"]
        if straddling:
            run = self.runs_at.recomputed.get(row["run_uuid"])
            state = run.state if run else "NEW"
            ended = self.sql.time(run.decided[1]) if run and state in TERMINAL else None
        current_from = None
        if row["origin"] == "EVENT":
            current_from = seen
        elif row["origin"] == "RUN" and state == "COMPLETED":
            current_from = ended
        elif row["origin"] == "RUN" and state == "RUNNING" and row["type"] == "STREAM":
            current_from = created
        return {"uuid": row["uuid"], "origin": row["origin"], "seen": seen, "created": created,
                "current_from": current_from, "lifecycle": row["lifecycle_state"], "run": row["run_uuid"]}

    def row_at(self, dataset_id: int) -> dict[str, Any]:
        """The dataset's row as of T: its current version and times; source and description as its facets say."""
        row = dict(self.rows[dataset_id])
        version = self.current.get(dataset_id)
        row.update(current_version=version["uuid"] if version else None,
                   current_version_time=version["seen"] if version else None,
                   last_modified_at=version["seen"] if version else None,
                   last_lifecycle_state=version["lifecycle"] if version else None)
        if not self.changed_since(dataset_id):
            return row
        found = self.facets(dataset_id)
        times = [aware(row["created_at"])] + [aware(v["seen"]) for v in self.versions.get(dataset_id, ())]
        times += [c[0] for candidates in self._candidates[dataset_id].values() for c in candidates]
        times += [t for t in [self.touched([dataset_id])[dataset_id]] if t is not None]
        row["updated_at"] = max(times)
        source, documentation = found.get("dataSource"), found.get("documentation")
        if isinstance(source, dict):  # as the derivation follows these facets
            row["source_name"] = store_name(source.get("name")) or row["namespace"]
        if isinstance(documentation, dict):
            row["description"] = store_text(documentation.get("description"))
        return row

    def touched(self, dataset_ids: Iterable[int]) -> dict[int, datetime | None]:
        """The newest event up to T of the runs that read or wrote each dataset by T (its last mention by a run)."""
        wanted = [i for i in set(dataset_ids) if i not in self._touched]
        for dataset_id in wanted:
            self._touched[dataset_id] = None
        for chunk in chunks(wanted):
            finished = (select(run_io.c.dataset_id, func.max(runs.c.updated_at))
                        .join(runs, runs.c.uuid == run_io.c.run_uuid)
                        .where(among(self.conn, run_io.c.dataset_id, chunk), runs.c.updated_at <= self.at)
                        .group_by(run_io.c.dataset_id))
            straddling = (select(run_io.c.dataset_id, func.max(lineage_events.c.event_time))
                          .join(runs, runs.c.uuid == run_io.c.run_uuid)
                          .join(lineage_events, lineage_events.c.run_uuid == runs.c.uuid)
                          .where(among(self.conn, run_io.c.dataset_id, chunk), runs.c.created_at <= self.at,
                                 runs.c.updated_at > self.at, lineage_events.c.event_time <= self.at)
                          .group_by(run_io.c.dataset_id))
            for statement in (finished, straddling):
                for dataset_id, t in self.conn.execute(statement):
                    known = self._touched[dataset_id]
                    self._touched[dataset_id] = aware(t) if known is None else max(known, aware(t))
        return {i: self._touched[i] for i in dataset_ids}

    def dropped(self, dataset_id: int) -> bool:
        """Whether the dataset's current version as of T says DROP (then it was deleted, as in Marquez)."""
        version = self.current.get(dataset_id)
        return bool(version and version["lifecycle"] == "DROP")

    # -- facets, fields and column lineage of a dataset that changed since T --
    def facets(self, dataset_id: int) -> dict[str, Any]:
        """Per name, the newest value up to T."""
        return {name: max(found, key=lambda c: c[0])[2]
                for name, found in sorted(self.candidates([dataset_id])[dataset_id].items())}

    def fields(self, dataset_id: int) -> list[dict[str, Any]]:
        """``[{"name", "type", "description"}]``: the newest writer's schema up to T, else a reader's."""
        found = self.candidates([dataset_id])[dataset_id].get("schema", [])
        written = [c for c in found if c[1]]
        if written or found:
            schema = max(written or found, key=lambda c: c[0])[2]
            return (schema_fields(schema) if isinstance(schema, dict) else None) or []
        return []

    def lineage_facet(self, dataset_id: int) -> Any:
        found = self.candidates([dataset_id])[dataset_id].get("columnLineage")
        return max(found, key=lambda c: c[0])[2] if found else None

    def candidates(self, dataset_ids: Iterable[int]) -> dict[int, dict[str, list[Candidate]]]:
        """Every value of every facet of the datasets carried by an event up to T, as the store keeps them."""
        wanted = [i for i in set(dataset_ids) if i not in self._candidates]
        if wanted:
            self.load(wanted)
            self.read_versions(wanted)
            for dataset_id in wanted:
                self._candidates[dataset_id] = defaultdict(list)
            self._stored_candidates(wanted)
            self._version_candidates(wanted)
            self._read_candidates(wanted)
            self._jobevent_candidates(wanted)
        return {i: self._candidates[i] for i in dataset_ids}

    def _jobevent_candidates(self, dataset_ids: list[int]) -> None:
        """The facets the newest JobEvents up to T gave the datasets (a JobEvent's output is a writer's)."""
        by_name = {(self.rows[i]["namespace"], self.rows[i]["name"]): i for i in dataset_ids}
        for t, key, direction, values in self.runs_at.jobevent_datasets():
            if key in by_name:
                for name, value in values.items():
                    self._add(by_name[key], name, t, direction == "OUTPUT", value)

    def _add(self, dataset_id: int, name: str, t: Any, writer: bool, value: Any) -> None:
        t = aware(t)
        if t <= self.at:
            self._candidates[dataset_id][name].append((t, writer, json.loads(value) if isinstance(value, str)
                                                       else value))

    def _stored_candidates(self, dataset_ids: list[int]) -> None:
        """The dataset's own facets (the newest of each name), and its newest writer's schema."""
        for chunk in chunks([str(i) for i in dataset_ids]):
            for kind, key, name, t, value in self.conn.execute(
                    select(facets.c.owner_kind, facets.c.owner_key, facets.c.name, facets.c.event_time, facets.c.value)
                    .where(facets.c.owner_kind.in_(("dataset", "written")), among(self.conn, facets.c.owner_key, chunk))):
                self._add(int(key), name, t, kind == "written", value)

    def _version_candidates(self, dataset_ids: list[int]) -> None:
        """The facets of the versions written up to T; a straddling writer's from its events up to T."""
        owner = {v["uuid"]: (i, v) for i in dataset_ids for v in self.versions[i] if v["origin"] != "READ"}
        for chunk in chunks(owner):
            for key, name, t, value in self.conn.execute(
                    select(facets.c.owner_key, facets.c.name, facets.c.event_time, facets.c.value)
                    .where(facets.c.owner_kind == "dataset_version", among(self.conn, facets.c.owner_key, chunk))):
                self._add(owner[key][0], name, t, True, value)
        for dataset_id, version in owner.values():
            run = self.runs_at.recomputed.get(version["run"])
            if run is None:
                continue
            row = self.rows[dataset_id]
            for name, (t, value) in run.dataset_facets.get(((row["namespace"], row["name"]), "OUTPUT"), {}).items():
                self._add(dataset_id, name, t, True, value)

    def _read_candidates(self, dataset_ids: list[int]) -> None:
        """The dataset facets the runs that read it (started by T) saw."""
        keys, straddling = {}, {}
        for chunk in chunks(dataset_ids):
            for run_id, dataset_id, updated in self.conn.execute(
                    select(run_io.c.run_uuid, run_io.c.dataset_id, runs.c.updated_at)
                    .join(runs, runs.c.uuid == run_io.c.run_uuid)
                    .where(among(self.conn, run_io.c.dataset_id, chunk), run_io.c.direction == "INPUT",
                           runs.c.created_at <= self.at)):
                keys[f"{run_id}:{dataset_id}"] = dataset_id
                if aware(updated) > self.at:
                    straddling[run_id] = dataset_id
        for chunk in chunks(keys):
            for key, name, t, value in self.conn.execute(
                    select(facets.c.owner_key, facets.c.name, facets.c.event_time, facets.c.value)
                    .where(facets.c.owner_kind == "read", among(self.conn, facets.c.owner_key, chunk))):
                self._add(keys[key], name, t, False, value)
        missing = set(straddling) - set(self.runs_at.recomputed)
        if missing:
            self.runs_at.recomputed.update(recompute_runs(self.conn, self.at, missing))
        for run_id, dataset_id in straddling.items():  # a reader straddling T: the facets its events up to T gave
            row = self.rows[dataset_id]
            run = self.runs_at.recomputed.get(run_id)
            for name, (t, value) in (run.dataset_facets.get(((row["namespace"], row["name"]), "INPUT"), {})
                                     if run else {}).items():
                self._add(dataset_id, name, t, False, value)


def _current(versions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The current version by the service's rule: the written one current last, else the one readers made."""
    written = [v for v in versions if v["origin"] != "READ" and v["current_from"] is not None]
    if written:
        return max(written, key=lambda v: (v["current_from"], v["uuid"]))
    read = [v for v in versions if v["origin"] == "READ"]
    return read[0] if read else None
