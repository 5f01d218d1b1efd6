"""What the graph page must show, worked out without the service or the UI.

Field lineage comes from the hand-written expectations of the jobs (``tests/lineage/expected_<job>.py``,
the ``fields`` part: the inputs of each output column), table names turned into the full dataset
names of the events through the catalog; the table-level graph comes from the events themselves,
walked as Marquez walks it (jobs are neighbours when they share a dataset; depth counts job steps).

>>> lineage = FieldLineage({("out", "b"): {("mid", "a"): {"DIRECT/IDENTITY"}},
...                         ("mid", "a"): {("raw", "x"): {"DIRECT/TRANSFORMATION"}}})
>>> sorted(lineage.upstream(("out", "b")))
[('mid', 'a'), ('raw', 'x')]
>>> sorted(lineage.downstream(("raw", "x")))
[('mid', 'a'), ('out', 'b')]
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from datetime import datetime

from lineage_audit.config import Catalog
from tests.lineage.harness import table_names

Field = tuple[str, str]  # (dataset name as the events give it, field)


def field_id(field: Field, namespace: str = "file") -> str:
    return f"datasetField:{namespace}:{field[0]}:{field[1]}"


class FieldLineage:
    """Edges from output fields to the input fields they are computed from, with the transformation codes
    (``"DIRECT/IDENTITY"``, ``"DIRECT/TRANSFORMATION+masked"``) of each edge."""

    def __init__(self, inputs: Mapping[Field, Mapping[Field, set[str]]]):
        self.inputs = {output: dict(sources) for output, sources in inputs.items()}

    @classmethod
    def of_jobs(cls, jobs: Iterable[str], catalog: Catalog) -> FieldLineage:
        paths = {name: path for path, name in table_names(catalog).items()}
        edges: dict[Field, dict[Field, set[str]]] = {}
        for job in jobs:
            for table, lineage in importlib.import_module(f"tests.lineage.expected_{job}").EXPECTED.items():
                for column, sources in lineage["fields"].items():
                    edges[(paths[table], column)] = {(paths[t], f): set(codes) for (t, f), codes in sources.items()}
        return cls(edges)

    def plus(self, more: Mapping[Field, Mapping[Field, set[str]]]) -> FieldLineage:
        return FieldLineage({**self.inputs, **more})

    def upstream(self, start: Field) -> set[Field]:
        return _closure(start, lambda f: self.inputs.get(f, {}))

    def downstream(self, start: Field) -> set[Field]:
        readers: dict[Field, set[Field]] = {}
        for output, sources in self.inputs.items():
            for source in sources:
                readers.setdefault(source, set()).add(output)
        return _closure(start, lambda f: readers.get(f, ()))

    def codes(self, source: Field, output: Field) -> set[str]:
        return self.inputs[output][source]


def _closure(start: Field, neighbours) -> set[Field]:
    seen, todo = set(), [start]
    while todo:
        for near in neighbours(todo.pop()):
            if near not in seen:
                seen.add(near)
                todo.append(near)
    return seen


def table_graph(events: Iterable[Mapping], start_dataset: tuple[str, str], depth: int):
    """(node ids, edges as (from, to)) of ``/lineage`` from a dataset that a job writes, from the events alone."""
    io: dict[str, dict[str, set[str]]] = {}
    for event in events:
        job = f"job:{event['job']['namespace']}:{event['job']['name']}"
        for side, key in (("inputs", "INPUT"), ("outputs", "OUTPUT")):
            for d in event.get(side) or []:
                io.setdefault(job, {"INPUT": set(), "OUTPUT": set()})[key].add(f"dataset:{d['namespace']}:{d['name']}")
    start = "dataset:%s:%s" % start_dataset
    writers = [job for job, sides in io.items() if start in sides["OUTPUT"]]
    assert len(writers) == 1, writers
    seen, frontier = {writers[0]}, [writers[0]]
    for _ in range(depth):
        datasets = {d for job in frontier for side in io[job].values() for d in side}
        frontier = [job for job, sides in io.items() if job not in seen and datasets & (sides["INPUT"] | sides["OUTPUT"])]
        seen.update(frontier)
    edges = {(d, job) for job in seen for d in io[job]["INPUT"]} | {(job, d) for job in seen for d in io[job]["OUTPUT"]}
    return seen | {d for edge in edges for d in edge}, edges


# -- the pipeline view: a whole job namespace, from the events alone ----------------------------------------

class Pipeline:
    """What ``/namespaces/{ns}/lineage`` and ``.../column-lineage`` hold, worked out from the events: each job's
    datasets as of its newest run, its application (the parent run facet's job, else itself; a parent is a job
    even with no events of its own), and the column lineage of every dataset the jobs write (each dataset's
    newest columnLineage facet), keyed by field id.

    >>> from tests.web.events import dataset, run_events
    >>> pipeline = Pipeline(run_events("app.write_b", inputs=[dataset("/a", ["x"])], outputs=[dataset(
    ...     "/b", ["y"], lineage={"y": [("/a", "x", "DIRECT/IDENTITY")]})]), "data-lineage-audit")
    >>> sorted(pipeline.edges)
    [('dataset:file:/a', 'job:data-lineage-audit:app.write_b'), ('job:data-lineage-audit:app.write_b', 'dataset:file:/b')]
    >>> pipeline.fields.upstream("datasetField:file:/b:y")
    {'datasetField:file:/a:x'}
    >>> pipeline.jobs_of(pipeline.hops({"datasetField:file:/a:x", "datasetField:file:/b:y"}))
    {'job:data-lineage-audit:app.write_b'}
    """

    def __init__(self, events: Iterable[Mapping], namespace: str):
        runs: dict[str, dict[str, list[Mapping]]] = {}
        for event in events:
            if event.get("run") and event["job"]["namespace"] == namespace:
                runs.setdefault(event["job"]["name"], {}).setdefault(event["run"]["runId"], []).append(event)
        self.io: dict[str, dict[str, set[str]]] = {}  # job node id -> INPUT / OUTPUT dataset node ids
        self.application: dict[str, str] = {}  # job node id -> application name
        lineage: dict[tuple[str, str], tuple[datetime, Mapping]] = {}  # dataset -> (time, newest columnLineage)
        for name, by_run in runs.items():
            newest = max(by_run.values(), key=lambda run: max(_time(e) for e in run))
            job = f"job:{namespace}:{name}"
            self.io[job] = {"INPUT": set(), "OUTPUT": set()}
            for event in newest:
                parent = ((event["run"].get("facets") or {}).get("parent") or {}).get("job", {})
                self.application.setdefault(job, parent.get("name") or name)
                if parent.get("namespace") == namespace and parent.get("name"):  # the service knows the parent
                    self.io.setdefault(f"job:{namespace}:{parent['name']}", {"INPUT": set(), "OUTPUT": set()})
                    self.application.setdefault(f"job:{namespace}:{parent['name']}", parent["name"])
                for side, key in (("inputs", "INPUT"), ("outputs", "OUTPUT")):
                    for d in event.get(side) or ():
                        self.io[job][key].add(f"dataset:{d['namespace']}:{d['name']}")
                for d in event.get("outputs") or ():
                    facet = (d.get("facets") or {}).get("columnLineage")
                    key = (d["namespace"], d["name"])
                    if facet and (key not in lineage or lineage[key][0] <= _time(event)):
                        lineage[key] = (_time(event), facet)
        self.dataset_of: dict[str, str] = {}  # field id -> dataset node id
        edges: dict[str, dict[str, set[str]]] = {}
        for (out_namespace, out_name), (_, facet) in lineage.items():
            for field, body in (facet.get("fields") or {}).items():
                out = field_id((out_name, field), out_namespace)
                self.dataset_of[out] = f"dataset:{out_namespace}:{out_name}"
                for source in body.get("inputFields") or ():
                    source_id = field_id((source["name"], source["field"]), source["namespace"])
                    self.dataset_of[source_id] = f"dataset:{source['namespace']}:{source['name']}"
                    edges.setdefault(out, {}).setdefault(source_id, set()).update(
                        f"{t.get('type')}/{t.get('subtype')}" for t in source.get("transformations") or ())
        self.fields = FieldLineage(edges)

    @property
    def datasets(self) -> set[str]:
        return {d for sides in self.io.values() for side in sides.values() for d in side}

    @property
    def edges(self) -> set[tuple[str, str]]:
        return ({(d, job) for job, sides in self.io.items() for d in sides["INPUT"]}
                | {(job, d) for job, sides in self.io.items() for d in sides["OUTPUT"]})

    def hops(self, fields: set[str]) -> set[tuple[str, str]]:
        """The field edges (input field id, output field id) among ``fields``."""
        return {(source, out) for out in fields for source in self.fields.inputs.get(out, {}) if source in fields}

    def jobs_of(self, hops: Iterable[tuple[str, str]]) -> set[str]:
        """The jobs that made the hops: each reads the input field's dataset and writes the output field's."""
        return {job for source, out in hops for job, sides in self.io.items()
                if self.dataset_of[source] in sides["INPUT"] and self.dataset_of[out] in sides["OUTPUT"]}


def _time(event: Mapping) -> datetime:
    return datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00"))


def reachable(start: str, edges: set[tuple[str, str]]) -> set[str]:
    """Every node reached from ``start`` along directed ``edges`` (``start`` itself only on a cycle)."""
    seen, todo = set(), [start]
    while todo:
        here = todo.pop()
        for a, b in edges:
            if a == here and b not in seen:
                seen.add(b)
                todo.append(b)
    return seen
