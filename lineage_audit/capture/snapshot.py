"""What capture copies out of the JVM inside the listener callback, as plain Python data.

The callback runs on Spark's listener bus, so it does only py4j reads here: the plan's JSON, the
paths and tables that JSON leaves out (relations and the write target), and the write metrics.
Everything else happens later on capture's worker thread, from a :class:`QuerySnapshot`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

# Write commands capture understands, and how to find where each writes.
FILE_INSERT = "InsertIntoHadoopFsRelationCommand"
CTAS = "CreateDataSourceTableAsSelectCommand"
SAVE_INTO = "SaveIntoDataSourceCommand"
INSERT_INTO_SOURCE = "InsertIntoDataSourceCommand"
WRITE_COMMANDS = (FILE_INSERT, CTAS, SAVE_INTO, INSERT_INTO_SOURCE)


@dataclass(frozen=True)
class DatasetRef:
    """A dataset a query read or wrote: where it lives, its format, its catalog table if any."""

    uri: str
    format: str | None = None
    table: str | None = None  # catalog identifier, e.g. spark_catalog.default.orders
    schema_json: str | None = None


@dataclass(frozen=True)
class QuerySnapshot:
    command: str
    query_json: str
    output: DatasetRef
    output_columns: tuple[str, ...]
    mode: str | None
    leaves: tuple[DatasetRef | None, ...]
    metrics: dict[str, int] = field(default_factory=dict)
    started_ms: int = 0
    ended_ms: int = 0
    error: str | None = None
    stack_trace: str | None = None


def _option(value) -> Any:
    """A Scala Option's content, or None."""
    return value.get() if value is not None and value.isDefined() else None


def _write_exec(qe):
    """The physical write node, under the wrappers adaptive execution puts around it."""
    plan = qe.executedPlan()
    for _ in range(8):
        kind = plan.getClass().getSimpleName()
        if kind == "AdaptiveSparkPlanExec":
            plan = plan.executedPlan()
        elif kind.endswith("QueryStageExec"):
            plan = plan.plan()
        else:
            return plan
    return plan


def _metrics(qe) -> dict[str, int]:
    try:
        source = _write_exec(qe).cmd().metrics()
    except Exception:  # not a DataWritingCommandExec: no write metrics to report
        return {}
    found, iterator = {}, source.iterator()
    while iterator.hasNext():
        entry = iterator.next()
        found[str(entry._1())] = int(entry._2().value())
    return found


def _leaf_ref(leaf) -> DatasetRef | None:
    kind = leaf.getClass().getSimpleName()
    if kind == "LogicalRelation":
        relation = leaf.relation()
        relation_kind = relation.getClass().getSimpleName()
        table = _option(leaf.catalogTable())
        ident = table.identifier().unquotedString() if table is not None else None
        if relation_kind == "HadoopFsRelation":
            paths = relation.location().rootPaths()
            uri = paths.head().toString() if paths.nonEmpty() else ""
            return DatasetRef(uri, relation.fileFormat().toString().lower(), ident, relation.schema().json())
        if relation_kind == "JDBCRelation":
            options = relation.jdbcOptions()
            return DatasetRef(f"{options.url()}/{options.tableOrQuery()}", "jdbc", ident, relation.schema().json())
        return DatasetRef(ident or relation.toString(), relation_kind, ident, relation.schema().json())
    if kind == "HiveTableRelation":
        meta = leaf.tableMeta()
        return DatasetRef(meta.location().toString(), "hive", meta.identifier().unquotedString(), leaf.schema().json())
    if kind == "DataSourceV2Relation":
        return DatasetRef(leaf.table().name(), "v2", leaf.table().name(), leaf.schema().json())
    return None  # local data, RDDs, ranges: no input dataset


SUBQUERY_MARKERS = ("ScalarSubquery", "Exists", "ListQuery", "InSubquery", "LateralSubquery", "FunctionTableSubquery")


def _seq(jseq) -> list:
    return [jseq.apply(i) for i in range(jseq.size())]


