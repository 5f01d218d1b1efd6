"""Delta ``MERGE INTO`` as a write the built-in capture understands.

Delta's ``MergeIntoCommand`` holds the source and target plans and, per clause, the value each
target column gets (its resolved actions: a column an update leaves alone is assigned the
target's own column). The snapshot turns that into one plan that column lineage already reads:
a ``Union`` of one ``Project`` per clause, each over the target and the source side by side, so a
target column depends on every expression any clause assigns it. Like the official listener,
neither the merge condition nor a clause's condition adds an INDIRECT dependency, and rows
written are those inserted, updated or copied into new files.
"""

from __future__ import annotations

import json
import time
from itertools import count

from lineage_audit.capture.snapshot import DatasetRef, QuerySnapshot, _leaf_ref, _query_id, _seq, _stack_trace

MERGE = "MergeIntoCommand"
_PLAN = "org.apache.spark.sql.catalyst.plans.logical."
_EXPR = "org.apache.spark.sql.catalyst.expressions."
# Alias ids far above any Spark assigns in one session, so they never meet a real attribute.
_alias_ids = count(1 << 60)


def _alias(name: str, expression: list[dict]) -> list[dict]:
    return [{"class": _EXPR + "Alias", "num-children": 1, "child": 0, "name": name,
             "exprId": {"product-class": _EXPR + "ExprId", "id": next(_alias_ids), "jvmId": "merge"},
             "qualifier": []}, *expression]


def _clause_actions(clauses) -> list[list[tuple[str, list[dict]]]]:
    """Per clause that writes values (updates and inserts, not deletes): (target column, expression JSON)."""
    found = []
    for clause in clauses:
        actions = [clause.actions().apply(i) for i in range(clause.actions().size())]
        assigned = [(str(a.targetColNameParts().last()) if hasattr(a, "targetColNameParts") else str(a.name()),
                     json.loads(a.child().toJSON())) for a in actions]
        if assigned:
            found.append(assigned)
    return found


def merge_plan_json(target_json: list[dict], source_json: list[dict],
                    clauses: list[list[tuple[str, list[dict]]]], columns: tuple[str, ...]) -> str:
    """The Union-of-Projects plan described in the module docstring, as Catalyst JSON."""
    branches = []
    for assigned in clauses:
        values = dict(assigned)
        project_list = [_alias(c, values[c]) for c in columns if c in values]
        branches += [{"class": _PLAN + "Project", "num-children": 1, "projectList": project_list},
                     {"class": _PLAN + "Join", "num-children": 2, "joinType": {"object": "Inner"}},
                     *target_json, *source_json]
    return json.dumps([{"class": _PLAN + "Union", "num-children": len(clauses), "byName": False,
                        "allowMissingCol": False}, *branches])


def _leaves(jvm, plan) -> list[DatasetRef | None]:
    return [_leaf_ref(leaf, jvm) for leaf in _seq(plan.collectLeaves())]


def merge_snapshot(jvm, qe, duration_ns: int, error=None) -> QuerySnapshot | None:
    """A snapshot of a Delta MERGE; None when no clause writes a value."""
    command = qe.analyzed()
    target, source = command.target(), command.source()
    clause_lists = (command.matchedClauses(), command.notMatchedClauses(), command.notMatchedBySourceClauses())
    clauses = [c for clause_list in clause_lists for c in _seq(clause_list)]
    assigned = _clause_actions(clauses)
    if not assigned:
        return None
    columns = tuple(f["name"] for f in json.loads(target.schema().json()).get("fields", []))
    # every branch must give every column: a clause that leaves one out (an insert of fewer columns) gives null
    assigned = [list(a) + [(c, [{"class": _EXPR + "Literal", "num-children": 0, "value": None,
                                 "dataType": "null"}]) for c in columns if c not in dict(a)] for a in assigned]
    query_json = merge_plan_json(json.loads(target.toJSON()), json.loads(source.toJSON()), assigned, columns)
    paths = command.targetFileIndex().rootPaths()
    uri = paths.head().toString() if paths.nonEmpty() else ""
    ended = int(time.time() * 1000)
    metrics = {}
    if error is None:
        # the executed command holds the metric values (the analyzed plan's are never updated)
        values = {str(k): int(v.value()) for k, v in _scala_map(qe.executedPlan().metrics()).items()}
        metrics = {"numOutputRows": sum(values.get(k, 0) for k in ("numTargetRowsInserted", "numTargetRowsUpdated",
                                                                    "numTargetRowsCopied")),
                   "numOutputBytes": values.get("numTargetBytesAdded", 0),
                   "numFiles": values.get("numTargetFilesAdded", 0)}
    return QuerySnapshot(
        command=MERGE, query_json=query_json,
        output=DatasetRef(uri, "delta", None, target.schema().json()),
        output_columns=columns, mode=None,
        leaves=tuple((_leaves(jvm, target) + _leaves(jvm, source)) * len(assigned)),
        metrics=metrics, started_ms=ended - duration_ns // 1_000_000, ended_ms=ended,
        error=str(error.getMessage()) if error is not None else None,
        stack_trace=_stack_trace(error) if error is not None else None,
        query_id=_query_id(qe),
    )


def _scala_map(scala_map) -> dict:
    found, iterator = {}, scala_map.iterator()
    while iterator.hasNext():
        entry = iterator.next()
        found[entry._1()] = entry._2()
    return found
