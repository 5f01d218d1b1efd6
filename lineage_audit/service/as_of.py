"""Lineage as of a moment T: what the stored events with ``eventTime <= T`` described, read from the derived
tables rather than re-derived from every event.

Derived values are merges that end the same in any order (see :mod:`lineage_audit.service.ingest`), and
most of them stop changing once the last event of their owner is past: a run whose newest event is at or
before T (``runs.updated_at <= T``) is, as of T, exactly its stored row, inputs, outputs and facets. Only
the runs that straddle T (first event at or before T, last one after) are recomputed, from their own
events up to T (``lineage_events`` by ``run_uuid``, indexed), by the same rules as the derivation: the
strongest state (terminal over running over new), then the latest; the newest facet of each name; the
datasets any of those events named. A job's edges as of T are those of its latest run as of T (newest by
first event), or of its newest JobEvent up to T when that is newer, as the derivation decides them now.
Datasets as of T: :mod:`~lineage_audit.service.as_of_datasets`; graphs: ``as_of_graph``, ``as_of_columns``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from sqlalchemy import DateTime, String, func, select, type_coerce
from sqlalchemy.engine import Connection

from lineage_audit.service.db import dataset_symlinks, datasets, facets, jobs, lineage_events, run_io, runs
from lineage_audit.service.derived_values import facets_of, maybe_time, store_text
from lineage_audit.service.events import RUN_STATE, STATE_RANK, TERMINAL, Key, parse_time
from lineage_audit.service.node_ids import among, chunks

IO = dict[str, set[int]]  # {"INPUT": dataset ids, "OUTPUT": dataset ids}
# a run's columns, timestamps as the driver gives them (SQLite: text), not parsed: a graph reads hundreds of runs
RUN_COLUMNS = tuple(type_coerce(c, String).label(c.name) if isinstance(c.type, DateTime) else c for c in runs.c)


class MomentError(ValueError):
    """An ``asOf`` that is not a moment (400)."""


def parse_moment(text: str, parameter: str = "asOf") -> datetime:
    """A moment parameter (``asOf``, a diff's ``from``/``to``) as an aware UTC datetime: ISO 8601 with a zone (a
    naive one is UTC)."""
    try:
        return parse_time(text)
    except (ValueError, OverflowError, TypeError):
        raise MomentError(f"{parameter}: {text!r} is not an ISO 8601 timestamp (such as 2026-12-07T10:00:00Z)"
                          ) from None


def aware(value: Any) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite gives naive UTC, PostgreSQL aware ones)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def dataset_ids_of(conn: Connection, keys: Iterable[Key]) -> dict[Key, int]:
    """``(namespace, name) -> dataset id``, soft-deleted ones too, and names that are a dataset's symlinks."""
    keys = set(keys)
    found: dict[Key, int] = {}
    for chunk in chunks({name for _ns, name in keys}):
        for row_id, namespace, name in conn.execute(select(datasets.c.id, datasets.c.namespace, datasets.c.name)
                                                    .where(among(conn, datasets.c.name, chunk))):
            if (namespace, name) in keys:
                found[(namespace, name)] = row_id
    missing = keys - set(found)
    for chunk in chunks({name for _ns, name in missing}):
        for namespace, name, dataset_id in conn.execute(
                select(dataset_symlinks.c.namespace, dataset_symlinks.c.name, dataset_symlinks.c.dataset_id)
                .where(among(conn, dataset_symlinks.c.name, chunk))):
            if (namespace, name) in missing:
                found[(namespace, name)] = dataset_id
    return found


