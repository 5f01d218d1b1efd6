"""How classes travel: from the source columns (:mod:`~lineage_audit.service.classification`) downstream
along the current column lineage (``field_lineage``), across jobs, to every field they reach.

* A DIRECT edge that does not mask (IDENTITY, TRANSFORMATION, and AGGREGATION such as ``max`` or ``first``,
  which return values of the column) carries the class **in the clear**. An edge without a transformation
  (an older facet) counts as such an edge: it is the cautious reading.
* A DIRECT edge that masks (a hash, a count: what the capture marks ``masking``) stops it: the output holds the
  class **masked**, with the step that masked it (``maskedAt``). A masked class follows further DIRECT edges
  as masked and never becomes clear again.
* A field-level INDIRECT edge (a filter, join, grouping, sort, window or condition on the column) from a field
  holding the class in the clear makes its output **influenced by** the class. Influence is one step: it does
  not follow further edges, DIRECT or INDIRECT, since the influenced column holds none of the values.
* A dataset-level INDIRECT dependency (``output_field`` "") on such a field puts the class in the dataset's
  ``rowsInfluencedBy``: which rows the dataset holds depends on it.

Every answer keeps, per field, class, status and source column, the shortest path. Breadth-first search over
(field, status) states terminates on cycles (a job that merges into a table it reads). Soft-deleted datasets
are left out. The result is cached until the store changes: the key holds the ledger's length (every
ingested event), the tags on datasets and fields, the soft-deleted datasets and jobs and the conf file's
modification time, so that the read after an event or a tag change is current.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from lineage_audit.service.classification import (
    Classification,
    Origin,
    facet_origins,
    load_classification,
    rule_origins,
    tag_origins,
)
from lineage_audit.service.db import (
    dataset_fields,
    dataset_tags,
    dataset_versions,
    datasets,
    event_ledger,
    field_lineage,
    job_io,
    jobs,
    runs,
)

FieldKey = tuple[int, str]  # (dataset id, field name)
CLEAR, MASKED, INFLUENCED = "carries", "masked", "influencedBy"


@dataclass(frozen=True)
class Edge:
    output: FieldKey
    input: FieldKey
    type: str | None
    subtype: str | None
    description: str | None
    masking: bool
    job: tuple[str, str] | None

    @property
    def is_direct(self) -> bool:
        return self.type != "INDIRECT"


@dataclass
class Snapshot:
    """The part of the store propagation reads: names, schemas, edges by input field, written datasets."""
    names: dict[int, tuple[str, str]]
    fields: dict[int, list[tuple[str, str | None]]]  # dataset id -> [(field, type)] in schema order
    field_edges: dict[FieldKey, list[Edge]]
    row_edges: dict[FieldKey, list[Edge]]  # dataset-level dependencies, by the input field
    outputs: set[int]  # datasets some job writes


@dataclass
class Classified:
    """Every field's classes (``entries[field][status][(class, origin)]`` = the Carry JSON) and every
    dataset's ``rowsInfluencedBy``."""
    classification: Classification
    snapshot: Snapshot
    store_version: int
    entries: dict[FieldKey, dict[str, dict[tuple, dict]]] = field(default_factory=dict)
    rows: dict[int, dict[tuple, dict]] = field(default_factory=dict)

    def ref(self, key: FieldKey) -> dict[str, str]:
        namespace, name = self.snapshot.names[key[0]]
        return {"namespace": namespace, "dataset": name, "field": key[1]}

    def field_entry(self, key: FieldKey) -> dict[str, Any]:
        types = dict(self.snapshot.fields.get(key[0], []))
        found = self.entries.get(key, {})
        clear = {class_origin for class_origin in found.get(CLEAR, {})}
        masked = {k: v for k, v in found.get(MASKED, {}).items() if k not in clear}
        influenced = {k: v for k, v in found.get(INFLUENCED, {}).items() if k not in clear and k not in masked}
        return {**self.ref(key), "type": types.get(key[1]),
                CLEAR: _sorted(found.get(CLEAR, {})), MASKED: _sorted(masked), INFLUENCED: _sorted(influenced)}

    def classified_fields(self, dataset_ids: Iterable[int] | None = None) -> list[FieldKey]:
        """The fields with any entry (of the datasets given), by dataset name then schema order."""
        wanted = None if dataset_ids is None else set(dataset_ids)
        keys = [k for k, found in self.entries.items() if any(found.values()) and (wanted is None or k[0] in wanted)]
        return sorted(keys, key=self._order)

    def dataset_fields(self, dataset_id: int) -> list[FieldKey]:
        """Every current field of a dataset, then the fields only its column lineage names."""
        keys = [(dataset_id, name) for name, _ in self.snapshot.fields.get(dataset_id, [])]
        extra = [k for k in self.classified_fields([dataset_id]) if k not in set(keys)]
        return keys + extra

    def _order(self, key: FieldKey) -> tuple:
        positions = {name: i for i, (name, _) in enumerate(self.snapshot.fields.get(key[0], []))}
        return (self.snapshot.names[key[0]], positions.get(key[1], len(positions)), key[1])


