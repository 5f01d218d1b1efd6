"""Pairing two captures' runs of the same work and comparing them aspect by aspect.

Runs pair by key (see :func:`normalise.run_key`) and, for a key seen several times (a table
written twice), by order. A pair is compared on each aspect below; every comparison either agrees
or yields a :class:`Disagreement` (case, aspect, key, built-in value, official value). A facet
sent in several events of a run (START, RUNNING, COMPLETE) counts once, its last version.

>>> start = {"eventType": "START", "run": {"runId": "1"}, "job": {"name": "app.w.out_t"},
...          "outputs": [{"namespace": "file", "name": "/d/out/t", "facets": {}}]}
>>> official = dict(start, job={"name": "app.adaptive_spark_plan.out_t"})
>>> result = compare_case("demo", [start], [official], ["/d"], ["/d"])
>>> [(d.aspect, d.builtin, d.official) for d in result.disagreements]
[('job-name', 'app.w.out_t', 'app.adaptive_spark_plan.out_t')]
>>> result.agreed["event-types"], result.compared
(1, 5)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from lineage_audit.differential.normalise import Run, runs_of

ASPECTS = (
    "run", "event-types", "job-name", "parent-job", "job-facets", "run-facets", "inputs", "outputs", "dataset-facets",
    "schema", "column-lineage", "dataset-lineage", "output-statistics", "lifecycle-state-change", "symlinks",
)
MISSING = None  # the value on the side that has no such run, dataset, facet or field
PRESENT = "present"


def _frozen(value: Any) -> Any:
    """Lists as tuples, so that a Disagreement can be a dict key."""
    return tuple(_frozen(v) for v in value) if isinstance(value, (list, tuple)) else value


@dataclass(frozen=True)
class Disagreement:
    """One aspect on which the two captures differ; values are str, int, None or tuples of them."""

    case: str
    aspect: str
    key: str
    builtin: Any
    official: Any


@dataclass
class CaseResult:
    """Counts of agreeing comparisons per aspect and the disagreements, for one case."""

    case: str
    builtin_events: int = 0
    official_events: int = 0
    agreed: Counter = field(default_factory=Counter)
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def compared(self) -> int:
        return sum(self.agreed.values()) + len(self.disagreements)

    def check(self, aspect: str, key: str, builtin: Any, official: Any) -> None:
        builtin, official = _frozen(builtin), _frozen(official)
        if builtin == official:
            self.agreed[aspect] += 1
        else:
            self.disagreements.append(Disagreement(self.case, aspect, key, builtin, official))


def _pair_within_key(ours: list[Run], theirs: list[Run]) -> list[tuple[Run | None, Run | None]]:
    """Runs of one key: those with the same job name first (in order), then the rest by order."""
    pairs: list[tuple[Run | None, Run | None]] = []
    left = list(theirs)
    unmatched = []
    for run in ours:
        same = next((other for other in left if other.job == run.job), None)
        if same is None:
            unmatched.append(run)
        else:
            left.remove(same)
            pairs.append((run, same))
    for n in range(max(len(unmatched), len(left))):
        pairs.append((unmatched[n] if n < len(unmatched) else None, left[n] if n < len(left) else None))
    return pairs


def pair_runs(builtin: Sequence[Run], official: Sequence[Run]) -> list[tuple[str, Run | None, Run | None]]:
    """(label, built-in run, official run) by key, then job name, then order; ``#n`` marks a key's n-th pair.

    >>> a, b = Run("output file t", "j"), Run("output file t", "j")
    >>> [(label, x is a, y is b) for label, x, y in pair_runs([a], [b, Run("output file t", "j")])][1]
    ('output file t #2', False, False)
    >>> create, insert = Run("output file t", "app.create"), Run("output file t", "app.insert")
    >>> [(x.job, y.job) for _, x, y in pair_runs([insert, create], [Run("output file t", "app.create"),
    ...                                                              Run("output file t", "app.insert")])]
    [('app.insert', 'app.insert'), ('app.create', 'app.create')]
    """
    by_key: dict[str, tuple[list[Run], list[Run]]] = {}
    for side, runs in ((0, builtin), (1, official)):
        for run in runs:
            by_key.setdefault(run.key, ([], []))[side].append(run)
    pairs = []
    for key, (ours, theirs) in by_key.items():
        for n, (mine, other) in enumerate(_pair_within_key(ours, theirs)):
            pairs.append((key if n == 0 else f"{key} #{n + 1}", mine, other))
    return pairs


def _merged_facets(events: Sequence[dict], owner: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for event in events:
        merged.update(event.get(owner, {}).get("facets") or {})
    return merged


def _datasets(events: Sequence[dict], role: str) -> dict[str, dict[str, Any]]:
    """``namespace name`` -> the dataset's facets (and input/output facets) merged across events."""
    merged: dict[str, dict[str, Any]] = {}
    for event in events:
        for dataset in event.get(role) or []:
            facets = merged.setdefault(f"{dataset.get('namespace')} {dataset.get('name')}", {})
            facets.update(dataset.get("facets") or {})
            facets.update(dataset.get("inputFacets") or {})
            facets.update(dataset.get("outputFacets") or {})
    return merged


def _schema(facet: dict) -> list:
    def fields(entries):
        return [[f.get("name"), f.get("type"), *([fields(f["fields"])] if f.get("fields") else [])]
                for f in entries or []]

    return fields(facet.get("fields"))


def _transformation(t: dict) -> str:
    return f"{t.get('type')}/{t.get('subtype')}" + ("+masked" if t.get("masking") else "")


