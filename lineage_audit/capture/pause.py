"""Pausing lineage capture around work a job publishes in another form.

A Spark ML model is saved as a dozen small writes (the pipeline's metadata, each stage's metadata
and data) into folders named after the stages. Captured one by one they would make a dozen jobs
and datasets that say nothing a reader of the lineage needs. The job instead saves the model's
files with capture paused and publishes the model as one captured write, its model card (see
``JobRun.save_model``).

:func:`capture_paused` pauses whichever capture runs: the official OpenLineage listener is taken
off Spark's listener bus and put back; the built-in capture ignores the queries in between. Spark
delivers listener events asynchronously, so the bus is drained before the pause (every earlier
query reaches the capture) and before the resumption (no paused query does).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

from lineage_audit.capture import listener as builtin

OFFICIAL_LISTENER = "io.openlineage.spark.agent.OpenLineageSparkListener"
DRAIN_MILLIS = 60_000
log = logging.getLogger(__name__)


def _drain(bus) -> None:
    try:
        bus.waitUntilEmpty(DRAIN_MILLIS)
    except Exception as exc:  # a timeout: events still queued keep their order, nothing is lost
        log.warning("Spark's listener bus did not drain before pausing capture: %s", exc)


@contextmanager
def capture_paused(spark) -> Iterator[None]:
    """No lineage is captured for the Spark work done inside the block."""
    sc = spark.sparkContext._jsc.sc()
    bus = sc.listenerBus()
    _drain(bus)
    official = [listener for listener in bus.listeners() if listener.getClass().getName() == OFFICIAL_LISTENER]
    for listener in official:
        sc.removeSparkListener(listener)
    capture = builtin.ACTIVE
    if capture is not None:
        capture.paused = True
    try:
        yield
    finally:
        _drain(bus)
        if capture is not None:
            capture.paused = False
        for listener in official:
            sc.addSparkListener(listener)
