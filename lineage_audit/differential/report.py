"""The comparison as Markdown: per case, agreeing and disagreeing comparisons per aspect, then each
disagreement with its class and the reason the registry gives.

>>> from lineage_audit.differential.compare import CaseResult
>>> result = CaseResult("demo", 2, 2)
>>> result.check("job-name", "output file t", "a.execute_x.t", "a.adaptive_spark_plan.t")
>>> result.check("event-types", "output file t", ["START"], ["START"])
>>> print(render_case(result, classify_all([result], registry=())))  # doctest: +NORMALIZE_WHITESPACE
### demo
<BLANKLINE>
Events: 2 built-in, 2 official. Comparisons: 2, agreeing 1, disagreeing 1.
<BLANKLINE>
| aspect | agree | disagree |
| --- | ---: | ---: |
| event-types | 1 | 0 |
| job-name | 0 | 1 |
<BLANKLINE>
| aspect | key | built-in | official | class | reason |
| --- | --- | --- | --- | --- | --- |
| job-name | output file t | `"a.execute_x.t"` | `"a.adaptive_spark_plan.t"` | **unclassified** |  |
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterable, Sequence

from lineage_audit.differential.compare import ASPECTS, CaseResult, Disagreement
from lineage_audit.differential.known import KnownDifference, classify
from lineage_audit.differential.registry import KNOWN_DIFFERENCES

UNCLASSIFIED = "unclassified"
CELL_LIMIT = 160  # characters of a value shown in a table cell; the rest is elided


def classify_all(results: Iterable[CaseResult], registry: Sequence[KnownDifference] = KNOWN_DIFFERENCES
                 ) -> dict[Disagreement, KnownDifference | None]:
    """Each disagreement with the first registry entry that matches it (None: unclassified)."""
    return {d: classify(d, registry) for result in results for d in result.disagreements}


def class_counts(verdicts: dict[Disagreement, KnownDifference | None]) -> Counter:
    return Counter(UNCLASSIFIED if known is None else known.verdict for known in verdicts.values())


def _cell(value: Any) -> str:
    text = "—" if value is None else json.dumps(value, ensure_ascii=False)
    if len(text) > CELL_LIMIT:
        text = text[:CELL_LIMIT] + " …"
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`" if value is not None else text


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_case(result: CaseResult, verdicts: dict[Disagreement, KnownDifference | None]) -> str:
    disagreeing = Counter(d.aspect for d in result.disagreements)
    lines = [f"### {result.case}", "",
             f"Events: {result.builtin_events} built-in, {result.official_events} official. "
             f"Comparisons: {result.compared}, agreeing {sum(result.agreed.values())}, "
             f"disagreeing {len(result.disagreements)}.", "",
             "| aspect | agree | disagree |", "| --- | ---: | ---: |"]
    for aspect in ASPECTS:
        if result.agreed[aspect] or disagreeing[aspect]:
            lines.append(f"| {aspect} | {result.agreed[aspect]} | {disagreeing[aspect]} |")
    if result.disagreements:
        lines += ["", "| aspect | key | built-in | official | class | reason |",
                  "| --- | --- | --- | --- | --- | --- |"]
    for d in result.disagreements:
        known = verdicts.get(d)
        verdict = f"**{UNCLASSIFIED}**" if known is None else known.verdict
        reason = "" if known is None else known.explanation()
        lines.append(f"| {d.aspect} | {_escape(d.key)} | {_cell(d.builtin)} | {_cell(d.official)} | {verdict} | "
                     f"{_escape(reason)} |")
    return "\n".join(lines)


def render_report(results: Sequence[CaseResult], header: Sequence[str],
                  registry: Sequence[KnownDifference] = KNOWN_DIFFERENCES) -> str:
    """The whole document: ``header`` lines (title, versions, date), totals, then each case."""
    verdicts = classify_all(results, registry)
    counts = class_counts(verdicts)
    compared = sum(r.compared for r in results)
    agreed = sum(sum(r.agreed.values()) for r in results)
    lines = [*header, "", "## Totals", "",
             "| case | built-in events | official events | comparisons | agree | disagree |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        lines.append(f"| {r.case} | {r.builtin_events} | {r.official_events} | {r.compared} | "
                     f"{sum(r.agreed.values())} | {len(r.disagreements)} |")
    lines += ["", f"{len(results)} cases, {compared} comparisons: {agreed} agree, {compared - agreed} disagree.", "",
              "| class | disagreements |", "| --- | ---: |"]
    for verdict in ("builtin-bug", "official-bug", "accepted", UNCLASSIFIED):
        lines.append(f"| {verdict} | {counts.get(verdict, 0)} |")
    lines += ["", "## Cases", ""]
    for r in results:
        lines += [render_case(r, verdicts), ""]
    return "\n".join(lines)
