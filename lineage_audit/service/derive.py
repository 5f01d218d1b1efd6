"""The model derived from a batch of new events: reduced in memory, then merged into the store.

Every derived value is a merge that ends the same whatever order its inputs arrive in (see
:mod:`lineage_audit.service.ingest`). Reduction keeps one row per run, dataset, job and facet;
the merge then writes each table with a few statements (:mod:`lineage_audit.service.merge_sql`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any, Mapping

from lineage_audit.service.events import (
    INTERNAL_FACETS, NAME_LIMIT, RUN_STATE, STATE_RANK, TERMINAL, Checked, Key, dumps, parse_time)
from lineage_audit.service.job_renames import finished_runs_of, find_renames, move_parentless_jobs
from lineage_audit.service.merge_sql import CHUNK, STATEMENTS, Sql, cursor_for, insert_values, run_statement, select_in
from lineage_audit.service.symlinks import SymlinkNames

VERSION_NAMESPACE = uuid.UUID("6f1f6d52-3f77-4f5e-9d3f-6b1c0f9b7a11")  # uuid5 namespace of derived versions


def version_uuid(*parts: Any) -> str:
    return str(uuid.uuid5(VERSION_NAMESPACE, json.dumps(parts, sort_keys=True, default=str)))


def _facets_of(owner: Any, key: str = "facets") -> dict[str, Any]:
    value = owner.get(key) if isinstance(owner, dict) else None
    return {k: v for k, v in value.items() if isinstance(v, dict)} if isinstance(value, dict) else {}


def _text(value: Any, limit: int | None = None) -> str | None:
    """A string the store can hold (no NUL, at most ``limit`` characters), or None."""
    if value.__class__ is not str:
        return None
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value[:limit] if limit and len(value) > limit else value


def _name(value: Any) -> str | None:
    """A name the store can key by, or None."""
    return value if value.__class__ is str and 0 < len(value) <= NAME_LIMIT and "\x00" not in value else None


def _schema_fields(facet: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    fields = facet.get("fields")
    if not isinstance(fields, list):
        return None
    found, seen = [], set()
    for f in fields:
        name = _name(f.get("name")) if isinstance(f, dict) else None
        if name is not None and name not in seen:
            seen.add(name)
            found.append({"name": name, "type": _text(f.get("type"), 256), "description": _text(f.get("description"))})
    return found


def _lineage_inputs(facet: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """``(output field, input entry)`` of a columnLineage facet; "" is the dataset-level dependencies."""
    found = []
    fields = facet.get("fields")
    if isinstance(fields, dict):
        for field, body in fields.items():
            if _name(field) is not None and isinstance(body, dict) and isinstance(body.get("inputFields"), list):
                found += [(field, entry) for entry in body["inputFields"]]
    if isinstance(facet.get("dataset"), list):
        found += [("", entry) for entry in facet["dataset"]]
    return [(field, entry) for field, entry in found
            if isinstance(entry, dict) and _name(entry.get("namespace")) and _name(entry.get("name"))]


def legacy_transformation(facet: Mapping[str, Any], field: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The transformation of an input field in columnLineage 1-0-0: ``transformationType`` and
    ``transformationDescription``, on the input field or else on its output field."""
    body = facet.get("fields", {}).get(field) if isinstance(facet.get("fields"), dict) else None
    keys = ("transformationType", "transformationDescription")
    source = entry if any(k in entry for k in keys) else body if isinstance(body, dict) else {}
    return {"type": source.get("transformationType"), "description": source.get("transformationDescription")}


def _source_type(url: str) -> str:
    scheme = url.split(":", 1)[0].lower() if ":" in url else url.lower()
    known = {"postgres": "POSTGRESQL", "postgresql": "POSTGRESQL", "mysql": "MYSQL", "s3": "S3", "s3a": "S3",
             "gs": "GCS", "hdfs": "HDFS", "file": "FILE", "kafka": "KAFKA"}
    return known.get(scheme) or (scheme.upper()[:64] or "UNKNOWN")


def _maybe_time(value: Any) -> datetime | None:
    try:
        return parse_time(value) if value else None
    except ValueError:
        return None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()



def _min_max(span: list[Any] | None, t: Any) -> list[Any]:
    if span is None:
        return [t, t]
    if t < span[0]:
        span[0] = t
    if t > span[1]:
        span[1] = t
    return span


def _later(candidate: Any, current: Any) -> bool:
    return current is None or candidate > current



