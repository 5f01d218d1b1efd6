"""What changed between two runs of a job, or in a dataset between two moments (issue 13's "What changed").

Both diffs compare two :class:`~lineage_audit.service.diff_sides.Side` objects and answer the same JSON:
inputs and outputs (or writers) added, removed and unchanged; per dataset, fields added, removed or retyped,
column-lineage edges (output field <- input field) added, removed or with other transformations, and the row
counts before and after. Every list is sorted by namespace, name, then field. A dataset's version differs
between two runs by construction (one per run that wrote it), so versions alone are no change; a dataset is
``changed`` when one of its lists is not empty, its row count differs or only one side has it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.engine import Connection, RowMapping

from lineage_audit.service.db import jobs, runs
from lineage_audit.service.diff_sides import DatasetState, Key, Side, dataset_side, run_side


def runs_diff(conn: Connection, before: RowMapping, after: RowMapping) -> dict[str, Any]:
    """The diff of two runs (rows of ``runs``) of one job; a 400 when their jobs differ."""
    if before["job_id"] != after["job_id"]:
        names = dict(conn.execute(select(jobs.c.id, jobs.c.name).where(
            jobs.c.id.in_([before["job_id"], after["job_id"]]))).all())
        raise HTTPException(400, f"runs of different jobs: '{before['uuid']}' is a run of '{names[before['job_id']]}', "
                                 f"'{after['uuid']}' of '{names[after['job_id']]}'")
    job = conn.execute(select(jobs.c.namespace, jobs.c.name).where(jobs.c.id == before["job_id"])).one()
    return compare("runs", run_side(conn, before), run_side(conn, after),
                   job={"namespace": job.namespace, "name": job.name})


def dataset_diff(conn: Connection, dataset: RowMapping, since: datetime, until: datetime) -> dict[str, Any]:
    """The diff of a dataset between two moments; a 404 when it did not exist at ``until``."""
    after = dataset_side(conn, dataset, until)
    if not after.datasets:
        raise HTTPException(404, f"Dataset '{dataset['name']}' did not exist in namespace "
                                 f"'{dataset['namespace']}' at {after.time}.")
    before = dataset_side(conn, dataset, since)
    # one entry for the one dataset: written at either moment, it is an output at both
    role = "OUTPUT" if any(key[2] == "OUTPUT" for s in (before, after) for key in s.datasets) else "INPUT"
    for side in (before, after):
        side.datasets = {(*key[:2], role): _with_role(state, role) for key, state in side.datasets.items()}
    return compare("dataset", before, after, dataset={"namespace": dataset["namespace"], "name": dataset["name"]})


def _with_role(state: DatasetState, role: str) -> DatasetState:
    state.role = role
    return state


def run_row(conn: Connection, run_id: str, parameter: str) -> RowMapping:
    row = conn.execute(select(runs).where(runs.c.uuid == run_id)).mappings().first()
    if row is None:
        raise HTTPException(404, f"Run '{run_id}' ({parameter}) not found.")
    return row


# -- comparing two sides --------------------------------------------------------------------------

def compare(kind: str, before: Side, after: Side, job: dict[str, str] | None = None,
            dataset: dict[str, str] | None = None) -> dict[str, Any]:
    entries = [_dataset_entry(before.datasets.get(key), after.datasets.get(key))
               for key in sorted(set(before.datasets) | set(after.datasets))]
    body = {"kind": kind, "from": before.header(), "to": after.header(), "job": job, "dataset": dataset,
            "inputs": _sets(before.inputs, after.inputs), "outputs": _sets(before.outputs, after.outputs),
            "writers": _sets(before.writers, after.writers), "datasets": entries}
    moved = any(body[part][change] for part in ("inputs", "outputs", "writers") for change in ("added", "removed"))
    body["changed"] = moved or any(entry["changed"] for entry in entries)
    return body


def _ids(keys: set[Key]) -> list[dict[str, str]]:
    return [{"namespace": namespace, "name": name} for namespace, name in sorted(keys)]


def _sets(before: set[Key], after: set[Key]) -> dict[str, list[dict[str, str]]]:
    return {"added": _ids(after - before), "removed": _ids(before - after), "unchanged": _ids(before & after)}


def _dataset_entry(before: DatasetState | None, after: DatasetState | None) -> dict[str, Any]:
    either = after or before
    empty = DatasetState(either.namespace, either.name, either.role)
    old, new = before or empty, after or empty
    fields = _fields(old.fields, new.fields)
    lineage = _lineage(old.lineage, new.lineage)
    changes = [*fields.values(), *lineage.values()]
    return {"namespace": either.namespace, "name": either.name, "role": either.role,
            "fromVersion": old.version, "toVersion": new.version, "fields": fields, "columnLineage": lineage,
            "rowCount": {"from": old.row_count, "to": new.row_count},
            "changed": before is None or after is None or any(changes) or old.row_count != new.row_count}


def _fields(before: dict[str, str | None], after: dict[str, str | None]) -> dict[str, list[dict[str, Any]]]:
    return {"added": [{"name": n, "type": after[n]} for n in sorted(set(after) - set(before))],
            "removed": [{"name": n, "type": before[n]} for n in sorted(set(before) - set(after))],
            "retyped": [{"name": n, "fromType": before[n], "toType": after[n]}
                        for n in sorted(set(before) & set(after)) if before[n] != after[n]]}


def _lineage(before: dict[tuple, list[dict[str, Any]]], after: dict[tuple, list[dict[str, Any]]]
             ) -> dict[str, list[dict[str, Any]]]:
    def edge(key: tuple) -> dict[str, Any]:
        field, namespace, name, input_field = key
        return {"field": field, "input": {"namespace": namespace, "name": name, "field": input_field}}

    both = sorted(set(before) & set(after))  # by output field, then the input's namespace, name and field
    return {
        "added": [{**edge(k), "transformations": _canonical(after[k])} for k in sorted(set(after) - set(before))],
        "removed": [{**edge(k), "transformations": _canonical(before[k])} for k in sorted(set(before) - set(after))],
        "changed": [{**edge(k), "fromTransformations": _canonical(before[k]),
                     "toTransformations": _canonical(after[k])}
                    for k in both if _canonical(before[k]) != _canonical(after[k])]}


def _canonical(transformations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Transformations in a stable order, so that two edges compare by what they hold."""
    return sorted(transformations, key=lambda t: (t.get("type") or "", t.get("subtype") or "",
                                                  t.get("description") or "", bool(t.get("masking"))))
