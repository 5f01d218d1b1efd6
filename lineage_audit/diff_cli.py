"""``lineage-audit diff``: what changed between two runs of a job, or in a dataset between two moments.

It asks the running lineage service over HTTP, as the web UI does (``/api/v1/audit/diff/runs`` and
``/api/v1/namespaces/{ns}/datasets/{name}/diff``), at ``--url`` or the URL the capture sends events to
(``spark.openlineage.transport.url``: spark-defaults.conf, then conf/openlineage.yml), with the service's
read key when one is configured. Prints a compact text (``+`` added, ``-`` removed, ``~`` changed) or, with
``--json``, the API's JSON. Exit codes: 0 whether or not something changed, 2 on bad input (what the service
refuses too: an unknown run, runs of two jobs, a bad moment), 1 when the service cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, TextIO

from lineage_audit.diff_text import render

API = "/api/v1"


class BadInput(Exception):
    """Input the command or the service refuses: exit code 2."""


class Unreachable(Exception):
    """The service did not answer, or failed: exit code 1."""


def add_parser(sub: Any) -> None:
    diff = sub.add_parser("diff", help="what changed between two runs of a job, or in a dataset between two moments",
                          description="lineage-audit diff RUN_A RUN_B | --job NAME | --dataset NAME --since MOMENT "
                                      "[--until MOMENT]")
    diff.add_argument("runs", nargs="*", metavar="RUN", help="two run ids of one job: from the first to the second")
    diff.add_argument("--job", help="a job's full name or a unique suffix (orders): its last two runs")
    diff.add_argument("--dataset", help="a dataset's full name or a unique suffix (enriched_orders)")
    diff.add_argument("--since", help="with --dataset: the earlier moment (ISO 8601, e.g. 2026-12-07T10:00:00Z)")
    diff.add_argument("--until", help="with --dataset: the later moment (default: now)")
    diff.add_argument("--url", help="the lineage service (default: spark.openlineage.transport.url)")
    diff.add_argument("--json", action="store_true", help="print the API's JSON")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        mode = _mode(args)
        client = ServiceClient(args.url or default_url(), read_key())
        body = mode(client)
    except BadInput as exc:
        print(f"lineage-audit diff: {exc}", file=err)
        return 2
    except Unreachable as exc:
        print(f"lineage-audit diff: {exc}", file=err)
        return 1
    out.write(json.dumps(body, indent=2) + "\n" if args.json else render(body))
    return 0


def _mode(args: argparse.Namespace) -> Callable[["ServiceClient"], dict[str, Any]]:
    """The diff asked for, as a function of the client; a BadInput when the arguments do not make one."""
    chosen = [bool(args.runs), args.job is not None, args.dataset is not None]
    if sum(chosen) != 1:
        raise BadInput("give two run ids, --job NAME, or --dataset NAME --since MOMENT (one of them)")
    if (args.since or args.until) and args.dataset is None:
        raise BadInput("--since and --until go with --dataset")
    if args.runs:
        if len(args.runs) != 2:
            raise BadInput(f"two run ids are needed, not {len(args.runs)}")
        return lambda client: client.runs_diff(*args.runs)
    if args.job is not None:
        return lambda client: client.runs_diff(*client.last_two_runs(args.job))
    if not args.since:
        raise BadInput("--dataset needs --since MOMENT")
    return lambda client: client.dataset_diff(client.find("DATASET", args.dataset), args.since, args.until)


def default_url() -> str:
    """Where the capture sends events: the service the jobs fill."""
    from lineage_audit.capture.settings import DEFAULT_URL, resolve_settings

    transport = resolve_settings({}).transport
    return str(transport.get("url") or DEFAULT_URL) if transport.get("type") == "http" else DEFAULT_URL


def read_key() -> str | None:
    """The service's read key, when its settings (conf/service.yml, LINEAGE_AUDIT_SERVICE_READ_API_KEY) set one."""
    from lineage_audit.config import ConfigError
    from lineage_audit.service.settings import load_settings

    try:
        return load_settings().read_api_key
    except ConfigError:
        return None


class ServiceClient:
    """The few reads the command makes, as JSON; errors become BadInput (4xx) or Unreachable."""

    def __init__(self, url: str, key: str | None = None, timeout: float = 60.0):
        self.url, self.key, self.timeout = url.rstrip("/"), key, timeout

    def get(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        request = urllib.request.Request(f"{self.url}{API}{path}" + (f"?{query}" if query else ""),
                                         headers={"Accept": "application/json"})
        if self.key:
            request.add_header("Authorization", f"Bearer {self.key}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            message = _message(exc)
            if 400 <= exc.code < 500 and exc.code not in (401, 403):
                raise BadInput(message) from None
            raise Unreachable(f"the lineage service at {self.url} answered {exc.code}: {message}") from None
        except (OSError, ValueError) as exc:
            raise Unreachable(f"the lineage service at {self.url} cannot be reached ({exc}); start it with "
                              "`make serve` or `lineage-audit serve --background`, or give --url") from None

    def runs_diff(self, before: str, after: str) -> dict[str, Any]:
        return self.get("/audit/diff/runs", **{"from": before, "to": after})

    def dataset_diff(self, dataset: dict[str, str], since: str, until: str | None) -> dict[str, Any]:
        path = f"/namespaces/{_segment(dataset['namespace'])}/datasets/{_segment(dataset['name'])}/diff"
        return self.get(path, **{"from": since, "to": until})

    def last_two_runs(self, name: str) -> tuple[str, str]:
        """The ids of a job's two newest runs, the older first."""
        job = self.find("JOB", name)
        found = self.get(f"/namespaces/{_segment(job['namespace'])}/jobs/{_segment(job['name'])}/runs", limit=2)
        runs = found.get("runs", [])
        if len(runs) < 2:
            raise BadInput(f"job '{job['name']}' has {len(runs)} run(s); a diff needs two")
        return runs[1]["id"], runs[0]["id"]

    def find(self, kind: str, name: str) -> dict[str, str]:
        """The job or dataset named so, else the one whose name ends with ``name``; a BadInput when none or
        several do."""
        found = self.get("/search", q=name, filter=kind, limit=10_000).get("results", [])
        named = [r for r in found if r["type"] == kind and r["name"] == name]
        if not named:
            named = [r for r in found if r["type"] == kind and r["name"].endswith(name)]
        what = kind.lower()
        if not named:
            raise BadInput(f"no {what} is named '{name}' or has a name ending with it")
        if len(named) > 1:
            listed = "\n  ".join(f"{r['namespace']}: {r['name']}" for r in named[:20])
            raise BadInput(f"'{name}' names {len(named)} {what}s; give more of the name:\n  {listed}")
        return {"namespace": named[0]["namespace"], "name": named[0]["name"]}


def _segment(name: str) -> str:
    """A name as one path segment (slashes encoded, as Marquez's clients send them)."""
    return urllib.parse.quote(name, safe="")


def _message(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read()).get("message") or error.reason)
    except (ValueError, AttributeError, OSError):
        return str(error.reason)
