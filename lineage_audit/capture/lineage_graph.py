"""The machinery behind ``column_lineage``: a dependency graph between Catalyst attributes.

Catalyst gives every attribute a plan-wide unique ``exprId``. An attribute passed through a node
keeps its id, so only nodes that *define* attributes (an Alias in a Project/Aggregate/Window, a
Generate's outputs, a Union's or a CTE reference's outputs...) add edges ``defined id -> used id``
labelled with a Transformation. Nodes that only narrow or reorder rows (Filter, Join, Sort,
grouping keys...) add *dataset-level* INDIRECT dependencies instead. Resolving an id walks its edges
down to leaf attributes, composing transformations with ``Transformation.merge``; results are
memoised per id and computed iteratively, so wide and deep plans stay linear and never recurse.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator, Sequence

from lineage_audit.capture.plan import Expr, PlanNode, parse_expression, parse_plan

DIRECT = "DIRECT"
INDIRECT = "INDIRECT"
# The official precedence when two DIRECT transformations meet: the lower position wins.
SUBTYPE_ORDER = ("AGGREGATION", "TRANSFORMATION", "IDENTITY", "CONDITIONAL", "SORT", "GROUP_BY", "JOIN", "FILTER",
                 "WINDOW")
_RANK = {name: position for position, name in enumerate(SUBTYPE_ORDER)}

MASKING_FUNCTIONS = frozenset({"Sha1", "Sha2", "Md5", "Crc32", "Murmur3Hash", "XxHash64", "HiveHash"})
# Aggregates that count values: the result reveals how many, never which (masking, like Count).
COUNTING_AGGREGATES = frozenset({"Count", "CountIf", "HyperLogLogPlusPlus"})
# Ranking functions carry the window's ORDER BY as their children; that dependency is already the
# window spec's INDIRECT WINDOW, the function itself reads no column.
RANK_LIKE = frozenset({"Rank", "DenseRank", "PercentRank", "CumeDist", "RowNumber", "NTile"})
# Wrappers that neither change nor compute a value; nvl, nvl2 and nullif hold the expression Spark
# replaces them with (coalesce, If) as their only child, which is all the official listener sees.
TRANSPARENT = frozenset({"Alias", "SortOrder", "WindowSpecDefinition", "Nvl", "Nvl2", "NullIf"})


@dataclass(frozen=True)
class FieldRef:
    """One input column: the dataset's namespace and name, and the field name."""

    namespace: str
    dataset: str
    field: str


@dataclass(frozen=True)
class Transformation:
    """How an input field reaches an output (OpenLineage ``type``/``subtype``/``masking``)."""

    type: str
    subtype: str
    masking: bool = False
    description: str = ""

    def merge(self, other: "Transformation") -> "Transformation":
        """Compose along a path (self nearer the output): INDIRECT wins, else the stronger DIRECT."""
        if self.type == INDIRECT:
            winner = self
        elif other.type == INDIRECT:
            winner = other
        else:
            mine, theirs = _RANK.get(self.subtype, len(_RANK)), _RANK.get(other.subtype, len(_RANK))
            winner = self if mine <= theirs else other
        masking = self.masking or other.masking
        return winner if winner.masking == masking else replace(winner, masking=masking)


IDENTITY = Transformation(DIRECT, "IDENTITY")
TRANSFORMATION = Transformation(DIRECT, "TRANSFORMATION")
MASKED = Transformation(DIRECT, "TRANSFORMATION", masking=True)
AGGREGATION = Transformation(DIRECT, "AGGREGATION")
COUNT = Transformation(DIRECT, "AGGREGATION", masking=True)
CONDITIONAL = Transformation(INDIRECT, "CONDITIONAL")
WINDOW = Transformation(INDIRECT, "WINDOW")
FILTER = Transformation(INDIRECT, "FILTER")
JOIN = Transformation(INDIRECT, "JOIN")
GROUP_BY = Transformation(INDIRECT, "GROUP_BY")
SORT = Transformation(INDIRECT, "SORT")

Dep = tuple[int, Transformation]
# Per input field, its transformations keyed so that DIRECT ones collapse and INDIRECT subtypes stay apart.
FieldLineage = dict[FieldRef, dict[tuple[str, ...], Transformation]]