def _sorted(carries: dict[tuple, dict]) -> list[dict]:
    return [carries[k] for k in sorted(carries, key=lambda k: (k[0], len(carries[k]["path"]), repr(k)))]


def read_snapshot(conn: Connection) -> Snapshot:
    hidden = {i for (i,) in conn.execute(select(datasets.c.id).where(datasets.c.is_hidden.is_(True)))}
    names = {row.id: (row.namespace, row.name) for row in conn.execute(
        select(datasets.c.id, datasets.c.namespace, datasets.c.name).where(datasets.c.is_hidden.is_(False)))}
    fields: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for dataset_id, name, type_ in conn.execute(select(dataset_fields.c.dataset_id, dataset_fields.c.name,
                                                       dataset_fields.c.type)
                                                .order_by(dataset_fields.c.dataset_id, dataset_fields.c.position)):
        if dataset_id in names:
            fields[dataset_id].append((name, type_))
    version_jobs = dict(((v, (ns, name)) for v, ns, name in conn.execute(
        select(dataset_versions.c.uuid, jobs.c.namespace, jobs.c.name)
        .join(runs, runs.c.uuid == dataset_versions.c.run_uuid).join(jobs, jobs.c.id == runs.c.job_id))))
    writers: dict[int, tuple[str, str]] = {}
    for dataset_id, ns, name in conn.execute(select(job_io.c.dataset_id, jobs.c.namespace, jobs.c.name)
                                             .join(jobs, jobs.c.id == job_io.c.job_id)
                                             .where(job_io.c.direction == "OUTPUT", jobs.c.is_hidden.is_(False))
                                             .order_by(jobs.c.namespace.desc(), jobs.c.name.desc())):
        writers[dataset_id] = (ns, name)  # the first by name wins: the order is descending
    field_edges: dict[FieldKey, list[Edge]] = defaultdict(list)
    row_edges: dict[FieldKey, list[Edge]] = defaultdict(list)
    rows = conn.execute(select(field_lineage).order_by(field_lineage.c.id))
    for row in rows:
        if row.output_dataset_id in hidden or row.input_dataset_id in hidden:
            continue
        job = version_jobs.get(row.dataset_version_uuid) or writers.get(row.output_dataset_id)
        edge = Edge((row.output_dataset_id, row.output_field), (row.input_dataset_id, row.input_field),
                    row.transformation_type, row.transformation_subtype, row.transformation_description,
                    bool(row.masking), job)
        (field_edges if row.output_field else row_edges)[edge.input].append(edge)
    for edges in field_edges.values():  # a carrying edge first: a pair with several rows is read at its strongest
        edges.sort(key=lambda e: (not e.is_direct, e.masking))
    return Snapshot(names, dict(fields), dict(field_edges), dict(row_edges), set(writers) - hidden)


