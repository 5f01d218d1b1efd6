"""A dataset under another of its names: the ``symlinks`` facet lists them (a Hive table's name for the
files it is stored in, say), and Marquez files an event naming one of them under that dataset.

As in Marquez, a dataset's own name is its first name: a name belongs to the dataset first named so or, if
none was, to the dataset that first declared it among its symlinks. A name taken stays taken, so an event
that names a dataset under its symlink before any event declares the symlink makes a dataset of that
name, and the later declaration leaves the two apart (Marquez's ``ON CONFLICT DO NOTHING``). The symlinks a
dataset declares are kept in ``dataset_symlinks``; a batch resolves its names event by event, in the order
of the batch, so a batch ends as its events sent one at a time would.

:class:`SymlinkNames` resolves at ingest; :func:`symlink_target` answers a dataset asked for by a symlink.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.engine import Connection, RowMapping

from lineage_audit.service.db import dataset_symlinks, datasets
from lineage_audit.service.derived_values import store_name
from lineage_audit.service.events import Checked, Key
from lineage_audit.service.merge_sql import Sql, insert_values, select_in


def symlink_target(conn: Connection, namespace: str, name: str) -> RowMapping | None:
    """The dataset one of whose symlinks is ``namespace``/``name``, if any."""
    return conn.execute(select(datasets).join(dataset_symlinks, dataset_symlinks.c.dataset_id == datasets.c.id)
                        .where(dataset_symlinks.c.namespace == namespace, dataset_symlinks.c.name == name,
                               datasets.c.is_hidden.is_(False))).mappings().first()


def symlinked_ids(conn: Connection, keys: Iterable[Key]) -> dict[Key, int]:
    """``(namespace, name) -> dataset id`` of those of ``keys`` that are symlinks of a dataset."""
    keys = set(keys)
    if not keys:
        return {}
    rows = conn.execute(select(dataset_symlinks.c.namespace, dataset_symlinks.c.name, dataset_symlinks.c.dataset_id)
                        .where(dataset_symlinks.c.name.in_(sorted({name for _ns, name in keys}))))
    return {(ns, name): dataset_id for ns, name, dataset_id in rows if (ns, name) in keys}


def identifiers(facet: Any) -> list[tuple[Key, str | None]]:
    """``((namespace, name), type)`` of each well-formed identifier of a symlinks facet."""
    found = facet.get("identifiers") if isinstance(facet, dict) else None
    keys = []
    for identifier in found if isinstance(found, list) else ():
        if not isinstance(identifier, dict):
            continue
        key = (store_name(identifier.get("namespace")), store_name(identifier.get("name")))
        if None not in key:
            kind = identifier.get("type")
            keys.append((key, kind[:64] if kind.__class__ is str else None))
    return keys


def _datasets_of(item: Checked) -> Iterable[Mapping[str, Any]]:
    if item.kind == "DatasetEvent":
        return [item.event["dataset"]]
    return [*(item.event.get("inputs") or ()), *(item.event.get("outputs") or ())]


def _names_in(events: list[Checked]) -> tuple[set[Key], set[Key]]:
    """The dataset names the events use (column lineage's inputs too), and the names their symlinks declare."""
    used, declared = set(), set()
    for item in events:
        for dataset in _datasets_of(item):
            used.add((dataset["namespace"], dataset["name"]))
            dataset_facets = dataset.get("facets") if isinstance(dataset.get("facets"), dict) else {}
            declared |= {key for key, _type in identifiers(dataset_facets.get("symlinks"))}
            lineage = dataset_facets.get("columnLineage")
            fields = lineage.get("fields") if isinstance(lineage, dict) else None
            bodies = list(fields.values()) if isinstance(fields, dict) else []
            entries = [e for b in bodies if isinstance(b, dict) and isinstance(b.get("inputFields"), list)
                       for e in b["inputFields"]]
            if isinstance(lineage, dict) and isinstance(lineage.get("dataset"), list):
                entries += lineage["dataset"]
            used |= {(e["namespace"], e["name"]) for e in entries
                     if isinstance(e, dict) and e.get("namespace").__class__ is str and e.get("name").__class__ is str}
    return used, declared


class SymlinkNames:
    """The names of one batch's datasets, resolved as the batch's events name and declare them."""

    def __init__(self, sql: Sql, cursor: Any, events: list[Checked]):
        used, declared = _names_in(events)
        wanted = used | declared
        self.aliases: dict[Key, Key] = {}  # symlink name -> the dataset it names
        for ns, name, target_ns, target_name in select_in(
                sql, cursor, "SELECT s.namespace, s.name, d.namespace, d.name FROM dataset_symlinks s JOIN datasets d "
                             "ON d.id = s.dataset_id WHERE s.name IN {in}", sorted({n for _ns, n in wanted})):
            if (ns, name) in wanted:
                self.aliases[(ns, name)] = (target_ns, target_name)
        undecided = declared - set(self.aliases)
        self.taken: set[Key] = {(ns, name) for ns, name in select_in(  # names datasets have as their own
            sql, cursor, "SELECT namespace, name FROM datasets WHERE name IN {in}",
            sorted({n for _ns, n in undecided})) if (ns, name) in undecided}
        self.declared: dict[Key, tuple[Key, str | None, Any]] = {}  # new symlinks: -> (dataset, type, time)

    def resolve(self, key: Key) -> Key:
        """The dataset an event means by ``key``: the one that has it as a symlink, or the one named so."""
        target = self.aliases.get(key)
        if target is not None:
            return target
        self.taken.add(key)
        return key

    def declare(self, key: Key, facet: Any, t: Any) -> None:
        """The symlinks facet of dataset ``key``: the names not taken yet become its symlinks."""
        for name, kind in identifiers(facet):
            if name not in self.taken and name not in self.aliases:
                self.aliases[name] = key
                self.declared[name] = (key, kind, t)

    def write(self, sql: Sql, cursor: Any, dataset_ids: Mapping[Key, int]) -> None:
        rows = [{"namespace": ns, "name": name, "dataset_id": dataset_ids[target], "type": kind, "created_at": t}
                for (ns, name), (target, kind, t) in sorted(self.declared.items())]
        insert_values(sql, cursor, "dataset_symlinks", rows, "ON CONFLICT (name, namespace) DO NOTHING")
