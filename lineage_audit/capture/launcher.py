"""Run an unmodified PySpark script with lineage capture: ``lineage-audit submit script.py [args]``.

PySpark has no hook that runs when a script builds its session, so for the duration of the
script the launcher wraps ``SparkSession.Builder.getOrCreate``. As under spark-submit, the
``--conf`` pairs apply where the script's builder sets nothing (the script's own ``config`` wins),
and a script that names no application is named after its file. The capture is the one
``LINEAGE_AUDIT_CAPTURE`` chooses (``capture/choice.py``): the official listener gets its JARs,
its journal transport and a forwarder, as ``lineage_audit.spark.build_session`` gives them; the
built-in one is installed on the session. The script itself runs as ``__main__`` with its own
arguments.
"""

from __future__ import annotations

import contextlib
import logging
import os
import runpy
import sys
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from pyspark.sql import SparkSession

from lineage_audit.capture.choice import choose, spark_properties, start_forwarder
from lineage_audit.capture.journal import new_journal
from lineage_audit.capture.listener import Capture, install
from lineage_audit.capture.settings import resolve_settings
from lineage_audit.config import table_format

log = logging.getLogger(__name__)


def parse_conf_pairs(pairs: Sequence[str]) -> dict[str, str]:
    """``["k=v", ...]`` as spark-submit's ``--conf`` takes them."""
    conf = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--conf expects KEY=VALUE, got {pair!r}")
        conf[key.strip()] = value
    return conf


def submitted_properties(script_options: Mapping[str, str], conf: Mapping[str, str],
                         script_name: str) -> dict[str, str]:
    """What a session gets under spark-submit: ``--conf`` below the script's own settings.

    >>> submitted_properties({"spark.app.name": "Mine", "spark.sql.shuffle.partitions": "4"},
    ...                      {"spark.sql.shuffle.partitions": "8", "spark.ui.enabled": "false"}, "job.py")
    {'spark.sql.shuffle.partitions': '4', 'spark.ui.enabled': 'false', 'spark.app.name': 'Mine'}
    >>> submitted_properties({}, {}, "job.py")
    {'spark.app.name': 'job.py'}
    """
    props = {**conf, **script_options}
    props.setdefault("spark.app.name", script_name)
    return props


def _official_session(builder: SparkSession.Builder, original, props: dict[str, str], choice) -> SparkSession:
    """A session with the official listener writing to a journal, and the journal's forwarder."""
    forward_to = resolve_settings(props)
    if forward_to.disabled:
        return original(_configured(builder, spark_properties(props, choice, False, None, table_format())))
    journal = new_journal(forward_to.spool_dir, props["spark.app.name"])
    session = original(_configured(builder, spark_properties(props, choice, True, journal, table_format())))
    start_forwarder(session, journal, forward_to)
    return session


def _configured(builder: SparkSession.Builder, props: Mapping[str, str]) -> SparkSession.Builder:
    # The builder keeps its settings in _options; a key the capture choice dropped (another
    # listener, Delta's catalog) must leave it, since config() can only add.
    for key in [k for k in builder._options if k not in props]:
        del builder._options[key]
    for key, value in props.items():
        builder = builder.config(key, value)
    return builder


@contextlib.contextmanager
def capturing_sessions(conf: Mapping[str, str], script_name: str = "pyspark-shell") -> Iterator[list[Capture]]:
    """Within the block, every session built by a builder gets ``conf`` and the chosen capture."""
    captures: list[Capture] = []
    started: list[bool] = []
    original = SparkSession.Builder.getOrCreate
    choice = choose(os.environ)

    def get_or_create(builder: SparkSession.Builder) -> SparkSession:
        props = submitted_properties({k: str(v) for k, v in builder._options.items()}, conf, script_name)
        if started:  # the capture goes on the first session; later ones share its context
            return original(_configured(builder, props))
        started.append(True)
        if choice.official:
            return _official_session(builder, original, props, choice)
        session = original(_configured(builder, props))
        try:
            capture = install(session, props)
        except Exception as exc:  # capture must never stop the script
            log.warning("lineage capture could not be installed: %s", exc)
            capture = None
        if capture is not None:
            captures.append(capture)
        return session

    SparkSession.Builder.getOrCreate = get_or_create
    try:
        yield captures
    finally:
        SparkSession.Builder.getOrCreate = original
        for capture in captures:
            capture.close()


def submit(script: str | Path, args: Sequence[str], conf: Mapping[str, str]) -> int:
    """Run ``script`` as ``__main__`` with capture; returns its exit status."""
    path = Path(script)
    if not path.is_file():
        print(f"lineage-audit submit: no such script: {path}", file=sys.stderr)
        return 2
    saved_argv = sys.argv
    sys.argv = [str(path), *args]
    sys.path.insert(0, str(path.resolve().parent))
    try:
        with capturing_sessions(conf, path.name) as captures:
            try:
                runpy.run_path(str(path), run_name="__main__")
                status = 0
            except SystemExit as done:
                status = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            for capture in captures:
                capture.flush()
        return status
    finally:
        sys.argv = saved_argv
        sys.path.remove(str(path.resolve().parent))
