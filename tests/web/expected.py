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
