"""Spark plans as small frozen Python trees, parsed from ``LogicalPlan.toJSON()``.

Catalyst serialises a tree as a flat list in pre-order, each entry carrying its class and
``num-children``; expression-valued fields hold their own flat lists (a list of lists for a
sequence of expressions). Children are kept in Catalyst's ``children`` order, which is all the
lineage code needs: a Join's children are (left, right), a CaseWhen's are
(cond1, value1, ..., else), and so on.

>>> import json
>>> doc = [{"class": "org.apache.spark.sql.catalyst.plans.logical.Filter", "num-children": 1,
...         "condition": [{"class": "org.apache.spark.sql.catalyst.expressions.IsNotNull", "num-children": 1,
...                        "child": 0},
...                       {"class": "org.apache.spark.sql.catalyst.expressions.AttributeReference",
...                        "num-children": 0, "name": "id", "dataType": "integer",
...                        "exprId": {"id": 7, "jvmId": "j"}}]},
...        {"class": "org.apache.spark.sql.catalyst.plans.logical.LocalRelation", "num-children": 0}]
>>> node = parse_plan(json.dumps(doc))
>>> node.name, node.children[0].name
('Filter', 'LocalRelation')
>>> [(a.label, a.expr_id) for a in node.expression("condition").attributes()]
[('id', 7)]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

EXPRESSION_PACKAGE = "org.apache.spark.sql.catalyst.expressions."


@dataclass(frozen=True)
class Expr:
    """One Catalyst expression: its short class name, scalar fields and children."""

    name: str
    fields: Mapping[str, Any] = field(default_factory=dict, repr=False)
    children: tuple["Expr", ...] = ()

    @property
    def expr_id(self) -> int | None:
        """The id of an attribute or alias (``exprId.id``); None for other expressions."""
        ref = self.fields.get("exprId")
        return ref.get("id") if isinstance(ref, dict) else None

    @property
    def label(self) -> str | None:
        """The name of an attribute or alias."""
        value = self.fields.get("name")
        return value if isinstance(value, str) else None

    def walk(self) -> Iterator["Expr"]:
        """This expression and all below it, depth first (iteratively: plans can be deep)."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def attributes(self) -> list["Expr"]:
        """Every attribute reference in this expression, in order of appearance."""
        return [e for e in self.walk() if e.name in ("AttributeReference", "OuterReference")]


@dataclass(frozen=True)
class PlanNode:
    """One logical plan node: short class name, raw fields, parsed expressions, children."""

    name: str
    class_name: str
    fields: Mapping[str, Any] = field(default_factory=dict, repr=False)
    expressions: Mapping[str, tuple[Expr, ...]] = field(default_factory=dict, repr=False)
    children: tuple["PlanNode", ...] = ()

    def expression(self, key: str) -> Expr | None:
        """The single expression held in field ``key`` (None when absent)."""
        exprs = self.expressions.get(key, ())
        return exprs[0] if exprs else None

    def expression_list(self, key: str) -> tuple[Expr, ...]:
        return self.expressions.get(key, ())

    def walk(self) -> Iterator["PlanNode"]:
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


def _short(class_name: str) -> str:
    return class_name.rsplit(".", 1)[-1].rstrip("$")


def _build(entries: list[dict], make) -> Any:
    """Rebuild a tree from Catalyst's pre-order list, iteratively."""
    if not entries:
        raise ValueError("empty tree")
    # Frames of (entry, number of children, children built so far).
    root_holder: list = []
    stack: list[tuple[dict, int, list]] = []

    def push(entry: dict) -> None:
        stack.append((entry, int(entry.get("num-children", 0)), []))

    push(entries[0])
    position = 1
    while stack:
        entry, remaining, kids = stack[-1]
        if len(kids) < remaining:
            if position >= len(entries):
                raise ValueError("truncated tree: a node names more children than the list holds")
            push(entries[position])
            position += 1
            continue
        stack.pop()
        built = make(entry, tuple(kids))
        if stack:
            stack[-1][2].append(built)
        else:
            root_holder.append(built)
    return root_holder[0]


def _is_tree(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict) and "class" in value[0]


def _make_expr(entry: dict, children: tuple[Expr, ...]) -> Expr:
    fields = {k: v for k, v in entry.items() if k not in ("class", "num-children")}
    return Expr(_short(entry["class"]), fields, children)


def parse_expression(entries: list[dict]) -> Expr:
    return _build(entries, _make_expr)


def _expressions_of(entry: dict) -> dict[str, tuple[Expr, ...]]:
    found = {}
    for key, value in entry.items():
        if _is_tree(value) and value[0]["class"].startswith(EXPRESSION_PACKAGE):
            found[key] = (parse_expression(value),)
        elif isinstance(value, list) and value and all(_is_tree(v) for v in value):
            if value[0][0]["class"].startswith(EXPRESSION_PACKAGE):
                found[key] = tuple(parse_expression(v) for v in value)
    return found


def _make_node(entry: dict, children: tuple[PlanNode, ...]) -> PlanNode:
    expressions = _expressions_of(entry)
    fields = {k: v for k, v in entry.items() if k not in ("class", "num-children") and k not in expressions}
    return PlanNode(_short(entry["class"]), entry["class"], fields, expressions, children)


def parse_plan(plan_json: str | list) -> PlanNode:
    """Parse the JSON of a logical plan (as ``LogicalPlan.toJSON()`` returns it)."""
    entries = json.loads(plan_json) if isinstance(plan_json, str) else plan_json
    return _build(entries, _make_node)
