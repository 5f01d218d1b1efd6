"""Automatic lineage capture: a Python ``QueryExecutionListener`` registered through py4j.

:func:`install` registers the listener on a session and emits the application's START event.
For each query that writes data, the callback copies a :class:`~snapshot.QuerySnapshot` and
returns; a worker thread parses the plan, computes column lineage within a time budget, builds
START and COMPLETE (or FAIL) events and emits them. :meth:`Capture.close` (also run at exit)
drains the queue, emits the application's COMPLETE event and flushes the transport.

Nothing here may fail a job: every callback and every worker step catches its own errors and
logs each kind once.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import replace
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Mapping

from openlineage.client.event_v2 import RunState, set_producer
from openlineage.client.uuid import generate_new_uuid

from lineage_audit.capture.emitter import Emitter
from lineage_audit.capture.events import PRODUCER, Application, application_event, query_events
from lineage_audit.capture.naming import dataset_identity, set_remove_path_pattern
from lineage_audit.capture.plan import parse_plan
from lineage_audit.capture.settings import CaptureSettings, official_listener_registered, resolve_settings
from lineage_audit.capture.source_location import locate
from lineage_audit.capture.snapshot import DatasetRef, QuerySnapshot, encloses, fills, take_snapshot

log = logging.getLogger(__name__)
_STOP = object()
_FLUSH = object()  # marks how far flush() must wait
# Recent SQL executions searched for a query's Spark jobs (its own is among the last few).
RECENT_EXECUTIONS = 50
# How long flush() waits for the command an inner write ran in, once Spark's listener bus looks idle.
NESTED_GRACE_SECONDS = 10.0
ACTIVE: "Capture | None" = None  # the capture installed in this process (capture/pause.py pauses it)


def compute_lineage(snapshot: QuerySnapshot, settings: CaptureSettings) -> dict[str, Any]:
    """The columnLineage facet body for a snapshot."""
    from lineage_audit.capture.column_lineage import column_lineage, to_facet_dict

    plan = parse_plan(snapshot.query_json)
    leaves = [dataset_identity(ref.uri) if ref is not None else None for ref in snapshot.leaves]
    lineage = column_lineage(plan, snapshot.output_columns, leaves)
    return to_facet_dict(lineage, dataset_lineage_enabled=settings.dataset_lineage_enabled)


class _Listener:
    """The py4j proxy Spark calls; it only snapshots and enqueues."""

    class Java:
        implements = ["org.apache.spark.sql.util.QueryExecutionListener"]

    def __init__(self, capture: "Capture"):
        self._capture = capture

    def onSuccess(self, func_name, qe, duration_ns):  # noqa: N802 (Java interface)
        self._capture.observe(qe, duration_ns, None, func_name)

    def onFailure(self, func_name, qe, exception):  # noqa: N802 (Java interface)
        self._capture.observe(qe, 0, exception, func_name)


class Capture:
    """Lineage capture for one Spark application; see the module docstring."""

    def __init__(self, app: Application, settings: CaptureSettings, emitter: Emitter):
        self.app = app
        self.settings = settings
        self.emitter = emitter
        self.queries = 0
        self._queue: queue.Queue = queue.Queue()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lineage-extract")
        self._warned: set[str] = set()
        self._closed = False
        self._worker = threading.Thread(target=self._work, name="lineage-capture", daemon=True)
        self._jlistener = None
        self._jmanager = None
        self._jsc = None
        self._jvm = None
        self._jsession = None
        self._tables: dict[str, DatasetRef] = {}  # catalog tables seen, by db.table: a DROP's only record
        self._nested: list[QuerySnapshot] = []  # inner writes waiting for the command that ran them
        self._nested_lock = threading.Lock()
        self._recent: deque[QuerySnapshot] = deque(maxlen=8)  # writes a Hive CTAS reported next may have run
        self.paused = False

    # -- callback side (Spark's listener bus thread) ---------------------------------------
    def observe(self, qe, duration_ns: int, error, func_name: str = "") -> None:
        if self.paused:  # see capture/pause.py: work the job publishes otherwise
            return
        snapshot = None
        try:
            query_id = int(qe.id())
        except Exception:  # Spark versions before 3.5 number no query executions
            query_id = -1
        try:
            snapshot = take_snapshot(self._jvm, qe, duration_ns, error, func_name, self._tables)
        except Exception as exc:  # a plan shape capture cannot read: skip it, never fail Spark
            self._warn_once("snapshot", "could not read a query plan for lineage: %s", exc)
        if snapshot is not None:
            for ref in (snapshot.output, *snapshot.leaves):
                if ref is not None and ref.table is not None and ref.schema_json:
                    self._tables[ref.table[1]] = ref
        self._pair(snapshot, query_id)

    def _pair(self, snapshot: QuerySnapshot | None, query_id: int) -> None:
        """Queue ``snapshot``, with the inner write it encloses folded in.

        Spark reports a command's inner write (a CTAS's, a saveAsTable's) before the command,
        on the same thread, and numbers the command's query first. So an inner write waits here
        until a query numbered before it ends: the one that ran it, whatever the load.
        """
        with self._nested_lock:
            inner = [w for w in self._nested if w.query_id > query_id]
            self._nested = [w for w in self._nested if w.query_id <= query_id]
            for write in inner:
                if snapshot is not None and encloses(snapshot, write):
                    # one write, reported once: as the CTAS, with the inner write's statistics and jobs
                    snapshot = replace(snapshot, metrics=write.metrics if snapshot.error is None else {},
                                       query_uuid=write.query_uuid)
                else:
                    self._queue.put(write)
            if snapshot is None:
                return
            inserted = next((w for w in self._recent if fills(snapshot, w)), None)
            if inserted is not None and snapshot.error is None:
                # A Hive CTAS runs its insert as a query of its own, reported (as the official listener
                # reports it) as a run of its own; the CTAS's run gets the insert's statistics too.
                snapshot = replace(snapshot, metrics=inserted.metrics)
            self._recent.append(snapshot)
            if snapshot.nested:
                self._nested.append(snapshot)
            else:
                self._queue.put(snapshot)

    def _release_nested(self) -> None:
        with self._nested_lock:
            for write in self._nested:
                self._queue.put(write)
            self._nested = []

    # -- worker side -------------------------------------------------------------------------
    def _work(self) -> None:
        try:
            sent, pending = self.emitter.replay()
            if sent:
                log.info("replayed %d spooled lineage events (%d still pending)", sent, pending)
        except Exception as exc:
            self._warn_once("replay", "replaying spooled lineage events failed: %s", exc)
        while True:
            item = self._queue.get()
            if item is _STOP or item is _FLUSH:
                self._queue.task_done()
                if item is _STOP:
                    return
                continue
            self._handle(item)

    def _handle(self, item) -> None:
        try:
            if isinstance(item, QuerySnapshot):
                self._process(item)
            else:
                self.emitter.emit(item)
        except Exception as exc:
            self._warn_once("process", "building lineage events failed: %s", exc)
        finally:
            self._queue.task_done()

    def _process(self, snapshot: QuerySnapshot) -> None:
        lineage, problem = None, None
        if not snapshot.query_json:  # a table command (CREATE, DROP, ...): no query, no column lineage
            self._emit_all(query_events(snapshot, str(generate_new_uuid()), self.app, self.settings, None))
            return
        try:
            future = self._pool.submit(compute_lineage, snapshot, self.settings)
        except RuntimeError:  # at interpreter exit no new threads start: compute here, without a budget
            future = Future()
            try:
                future.set_result(compute_lineage(snapshot, self.settings))
            except Exception as exc:
                future.set_exception(exc)
        try:
            lineage = future.result(timeout=self.settings.timeout_seconds)
        except FutureTimeout:
            problem = f"column lineage took longer than {self.settings.timeout_seconds:g} s; sent without it"
        except Exception as exc:  # a plan shape the extractor does not know: send the rest
            problem = f"column lineage failed: {type(exc).__name__}: {exc}"
        if problem:
            self._warn_once("lineage", "%s", problem)
        jobs = self._spark_jobs(snapshot.query_uuid)
        self._emit_all(query_events(snapshot, str(generate_new_uuid()), self.app, self.settings, lineage, problem,
                                    spark_jobs=jobs))

    def _emit_all(self, events) -> None:
        for event in events:
            self.emitter.emit(event)
        self.queries += 1

    def _spark_jobs(self, query_uuid: str | None) -> list[tuple[int, int]]:
        """(job id, submission time in ms) of the Spark jobs a query ran, from Spark's status store.

        The store is filled by another listener queue than capture's callback; a query it does
        not hold (yet, or any more) simply gets no RUNNING events.
        """
        if query_uuid is None or self._jsession is None:
            return []
        try:
            store = self._jsession.sharedState().statusStore()
            count = int(store.executionsCount())
            recent = store.executionsList(max(0, count - RECENT_EXECUTIONS), RECENT_EXECUTIONS)
            for i in reversed(range(recent.size())):
                execution = recent.apply(i)
                if str(execution.queryId().toString()) == query_uuid:
                    return self._job_times(execution.jobs().keySet().toSeq())
        except Exception as exc:  # a stopped context: nothing to look up
            self._warn_once("jobs", "could not read the Spark jobs of a query: %s", exc)
        return []

    def _job_times(self, job_ids) -> list[tuple[int, int]]:
        store, found = self._jsc.sc().statusStore(), []
        for i in range(job_ids.size()):
            job_id = int(job_ids.apply(i))
            submitted = store.job(job_id).submissionTime()
            if submitted.isDefined():
                found.append((job_id, int(submitted.get().getTime())))
        return sorted(found)

    def _warn_once(self, kind: str, message: str, *args) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            log.warning(message, *args)

    # -- life cycle ----------------------------------------------------------------------------
    def start(self, spark) -> "Capture":
        from pyspark.java_gateway import ensure_callback_server_started

        ensure_callback_server_started(spark.sparkContext._gateway)
        self._jlistener = _Listener(self)
        self._jmanager = spark._jsparkSession.listenerManager()
        self._jsc = spark.sparkContext._jsc
        self._jvm = spark.sparkContext._jvm
        self._jsession = spark._jsparkSession
        self._jmanager.register(self._jlistener)
        global ACTIVE
        ACTIVE = self
        self._queue.put(application_event(RunState.START, self.app, self.settings, int(time.time() * 1000)))
        self._worker.start()
        atexit.register(self.close)
        return self

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every query run so far has been emitted (or spooled).

        Spark hands finished queries to listeners asynchronously, so first wait for its
        listener bus to be empty, then for the worker to empty capture's queue.
        """
        deadline = time.monotonic() + timeout
        try:
            if self._jsc is not None:
                self._jsc.sc().listenerBus().waitUntilEmpty(int(timeout * 1000))
        except Exception:  # a stopped context has nothing left to deliver
            pass
        # An inner write waits for the command that ran it, which Spark reports right after it;
        # give that report a moment (the bus can be slow under load) before sending the write alone.
        grace = min(deadline, time.monotonic() + NESTED_GRACE_SECONDS)
        while self._nested and time.monotonic() < grace:
            time.sleep(0.05)
        self._release_nested()
        self._queue.put(_FLUSH)
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self._queue.unfinished_tasks

    def close(self, timeout: float | None = None) -> None:
        """Stop listening and send what is queued. Waits for every queued query by default: each
        query's column lineage has its own time budget, and an unreachable server spools, so the
        wait ends; a job must not exit with its last writes unsent (``timeout`` bounds it for tests)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._jmanager is not None:
                self._jmanager.unregister(self._jlistener)
        except Exception:  # the JVM may already be gone at interpreter exit
            pass
        self._release_nested()
        self._queue.put(application_event(RunState.COMPLETE, self.app, self.settings, int(time.time() * 1000)))
        self._queue.put(_STOP)
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._worker.is_alive():
            left = 30.0 if deadline is None else min(30.0, deadline - time.monotonic())
            if left <= 0:
                break
            self._worker.join(left)
            if self._worker.is_alive():
                log.info("still building and sending lineage events (%d queued)", self._queue.qsize())
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.emitter.close()


def application_details(spark, spark_conf: Mapping[str, str]) -> dict[str, str]:
    """The spark_applicationDetails facet's fields (the official listener's; appName is Spark's own)."""
    sc = spark.sparkContext
    details = {"master": sc.master, "appName": sc.appName, "applicationId": sc.applicationId,
               "deployMode": spark_conf.get("spark.submit.deployMode", "client"),
               "driverHost": spark_conf.get("spark.driver.host"), "userName": sc.sparkUser(),
               "uiWebUrl": sc.uiWebUrl}
    return {k: v for k, v in details.items() if v}


def install(spark, conf: Mapping[str, str] | None = None) -> Capture | None:
    """Install capture on ``spark``; None when disabled or when the official listener is registered."""
    spark_conf = dict(spark.sparkContext.getConf().getAll())
    spark_conf.update(conf or {})
    if official_listener_registered(spark_conf):
        log.info("the official OpenLineage listener is registered: built-in capture stands down")
        return None
    settings = resolve_settings(spark_conf)
    if settings.disabled:
        return None
    set_producer(PRODUCER)  # the library's hook for the producer of the facets it builds
    app = Application(
        name=settings.app_name or spark_conf.get("spark.app.name", "spark_application"),
        run_id=str(generate_new_uuid()),
        spark_version=spark.version,
        properties=spark_conf,
        namespace=settings.namespace,
        source=locate() if settings.facet_enabled("sourceCodeLocation") else None,
        details=application_details(spark, spark_conf),
    )
    set_remove_path_pattern(settings.remove_path_pattern)
    return Capture(app, settings, Emitter(settings.transport, settings.spool_dir)).start(spark)
