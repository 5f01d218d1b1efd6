"""Jobs that gain a parent: Marquez names a child job "<parent>.<name>" (its simple name stays "<name>"),
also when the job was first seen without a parent. Events that name the job without its parent, before or
after, belong to the child job then, so the store ends the same whatever order events arrive in.
"""

from __future__ import annotations

from typing import Any

from lineage_audit.service.events import TERMINAL, Checked, Key
from lineage_audit.service.merge_sql import Sql, run_statement, select_in

Rename = tuple[Key, str]  # the child job's full name, and its parent's name


def find_renames(sql: Sql, cursor: Any, events: list[Checked]) -> dict[Key, Rename]:
    """``(namespace, simple name) -> ((namespace, full name), parent)`` for the jobs the batch names that have a
    parent: those whose events in the batch name a parent, and those the store knows as children."""
    renames: dict[Key, Rename] = {}
    parentless: set[Key] = set()
    for item in events:
        if item.job is None or item.kind == "DatasetEvent":
            continue
        if item.parent_job is not None and item.job_name != item.job[1]:
            simple = (item.job[0], item.simple_name)
            candidate = ((item.job[0], item.job_name), item.parent_job[1])
            renames[simple] = min(renames.get(simple, candidate), candidate)  # several parents: one, any order
        elif item.parent_job is None:
            parentless.add((item.job[0], item.job_name))
    unknown = sorted({name for ns, name in parentless if (ns, name) not in renames})
    for namespace, simple, name, parent in select_in(
            sql, cursor, "SELECT namespace, simple_name, name, parent_job_name FROM jobs WHERE parent_job_name IS "
                         "NOT NULL AND simple_name IN {in} ORDER BY name DESC", unknown):
        if (namespace, simple) in parentless and name == f"{parent}.{simple}":
            renames[(namespace, simple)] = ((namespace, name), parent)
    return renames


def move_parentless_jobs(sql: Sql, cursor: Any, renames: dict[Key, Rename]) -> set[Key]:
    """Rename the stored jobs without a parent that have one now, or merge them into their child job where
    that exists already; returns the child jobs that took them."""
    if not renames:
        return set()
    stored = {(ns, name): job_id for job_id, ns, name in select_in(
        sql, cursor, "SELECT id, namespace, name FROM jobs WHERE parent_job_name IS NULL AND name IN {in}",
        sorted({name for _ns, name in renames}))}
    targets = {(ns, name): job_id for job_id, ns, name in select_in(
        sql, cursor, "SELECT id, namespace, name FROM jobs WHERE name IN {in}",
        sorted({full[1] for full, _parent in renames.values()}))}
    moved = set()
    for simple, (full, parent) in sorted(renames.items()):
        old = stored.get(simple)
        if old is None or full == simple:
            continue
        moved.add(full)
        if full not in targets:
            run_statement(sql, cursor, "UPDATE jobs SET name = :name, parent_job_name = :parent WHERE id = :id",
                          {"name": full[1], "parent": parent, "id": old})
        else:
            _merge_job(sql, cursor, old, targets[full])
    return moved


def _merge_job(sql: Sql, cursor: Any, old: int, new: int) -> None:
    """Move a job's runs, versions and facets into another job (the newer facet of a name wins), then drop it."""
    params = {"old": old, "new": new, "old_key": str(old), "new_key": str(new)}
    for statement in (
            "UPDATE runs SET job_id = :new WHERE job_id = :old",
            "UPDATE job_versions SET job_id = :new WHERE job_id = :old",
            "DELETE FROM job_io WHERE job_id = :old",
            "DELETE FROM facets WHERE owner_kind IN ('job', 'jobevent') AND owner_key = :old_key AND EXISTS "
            "(SELECT 1 FROM facets f WHERE f.owner_kind = facets.owner_kind AND f.owner_key = :new_key AND "
            "f.name = facets.name AND f.event_time >= facets.event_time)",
            "DELETE FROM facets WHERE owner_kind IN ('job', 'jobevent') AND owner_key = :new_key AND EXISTS "
            "(SELECT 1 FROM facets f WHERE f.owner_kind = facets.owner_kind AND f.owner_key = :old_key AND "
            "f.name = facets.name)",
            "UPDATE facets SET owner_key = :new_key WHERE owner_kind IN ('job', 'jobevent') AND owner_key = :old_key",
            "UPDATE jobs SET created_at = (SELECT CASE WHEN o.created_at < jobs.created_at THEN o.created_at ELSE "
            "jobs.created_at END FROM jobs o WHERE o.id = :old), updated_at = (SELECT CASE WHEN o.updated_at > "
            "jobs.updated_at THEN o.updated_at ELSE jobs.updated_at END FROM jobs o WHERE o.id = :old) WHERE id = :new",
            "DELETE FROM jobs WHERE id = :old"):
        run_statement(sql, cursor, statement, params)


def finished_runs_of(sql: Sql, cursor: Any, job_ids: list[int]) -> list[tuple]:
    """``(run, job id, state time, job version)`` of the finished runs of jobs that were renamed: their versions
    are named after the job, so they are named again."""
    terminal = ", ".join(f"'{state}'" for state in TERMINAL)
    return select_in(sql, cursor, "SELECT uuid, job_id, state_time, job_version_uuid FROM runs WHERE job_id IN {in} "
                                  f"AND state IN ({terminal}) ORDER BY uuid", job_ids)