def subquery_plans(jvm, plan) -> list:
    """Plans of subquery expressions, in the order column_lineage expects their leaves.

    Nodes in pre-order, and within a node its expressions in pre-order.
    """
    subquery_class = jvm.java.lang.Class.forName("org.apache.spark.sql.catalyst.expressions.SubqueryExpression")
    found, nodes = [], [plan]
    while nodes:
        node = nodes.pop()
        for expr in _seq(node.expressions()):
            exprs = [expr]
            while exprs:
                current = exprs.pop()
                if subquery_class.isInstance(current):
                    found.append(current.plan())
                exprs.extend(reversed(_seq(current.children())))
        nodes.extend(reversed(_seq(node.children())))
    return found


def plan_leaves(jvm, plan, plan_json: str | None = None) -> list[DatasetRef | None]:
    """Datasets of the plan's leaves, then of its subqueries' leaves (see column_lineage)."""
    refs = [_leaf_ref(leaf) for leaf in _seq(plan.collectLeaves())]
    # Walking every expression through py4j is slow; only plans with subqueries need it.
    if plan_json is None or any(marker in plan_json for marker in SUBQUERY_MARKERS):
        for sub in subquery_plans(jvm, plan):
            refs.extend(plan_leaves(jvm, sub))
    return refs


def _write_target(command, spark_session) -> tuple[DatasetRef, str | None]:
    kind = command.getClass().getSimpleName()
    query_schema = command.query().schema().json()
    if kind == FILE_INSERT:
        table = _option(command.catalogTable())
        ident = table.identifier().unquotedString() if table is not None else None
        return (DatasetRef(command.outputPath().toString(), command.fileFormat().toString().lower(), ident,
                           query_schema), command.mode().toString())
    if kind == CTAS:
        table = command.table()
        location = _option(table.storage().locationUri())
        if location is None:
            location = spark_session.sessionState().catalog().defaultTablePath(table.identifier())
        provider = _option(table.provider())
        return (DatasetRef(location.toString(), provider, table.identifier().unquotedString(), query_schema),
                command.mode().toString())
    if kind in (SAVE_INTO, INSERT_INTO_SOURCE):
        options = command.options() if kind == SAVE_INTO else None
        path = _option(options.get("path")) if options is not None else None
        uri = path or (f"{_option(options.get('url'))}/{_option(options.get('dbtable'))}" if options else "")
        source = command.dataSource().getClass().getSimpleName() if kind == SAVE_INTO else "datasource"
        mode = command.mode().toString() if kind == SAVE_INTO else ("Overwrite" if command.overwrite() else "Append")
        return DatasetRef(str(uri), source.lower(), None, query_schema), mode
    raise ValueError(f"not a write command: {kind}")


def take_snapshot(jvm, qe, duration_ns: int, error=None) -> QuerySnapshot | None:
    """Copy what lineage needs from a finished query; None when it wrote nothing.

    ``jvm`` is the py4j view of the driver JVM (``SparkContext._jvm``).
    """
    command = qe.analyzed()
    kind = command.getClass().getSimpleName()
    if kind not in WRITE_COMMANDS:
        return None
    ended = int(time.time() * 1000)
    query = command.query()
    output, mode = _write_target(command, qe.sparkSession())
    query_json = query.toJSON()
    refs = plan_leaves(jvm, query, query_json)
    message = str(error.getMessage()) if error is not None else None
    trace = _stack_trace(error) if error is not None else None
    columns = tuple(json.loads(query.schema().json()).get("fields", []))
    return QuerySnapshot(
        command=kind,
        query_json=query_json,
        output=output,
        output_columns=tuple(f["name"] for f in columns),
        mode=mode,
        leaves=tuple(refs),
        metrics=_metrics(qe) if error is None else {},
        started_ms=ended - duration_ns // 1_000_000,
        ended_ms=ended,
        error=message,
        stack_trace=trace,
    )


def _stack_trace(error) -> str:
    lines = [str(error.toString())]
    frames = error.getStackTrace()
    for i in range(min(len(frames), 50)):
        lines.append(f"\tat {frames[i].toString()}")
    return "\n".join(lines)
