"""The lineage service over HTTP, on SQLite and on PostgreSQL, in one run.

    make bench-service        # or: python benchmarks/bench_service.py [--backends sqlite postgresql]

For each backend the real service runs under uvicorn in a subprocess on a free port (PostgreSQL: a
throwaway server from the installed binaries, skipped with a printed line if they are absent):

(a) Graph: a generated graph of 10,000 jobs (2,000 applications, each with 4 write jobs) and
    30,000 datasets, in 25 domains of 400 jobs and 1,200 datasets. A write job reads 2 or 3 sources
    of its own, often one of the domain's 20 shared sources (dimension tables) and often an earlier
    output of the domain, so that a domain is one connected graph. It is loaded straight through the
    Ingester (in this process, before the server starts; one COMPLETE event per write job, shaped
    like the capture's, with schemas and column lineage).
(a') The ledger's cost (SQLite): the same events ingested in process into two copies of the loaded
    store, one appending them to the tamper-evident ledger and one not, interleaved in turns of 25
    events; single events, and 5 times as many in batches of 100. Target: at most 10 % slower with it.
(b) Ingest over HTTP, with events templated on what the capture emits (application START and
    COMPLETE; per write, START and COMPLETE with schemas, column lineage, output statistics; ~5 to
    20 kB each), fresh run ids, times and dataset names: single events at concurrency 1 and 8, and
    batches of 100 per POST.
(c) Latency of GET /lineage and /column-lineage at depth 2, 5 and 20 from random nodes of the graph:
    p50, p95, and the size of the answers.
(d) The same at depth 5 with ``asOf`` (a moment in the middle of the graph's event times, and one near
    their end), each next to the same query without it, and the ratio of their p95 (target: at most 2).

Prints a table with each figure and its target (targets are for SQLite on 2 cores): >= 300 single
events/s, >= 3,000 events/s batched, /lineage p95 <= 100 ms at depth 5, /column-lineage p95 <=
200 ms. ``--profile-ingest`` also prints where in-process ingest spends its time.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import math
import os
import pstats
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SINGLE_TARGET = 300.0  # events/s, SQLite
BATCH_TARGET = 3000.0  # events/s, SQLite
LINEAGE_P95_MS = 100.0  # at depth 5
COLUMN_P95_MS = 200.0

PRODUCER = "https://github.com/data-lineage-audit/data-lineage-audit/tree/v0.1.0/lineage_audit/capture"
OL = "https://openlineage.io/spec"
JOB_NAMESPACE = "data-lineage-audit"
WRITE = "execute_insert_into_hadoop_fs_relation_command"
T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)

WORDS = ("order", "customer", "product", "account", "amount", "price", "quantity", "country", "segment", "status",
         "channel", "currency", "merchant", "category", "region", "device", "session", "event", "score", "rate",
         "balance", "discount", "tax", "brand", "email", "phone", "city", "store", "supplier", "campaign")
SUFFIXES = ("id", "ts", "date", "code", "name", "count", "total", "flag", "type", "hash", "pct", "key")
TYPES = ("string", "string", "string", "long", "integer", "double", "boolean", "timestamp", "date", "decimal(18,2)")
DIRECT = (("DIRECT", "IDENTITY"), ("DIRECT", "TRANSFORMATION"), ("DIRECT", "AGGREGATION"))
INDIRECT = (("INDIRECT", "JOIN"), ("INDIRECT", "FILTER"), ("INDIRECT", "CONDITIONAL"), ("INDIRECT", "GROUP_BY"))


def _facet(schema: str, **values) -> dict:
    return {"_producer": PRODUCER, "_schemaURL": f"{OL}/{schema}", **values}


def _time(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


# -- events shaped like the capture's ---------------------------------------------------------

@dataclass
class Table:
    name: str
    fields: list[tuple[str, str]]  # (name, type)


@dataclass
class Write:
    app: str
    output: Table
    inputs: list[Table]
    lineage: dict[str, list[tuple[Table, str, list[tuple[str, str, bool]]]]] = field(default_factory=dict)
    dataset_deps: list[tuple[Table, str, str]] = field(default_factory=list)  # (table, field, subtype)

    @property
    def job(self) -> str:
        return f"{self.app}.{WRITE}.{self.output.name.rsplit('/', 1)[1]}"


class Factory:
    """Tables, writes and their OpenLineage events: the capture's structure with generated names and values."""

    def __init__(self, seed: int):
        self.random = random.Random(seed)
        self.clock = 0.0

    def table(self, name: str, width: tuple[int, int] = (8, 16)) -> Table:
        names: list[str] = []
        while len(names) < self.random.randint(*width):
            candidate = f"{self.random.choice(WORDS)}_{self.random.choice(SUFFIXES)}"
            if candidate not in names:
                names.append(candidate)
        return Table(name, [(n, self.random.choice(TYPES)) for n in names])

    def write(self, app: str, output_name: str, inputs: list[Table]) -> Write:
        output = self.table(output_name, (10, 24))
        write = Write(app, output, inputs)
        for column, _ in output.fields:
            sources = []
            for table in self.random.sample(inputs, k=min(len(inputs), self.random.choice((1, 1, 1, 2, 3)))):
                source_field = self.random.choice(table.fields)[0]
                kinds = [self.random.choice(DIRECT if not sources else DIRECT + INDIRECT)]
                if self.random.random() < 0.15:
                    kinds.append(self.random.choice(INDIRECT))
                sources.append((table, source_field, [(t, s, self.random.random() < 0.05) for t, s in kinds]))
            write.lineage[column] = sources
        for table in inputs:  # join keys and filters: the dataset-level dependencies
            for source_field, _ in self.random.sample(table.fields, k=min(len(table.fields), 3)):
                write.dataset_deps.append((table, source_field, self.random.choice(("JOIN", "FILTER"))))
        return write

    def _run_facets(self, app: str, parent: tuple[str, str] | None) -> dict:
        facets = {}
        if parent:
            facets["parent"] = _facet("facets/1-1-0/ParentRunFacet.json#/$defs/ParentRunFacet",
                                      job={"name": parent[0], "namespace": JOB_NAMESPACE}, run={"runId": parent[1]})
        facets["processing_engine"] = _facet(
            "facets/1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet",
            name="spark", openlineageAdapterVersion="0.1.0", version="4.0.1")
        facets["spark_properties"] = _facet("2-0-2/OpenLineage.json#/$defs/RunFacet", properties={
            "spark.app.id": f"local-{abs(hash(app)) % 10**13}", "spark.app.name": app, "spark.master": "local[*]",
            "spark.sql.adaptive.enabled": "true"})
        facets["tags"] = _facet("facets/1-0-0/TagsRunFacet.json#/$defs/TagsRunFacet", tags=[
            {"key": "openlineage_client_version", "source": "OPENLINEAGE_CLIENT", "value": "1.40.1"}])
        return facets

    @staticmethod
    def _dataset(table: Table, **facets) -> dict:
        return {"namespace": "file", "name": table.name, "facets": {
            **facets,
            "dataSource": _facet("facets/1-0-1/DatasourceDatasetFacet.json#/$defs/DatasourceDatasetFacet",
                                 name="file", uri="file"),
            "schema": _facet("facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
                             fields=[{"fields": [], "name": n, "type": t} for n, t in table.fields])}}

    def _event(self, event_type: str, job: str, run_id: str, job_type: str, run_facets: dict,
               inputs: list[dict], outputs: list[dict]) -> dict:
        self.clock += self.random.uniform(0.001, 2.0)
        return {"eventTime": _time(self.clock), "eventType": event_type, "inputs": inputs, "outputs": outputs,
                "job": {"facets": {"jobType": _facet("facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
                                                     integration="SPARK", jobType=job_type,
                                                     processingType="BATCH")},
                        "name": job, "namespace": JOB_NAMESPACE},
                "producer": PRODUCER, "run": {"facets": run_facets, "runId": run_id},
                "schemaURL": f"{OL}/2-0-2/OpenLineage.json#/$defs/RunEvent"}

    def write_events(self, write: Write, parent_run: str, types: tuple[str, ...] = ("START", "COMPLETE")) -> list:
        run_id = str(uuid.uuid4())
        column_lineage = _facet(
            "facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet",
            fields={column: {"inputFields": [
                {"field": f, "name": t.name, "namespace": "file", "transformations": [
                    {"description": "", "masking": m, "subtype": s, "type": k} for k, s, m in kinds]}
                for t, f, kinds in sources]} for column, sources in write.lineage.items()},
            dataset=[{"field": f, "name": t.name, "namespace": "file", "transformations": [
                {"description": "", "masking": False, "subtype": s, "type": "INDIRECT"}]}
                for t, f, s in write.dataset_deps])
        lifecycle = _facet("facets/1-0-1/LifecycleStateChangeDatasetFacet.json#/$defs/"
                           "LifecycleStateChangeDatasetFacet", lifecycleStateChange="OVERWRITE")
        events = []
        for event_type in types:
            output = self._dataset(write.output, columnLineage=column_lineage, lifecycleStateChange=lifecycle)
            output["outputFacets"] = {} if event_type == "START" else {"outputStatistics": _facet(
                "facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet",
                fileCount=1, rowCount=self.random.randint(10, 10**6), size=self.random.randint(10**3, 10**8))}
            inputs = [{**self._dataset(t), "inputFacets": {}} for t in write.inputs]
            events.append(self._event(event_type, write.job, run_id, "SQL_JOB",
                                      self._run_facets(write.app, (write.app, parent_run)), inputs, [output]))
        return events

    def application(self, app: str, writes: list[Write]) -> list[dict]:
        """One application run as the capture reports it: START, each write's START and COMPLETE, COMPLETE."""
        run_id = str(uuid.uuid4())
        events = [self._event("START", app, run_id, "APPLICATION", self._run_facets(app, None), [], [])]
        for write in writes:
            events += self.write_events(write, run_id)
        events.append(self._event("COMPLETE", app, run_id, "APPLICATION", self._run_facets(app, None), [], []))
        return events

    def pipeline(self, prefix: str, apps: int) -> list[dict]:
        """Events of ``apps`` applications, each writing 4 tables from 2 to 4 inputs (earlier outputs too)."""
        events, outputs = [], []
        for a in range(apps):
            app = f"{prefix}_app_{a}"
            writes = []
            for w in range(4):
                inputs = [self.table(f"/data/{prefix}/raw/{app}_src_{w}_{i}") for i in range(self.random.randint(1, 3))]
                if outputs:
                    inputs.append(self.random.choice(outputs[-20:]))
                write = self.write(app, f"/data/{prefix}/curated/{app}_out_{w}", inputs)
                writes.append(write)
                outputs.append(write.output)
            events += self.application(app, writes)
        return events


