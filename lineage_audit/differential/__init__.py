"""The differential suite: the built-in capture against the official OpenLineage listener, on the same work.

``normalise`` takes out what must differ between two runs; ``compare`` pairs runs and compares them
aspect by aspect into :class:`~compare.Disagreement` records; ``known`` and ``registry`` classify each
(``builtin-bug``, ``official-bug`` or ``accepted``); ``report`` renders Markdown; ``cases`` runs the
same work under both captures; ``python -m lineage_audit.differential`` does it all
(``make compare-captures``).
"""

from lineage_audit.differential.compare import CaseResult, Disagreement, compare_case
from lineage_audit.differential.known import KnownDifference, classify
from lineage_audit.differential.normalise import normalise, runs_of

__all__ = ["CaseResult", "Disagreement", "KnownDifference", "classify", "compare_case", "normalise", "runs_of"]
