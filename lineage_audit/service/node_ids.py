"""Node ids of Marquez's lineage graphs (``job:<namespace>:<name>``, ``dataset:<namespace>:<name>``,
``datasetField:<namespace>:<dataset>:<field>``) and the store's rows they name; and the batched lookups the
graph walks share (``chunks``, ``among``).

Namespaces and names may hold colons themselves (``postgres://host:5432``), so a nodeId is cut every
way it can be and each cut is tried against the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from lineage_audit.service.db import dataset_fields, datasets, field_lineage, jobs

CHUNK = 900  # ids per IN list: below SQLite's oldest limit on bound parameters (999)
MAX_COLONS = 64  # in a nodeId: every way of cutting it is tried, so their number is bounded
LINEAGE_FORMS = "job:<namespace>:<name> or dataset:<namespace>:<name>"
COLUMN_FORMS = "dataset:<namespace>:<name>, datasetField:<namespace>:<dataset>:<field> or job:<namespace>:<name>"


class NodeIdError(ValueError):
    """A nodeId the service cannot read (400)."""


class NodeNotFound(LookupError):
    """A well-formed nodeId naming nothing in the store (404)."""


@dataclass(frozen=True)
class Node:
    kind: str  # job, dataset, datasetField
    id: int  # the job's or dataset's id in the store
    field: str | None = None


def job_node_id(namespace: str, name: str) -> str:
    return f"job:{namespace}:{name}"


def dataset_node_id(namespace: str, name: str) -> str:
    return f"dataset:{namespace}:{name}"


def field_node_id(namespace: str, dataset: str, field: str) -> str:
    return f"datasetField:{namespace}:{dataset}:{field}"


def chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def among(conn: Connection, column, values: list[Any]):
    """``column IN (values)``; on PostgreSQL ``= ANY(array)``, one parameter instead of hundreds, which the
    server plans many times faster."""
    if conn.dialect.name == "postgresql":  # text[] rather than varchar(n)[]: a cast would cut longer values
        return column == any_(bindparam(None, values, type_=ARRAY(String() if isinstance(column.type, String)
                                                                   else column.type)))
    return column.in_(values)


def _splits(text: str) -> list[tuple[str, str]]:
    """Every way to cut ``text`` in two at a colon, both parts non-empty."""
    return [(text[:i], text[i + 1:]) for i, c in enumerate(text) if c == ":" and 0 < i < len(text) - 1]


def resolve(conn: Connection, node_id: str, kinds: Sequence[str], at: datetime | None = None,
            field_exists: Callable[[int, str], bool] | None = None) -> Node:
    """The job, dataset or field a nodeId names; with ``at``, one that existed then (soft-deleted or not),
    a field being one ``field_exists`` knows.

    Namespaces and names may hold colons themselves (``postgres://host:5432``), so every way of
    cutting the nodeId is tried against the store; if several name something, the longest
    namespace wins.
    """
    forms = COLUMN_FORMS if "datasetField" in kinds else LINEAGE_FORMS
    kind, _, rest = node_id.partition(":")
    if kind not in kinds or not rest:
        raise NodeIdError(f"nodeId {node_id!r} is not of the form {forms}")
    if rest.count(":") > MAX_COLONS:
        raise NodeIdError(f"nodeId holds more than {MAX_COLONS} colons")
    if "\x00" in rest:
        raise NodeIdError("nodeId holds a NUL character")
    if kind in ("job", "dataset"):
        splits = _splits(rest)
        if not splits:
            raise NodeIdError(f"nodeId {node_id!r} is not of the form {forms}")
        found = named(conn, jobs if kind == "job" else datasets, splits, at)
        if not found:
            raise NodeNotFound(f"no {kind} {rest!r} (namespace:name) is known")
        return Node(kind, found[max(found, key=lambda pair: len(pair[0]))])
    # datasetField: namespace, dataset and field, cut at two colons
    triples = [(ns, ds, field) for ns, remainder in _splits(rest) for ds, field in _splits(remainder)]
    if not triples:
        raise NodeIdError(f"nodeId {node_id!r} is not of the form {forms}")
    found = named(conn, datasets, {(ns, ds) for ns, ds, _ in triples}, at)
    candidates = [(ns, found[(ns, ds)], field) for ns, ds, field in triples if (ns, ds) in found]
    for ns, dataset_id, field in sorted(candidates, key=lambda c: -len(c[0])):
        if (field_exists or partial(_field_exists, conn))(dataset_id, field):
            return Node("datasetField", dataset_id, field)
    raise NodeNotFound(f"no dataset field {rest!r} (namespace:dataset:field) is known")


def named(conn: Connection, table, pairs: Iterable[tuple[str, str]], at: datetime | None = None
          ) -> dict[tuple[str, str], int]:
    """Ids of the jobs or datasets among (namespace, name) pairs (soft-deleted ones are not named); with ``at``,
    of those that existed then, soft-deleted since or not."""
    pairs = set(pairs)
    found = {}
    condition = table.c.is_hidden.is_(False) if at is None else table.c.created_at <= at
    for chunk in chunks({name for _, name in pairs}):
        for row_id, namespace, name in conn.execute(select(table.c.id, table.c.namespace, table.c.name)
                                                    .where(among(conn, table.c.name, chunk), condition)):
            if (namespace, name) in pairs:
                found[(namespace, name)] = row_id
    return found


def _field_exists(conn: Connection, dataset_id: int, field: str) -> bool:
    """A field is known from the dataset's schema or from column lineage naming it."""
    queries = (
        select(dataset_fields.c.name).where(dataset_fields.c.dataset_id == dataset_id, dataset_fields.c.name == field),
        select(field_lineage.c.id).where(field_lineage.c.output_dataset_id == dataset_id,
                                         field_lineage.c.output_field == field),
        select(field_lineage.c.id).where(field_lineage.c.input_dataset_id == dataset_id,
                                         field_lineage.c.input_field == field),
    )
    return any(conn.execute(query.limit(1)).first() is not None for query in queries)


def hidden_ids(conn: Connection, table) -> set[int]:
    """Ids of the soft-deleted jobs or datasets: graphs leave them out, and do not walk through them."""
    return set(conn.execute(select(table.c.id).where(table.c.is_hidden.is_(True))).scalars())
