"""The privacy policy: which outputs may hold which classes in the clear (``conf/privacy_policy.yml``).

An output is a dataset some job writes. Every class an output column holds in the clear must be allowed, with
a reason, by an entry whose dataset pattern matches the output (fnmatch, case-insensitive, on the full name
or the short name, as classification rules match) and, when the entry lists ``columns`` (patterns), one of
them matches the column; anything else is a violation. A masked class, or one a
column is only influenced by, is never a violation.

>>> policy = parse_policy({"outputs": [{"dataset": "customer_*", "allow": {"PII.*": "system of record"}}]}, "x")
>>> policy.allows("/data/outputs/customer_master", "email", "PII.email"), policy.allows("/data/r", "email", "PII.email")
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from lineage_audit.config import ConfigError
from lineage_audit.service.classification import short_name
from lineage_audit.service.propagation import CLEAR, Classified


@dataclass(frozen=True)
class Allowance:
    dataset: str
    classes: dict[str, str]  # class pattern -> reason
    columns: tuple[str, ...] = ("*",)

    def allows(self, dataset_name: str, field: str, class_name: str) -> bool:
        names = (dataset_name.lower(), short_name(dataset_name).lower())
        return (any(fnmatchcase(name, self.dataset.lower()) for name in names)
                and any(fnmatchcase(field.lower(), pattern.lower()) for pattern in self.columns)
                and any(fnmatchcase(class_name.lower(), pattern.lower()) for pattern in self.classes))


@dataclass(frozen=True)
class Policy:
    path: str
    outputs: tuple[Allowance, ...]

    def allows(self, dataset_name: str, field: str, class_name: str) -> bool:
        return any(entry.allows(dataset_name, field, class_name) for entry in self.outputs)


def load_policy(path: Path) -> Policy:
    if not path.exists():
        raise ConfigError(f"{path}: the privacy policy file does not exist")
    return parse_policy(yaml.safe_load(path.read_text()) or {}, str(path))


def parse_policy(content: Any, path: str) -> Policy:
    if not isinstance(content, dict) or not isinstance(content.get("outputs", []), list):
        raise ConfigError(f"{path} must hold a mapping with a list 'outputs'")
    entries = []
    for number, entry in enumerate(content.get("outputs") or [], start=1):
        if not isinstance(entry, dict) or "dataset" not in entry or not isinstance(entry.get("allow"), dict):
            raise ConfigError(f"{path}: output entry {number} needs 'dataset' and 'allow' (class: reason)")
        missing = [name for name, reason in entry["allow"].items() if not str(reason or "").strip()]
        if missing:
            raise ConfigError(f"{path}: output entry {number} allows {', '.join(missing)} without a reason")
        columns = entry.get("columns", ["*"])
        if isinstance(columns, str) or not isinstance(columns, list) or not columns:
            raise ConfigError(f"{path}: output entry {number}: 'columns' must be a list of column patterns")
        entries.append(Allowance(str(entry["dataset"]), {str(k): str(v) for k, v in entry["allow"].items()},
                                 tuple(str(c) for c in columns)))
    return Policy(path, tuple(entries))


def evaluate(classified: Classified, policy: Policy, namespace: str | None = None) -> dict[str, Any]:
    """``GET /audit/policy``'s answer: every output column holding a class in the clear that the policy does
    not allow, with the column the class came from and the path of jobs and columns it took."""
    snapshot = classified.snapshot
    outputs = sorted((i for i in snapshot.outputs if namespace is None or snapshot.names[i][0] == namespace),
                     key=lambda i: snapshot.names[i])
    violations, checked = [], 0
    for dataset_id in outputs:
        name = snapshot.names[dataset_id][1]
        for key in classified.dataset_fields(dataset_id):
            checked += 1
            for carry in classified.field_entry(key)[CLEAR]:
                if not policy.allows(name, key[1], carry["class"]):
                    violations.append({**classified.ref(key), "class": carry["class"], "source": carry["source"],
                                       "path": carry["path"]})
    return {"policy": policy.path, "passed": not violations, "checkedFields": checked, "violations": violations}
