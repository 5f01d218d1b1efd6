"""Run the scenario jobs in dependency order, each as its own Spark application.

Each job runs in a fresh Python process (``python jobs/<job>.py``), exactly as a user would run
it, so every job is a separate Spark application with its own name, and one failing job cannot
corrupt the session of the next.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from lineage_audit.config import PROJECT_ROOT, Catalog, load_catalog
from lineage_audit.sample_data import DEFAULT_SEED, generate, generated_with

# The pipeline's order: every job after the first reads what earlier jobs write (UPSTREAM_TABLES).
JOBS = (
    "customers",
    "orders",
    "financial",
    "data_quality",
    "analytics",
    "ml_pipeline",
    "data_lake_ingestion",
    "compliance",
)
JOBS_DIR = PROJECT_ROOT / "jobs"

# The outputs of other jobs that each job reads (conf/tables.yml names the job writing each one).
# tests/lineage/test_pipeline_lineage.py holds this against the inputs the jobs' captured events name.
UPSTREAM_TABLES: dict[str, tuple[str, ...]] = {
    "customers": (),
    "orders": ("customer_master",),
    "financial": ("customer_master",),
    "data_quality": ("processed_customers", "enriched_orders", "processed_transactions"),
    "analytics": ("processed_customers",),
    "ml_pipeline": ("order_summary", "real_time_user_analytics"),
    "data_lake_ingestion": ("order_summary",),
    "compliance": ("data_lineage_summary", "data_lineage_tracking"),
}
SKIPPED = 3  # the exit code reported for a job that did not start: an upstream job failed or never ran
# Jobs that read a table a step of the runner writes right before them, from the captured lineage.
LINEAGE_EXPORT_BEFORE = ("compliance",)


def upstream_jobs(job: str, catalog: Catalog | None = None) -> tuple[str, ...]:
    """The jobs whose outputs ``job`` reads, in pipeline order."""
    catalog = catalog or load_catalog()
    writers = {catalog.output(table).job for table in UPSTREAM_TABLES.get(job, ())}
    return tuple(j for j in JOBS if j in writers)


def ancestor_jobs(job: str, catalog: Catalog | None = None) -> set[str]:
    """Every job ``job`` depends on, directly or through other jobs."""
    catalog = catalog or load_catalog()
    found: set[str] = set()
    todo = [job]
    while todo:
        for upstream in upstream_jobs(todo.pop(), catalog):
            if upstream not in found:
                found.add(upstream)
                todo.append(upstream)
    return found


def pipeline_order(jobs: Sequence[str]) -> list[str]:
    """``jobs`` in the order the pipeline runs them (JOBS is already topologically sorted)."""
    unknown = [j for j in jobs if j not in JOBS]
    if unknown:
        raise SystemExit(f"unknown job {unknown[0]!r}; choose one of: {', '.join(JOBS)}")
    return [j for j in JOBS if j in jobs]


@dataclass(frozen=True)
class JobResult:
    job: str
    exit_code: int
    seconds: float
    summary: dict | None
    skipped: str | None = None  # why the job did not start

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def check_java() -> None:
    """Spark 4 needs Java 17 or newer; say so plainly instead of a JVM stack trace."""
    java = Path(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else shutil.which("java")
    if not java or not Path(java).exists():
        raise SystemExit("Java 17+ is required by Spark 4 and was not found (install a JDK 17, or set JAVA_HOME).")


def ensure_data(data_dir: Path, scale: float | None, seed: int = DEFAULT_SEED,
                log: Callable[[str], None] = print) -> bool:
    """Make sure complete inputs exist; True when it had to generate them.

    Without ``scale``, whatever complete data is there is used (or SCALE=1 is generated); with
    ``scale``, the data is regenerated unless it was made with that scale and seed.
    """
    existing = generated_with(data_dir)
    if existing is not None and (scale is None or existing == {"scale": scale, "seed": seed}):
        return False
    scale = 1.0 if scale is None else scale
    log(f"Generating sample data (SCALE={scale:g}, seed={seed}) into {data_dir / 'inputs'} ...")
    started = time.perf_counter()
    generate(data_dir, scale=scale, seed=seed, progress=log)
    log(f"Sample data ready in {time.perf_counter() - started:.1f} s")
    return True


def run_job(job: str, data_dir: Path, extra_env: dict[str, str] | None = None,
            output: Path | None = None) -> JobResult:
    """Run ``jobs/<job>.py`` in its own Python process; its output goes to ours, or to ``output``."""
    if job not in JOBS:
        raise SystemExit(f"unknown job {job!r}; choose one of: {', '.join(JOBS)}")
    env = {**os.environ, "LINEAGE_AUDIT_DATA_DIR": str(data_dir), **(extra_env or {})}
    started = time.perf_counter()
    command = [sys.executable, str(JOBS_DIR / f"{job}.py")]
    if output is None:
        code = subprocess.call(command, env=env, cwd=PROJECT_ROOT)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w") as sink:
            code = subprocess.call(command, env=env, cwd=PROJECT_ROOT, stdout=sink, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    summary_file = Path(load_catalog(data_dir=data_dir).runs_dir) / f"{job}.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else None
    return JobResult(job, code, seconds, summary)


def missing_upstream(job: str, catalog: Catalog) -> list[tuple[str, str]]:
    """(table, writing job) for each upstream output ``job`` reads that does not exist yet."""
    missing = []
    for table in UPSTREAM_TABLES.get(job, ()):
        spec = catalog.output(table)
        if "://" not in spec.path and not Path(spec.path).exists():
            missing.append((table, spec.job))
    return missing


def _skip_reason(job: str, catalog: Catalog, failed: set[str]) -> str | None:
    """Why ``job`` must not start, once the jobs it depends on in this run have ended; None to start it."""
    broken = [j for j in upstream_jobs(job, catalog) if j in failed]
    if broken:
        return f"skipped: it reads the outputs of {', '.join(broken)}, which failed"
    missing = missing_upstream(job, catalog)
    if not missing:
        return None
    writers = pipeline_order(ancestor_jobs(job, catalog) | {job})
    tables = ", ".join(f"{t} (written by {w})" for t, w in missing)
    which = "which does not exist yet" if len(missing) == 1 else "which do not exist yet"
    first = "job" if len(writers) == 2 else "jobs"
    return (f"skipped: it reads {tables}, {which}. Run the upstream {first} first: "
            f"make run JOB=\"{' '.join(writers)}\" (or make run, the whole pipeline)")


def export_lineage(job: str, data_dir: Path, log: Callable[[str], None] = print) -> str | None:
    """The step before ``job``, where it has one (see lineage_audit/privacy_export.py); why it failed, or None."""
    if job not in LINEAGE_EXPORT_BEFORE:
        return None
    from lineage_audit.privacy_export import ExportError, export_classifications

    try:
        export_classifications(data_dir, log=log)
    except (ExportError, OSError, ValueError) as exc:
        return f"skipped: the captured lineage it reads could not be exported: {exc}"
    return None


def _waits_for(job: str, selected: Sequence[str], catalog: Catalog) -> list[str]:
    """The jobs of this run that must end before ``job`` starts: those it reads from; for a job reading
    the exported lineage, every job before it, so that the export holds their lineage whatever the order."""
    if job in LINEAGE_EXPORT_BEFORE:
        return [j for j in selected if JOBS.index(j) < JOBS.index(job)]
    return [j for j in upstream_jobs(job, catalog) if j in selected]


def run_jobs(jobs: Sequence[str], data_dir: Path, log: Callable[[str], None] = print,
             parallel: int = 1) -> list[JobResult]:
    """Run ``jobs`` in dependency order; a failed job is reported and the jobs not depending on it still run.

    A job does not start when a job it depends on failed in this run, or when an upstream output it
    reads was never written (``make run JOB=orders`` on a clean checkout): it is reported as skipped,
    with the job to run first. With ``parallel`` over 1, up to that many jobs whose upstream jobs
    have ended run at once (orders, financial and analytics all wait for customers alone); each
    one's output is kept in ``<runs>/<job>.log`` and shown when it ends. Results come in pipeline order.
    Right before compliance, the classifications of the captured lineage are exported for it to read
    (export_lineage); it does not start when that fails.
    """
    catalog = load_catalog(data_dir=data_dir)
    selected = pipeline_order(jobs)
    results: dict[str, JobResult] = {}
    failed: set[str] = set()
    waiting = list(selected)
    running: dict[Future, str] = {}

    def ended(result: JobResult) -> None:
        results[result.job] = result
        if not result.ok:
            failed.add(result.job)

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        while waiting or running:
            for job in list(waiting):
                if len(running) >= max(1, parallel):
                    break
                if any(j in waiting or j in running.values() for j in _waits_for(job, selected, catalog)):
                    continue  # a job it reads from has not ended yet
                waiting.remove(job)
                reason = _skip_reason(job, catalog, failed)
                if not reason and job in LINEAGE_EXPORT_BEFORE:
                    log(f"\n--- {job}: exporting the captured lineage it reads ---")
                    reason = export_lineage(job, data_dir, log)
                if reason:
                    log(f"\n--- {job} ---\n{job}: {reason}")
                    ended(JobResult(job, SKIPPED, 0.0, None, skipped=reason))
                elif parallel <= 1:
                    log(f"\n--- {job} ---")
                    ended(run_job(job, data_dir))
                else:
                    log(f"\n--- {job}: started (its output follows when it ends) ---")
                    output = Path(catalog.runs_dir) / f"{job}.log"
                    running[pool.submit(run_job, job, data_dir, output=output)] = job
            if running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    result = future.result()
                    output = Path(catalog.runs_dir) / f"{job}.log"
                    text = output.read_text(errors="replace").rstrip() if output.exists() else ""
                    log(f"\n--- {job}: ended in {result.seconds:.1f} s (output kept in {output}) ---\n{text}")
                    ended(result)
    return [results[job] for job in selected]


def report(results: Sequence[JobResult], data_dir: Path, wall_seconds: float | None = None) -> str:
    lines = ["", f"{'job':<22}{'status':<9}{'seconds':>9}"]
    for r in results:
        status = "ok" if r.ok else "skipped" if r.skipped else "FAILED"
        lines.append(f"{r.job:<22}{status:<9}{r.seconds:>9.1f}" + (f"   {r.skipped}" if r.skipped else ""))
    total = sum(r.seconds for r in results)
    failed = [r.job for r in results if not r.ok]
    succeeded = f"{len(results) - len(failed)}/{len(results)} jobs succeeded"
    if wall_seconds is None or abs(wall_seconds - total) < 1:
        lines.append(f"{succeeded} in {total:.1f} s")
    else:  # jobs ran side by side: the time it took, and the jobs' own times added up
        lines.append(f"{succeeded} in {wall_seconds:.1f} s ({total:.1f} s of job time)")
    lines += [
        "",
        f"Lineage captured by {_capture_line()}",
        "",
        "Where to look:",
        f"  outputs        {data_dir / 'outputs'}",
        f"  rejects        {data_dir / 'rejects'}   (quarantined rows, one table per source, with the reason)",
        f"  run summaries  {data_dir / 'runs'}",
    ]
    exported = data_dir / "lineage-export"
    if exported.exists():
        lines.append(f"  lineage export {exported}   (the captured lineage's classifications the compliance job read)")
    spooled = len(list((data_dir / "lineage-spool").glob("*.json"))) if (data_dir / "lineage-spool").exists() else 0
    if spooled:
        lines.append(f"  lineage        {spooled} OpenLineage events waiting in {data_dir / 'lineage-spool'} "
                     "(no lineage server answered; `lineage-audit replay` sends them)")
    lines += _service_lines()
    return "\n".join(lines)


def _capture_line() -> str:
    try:
        from lineage_audit.capture.choice import choose, describe

        return describe(choose(os.environ))
    except Exception as exc:  # the report never fails over a hint
        return f"an unknown capture ({exc})"


def _service_lines() -> list[str]:
    """Where to look at the lineage, when this project's lineage service is running."""
    try:
        from urllib.parse import quote

        from lineage_audit.capture.settings import resolve_settings
        from lineage_audit.service.server import running_service
        from lineage_audit.service.settings import load_settings

        settings = load_settings()
        if not running_service(settings):
            return []
        base, namespace = settings.base_url, quote(resolve_settings({}).namespace, safe="")
    except Exception:  # the report never fails over a hint
        return []
    # the web UI last: the report ends with the address to open
    return [f"  lineage API    {base}/api/v1/namespaces/{namespace}/jobs",
            f"                 {base}/api/v1/namespaces/file/datasets",
            f"                 {base}/api/v1/docs   (every route; `make stop` stops the service)",
            f"  audit trail    {base}/api/v1/audit/ledger   (`make verify` proves no stored event was altered)",
            f"  personal data  {base}/api/v1/audit/policy   (`.venv/bin/lineage-audit audit` checks the policy;",
            "                 `.venv/bin/lineage-audit report enriched_orders` writes a table's provenance)",
            "",
            f"Open the lineage UI: {base}/   (jobs, datasets, runs, lineage down to columns)"]
