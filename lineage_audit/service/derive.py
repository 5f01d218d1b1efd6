"""The model derived from a batch of new events: reduced in memory, then merged into the store.

Every derived value is a merge that ends the same whatever order its inputs arrive in (see
:mod:`lineage_audit.service.ingest`). Reduction, here, keeps one row per run, dataset, job and facet;
the merge then writes each table with a few statements (:mod:`lineage_audit.service.merge_sql`): names
and facets in :mod:`~lineage_audit.service.merge_facets`, runs and dataset versions in
:mod:`~lineage_audit.service.merge_versions`, job versions and edges in :mod:`~lineage_audit.service.merge_jobs`.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from lineage_audit.service.derived_values import (
    facets_of, legacy_transformation, lineage_inputs, min_max, schema_fields, store_name, store_text, version_uuid)
from lineage_audit.service.events import RUN_STATE, STATE_RANK, Checked, Key, dumps
from lineage_audit.service.job_renames import finished_runs_of, find_renames, move_parentless_jobs
from lineage_audit.service.merge_facets import FacetMerge
from lineage_audit.service.merge_jobs import JobMerge
from lineage_audit.service.merge_sql import Sql, cursor_for, run_statement
from lineage_audit.service.merge_versions import RunVersionMerge
from lineage_audit.service.symlinks import SymlinkNames

__all__ = ["Derivation", "legacy_transformation", "version_uuid"]


class Derivation(FacetMerge, RunVersionMerge, JobMerge):
    """The model derived from a batch of new events: reduced in memory, then merged into the store."""

    def __init__(self, sql: Sql, cursor: Any, events: list[Checked]):
        self.sql, self.cur, self.events = sql, cursor, events
        self.namespaces: dict[str, list] = {}
        self.sources: dict[str, list] = {}  # name -> [first, last, url of the newest]
        self.datasets: dict[Key, list] = {}  # (namespace, name) -> [first, last]
        self.jobs: dict[Key, list] = {}  # (namespace, name) -> [first, last, simple name, parent name]
        self.runs: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, dict[str, Any]] = {}  # written dataset versions: per (dataset, run), DatasetEvents
        self.parent_runs: dict[str, dict[str, Any]] = {}  # runs named only by their children's parent facets
        self.job_event_versions: dict[tuple[Key, str], list] = {}  # (job, its JobEvent's io as JSON) -> [first, last]
        self.run_io: set[tuple[str, Key, str]] = set()
        self.facets: dict[tuple[str, Any, str], tuple[Any, Any, Any]] = {}  # -> (time, value, origin version)
        self.affected_jobs: set[Key] = set()  # jobs whose runs or JobEvents are in the batch
        self.dataset_ids: dict[Key, int] = {}
        self.dataset_rows: dict[int, dict[str, Any]] = {}
        self.job_ids: dict[Key, int] = {}
        self.job_names: dict[int, Key] = {}
        self.run_jobs: set[int] = set()  # the jobs of the batch's runs
        self.job_rows: dict[int, dict[str, Any]] = {}
        self.winners: dict[tuple[str, Any, str], tuple[Any, Any, Any]] = {}
        self.stored: dict[tuple[str, str, str], tuple[Any, Any]] = {}  # facets as stored: -> (time, internal value)
        self._memo: dict[tuple[str, int], Any] = {}  # JSON text and parsed parts of facets, by facet
        self._version_ids: dict[tuple[Key, str], str] = {}

    def _once(self, what: str, value: Any, make: Any) -> Any:
        """``make(value)``, computed once per facet object (the objects live as long as the derivation)."""
        key = (what, id(value))
        if key not in self._memo:
            self._memo[key] = make(value)
        return self._memo[key]

    def _json(self, value: Any) -> str:
        return self._once("json", value, dumps)

    def _schema_fields(self, facet: Mapping[str, Any]) -> list[dict[str, Any]] | None:
        return self._once("fields", facet, schema_fields)

    def _lineage_inputs(self, facet: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
        return self._once("lineage", facet, lineage_inputs)

    def _version(self, key: Key, run_id: str) -> str:
        """The version of an output written by a run (one per dataset and run)."""
        found = self._version_ids.get((key, run_id))
        if found is None:
            found = self._version_ids[(key, run_id)] = version_uuid(key[0], key[1], run_id)
        return found

    def execute(self, statement: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        return run_statement(self.sql, self.cur, statement, params or {})

    def executemany(self, statement: str, rows: list[Mapping[str, Any]]) -> None:
        if rows:
            cursor_for(self.sql, self.cur).executemany(self.sql(statement), rows)

    def run(self) -> None:
        self.renames = find_renames(self.sql, self.cur, self.events)
        self.names = SymlinkNames(self.sql, self.cur, self.events)
        for item in self.events:
            self._collect(item)
        renamed = move_parentless_jobs(self.sql, self.cur, self.renames)
        self.affected_jobs |= renamed
        self._write_names()
        self._write_facets()
        finished = self._write_runs()
        if renamed:
            again = finished_runs_of(self.sql, self.cur, sorted(self.job_ids[key] for key in renamed))
            self._know_jobs({job_id for _run, job_id, *_rest in again})
            finished = list({f[0]: f for f in finished + again}.values())
        self._write_versions()
        self._write_job_versions(finished)
        self._write_runless_job_versions()
        self._write_job_edges()

    # -- reducing the batch --
    def _facet(self, kind: str, owner: Any, name: str, t: Any, value: Any, origin: Any = None) -> None:
        key = (kind, owner, name)
        known = self.facets.get(key)
        if known is None or t >= known[0]:
            self.facets[key] = (t, value, origin)

    def _mention_job(self, key: Key, simple: str, parent: str | None, t: Any) -> None:
        self.namespaces[key[0]] = min_max(self.namespaces.get(key[0]), t)
        known = self.jobs.get(key)
        if known is None:
            self.jobs[key] = [t, t, simple, parent]
        else:
            min_max(known, t)
            known[3] = known[3] or parent

    def _dataset_key(self, dataset: Mapping[str, Any], t: Any) -> Key:
        """The dataset an event names: the one that has the name among its symlinks, or the one named so;
        the names the dataset's symlinks facet declares become its symlinks where no dataset has them."""
        key = self.names.resolve((dataset["namespace"], dataset["name"]))
        symlinks = facets_of(dataset).get("symlinks")
        if symlinks is not None:
            self.names.declare(key, symlinks, t)
        return key

    def _mention_dataset(self, dataset: Mapping[str, Any], t: Any, version: str | None = None,
                         reader: str | None = None, key: Key | None = None) -> Key:
        """A dataset an event names; ``reader`` is the run reading it, "" a reader without a run (a JobEvent's
        input), None a writer (a run's output, a DatasetEvent, a JobEvent's output)."""
        key = key or self._dataset_key(dataset, t)
        self._name_dataset(key, t)
        dataset_facets = facets_of(dataset)
        source = dataset_facets.get("dataSource", {})
        source_name = store_name(source.get("name"))
        if source_name is None:  # without a dataSource facet, a dataset's namespace is its source
            self._source(key[0], key[0], t)
        else:
            self._source(source_name, store_text(source.get("uri")) or source_name, t)
        for name, value in dataset_facets.items():
            self._facet("dataset", key, name, t, value, version)
            if reader:  # the facets a reader saw join those of the version it read
                self._facet("read", (reader, key), name, t, value)
        if reader is None and "schema" in dataset_facets:  # a writer's schema: the dataset's fields follow it
            self._facet("written", key, "schema", t, dataset_facets["schema"])
        lineage = dataset_facets.get("columnLineage")
        if lineage is not None:
            for key_in in {(entry["namespace"], entry["name"]) for _f, entry in self._lineage_inputs(lineage)}:
                key_in = self.names.resolve(key_in)
                self._name_dataset(key_in, t)
                self._source(key_in[0], key_in[0], t)
        return key

    def _name_dataset(self, key: Key, t: Any) -> None:
        self.namespaces[key[0]] = min_max(self.namespaces.get(key[0]), t)
        self.datasets[key] = min_max(self.datasets.get(key), t)

    def _source(self, name: str, url: str, t: Any) -> None:
        known = self.sources.get(name)
        if known is None:
            self.sources[name] = [t, t, url]
        else:
            if t >= known[1]:
                known[2] = url
            min_max(known, t)

    def _collect(self, item: Checked) -> None:
        event, t = item.event, self.sql.time(item.event_time)
        if item.kind == "DatasetEvent":
            self._collect_dataset_event(event["dataset"], t)
            return
        job = (item.job[0], item.job_name)
        parent = item.parent_job
        if parent is None and job in self.renames:  # named without the parent it has
            job = self.renames[job][0]
        self._mention_job(job, item.simple_name, parent[1] if parent else None, t)
        if parent:
            self._mention_job(parent, parent[1], None, t)
            if item.parent_run:
                self._mention_parent_run(item.parent_run, parent, t)
        self.affected_jobs.add(job)
        job_facets = facets_of(event.get("job"))
        for name, value in job_facets.items():
            self._facet("job", job, name, t, value)
        if item.kind == "JobEvent":
            self._collect_job_event(event, job, job_facets, t)
            return
        run_id = item.run_id
        inputs = [self._mention_dataset(d, t, reader=run_id) for d in event.get("inputs") or ()]
        state = RUN_STATE.get(item.event_type or "", "NEW")
        decided = (STATE_RANK[state], t, state)
        run = self.runs.get(run_id)
        if run is None:
            self.runs[run_id] = {"job": job, "span": [t, t], "decided": decided, "parent": item.parent_run}
        else:
            min_max(run["span"], t)
            run["decided"] = max(run["decided"], decided)
            run["parent"] = run["parent"] or item.parent_run
        for name, value in facets_of(event.get("run")).items():
            self._facet("run", run_id, name, t, value)
        for key, dataset in zip(inputs, event.get("inputs") or ()):
            self.run_io.add((run_id, key, "INPUT"))
            for name, value in facets_of(dataset, "inputFacets").items():
                self._facet("input", (run_id, key), name, t, value)
        for dataset in event.get("outputs") or ():
            key = self._dataset_key(dataset, t)
            version = self._version(key, run_id)
            self._mention_dataset(dataset, t, version, key=key)
            self.run_io.add((run_id, key, "OUTPUT"))
            self._written_version(version, key, run_id, "RUN", dataset, t)
            for name, value in facets_of(dataset, "outputFacets").items():
                self._facet("output", (run_id, key), name, t, value)

    def _written_version(self, version: str, key: Key, run_id: str | None, origin: str,
                         dataset: Mapping[str, Any], t: Any) -> None:
        """A version a run's output or a DatasetEvent makes; its facets are the dataset facets (not the
        outputFacets, which belong to the run's output)."""
        known = self.versions.get(version)
        if known is None:
            self.versions[version] = {"dataset": key, "run": run_id, "origin": origin, "span": [t, t]}
        else:
            min_max(known["span"], t)
        for name, value in facets_of(dataset).items():
            self._facet("dataset_version", version, name, t, value)

    def _collect_dataset_event(self, dataset: Mapping[str, Any], t: Any) -> None:
        """A DatasetEvent makes a version, named by what it says of the dataset (as Marquez names versions)."""
        dataset_facets = facets_of(dataset)
        schema = dataset_facets.get("schema")
        lifecycle = dataset_facets.get("lifecycleStateChange", {}).get("lifecycleStateChange")
        source = dataset_facets.get("dataSource", {}).get("name")
        key = self._dataset_key(dataset, t)
        version = version_uuid(*key, "event", store_text(source),
                               self._schema_fields(schema) if schema is not None else None, store_text(lifecycle))
        self._mention_dataset(dataset, t, version, key=key)
        self._written_version(version, key, None, "EVENT", dataset, t)

    def _collect_job_event(self, event: Mapping[str, Any], job: Key, job_facets: Mapping[str, Any], t: Any) -> None:
        """A JobEvent declares a job's datasets (its current edges while newer than its runs) and a job version."""
        inputs = [self._mention_dataset(d, t, reader="") for d in event.get("inputs") or ()]
        outputs = [self._mention_dataset(d, t) for d in event.get("outputs") or ()]
        location = store_text(job_facets.get("sourceCodeLocation", {}).get("url"))
        io = {"inputs": sorted(map(list, set(inputs))), "outputs": sorted(map(list, set(outputs))),
              "location": location}
        self._facet("jobevent", job, "io", t, io)
        key = (job, json.dumps(io, sort_keys=True))
        self.job_event_versions[key] = min_max(self.job_event_versions.get(key), t)

    def _mention_parent_run(self, run_id: str, job: Key, t: Any) -> None:
        """A parent run known only from a child's parent facet: it exists, as Marquez makes it, until its own
        events say more (its state stays NEW, the weakest, so they always decide)."""
        known = self.parent_runs.get(run_id)
        if known is None:
            self.parent_runs[run_id] = {"job": job, "span": [t, t]}
        else:
            min_max(known["span"], t)
