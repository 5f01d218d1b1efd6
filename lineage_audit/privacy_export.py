"""The step before the compliance job: export what the captured lineage says about personal data.

The compliance job assesses privacy from the lineage the pipeline captured, but a job must not
depend on the lineage service's internals. So the runner runs this step right before it: it asks
``GET /api/v1/audit/classifications`` (the classes every column carries in the clear, masked, or
only influenced by) and writes the answer, one row per (dataset, field, class, status, source), as
JSON lines to the input table ``captured_data_classification`` (conf/tables.yml). The job reads it
like any other input.

Where the answer comes from, said in the run's output:

- the lineage service the capture sends events to, when it answers that route;
- otherwise the captured lineage of this data directory itself: the events spooled in
  ``<data>/lineage-spool`` (where both the built-in capture and the official listener put what they
  could not send; journals a crashed application left are read too) are posted to a temporary
  service (the service's app on a temporary SQLite, served in this process on a loopback port of
  its own and spoken to through its public HTTP API), and the same route is asked there.

Only datasets inside the data directory are exported: a service may hold the lineage of other
data directories, whose tables have the same short names.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from lineage_audit.config import load_catalog

EXPORT_TABLE = "captured_data_classification"
ROUTE = "/api/v1/audit/classifications"
# The route's three lists, and the status a row gets from each.
STATUSES = (("carries", "clear"), ("masked", "masked"), ("influencedBy", "influenced"))
# Events per POST to the temporary service: its body limit is raised to hold any batch of them.
BATCH_EVENTS = 50
STARTUP_SECONDS = 60.0


class ExportError(RuntimeError):
    """The classifications could be read neither from the service nor from the captured lineage."""


@dataclass(frozen=True)
class Export:
    path: Path
    rows: int
    source: str  # where the classifications came from, as the run's output says it
    seconds: float


def export_classifications(data_dir: Path, log: Callable[[str], None] = print, out: Path | None = None) -> Export:
    """Write ``captured_data_classification`` for ``data_dir`` (or to ``out``); see the module docstring."""
    started = time.perf_counter()
    data_dir = Path(data_dir)
    answer, source = _from_service()
    if answer is None:
        events = list(captured_events(data_dir))
        answer = classifications_from_events(events)
        source = f"the captured lineage of this data directory ({len(events)} spooled events; {source})"
    rows = export_rows(answer, inside=data_dir)
    path = Path(out or load_catalog(data_dir=data_dir).input(EXPORT_TABLE).path)
    _write_lines(path, rows)
    export = Export(path, len(rows), source, time.perf_counter() - started)
    log(f"Exported {export.rows} classified column rows to {path} from {source} in {export.seconds:.1f} s")
    return export


def _service_address() -> tuple[str, dict[str, str]]:
    """The lineage service the capture sends events to, and the read key's header where one is set."""
    from lineage_audit.capture.settings import resolve_settings
    from lineage_audit.service.settings import load_settings

    transport = resolve_settings({}).transport
    url = str(transport.get("url", "")) if transport.get("type") == "http" else ""
    key = load_settings().read_api_key
    return url.rstrip("/"), ({"Authorization": f"Bearer {key}"} if key else {})


