"""``lineage-audit``: the project's command line.

    lineage-audit generate [--scale S] [--seed N]    write the sample input tables
    lineage-audit run [JOB ...] [--scale S] [--parallel N]   generate if needed, then run jobs in
                                                     dependency order, up to N at once
    lineage-audit jobs                               list the jobs in run order
    lineage-audit jars                               fetch the OpenLineage listener and Delta JARs (once)
    lineage-audit submit [--conf K=V ...] SCRIPT [ARGS]   run a PySpark script with lineage capture
    lineage-audit replay [--conf K=V ...]            send spooled lineage events now
    lineage-audit serve [--port P] [--background]    the lineage service (API and UI on one port)
    lineage-audit stop                               stop the background lineage service
    lineage-audit verify [--expect LENGTH:HASH]      recompute the event ledger's hash chain (exit 1: tampered)
    lineage-audit diff RUN_A RUN_B | --job NAME | --dataset NAME --since MOMENT [--until MOMENT] [--json]
                                                     what changed between two runs of a job, or in a dataset
    lineage-audit audit [--url URL] [--json]         check the outputs against the privacy policy (exit 1: violation)
    lineage-audit cluster [JOB ...] [--scale S]      a Spark standalone cluster on this machine: in the
                                                     foreground until Ctrl-C, or just for the named jobs
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Sequence

from lineage_audit import audit_cli, diff_cli
from lineage_audit.config import PROJECT_ROOT, default_data_dir
from lineage_audit.runner import JOBS, check_java, ensure_data, report, run_jobs
from lineage_audit.sample_data import DEFAULT_SEED, generate

# Two Spark applications side by side use two cores well (much of a job is JVM start-up and
# single-threaded planning); more only add memory where this project's machines have two cores.
DEFAULT_PARALLEL = min(2, os.cpu_count() or 1)


def _scale(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"scale must be positive, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lineage-audit", description="Lineage and audit trail for PySpark.")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where inputs, outputs and rejects live (default: data/, or $LINEAGE_AUDIT_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write the deterministic sample input tables")
    gen.add_argument("--scale", type=_scale, default=1.0, help="size factor; 1 = tens of thousands of rows")
    gen.add_argument("--seed", type=int, default=DEFAULT_SEED)
    gen.add_argument("--table", action="append", dest="tables", help="only this table (repeatable)")

    run = sub.add_parser("run", help="run jobs in dependency order (all when none is named)")
    run.add_argument("jobs", nargs="*", metavar="JOB", help=f"one or more of: {', '.join(JOBS)}")
    run.add_argument("--scale", type=_scale, default=None,
                     help="regenerate the sample data at this scale unless it already is (default: use what is "
                          "there, or generate SCALE=1)")
    run.add_argument("--seed", type=int, default=DEFAULT_SEED)
    run.add_argument("--parallel", type=int, default=DEFAULT_PARALLEL, metavar="N",
                     help=f"run up to N jobs at once where none reads the other's outputs (default "
                          f"{DEFAULT_PARALLEL} on this machine; 1 runs them one by one with their output live)")

    sub.add_parser("jobs", help="list the jobs in the order `run` runs them")
    sub.add_parser("jars", help="fetch the official OpenLineage Spark listener and Delta JARs from Maven Central "
                                "into .jars/ (once; later runs are offline)")

    submit = sub.add_parser("submit", help="run an unmodified PySpark script with lineage capture")
    submit.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                        help="a Spark property, as spark-submit takes it (repeatable)")
    submit.add_argument("script", help="the PySpark script to run")
    submit.add_argument("script_args", nargs=argparse.REMAINDER, help="arguments passed to the script")

    replay = sub.add_parser("replay", help="send the lineage events spooled while the server was unreachable")
    replay.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                        help="a spark.openlineage.* property (repeatable); default: conf/openlineage.yml")

    verify = sub.add_parser("verify", help="recompute the tamper-evident event ledger; exit 1 naming the first entry "
                                           "that was changed, removed, reordered or inserted")
    verify.add_argument("--database-url", help="the store to check (default: the service's, as `serve` finds it)")
    verify.add_argument("--expect", metavar="LENGTH:HASH",
                        help="a head noted earlier from GET /api/v1/audit/ledger: also prove that the ledger's "
                             "first LENGTH entries still end in HASH")

    serve = sub.add_parser("serve", help="run the lineage service (Marquez-compatible API) on one port")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, help="port (default 5000, Marquez's API port)")
    serve.add_argument("--database-url", help="sqlite:///path (default data/lineage.db) or postgresql://...")
    serve.add_argument("--ingest-api-key", help="require this Bearer key on POST /api/v1/lineage and other writes")
    serve.add_argument("--read-api-key", help="require this Bearer key on every read")
    serve.add_argument("--insecure", action="store_true", help="listen on a non-loopback address without keys")
    serve.add_argument("--background", action="store_true",
                       help="start detached (unless already running) and return once it answers")

    sub.add_parser("stop", help="stop the lineage service started with --background")
    diff_cli.add_parser(sub)
    audit_cli.add_parser(sub)

    cluster = sub.add_parser("cluster", help="start a Spark standalone master and workers on 127.0.0.1; with JOBs, "
                                             "spark-submit them to it and stop, else run until Ctrl-C")
    cluster.add_argument("jobs", nargs="*", metavar="JOB", help=f"one or more of: {', '.join(JOBS)}")
    cluster.add_argument("--workers", type=int, default=2, help="workers to start (default 2)")
    cluster.add_argument("--cores", type=int, default=1, help="cores per worker (default 1)")
    cluster.add_argument("--memory", default="1g", help="memory per worker, for its executors (default 1g)")
    cluster.add_argument("--scale", type=_scale, default=None,
                         help="as for `run`: the sample data's scale when the jobs need it generated")
    cluster.add_argument("--seed", type=int, default=DEFAULT_SEED)
    return parser


def _submit(args: argparse.Namespace) -> int:
    from lineage_audit.capture.launcher import parse_conf_pairs, submit

    return submit(args.script, args.script_args, parse_conf_pairs(args.conf))


def _replay(args: argparse.Namespace) -> int:
    from lineage_audit.capture.emitter import Emitter
    from lineage_audit.capture.launcher import parse_conf_pairs
    from lineage_audit.capture.settings import resolve_settings

    from lineage_audit.capture.journal import forward_orphans

    settings = resolve_settings(parse_conf_pairs(args.conf))
    emitter = Emitter(settings.transport, settings.spool_dir)
    sent, pending = emitter.replay()
    # journals of the official listener that a crashed job left: forwarded (or spooled) now
    forward_orphans(settings.spool_dir, emitter)
    sent, pending = sent + emitter.sent, len(emitter.pending())
    emitter.close()
    print(f"sent {sent} spooled event(s); {pending} still pending in {settings.spool_dir}")
    return 0 if pending == 0 else 1


def _jars() -> int:
    """Fetch the JARs; on failure one line says so and the project runs without them (exit 0)."""
    from lineage_audit import jars

    present = jars.installed()
    if present is not None:
        print(f"JARs ready in {present.directory} ({len(present.files)} files: {', '.join(jars.coordinates())})")
        return 0
    print(f"Fetching {', '.join(jars.coordinates())} from Maven Central into {jars.jars_dir()} ...", flush=True)
    try:
        fetched = jars.fetch()
    except jars.FetchError as exc:
        print(f"JARs not fetched: {exc}. Running with the built-in lineage capture and Parquet only "
              "(`make jars` tries again).")
        return 0
    print(f"JARs ready in {fetched.directory} ({len(fetched.files)} files)")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from lineage_audit.config import ConfigError
    from lineage_audit.service.server import ServeError, serve, start_background
    from lineage_audit.service.settings import load_settings

    flags = {"host": args.host, "port": args.port, "database_url": args.database_url,
             "ingest_api_key": args.ingest_api_key, "read_api_key": args.read_api_key}
    try:
        settings = load_settings({k: v for k, v in flags.items() if v is not None})
        if args.background:
            passed = [f"--{k.replace('_', '-')}={v}" for k, v in flags.items() if v is not None]
            print(start_background(settings, passed + (["--insecure"] if args.insecure else [])))
        else:
            serve(settings, insecure=args.insecure)
    except (ServeError, ConfigError) as exc:
        print(f"lineage-audit serve: {exc}", file=sys.stderr)
        return 2
    return 0


def _verify(args: argparse.Namespace) -> int:
    from lineage_audit.config import ConfigError
    from lineage_audit.service.ledger_cli import parse_expected, run_verify
    from lineage_audit.service.settings import load_settings

    try:
        expected = parse_expected(args.expect) if args.expect else None
        settings = load_settings({"database_url": args.database_url} if args.database_url else {})
    except (ValueError, ConfigError) as exc:
        print(f"lineage-audit verify: {exc}", file=sys.stderr)
        return 2
    return run_verify(settings.resolved_database_url, expected)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM (kill, a closed terminal) unwinds like Ctrl-C: the cluster's daemons are stopped either way."""
    raise KeyboardInterrupt


