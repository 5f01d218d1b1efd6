"""A dataset under another of its names: the ``symlinks`` facet lists them (a Hive table's name for the
files it is stored in, say), and Marquez answers a dataset under any of them.

Read when a dataset is asked for by a name no dataset has: the datasets whose ``symlinks`` facet names
it, the earliest created first. Resolved at read time, from the stored facets, so the answer does not
depend on the order events arrived in.
"""

from __future__ import annotations

import json

from sqlalchemy import Text, cast, select
from sqlalchemy.engine import Connection, RowMapping

from lineage_audit.service.db import datasets, facets


def symlink_target(conn: Connection, namespace: str, name: str) -> RowMapping | None:
    """The dataset one of whose symlinks is ``namespace``/``name``, if any."""
    as_json = json.dumps(name, ensure_ascii=False)[1:-1]  # how the name reads inside the stored facet
    candidates = conn.execute(select(facets.c.owner_key, facets.c.value).where(
        facets.c.owner_kind == "dataset", facets.c.name == "symlinks",
        cast(facets.c.value, Text).contains(as_json, autoescape=True)))
    ids = [int(key) for key, value in candidates if _names(value, namespace, name)]
    if not ids:
        return None
    return conn.execute(select(datasets).where(datasets.c.id.in_(ids), datasets.c.is_hidden.is_(False))
                        .order_by(datasets.c.created_at, datasets.c.namespace, datasets.c.name)).mappings().first()


def _names(value, namespace: str, name: str) -> bool:
    facet = json.loads(value) if isinstance(value, str) else value
    identifiers = facet.get("identifiers") if isinstance(facet, dict) else None
    return isinstance(identifiers, list) and any(
        isinstance(i, dict) and i.get("namespace") == namespace and i.get("name") == name for i in identifiers)
