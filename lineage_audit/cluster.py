"""A Spark standalone cluster on this machine: one master and two workers, all on loopback.

For running the jobs unchanged on a real cluster manager, as they run on a bigger one: each job is
handed to ``spark-submit --master spark://...``, its executors run in the workers' JVMs, and the
JARs the capture needs reach them through ``spark.jars`` (see ``capture/choice.py``)::

    with standalone_cluster() as cluster:
        print(cluster.master_url)                 # spark://127.0.0.1:<port>
        submit_job(cluster, "orders", data_dir)   # spark-submit --master ... jobs/orders.py

The daemons are the Spark that pyspark ships (``<pyspark>/bin/spark-class``), started as child
processes on free ports, each logging to ``<root>/logs``. Leaving the block stops them all, also
when the block raised.

>>> cluster = StandaloneCluster("spark://127.0.0.1:7077", "http://127.0.0.1:8080", Path("/tmp/c"))
>>> cluster.submit_command(Path("jobs/orders.py"), Path("spark-defaults.conf"))[1:]
['--master', 'spark://127.0.0.1:7077', '--properties-file', 'spark-defaults.conf', 'jobs/orders.py']
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from lineage_audit.config import PROJECT_ROOT, load_catalog, spark_defaults
from lineage_audit.runner import JOBS, LINEAGE_EXPORT_BEFORE, SKIPPED, JobResult, export_lineage

HOST = "127.0.0.1"  # loopback only: the cluster is reachable from this machine alone
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


class ClusterError(RuntimeError):
    """A daemon did not start, or the workers did not register in time."""


@dataclass
class StandaloneCluster:
    """A running master and its workers; ``root`` holds ``logs/`` and each worker's ``work-N/``."""

    master_url: str  # spark://127.0.0.1:<port>, what --master takes
    webui_url: str  # http://127.0.0.1:<port>; /json/ is the master's state
    root: Path
    daemons: list[tuple[subprocess.Popen, Path]] = field(default_factory=list)  # (process, its log)

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    def work_dirs(self) -> list[Path]:
        """The workers' directories: one ``app-*/<executor>/`` per application, with its fetched JARs."""
        return sorted(self.root.glob("work-*"))

    def state(self) -> dict:
        """The master's JSON: ``workers``, ``activeapps``, ``completedapps``, ``aliveworkers``..."""
        with urllib.request.urlopen(f"{self.webui_url}/json/", timeout=5) as response:
            return json.load(response)

    def submit_command(self, script: Path, properties_file: Path | None = None) -> list[str]:
        """The spark-submit command that runs ``script`` on this cluster with the project's properties."""
        return [str(spark_submit()), "--master", self.master_url,
                "--properties-file", str(properties_file or spark_defaults()), str(script)]


def spark_home() -> Path:
    """The Spark that pyspark ships: its install directory has ``bin/``, ``jars/`` and ``sbin/``."""
    from pyspark.find_spark_home import _find_spark_home

    return Path(_find_spark_home())


def spark_submit() -> Path:
    """The virtualenv's ``spark-submit`` (next to this interpreter), else pyspark's own."""
    beside = Path(sys.executable).parent / "spark-submit"
    return beside if beside.exists() else spark_home() / "bin" / "spark-submit"


def free_port() -> int:
    """A port nothing listens on now (the daemons bind it a moment later)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _daemon_env() -> dict[str, str]:
    env = {**os.environ, "SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": HOST}
    env.pop("PYSPARK_GATEWAY_PORT", None)  # never inherit a driver's gateway
    return env


def _start_daemon(cls: str, args: Sequence[str], log: Path) -> subprocess.Popen:
    """``spark-class CLASS ARGS`` in its own process group, stdout and stderr to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:  # the child keeps its own descriptor
        return subprocess.Popen([str(spark_home() / "bin" / "spark-class"), cls, *args], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_daemon_env(),
                                start_new_session=True)


def _log_tail(log: Path, lines: int = 20) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _wait_for_workers(cluster: StandaloneCluster, count: int, timeout: float) -> None:
    """Poll the master's JSON until ``count`` workers are ALIVE; a daemon that died ends the wait."""
    deadline = time.monotonic() + timeout
    alive = 0
    while time.monotonic() < deadline:
        for process, log in cluster.daemons:
            if process.poll() is not None:
                raise ClusterError(f"{log.name} exited with {process.returncode}:\n{_log_tail(log)}")
        try:
            alive = sum(1 for w in cluster.state().get("workers", []) if w.get("state") == "ALIVE")
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            alive = 0  # the master's web UI is not up yet
        if alive >= count:
            return
        time.sleep(0.5)
    raise ClusterError(f"{alive} of {count} workers registered with {cluster.master_url} in {timeout:g} s; "
                       f"logs in {cluster.log_dir}")