def _input_fields(entries: Iterable[dict]) -> list[str]:
    """Each input field as ``namespace name .field TYPE/SUBTYPE[+masked],...`` sorted."""
    return sorted(f"{e.get('namespace')} {e.get('name')} .{e.get('field')} "
                  + ",".join(sorted(_transformation(t) for t in e.get("transformations") or []))
                  for e in entries)


def _statistics(facet: dict) -> str:
    """rowCount exactly; size and fileCount only as present or not (bytes differ by writer)."""
    present = {True: "set", False: "absent"}
    return (f"rowCount={facet.get('rowCount')} size={present[facet.get('size') is not None]} "
            f"fileCount={present[facet.get('fileCount') is not None]}")


def _compare_facets(result: CaseResult, label: str, ours: dict, theirs: dict) -> None:
    """The contents of the facets both captures sent for one dataset."""
    if "schema" in ours and "schema" in theirs:
        result.check("schema", label, _schema(ours["schema"]), _schema(theirs["schema"]))
    if "columnLineage" in ours and "columnLineage" in theirs:
        mine, other = ours["columnLineage"].get("fields") or {}, theirs["columnLineage"].get("fields") or {}
        for name in sorted(set(mine) | set(other)):
            result.check("column-lineage", f"{label} .{name}",
                         _input_fields(mine[name]["inputFields"]) if name in mine else MISSING,
                         _input_fields(other[name]["inputFields"]) if name in other else MISSING)
        result.check("dataset-lineage", label, _input_fields(ours["columnLineage"].get("dataset") or []),
                     _input_fields(theirs["columnLineage"].get("dataset") or []))
    if "outputStatistics" in ours and "outputStatistics" in theirs:
        result.check("output-statistics", label, _statistics(ours["outputStatistics"]),
                     _statistics(theirs["outputStatistics"]))
    if "lifecycleStateChange" in ours or "lifecycleStateChange" in theirs:
        result.check("lifecycle-state-change", label,
                     ours.get("lifecycleStateChange", {}).get("lifecycleStateChange"),
                     theirs.get("lifecycleStateChange", {}).get("lifecycleStateChange"))
    if "symlinks" in ours or "symlinks" in theirs:
        result.check("symlinks", label,
                     sorted(f"{i.get('namespace')} {i.get('name')} {i.get('type')}"
                            for i in ours.get("symlinks", {}).get("identifiers") or []),
                     sorted(f"{i.get('namespace')} {i.get('name')} {i.get('type')}"
                            for i in theirs.get("symlinks", {}).get("identifiers") or []))


def _check_presence(result: CaseResult, aspect: str, label: str, ours: Iterable[str], theirs: Iterable[str]) -> None:
    """One comparison per name (facet, dataset): ``present`` on the sides that have it."""
    ours, theirs = set(ours), set(theirs)
    for name in sorted(ours | theirs):
        result.check(aspect, f"{label} :: {name}", PRESENT if name in ours else MISSING,
                     PRESENT if name in theirs else MISSING)


def _parent_job(events: Sequence[dict]) -> str | None:
    parents = [e.get("run", {}).get("facets", {}).get("parent", {}).get("job", {}).get("name") for e in events]
    return next((p for p in parents if p), None)


def event_types(run: Run) -> list[str]:
    """The run's event types, a repeated one written once (the official listener sends a RUNNING
    event per Spark job of a query: their number follows Spark's stages, not the lineage).

    >>> event_types(Run("k", "j", [{"eventType": t} for t in ("START", "RUNNING", "RUNNING", "COMPLETE")]))
    ['START', 'RUNNING', 'COMPLETE']
    """
    collapsed: list[str] = []
    for kind in run.event_types:
        if not collapsed or collapsed[-1] != kind:
            collapsed.append(kind)
    return collapsed


def compare_runs(result: CaseResult, label: str, ours: Run, theirs: Run) -> None:
    """Every aspect of two paired runs."""
    result.check("event-types", label, event_types(ours), event_types(theirs))
    result.check("job-name", label, ours.job, theirs.job)
    result.check("parent-job", label, _parent_job(ours.events), _parent_job(theirs.events))
    for aspect, owner in (("job-facets", "job"), ("run-facets", "run")):
        _check_presence(result, aspect, label, _merged_facets(ours.events, owner),
                        _merged_facets(theirs.events, owner))
    for role in ("inputs", "outputs"):
        mine, other = _datasets(ours.events, role), _datasets(theirs.events, role)
        _check_presence(result, role, f"{label} | {role[:-1]}", mine, other)
        for name in sorted(set(mine) & set(other)):
            where = f"{label} | {role[:-1]} {name}"
            _check_presence(result, "dataset-facets", where, mine[name], other[name])
            _compare_facets(result, where, mine[name], other[name])


def compare_case(case: str, builtin: Sequence[dict], official: Sequence[dict],
                 builtin_dirs: Iterable[str | Path], official_dirs: Iterable[str | Path]) -> CaseResult:
    """Compare two captures' events of the same work; the data dirs are written ``<data>`` in both."""
    result = CaseResult(case, builtin_events=len(builtin), official_events=len(official))
    for label, ours, theirs in pair_runs(runs_of(builtin, builtin_dirs), runs_of(official, official_dirs)):
        if ours is None or theirs is None:
            result.check("run", label, None if ours is None else event_types(ours),
                         None if theirs is None else event_types(theirs))
            continue
        result.agreed["run"] += 1
        compare_runs(result, label, ours, theirs)
    return result