def _cluster(args: argparse.Namespace, data_dir: Path) -> int:
    """A standalone cluster: the named jobs submitted to it, or the foreground until Ctrl-C."""
    import signal

    from lineage_audit.cluster import ClusterError, run_jobs_on, standalone_cluster

    unknown = [j for j in args.jobs if j not in JOBS]
    if unknown:
        print(f"lineage-audit: unknown job {', '.join(unknown)}; choose from: {', '.join(JOBS)}", file=sys.stderr)
        return 2
    check_java()
    if args.jobs:
        ensure_data(data_dir, args.scale, args.seed)
    for signum in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: a shell's `&` starts us with it ignored
        signal.signal(signum, _interrupt)
    print(f"Starting a Spark master and {args.workers} worker(s) on 127.0.0.1 ...", flush=True)
    try:
        with standalone_cluster(args.workers, args.cores, args.memory) as cluster:
            print(f"master  {cluster.master_url}   (web UI {cluster.webui_url}, logs {cluster.log_dir})")
            if args.jobs:
                results = run_jobs_on(cluster, args.jobs, data_dir)
                print(report(results, data_dir))
                return 0 if all(r.ok for r in results) else 1
            command = cluster.submit_command(Path("jobs/orders.py"), Path("spark-defaults.conf"))
            print(f"submit  cd {PROJECT_ROOT} && PYSPARK_PYTHON={sys.executable} {' '.join(command)}")
            print("        (any job in jobs/; the driver runs here, its executors in the workers)")
            print("Ctrl-C stops the cluster.", flush=True)
            while True:
                signal.pause()
    except KeyboardInterrupt:
        print("\nCluster stopped.")
        return 0
    except ClusterError as exc:
        print(f"lineage-audit cluster: {exc}", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.data_dir is not None:  # the service and the jobs find the data directory the same way
        os.environ["LINEAGE_AUDIT_DATA_DIR"] = str(args.data_dir)
    data_dir = args.data_dir or default_data_dir()
    if args.command == "serve":
        return _serve(args)
    if args.command == "verify":
        return _verify(args)
    if args.command == "stop":
        from lineage_audit.service.server import stop_background

        print(stop_background())
        return 0
    if args.command == "diff":
        return diff_cli.run(args)
    if args.command == "audit":
        return audit_cli.run(args)
    if args.command == "jobs":
        print("\n".join(JOBS))
        return 0
    if args.command == "jars":
        return _jars()
    if args.command == "submit":
        return _submit(args)
    if args.command == "replay":
        return _replay(args)
    if args.command == "cluster":
        return _cluster(args, data_dir)
    if args.command == "generate":
        print(f"Generating sample data (SCALE={args.scale:g}, seed={args.seed}) into {data_dir / 'inputs'}")
        generate(data_dir, scale=args.scale, seed=args.seed, tables=args.tables, progress=print)
        return 0
    unknown = [j for j in args.jobs if j not in JOBS]
    if unknown:
        print(f"lineage-audit: unknown job {', '.join(unknown)}; choose from: {', '.join(JOBS)}", file=sys.stderr)
        return 2
    check_java()
    ensure_data(data_dir, args.scale, args.seed)
    started = time.perf_counter()
    results = run_jobs(args.jobs or JOBS, data_dir, parallel=max(1, args.parallel))
    print(report(results, data_dir, wall_seconds=time.perf_counter() - started))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