@dataclass
class RunAt:
    """A run as its events up to T describe it (only for runs that straddle T)."""

    decided: tuple | None = None  # (rank, time, state): the strongest state, then the latest
    started: datetime | None = None
    updated: datetime | None = None
    nominal: tuple[datetime | None, datetime | None] = (None, None)
    facets: dict[str, tuple[datetime, Any]] = field(default_factory=dict)
    job_facets: dict[str, tuple[datetime, Any]] = field(default_factory=dict)
    io: dict[tuple[Key, str], dict[str, Any]] = field(default_factory=dict)  # (dataset, direction) -> facets
    dataset_facets: dict[tuple[Key, str], dict[str, tuple[datetime, Any]]] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return self.decided[2] if self.decided else "NEW"

    def see(self, event: Mapping[str, Any], event_type: str | None, t: datetime) -> None:
        state = RUN_STATE.get(event_type or "", "NEW")
        decided = (STATE_RANK[state], t, state)
        self.decided = decided if self.decided is None else max(self.decided, decided)
        self.started = t if self.started is None else min(self.started, t)
        self.updated = t if self.updated is None else max(self.updated, t)
        _newest(self.facets, facets_of(event.get("run")), t)
        _newest(self.job_facets, facets_of(event.get("job")), t)
        nominal = self.facets.get("nominalTime", (None, {}))[1]
        if isinstance(nominal, dict):
            start = maybe_time(nominal.get("nominalStartTime"))
            self.nominal = (start, maybe_time(nominal.get("nominalEndTime")) if start else None)
        for direction, key in (("INPUT", "inputs"), ("OUTPUT", "outputs")):
            for dataset in event.get(key) or ():
                if not isinstance(dataset, dict):
                    continue
                name = (dataset.get("namespace"), dataset.get("name"))
                side = self.io.setdefault((name, direction), {})
                _newest(side, facets_of(dataset, "inputFacets" if direction == "INPUT" else "outputFacets"), t)
                _newest(self.dataset_facets.setdefault((name, direction), {}), facets_of(dataset), t)


def _newest(found: dict[str, tuple[datetime, Any]], values: Mapping[str, Any], t: datetime) -> None:
    for name, value in values.items():
        if name not in found or t >= found[name][0]:
            found[name] = (t, value)


def recompute_runs(conn: Connection, at: datetime, run_ids: Iterable[str]) -> dict[str, RunAt]:
    """Each run as of ``at``, from its own events up to then, in event time order (ties: arrival order)."""
    found: dict[str, RunAt] = {}
    for chunk in chunks(set(run_ids)):
        rows = conn.execute(select(lineage_events.c.run_uuid, lineage_events.c.event_type,
                                   lineage_events.c.event_time, lineage_events.c.payload)
                            .where(among(conn, lineage_events.c.run_uuid, chunk), lineage_events.c.event_time <= at,
                                   lineage_events.c.event_kind == "RunEvent")
                            .order_by(lineage_events.c.event_time, lineage_events.c.id))
        for run_id, event_type, t, payload in rows:
            found.setdefault(run_id, RunAt()).see(json.loads(payload), event_type, aware(t))
        # a parent run is named by its children's events too (their parent facet), and so was updated by them
        child = runs.alias("child")
        for run_id, t in conn.execute(
                select(child.c.parent_run_uuid, func.max(lineage_events.c.event_time))
                .join(lineage_events, lineage_events.c.run_uuid == child.c.uuid)
                .where(among(conn, child.c.parent_run_uuid, chunk), lineage_events.c.event_time <= at)
                .group_by(child.c.parent_run_uuid)):
            run = found.setdefault(run_id, RunAt())
            run.updated = aware(t) if run.updated is None else max(run.updated, aware(t))
    return found


def _straddles(row: Mapping[str, Any], at: datetime) -> bool:
    """Whether a run (created at or before ``at``) has events after ``at``: a ``straddles`` column says it when
    the row was read with ``RUN_COLUMNS``."""
    return bool(row["straddles"]) if "straddles" in row else aware(row["updated_at"]) > at


