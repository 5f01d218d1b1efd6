"""``lineage-audit report DATASET``: a provenance report on one table, for an auditor, as HTML and JSON.

It reads the running lineage service over HTTP, as ``diff`` and the web UI do (``--url``, else where the
capture sends events; the service's read key when one is configured), and writes
``<short name>-provenance.html`` (self-contained: it opens from a file, with no server) and
``<short name>-provenance.json`` (the same content) into the current directory, or into ``--out``: a
directory, or a file path ending in ``.html`` with the JSON beside it. What they hold: ``report_model``.

DATASET is a full name (``file:/abs/outputs/enriched_orders`` as ``namespace:name``, or the name alone) or a
short name (``enriched_orders``: the dataset whose last path segment, or the table part of a catalog name,
is that). Exit codes: 0 written, 2 an unknown or ambiguous dataset (the candidates listed) or an unwritable
``--out``, 1 the service cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from lineage_audit.diff_cli import BadInput, ServiceClient, Unreachable, default_url, read_key
from lineage_audit.report_html import render
from lineage_audit.report_model import build_report, dataset_path, short_name

SEARCH_LIMIT = 10_000


def add_parser(sub: Any) -> None:
    report = sub.add_parser("report", help="a provenance report on one dataset, as HTML and JSON",
                            description="lineage-audit report DATASET [--url URL] [--namespace NS] [--out PATH]")
    report.add_argument("dataset", metavar="DATASET",
                        help="a short name (enriched_orders) or a full name (file:/abs/path/outputs/enriched_orders)")
    report.add_argument("--url", help="the lineage service (default: spark.openlineage.transport.url)")
    report.add_argument("--namespace", help="look for the dataset in this namespace only")
    report.add_argument("--out", type=Path, help="a directory, or a file ending in .html (the JSON goes beside it); "
                                                 "default: <short name>-provenance.html here")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        client = ServiceClient(args.url or default_url(), read_key())
        namespace, name = resolve(client, args.dataset, args.namespace)
        report = build_report(client, namespace, name)
        html_path, json_path = output_paths(args.out, short_name(name))
        write(report, html_path, json_path)
    except BadInput as exc:
        print(f"lineage-audit report: {exc}", file=err)
        return 2
    except Unreachable as exc:
        print(f"lineage-audit report: {exc}", file=err)
        return 1
    summary = report["summary"]
    print(f"Provenance of {namespace}:{name}\n"
          f"  {len(report['runs'])} run(s) wrote it; {len(report['upstream']['rawSources'])} raw source(s) upstream; "
          f"ledger head {report['ledger']['length']}:{report['ledger']['headHash']}\n"
          f"  classes in the clear: {_classes(summary['classesInTheClear'])}\n"
          f"Wrote {html_path}\n  and {json_path}", file=out)
    return 0


def _classes(classes: list[str] | None) -> str:
    if classes is None:
        return "not available from this service"
    return ", ".join(classes) or "none"


def resolve(client: ServiceClient, text: str, namespace: str | None) -> tuple[str, str]:
    """The (namespace, name) of the one dataset ``text`` names: ``namespace:name``, a name, or a short name; a
    BadInput naming the candidates when several match, or saying that none does."""
    for reading in _qualified_readings(client, text, namespace):
        try:
            client.get(dataset_path(*reading))
        except BadInput:
            continue
        return reading
    found = [(r["namespace"], r["name"]) for r in client.get(
        "/search", q=text, filter="DATASET", limit=SEARCH_LIMIT).get("results", [])
        if r["type"] == "DATASET" and namespace in (None, r["namespace"])]
    where = f" in namespace '{namespace}'" if namespace else ""
    matches = sorted({d for d in found if d[1] == text}) or sorted({d for d in found if short_name(d[1]) == text})
    if not matches:
        raise BadInput(f"no dataset{where} is named '{text}' or has it as its short name (the last segment of its "
                       "path, or the table part of a catalog name)")
    if len(matches) > 1:
        listed = "\n  ".join(f"{ns}:{name}" for ns, name in matches)
        raise BadInput(f"'{text}' names {len(matches)} datasets{where}; give the full name (namespace:name) or "
                       f"--namespace:\n  {listed}")
    return matches[0]


def _qualified_readings(client: ServiceClient, text: str, namespace: str | None) -> list[tuple[str, str]]:
    """The ways ``text`` can be ``namespace:name``: in ``namespace`` when one is given (with or without the
    prefix), else for every namespace it starts with, longest first (a namespace may hold colons itself,
    ``postgres://db:5432``)."""
    if namespace is not None:
        prefixed = text.startswith(f"{namespace}:") and len(text) > len(namespace) + 1
        return [(namespace, text)] + ([(namespace, text[len(namespace) + 1:])] if prefixed else [])
    names = [n["name"] for n in client.get("/namespaces", limit=SEARCH_LIMIT).get("namespaces", [])]
    return [(ns, text[len(ns) + 1:]) for ns in sorted(names, key=len, reverse=True)
            if text.startswith(f"{ns}:") and len(text) > len(ns) + 1]


def output_paths(out: Path | None, short: str) -> tuple[Path, Path]:
    """Where the HTML and the JSON go: ``--out`` a file ending in .html (the JSON beside it, same stem), else a
    directory (made when missing), else the current directory."""
    if out is not None and out.suffix.lower() == ".html":
        return out, out.with_suffix(".json")
    directory = out if out is not None else Path.cwd()
    return directory / f"{short}-provenance.html", directory / f"{short}-provenance.json"


def write(report: dict[str, Any], html_path: Path, json_path: Path) -> None:
    try:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(render(report), encoding="utf-8")
        json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write the report: {exc}") from None
