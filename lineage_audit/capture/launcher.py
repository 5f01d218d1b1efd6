"""Run an unmodified PySpark script with lineage capture: ``lineage-audit submit script.py [args]``.

PySpark has no hook that runs when a script builds its session, so for the duration of the
script the launcher wraps ``SparkSession.Builder.getOrCreate``: the ``--conf`` pairs are
applied to the builder (as spark-submit would) and capture is installed on the session it
returns. The script itself runs as ``__main__`` with its own arguments, as under spark-submit.
"""

from __future__ import annotations

import contextlib
import logging
import runpy
import sys
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from pyspark.sql import SparkSession

from lineage_audit.capture.listener import Capture, install

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


@contextlib.contextmanager
def capturing_sessions(conf: Mapping[str, str]) -> Iterator[list[Capture]]:
    """Within the block, every session built by a builder gets ``conf`` and capture."""
    captures: list[Capture] = []
    original = SparkSession.Builder.getOrCreate

    def get_or_create(builder: SparkSession.Builder) -> SparkSession:
        for key, value in conf.items():
            builder = builder.config(key, value)
        session = original(builder)
        if not captures:
            try:
                capture = install(session, conf)
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
        with capturing_sessions(conf) as captures:
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
