"""``GET /runlineage/upstream``: the runs upstream of a run, as Marquez's ``UpstreamRunLineage``.

From the run, each step goes from a run to the dataset versions it read, and from each version to
the run that wrote it. A run is listed once, at its fewest steps from the start (the start itself
at 0), with every dataset version it read; ``depth`` bounds the steps. Runs come ordered by steps,
then job name, as Marquez orders them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from lineage_audit.service.db import dataset_versions, datasets, jobs, run_io, runs
from lineage_audit.service.node_ids import among, chunks
from lineage_audit.service.views import iso


def upstream_runs(conn: Connection, run_id: str, depth: int) -> dict[str, Any]:
    """``{"runs": [{"job", "run", "inputs"}]}`` from ``run_id`` (which must exist), ``depth`` steps up."""
    listed: list[tuple[int, dict[str, Any]]] = []
    seen, frontier = {run_id}, [run_id]
    for steps in range(depth + 1):
        inputs = _inputs(conn, frontier)
        listed += [(steps, entry) for entry in _runs(conn, frontier, inputs)]
        if steps == depth:
            break
        frontier = sorted({i["producedByRunId"] for found in inputs.values() for i in found
                           if i["producedByRunId"] and i["producedByRunId"] not in seen})
        seen.update(frontier)
        if not frontier:
            break
    listed.sort(key=lambda item: (item[0], item[1]["job"]["name"], item[1]["job"]["namespace"],
                                  item[1]["run"]["id"]))
    return {"runs": [entry for _, entry in listed]}


def _inputs(conn: Connection, run_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The dataset versions each run read, with the run that wrote each version."""
    found: dict[str, list[dict[str, Any]]] = {run_id: [] for run_id in run_ids}
    for chunk in chunks(run_ids):
        rows = conn.execute(
            select(run_io.c.run_uuid, datasets.c.namespace, datasets.c.name, run_io.c.dataset_version_uuid,
                   dataset_versions.c.run_uuid)
            .join(datasets, datasets.c.id == run_io.c.dataset_id)
            .outerjoin(dataset_versions, dataset_versions.c.uuid == run_io.c.dataset_version_uuid)
            .where(among(conn, run_io.c.run_uuid, chunk), run_io.c.direction == "INPUT")
            .order_by(datasets.c.namespace, datasets.c.name))
        for run_uuid, namespace, name, version, producer in rows:
            found[run_uuid].append({"namespace": namespace, "name": name, "version": version,
                                    "producedByRunId": producer})
    return found


def _runs(conn: Connection, run_ids: list[str], inputs: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    entries = []
    for chunk in chunks(run_ids):
        rows = conn.execute(
            select(runs.c.uuid, runs.c.job_version_uuid, runs.c.state, runs.c.started_at, runs.c.ended_at,
                   jobs.c.namespace, jobs.c.name)
            .join(jobs, and_(jobs.c.id == runs.c.job_id))
            .where(among(conn, runs.c.uuid, chunk)))
        for run_uuid, version, state, started, ended, namespace, name in rows:
            entries.append({
                "job": {"namespace": namespace, "name": name, "version": version},
                "run": {"id": run_uuid, "start": iso(started), "end": iso(ended), "status": state},
                "inputs": inputs[run_uuid],
            })
    return entries
