"""``kill -9`` of the service in the middle of a burst of posts: every event it acknowledged (201) is
still there after a restart on the same database, and the store is consistent (SQLite and PostgreSQL)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from lineage_audit.service.db import dataset_versions, datasets, job_io, jobs, lineage_events, run_io, runs
from tests.service.test_ingest import PRODUCER, dataset, free_port

ROOT = Path(__file__).resolve().parents[2]
THREADS = 6
KILL_AFTER = 120  # acknowledged events before the kill


class ServiceProcess:
    """``lineage-audit serve`` as a separate process, as a user starts it."""

    def __init__(self, database_url: str, data_dir: Path):
        self.database_url, self.data_dir, self.port = database_url, data_dir, free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> "ServiceProcess":
        env = {**os.environ, "LINEAGE_AUDIT_DATA_DIR": str(self.data_dir)}
        log = open(self.data_dir / f"service-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lineage_audit.cli", "serve", "--port", str(self.port),
             "--database-url", self.database_url], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                status, _ = self.post(None, method="GET", path="/api/v1/health")
                if status == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"the service did not start:\n{self.log()}")

    def log(self) -> str:
        return (self.data_dir / f"service-{self.port}.log").read_text(errors="replace")[-3000:]

    def post(self, body: bytes | None, connection: http.client.HTTPConnection | None = None, method: str = "POST",
             path: str = "/api/v1/lineage") -> tuple[int, bytes]:
        conn = connection or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            if connection is None:
                conn.close()

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no shutdown, no rollback by the service itself
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def burst_event(number: int) -> dict:
    """A RunEvent of its own run, with an output, its schema and column lineage: a real transaction's worth."""
    run_id = str(uuid.uuid4())
    lineage = {"_producer": PRODUCER, "_schemaURL": "x", "fields": {
        f"c{i}": {"inputFields": [{"namespace": "file", "name": f"/crash/in/{number % 7}", "field": f"c{i}",
                                   "transformations": [{"type": "DIRECT", "subtype": "IDENTITY"}]}]}
        for i in range(12)}}
    return {"eventType": "COMPLETE" if number % 2 else "START", "eventTime": f"2026-05-01T10:{number // 60 % 60:02d}:"
            f"{number % 60:02d}.{number % 1000:03d}Z", "producer": PRODUCER,
            "run": {"runId": run_id, "facets": {}},
            "job": {"namespace": "crash", "name": f"job_{number % 11}", "facets": {}},
            "inputs": [dataset(f"/crash/in/{number % 7}", fields=tuple(f"c{i}" for i in range(12)))],
            "outputs": [dataset(f"/crash/out/{number % 5}", fields=tuple(f"c{i}" for i in range(12)),
                                columnLineage=lineage)]}


def burst(service: ServiceProcess) -> tuple[list[str], int]:
    """Post from several threads until the service dies; returns the run ids of acknowledged events and the
    number of requests that got no answer."""
    acknowledged: list[str] = []
    unanswered = [0]
    refused: list[str] = []
    lock = threading.Lock()
    numbers = iter(range(10**9))

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
        while True:
            with lock:
                first = next(numbers)
                size = 1 if first % 3 else 5  # single events and batches of 5
                for _ in range(size - 1):
                    next(numbers)
            events = [burst_event(first + i) for i in range(size)]
            body = json.dumps(events[0] if size == 1 else events).encode()
            try:
                status, answer = service.post(body, conn)
            except (OSError, http.client.HTTPException):
                with lock:
                    unanswered[0] += 1
                return
            with lock:
                if status == 201:
                    acknowledged.extend(e["run"]["runId"] for e in events)
                else:
                    refused.append(f"{status} {answer[:300]!r}")

    threads = [threading.Thread(target=client, daemon=True) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    while len(acknowledged) < KILL_AFTER and time.monotonic() < deadline:
        time.sleep(0.005)
    service.kill()
    for thread in threads:
        thread.join(60)
    assert not refused, refused[:3]
    return list(acknowledged), unanswered[0]


def test_kill_9_in_a_burst_keeps_every_acknowledged_event(database_url, tmp_path):
    service = ServiceProcess(database_url, tmp_path).start()
    try:
        acknowledged, unanswered = burst(service)
        assert len(acknowledged) >= KILL_AFTER, service.log()
        assert unanswered > 0  # the kill did interrupt requests in flight

        service = ServiceProcess(database_url, tmp_path).start()  # a restart on the same database
        engine = create_engine(database_url)
        try:
            with engine.connect() as conn:
                stored = set(conn.execute(select(lineage_events.c.run_uuid)).scalars())
                missing = [r for r in acknowledged if r not in stored]
                assert not missing, f"{len(missing)} acknowledged events were lost, e.g. {missing[:3]}"
                run_ids = set(conn.execute(select(runs.c.uuid)).scalars())
                assert run_ids == stored  # each stored event has its run, and nothing else does
                assert len(acknowledged) <= len(stored) <= len(acknowledged) + 5 * THREADS
                # everything derived from a stored event is there with it, and nothing dangles
                counts = conn.execute(select(func.count(func.distinct(run_io.c.run_uuid)))
                                      .where(run_io.c.direction == "OUTPUT")).scalar_one()
                assert counts == len(stored)
                assert conn.execute(select(func.count()).select_from(dataset_versions)
                                    .where(dataset_versions.c.origin == "RUN")).scalar_one() == len(stored)
                # the inputs are only read: each has the version its readers made
                read = conn.execute(select(func.count(func.distinct(run_io.c.dataset_id)))
                                    .where(run_io.c.direction == "INPUT")).scalar_one()
                assert conn.execute(select(func.count()).select_from(dataset_versions)
                                    .where(dataset_versions.c.origin == "READ")).scalar_one() == read == 7
                assert conn.execute(select(func.count()).select_from(run_io).outerjoin(
                    runs, runs.c.uuid == run_io.c.run_uuid).where(runs.c.uuid.is_(None))).scalar_one() == 0
                assert conn.execute(select(func.count()).select_from(job_io).outerjoin(
                    datasets, datasets.c.id == job_io.c.dataset_id).where(datasets.c.id.is_(None))).scalar_one() == 0
                assert conn.execute(select(func.count()).select_from(jobs)
                                    .where(jobs.c.latest_run_uuid.is_(None))).scalar_one() == 0
                if engine.dialect.name == "sqlite":
                    assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
                    assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            status, answer = service.post(json.dumps(burst_event(10**6 + 1)).encode())
            assert status == 201, answer
            with engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(lineage_events)).scalar_one() == len(stored) + 1
        finally:
            engine.dispose()
    finally:
        service.stop()
