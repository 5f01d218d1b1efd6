"""The built-in capture against the official listener on the same work: every disagreement must be
known (lineage_audit/differential/registry.py), and none may be a ``builtin-bug``.

The eight jobs come from the session's ``pipeline_run`` and ``official_pipeline_run`` (shared with
other tests); the query shapes and extra shapes run here once per capture (one application for the
shapes, one for Delta; ``LINEAGE_AUDIT_TEST_SHAPES_DIR=<dir>`` reuses a finished ``<dir>/builtin`` and
``<dir>/official``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lineage_audit.differential.cases import CAPTURES, run_shapes, shapes_cases, spooled_events
from lineage_audit.differential.compare import CaseResult, compare_case
from lineage_audit.differential.report import classify_all
from tests.capture.test_column_lineage import CASES
from tests.differential.shapes_app import NOT_WRITTEN

pytestmark = [pytest.mark.e2e, pytest.mark.delta]


@pytest.fixture(scope="session")
def shapes_runs(tmp_path_factory, lineage_server_nobody_listens_on) -> Path:
    reuse = os.environ.get("LINEAGE_AUDIT_TEST_SHAPES_DIR")
    if reuse:
        return Path(reuse)
    root = tmp_path_factory.mktemp("differential-shapes")
    for capture in CAPTURES:
        run_shapes(root / capture, capture, lineage_server_nobody_listens_on / "spark-defaults.conf")
    return root


def _problems(result: CaseResult) -> list[str]:
    """Each disagreement left unclassified or classified builtin-bug, one line each."""
    lines = []
    for d, known in classify_all([result]).items():
        if known is None or known.verdict == "builtin-bug":
            verdict = "unclassified" if known is None else "builtin-bug: " + known.reason[:80]
            lines.append(f"{d.aspect} | {d.key} | {d.builtin!r:.150} | {d.official!r:.150} | {verdict}")
    return lines


def _assert_known(result: CaseResult) -> None:
    problems = _problems(result)
    assert not problems, f"{len(problems)} of {len(result.disagreements)} disagreements in {result.case}:\n" + \
        "\n".join(problems[:40])


def test_the_eight_jobs_differ_only_in_known_ways(pipeline_run, official_pipeline_run):
    result = compare_case("eight-jobs", spooled_events(pipeline_run), spooled_events(official_pipeline_run),
                          [pipeline_run], [official_pipeline_run])
    assert result.agreed["outputs"] >= 30  # the jobs' writes were paired, not merely both absent
    _assert_known(result)


@pytest.mark.parametrize("case", ["query-shapes", "extra-shapes", "delta"])
def test_the_shapes_differ_only_in_known_ways(shapes_runs, case):
    (events,) = [c for c in shapes_cases(shapes_runs / "builtin", shapes_runs / "official") if c.case == case]
    result = compare_case(case, events.builtin, events.official, [events.builtin_dir], [events.official_dir])
    if case == "query-shapes":  # every shape's write (and the three tables) paired under both captures
        assert result.agreed["run"] >= len(CASES) - len(NOT_WRITTEN) + 3
    else:
        assert result.compared > 0 and events.builtin and events.official
    _assert_known(result)
