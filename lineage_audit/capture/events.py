"""OpenLineage run events for a captured query and for the application around it.

Events are built with ``openlineage-python``'s classes, with the facets the official Spark
listener sends: run facets ``processing_engine``, ``spark_properties``, ``spark_applicationDetails``,
``spark_jobDetails`` (RUNNING), ``parent``; job facets ``jobType``, ``sql`` (and
``sourceCodeLocation``, the driver script, with its git commit when it is in a work tree); dataset
facets ``schema``, ``dataSource``, ``columnLineage``, ``lifecycleStateChange``, ``symlinks``,
``catalog`` (tables of a Hive metastore); input facet ``inputStatistics``; output facet
``outputStatistics``. A query gives START, one RUNNING per Spark job it ran, then COMPLETE or FAIL.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

import attr
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    RunFacet, catalog_dataset, column_lineage_dataset, datasource_dataset, error_message_run, extraction_error_run,
    input_statistics_input_dataset, job_type_job, lifecycle_state_change_dataset, output_statistics_output_dataset,
    parent_run, processing_engine_run, schema_dataset, sql_job, symlinks_dataset,
)
from openlineage.client.facet_v2 import base_subset_dataset  # the trimmed partition folders (naming.py)

from lineage_audit.capture.naming import dataset_identity, job_name, location_identity
from lineage_audit.capture.settings import CaptureSettings
from lineage_audit.capture.source_location import SourceLocation
from lineage_audit.capture.snapshot import CTAS, DROP_TABLE, HIVE_CTAS, LOAD_DATA, DatasetRef, QuerySnapshot

VERSION = "0.1.0"
PRODUCER = f"https://github.com/data-lineage-audit/data-lineage-audit/tree/v{VERSION}/lineage_audit/capture"
REPORTED_PROPERTIES = ("spark.master", "spark.app.name", "spark.app.id", "spark.sql.adaptive.enabled")


@attr.define
class SparkPropertiesRunFacet(RunFacet):
    """The Spark properties the official listener reports (a custom run facet)."""

    properties: dict[str, str] = attr.field(factory=dict)


@attr.define
class SparkApplicationDetailsRunFacet(RunFacet):
    """The application's identity as the official listener reports it (``spark_applicationDetails``)."""

    master: str | None = None
    appName: str | None = None  # noqa: N815 (the facet's field names)
    applicationId: str | None = None  # noqa: N815
    deployMode: str | None = None  # noqa: N815
    driverHost: str | None = None  # noqa: N815
    userName: str | None = None  # noqa: N815
    uiWebUrl: str | None = None  # noqa: N815


@attr.define
class SparkJobDetailsRunFacet(RunFacet):
    """The Spark job a RUNNING event stands for (``spark_jobDetails``)."""

    jobId: int  # noqa: N815


# Commands whose job name ends in their table (``db_table``), as the official listener names them.
TABLE_NAMED_JOBS = (CTAS, HIVE_CTAS, LOAD_DATA, "CreateDataSourceTableCommand")
# Commands Spark runs through the v2 API: the official listener names them without ``execute_``.
V2_COMMANDS = (DROP_TABLE,)


@dataclass(frozen=True)
class Application:
    """The Spark application: the parent run of every query run."""

    name: str
    run_id: str
    spark_version: str
    properties: Mapping[str, str]
    namespace: str
    source: SourceLocation | None = None
    details: Mapping[str, str] | None = None  # spark_applicationDetails: master, appName, applicationId, ...

    @property
    def catalog(self) -> catalog_dataset.CatalogDatasetFacet | None:
        """The ``catalog`` facet of catalog tables: the official listener sends it for a Hive metastore only."""
        if self.properties.get("spark.sql.catalogImplementation") != "hive":
            return None
        warehouse = self.properties.get("spark.sql.warehouse.dir", "spark-warehouse")
        if "://" not in warehouse and not warehouse.startswith("file:"):
            warehouse = "file:" + os.path.abspath(warehouse)
        uris = self.properties.get("spark.hadoop.hive.metastore.uris") or self.properties.get("hive.metastore.uris")
        metastore = "hive://" + uris.split(",")[0].split("://", 1)[-1] if uris else None
        return catalog_dataset.CatalogDatasetFacet(framework="hive", type="hive", name="default", source="spark",
                                                   warehouseUri=warehouse.rstrip("/"), metadataUri=metastore)

    @property
    def job_name(self) -> str:
        from lineage_audit.capture.naming import snake_case

        return snake_case(self.name)


