"""The text ``lineage-audit diff`` prints: a diff's JSON (``lineage_audit.service.diff``) for a terminal.

``+`` added, ``-`` removed, ``~`` changed, ``=`` unchanged; per dataset its fields, its column-lineage edges
(``output field <- input dataset.field`` with their transformations) and its row counts before -> after.
"""

from __future__ import annotations

from typing import Any


def render(body: dict[str, Any]) -> str:
    lines = _header(body)
    for part, title in (("inputs", "Inputs"), ("outputs", "Outputs"), ("writers", "Writers")):
        lines += _moves(title if body["kind"] == "runs" or part != "inputs" else "Inputs (of its writers)",
                        body[part])
    if body["datasets"]:
        lines.append("Datasets:")
    for dataset in body["datasets"]:
        lines += _dataset(dataset)
    lines.append("Changed." if body["changed"] else "Nothing changed.")
    return "\n".join(lines) + "\n"


def _name(entry: dict[str, Any]) -> str:
    return f"{entry['namespace']}:{entry['name']}"


def _header(body: dict[str, Any]) -> list[str]:
    if body["kind"] == "runs":
        lines = [f"Runs of job {_name(body['job'])}"]
        for label in ("from", "to"):
            side = body[label]
            version = f", job version {side['jobVersion']}" if side["jobVersion"] else ""
            lines.append(f"  {label:<4} run {side['runId']}  {side['state']}, started {side['time']}{version}")
        return lines
    lines = [f"Dataset {_name(body['dataset'])}"]
    for label in ("from", "to"):
        side = body[label]
        if side["datasetVersion"] is None:
            state = "no version yet" if side["runId"] is None and _exists(body, label) else "did not exist"
        else:
            writer = f" written by run {side['runId']} ({side['state']})" if side["runId"] else ""
            state = f"version {side['datasetVersion']}{writer}"
        lines.append(f"  {label:<4} {side['time']}  {state}")
    return lines


def _exists(body: dict[str, Any], label: str) -> bool:
    """Whether the dataset had writers at that moment (it existed without a version of its own yet)."""
    writers = body["writers"]
    return bool(writers["unchanged"] or writers["removed" if label == "from" else "added"])


def _moves(title: str, moves: dict[str, list[dict[str, str]]]) -> list[str]:
    if not any(moves.values()):
        return []
    lines = [f"{title}:"]
    lines += [f"  + {_name(m)}" for m in moves["added"]]
    lines += [f"  - {_name(m)}" for m in moves["removed"]]
    if moves["unchanged"]:
        lines.append(f"  = {', '.join(_name(m) for m in moves['unchanged'])}")
    return lines


def _dataset(dataset: dict[str, Any]) -> list[str]:
    role = dataset["role"].lower()
    if not dataset["changed"]:
        return [f"  = {_name(dataset)} ({role}): unchanged"]
    if dataset["fromVersion"] is None and dataset["toVersion"] is not None:
        mark = "+"
    elif dataset["toVersion"] is None and dataset["fromVersion"] is not None:
        mark = "-"
    else:
        mark = "~"
    lines = [f"  {mark} {_name(dataset)} ({role})"]
    fields = dataset["fields"]
    lines += [f"      + field {f['name']} {f['type'] or '?'}" for f in fields["added"]]
    lines += [f"      - field {f['name']} {f['type'] or '?'}" for f in fields["removed"]]
    lines += [f"      ~ field {f['name']} {f['fromType'] or '?'} -> {f['toType'] or '?'}" for f in fields["retyped"]]
    lineage = dataset["columnLineage"]
    lines += [f"      + lineage {_edge(e)} {_transformations(e['transformations'])}" for e in lineage["added"]]
    lines += [f"      - lineage {_edge(e)} {_transformations(e['transformations'])}" for e in lineage["removed"]]
    lines += [f"      ~ lineage {_edge(e)} {_transformations(e['fromTransformations'])} -> "
              f"{_transformations(e['toTransformations'])}" for e in lineage["changed"]]
    rows = dataset["rowCount"]
    if rows["from"] is not None or rows["to"] is not None:
        lines.append(f"      rows {_count(rows['from'])} -> {_count(rows['to'])}")
    return lines


def _edge(edge: dict[str, Any]) -> str:
    source = edge["input"]
    return f"{edge['field']} <- {source['namespace']}:{source['name']}.{source['field']}"


def _transformations(transformations: list[dict[str, Any]]) -> str:
    if not transformations:
        return "(no transformation given)"
    shown = []
    for t in transformations:
        text = "/".join(part for part in (t.get("type"), t.get("subtype")) if part) or "?"
        if t.get("masking"):
            text += " masked"
        if t.get("description"):
            text += f" '{t['description']}'"
        shown.append(text)
    return "(" + ", ".join(shown) + ")"


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"