def classify(conn: Connection, classification: Classification, store_version: int) -> Classified:
    snapshot = read_snapshot(conn)
    field_names = {i: [name for name, _ in snapshot.fields.get(i, [])] for i in snapshot.names}
    short = {i: name for i, (_ns, name) in snapshot.names.items()}
    origins = (rule_origins(classification, field_names, short) + tag_origins(conn, classification, field_names)
               + facet_origins(conn, classification, field_names))
    result = Classified(classification, snapshot, store_version)
    for origin in dict.fromkeys(origins):  # each once, in the order found
        _propagate(result, origin)
    return result


def _propagate(result: Classified, origin: Origin) -> None:
    """Breadth first from one source column: the first path to reach a (field, status) is a shortest one."""
    start: FieldKey = (origin.dataset_id, origin.field)
    source = {**result.ref(start), "origin": origin.origin, "detail": origin.detail}
    key = (origin.class_name, (start, origin.origin, origin.detail))
    seen: set[tuple[FieldKey, str]] = {(start, CLEAR)}
    queue: deque[tuple[FieldKey, str, tuple[Edge, ...], Edge | None]] = deque([(start, CLEAR, (), None)])
    snapshot = result.snapshot

    def record(at: FieldKey, status: str, path: tuple[Edge, ...], masked_at: Edge | None) -> None:
        carry = {"class": origin.class_name, "source": source, "path": [_step(result, e) for e in path]}
        if masked_at is not None:
            carry["maskedAt"] = _step(result, masked_at)
        result.entries.setdefault(at, {}).setdefault(status, {}).setdefault(key, carry)

    record(start, CLEAR, (), None)
    while queue:
        at, status, path, masked_at = queue.popleft()
        for edge in snapshot.field_edges.get(at, ()):
            if edge.is_direct:
                next_status = MASKED if status == MASKED or edge.masking else CLEAR
                next_masked_at = masked_at or (edge if edge.masking else None)
                if (edge.output, next_status) not in seen:
                    seen.add((edge.output, next_status))
                    record(edge.output, next_status, path + (edge,), next_masked_at)
                    queue.append((edge.output, next_status, path + (edge,), next_masked_at))
            elif status == CLEAR:
                record(edge.output, INFLUENCED, path + (edge,), None)
        if status == CLEAR:
            for edge in snapshot.row_edges.get(at, ()):
                carry = {"class": origin.class_name, "source": source,
                         "path": [_step(result, e) for e in path + (edge,)]}
                result.rows.setdefault(edge.output[0], {}).setdefault(key, carry)


def _step(result: Classified, edge: Edge) -> dict[str, Any]:
    return {"job": None if edge.job is None else {"namespace": edge.job[0], "name": edge.job[1]},
            "from": result.ref(edge.input), "to": result.ref(edge.output),
            "transformation": {"type": edge.type or "DIRECT", "subtype": edge.subtype, "masking": edge.masking,
                               "description": edge.description}}


class ClassificationCache:
    """The newest :class:`Classified`, recomputed when the store, the tags or the conf file changed."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._value: Classified | None = None

    def get(self, engine: Engine) -> Classified:
        with engine.connect() as conn:
            key = self._key_of(conn)
            with self._lock:
                if key != self._key or self._value is None:
                    self._value = classify(conn, load_classification(self.path), key[0])
                    self._key = key
                return self._value

    def _key_of(self, conn: Connection) -> tuple:
        length = conn.execute(select(func.coalesce(func.max(event_ledger.c.position), 0))).scalar_one()
        tags = tuple(conn.execute(select(dataset_tags.c.dataset_id, dataset_tags.c.field, dataset_tags.c.tag)
                                  .order_by(*dataset_tags.primary_key)))
        hidden = tuple(tuple(i for (i,) in conn.execute(select(table.c.id).where(table.c.is_hidden.is_(True))
                                                         .order_by(table.c.id))) for table in (datasets, jobs))
        stat = self.path.stat() if self.path.exists() else None
        return (int(length), tags, hidden, stat and (stat.st_mtime_ns, stat.st_size))
