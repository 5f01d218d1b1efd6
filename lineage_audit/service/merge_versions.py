"""The merge of a batch's runs and dataset versions: each run's state and times, its inputs and outputs;
the versions its outputs and DatasetEvents make, the version each run read, the READ versions of datasets
read without one, and each dataset's current version.

A mixin of :class:`~lineage_audit.service.derive.Derivation`, whose ``__init__`` holds the state it shares.
"""

from __future__ import annotations

import json
from typing import Any

from lineage_audit.service.derived_values import maybe_time, schema_fields, store_text, version_uuid
from lineage_audit.service.events import STATE_RANK, TERMINAL
from lineage_audit.service.merge_sql import STATEMENTS, insert_values, select_in


class RunVersionMerge:
    """Writes runs and dataset versions (see :class:`~lineage_audit.service.derive.Derivation`)."""

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
            start, end = maybe_time(nominal.get("nominalStartTime")), maybe_time(nominal.get("nominalEndTime"))
            first, last = run["span"]
            if run_id in self.parent_runs:  # its children's events count, as they do when they come in another batch
                first, last = min(first, self.parent_runs[run_id]["span"][0]), max(last, self.parent_runs[run_id]["span"][1])
            rows.append({
                "uuid": run_id, "job_id": self.job_ids[run["job"]], "job_version_uuid": None,
                "parent_run_uuid": run["parent"], "state": state, "state_rank": rank, "state_time": state_time,
                "started_at": run["span"][0], "ended_at": state_time if state in TERMINAL else None,
                "nominal_start_time": self.sql.time(start) if start else None,
                "nominal_end_time": self.sql.time(end) if start and end else None,
                "created_at": first, "updated_at": last})
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
                             "lifecycle": store_text(lifecycle.get("lifecycleStateChange"), 32) if lifecycle else None,
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
        # by dataset (indexed), keeping the reads of the READ version: a scan of run_io by version would cost
        # every single-event ingest time in proportion to all the reads ever stored
        for dataset_id, run_id, version, started in select_in(
                self.sql, self.cur, "SELECT run_io.dataset_id, run_io.run_uuid, run_io.dataset_version_uuid, "
                                    "COALESCE(runs.started_at, runs.created_at) FROM run_io JOIN runs ON runs.uuid = "
                                    "run_io.run_uuid WHERE run_io.direction = 'INPUT' AND run_io.dataset_id IN {in}",
                sorted(read_uuid)):
            if version != read_uuid[dataset_id]:
                continue
            if dataset_id not in first_read or (started, run_id) < first_read[dataset_id]:
                first_read[dataset_id] = (started, run_id)
        # its fields are those the first reader saw
        schemas = dict(select_in(self.sql, self.cur, "SELECT owner_key, value FROM facets WHERE owner_kind = 'read' "
                                                     "AND name = 'schema' AND owner_key IN {in}",
                                 [f"{run_id}:{i}" for i, (_t, run_id) in sorted(first_read.items())]))
        rows = []
        for i, (started, run_id) in sorted(first_read.items()):
            schema = self.sql.loads(schemas.get(f"{run_id}:{i}"))
            fields = schema_fields(schema) if isinstance(schema, dict) else None
            rows.append({"uuid": read_uuid[i], "dataset": i, "fields": json.dumps(fields or []), "first": started})
        self.executemany(STATEMENTS["read_version"], rows)
        self.executemany("DELETE FROM dataset_versions WHERE uuid = :version AND origin = 'READ'",
                         [{"version": read_uuid[i]} for i in dataset_ids if i not in first_read])
