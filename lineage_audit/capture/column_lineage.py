"""Column-level lineage of a written Spark plan, with the official OpenLineage listener's semantics.

``column_lineage`` maps every written column to the input fields it is computed from (DIRECT:
IDENTITY / TRANSFORMATION / AGGREGATION, masking for hashes and counts; INDIRECT CONDITIONAL and
WINDOW on a single column) and collects the INDIRECT dependencies that shape the whole output
(FILTER, JOIN, GROUP_BY, SORT). ``to_facet_dict`` renders the ColumnLineageDatasetFacet 1-2-0 body.

>>> from lineage_audit.capture.plan import parse_plan
>>> def attr(name, i):
...     return {"class": "org.apache.spark.sql.catalyst.expressions.AttributeReference", "num-children": 0,
...             "name": name, "exprId": {"id": i}}
>>> upper = [{"class": "org.apache.spark.sql.catalyst.expressions.Alias", "num-children": 1, "name": "up",
...           "exprId": {"id": 9}, "child": 0},
...          {"class": "org.apache.spark.sql.catalyst.expressions.Upper", "num-children": 1, "child": 0},
...          attr("name", 1)]
>>> plan = parse_plan([{"class": "org.apache.spark.sql.catalyst.plans.logical.Project", "num-children": 1,
...                     "projectList": [[attr("id", 0)], upper]},
...                    {"class": "org.apache.spark.sql.execution.datasources.LogicalRelation", "num-children": 0,
...                     "output": [[attr("id", 0)], [attr("name", 1)]]}])
>>> lineage = column_lineage(plan, ["id", "up"], [("file", "/data/people")])
>>> [(f.field, t.subtype) for f, ts in lineage.fields["up"].items() for t in ts]
[('name', 'TRANSFORMATION')]
>>> to_facet_dict(lineage)["fields"]["id"]["inputFields"][0]["transformations"][0]["subtype"]
'IDENTITY'
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Mapping, Sequence

from lineage_audit.capture.lineage_graph import (
    DIRECT,
    FILTER,
    GROUP_BY,
    IDENTITY,
    JOIN,
    SORT,
    SUBTYPE_ORDER,
    TRANSFORMATION,
    Dep,
    FieldLineage,
    FieldRef,
    LineageGraph,
    Transformation,
    add_transformation,
)
from lineage_audit.capture.plan import Expr, PlanNode, parse_expression

__all__ = ["ColumnLineage", "FieldRef", "Transformation", "column_lineage", "to_facet_dict"]

Output = list[tuple[int | None, str | None]]
FrozenLineage = Mapping[FieldRef, frozenset[Transformation]]

_DEFINING = {"Project": "projectList", "Aggregate": "aggregateExpressions", "Window": "windowExpressions"}
_ROW_SHAPING = {"Filter": ("condition", FILTER), "Join": ("condition", JOIN), "Sort": ("order", SORT),
                "Deduplicate": ("keys", GROUP_BY), "Aggregate": ("groupingExpressions", GROUP_BY)}
# Nodes whose outputs are fully explained by a handler below; anything else goes to the fallback.
_HANDLED = frozenset({*_DEFINING, *_ROW_SHAPING, "Distinct", "Union", "Intersect", "Except", "Generate", "Expand",
                      "CTERelationDef", "CTERelationRef"})


@dataclass(frozen=True)
class ColumnLineage:
    """Per output column its input fields and transformations; ``dataset``: whole-output INDIRECT ones."""

    fields: Mapping[str, FrozenLineage]
    dataset: FrozenLineage


def column_lineage(
    query: PlanNode, output_columns: Sequence[str], leaves: Sequence[tuple[str, str] | None]
) -> ColumnLineage:
    """Column lineage of ``query`` (the plan a write command writes) for the columns it writes.

    ``output_columns`` are the written names, positionally matching ``query``'s output attributes.
    ``leaves`` gives, for each leaf of ``query`` in pre-order (Scala's ``plan.collectLeaves()``), its
    input dataset ``(namespace, name)`` or None (local data, ranges, caches). Leaves of subquery plans
    (scalar / IN / EXISTS subqueries) are not leaves of ``query``; entries beyond ``query``'s own
    leaves are given to them: subquery plans in order of appearance (plan nodes in pre-order, each
    node's expression fields in JSON order, expressions in pre-order), each plan's leaves followed
    by those of the subqueries nested in it. Without such entries a subquery's inputs are unknown.
    """
    graph = LineageGraph(leaves)
    walker = _PlanWalker(graph)
    outputs, dataset_deps = walker.add_plan(query)
    walker.link_ctes()
    if len(outputs) != len(output_columns):
        raise ValueError(f"{len(output_columns)} output column names for a plan with {len(outputs)} columns")
    fields = {
        name: _freeze(graph.lineage_of(expr_id)) if expr_id is not None else {}
        for name, (expr_id, _) in zip(output_columns, outputs)
    }
    dataset: FieldLineage = {}
    for expr_id, transformation in dataset_deps:
        for field, known in graph.lineage_of(expr_id).items():
            for inner in known.values():
                add_transformation(dataset, field, transformation.merge(inner))
    return ColumnLineage(fields, _freeze(dataset))


def to_facet_dict(lineage: ColumnLineage, dataset_lineage_enabled: bool = True) -> dict:
    """The ColumnLineageDatasetFacet 1-2-0 body (``fields`` and ``dataset``) as plain, sorted dicts.

    With ``dataset_lineage_enabled`` False the dataset-level dependencies are added to every output
    field instead (as the official listener does) and ``dataset`` is empty. Columns without any
    input field (literals, local data) are left out, as the schema has nothing to say about them.
    """
    fields = {}
    for column, inputs in lineage.fields.items():
        merged: FieldLineage = {}
        extra = {} if dataset_lineage_enabled else lineage.dataset
        for source in (inputs, extra):
            for field, transformations in source.items():
                for transformation in transformations:
                    add_transformation(merged, field, transformation)
        if merged:
            fields[column] = {"inputFields": _input_fields({f: known.values() for f, known in merged.items()})}
    dataset = _input_fields(lineage.dataset) if dataset_lineage_enabled else []
    return {"fields": fields, "dataset": dataset}


def _input_fields(mapping: Mapping[FieldRef, object]) -> list[dict]:
    rank = {name: position for position, name in enumerate(SUBTYPE_ORDER)}

    def order(t: Transformation) -> tuple:
        return (t.type != DIRECT, rank.get(t.subtype, len(rank)), t.subtype, t.masking, t.description)

    return [
        {
            "namespace": field.namespace,
            "name": field.dataset,
            "field": field.field,
            "transformations": [
                {"type": t.type, "subtype": t.subtype, "description": t.description, "masking": t.masking}
                for t in sorted(mapping[field], key=order)
            ],
        }
        for field in sorted(mapping, key=lambda f: (f.namespace, f.dataset, f.field))
    ]


def _freeze(lineage: FieldLineage) -> dict[FieldRef, frozenset[Transformation]]:
    return {field: frozenset(known.values()) for field, known in lineage.items()}


def _attrs(exprs: Sequence[Expr]) -> Output:
    return [(e.expr_id, e.label) for e in exprs]


def _output_of(node: PlanNode, inputs: list[Output]) -> Output:
    """A node's output attributes (ids and names), from its fields and its children's outputs."""
    name = node.name
    if name in ("Project", "Aggregate"):
        return _attrs(node.expression_list(_DEFINING[name]))
    if name == "Window":
        return inputs[0] + _attrs(node.expression_list("windowExpressions"))
    if name == "Join":
        join_type = str(node.fields.get("joinType", ""))
        semi = "LeftSemi$" in join_type or "LeftAnti$" in join_type
        return inputs[0] if semi else inputs[0] + inputs[1]
    if name == "Generate":
        dropped = set(node.fields.get("unrequiredChildIndex") or ())
        kept = [attr for index, attr in enumerate(inputs[0]) if index not in dropped]
        return kept + _attrs(node.expression_list("generatorOutput"))
    if name == "WithCTE":
        return inputs[-1]
    if name in ("Union", "Intersect", "Except"):
        return inputs[0]
    if node.expression_list("output"):
        return _attrs(node.expression_list("output"))
    return inputs[0] if inputs else []


class _PlanWalker:
    """Adds every node of a plan (and of its subquery plans) to a LineageGraph."""

    def __init__(self, graph: LineageGraph):
        self.graph = graph
        # Synthetic ids for fallback hubs: negative, so they never meet a Catalyst exprId.
        self._hub_ids = itertools.count(-1, -1)

    def add_plan(self, plan: PlanNode) -> tuple[Output, list[Dep]]:
        """Register ``plan``; return its output attributes and its dataset-level dependencies."""
        nodes = list(plan.walk())
        self.graph.register_leaves(nodes)
        self.graph.scan_subqueries(nodes, self.add_plan)
        outputs: dict[int, Output] = {}
        # Reversed pre-order visits every node after all of its descendants: no recursion needed.
        for node in reversed(nodes):
            outputs[id(node)] = _output_of(node, [outputs[id(child)] for child in node.children])
        dataset: list[Dep] = []
        for node in nodes:
            self._add_node(node, [outputs[id(child)] for child in node.children], outputs[id(node)], dataset)
        return outputs[id(plan)], dataset

    def link_ctes(self) -> None:
        """Each CTE reference's column i reads column i of its definition (known once all are seen)."""
        for ref_ids, cte_id in self.graph.cte_refs:
            for target, source in zip(ref_ids, self.graph.cte_outputs.get(cte_id, ())):
                self.graph.add_edge(target, source, IDENTITY)

    def _add_node(self, node: PlanNode, inputs: list[Output], output: Output, dataset: list[Dep]) -> None:
        graph, name = self.graph, node.name
        if name in _DEFINING:
            for expr in node.expression_list(_DEFINING[name]):
                if expr.name == "Alias":
                    for source, transformation in graph.dependencies(expr, IDENTITY):
                        graph.add_edge(expr.expr_id, source, transformation)
        if name in _ROW_SHAPING:
            key, transformation = _ROW_SHAPING[name]
            for expr in node.expression_list(key):
                dataset.extend(graph.dependencies(expr, transformation))
        if name == "Distinct":
            dataset.extend((expr_id, GROUP_BY) for expr_id, _ in output if expr_id is not None)
        elif name == "Union":
            for child_output in inputs[1:]:
                for (target, _), (source, _) in zip(output, child_output):
                    graph.add_edge(target, source, IDENTITY)
        elif name in ("Intersect", "Except"):
            # The left side's rows, kept by whether an equal row is on the right: every column of both
            # sides decides which rows remain (Spark runs it as a semi or anti join on all of them).
            dataset.extend((expr_id, JOIN) for child in inputs for expr_id, _ in child if expr_id is not None)
            if not node.fields.get("isAll"):  # INTERSECT / EXCEPT without ALL also drop duplicates
                dataset.extend((expr_id, GROUP_BY) for expr_id, _ in output if expr_id is not None)
        elif name == "Generate":
            self._add_generate(node)
        elif name == "Expand":
            self._add_expand(node, output)
        elif name == "CTERelationDef":
            graph.cte_outputs[node.fields.get("id")] = [expr_id for expr_id, _ in output]
        elif name == "CTERelationRef":
            graph.cte_refs.append(([expr_id for expr_id, _ in output], node.fields.get("cteId")))
        elif name not in _HANDLED and inputs:
            self._add_fallback(inputs, output)

    def _add_generate(self, node: PlanNode) -> None:
        """explode/posexplode/inline: every generated column from the generator's input. stack(n, ...)
        lays its arguments out row by row, so column j takes arguments j, j + m, j + 2m, ..."""
        generator = node.expression("generator")
        targets = [attr.expr_id for attr in node.expression_list("generatorOutput")]
        if generator is None or not targets:
            return
        if generator.name == "Stack" and len(generator.children) > 1:
            for position, argument in enumerate(generator.children[1:]):
                for source, transformation in self.graph.dependencies(argument, IDENTITY):
                    self.graph.add_edge(targets[position % len(targets)], source, transformation)
            return
        generated = self.graph.dependencies(generator, IDENTITY)
        for target in targets:
            for source, transformation in generated:
                self.graph.add_edge(target, source, transformation)

    def _add_expand(self, node: PlanNode, output: Output) -> None:
        """ROLLUP/CUBE/GROUPING SETS: output i takes projection i of every grouping set."""
        for projection in node.fields.get("projections") or ():
            for (target, _), tree in zip(output, projection):
                for source, transformation in self.graph.dependencies(parse_expression(tree), IDENTITY):
                    self.graph.add_edge(target, source, transformation)

    def _add_fallback(self, inputs: list[Output], output: Output) -> None:
        """Unknown node: matching attributes pass through; new ones become TRANSFORMATIONs of every
        child attribute, via one hub id so that n new columns over m inputs cost n + m edges."""
        known = {expr_id for child_output in inputs for expr_id, _ in child_output}
        new = [expr_id for expr_id, _ in output if expr_id is not None and expr_id not in known]
        if not new:
            return
        hub = next(self._hub_ids)
        for source in known:
            self.graph.add_edge(hub, source, TRANSFORMATION)
        for target in new:
            self.graph.add_edge(target, hub, IDENTITY)