# -- the generated graph ----------------------------------------------------------------------

DOMAINS = 25
APPS_PER_DOMAIN = 80  # each: one application job and 4 write jobs -> 400 jobs per domain, 10,000 in all
SOURCES_PER_DOMAIN = 880  # + 320 outputs -> 1,200 datasets per domain, 30,000 in all
HUBS_PER_DOMAIN = 20  # shared sources (dimension tables) that many jobs of a domain read


def graph_writes(factory: Factory) -> list[Write]:
    """The write jobs of the graph: per domain, jobs read 1-3 sources of their own, often a shared hub and often
    an earlier output of the domain (chains); sources are spread so that every one is read."""
    writes = []
    for d in range(DOMAINS):
        sources = [factory.table(f"/lake/d{d:02}/raw/table_{s:04}") for s in range(SOURCES_PER_DOMAIN)]
        hubs, own = sources[:HUBS_PER_DOMAIN], sources[HUBS_PER_DOMAIN:]
        factory.random.shuffle(own)
        writers = APPS_PER_DOMAIN * 4
        threes = len(own) - 2 * writers  # 2 or 3 own sources per writer, each source read once
        counts = [3] * threes + [2] * (writers - threes)
        factory.random.shuffle(counts)
        next_own, outputs = 0, []
        for a in range(APPS_PER_DOMAIN):
            app = f"d{d:02}_app_{a:03}"
            for w in range(4):
                k = len(outputs)
                inputs = own[next_own:next_own + counts[k]]
                next_own += counts[k]
                if k < len(hubs):  # every hub is read, most by several jobs
                    inputs.append(hubs[k])
                elif factory.random.random() < 0.4:
                    inputs.append(factory.random.choice(hubs))
                if outputs and factory.random.random() < 0.8:
                    earlier = factory.random.choice(outputs[-30:])
                    if earlier not in inputs:
                        inputs.append(earlier)
                write = factory.write(app, f"/lake/d{d:02}/curated/{app}_out_{w}", inputs)
                writes.append(write)
                outputs.append(write.output)
    return writes