class Derivation:
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
        return self._once("fields", facet, _schema_fields)

    def _lineage_inputs(self, facet: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
        return self._once("lineage", facet, _lineage_inputs)

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
        self.namespaces[key[0]] = _min_max(self.namespaces.get(key[0]), t)
        known = self.jobs.get(key)
        if known is None:
            self.jobs[key] = [t, t, simple, parent]
        else:
            _min_max(known, t)
            known[3] = known[3] or parent

    def _dataset_key(self, dataset: Mapping[str, Any], t: Any) -> Key:
        """The dataset an event names: the one that has the name among its symlinks, or the one named so;
        the names the dataset's symlinks facet declares become its symlinks where no dataset has them."""
        key = self.names.resolve((dataset["namespace"], dataset["name"]))
        symlinks = _facets_of(dataset).get("symlinks")
        if symlinks is not None:
            self.names.declare(key, symlinks, t)
        return key

    def _mention_dataset(self, dataset: Mapping[str, Any], t: Any, version: str | None = None,
                         reader: str | None = None, key: Key | None = None) -> Key:
        """A dataset an event names; ``reader`` is the run reading it, "" a reader without a run (a JobEvent's
        input), None a writer (a run's output, a DatasetEvent, a JobEvent's output)."""
        key = key or self._dataset_key(dataset, t)
        self._name_dataset(key, t)
        dataset_facets = _facets_of(dataset)
        source = dataset_facets.get("dataSource", {})
        source_name = _name(source.get("name"))
        if source_name is None:  # without a dataSource facet, a dataset's namespace is its source
            self._source(key[0], key[0], t)
        else:
            self._source(source_name, _text(source.get("uri")) or source_name, t)
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
        self.namespaces[key[0]] = _min_max(self.namespaces.get(key[0]), t)
        self.datasets[key] = _min_max(self.datasets.get(key), t)

    def _source(self, name: str, url: str, t: Any) -> None:
        known = self.sources.get(name)
        if known is None:
            self.sources[name] = [t, t, url]
        else:
            if t >= known[1]:
                known[2] = url
            _min_max(known, t)

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
        job_facets = _facets_of(event.get("job"))
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
            _min_max(run["span"], t)
            run["decided"] = max(run["decided"], decided)
            run["parent"] = run["parent"] or item.parent_run
        for name, value in _facets_of(event.get("run")).items():
            self._facet("run", run_id, name, t, value)
        for key, dataset in zip(inputs, event.get("inputs") or ()):
            self.run_io.add((run_id, key, "INPUT"))
            for name, value in _facets_of(dataset, "inputFacets").items():
                self._facet("input", (run_id, key), name, t, value)
        for dataset in event.get("outputs") or ():
            key = self._dataset_key(dataset, t)
            version = self._version(key, run_id)
            self._mention_dataset(dataset, t, version, key=key)
            self.run_io.add((run_id, key, "OUTPUT"))
            self._written_version(version, key, run_id, "RUN", dataset, t)
            for name, value in _facets_of(dataset, "outputFacets").items():
                self._facet("output", (run_id, key), name, t, value)

    def _written_version(self, version: str, key: Key, run_id: str | None, origin: str,
                         dataset: Mapping[str, Any], t: Any) -> None:
        """A version a run's output or a DatasetEvent makes; its facets are the dataset facets (not the
        outputFacets, which belong to the run's output)."""
        known = self.versions.get(version)
        if known is None:
            self.versions[version] = {"dataset": key, "run": run_id, "origin": origin, "span": [t, t]}
        else:
            _min_max(known["span"], t)
        for name, value in _facets_of(dataset).items():
            self._facet("dataset_version", version, name, t, value)

    def _collect_dataset_event(self, dataset: Mapping[str, Any], t: Any) -> None:
        """A DatasetEvent makes a version, named by what it says of the dataset (as Marquez names versions)."""
        dataset_facets = _facets_of(dataset)
        schema = dataset_facets.get("schema")
        lifecycle = dataset_facets.get("lifecycleStateChange", {}).get("lifecycleStateChange")
        source = dataset_facets.get("dataSource", {}).get("name")
        key = self._dataset_key(dataset, t)
        version = version_uuid(*key, "event", _text(source),
                               self._schema_fields(schema) if schema is not None else None, _text(lifecycle))
        self._mention_dataset(dataset, t, version, key=key)
        self._written_version(version, key, None, "EVENT", dataset, t)

    def _collect_job_event(self, event: Mapping[str, Any], job: Key, job_facets: Mapping[str, Any], t: Any) -> None:
        """A JobEvent declares a job's datasets (its current edges while newer than its runs) and a job version."""
        inputs = [self._mention_dataset(d, t, reader="") for d in event.get("inputs") or ()]
        outputs = [self._mention_dataset(d, t) for d in event.get("outputs") or ()]
        location = _text(job_facets.get("sourceCodeLocation", {}).get("url"))
        io = {"inputs": sorted(map(list, set(inputs))), "outputs": sorted(map(list, set(outputs))),
              "location": location}
        self._facet("jobevent", job, "io", t, io)
        key = (job, json.dumps(io, sort_keys=True))
        self.job_event_versions[key] = _min_max(self.job_event_versions.get(key), t)

    def _mention_parent_run(self, run_id: str, job: Key, t: Any) -> None:
        """A parent run known only from a child's parent facet: it exists, as Marquez makes it, until its own
        events say more (its state stays NEW, the weakest, so they always decide)."""
        known = self.parent_runs.get(run_id)
        if known is None:
            self.parent_runs[run_id] = {"job": job, "span": [t, t]}
        else:
            _min_max(known["span"], t)

    # -- namespaces, sources, datasets and jobs --
    def _write_names(self) -> None:
        self.executemany(STATEMENTS["namespace"], [{"name": n, "first": s[0], "last": s[1]}
                                             for n, s in sorted(self.namespaces.items())])
        self.executemany(STATEMENTS["source"], [{"name": n, "type": _source_type(s[2]), "url": s[2], "first": s[0],
                                           "last": s[1]} for n, s in sorted(self.sources.items())])
        rows = [{"namespace": ns, "name": name, "source_name": ns, "type": "DB_TABLE", "description": None,
                 "created_at": s[0], "updated_at": s[1]} for (ns, name), s in sorted(self.datasets.items())]
        for dataset_id, ns, name, source_name, description in insert_values(
                self.sql, self.cur, "datasets", rows, STATEMENTS["datasets"]):
            self.dataset_ids[(ns, name)] = dataset_id
            self.dataset_rows[dataset_id] = {"source_name": source_name, "description": description}
        self.names.write(self.sql, self.cur, self.dataset_ids)
        rows = [{"namespace": ns, "name": name, "simple_name": j[2], "parent_job_name": j[3], "type": "BATCH",
                 "created_at": j[0], "updated_at": j[1]} for (ns, name), j in sorted(self.jobs.items())]
        for job_id, ns, name, job_type, location, description in insert_values(
                self.sql, self.cur, "jobs", rows, STATEMENTS["jobs"]):
            self.job_ids[(ns, name)] = job_id
            self.job_names[job_id] = (ns, name)
            self.job_rows[job_id] = {"type": job_type, "location": location, "description": description}

    def _know_jobs(self, job_ids: set[int]) -> None:
        """Names, locations and JobEvent datasets of jobs the batch's runs belong to but its events do not name."""
        self.run_jobs |= job_ids
        missing = sorted(job_ids - set(self.job_rows))
        if not missing:
            return
        for job_id, ns, name, job_type, location, description in select_in(
                self.sql, self.cur, "SELECT id, namespace, name, type, location, description FROM jobs "
                                    "WHERE id IN {in}", missing):
            self.job_names[job_id] = (ns, name)
            self.job_rows[job_id] = {"type": job_type, "location": location, "description": description}
        for key, t, value in select_in(
                self.sql, self.cur, "SELECT owner_key, event_time, value FROM facets WHERE owner_kind = 'jobevent' "
                                    "AND name = 'io' AND owner_key IN {in}", [str(i) for i in missing]):
            self.stored[("jobevent", key, "io")] = (t, self.sql.loads(value))

    # -- facets and what follows from them --
    def _owner_key(self, kind: str, owner: Any) -> str:
        if kind in ("job", "jobevent"):
            return str(self.job_ids[owner])
        if kind in ("dataset", "fields", "lineage", "written"):
            return str(self.dataset_ids[owner])
        if kind in ("input", "output", "read"):  # a run's input or output: "<run>:<dataset id>"
            return f"{owner[0]}:{self.dataset_ids[owner[1]]}"
        return owner

    def _read_stored_facets(self) -> None:
        owners: set[tuple[str, str]] = {(kind, self._owner_key(kind, owner)) for kind, owner, _ in self.facets}
        for kind, owner, name in self.facets:
            if kind == "dataset" and name in ("schema", "columnLineage"):
                owners.add(("fields" if name == "schema" else "lineage", self._owner_key(kind, owner)))
                if name == "schema":  # whether a writer's schema stands against a reader's
                    owners.add(("written", self._owner_key(kind, owner)))
        owners |= {("jobevent", str(self.job_ids[job])) for job in self.affected_jobs}
        ordered = sorted(owners)
        for start in range(0, len(ordered), CHUNK):
            by_kind: dict[str, list[str]] = defaultdict(list)
            for kind, key in ordered[start:start + CHUNK]:
                by_kind[kind].append(key)
            params: dict[str, Any] = {}
            terms = []
            for number, (kind, keys) in enumerate(sorted(by_kind.items())):
                params[f"kind_{number}"] = kind
                names = []
                for position, key in enumerate(keys):
                    params[f"key_{number}_{position}"] = key
                    names.append(f":key_{number}_{position}")
                terms.append(f"(owner_kind = :kind_{number} AND owner_key IN ({', '.join(names)}))")
            internal = ", ".join(f"'{k}'" for k in INTERNAL_FACETS)
            for kind, key, name, t, value in self.execute(
                    f"SELECT owner_kind, owner_key, name, event_time, CASE WHEN owner_kind IN ({internal}) THEN value "
                    f"END FROM facets WHERE {' OR '.join(terms)}", params):
                self.stored[(kind, key, name)] = (t, self.sql.loads(value) if value is not None else None)

    def _write_facets(self) -> None:
        self._read_stored_facets()
        rows = []
        for (kind, owner, name), (t, value, origin) in self.facets.items():
            key = self._owner_key(kind, owner)
            old = self.stored.get((kind, key, name))
            if old is None or t >= old[0]:
                self.winners[(kind, owner, name)] = (t, value, origin)
                rows.append({"kind": kind, "key": key, "name": name, "time": t, "value": self._json(value)})
        rows += self._follow_dataset_facets()
        self._follow_job_facets()
        rows.sort(key=lambda r: (r["kind"], r["key"], r["name"]))
        self.executemany(STATEMENTS["facet"], [r for r in rows if r["kind"] != "fields"])
        # the digest of the schema the fields follow now, though older than a reader's schema that set them before
        self.executemany(STATEMENTS["facet_set"], [r for r in rows if r["kind"] == "fields"])

    def _won(self, kind: str, owner: Any, name: str) -> Mapping[str, Any] | None:
        found = self.winners.get((kind, owner, name))
        return found[1] if found else None

    def _follow_job_facets(self) -> None:
        updates = []
        for key, job_id in self.job_ids.items():
            row = self.job_rows[job_id]
            wanted = dict(row)
            job_type = self._won("job", key, "jobType")
            if job_type is not None:
                wanted["type"] = "STREAM" if job_type.get("processingType") == "STREAMING" else "BATCH"
            location = self._won("job", key, "sourceCodeLocation")
            if location is not None:
                wanted["location"] = _text(location.get("url"))
            documentation = self._won("job", key, "documentation")
            if documentation is not None:
                wanted["description"] = _text(documentation.get("description"))
            if wanted != row:
                row.update(wanted)
                updates.append({"id": job_id, **wanted})
        self.executemany("UPDATE jobs SET type = :type, location = :location, description = :description "
                         "WHERE id = :id", sorted(updates, key=lambda r: r["id"]))

    def _follow_dataset_facets(self) -> list[dict[str, Any]]:
        """Sources, descriptions, fields and column lineage of the datasets whose facets won."""
        updates, internal, replace_fields, field_rows = [], [], [], []
        for key, dataset_id in self.dataset_ids.items():
            row = self.dataset_rows[dataset_id]
            wanted = dict(row)
            source = self._won("dataset", key, "dataSource")
            if source is not None:
                wanted["source_name"] = _name(source.get("name")) or key[0]
            documentation = self._won("dataset", key, "documentation")
            if documentation is not None:
                wanted["description"] = _text(documentation.get("description"))
            if wanted != row:
                updates.append({"id": dataset_id, **wanted})
            schema = self._schema_of_fields(key, dataset_id)
            if schema is None or not isinstance(schema[1].get("fields"), list):
                continue
            digest = _digest(self._json(schema[1]))
            stored = self.stored.get(("fields", str(dataset_id), "digest"))
            if not stored or stored[1] != {"sha256": digest}:
                replace_fields.append(dataset_id)
                field_rows += [{"dataset": dataset_id, "name": f["name"], "type": f["type"],
                                "description": f["description"], "position": position}
                               for position, f in enumerate(self._schema_fields(schema[1]))]
            internal.append({"kind": "fields", "key": str(dataset_id), "name": "digest", "time": schema[0],
                             "value": json.dumps({"sha256": digest})})
        self.executemany("UPDATE datasets SET source_name = :source_name, description = :description WHERE id = :id",
                         sorted(updates, key=lambda r: r["id"]))
        if replace_fields:
            select_in(self.sql, self.cur, "DELETE FROM dataset_fields WHERE dataset_id IN {in}", replace_fields)
            self.executemany("INSERT INTO dataset_fields (dataset_id, name, type, description, position) "
                             "VALUES (:dataset, :name, :type, :description, :position)", field_rows)
        return internal + self._follow_column_lineage()

    def _schema_of_fields(self, key: Key, dataset_id: int) -> tuple[Any, Any, Any] | None:
        """The schema a dataset's fields follow now, if it changed: the newest writer's; a reader's only
        while no writer ever gave one (a reader never changes the fields a writer set)."""
        written = self.winners.get(("written", key, "schema"))
        if written is not None:
            return written
        if ("written", key, "schema") in self.facets or ("written", str(dataset_id), "schema") in self.stored:
            return None
        return self.winners.get(("dataset", key, "schema"))

    def _follow_column_lineage(self) -> list[dict[str, Any]]:
        internal, replace, moved, rows = [], [], [], []
        for key, dataset_id in self.dataset_ids.items():
            found = self.winners.get(("dataset", key, "columnLineage"))
            if found is None:
                continue
            t, facet, version = found
            digest = _digest(self._json(facet))
            stored_time, stored = self.stored.get(("lineage", str(dataset_id), "digest"), (None, None))
            internal.append({"kind": "lineage", "key": str(dataset_id), "name": "digest", "time": t,
                             "value": json.dumps({"sha256": digest, "version": version})})
            if stored and stored.get("sha256") == digest:  # the same lineage (START, then COMPLETE)
                if stored.get("version") != version or stored_time != t:
                    moved.append({"id": dataset_id, "version": version, "time": t})
                continue
            replace.append(dataset_id)
            for field, entry in self._lineage_inputs(facet):
                input_id = self.dataset_ids[self.names.aliases.get((entry["namespace"], entry["name"]),
                                                                   (entry["namespace"], entry["name"]))]
                transformations = entry.get("transformations")
                if not isinstance(transformations, list):  # columnLineage 1-0-0: no list, the older keys
                    transformations = [legacy_transformation(facet, field, entry)]
                if not transformations:
                    transformations = [{}]
                for transformation in transformations:
                    if not isinstance(transformation, dict):
                        transformation = {}
                    rows.append({"output": dataset_id, "field": field, "input": input_id,
                                 "input_field": _name(entry.get("field")) or "",
                                 "type": _text(transformation.get("type"), 16),
                                 "subtype": _text(transformation.get("subtype"), 32),
                                 "description": _text(transformation.get("description")),
                                 "masking": transformation.get("masking") is True, "version": version, "time": t})
        if replace:
            select_in(self.sql, self.cur, "DELETE FROM field_lineage WHERE output_dataset_id IN {in}", replace)
            self.executemany(
                "INSERT INTO field_lineage (output_dataset_id, output_field, input_dataset_id, input_field, "
                "transformation_type, transformation_subtype, transformation_description, masking, "
                "dataset_version_uuid, updated_at) VALUES (:output, :field, :input, :input_field, :type, :subtype, "
                ":description, :masking, :version, :time)", rows)
        self.executemany("UPDATE field_lineage SET dataset_version_uuid = :version, updated_at = :time "
                         "WHERE output_dataset_id = :id", moved)
        return internal

    # -- runs --
    def _write_runs(self) -> list[tuple]:
        """Merge the runs; returns ``(run, job id, state time, former job version)`` of those with a job version:
        the finished ones and the running ones of streaming jobs."""
        if not self.runs and not self.parent_runs:
            return []
        rows = self._parent_run_rows()
        for run_id, run in sorted(self.runs.items()):
            rank, state_time, state = run["decided"]
            nominal = self._won("run", run_id, "nominalTime") or {}
            start, end = _maybe_time(nominal.get("nominalStartTime")), _maybe_time(nominal.get("nominalEndTime"))
            rows.append({
                "uuid": run_id, "job_id": self.job_ids[run["job"]], "job_version_uuid": None,
                "parent_run_uuid": run["parent"], "state": state, "state_rank": rank, "state_time": state_time,
                "started_at": run["span"][0], "ended_at": state_time if state in TERMINAL else None,
                "nominal_start_time": self.sql.time(start) if start else None,
                "nominal_end_time": self.sql.time(end) if start and end else None,
                "created_at": run["span"][0], "updated_at": run["span"][1]})
        merged = insert_values(self.sql, self.cur, "runs", sorted(rows, key=lambda r: r["uuid"]), STATEMENTS["runs"])
        # a run keeps the job of its first event: a later event naming another job does not move it
        self._know_jobs({job_id for _run, job_id, *_rest in merged})
        self.executemany(STATEMENTS["run_io"], [
            {"run": run_id, "dataset": self.dataset_ids[key], "direction": direction,
             "version": self._version(key, run_id) if direction == "OUTPUT" else None}
            for run_id, key, direction in sorted(self.run_io)])
        # a streaming job's run has its version while it runs, as Marquez versions streaming jobs
        return [(run_id, job_id, state_time, former) for run_id, job_id, state, state_time, former in merged
                if state in TERMINAL or (state == "RUNNING" and self.job_rows[job_id]["type"] == "STREAM")]

    def _parent_run_rows(self) -> list[dict[str, Any]]:
        """Rows of the parent runs the batch names without events of their own in it: NEW, not started."""
        rows = []
        for run_id, run in sorted(self.parent_runs.items()):
            if run_id in self.runs:
                continue
            first, last = run["span"]
            rows.append({"uuid": run_id, "job_id": self.job_ids[run["job"]], "job_version_uuid": None,
                         "parent_run_uuid": None, "state": "NEW", "state_rank": STATE_RANK["NEW"], "state_time": first,
                         "started_at": None, "ended_at": None, "nominal_start_time": None, "nominal_end_time": None,
                         "created_at": first, "updated_at": last})
        return rows

    # -- dataset versions --
    def _write_versions(self) -> None:
        since: dict[int, Any] = {}  # per dataset: from when its readers may read something else now
        if self.versions:
            before = dict(select_in(self.sql, self.cur, "SELECT uuid, event_time FROM dataset_versions "
                                                         "WHERE uuid IN {in}", sorted(self.versions)))
            rows = []
            for version, seen in sorted(self.versions.items()):
                dataset_id = self.dataset_ids[seen["dataset"]]
                first = seen["span"][0] if before.get(version) is None else min(seen["span"][0], before[version])
                since[dataset_id] = first if dataset_id not in since else min(since[dataset_id], first)
                schema = self._won("dataset_version", version, "schema")
                fields = self._schema_fields(schema) if schema is not None else None
                lifecycle = self._won("dataset_version", version, "lifecycleStateChange")
                rows.append({"uuid": version, "dataset": dataset_id, "run": seen["run"], "origin": seen["origin"],
                             "fields": json.dumps(fields or []), "fields_won": fields is not None,
                             "lifecycle": _text(lifecycle.get("lifecycleStateChange"), 32) if lifecycle else None,
                             "lifecycle_won": lifecycle is not None, "first": seen["span"][0],
                             "last": seen["span"][1]})
            self.executemany(STATEMENTS["version"], rows)
        if self.runs:  # a writer that completed in this batch makes its versions current (and readable)
            for dataset_id, first in select_in(self.sql, self.cur, "SELECT dataset_id, MIN(created_at) FROM "
                                               "dataset_versions WHERE run_uuid IN {in} GROUP BY dataset_id",
                                               sorted(self.runs)):
                since[dataset_id] = first if dataset_id not in since else min(since[dataset_id], first)
        readers = sorted({run_id for run_id, _key, direction in self.run_io if direction == "INPUT"})
        if readers:
            select_in(self.sql, self.cur, STATEMENTS["input_versions"] + "run_io.run_uuid IN {in}", readers)
        self.executemany(STATEMENTS["input_versions"] + "run_io.dataset_id = :dataset AND EXISTS (SELECT 1 FROM runs r "
                         "WHERE r.uuid = run_io.run_uuid AND r.started_at >= :since)",
                         [{"dataset": i, "since": t} for i, t in sorted(since.items())])
        affected = sorted(set(since) | {self.dataset_ids[key] for _r, key, d in self.run_io if d == "INPUT"})
        self._write_read_versions(affected)
        self.executemany(STATEMENTS["current_version"], [{"id": i} for i in affected])
        self.executemany(STATEMENTS["dropped"], [{"id": i} for i in sorted(set(self.dataset_ids.values()))])

    def _write_read_versions(self, dataset_ids: list[int]) -> None:
        """The READ version of each dataset whose readers found no written version: Marquez makes one when a run
        reads a dataset without a current version. It exists while some reader reads it, from the first one."""
        if not dataset_ids:
            return
        names = {i: key for key, i in self.dataset_ids.items()}
        names |= {i: (ns, name) for i, ns, name in select_in(
            self.sql, self.cur, "SELECT id, namespace, name FROM datasets WHERE id IN {in}",
            [i for i in dataset_ids if i not in names])}
        read_uuid = {i: version_uuid(*names[i], "read") for i in dataset_ids}
        self.executemany("UPDATE run_io SET dataset_version_uuid = :version WHERE dataset_id = :dataset AND "
                         "direction = 'INPUT' AND dataset_version_uuid IS NULL",
                         [{"dataset": i, "version": read_uuid[i]} for i in dataset_ids])
        first_read: dict[int, tuple[Any, str]] = {}  # dataset -> (start, run) of its first reader
        for dataset_id, run_id, started in select_in(
                self.sql, self.cur, "SELECT run_io.dataset_id, run_io.run_uuid, COALESCE(runs.started_at, "
                                    "runs.created_at) FROM run_io JOIN runs ON runs.uuid = run_io.run_uuid WHERE "
                                    "run_io.direction = 'INPUT' AND run_io.dataset_version_uuid IN {in}",
                sorted(read_uuid.values())):
            if dataset_id not in first_read or (started, run_id) < first_read[dataset_id]:
                first_read[dataset_id] = (started, run_id)
        # its fields are those the first reader saw
        schemas = dict(select_in(self.sql, self.cur, "SELECT owner_key, value FROM facets WHERE owner_kind = 'read' "
                                                     "AND name = 'schema' AND owner_key IN {in}",
                                 [f"{run_id}:{i}" for i, (_t, run_id) in sorted(first_read.items())]))
        rows = []
        for i, (started, run_id) in sorted(first_read.items()):
            schema = self.sql.loads(schemas.get(f"{run_id}:{i}"))
            fields = _schema_fields(schema) if isinstance(schema, dict) else None
            rows.append({"uuid": read_uuid[i], "dataset": i, "fields": json.dumps(fields or []), "first": started})
        self.executemany(STATEMENTS["read_version"], rows)
        self.executemany("DELETE FROM dataset_versions WHERE uuid = :version AND origin = 'READ'",
                         [{"version": read_uuid[i]} for i in dataset_ids if i not in first_read])

    # -- job versions, latest runs and the current job <-> dataset edges --
    def _write_job_versions(self, finished: list[tuple]) -> None:
        if not finished:
            return
        io: dict[str, dict[str, list]] = defaultdict(lambda: {"INPUT": [], "OUTPUT": []})
        for run_id, direction, namespace, name in select_in(
                self.sql, self.cur, "SELECT run_io.run_uuid, run_io.direction, datasets.namespace, datasets.name "
                                    "FROM run_io JOIN datasets ON datasets.id = run_io.dataset_id "
                                    "WHERE run_io.run_uuid IN {in}", sorted(f[0] for f in finished)):
            io[run_id][direction].append([namespace, name])
        versions: dict[str, dict[str, Any]] = {}
        moved, orphans = [], []
        for run_id, job_id, state_time, former in finished:
            inputs, outputs = sorted(io[run_id]["INPUT"]), sorted(io[run_id]["OUTPUT"])
            location = self.job_rows[job_id]["location"]
            version = version_uuid(*self.job_names[job_id], inputs, outputs, location)
            known = versions.get(version)
            if known is None:
                versions[version] = {"uuid": version, "job": job_id, "location": location, "inputs": json.dumps(inputs),
                                     "outputs": json.dumps(outputs), "run": run_id, "created": state_time,
                                     "updated": state_time}
            else:  # two runs of the batch share a version: one row, as the upsert would merge them
                known["created"] = min(known["created"], state_time)
                if (state_time, run_id) > (known["updated"], known["run"]):
                    known["updated"], known["run"] = state_time, run_id
            if former != version:
                moved.append({"run": run_id, "version": version})
                if former:
                    orphans.append({"version": former, "job": job_id})
        self.executemany(STATEMENTS["job_version"], [versions[v] for v in sorted(versions)])
        self.executemany("UPDATE runs SET job_version_uuid = :version WHERE uuid = :run", moved)
        # a run that learnt of more datasets after it finished moved to another version: drop the one it left
        self.executemany("DELETE FROM job_versions WHERE uuid = :version AND NOT EXISTS (SELECT 1 FROM runs "
                         "WHERE runs.job_id = :job AND runs.job_version_uuid = :version)", orphans)

    def _write_runless_job_versions(self) -> None:
        """The job versions JobEvents declare (named as a run's version of the same datasets and location is)."""
        rows = []
        for (job, text), (first, last) in sorted(self.job_event_versions.items()):
            io = json.loads(text)
            rows.append({"uuid": version_uuid(*job, io["inputs"], io["outputs"], io["location"]),
                         "job": self.job_ids[job], "location": io["location"], "inputs": json.dumps(io["inputs"]),
                         "outputs": json.dumps(io["outputs"]), "created": first, "updated": last})
        self.executemany(STATEMENTS["runless_job_version"], rows)

    def _write_job_edges(self) -> None:
        affected = sorted({self.job_ids[key] for key in self.affected_jobs} | self.run_jobs)
        if not affected:
            return
        self.executemany(STATEMENTS["job_latest"], [{"id": i} for i in affected])
        latest = {job_id: (run_id, t) for job_id, run_id, t in select_in(
            self.sql, self.cur, "SELECT id, latest_run_uuid, latest_run_time FROM jobs WHERE id IN {in}", affected)}
        declared: dict[int, dict[str, Any]] = {}  # the newest JobEvent's datasets, where newer than the latest run
        for job_id in affected:
            won = self.winners.get(("jobevent", self.job_names[job_id], "io"))
            stored = self.stored.get(("jobevent", str(job_id), "io"))
            t, value = (won[0], won[1]) if won else stored if stored else (None, None)
            run_id, run_time = latest.get(job_id, (None, None))
            if value is not None and (run_id is None or _later(t, run_time)):
                declared[job_id] = value
        # a JobEvent newer than the job's runs also makes its version the current one
        self.executemany("UPDATE jobs SET current_version = :version WHERE id = :id", [
            {"id": i, "version": version_uuid(*self.job_names[i], v["inputs"], v["outputs"], v.get("location"))}
            for i, v in sorted(declared.items())])
        wanted: dict[int, set[tuple[int, str]]] = {i: set() for i in affected}
        by_run = {run_id: job_id for job_id, (run_id, _t) in latest.items() if run_id and job_id not in declared}
        for run_id, dataset_id, direction in select_in(
                self.sql, self.cur, "SELECT run_uuid, dataset_id, direction FROM run_io WHERE run_uuid IN {in}",
                sorted(by_run)):
            wanted[by_run[run_id]].add((dataset_id, direction))
        if declared:
            named = {tuple(n) for v in declared.values() for d in ("inputs", "outputs") for n in v.get(d, ())}
            ids = self._dataset_ids_of(named)
            for job_id, value in declared.items():
                for direction, key in (("INPUT", "inputs"), ("OUTPUT", "outputs")):
                    wanted[job_id] |= {(ids[tuple(n)], direction) for n in value.get(key, ()) if tuple(n) in ids}
        current: dict[int, set[tuple[int, str]]] = {i: set() for i in affected}
        for job_id, dataset_id, direction in select_in(
                self.sql, self.cur, "SELECT job_id, dataset_id, direction FROM job_io WHERE job_id IN {in}", affected):
            current[job_id].add((dataset_id, direction))
        changed = [i for i in affected if wanted[i] != current[i]]
        if changed:
            select_in(self.sql, self.cur, "DELETE FROM job_io WHERE job_id IN {in}", changed)
            self.executemany("INSERT INTO job_io (job_id, dataset_id, direction) VALUES (:job, :dataset, :direction)",
                             [{"job": i, "dataset": d, "direction": direction}
                              for i in changed for d, direction in sorted(wanted[i])])

    def _dataset_ids_of(self, keys: set[tuple]) -> dict[tuple, int]:
        found = {k: self.dataset_ids[k] for k in keys if k in self.dataset_ids}
        missing = sorted(k for k in keys if k not in found)
        for start in range(0, len(missing), CHUNK // 2):
            chunk = missing[start:start + CHUNK // 2]
            params = {f"ns_{n}": ns for n, (ns, _) in enumerate(chunk)} | {f"n_{n}": nm for n, (_, nm) in enumerate(chunk)}
            terms = " OR ".join(f"(namespace = :ns_{n} AND name = :n_{n})" for n in range(len(chunk)))
            for dataset_id, ns, name in self.execute(f"SELECT id, namespace, name FROM datasets WHERE {terms}", params):
                found[(ns, name)] = dataset_id
        return found
