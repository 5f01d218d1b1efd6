"""The registry of known differences between the built-in capture and the official listener.

Each :class:`KnownDifference` matches disagreements by case (a glob), aspect (a glob) and key (a
regular expression searched in the key), optionally by the two values, and gives a verdict:

- ``builtin-bug``: the built-in capture is wrong and must be fixed; the differential test fails
  while one is left.
- ``official-bug``: the official listener is wrong; the built-in keeps its behaviour. ``reference``
  cites the upstream issue where one was found, else ``reason`` gives the evidence.
- ``accepted``: a difference both sides may have; ``reason`` says why it is fine.

The first matching entry wins, so narrow entries come before broad ones. The entries themselves
are in :mod:`lineage_audit.differential.registry`.

>>> from lineage_audit.differential.compare import Disagreement
>>> entry = KnownDifference("*", "job-name", r"^output ", "accepted", "names differ",
...                         when=lambda d: "adaptive_spark_plan" in str(d.official))
>>> classify(Disagreement("eight-jobs", "job-name", "output file t", "a.execute_x.t", "a.adaptive_spark_plan.t"),
...          [entry]).verdict
'accepted'
>>> classify(Disagreement("eight-jobs", "job-name", "output file t", "a.execute_x.t", "a.other.t"), [entry]) is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Callable, Sequence

VERDICTS = ("builtin-bug", "official-bug", "accepted")


@dataclass(frozen=True)
class KnownDifference:
    case: str  # glob over case names
    aspect: str  # glob over aspects
    key: str  # regular expression, searched in the disagreement's key
    verdict: str  # one of VERDICTS
    reason: str
    reference: str = ""  # an upstream issue URL, for official-bug entries
    when: Callable | None = None  # extra test on the Disagreement (its values), when the key is not enough

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not one of {VERDICTS}")
        re.compile(self.key)

    def matches(self, disagreement) -> bool:
        return (fnmatchcase(disagreement.case, self.case) and fnmatchcase(disagreement.aspect, self.aspect)
                and re.search(self.key, disagreement.key) is not None
                and (self.when is None or bool(self.when(disagreement))))

    def explanation(self) -> str:
        return f"{self.reason} ({self.reference})" if self.reference else self.reason


def classify(disagreement, registry: Sequence[KnownDifference]) -> KnownDifference | None:
    """The first entry of ``registry`` matching ``disagreement``, or None."""
    return next((entry for entry in registry if entry.matches(disagreement)), None)
