"""Events made comparable: what must differ between two captures of the same work is taken out.

Two runs of the same work differ in run ids, event times, the producer (and every facet's
``_producer`` and ``_schemaURL``), the parent's run id, and, when they ran in different data
directories, in every absolute path under those directories. :func:`normalise` drops the first
ones and writes ``<data>`` for the data directory, so that dataset names compare relative to it
(and ``<uid>`` for the random uid of a Spark ML stage, which names a saved model's folders).
:func:`runs_of` groups events into runs (by run id, in order) and gives each run the key by which
it is paired with the other capture's run of the same work (:func:`run_key`).

>>> event = {"eventType": "START", "eventTime": "2025-01-01T00:00:00Z", "producer": "p",
...          "run": {"runId": "r1", "facets": {"parent": {"_producer": "p", "run": {"runId": "a"},
...                                                       "job": {"namespace": "ns", "name": "app"}}}},
...          "job": {"namespace": "ns", "name": "app.write.out_t"},
...          "outputs": [{"namespace": "file", "name": "/tmp/d1/out/t", "facets": {}}]}
>>> normalise(event, ["/tmp/d1"])["outputs"][0]["name"]
'<data>/out/t'
>>> normalise({"name": "/tmp/d1/model/stages/0_Imputer_8f3bd2577683/data"}, ["/tmp/d1"])
{'name': '<data>/model/stages/0_Imputer_<uid>/data'}
>>> normalise(event, ["/tmp/d1"])["run"]
{'facets': {'parent': {'job': {'name': 'app', 'namespace': 'ns'}}}}
>>> [(run.key, run.event_types) for run in runs_of([event], ["/tmp/d1"])]
[('output file <data>/out/t', ('START',))]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

DATA = "<data>"
UID = "<uid>"
# Spark ML stage uids (``Imputer_8f3bd2577683``): random per run, they name saved models' folders.
_ML_UID = re.compile(r"(?<=[A-Za-z]_)[0-9a-f]{12}(?![0-9A-Za-z])")
# Keys whose values always differ between two runs of the same work, wherever they appear.
VOLATILE_KEYS = frozenset({"eventTime", "producer", "schemaURL", "_producer", "_schemaURL", "runId"})


def data_dir_spellings(data_dirs: Iterable[str | Path]) -> list[str]:
    """Each data directory as written and resolved, longest first (``/a/b`` before ``/a``).

    >>> data_dir_spellings(["/tmp/x/"])
    ['/tmp/x']
    """
    spellings = set()
    for data_dir in data_dirs:
        for spelling in (str(data_dir), str(Path(data_dir).resolve())):
            spellings.add(spelling.rstrip("/") or "/")
    return sorted(spellings, key=lambda s: (-len(s), s))


def _relative(text: str, spellings: Sequence[str]) -> str:
    for spelling in spellings:
        text = text.replace(spelling, DATA)
    return _ML_UID.sub(UID, text)


def _clean(value: Any, spellings: Sequence[str]) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v, spellings) for k, v in sorted(value.items()) if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_clean(v, spellings) for v in value]
    if isinstance(value, str):
        return _relative(value, spellings)
    return value


def normalise(event: dict, data_dirs: Iterable[str | Path]) -> dict:
    """A copy of ``event`` without volatile keys, paths under ``data_dirs`` written ``<data>/...``."""
    cleaned = _clean(event, data_dir_spellings(data_dirs))
    parent = cleaned.get("run", {}).get("facets", {}).get("parent")
    if isinstance(parent, dict):  # an emptied {"run": {}} (and root's) say nothing once the id is gone
        for owner in (parent, parent.get("root") or {}):
            if owner.get("run") == {}:
                del owner["run"]
    return cleaned


@dataclass
class Run:
    """One run's events (normalised, in the order emitted) and the key pairing it across captures."""

    key: str
    job: str
    events: list[dict] = field(default_factory=list)

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(e.get("eventType", "?") for e in self.events)


def is_application(events: Sequence[dict]) -> bool:
    """A Spark application's own run: job type APPLICATION, or no parent and no dataset at all."""
    for event in events:
        job_type = event.get("job", {}).get("facets", {}).get("jobType", {}).get("jobType")
        if job_type == "APPLICATION":
            return True
    return not any("parent" in e.get("run", {}).get("facets", {}) or e.get("inputs") or e.get("outputs")
                   for e in events)


def run_key(events: Sequence[dict]) -> str:
    """``application <job>``, ``output <namespace> <name>`` (each output of the run) or ``job <job>``."""
    job = events[0].get("job", {}).get("name", "?")
    if is_application(events):
        return f"application {job}"
    outputs = sorted({f"{o.get('namespace')} {o.get('name')}" for e in events for o in e.get("outputs") or []})
    if outputs:
        return "output " + " + ".join(outputs)
    return f"job {job}"


def runs_of(events: Iterable[dict], data_dirs: Iterable[str | Path]) -> list[Run]:
    """The runs in ``events`` (grouped by run id), ordered by their first event."""
    dirs = list(data_dirs)
    grouped: dict[str, list[dict]] = {}
    for event in events:
        grouped.setdefault(event.get("run", {}).get("runId", ""), []).append(normalise(event, dirs))
    runs = []
    for run_events in grouped.values():
        runs.append(Run(run_key(run_events), run_events[0].get("job", {}).get("name", "?"), run_events))
    return runs