def _http(method: str, url: str, headers: dict[str, str] | None = None, body: bytes | None = None,
          timeout: float = 60.0) -> tuple[int, bytes]:
    """(status, body) of one request; an HTTP error status is an answer too, not an exception."""
    request = urllib.request.Request(url, data=body, method=method, headers={
        "Accept": "application/json", **({"Content-Type": "application/json"} if body is not None else {}),
        **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _from_service() -> tuple[dict | None, str]:
    """The route's answer from the running service and where it came from; (None, why not) otherwise."""
    url, headers = _service_address()
    if not url:
        return None, "the capture sends events to no HTTP lineage service"
    try:
        status, body = _http("GET", url + ROUTE, headers, timeout=30.0)
    except OSError as exc:  # refused, unreachable, timed out
        return None, f"no lineage service answered at {url} ({getattr(exc, 'reason', exc)})"
    if status != 200:
        return None, f"the lineage service at {url} answered {ROUTE} with HTTP {status}"
    try:
        return _checked(json.loads(body)), f"the lineage service at {url}"
    except (ValueError, ExportError) as exc:
        return None, f"the lineage service at {url} gave an unreadable answer ({exc})"


def _checked(answer: Any) -> dict:
    if not isinstance(answer, dict) or not isinstance(answer.get("fields"), list):
        raise ExportError(f"{ROUTE} did not answer an object with a 'fields' list")
    return answer


def captured_events(data_dir: Path) -> Iterator[dict]:
    """Every event captured in ``data_dir`` and not sent: the spool, oldest first, then leftover journals."""
    from lineage_audit.capture.journal import journal_dir

    spool = data_dir / "lineage-spool"
    for path in sorted(spool.glob("*.json")) if spool.exists() else ():
        yield json.loads(path.read_text())
    journals = journal_dir(spool)
    for path in sorted(journals.glob("*.ndjson")) if journals.exists() else ():
        for line in path.read_text().splitlines():
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError:  # the last line of a crashed application's journal may be cut short
                    continue


@contextmanager
def temporary_service(work: Path, max_body_bytes: int) -> Iterator[str]:
    """The lineage service on an empty SQLite store in ``work``, on a free loopback port: its base URL.

    It runs in this process (uvicorn in a thread) with the service's own settings, so its classification
    and policy files are those the real service reads; no API keys.
    """
    import uvicorn

    from lineage_audit.service.app import create_app
    from lineage_audit.service.settings import load_settings

    settings = dataclasses.replace(load_settings({"database_url": f"sqlite:///{work / 'lineage.db'}"}),
                                   host="127.0.0.1", ingest_api_key=None, read_api_key=None,
                                   max_body_bytes=max_body_bytes)
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", access_log=False,
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, name="lineage-export",
                              daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise ExportError("the temporary lineage service did not start")
            time.sleep(0.02)
        yield "http://127.0.0.1:%d" % listening.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listening.close()


def classifications_from_events(events: Iterable[dict]) -> dict:
    """``GET /api/v1/audit/classifications`` of a temporary service that was sent ``events``."""
    batches = [json.dumps(batch).encode() for batch in _batches(list(events))]
    with tempfile.TemporaryDirectory(prefix="lineage-export-") as work:
        with temporary_service(Path(work), max(10 << 20, *map(len, batches), 0)) as url:
            for body in batches:
                status, answer = _http("POST", url + "/api/v1/lineage", body=body)
                if status != 201:
                    raise ExportError(f"the temporary lineage service refused the spooled events: HTTP {status} "
                                      f"{answer[:300].decode(errors='replace')}")
            status, answer = _http("GET", url + ROUTE)
    if status != 200:
        raise ExportError(f"the temporary lineage service answered {ROUTE} with HTTP {status} "
                          f"{answer[:300].decode(errors='replace')}")
    return _checked(json.loads(answer))


def _batches(events: list[dict]) -> Iterator[list[dict]]:
    for start in range(0, len(events), BATCH_EVENTS):
        yield events[start:start + BATCH_EVENTS]


def _short(dataset: str) -> str:
    return dataset.rstrip("/").rsplit("/", 1)[-1]


def path_text(source: dict, path: list[dict]) -> str:
    """``raw_customers.csv.email -[customers: DIRECT/TRANSFORMATION masked]-> processed_customers.email_hash``."""
    text = f"{_short(source['dataset'])}.{source['field']}"
    for step in path:
        how = step.get("transformation") or {}
        job = (step.get("job") or {}).get("name") or "symlink"
        kind = "/".join(filter(None, (how.get("type"), how.get("subtype"))))
        to = step["to"]
        text += f" -[{job}: {kind}{' masked' if how.get('masking') else ''}]-> {_short(to['dataset'])}.{to['field']}"
    return text


def _jobs_on(path: list[dict]) -> list[str]:
    names: list[str] = []
    for step in path:
        name = (step.get("job") or {}).get("name")
        if name and name not in names:
            names.append(name)
    return names


def _row(entry: dict, carry: dict, status: str) -> dict:
    source, path = carry.get("source") or {}, carry.get("path") or []
    masked_at = carry.get("maskedAt") or {}
    return {
        "namespace": entry["namespace"], "dataset": entry["dataset"], "field": entry["field"],
        "field_type": entry.get("type"), "data_class": carry["class"], "status": status,
        "source_namespace": source.get("namespace"), "source_dataset": source.get("dataset"),
        "source_field": source.get("field"), "source_origin": source.get("origin"),
        "source_detail": source.get("detail"),
        "hops": len(path), "jobs": _jobs_on(path),
        # every column the value passed through, from the source on (the field itself left out)
        "via": [{"dataset": step["from"]["dataset"], "field": step["from"]["field"]} for step in path],
        "masked_by_job": (masked_at.get("job") or {}).get("name") if status == "masked" else None,
        "path": path_text(source, path) if source else None,
    }


def _inside(dataset: str, roots: tuple[str, ...]) -> bool:
    return any(dataset == root or dataset.startswith(root.rstrip("/") + "/") for root in roots)


def export_rows(answer: dict, inside: Path | None = None) -> list[dict]:
    """The route's answer as one row per (field, class, status, source path), sorted; only datasets
    inside ``inside`` (the data directory, resolved) when given."""
    # the directory as given and with its links resolved: the capture may name datasets either way
    roots = tuple({str(Path(inside).absolute()), str(Path(inside).resolve())}) if inside is not None else ()
    rows = []
    for entry in answer["fields"]:
        if roots and not _inside(entry["dataset"], roots):
            continue
        for key, status in STATUSES:
            rows.extend(_row(entry, carry, status) for carry in entry.get(key) or [])
    return sorted(rows, key=lambda r: (r["dataset"], r["field"], r["data_class"], r["status"], r["path"] or ""))


def _write_lines(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))
    temporary.replace(path)  # a job reading it never sees half a file