def _stop(processes: Sequence[subprocess.Popen], grace: float = 15.0) -> None:
    """SIGTERM each daemon's process group (workers first), then SIGKILL what is left after ``grace``."""
    for process in reversed(processes):
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()


@contextmanager
def standalone_cluster(workers: int = 2, cores: int = 1, memory: str = "1g", root: Path | None = None,
                       timeout: float = 120.0) -> Iterator[StandaloneCluster]:
    """Start a master and ``workers`` workers of ``cores`` cores and ``memory`` each; stop them on exit.

    ``root`` (a new temporary directory by default, removed afterwards) holds the daemons' logs and
    the workers' work directories. Returns once every worker has registered with the master.
    """
    with tempfile.TemporaryDirectory(prefix="lineage-audit-cluster-") as scratch:
        base = Path(root) if root is not None else Path(scratch)
        port, webui = free_port(), free_port()
        cluster = StandaloneCluster(f"spark://{HOST}:{port}", f"http://{HOST}:{webui}", base)
        try:
            log = cluster.log_dir / "master.log"
            cluster.daemons.append((_start_daemon(
                MASTER_CLASS, ["--host", HOST, "--port", str(port), "--webui-port", str(webui)], log), log))
            for n in range(1, workers + 1):
                work = base / f"work-{n}"
                work.mkdir(parents=True, exist_ok=True)
                log = cluster.log_dir / f"worker-{n}.log"
                cluster.daemons.append((_start_daemon(
                    WORKER_CLASS, [cluster.master_url, "--host", HOST, "--webui-port", str(free_port()),
                                   "--cores", str(cores), "--memory", memory, "--work-dir", str(work)], log), log))
            _wait_for_workers(cluster, workers, timeout)
            yield cluster
        finally:
            _stop([process for process, _ in cluster.daemons])


def submit_env(data_dir: Path | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a job under spark-submit: this interpreter on the driver and the executors."""
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
           "SPARK_LOCAL_IP": HOST}  # the driver too binds and advertises loopback, like the daemons
    env.pop("PYSPARK_GATEWAY_PORT", None)
    if data_dir is not None:
        env["LINEAGE_AUDIT_DATA_DIR"] = str(data_dir)
    return {**env, **(extra or {})}


def submit_script(cluster: StandaloneCluster, script: Path, args: Sequence[str] = (), data_dir: Path | None = None,
                  extra_env: dict[str, str] | None = None, **run_args) -> subprocess.CompletedProcess:
    """spark-submit ``script ARGS`` to ``cluster`` from the repository root, and wait for it."""
    command = cluster.submit_command(Path(script)) + list(args)
    return subprocess.run(command, cwd=PROJECT_ROOT, env=submit_env(data_dir, extra_env), **run_args)


def submit_job(cluster: StandaloneCluster, job: str, data_dir: Path | None = None,
               extra_env: dict[str, str] | None = None, **run_args) -> subprocess.CompletedProcess:
    """Run ``jobs/<job>.py`` on ``cluster`` (see :func:`submit_script`)."""
    return submit_script(cluster, PROJECT_ROOT / "jobs" / f"{job}.py", (), data_dir, extra_env, **run_args)


def run_jobs_on(cluster: StandaloneCluster, jobs: Sequence[str], data_dir: Path,
                log: Callable[[str], None] = print) -> list[JobResult]:
    """Submit ``jobs`` one after another in run order, as ``lineage-audit run`` runs them locally."""
    results = []
    for job in [j for j in JOBS if j in jobs]:
        if job in LINEAGE_EXPORT_BEFORE:  # the captured lineage it reads, exported as a local run does
            log(f"\n--- {job}: exporting the captured lineage it reads ---")
            reason = export_lineage(job, data_dir, log)
            if reason:
                log(f"{job}: {reason}")
                results.append(JobResult(job, SKIPPED, 0.0, None, skipped=reason))
                continue
        log(f"\n--- {job} on {cluster.master_url} ---")
        started = time.perf_counter()
        done = submit_job(cluster, job, data_dir)
        summary_file = Path(load_catalog(data_dir=data_dir).runs_dir) / f"{job}.json"
        summary = json.loads(summary_file.read_text()) if summary_file.exists() else None
        results.append(JobResult(job, done.returncode, time.perf_counter() - started, summary))
    return results
