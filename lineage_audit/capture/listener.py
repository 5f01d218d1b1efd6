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
from dataclasses import replace
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Mapping

from openlineage.client.event_v2 import RunState, set_producer
from openlineage.client.uuid import generate_new_uuid

from lineage_audit.capture.emitter import Emitter
from lineage_audit.capture.events import PRODUCER, Application, application_event, query_events
from lineage_audit.capture.naming import dataset_identity
from lineage_audit.capture.plan import parse_plan
from lineage_audit.capture.settings import CaptureSettings, official_listener_registered, resolve_settings
from lineage_audit.capture.source_location import locate
from lineage_audit.capture.snapshot import FILE_INSERT, QuerySnapshot, encloses, take_snapshot

log = logging.getLogger(__name__)
_STOP = object()
_FLUSH = object()  # releases a held file write (see _work) so that flush() sees it emitted
# How long a file write waits for a CTAS that may enclose it (Spark reports the CTAS right after).
CTAS_WAIT_SECONDS = 1.0


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
        self._capture.observe(qe, duration_ns, None)

    def onFailure(self, func_name, qe, exception):  # noqa: N802 (Java interface)
        self._capture.observe(qe, 0, exception)


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

    # -- callback side (Spark's listener bus thread) ---------------------------------------
    def observe(self, qe, duration_ns: int, error) -> None:
        try:
            snapshot = take_snapshot(self._jvm, qe, duration_ns, error)
        except Exception as exc:  # a plan shape capture cannot read: skip it, never fail Spark
            self._warn_once("snapshot", "could not read a query plan for lineage: %s", exc)
            return
        if snapshot is not None:
            self._queue.put(snapshot)

    # -- worker side -------------------------------------------------------------------------
    def _work(self) -> None:
        try:
            sent, pending = self.emitter.replay()
            if sent:
                log.info("replayed %d spooled lineage events (%d still pending)", sent, pending)
        except Exception as exc:
            self._warn_once("replay", "replaying spooled lineage events failed: %s", exc)
        held: QuerySnapshot | None = None  # a file write that may be the inside of a CTAS reported next
        while True:
            try:
                item = self._queue.get(timeout=CTAS_WAIT_SECONDS if held is not None else None)
            except queue.Empty:
                self._handle(held)
                held = None
                continue
            if held is not None:
                if isinstance(item, QuerySnapshot) and encloses(item, held):
                    # one write, reported once: as the CTAS, with the inner write's statistics
                    item = replace(item, metrics=held.metrics if item.error is None else {})
                    self._queue.task_done()
                else:
                    self._handle(held)
                held = None
            if item is _STOP or item is _FLUSH:
                self._queue.task_done()
                if item is _STOP:
                    return
                continue
            if isinstance(item, QuerySnapshot) and item.command == FILE_INSERT and item.output.table is None:
                held = item
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
        for event in query_events(snapshot, str(generate_new_uuid()), self.app, self.settings, lineage, problem):
            self.emitter.emit(event)
        self.queries += 1

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
        self._jmanager.register(self._jlistener)
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
        self._queue.put(_FLUSH)
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self._queue.unfinished_tasks

    def close(self, timeout: float = 30.0) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._jmanager is not None:
                self._jmanager.unregister(self._jlistener)
        except Exception:  # the JVM may already be gone at interpreter exit
            pass
        self._queue.put(application_event(RunState.COMPLETE, self.app, self.settings, int(time.time() * 1000)))
        self._queue.put(_STOP)
        self._worker.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.emitter.close()


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
        name=spark_conf.get("spark.app.name", "spark_application"),
        run_id=str(generate_new_uuid()),
        spark_version=spark.version,
        properties=spark_conf,
        namespace=settings.namespace,
        source=locate() if settings.facet_enabled("sourceCodeLocation") else None,
    )
    return Capture(app, settings, Emitter(settings.transport, settings.spool_dir)).start(spark)
