"""Where personal data starts: the classes declared in ``conf/classification.yml`` and the source columns
that hold them, found three ways.

* **rule**: the file's rules, a dataset pattern and a column pattern (fnmatch, case-insensitive) with the
  classes they give. A dataset pattern matches the dataset's full name or its short name (the last path
  segment, or the table part of a ``catalog.schema.table`` name).
* **tag**: a Marquez tag set through the API (``POST .../fields/{field}/tags/{tag}``) whose name is a declared
  class, compared case-insensitively (Marquez upper-cases a field's tags). A tag on the dataset itself
  classifies every field of it: the class is somewhere in the table, so each column is treated as holding it.
* **facet**: the OpenLineage ``tags`` dataset facet of incoming events. An entry counts when its ``key`` is a
  declared class (and its ``value`` is not ``false``/``no``/``0``), or when its key is ``classification`` and
  its ``value`` is a declared class. An entry with a ``field`` classifies that field; without one, every field.

>>> rules = parse_classification({"classes": {"PII.email": "an e-mail address"},
...     "rules": [{"dataset": "raw_customers*", "column": "*email*", "classes": ["PII.email"]}]}, "inline")
>>> [c for r in rules.rules if r.matches("/data/inputs/raw_customers.csv", "EMAIL") for c in r.classes]
['PII.email']
>>> facet_classes({"key": "classification", "value": "pii.EMAIL"}, rules.class_names)
['PII.email']
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml
from sqlalchemy import select
from sqlalchemy.engine import Connection

from lineage_audit.config import ConfigError
from lineage_audit.service.db import dataset_tags, facets

CLASSIFICATION_KEY = "classification"
NEGATIVE_VALUES = ("false", "no", "0")


@dataclass(frozen=True)
class Rule:
    number: int  # 1-based, as a reader counts them in the file
    dataset: str
    column: str
    classes: tuple[str, ...]

    def matches(self, dataset_name: str, field: str) -> bool:
        names = {dataset_name.lower(), short_name(dataset_name).lower()}
        return (any(fnmatchcase(name, self.dataset.lower()) for name in names)
                and fnmatchcase(field.lower(), self.column.lower()))


@dataclass(frozen=True)
class Classification:
    path: str
    classes: dict[str, str]  # declared class -> description
    rules: tuple[Rule, ...]

    @property
    def class_names(self) -> dict[str, str]:
        """Declared classes by their lower-cased name (tags and facets name them in any case)."""
        return {name.lower(): name for name in self.classes}


def short_name(name: str) -> str:
    """The last path segment of a path-like name, or the table part of a dotted catalog name.

    >>> [short_name(n) for n in ("/data/outputs/orders", "s3://b/raw/customers.csv", "db.sales.orders")]
    ['orders', 'customers.csv', 'orders']
    """
    last = name.rstrip("/").rsplit("/", 1)[-1]
    if "/" not in name and "." in last:
        return last.rsplit(".", 1)[-1]
    return last


def load_classification(path: Path) -> Classification:
    if not path.exists():
        raise ConfigError(f"{path}: the classification file does not exist")
    return parse_classification(yaml.safe_load(path.read_text()) or {}, str(path))


def parse_classification(content: Any, path: str) -> Classification:
    if not isinstance(content, dict):
        raise ConfigError(f"{path} must hold a mapping with 'classes' and 'rules'")
    classes = content.get("classes") or {}
    if not isinstance(classes, dict) or not all(isinstance(k, str) for k in classes):
        raise ConfigError(f"{path}: 'classes' must map each class name to its description")
    rules = []
    for number, entry in enumerate(content.get("rules") or [], start=1):
        if not isinstance(entry, dict) or not {"dataset", "column", "classes"} <= set(entry):
            raise ConfigError(f"{path}: rule {number} needs 'dataset', 'column' and 'classes'")
        named = [entry["classes"]] if isinstance(entry["classes"], str) else list(entry["classes"])
        unknown = [name for name in named if name not in classes]
        if unknown:
            raise ConfigError(f"{path}: rule {number} names undeclared classes: {', '.join(unknown)}")
        rules.append(Rule(number, str(entry["dataset"]), str(entry["column"]), tuple(named)))
    return Classification(path, {k: str(v or "") for k, v in classes.items()}, tuple(rules))


def facet_classes(entry: Mapping[str, Any], class_names: Mapping[str, str]) -> list[str]:
    """The declared classes one entry of a ``tags`` facet gives (see the module's docstring)."""
    key, value = str(entry.get("key", "")).lower(), str(entry.get("value", ""))
    if key == CLASSIFICATION_KEY:
        return [class_names[value.lower()]] if value.lower() in class_names else []
    if key in class_names and value.strip().lower() not in NEGATIVE_VALUES:
        return [class_names[key]]
    return []


@dataclass(frozen=True)
class Origin:
    """A source column holding a class, and why."""
    dataset_id: int
    field: str
    class_name: str
    origin: str  # rule, tag or facet
    detail: str


def rule_origins(classification: Classification, fields: Mapping[int, Iterable[str]],
                 names: Mapping[int, str]) -> list[Origin]:
    found = []
    for dataset_id, dataset_fields in fields.items():
        for field in dataset_fields:
            for rule in classification.rules:
                if rule.matches(names[dataset_id], field):
                    detail = f"rule {rule.number} of {Path(classification.path).name}: dataset '{rule.dataset}', " \
                             f"column '{rule.column}'"
                    found.extend(Origin(dataset_id, field, c, "rule", detail) for c in rule.classes)
    return found


def tag_origins(conn: Connection, classification: Classification, fields: Mapping[int, Iterable[str]]) -> list[Origin]:
    """The classes Marquez tags give (tags on a dataset itself: all its fields)."""
    class_names, found = classification.class_names, []
    for dataset_id, field, tag in conn.execute(select(dataset_tags.c.dataset_id, dataset_tags.c.field,
                                                      dataset_tags.c.tag).order_by(*dataset_tags.primary_key)):
        if tag.lower() not in class_names or dataset_id not in fields:
            continue
        class_name = class_names[tag.lower()]
        if field:
            found.append(Origin(dataset_id, field, class_name, "tag", f"tag {tag} on the field"))
        else:
            found.extend(Origin(dataset_id, name, class_name, "tag", f"tag {tag} on the dataset")
                         for name in fields[dataset_id])
    return found


def facet_origins(conn: Connection, classification: Classification,
                  fields: Mapping[int, Iterable[str]]) -> list[Origin]:
    """The classes the newest ``tags`` facet of each dataset gives."""
    found = []
    rows = conn.execute(select(facets.c.owner_key, facets.c.value).where(
        facets.c.owner_kind == "dataset", facets.c.name == "tags").order_by(facets.c.owner_key))
    for owner_key, value in rows:
        dataset_id = int(owner_key)
        entries = value.get("tags") if isinstance(value, dict) else None
        if dataset_id not in fields or not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            detail = "tags facet: " + ", ".join(f"{k}={entry[k]}" for k in ("key", "value", "source", "field")
                                                if entry.get(k) is not None)
            targets = [entry["field"]] if entry.get("field") else list(fields[dataset_id])
            for class_name in facet_classes(entry, classification.class_names):
                found.extend(Origin(dataset_id, str(field), class_name, "facet", detail) for field in targets)
    return found
