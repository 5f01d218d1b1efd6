"""The one place a SparkSession is built.

``build_session`` applies ``spark-defaults.conf`` when the job was started with plain ``python``;
under ``spark-submit`` the submitted properties are the user's choice and are left alone.

>>> parse_properties("spark.master  local[2]\\n# comment\\nspark.ui.enabled false\\n")
{'spark.master': 'local[2]', 'spark.ui.enabled': 'false'}
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path
from typing import Mapping

from pyspark.sql import SparkSession

from lineage_audit.config import PROJECT_ROOT

SPARK_DEFAULTS = PROJECT_ROOT / "spark-defaults.conf"
DELTA_PACKAGE = "io.delta:delta-spark_2.13:4.0.0"
DELTA_SKIP_REASON = (
    "delta-spark JARs are not on the classpath "
    f"(needs spark.jars.packages={DELTA_PACKAGE}, from Maven Central or a local cache)"
)
_LOG4J_OPTION = re.compile(r"(-Dlog4j2\.configurationFile=)(\S+)")


def parse_properties(text: str) -> dict[str, str]:
    """Parse Spark's properties-file format: ``key<whitespace>value``, ``#`` comments."""
    props = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, *rest = line.split(None, 1)
        props[key] = rest[0].strip() if rest else ""
    return props


def _absolute_log4j(options: str) -> str:
    """Make a relative log4j2 path absolute, so jobs may start from any working directory."""

    def fix(match: re.Match) -> str:
        path = match.group(2)
        if "://" in path or Path(path).is_absolute():
            return match.group(0)
        return match.group(1) + str(PROJECT_ROOT / path)

    return _LOG4J_OPTION.sub(fix, options)


def default_properties(path: Path = SPARK_DEFAULTS) -> dict[str, str]:
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
    jobs run the same from a virtualenv whether or not it is activated. Capture follows the
    ``spark.openlineage.*`` settings (and stands down for the official listener); a failure to
    install it is logged and never stops the job.
    """
    builder = SparkSession.builder.appName(app_name)
    settings: dict[str, str] = {}
    if not launched_by_spark_submit():
        settings.update(default_properties())
        settings.setdefault("spark.pyspark.python", sys.executable)
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if capture:
        _install_capture(session)
    return session


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
