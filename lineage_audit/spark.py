"""The one place a SparkSession is built.

``build_session`` applies ``spark-defaults.conf`` when the job was started with plain ``python``;
under ``spark-submit`` the submitted properties are the user's choice, and only what the capture
choice needs is set on top of them (the listener added or removed, the journal transport).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path
from typing import Mapping

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

from lineage_audit.capture.choice import CAPTURE_ENV, CaptureChoice, choose, spark_properties, start_forwarder
from lineage_audit.capture.journal import new_journal
from lineage_audit.capture.settings import resolve_settings
from lineage_audit.config import PROJECT_ROOT, parse_properties, spark_defaults, table_format

__all__ = ["DELTA_MISSING", "build_session", "default_properties", "delta_available", "parse_properties"]

DELTA_MISSING = "the delta-spark JARs are not fetched: run `make jars` (Maven Central, once)"
_LOG4J_OPTION = re.compile(r"(-Dlog4j2\.configurationFile=)(\S+)")


def _absolute_log4j(options: str) -> str:
    """Make a relative log4j2 path absolute, so jobs may start from any working directory."""

    def fix(match: re.Match) -> str:
        path = match.group(2)
        if "://" in path or Path(path).is_absolute():
            return match.group(0)
        return match.group(1) + str(PROJECT_ROOT / path)

    return _LOG4J_OPTION.sub(fix, options)


def default_properties(path: Path | None = None) -> dict[str, str]:
    path = path or spark_defaults()
    props = parse_properties(path.read_text()) if path.exists() else {}
    for key in ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions"):
        if key in props:
            props[key] = _absolute_log4j(props[key])
    return props


def launched_by_spark_submit() -> bool:
    """True when spark-submit started this Python process (it hands over a running JVM)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def build_session(app_name: str, conf: Mapping[str, str] | None = None, capture: bool = True) -> SparkSession:
    """Build (or reuse) the SparkSession for ``app_name``, with lineage capture installed.

    ``conf`` entries beat ``spark-defaults.conf``. Python workers use this interpreter, so
    jobs run the same from a virtualenv whether or not it is activated. The capture is chosen by
    ``LINEAGE_AUDIT_CAPTURE`` (see ``capture/choice.py``): the official OpenLineage listener when
    its JAR is fetched, else the built-in one; never both. ``capture=False`` builds a session with
    neither (Delta still on where its JARs are). A failure to install capture is logged and never
    stops the job.
    """
    builder = SparkSession.builder.appName(app_name)
    settings: dict[str, str] = {}
    submitted: dict[str, str] = {}
    if launched_by_spark_submit():  # spark-submit's properties are in the JVM already
        # Before a SparkContext, a SparkConf is a bare Python dict: connect to the JVM first.
        SparkContext._ensure_initialized()
        submitted = dict(SparkConf(loadDefaults=True).getAll())
    else:
        settings.update(default_properties())
        settings.setdefault("spark.pyspark.python", sys.executable)
    settings.update(conf or {})
    choice = _capture_choice()
    capture = capture and choice.enabled  # LINEAGE_AUDIT_CAPTURE=none: no listener at all
    journal, forward_to = None, None
    if capture and choice.official:
        forward_to = resolve_settings({**submitted, **settings})
        if forward_to.disabled:
            capture = False
        else:
            journal = new_journal(forward_to.spool_dir, app_name)
    adjusted = spark_properties({**submitted, **settings}, choice, capture, journal, table_format())
    for key, value in adjusted.items():
        if submitted.get(key) != value:
            builder = builder.config(key, value)
    for key in submitted.keys() - adjusted.keys():  # dropped by the choice: the listener, Delta's catalog
        # spark-submit hands its properties over as JVM system properties, which the session's
        # SparkConf reads when getOrCreate makes it: an unset key must leave there.
        SparkContext._jvm.java.lang.System.clearProperty(key)
    session = builder.getOrCreate()
    if capture and journal is not None:
        start_forwarder(session, journal, forward_to)
    elif capture:
        _install_capture(session)
    return session


def _capture_choice() -> CaptureChoice:
    choice = choose(os.environ)
    if choice.reason and os.environ.get(CAPTURE_ENV, "").strip().lower() == "official":
        logging.getLogger(__name__).warning("%s; using the built-in capture", choice.reason)
    return choice


def _install_capture(session: SparkSession) -> None:
    try:
        from lineage_audit.capture.listener import install

        install(session)
    except Exception as exc:  # lineage must never be the reason a job fails
        logging.getLogger(__name__).warning("lineage capture could not be installed: %s", exc)


def delta_available(spark: SparkSession) -> bool:
    """Whether the Delta Lake classes can be loaded by this session's JVM."""
    try:
        spark.sparkContext._jvm.java.lang.Class.forName(
            "io.delta.tables.DeltaTable", False, spark.sparkContext._jvm.Thread.currentThread().getContextClassLoader()
        )
        return True
    except Exception:  # py4j raises a generic Py4JJavaError for ClassNotFoundException
        return False
