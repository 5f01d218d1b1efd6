"""The merge of a batch's names and facets: namespaces, sources, datasets and jobs, then each facet the
batch carries newer than the stored one, and what follows from the facets that won (a dataset's source,
description, fields and current column lineage, a job's type, location and description).

A mixin of :class:`~lineage_audit.service.derive.Derivation`, whose ``__init__`` holds the state it shares.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Mapping

from lineage_audit.service.derived_values import legacy_transformation, sha256_of, source_type, store_name, store_text
from lineage_audit.service.events import INTERNAL_FACETS, Key
from lineage_audit.service.merge_sql import CHUNK, STATEMENTS, insert_values, select_in


class FacetMerge:
    """Writes the names and facets the derivation reduced (see :class:`~lineage_audit.service.derive.Derivation`)."""

    # -- namespaces, sources, datasets and jobs --
    def _write_names(self) -> None:
        self.executemany(STATEMENTS["namespace"], [{"name": n, "first": s[0], "last": s[1]}
                                             for n, s in sorted(self.namespaces.items())])
        self.executemany(STATEMENTS["source"], [{"name": n, "type": source_type(s[2]), "url": s[2], "first": s[0],
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
                wanted["location"] = store_text(location.get("url"))
            documentation = self._won("job", key, "documentation")
            if documentation is not None:
                wanted["description"] = store_text(documentation.get("description"))
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
                wanted["source_name"] = store_name(source.get("name")) or key[0]
            documentation = self._won("dataset", key, "documentation")
            if documentation is not None:
                wanted["description"] = store_text(documentation.get("description"))
            if wanted != row:
                updates.append({"id": dataset_id, **wanted})
            schema = self._schema_of_fields(key, dataset_id)
            if schema is None or not isinstance(schema[1].get("fields"), list):
                continue
            digest = sha256_of(self._json(schema[1]))
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
            digest = sha256_of(self._json(facet))
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
                                 "input_field": store_name(entry.get("field")) or "",
                                 "type": store_text(transformation.get("type"), 16),
                                 "subtype": store_text(transformation.get("subtype"), 32),
                                 "description": store_text(transformation.get("description")),
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
