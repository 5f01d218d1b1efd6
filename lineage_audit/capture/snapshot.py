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

from lineage_audit.capture.naming import jdbc_uri

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
    # A catalog table's symlink as the official listener names it: (the database's location, "db.table")
    table: tuple[str, str] | None = None
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
    query_id: int = -1  # Spark's QueryExecution id: a CTAS's inner write has a higher one than the CTAS


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


def _table_symlink(table, jvm) -> tuple[str, str] | None:
    """(namespace, name) of a catalog table: its database's location and ``db.table``."""
    if table is None:
        return None
    identifier = table.identifier()
    database = _option(identifier.database()) or "default"
    try:
        session = _option(jvm.org.apache.spark.sql.SparkSession.getDefaultSession())
        namespace = session.sessionState().catalog().getDatabaseMetadata(database).locationUri().toString()
    except Exception:  # no session or no such database: the table's parent folder is the next best thing
        location = _option(table.storage().locationUri())
        namespace = location.toString().rstrip("/").rsplit("/", 1)[0] if location is not None else database
    return namespace.rstrip("/"), f"{database}.{identifier.table()}"


def _leaf_ref(leaf, jvm) -> DatasetRef | None:
    kind = leaf.getClass().getSimpleName()
    if kind == "LogicalRelation":
        relation = leaf.relation()
        relation_kind = relation.getClass().getSimpleName()
        ident = _table_symlink(_option(leaf.catalogTable()), jvm)
        if relation_kind == "HadoopFsRelation":
            paths = relation.location().rootPaths()
            uri = paths.head().toString() if paths.nonEmpty() else ""
            return DatasetRef(uri, relation.fileFormat().toString().lower(), ident, relation.schema().json())
        if relation_kind == "JDBCRelation":
            options = relation.jdbcOptions()
            return DatasetRef(jdbc_uri(options.url(), options.tableOrQuery()), "jdbc", ident, relation.schema().json())
        return DatasetRef(ident[1] if ident else relation.toString(), relation_kind, ident, relation.schema().json())
    if kind == "HiveTableRelation":
        meta = leaf.tableMeta()
        return DatasetRef(meta.location().toString(), "hive", _table_symlink(meta, jvm), leaf.schema().json())
    if kind == "DataSourceV2Relation":
        return DatasetRef(leaf.table().name(), "v2", None, leaf.schema().json())
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


def plan_json(plan) -> str:
    """``plan.toJSON()``, with what Catalyst's JSON leaves out put back: the projections of Expand
    nodes (unpivot, ROLLUP, CUBE, GROUPING SETS), a list of lists that it writes as null."""
    text = plan.toJSON()
    if '.logical.Expand"' not in text:
        return text
    nodes, expands, pending = json.loads(text), [], [plan]
    while pending:  # pre-order, the order of the JSON list
        node = pending.pop()
        if node.getClass().getSimpleName() == "Expand":
            expands.append(node)
        pending.extend(reversed(_seq(node.children())))
    json_expands = [n for n in nodes if n.get("class", "").endswith(".logical.Expand")]
    for entry, node in zip(json_expands, expands):
        entry["projections"] = [[json.loads(e.toJSON()) for e in _seq(projection)]
                                for projection in _seq(node.projections())]
    return json.dumps(nodes)


def plan_leaves(jvm, plan, plan_json: str | None = None) -> list[DatasetRef | None]:
    """Datasets of the plan's leaves, then of its subqueries' leaves (see column_lineage)."""
    refs = [_leaf_ref(leaf, jvm) for leaf in _seq(plan.collectLeaves())]
    # Walking every expression through py4j is slow; only plans with subqueries need it.
    if plan_json is None or any(marker in plan_json for marker in SUBQUERY_MARKERS):
        for sub in subquery_plans(jvm, plan):
            refs.extend(plan_leaves(jvm, sub))
    return refs


def _write_target(command, spark_session, jvm) -> tuple[DatasetRef, str | None]:
    kind = command.getClass().getSimpleName()
    query_schema = command.query().schema().json()
    if kind == FILE_INSERT:
        ident = _table_symlink(_option(command.catalogTable()), jvm)
        return (DatasetRef(command.outputPath().toString(), command.fileFormat().toString().lower(), ident,
                           query_schema), command.mode().toString())
    if kind == CTAS:
        table = command.table()
        location = _option(table.storage().locationUri())
        if location is None:
            location = spark_session.sessionState().catalog().defaultTablePath(table.identifier())
        provider = _option(table.provider())
        return (DatasetRef(location.toString(), provider, _table_symlink(table, jvm), query_schema),
                command.mode().toString())
    if kind in (SAVE_INTO, INSERT_INTO_SOURCE):
        options = command.options() if kind == SAVE_INTO else None
        path = _option(options.get("path")) if options is not None else None
        url = _option(options.get("url")) if options is not None else None
        uri = path or (jdbc_uri(url, _option(options.get("dbtable")) or "") if url else "")
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
    output, mode = _write_target(command, qe.sparkSession(), jvm)
    query_json = plan_json(query)
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
        query_id=_query_id(qe),
    )


def _query_id(qe) -> int:
    try:
        return int(qe.id())
    except Exception:  # Spark versions before 3.5 number no query executions
        return -1


def encloses(ctas: QuerySnapshot, write: QuerySnapshot) -> bool:
    """Whether ``write`` is the file write ``ctas`` ran inside itself.

    ``saveAsTable`` and ``CREATE TABLE ... AS SELECT`` write their files through a nested query
    that Spark reports first, without the table (it does not exist yet), then report the CTAS.
    """
    from lineage_audit.capture.naming import dataset_identity

    return (ctas.command == CTAS and write.command == FILE_INSERT and write.output.table is None
            and dataset_identity(ctas.output.uri) == dataset_identity(write.output.uri)
            and (ctas.query_id < 0 or write.query_id > ctas.query_id))


def _stack_trace(error) -> str:
    lines = [str(error.toString())]
    frames = error.getStackTrace()
    for i in range(min(len(frames), 50)):
        lines.append(f"\tat {frames[i].toString()}")
    return "\n".join(lines)
