"""What capture copies out of the JVM inside the listener callback, as plain Python data.

The callback runs on Spark's listener bus, so it does only py4j reads here: the plan's JSON, the
paths and tables that JSON leaves out (relations and the write target), and the write metrics.
Everything else happens later on capture's worker thread, from a :class:`QuerySnapshot`.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

from lineage_audit.capture.naming import jdbc_uri

# Write commands capture understands, and how to find where each writes.
FILE_INSERT = "InsertIntoHadoopFsRelationCommand"
CTAS = "CreateDataSourceTableAsSelectCommand"
SAVE_INTO = "SaveIntoDataSourceCommand"
INSERT_INTO_SOURCE = "InsertIntoDataSourceCommand"
HIVE_INSERT = "InsertIntoHiveTable"
HIVE_CTAS = "CreateHiveTableAsSelectCommand"
WRITE_COMMANDS = (FILE_INSERT, CTAS, SAVE_INTO, INSERT_INTO_SOURCE, HIVE_INSERT, HIVE_CTAS)
CREATING_COMMANDS = (CTAS, HIVE_CTAS)
# Commands that change a catalog table without a query: the table is their output, with the
# lifecycle state the official listener reports (LOAD DATA reads a file and reports none).
LOAD_DATA = "LoadDataCommand"
DROP_TABLE = "DropTable"
TABLE_COMMANDS = {
    "CreateTableCommand": "CREATE", "CreateDataSourceTableCommand": "CREATE", DROP_TABLE: "DROP",
    "DropTableCommand": "DROP", "TruncateTableCommand": "TRUNCATE", "AlterTableAddColumnsCommand": "ALTER",
    "AlterTableRenameCommand": "RENAME", LOAD_DATA: None,
}
# How Spark's DataSource names the file write it runs inside a command (a CTAS, saveAsTable):
# such a write is the inner half of the command reported right after it.
NESTED_WRITE = "file source write"


@dataclass(frozen=True)
class DatasetRef:
    """A dataset a query read or wrote: where it lives, its format, its catalog table if any."""

    uri: str
    format: str | None = None
    # A catalog table's symlink as the official listener names it: (the database's location, "db.table")
    table: tuple[str, str] | None = None
    schema_json: str | None = None
    # What the official listener's inputStatistics reports of a file source: its bytes and files.
    size: int | None = None
    file_count: int | None = None


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
    lifecycle: str | None = None  # a table command's lifecycleStateChange (CREATE, DROP, TRUNCATE, ALTER, RENAME)
    previous: DatasetRef | None = None  # a renamed table's old location
    nested: bool = False  # a write Spark ran inside another command (see NESTED_WRITE)
    sql: str | None = None  # the SQL text, when the query came from spark.sql
    query_uuid: str | None = None  # QueryExecution.queryId: finds the query's Spark jobs in the status store
    # Files read by the RDDs behind LogicalRDD / ExternalRDD leaves (``df.rdd.map(...).toDF()``): inputs
    # whose columns are unknown, so not part of ``leaves`` (see rdd_inputs)
    rdd_inputs: tuple[DatasetRef, ...] = ()


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


def _delta_commit_metrics(jvm, session, output: DatasetRef) -> dict[str, int]:
    """A Delta write's metrics, from the commit it just made (``commitInfo.operationMetrics``).

    Delta writes through its own command, whose plan node keeps no metrics; the commit records
    them, in the newest file of the table's ``_delta_log``.
    """
    if "delta" not in (output.format or "") or not output.uri:  # DeltaDataSource, a delta table
        return {}
    try:
        text = _newest_commit(jvm, session, output.uri.rstrip("/"))
    except Exception:  # not a Delta table after all, or its log unreadable: no statistics
        return {}
    for line in (text or "").splitlines():
        info = json.loads(line).get("commitInfo") if line.strip() else None
        if info:
            found = {k: int(v) for k, v in (info.get("operationMetrics") or {}).items() if str(v).isdigit()}
            return {"numOutputRows": found["numOutputRows"], "numOutputBytes": found.get("numOutputBytes", 0),
                    "numFiles": found.get("numFiles", 0)} if "numOutputRows" in found else {}
    return {}


def _newest_commit(jvm, session, uri: str) -> str | None:
    """The newest commit file of a Delta table: read directly when local (the listener may run
    while the session stops, after a job's last write), else through Hadoop's file system."""
    local = uri.removeprefix("file://").removeprefix("file:") if uri.startswith(("file:", "/")) else None
    if local is not None:
        log = os.path.join(local, "_delta_log")
        versions = [name for name in os.listdir(log) if re.fullmatch(r"\d{20}\.json", name)]
        if not versions:
            return None
        with open(os.path.join(log, max(versions)), encoding="utf-8") as commit:
            return commit.read()
    version = int(jvm.org.apache.spark.sql.delta.DeltaLog.forTable(session, uri).unsafeVolatileSnapshot().version())
    path = jvm.org.apache.hadoop.fs.Path(f"{uri}/_delta_log/{version:020d}.json")
    stream = path.getFileSystem(session.sessionState().newHadoopConf()).open(path)
    try:
        return str(jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8"))
    finally:
        stream.close()


def _table_symlink(table, jvm, session=None) -> tuple[str, str] | None:
    """(namespace, name) of a catalog table: its database's location and ``db.table``.

    ``session`` is the query's own session. The default session is cleared as soon as
    ``spark.stop()`` begins, while Spark may still be reporting the last queries (a CTAS is
    reported after its inner write): asking it alone would lose their database's location.
    """
    if table is None:
        return None
    identifier = table.identifier()
    database = _option(identifier.database()) or "default"
    try:
        if session is None:
            session = _option(jvm.org.apache.spark.sql.SparkSession.getDefaultSession())
        namespace = session.sessionState().catalog().getDatabaseMetadata(database).locationUri().toString()
    except Exception:  # no session or no such database: the table's parent folder is the next best thing
        location = _option(table.storage().locationUri())
        namespace = location.toString().rstrip("/").rsplit("/", 1)[0] if location is not None else database
    return namespace.rstrip("/"), f"{database}.{identifier.table()}"


def _is_file_relation(relation) -> bool:
    try:
        return relation.location().rootPaths() is not None
    except Exception:  # not a file-based relation
        return False


def _file_statistics(index) -> tuple[int | None, int | None]:
    """Bytes and files of a file index (listed already: Spark planned the scan from them)."""
    try:
        return int(index.sizeInBytes()), len(index.inputFiles())
    except Exception:  # an index that lists lazily or not at all: no statistics rather than no input
        return None, None


def _leaf_ref(leaf, jvm) -> DatasetRef | None:
    kind = leaf.getClass().getSimpleName()
    if kind == "LogicalRelation":
        relation = leaf.relation()
        relation_kind = relation.getClass().getSimpleName()
        ident = _table_symlink(_option(leaf.catalogTable()), jvm)
        # Delta's relation is an anonymous HadoopFsRelation subclass: no simple name, a file location all the same
        if relation_kind == "HadoopFsRelation" or (not relation_kind and _is_file_relation(relation)):
            index = relation.location()
            paths = index.rootPaths()
            uri = paths.head().toString() if paths.nonEmpty() else ""
            size, files = _file_statistics(index)
            return DatasetRef(uri, relation.fileFormat().toString().lower(), ident, relation.schema().json(),
                              size=size, file_count=files)
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


# RDDs a DataFrame built from an RDD can be reading files through, and how many RDDs to look at.
_RDD_LEAVES = ("LogicalRDD", "ExternalRDD")
_RDD_WALK_LIMIT = 500


def _rdd_file_folders(rdd, jvm) -> list[str]:
    """Folders an RDD reads directly: a FileScanRDD's files' folders, a HadoopRDD's input paths."""
    kind = rdd.getClass().getSimpleName()
    if kind == "FileScanRDD":
        return [str(f.filePath().toPath().getParent().toString())
                for partition in _seq(rdd.filePartitions()) for f in partition.files()]
    if kind == "HadoopRDD":  # sc.textFile(): a file stands for its folder
        conf = rdd.getJobConf()
        paths = jvm.org.apache.hadoop.mapred.FileInputFormat.getInputPaths(conf)
        return [str((p if p.getFileSystem(conf).isDirectory(p) else p.getParent()).toString()) for p in paths]
    return []


def rdd_inputs(jvm, plan) -> list[DatasetRef]:
    """Input datasets behind the plan's RDD leaves, found as the official listener finds them: the
    files at the bottom of each RDD's lineage (a DataFrame turned into an RDD and back reads them)."""
    folders: list[str] = []
    for leaf in _seq(plan.collectLeaves()):
        if leaf.getClass().getSimpleName() not in _RDD_LEAVES:
            continue
        pending, seen = [leaf.rdd()], set()
        while pending and len(seen) < _RDD_WALK_LIMIT:
            rdd = pending.pop()
            if int(rdd.id()) in seen:
                continue
            seen.add(int(rdd.id()))
            for folder in _rdd_file_folders(rdd, jvm):
                if folder not in folders:
                    folders.append(folder)
            pending.extend(dependency.rdd() for dependency in _seq(rdd.dependencies()))
    return [DatasetRef(folder, "rdd") for folder in folders]


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
        ident = _table_symlink(_option(command.catalogTable()), jvm, spark_session)
        return (DatasetRef(command.outputPath().toString(), command.fileFormat().toString().lower(), ident,
                           query_schema), command.mode().toString())
    if kind == CTAS:
        table = command.table()
        location = _option(table.storage().locationUri())
        if location is None:
            location = spark_session.sessionState().catalog().defaultTablePath(table.identifier())
        provider = _option(table.provider())
        return (DatasetRef(location.toString(), provider, _table_symlink(table, jvm, spark_session), query_schema),
                command.mode().toString())
    if kind == HIVE_INSERT:
        table = command.table()
        mode = "Overwrite" if command.overwrite() else "Append"
        symlink = _table_symlink(table, jvm, spark_session)
        return DatasetRef(_table_location(spark_session, table), "hive", symlink, query_schema), mode
    if kind == HIVE_CTAS:
        table = command.tableDesc()
        symlink = _table_symlink(table, jvm, spark_session)
        return (DatasetRef(_table_location(spark_session, table), "hive", symlink, query_schema),
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


def _table_location(spark_session, table) -> str:
    """Where a catalog table's files live: its own location, else the catalog's (it may have made the table since)."""
    location = _option(table.storage().locationUri())
    if location is None:
        catalog = spark_session.sessionState().catalog()
        try:
            location = _option(catalog.getTableMetadata(table.identifier()).storage().locationUri())
        except Exception:  # not created (a failed CTAS): where the catalog would put it
            location = None
        location = location or catalog.defaultTablePath(table.identifier())
    return location.toString()


def _table_identifier(jvm, command, kind: str):
    """The TableIdentifier a table command acts on."""
    if kind == DROP_TABLE:  # a v2 command: its child is the resolved identifier
        ident = command.child().identifier()
        namespace = list(ident.namespace())
        database = jvm.scala.Option.apply(namespace[-1] if namespace else None)
        return jvm.org.apache.spark.sql.catalyst.TableIdentifier(ident.name(), database)
    if kind in ("CreateTableCommand", "CreateDataSourceTableCommand"):
        return command.table().identifier()
    if kind == "AlterTableRenameCommand":
        return command.newName()
    if kind in ("AlterTableAddColumnsCommand", LOAD_DATA):
        return command.table()
    return command.tableName()  # DropTableCommand, TruncateTableCommand


def _catalog_ref(spark_session, identifier, known: dict[str, DatasetRef], jvm) -> DatasetRef:
    """A catalog table as a dataset; a dropped one as capture last saw it, else at its default path."""
    catalog = spark_session.sessionState().catalog()
    qualified = catalog.qualifyIdentifier(identifier)
    try:
        table = catalog.getTableMetadata(qualified)
    except Exception:  # dropped: the catalog knows it no more
        database = _option(qualified.database()) or "default"
        name = f"{database}.{qualified.table()}"
        if name in known:
            return known[name]
        location = catalog.defaultTablePath(qualified).toString()
        try:
            namespace = catalog.getDatabaseMetadata(database).locationUri().toString()
        except Exception:  # the database went too: the table's parent folder stands in
            namespace = location.rstrip("/").rsplit("/", 1)[0]
        return DatasetRef(location, None, (namespace.rstrip("/"), name))
    provider = _option(table.provider())
    return DatasetRef(_table_location(spark_session, table), provider, _table_symlink(table, jvm, spark_session),
                      table.schema().json())


def _table_command_snapshot(jvm, qe, command, kind: str, known: dict[str, DatasetRef],
                            duration_ns: int, error) -> QuerySnapshot:
    """A snapshot of a table command: CREATE, DROP, TRUNCATE, ALTER TABLE, LOAD DATA."""
    session = qe.sparkSession()
    output = _catalog_ref(session, _table_identifier(jvm, command, kind), known, jvm)
    leaves: tuple[DatasetRef | None, ...] = ()
    previous = None
    if kind == LOAD_DATA:
        leaves = (DatasetRef(_load_path(command.path(), command.isLocal()), "file"),)
    elif kind == "AlterTableRenameCommand":
        old = session.sessionState().catalog().qualifyIdentifier(command.oldName())
        # a managed table's folder moves with its name; an external table's stays
        moved = output.uri.rstrip("/").rsplit("/", 1)[-1] == command.newName().table()
        previous = DatasetRef(session.sessionState().catalog().defaultTablePath(old).toString() if moved
                              else output.uri)
    ended = int(time.time() * 1000)
    return QuerySnapshot(
        command=kind, query_json="", output=output, output_columns=(), mode=None, leaves=leaves,
        started_ms=ended - duration_ns // 1_000_000, ended_ms=ended,
        error=str(error.getMessage()) if error is not None else None,
        stack_trace=_stack_trace(error) if error is not None else None,
        query_id=_query_id(qe), lifecycle=TABLE_COMMANDS[kind], previous=previous, query_uuid=_query_uuid(qe),
        sql=_sql_text(command) or _sql_text(qe.logical()),  # a resolved command keeps no origin: the parsed one does
    )


def _load_path(path: str, local: bool) -> str:
    """LOAD DATA's path; a LOCAL one is on the driver's file system, relative to its working directory."""
    return os.path.abspath(path) if local and "://" not in path and not path.startswith("file:") else path


def take_snapshot(jvm, qe, duration_ns: int, error=None, func_name: str = "",
                  known_tables: dict[str, DatasetRef] | None = None) -> QuerySnapshot | None:
    """Copy what lineage needs from a finished query; None when it wrote nothing.

    ``jvm`` is the py4j view of the driver JVM (``SparkContext._jvm``); ``func_name`` is the name
    Spark gave the execution; ``known_tables`` holds catalog tables capture saw, by ``db.table``
    (the only record of a dropped table's location).
    """
    command = qe.analyzed()
    kind = command.getClass().getSimpleName()
    if kind in TABLE_COMMANDS:
        return _table_command_snapshot(jvm, qe, command, kind, known_tables or {}, duration_ns, error)
    if kind == "MergeIntoCommand":  # Delta's MERGE: a plan shape of its own (capture/merge.py)
        from lineage_audit.capture.merge import merge_snapshot

        return merge_snapshot(jvm, qe, duration_ns, error)
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
        rdd_inputs=tuple(rdd_inputs(jvm, query)) if any(leaf in query_json for leaf in _RDD_LEAVES) else (),
        metrics=(_metrics(qe) or _delta_commit_metrics(jvm, qe.sparkSession(), output)) if error is None else {},
        started_ms=ended - duration_ns // 1_000_000,
        ended_ms=ended,
        error=message,
        stack_trace=trace,
        query_id=_query_id(qe),
        lifecycle="CREATE" if kind in CREATING_COMMANDS else None,
        nested=func_name == NESTED_WRITE,
        sql=_sql_text(command) or (_parsed_sql_text(command) if "CTERelation" in query_json else None),
        query_uuid=_query_uuid(qe),
    )


def _query_id(qe) -> int:
    try:
        return int(qe.id())
    except Exception:  # Spark versions before 3.5 number no query executions
        return -1


def _query_uuid(qe) -> str | None:
    try:
        return str(qe.queryId().toString())
    except Exception:  # Spark versions before 4.0 give a query no UUID
        return None


def _sql_text(command) -> str | None:
    """The statement a spark.sql() query was parsed from (the parser records it as the plan's origin)."""
    try:
        text = _option(command.origin().sqlText())
        return text if text is not None else _option(command.query().origin().sqlText())
    except Exception:  # an origin without SQL text: a DataFrame query
        return None


def _parsed_sql_text(command, limit: int = 200) -> str | None:
    """The statement behind a write whose query's root the analyzer made (a WITH query's ``WithCTE``):
    the first node, pre-order, that the parser made, within ``limit`` nodes."""
    try:
        stack = [command.query()]
        while stack and limit > 0:
            node, limit = stack.pop(), limit - 1
            text = _option(node.origin().sqlText())
            if text is not None:
                return text
            children = [node.children().apply(i) for i in range(node.children().size())]
            if node.getClass().getSimpleName() == "WithCTE":  # the definitions hold parsed plans too
                children += [node.cteDefs().apply(i) for i in range(node.cteDefs().size())]
            stack.extend(reversed(children))
    except Exception:  # a plan not shaped as expected: no text rather than no event
        return None
    return None


def encloses(ctas: QuerySnapshot, write: QuerySnapshot) -> bool:
    """Whether ``write`` is the file write ``ctas`` ran inside itself.

    ``saveAsTable`` and ``CREATE TABLE ... AS SELECT`` write their files through a nested query
    that Spark reports first, without the table (it does not exist yet), then report the CTAS.
    """
    from lineage_audit.capture.naming import dataset_identity

    return (ctas.command == CTAS and write.command == FILE_INSERT and write.nested
            and dataset_identity(ctas.output.uri) == dataset_identity(write.output.uri)
            and (ctas.query_id < 0 or write.query_id > ctas.query_id))


def fills(hive_ctas: QuerySnapshot, write: QuerySnapshot) -> bool:
    """Whether ``write`` is the insert a Hive CTAS ran into the table it created (reported just before it)."""
    from lineage_audit.capture.naming import dataset_identity

    return (hive_ctas.command == HIVE_CTAS and write.command in (HIVE_INSERT, FILE_INSERT)
            and dataset_identity(hive_ctas.output.uri) == dataset_identity(write.output.uri)
            and write.query_id > hive_ctas.query_id >= 0)


def _stack_trace(error) -> str:
    lines = [str(error.toString())]
    frames = error.getStackTrace()
    for i in range(min(len(frames), 50)):
        lines.append(f"\tat {frames[i].toString()}")
    return "\n".join(lines)