def add_transformation(target: FieldLineage, field: FieldRef, transformation: Transformation) -> None:
    """Record one path; DIRECT paths collapse to the strongest, INDIRECT ones per subtype.

    Masking holds only if every path masks: ``concat(sha2(email), email)`` exposes the email. (Along
    one path it is the other way round, see :meth:`Transformation.merge`.)
    """
    key = (DIRECT,) if transformation.type == DIRECT else (INDIRECT, transformation.subtype)
    known = target.setdefault(field, {})
    existing = known.get(key)
    if existing is None:
        known[key] = transformation
        return
    combined = existing.merge(transformation)
    masking = existing.masking and transformation.masking
    known[key] = combined if combined.masking == masking else replace(combined, masking=masking)


def attribute_ids(expr: Expr) -> list[int]:
    """Ids of an attribute, or of the attribute an OuterReference wraps (kept as a raw field there)."""
    if expr.name == "OuterReference":
        inner = expr.fields.get("e")
        return [a.expr_id for a in parse_expression(inner).attributes() if a.expr_id is not None] if inner else []
    return [expr.expr_id] if expr.expr_id is not None else []


def subquery_plan(expr: Expr) -> list | None:
    plan = expr.fields.get("plan")
    return plan if isinstance(plan, list) and plan and isinstance(plan[0], dict) else None


class LineageGraph:
    """Edges between attribute ids, leaf fields, and the resolution of ids to input fields."""

    def __init__(self, leaves: Sequence[tuple[str, str] | None]):
        self._leaves: Iterator[tuple[str, str] | None] = iter(leaves)
        self.edges: dict[int, list[Dep]] = {}
        self.leaf_fields: dict[int, FieldRef] = {}
        self.subqueries: dict[int, list[Dep]] = {}  # id(Expr) -> what the subquery expression depends on
        self.cte_outputs: dict[int, list[int | None]] = {}
        self.cte_refs: list[tuple[list[int | None], int]] = []
        self._memo: dict[int, FieldLineage] = {}

    def add_edge(self, target: int | None, source: int | None, transformation: Transformation) -> None:
        if target is not None and source is not None and target != source:
            self.edges.setdefault(target, []).append((source, transformation))

    def register_leaves(self, nodes: list[PlanNode]) -> None:
        """Give each leaf (pre-order) its input dataset, consuming the caller's ``leaves`` in order."""
        for node in nodes:
            if node.children:
                continue
            dataset = next(self._leaves, None)
            if dataset is None:
                continue
            namespace, name = dataset
            for attr in node.expression_list("output"):
                if attr.expr_id is not None and attr.label is not None:
                    self.leaf_fields[attr.expr_id] = FieldRef(namespace, name, attr.label)

    def scan_subqueries(self, nodes: list[PlanNode], add_plan) -> None:
        """Parse subquery plans in a fixed order (nodes pre-order, fields in JSON order, expressions
        pre-order), so that their leaves take the caller's ``leaves`` after the main plan's."""
        for node in nodes:
            for exprs in node.expressions.values():
                for expr in exprs:
                    for sub in expr.walk():
                        plan = subquery_plan(sub)
                        if plan is not None:
                            outputs, dataset = add_plan(parse_plan(plan))
                            # EXISTS only tests for rows: what the subquery selects does not flow.
                            used = [] if sub.name == "Exists" else [(i, TRANSFORMATION) for i, _ in outputs]
                            self.subqueries[id(sub)] = used + dataset

    def dependencies(self, expr: Expr, context: Transformation) -> list[Dep]:
        """The attribute ids ``expr`` reads, each with the transformation composed from ``context``."""
        found: list[Dep] = []
        # Each entry carries the common-expression definitions in scope (see _shared_definitions).
        stack: list[tuple[Expr, Transformation, tuple[Expr, ...]]] = [(expr, context, ())]
        while stack:
            node, ctx, shared = stack.pop()
            name = node.name
            if name in ("AttributeReference", "OuterReference"):
                found.extend((i, ctx) for i in attribute_ids(node))
            elif name == "With" and node.children:
                stack.append((node.children[0], ctx, tuple(node.children[1:])))
            elif name == "CommonExpressionRef":
                stack.extend((definition, ctx, ()) for definition in _shared_definitions(node, shared))
            else:
                found.extend((i, ctx.merge(t)) for i, t in self.subqueries.get(id(node), ()))
                stack.extend((child, child_ctx, shared) for child, child_ctx in _children_in_context(node, ctx))
        return found

    def lineage_of(self, expr_id: int) -> FieldLineage:
        """Input fields reaching ``expr_id``: an iterative post-order walk, memoised per id."""
        memo = self._memo
        if expr_id in memo:
            return memo[expr_id]
        on_path: set[int] = set()
        stack: list[tuple[int, bool]] = [(expr_id, False)]
        while stack:
            current, expanded = stack.pop()
            if expanded:
                on_path.discard(current)
                memo[current] = self._combine(current)
                continue
            if current in memo or current in on_path:
                continue
            on_path.add(current)
            stack.append((current, True))
            # A child already on the path would be a cycle (only malformed plans): it is skipped.
            stack.extend((child, False) for child, _ in self.edges.get(current, ()) if child not in memo
                         and child not in on_path)
        return memo[expr_id]

    def _combine(self, expr_id: int) -> FieldLineage:
        result: FieldLineage = {}
        if expr_id in self.leaf_fields:
            add_transformation(result, self.leaf_fields[expr_id], IDENTITY)
        for child, transformation in self.edges.get(expr_id, ()):
            for field, known in self._memo.get(child, {}).items():
                for inner in known.values():
                    add_transformation(result, field, transformation.merge(inner))
        return result


