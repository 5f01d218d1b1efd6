"""The same work under both captures: the runs the differential comparison holds side by side.

Cases:

- ``eight-jobs``: ``lineage-audit run --scale 0.02`` (the eight jobs), once per capture, each in
  its own data directory.
- ``query-shapes``: the query shapes of tests/capture/test_column_lineage.py written as Parquet,
  and the small tables they read (``<data>/tables``, ``<data>/out/query``).
- ``extra-shapes``: shapes beyond the eight jobs (Hive tables, DDL, RDD, a date-partition folder,
  a table joined twice, saveAsTable, CTAS) and the application run around them and the query shapes.
- ``delta``: a Delta write and a MERGE into it, in an application of its own.

The shapes are test material and run from ``tests/differential/shapes_app.py`` (one Spark
application per capture for the query and extra shapes, one for Delta). Every run sends its events
to a port where nothing listens, so they are spooled to ``<data>/lineage-spool``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from lineage_audit.config import PROJECT_ROOT, spark_defaults

CAPTURES = ("builtin", "official")
SCALE = "0.02"
SHAPES_MODULE = "tests.differential.shapes_app"
QUERY_SHAPE_DIRS = ("tables", "out/query")
DELTA_JOB = "differential_delta"  # the Delta application's job name (its app name, snake_case)
_URL_LINE = re.compile(r"^(spark\.openlineage\.transport\.url\s+)\S+", re.MULTILINE)


@dataclass(frozen=True)
class CaseEvents:
    """One case's events under each capture, and the data directory each capture ran in."""

    case: str
    builtin: list[dict]
    official: list[dict]
    builtin_dir: Path
    official_dir: Path


def spooled_events(data_dir: Path) -> list[dict]:
    """Every event spooled in ``<data_dir>/lineage-spool``, oldest first (the files sort by time)."""
    return [json.loads(p.read_text()) for p in sorted((Path(data_dir) / "lineage-spool").glob("*.json"))]


def defaults_without_listener_server(work: Path) -> Path:
    """A copy of spark-defaults.conf whose transport URL is a port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    text, found = _URL_LINE.subn(rf"\g<1>http://127.0.0.1:{port}", spark_defaults().read_text())
    if not found:
        raise ValueError(f"{spark_defaults()} sets no spark.openlineage.transport.url to redirect")
    work.mkdir(parents=True, exist_ok=True)
    copy = work / "spark-defaults.conf"
    copy.write_text(text)
    return copy


def _run(args: list[str], data_dir: Path, capture: str, defaults: Path, table_format: str, cwd: Path,
         timeout: int) -> None:
    env = {**os.environ, "LINEAGE_AUDIT_DATA_DIR": str(data_dir), "LINEAGE_AUDIT_CAPTURE": capture,
           "LINEAGE_AUDIT_SPARK_DEFAULTS": str(defaults), "LINEAGE_AUDIT_TABLE_FORMAT": table_format,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    data_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    (data_dir / f"{args[-1]}.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} ({capture}) failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


def run_pipeline(data_dir: Path, capture: str, defaults: Path, timeout: int = 1800) -> None:
    """The eight jobs (``lineage-audit run``) at scale 0.02 under ``capture``."""
    _run(["-m", "lineage_audit.cli", "run", "--scale", SCALE], data_dir, capture, defaults, "parquet",
         PROJECT_ROOT, timeout)


def run_shapes(data_dir: Path, capture: str, defaults: Path, timeout: int = 1200) -> None:
    """The shapes application, then the Delta one, under ``capture`` (cwd: ``data_dir``, for Derby)."""
    _run(["-m", SHAPES_MODULE, str(data_dir), "shapes"], data_dir, capture, defaults, "parquet", data_dir, timeout)
    _run(["-m", SHAPES_MODULE, str(data_dir), "delta"], data_dir, capture, defaults, "delta", data_dir, timeout)


def _split_by_run(events: Iterable[dict], case_of: Callable[[list[dict]], str]) -> dict[str, list[dict]]:
    """Events grouped into runs (by run id), each run's events given to the case ``case_of`` names."""
    runs: dict[str, list[dict]] = {}
    for event in events:
        runs.setdefault(event.get("run", {}).get("runId", ""), []).append(event)
    cases: dict[str, list[dict]] = {}
    for run_events in runs.values():
        cases.setdefault(case_of(run_events), []).extend(run_events)
    return cases


def shapes_case_of(data_dir: Path) -> Callable[[list[dict]], str]:
    """The case of a run of the shapes applications, by the data sets it writes and its job name."""
    query_roots = [str(Path(data_dir).resolve() / d) + "/" for d in QUERY_SHAPE_DIRS]

    def case_of(run_events: list[dict]) -> str:
        names = [o.get("name", "") + "/" for e in run_events for o in e.get("outputs") or []]
        if any(name.startswith(root) for name in names for root in query_roots):
            return "query-shapes"
        if any(e.get("job", {}).get("name", "").split(".")[0] == DELTA_JOB for e in run_events):
            return "delta"
        return "extra-shapes"

    return case_of


def shapes_cases(builtin_dir: Path, official_dir: Path) -> list[CaseEvents]:
    """The ``query-shapes``, ``extra-shapes`` and ``delta`` cases from two shapes data directories."""
    ours = _split_by_run(spooled_events(builtin_dir), shapes_case_of(builtin_dir))
    theirs = _split_by_run(spooled_events(official_dir), shapes_case_of(official_dir))
    return [CaseEvents(case, ours.get(case, []), theirs.get(case, []), builtin_dir, official_dir)
            for case in ("query-shapes", "extra-shapes", "delta")]


def collect(root: Path, reuse: bool = False, log: Callable[[str], None] = print) -> list[CaseEvents]:
    """Run every case under both captures in ``root/<capture>-{pipeline,shapes}`` and collect events.

    ``reuse`` keeps data directories that already hold spooled events (re-rendering is then quick).
    """
    defaults = defaults_without_listener_server(root / "conf")
    for capture in CAPTURES:
        for kind, run in (("pipeline", run_pipeline), ("shapes", run_shapes)):
            data_dir = root / f"{capture}-{kind}"
            if reuse and spooled_events(data_dir):
                log(f"reusing {data_dir}")
                continue
            log(f"running the {kind} under the {capture} capture in {data_dir}")
            run(data_dir, capture, defaults)
    pipeline = CaseEvents("eight-jobs", spooled_events(root / "builtin-pipeline"),
                          spooled_events(root / "official-pipeline"), root / "builtin-pipeline",
                          root / "official-pipeline")
    return [pipeline, *shapes_cases(root / "builtin-shapes", root / "official-shapes")]