def _job_facets(app: Application, settings: CaptureSettings, job_type: str, sql: str | None = None) -> dict[str, Any]:
    facets: dict[str, Any] = {"jobType": job_type_job.JobTypeJobFacet(
        processingType="BATCH", integration="SPARK", jobType=job_type)}
    if app.source is not None:
        facets["sourceCodeLocation"] = app.source.facet()
    if sql:
        facets["sql"] = sql_job.SQLJobFacet(query=sql, dialect="spark")
    return {k: v for k, v in facets.items() if settings.facet_enabled(k)}


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")


def _type_name(data_type: str | Mapping[str, Any]) -> str:
    """Spark's ``typeName`` of a type in its JSON form, as the official listener names field types.

    A user-defined type is named after its JVM class without ``UDT`` (``VectorUDT``: ``vector``);
    one defined in Python only is a ``PythonUserDefinedType`` to the JVM: ``pythonuserdefined``.
    """
    if not isinstance(data_type, Mapping):
        return str(data_type)
    if data_type.get("type") != "udt":
        return str(data_type.get("type", "struct"))
    jvm_class = str(data_type.get("class") or "PythonUserDefinedType").rsplit(".", 1)[-1]
    return jvm_class.removesuffix("$").removesuffix("Type").removesuffix("UDT").lower()