def load_graph(database_url: str, writes: list[Write], factory: Factory) -> tuple[float, int]:
    """Ingest one COMPLETE event per write job directly through the Ingester; returns (seconds, events)."""
    from lineage_audit.service.db import make_engine, migrate
    from lineage_audit.service.events import check_event
    from lineage_audit.service.ingest import Ingester

    engine = make_engine(database_url)
    migrate(engine)
    ingester = Ingester(engine)
    started = time.perf_counter()
    batch: list = []
    count = 0
    for write in writes:
        batch += factory.write_events(write, str(uuid.uuid4()), types=("COMPLETE",))
        if len(batch) >= 200:
            ingester.ingest([check_event(e) for e in batch])
            count += len(batch)
            batch = []
    if batch:
        ingester.ingest([check_event(e) for e in batch])
        count += len(batch)
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, count


# -- the service in a subprocess, and HTTP clients ----------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(database_url: str, port: int) -> None:
    import uvicorn

    from lineage_audit.service.app import create_app
    from lineage_audit.service.settings import ServiceSettings

    app = create_app(ServiceSettings(database_url=database_url, port=port))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


class Service:
    def __init__(self, database_url: str, log: Path):
        self.port = _free_port()
        self.log = log.open("w")
        self.process = subprocess.Popen([sys.executable, __file__, "--serve", database_url, str(self.port)],
                                        stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.close()
                raise SystemExit(f"the service exited (code {self.process.returncode}); see {log}")
            try:
                status, _ = self.request("GET", "/api/v1/health")
                if status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"the service did not answer within 60 s; see {log}")

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def request(self, method: str, path: str, body: bytes | None = None,
                connection: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
        conn = connection or self.connection()
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        response = conn.getresponse()
        data = response.read()
        if connection is None:
            conn.close()
        return response.status, data

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def post_all(service: Service, bodies: list[bytes], concurrency: int) -> float:
    """POST every body, ``concurrency`` clients at once (one keep-alive connection each); returns seconds."""
    errors: list[str] = []
    position = iter(range(len(bodies)))
    lock = threading.Lock()

    def client() -> None:
        conn = service.connection()
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                break
            status, data = service.request("POST", "/api/v1/lineage", bodies[index], conn)
            if status != 201:
                errors.append(f"{status} {data[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} posts failed, first: {errors[0]}")
    return seconds


def latencies(service: Service, path: str, queries: list[dict]) -> tuple[list[float], list[int], list[int]]:
    """Milliseconds per GET, nodes per answer and bytes per answer."""
    conn = service.connection()
    times, nodes, sizes = [], [], []
    for params in queries:
        started = time.perf_counter()
        status, data = service.request("GET", f"/api/v1/{path}?{urlencode(params)}", connection=conn)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"GET {path} {params} -> {status} {data[:300]!r}")
        nodes.append(len(json.loads(data)["graph"]))
        sizes.append(len(data))
    conn.close()
    return times, nodes, sizes