def run_row_at(row: Mapping[str, Any], at: datetime, recomputed: Mapping[str, RunAt]) -> dict[str, Any]:
    """A ``runs`` row as of ``at``: itself when all its events are at or before ``at``, else recomputed."""
    values = dict(row)
    if not _straddles(row, at):
        return values
    run = recomputed.get(row["uuid"]) or RunAt(updated=aware(row["created_at"]))
    if run.decided is None:  # a parent run known only from its children's events up to T: NEW, not started
        values.update(state="NEW", started_at=None, ended_at=None, updated_at=run.updated, job_version_uuid=None)
        return values
    _rank, state_time, state = run.decided
    values.update(state=state, state_time=state_time, started_at=run.started, updated_at=run.updated,
                  ended_at=state_time if state in TERMINAL else None,
                  nominal_start_time=run.nominal[0] or row["nominal_start_time"],
                  nominal_end_time=run.nominal[1] if run.nominal[0] else row["nominal_end_time"],
                  job_version_uuid=row["job_version_uuid"] if state in TERMINAL else None)
    return values


class RunsAt:
    """Runs and job edges as of a moment, each read once per request."""

    def __init__(self, conn: Connection, at: datetime):
        self.conn, self.at = conn, at
        self.recomputed: dict[str, RunAt] = {}
        self.latest: dict[int, dict[str, Any] | None] = {}  # job id -> its latest run as of T (a row as of T)
        self.edges: dict[int, IO] = {}
        self._declared: dict[int, tuple[datetime, dict[str, Any]]] | None = None
        self._jobevents: dict[int, tuple[datetime, dict[str, Any]] | None] = {}

    def rows_at(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """``runs`` rows (created at or before T) as of T, recomputing the ones that straddle T."""
        rows = list(rows)
        straddling = [r["uuid"] for r in rows if _straddles(r, self.at) and r["uuid"] not in self.recomputed]
        if straddling:
            self.recomputed.update(recompute_runs(self.conn, self.at, straddling))
        return [run_row_at(r, self.at, self.recomputed) for r in rows]

    def latest_runs(self, job_ids: Iterable[int]) -> dict[int, dict[str, Any] | None]:
        """The latest run of each job as of T: the newest by its first event, as the derivation picks it now."""
        wanted = [i for i in set(job_ids) if i not in self.latest]
        newest = runs.alias("newest")
        for chunk in chunks(wanted):
            picked = (select(newest.c.uuid).where(newest.c.job_id == jobs.c.id, newest.c.created_at <= self.at)
                      .order_by(newest.c.created_at.desc(), newest.c.uuid.desc()).limit(1).scalar_subquery())
            by_job = dict(self.conn.execute(select(jobs.c.id, picked).where(among(self.conn, jobs.c.id, chunk))).all())
            rows = {}
            for run_chunk in chunks([u for u in by_job.values() if u]):
                rows |= {r["uuid"]: r for r in self.conn.execute(
                    select(*RUN_COLUMNS, (runs.c.updated_at > self.at).label("straddles"))
                    .where(among(self.conn, runs.c.uuid, run_chunk))).mappings()}
            as_of = {r["uuid"]: r for r in self.rows_at(rows.values())}
            for job_id in chunk:
                self.latest[job_id] = as_of.get(by_job.get(job_id))
        return {i: self.latest.get(i) for i in job_ids}

    def job_edges(self, job_ids: Iterable[int]) -> dict[int, IO]:
        """Each job's inputs and outputs as of T (see the module's docstring)."""
        wanted = [i for i in set(job_ids) if i not in self.edges]
        if not wanted:
            return {i: self.edges[i] for i in job_ids}
        latest = self.latest_runs(wanted)
        declared = self.declared()
        edges: dict[int, IO] = {i: {"INPUT": set(), "OUTPUT": set()} for i in wanted}
        by_run: dict[str, int] = {}
        named: dict[int, list[tuple[Key, str]]] = defaultdict(list)
        for job_id in wanted:
            run = latest[job_id]
            jobevent = declared.get(job_id)
            if jobevent is not None and (run is None or jobevent[0] > aware(run["updated_at"])):
                for direction, side in (("INPUT", "inputs"), ("OUTPUT", "outputs")):
                    named[job_id] += [((ns, name), direction) for ns, name in jobevent[1].get(side, ())]
            elif run is not None and run["uuid"] in self.recomputed:  # it straddles T: its events up to T
                named[job_id] += list(self.recomputed[run["uuid"]].io)
            elif run is not None:
                by_run[run["uuid"]] = job_id
        for chunk in chunks(by_run):
            for run_id, dataset_id, direction in self.conn.execute(
                    select(run_io.c.run_uuid, run_io.c.dataset_id, run_io.c.direction)
                    .where(among(self.conn, run_io.c.run_uuid, chunk))):
                edges[by_run[run_id]][direction].add(dataset_id)
        ids = dataset_ids_of(self.conn, {key for pairs in named.values() for key, _d in pairs})
        for job_id, pairs in named.items():
            for key, direction in pairs:
                if key in ids:
                    edges[job_id][direction].add(ids[key])
        self.edges.update(edges)
        return {i: self.edges[i] for i in job_ids}

    def declared(self) -> dict[int, tuple[datetime, dict[str, Any]]]:
        """The newest JobEvent up to T of every job that has any: ``job id -> (time, its datasets)``."""
        if self._declared is not None:
            return self._declared
        self._declared = {}
        stored = list(self.conn.execute(select(facets.c.owner_key, facets.c.event_time, facets.c.value)
                                        .where(facets.c.owner_kind == "jobevent", facets.c.name == "io")))
        for key, t, value in stored:
            t = aware(t)
            if t <= self.at:
                self._declared[int(key)] = (t, json.loads(value) if isinstance(value, str) else value)
            else:
                older = self._older_jobevent(int(key))
                if older is not None:
                    self._declared[int(key)] = older
        return self._declared

    def _older_jobevent(self, job_id: int) -> tuple[datetime, dict[str, Any]] | None:
        """The newest JobEvent of a job up to T, read from the events (a job's JobEvents are few)."""
        found = self._jobevent(job_id)
        if found is None:
            return None
        t, event = found
        declared: dict[str, Any] = {
            side: sorted([d.get("namespace"), d.get("name")] for d in event.get(side) or () if isinstance(d, dict))
            for side in ("inputs", "outputs")}
        declared["location"] = store_text(facets_of(event.get("job")).get("sourceCodeLocation", {}).get("url"))
        return t, declared

    def _jobevent(self, job_id: int, exactly: datetime | None = None) -> tuple[datetime, dict[str, Any]] | None:
        """A job's newest JobEvent up to T (or the one of time ``exactly``, found through the time index)."""
        if job_id in self._jobevents:
            return self._jobevents[job_id]
        name = self.conn.execute(select(jobs.c.namespace, jobs.c.name, jobs.c.simple_name)
                                 .where(jobs.c.id == job_id)).one()
        when = lineage_events.c.event_time == exactly if exactly else lineage_events.c.event_time <= self.at
        row = self.conn.execute(
            select(lineage_events.c.event_time, lineage_events.c.payload)
            .where(when, lineage_events.c.event_kind == "JobEvent", lineage_events.c.job_namespace == name.namespace,
                   lineage_events.c.job_name.in_({name.name, name.simple_name}))
            .order_by(lineage_events.c.event_time.desc(), lineage_events.c.id.desc()).limit(1)).first()
        self._jobevents[job_id] = (aware(row.event_time), json.loads(row.payload)) if row else None
        return self._jobevents[job_id]

    def jobevent_datasets(self) -> list[tuple[datetime, Key, str, dict[str, Any]]]:
        """``(time, dataset, INPUT or OUTPUT, its facets)`` of each job's newest JobEvent up to T."""
        found = []
        for job_id, (t, _io) in sorted(self.declared().items()):
            event = self._jobevent(job_id, t)
            for direction, side in (("INPUT", "inputs"), ("OUTPUT", "outputs")):
                for dataset in (event[1].get(side) or ()) if event else ():
                    if isinstance(dataset, dict):
                        found.append((t, (dataset.get("namespace"), dataset.get("name")), direction,
                                      facets_of(dataset)))
        return found