def _nested_types(data_type: str | Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(name, type) of what a type holds: a struct's fields, an array's ``_element``, a map's
    ``key`` and ``value`` (SchemaDatasetFacet 1-2-0's nested fields); a user-defined type shows none."""
    if not isinstance(data_type, Mapping):
        return []
    kind = data_type.get("type", "struct")
    if kind == "struct":
        return [(f["name"], f["type"]) for f in data_type.get("fields", [])]
    if kind == "array":
        return [("_element", data_type["elementType"])]
    if kind == "map":
        return [("key", data_type["keyType"]), ("value", data_type["valueType"])]
    return []


def _field(name: str, data_type: str | Mapping[str, Any]) -> schema_dataset.SchemaDatasetFacetFields:
    return schema_dataset.SchemaDatasetFacetFields(
        name=name, type=_type_name(data_type), fields=[_field(n, t) for n, t in _nested_types(data_type)])


def schema_facet(schema_json: str | None) -> schema_dataset.SchemaDatasetFacet | None:
    """The schema facet of a Spark schema (its JSON), nested types spelled out as the official listener does.

    >>> schema = {"type": "struct", "fields": [
    ...     {"name": "tags", "type": {"type": "array", "elementType": "string", "containsNull": True}},
    ...     {"name": "attrs", "type": {"type": "map", "keyType": "string", "valueType": "integer"}},
    ...     {"name": "features", "type": {"type": "udt", "class": "org.apache.spark.ml.linalg.VectorUDT",
    ...                                   "sqlType": {"type": "struct", "fields": []}}}]}
    >>> for field in schema_facet(json.dumps(schema)).fields:
    ...     print(field.name, field.type, [(nested.name, nested.type) for nested in field.fields])
    tags array [('_element', 'string')]
    attrs map [('key', 'string'), ('value', 'integer')]
    features vector []
    """
    if not schema_json:
        return None
    fields = json.loads(schema_json).get("fields", [])
    return schema_dataset.SchemaDatasetFacet(fields=[_field(f["name"], f["type"]) for f in fields])


def column_lineage_facet(body: Mapping[str, Any]) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    """Build the facet from its JSON body (as column_lineage.to_facet_dict returns it)."""

    def input_field(entry: Mapping[str, Any]) -> column_lineage_dataset.InputField:
        return column_lineage_dataset.InputField(
            namespace=entry["namespace"], name=entry["name"], field=entry["field"],
            transformations=[column_lineage_dataset.Transformation(**t) for t in entry.get("transformations", [])],
        )

    fields = {name: column_lineage_dataset.Fields(inputFields=[input_field(e) for e in value["inputFields"]])
              for name, value in body.get("fields", {}).items()}
    return column_lineage_dataset.ColumnLineageDatasetFacet(
        fields=fields, dataset=[input_field(e) for e in body.get("dataset", [])])


def _dataset_facets(ref: DatasetRef, settings: CaptureSettings,
                    catalog: catalog_dataset.CatalogDatasetFacet | None = None) -> dict[str, Any]:
    namespace, _ = dataset_identity(ref.uri)
    facets: dict[str, Any] = {"dataSource": datasource_dataset.DatasourceDatasetFacet(name=namespace, uri=namespace)}
    schema = schema_facet(ref.schema_json)
    if schema is not None:
        facets["schema"] = schema
    if ref.table:
        facets["symlinks"] = symlinks_dataset.SymlinksDatasetFacet(identifiers=[
            symlinks_dataset.Identifier(namespace=ref.table[0], name=ref.table[1], type="TABLE")])
        if catalog is not None:
            facets["catalog"] = catalog
    return {k: v for k, v in facets.items() if settings.facet_enabled(k)}


def _input_facets(ref: DatasetRef, settings: CaptureSettings) -> dict[str, Any]:
    if ref.size is None and ref.file_count is None or not settings.facet_enabled("inputStatistics"):
        return {}
    return {"inputStatistics": input_statistics_input_dataset.InputStatisticsInputDatasetFacet(
        size=ref.size, fileCount=ref.file_count)}


def _partition_locations(refs: Sequence[DatasetRef]) -> list[str]:
    """The partition folders behind a trimmed dataset name (the official ``subset`` facet's locations).

    Only the partition trimmers make a subset: a name the removePath pattern shortened gets none, as
    with the official listener.
    """
    names = []
    for ref in refs:
        identity, location = dataset_identity(ref.uri, remove=False), location_identity(ref.uri)
        if location != identity and location[1] not in names:
            names.append(location[1])
    return names


def inputs_of(snapshot: QuerySnapshot, settings: CaptureSettings,
              catalog: catalog_dataset.CatalogDatasetFacet | None = None) -> list[InputDataset]:
    by_identity: dict[tuple[str, str], list[DatasetRef]] = {}
    for ref in (*snapshot.leaves, *snapshot.rdd_inputs):
        if ref is not None:
            by_identity.setdefault(dataset_identity(ref.uri), []).append(ref)
    inputs = []
    for identity, refs in by_identity.items():
        input_facets = _input_facets(refs[0], settings)
        locations = _partition_locations(refs)
        if locations and settings.facet_enabled("subset"):
            input_facets["subset"] = base_subset_dataset.InputSubsetInputDatasetFacet(
                inputCondition=base_subset_dataset.LocationSubsetCondition(locations=locations))
        inputs.append(InputDataset(namespace=identity[0], name=identity[1],
                                   facets=_dataset_facets(refs[0], settings, catalog), inputFacets=input_facets))
    return inputs


def _lifecycle_facet(snapshot: QuerySnapshot) -> lifecycle_state_change_dataset.LifecycleStateChangeDatasetFacet | None:
    state = snapshot.lifecycle or ("CREATE" if snapshot.command == CTAS else
                                   "OVERWRITE" if (snapshot.mode or "").lower() == "overwrite" else None)
    if state is None:
        return None
    previous = None
    if snapshot.previous is not None:
        namespace, name = dataset_identity(snapshot.previous.uri)
        previous = lifecycle_state_change_dataset.PreviousIdentifier(name=name, namespace=namespace)
    return lifecycle_state_change_dataset.LifecycleStateChangeDatasetFacet(
        lifecycleStateChange=lifecycle_state_change_dataset.LifecycleStateChange[state], previousIdentifier=previous)


def output_of(snapshot: QuerySnapshot, settings: CaptureSettings, lineage: Mapping[str, Any] | None,
              complete: bool, catalog: catalog_dataset.CatalogDatasetFacet | None = None) -> OutputDataset:
    namespace, name = dataset_identity(snapshot.output.uri)
    facets = _dataset_facets(snapshot.output, settings, catalog)
    if lineage is not None and settings.facet_enabled("columnLineage"):
        facets["columnLineage"] = column_lineage_facet(lineage)
    lifecycle = _lifecycle_facet(snapshot)
    if lifecycle is not None and settings.facet_enabled("lifecycleStateChange"):
        facets["lifecycleStateChange"] = lifecycle
    output_facets = {}
    if complete and snapshot.metrics and settings.facet_enabled("outputStatistics"):
        output_facets["outputStatistics"] = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
            rowCount=snapshot.metrics.get("numOutputRows"), size=snapshot.metrics.get("numOutputBytes"),
            fileCount=snapshot.metrics.get("numFiles"))
    locations = _partition_locations([snapshot.output])
    if locations and settings.facet_enabled("subset"):
        output_facets["subset"] = base_subset_dataset.OutputSubsetOutputDatasetFacet(
            outputCondition=base_subset_dataset.LocationSubsetCondition(locations=locations))
    return OutputDataset(namespace=namespace, name=name, facets=facets, outputFacets=output_facets)


def _run_facets(app: Application, settings: CaptureSettings, parent: tuple[str, str, str] | None,
                with_details: bool = False) -> dict[str, Any]:
    """The run facets every event carries; ``with_details`` adds spark_applicationDetails (START, RUNNING)."""
    facets: dict[str, Any] = {
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version=app.spark_version, name="spark", openlineageAdapterVersion=VERSION),
        "spark_properties": SparkPropertiesRunFacet(
            properties={k: v for k, v in app.properties.items() if k in REPORTED_PROPERTIES}),
    }
    # What the official listener calls environment-properties: the variables named by
    # facets.custom_environment_variables, as the driver sees them (an empty map when none are named).
    facets["environment-properties"] = {
        **attr.asdict(RunFacet()),
        "environment-properties": {name: os.environ[name] for name in settings.environment_variables
                                   if name in os.environ}}
    if with_details and app.details:
        facets["spark_applicationDetails"] = SparkApplicationDetailsRunFacet(**app.details)
    if parent is not None:
        namespace, name, run_id = parent
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=run_id), job=parent_run.Job(namespace=namespace, name=name))
    return {k: v for k, v in facets.items() if settings.facet_enabled(k)}