def percentile(values: list[float], p: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# -- one backend --------------------------------------------------------------------------------

@dataclass
class Row:
    backend: str
    what: str
    value: str
    target: str = ""
    met: bool | None = None
    note: str = ""


def bench_backend(backend: str, database_url: str, workdir: Path, args) -> list[Row]:
    rows: list[Row] = []
    on_sqlite = backend == "sqlite"
    factory = Factory(seed=42)
    writes = graph_writes(factory)
    jobs = len(writes) + DOMAINS * APPS_PER_DOMAIN
    tables = {w.output.name for w in writes} | {t.name for w in writes for t in w.inputs}
    print(f"[{backend}] loading the graph: {jobs} jobs, {len(tables)} datasets (Ingester, in-process) ...", flush=True)
    seconds, events = load_graph(database_url, writes, factory)
    rows.append(Row(backend, f"graph load: {events} events via the Ingester", f"{seconds:.1f} s",
                    note=f"{events / seconds:.0f} events/s in-process, batches of 200"))

    if on_sqlite:
        rows += ledger_rows(workdir / "bench.db", args.ledger_events)

    service = Service(database_url, workdir / f"service-{backend}.log")
    try:
        print(f"[{backend}] ingest over HTTP ...", flush=True)
        fresh = Factory(seed=7)
        for label, concurrency, apps in (("single events, 1 client", 1, args.single_apps),
                                         ("single events, 8 clients", 8, args.single_apps * 2)):
            bodies = [json.dumps(e).encode() for e in fresh.pipeline(f"c{concurrency}", apps)]
            rate = len(bodies) / post_all(service, bodies, concurrency)
            size = statistics.mean(len(b) for b in bodies) / 1024
            rows.append(Row(backend, f"ingest {label}", f"{rate:.1f} events/s",
                            f">= {SINGLE_TARGET:.0f}" if on_sqlite else "",
                            rate >= SINGLE_TARGET if on_sqlite else None, f"{len(bodies)} events, mean {size:.1f} kB"))
        events = fresh.pipeline("batch", args.batch_apps)
        bodies = [json.dumps(events[i:i + 100]).encode() for i in range(0, len(events), 100)]
        rate = len(events) / post_all(service, bodies, 1)
        rows.append(Row(backend, "ingest batches of 100, 1 client", f"{rate:.1f} events/s",
                        f">= {BATCH_TARGET:.0f}" if on_sqlite else "", rate >= BATCH_TARGET if on_sqlite else None,
                        f"{len(events)} events in {len(bodies)} posts"))

        print(f"[{backend}] graph queries ...", flush=True)
        rows += query_latencies(backend, service, writes, sorted(tables), args.queries)
        rows += as_of_latencies(backend, service, writes, factory.clock, args.queries)
    finally:
        service.stop()
    return rows


def ledger_rows(store: Path, count: int) -> list[Row]:
    """The ledger's share of ingest, single events and batches of 100, on copies of the loaded store."""
    from ledger_cost import ledger_cost  # beside this script

    print(f"[sqlite] ledger cost: {count} events into two copies of the store, with and without it ...", flush=True)
    rows = []
    for label, per_transaction, seed, apps in (("single events", 1, 3, count // 10),
                                               ("batches of 100", 100, 4, count // 2)):
        events = Factory(seed=seed).pipeline(f"ledger{per_transaction}", max(1, apps))
        with_ledger, without = ledger_cost(store, events, per_transaction)
        cost = with_ledger / without - 1
        rows.append(Row("sqlite", f"ledger's ingest cost, {label}", f"{cost * 100:+.1f} %", "<= +10 %",
                        cost <= 0.10, f"{len(events) / with_ledger:.0f} events/s with it, "
                                      f"{len(events) / without:.0f} without (in-process, same events)"))
    from lineage_audit.service import ledger
    from lineage_audit.service.db import make_engine

    engine = make_engine(f"sqlite:///{store}")
    started = time.perf_counter()
    verified = ledger.verify(engine)
    seconds = time.perf_counter() - started
    engine.dispose()
    assert verified.ok, verified.finding
    rows.append(Row("sqlite", f"lineage-audit verify, {verified.length} entries", f"{seconds:.2f} s",
                    note=f"{verified.length / seconds:.0f} entries/s"))
    return rows


QUERIES = [("lineage", depth, False) for depth in (2, 5, 20)] + [
    ("column-lineage", depth, False) for depth in (2, 5, 20)] + [("column-lineage", 5, True)]


def query_latencies(backend: str, service: Service, writes: list[Write], tables: list[str], count: int) -> list[Row]:
    """p50 and p95 of GET /lineage (from write jobs and datasets) and /column-lineage (from fields and datasets
    written by a job), ``count`` random nodes per endpoint and depth."""
    rows = []
    pick = random.Random(3)
    job_ids = [f"job:{JOB_NAMESPACE}:{w.job}" for w in writes]
    dataset_ids = [f"dataset:file:{name}" for name in tables]
    for path, depth, downstream in QUERIES:
        queries = []
        for _ in range(count):
            if path == "lineage":
                node = pick.choice(job_ids) if pick.random() < 0.5 else pick.choice(dataset_ids)
            else:
                table = pick.choice(writes).output
                node = (f"datasetField:file:{table.name}:{pick.choice(table.fields)[0]}"
                        if pick.random() < 0.5 else f"dataset:file:{table.name}")
            queries.append({"nodeId": node, "depth": depth, **({"withDownstream": "true"} if downstream else {})})
        latencies(service, path, queries[:5])  # warm up
        times, nodes, sizes = latencies(service, path, queries)
        p50, p95 = percentile(times, 50), percentile(times, 95)
        limit = LINEAGE_P95_MS if path == "lineage" else COLUMN_P95_MS
        has_target = backend == "sqlite" and not downstream and (path == "column-lineage" or depth == 5)
        label = f"GET /{path} depth {depth}" + (" withDownstream" if downstream else "")
        rows.append(Row(backend, label, f"p50 {p50:.0f} ms, p95 {p95:.0f} ms",
                        f"p95 <= {limit:.0f} ms" if has_target else "", p95 <= limit if has_target else None,
                        f"nodes p50 {percentile(nodes, 50):.0f} / p95 {percentile(nodes, 95):.0f}, "
                        f"p95 {percentile(sizes, 95) / 1024:.0f} kB"))
    return rows


AS_OF_QUERIES = (("lineage", 5, 0.5), ("lineage", 5, 0.95), ("column-lineage", 5, 0.5), ("column-lineage", 5, 0.95))


def as_of_latencies(backend: str, service: Service, writes: list[Write], end: float, count: int) -> list[Row]:
    """p50 and p95 of GET /lineage and /column-lineage at depth 5 with ``asOf`` a moment in the middle of the graph's
    event times and one near their end, next to the same queries (same nodes) without it, each pair sent one after
    the other so that both meet the same load: at most twice as slow. Nodes are taken among the writes loaded
    well before the moment (their events come in order, evenly spread)."""
    rows = []
    pick = random.Random(5)
    for path, depth, fraction in AS_OF_QUERIES:
        existing = writes[:int(len(writes) * (fraction - 0.05))]
        moment = (T0 + timedelta(seconds=end * fraction)).isoformat().replace("+00:00", "Z")
        pairs = []
        for _ in range(count):
            write = pick.choice(existing)
            if path == "lineage":
                node = (f"job:{JOB_NAMESPACE}:{write.job}" if pick.random() < 0.5
                        else f"dataset:file:{pick.choice([write.output] + write.inputs).name}")
            else:
                node = (f"datasetField:file:{write.output.name}:{pick.choice(write.output.fields)[0]}"
                        if pick.random() < 0.5 else f"dataset:file:{write.output.name}")
            pairs.append([{"nodeId": node, "depth": depth}, {"nodeId": node, "depth": depth, "asOf": moment}])
        latencies(service, path, [q for pair in pairs[:3] for q in pair])  # warm up
        times, nodes, sizes = latencies(service, path, [q for pair in pairs for q in pair])
        now, then = times[0::2], times[1::2]
        ratio = percentile(then, 95) / percentile(now, 95)
        rows.append(Row(backend, f"GET /{path} depth {depth} asOf at {fraction:.0%}",
                        f"p50 {percentile(then, 50):.0f} ms, p95 {percentile(then, 95):.0f} ms", "p95 <= 2x",
                        ratio <= 2.0, f"without asOf p50 {percentile(now, 50):.0f} ms, p95 {percentile(now, 95):.0f} "
                                      f"ms: x{ratio:.2f}; nodes p95 {percentile(nodes[1::2], 95):.0f}, "
                                      f"p95 {percentile(sizes[1::2], 95) / 1024:.0f} kB"))
    return rows


def profile_ingest() -> None:
    """Where ingest of capture-shaped events spends its time, in process on SQLite, batches of 100 as a POST
    gets them: parsing the body, checking each event, the Ingester; then a profile of the same, by own time."""
    from lineage_audit.service.db import make_engine, migrate
    from lineage_audit.service.events import check_event, parse_body
    from lineage_audit.service.ingest import Ingester

    factory = Factory(seed=11)
    bodies = [json.dumps(factory.pipeline(f"profile{round}", 10)).encode() for round in range(20)]
    with tempfile.TemporaryDirectory(prefix="lineage-profile-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/profile.db")
        migrate(engine)
        ingester = Ingester(engine)
        spent = [0.0, 0.0, 0.0]
        profiler = cProfile.Profile()
        count = 0
        for number, body in enumerate(bodies):
            profiling = number >= len(bodies) // 2
            if profiling:
                profiler.enable()
            started = time.perf_counter()
            events, _ = parse_body(body, "application/json")
            parsed = time.perf_counter()
            checked = [check_event(event, index) for index, event in enumerate(events)]
            done_checking = time.perf_counter()
            ingester.ingest(checked)
            if profiling:
                profiler.disable()
            else:
                spent[0] += parsed - started
                spent[1] += done_checking - parsed
                spent[2] += time.perf_counter() - done_checking
                count += len(events)
        engine.dispose()
    total = sum(spent)
    print(f"\nin-process ingest, SQLite, batches of 100 ({count} events, mean "
          f"{statistics.mean(len(b) for b in bodies) / 100 / 1024:.1f} kB): {count / total:.0f} events/s; per event "
          f"{spent[0] / count * 1000:.3f} ms parse_body, {spent[1] / count * 1000:.3f} ms check_event, "
          f"{spent[2] / count * 1000:.3f} ms Ingester.ingest")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--queries", type=int, default=150, help="GETs per endpoint and depth (default 150)")
    parser.add_argument("--single-apps", type=int, default=60,
                        help="applications (10 events each) posted one event at a time by 1 client; twice as many "
                             "by 8 clients (default 60)")
    parser.add_argument("--batch-apps", type=int, default=600, help="applications posted in batches (default 600)")
    parser.add_argument("--ledger-events", type=int, default=2000,
                        help="events ingested with and without the ledger to measure its cost (default 2000)")
    parser.add_argument("--profile-ingest", action="store_true", help="also profile in-process ingest")
    parser.add_argument("--serve", nargs=2, metavar=("DATABASE_URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return 0

    started = time.perf_counter()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="lineage-bench-") as tmp:
        workdir = Path(tmp)
        for backend in args.backends:
            if backend == "sqlite":
                rows += bench_backend(backend, f"sqlite:///{workdir / 'bench.db'}", workdir, args)
                continue
            from tests.service.postgres import SKIP_REASON, PostgresServer, find_binaries

            if find_binaries() is None:
                print(f"[postgresql] skipped: {SKIP_REASON}", flush=True)
                continue
            server = PostgresServer().start()
            try:
                rows += bench_backend(backend, server.url, workdir, args)
            finally:
                server.stop()
    print(f"\nlineage service benchmark, {os.cpu_count()} CPUs, {time.perf_counter() - started:.0f} s in all")
    widths = (11, 44, 26, 16, 8)
    header = ("backend", "measure", "value", "target", "")
    print("".join(h.ljust(w) for h, w in zip(header, widths)) + "notes")
    for row in rows:
        status = "" if row.met is None else ("MET" if row.met else "MISSED")
        print("".join(str(v).ljust(w) for v, w in zip((row.backend, row.what, row.value, row.target, status), widths))
              + row.note)
    if args.profile_ingest:
        profile_ingest()
    return 0


if __name__ == "__main__":
    sys.exit(main())