def _children_in_context(node: Expr, ctx: Transformation) -> list[tuple[Expr, Transformation]]:
    """The children of ``node`` that reach its value, each with its composed transformation."""
    name, children = node.name, node.children
    if name in TRANSPARENT:
        return [(child, ctx) for child in children]
    if name in RANK_LIKE:
        return []
    if name == "AggregateExpression" and children:
        inner = ctx.merge(COUNT if children[0].name in COUNTING_AGGREGATES else AGGREGATION)
        # sum(x) FILTER (WHERE cond): cond picks the rows aggregated, as a CASE WHEN would
        return [(children[0], inner)] + [(child, inner.merge(CONDITIONAL)) for child in children[1:]]
    if name in ("CaseWhen", "If"):
        return _conditional_children(node, ctx)
    if name == "Coalesce":
        return _coalesce_children(node, ctx)
    if name == "WindowExpression" and len(children) == 2:
        return [(children[0], ctx), (children[1], ctx.merge(WINDOW))]
    if name == "PivotFirst" and len(children) >= 2:
        # Pivot: the pivot column only chooses which output column a value lands in.
        return [(children[0], ctx.merge(CONDITIONAL))] + [(child, ctx) for child in children[1:]]
    inner = ctx.merge(MASKED if name in MASKING_FUNCTIONS else TRANSFORMATION)
    return [(child, inner) for child in children]


def _conditional_children(node: Expr, ctx: Transformation) -> list[tuple[Expr, Transformation]]:
    """CASE WHEN (c1, v1, c2, v2, ..., [else]) and If (c, t, f): conditions are INDIRECT CONDITIONAL,
    values a TRANSFORMATION (a bare attribute too: the official listener says so since 1.x)."""
    children = node.children
    if node.name == "If":
        conditions = {0}
    else:
        branch_items = len(children) - (len(children) % 2)
        conditions = set(range(0, branch_items, 2))
    condition_ctx, value_ctx = ctx.merge(CONDITIONAL), ctx.merge(TRANSFORMATION)
    return [(child, condition_ctx if index in conditions else value_ctx) for index, child in enumerate(children)]


def _coalesce_children(node: Expr, ctx: Transformation) -> list[tuple[Expr, Transformation]]:
    """coalesce / nvl / ifnull (and a full outer join's USING key): each argument both decides
    whether the next one is looked at (INDIRECT CONDITIONAL) and may be the value (TRANSFORMATION).

    As Spark's optimizer does before the official listener sees the plan, arguments after one that
    is never null are dropped, and a coalesce of one argument is that argument.
    """
    kept: list[Expr] = []
    for child in node.children:
        kept.append(child)
        if _never_null(child):
            break
    if len(kept) == 1:
        return [(kept[0], ctx)]
    condition_ctx, value_ctx = ctx.merge(CONDITIONAL), ctx.merge(TRANSFORMATION)
    return [pair for child in kept for pair in ((child, condition_ctx), (child, value_ctx))]


def _never_null(expr: Expr) -> bool:
    if expr.name == "Literal":
        return expr.fields.get("value") is not None
    return expr.name == "AttributeReference" and expr.fields.get("nullable") is False


def _shared_definitions(ref: Expr, shared: tuple[Expr, ...]) -> list[Expr]:
    """What a CommonExpressionRef stands for: the expression of its CommonExpressionDef.

    Spark 4 rewrites nullif(a, b) as ``With(If(EqualTo(ref, b), null, ref), def(a))`` so that ``a``
    is computed once; the optimizer inlines it again before the official listener looks. Catalyst's
    JSON leaves the ids out, so a reference whose id is unknown reads every definition in scope.
    """
    wanted = ref.fields.get("id")
    matching = [d for d in shared if wanted is not None and d.fields.get("id") == wanted]
    return [child for definition in (matching or shared) for child in definition.children]