def application_parent(app: Application, settings: CaptureSettings) -> tuple[str, str, str] | None:
    """The parent of the application run: one given by the scheduler via parentJob* keys, if any."""
    if settings.parent_run_id and settings.parent_job_name:
        return settings.parent_job_namespace or settings.namespace, settings.parent_job_name, settings.parent_run_id
    return None


def application_event(state: RunState, app: Application, settings: CaptureSettings, at_ms: int) -> RunEvent:
    facets = _run_facets(app, settings, application_parent(app, settings), with_details=state == RunState.START)
    return RunEvent(
        eventType=state, eventTime=iso(at_ms), producer=PRODUCER, run=Run(runId=app.run_id, facets=facets),
        job=Job(namespace=settings.namespace, name=app.job_name, facets=_job_facets(app, settings, "APPLICATION")),
    )


def query_job_name(snapshot: QuerySnapshot, app: Application, settings: CaptureSettings) -> str:
    """``<app>.execute_<command>.<output>`` as the official listener names a query's job.

    Some commands end in their table rather than their path; v2 commands have no ``execute_``.
    The job name ends in the output's path as written, before the removePath pattern shortens it.
    """
    _, output_name = dataset_identity(snapshot.output.uri, remove=False)
    if snapshot.command in TABLE_NAMED_JOBS and snapshot.output.table is not None:
        output_name = snapshot.output.table[1]
    name = job_name(app.name, snapshot.command, output_name, settings.append_dataset_name)
    if snapshot.command in V2_COMMANDS:
        name = name.replace(".execute_", ".", 1)
    return name


def query_events(snapshot: QuerySnapshot, run_id: str, app: Application, settings: CaptureSettings,
                 lineage: Mapping[str, Any] | None, extraction_error: str | None = None,
                 spark_jobs: Sequence[tuple[int, int]] = ()) -> list[RunEvent]:
    """START, a RUNNING per Spark job (id, submission ms), then COMPLETE (or FAIL) for one query.

    The application run is their parent.
    """
    job = Job(namespace=settings.namespace, name=query_job_name(snapshot, app, settings),
              facets=_job_facets(app, settings, "SQL_JOB", snapshot.sql))
    parent = (settings.namespace, app.job_name, app.run_id)
    end_facets = _run_facets(app, settings, parent)
    if snapshot.error is not None:
        end_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=snapshot.error, programmingLanguage="JAVA", stackTrace=snapshot.stack_trace)
    if extraction_error is not None:
        end_facets["extractionError"] = extraction_error_run.ExtractionErrorRunFacet(
            totalTasks=1, failedTasks=1, errors=[extraction_error_run.Error(errorMessage=extraction_error,
                                                                            task="columnLineage")])
    catalog = app.catalog
    inputs = inputs_of(snapshot, settings, catalog)
    running = output_of(snapshot, settings, lineage, complete=False, catalog=catalog)
    events = [RunEvent(eventType=RunState.START, eventTime=iso(snapshot.started_ms), producer=PRODUCER,
                       run=Run(runId=run_id, facets=_run_facets(app, settings, parent, with_details=True)),
                       job=job, inputs=inputs, outputs=[running])]
    for job_id, submitted_ms in spark_jobs:
        facets = _run_facets(app, settings, parent, with_details=True)
        if settings.facet_enabled("spark_jobDetails"):
            facets["spark_jobDetails"] = SparkJobDetailsRunFacet(jobId=job_id)
        at = min(max(submitted_ms, snapshot.started_ms), snapshot.ended_ms)  # clocks agree to the ms only
        events.append(RunEvent(eventType=RunState.RUNNING, eventTime=iso(at), producer=PRODUCER,
                               run=Run(runId=run_id, facets=facets), job=job, inputs=inputs, outputs=[running]))
    events.append(RunEvent(
        eventType=RunState.FAIL if snapshot.error else RunState.COMPLETE, eventTime=iso(snapshot.ended_ms),
        producer=PRODUCER, run=Run(runId=run_id, facets=end_facets), job=job, inputs=inputs,
        outputs=[output_of(snapshot, settings, lineage, complete=snapshot.error is None, catalog=catalog)]))
    return events
