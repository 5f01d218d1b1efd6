"""``lineage-audit audit``: the privacy policy check of the running lineage service, for CI.

It asks ``/api/v1/audit/policy`` at ``--url`` or where the capture sends events (as ``lineage-audit diff``
does), with the service's read key when one is configured, and prints every violation: the output column,
the class it holds in the clear, and the path of jobs and columns the class took from its source column.
Exit codes: 0 the policy holds, 1 violations, 2 the service cannot be reached or gave an answer that is not
the check's.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from lineage_audit.diff_cli import BadInput, ServiceClient, Unreachable, default_url, read_key


def add_parser(sub: Any) -> None:
    audit = sub.add_parser("audit", help="check the outputs against the privacy policy (exit 1 on a violation)",
                           description="lineage-audit audit [--url URL] [--json]")
    audit.add_argument("--url", help="the lineage service (default: spark.openlineage.transport.url)")
    audit.add_argument("--namespace", help="check only the outputs of this namespace")
    audit.add_argument("--json", action="store_true", help="print the API's JSON")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    url = args.url or default_url()
    try:
        body = ServiceClient(url, read_key()).get("/audit/policy", namespace=args.namespace)
        if not isinstance(body, dict) or not isinstance(body.get("violations"), list) or "passed" not in body:
            raise Unreachable(f"the lineage service at {url} did not answer with a policy check")
    except (BadInput, Unreachable) as exc:
        print(f"lineage-audit audit: {exc}", file=err)
        return 2
    out.write(json.dumps(body, indent=2) + "\n" if args.json else render(body))
    return 0 if body["passed"] else 1


def render(body: dict[str, Any]) -> str:
    """One paragraph per violation, then a summary line."""
    lines = []
    for violation in body["violations"]:
        lines.append(f"{_column(violation, full=True)}  {violation['class']} in the clear")
        lines.append("   " + path_text(violation))
    count, checked = len(body["violations"]), body.get("checkedFields", 0)
    if count:
        lines.append(f"{count} violation{'s' if count != 1 else ''} of {body.get('policy')} "
                     f"({checked} output columns checked)")
    else:
        lines.append(f"policy {body.get('policy')} holds: {checked} output columns checked, no class in the clear "
                     "where it is not allowed")
    return "\n".join(lines) + "\n"


def path_text(violation: dict[str, Any]) -> str:
    """``source.col -[job: DIRECT/IDENTITY]-> next.col ...`` with short dataset names."""
    source = violation["source"]
    text = _column(source) + f" ({source['origin']})"
    for step in violation["path"]:
        transformation = step["transformation"]
        kind = "/".join(part for part in (transformation["type"], transformation.get("subtype")) if part)
        job = step["job"]["name"] if step.get("job") else "?"
        text += f" -[{job}: {kind}]-> {_column(step['to'])}"
    return text


def _column(ref: dict[str, Any], full: bool = False) -> str:
    name = ref["dataset"] if full else ref["dataset"].rstrip("/").rsplit("/", 1)[-1]
    return f"{ref['namespace']}:{name}.{ref['field']}" if full else f"{name}.{ref['field']}"
