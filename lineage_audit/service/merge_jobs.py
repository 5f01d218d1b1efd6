"""The merge of what a batch changes of its jobs: the job version of each finished run and of each JobEvent,
each job's latest run and current version, and its current edges to datasets (the latest run's, or the
newest JobEvent's while it is newer than the runs).

A mixin of :class:`~lineage_audit.service.derive.Derivation`, whose ``__init__`` holds the state it shares.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from lineage_audit.service.derived_values import is_later, version_uuid
from lineage_audit.service.merge_sql import CHUNK, STATEMENTS, select_in


class JobMerge:
    """Writes job versions, latest runs and job edges (see :class:`~lineage_audit.service.derive.Derivation`)."""

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
            if value is not None and (run_id is None or is_later(t, run_time)):
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
