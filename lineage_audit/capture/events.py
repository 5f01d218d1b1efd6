"""OpenLineage run events for a captured query and for the application around it.

Events are built with ``openlineage-python``'s classes, with the facets the official Spark
listener sends: run facets ``processing_engine``, ``spark_properties``, ``parent``; job facet
``jobType`` (and ``sourceCodeLocation``, the driver script, with its git commit when it is in a
work tree); dataset facets ``schema``, ``dataSource``, ``columnLineage``,
``lifecycleStateChange``, ``symlinks``; output facet ``outputStatistics``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

import attr
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    RunFacet, column_lineage_dataset, datasource_dataset, error_message_run, extraction_error_run, job_type_job,
    lifecycle_state_change_dataset, output_statistics_output_dataset, parent_run, processing_engine_run,
    schema_dataset, symlinks_dataset,
)

from lineage_audit.capture.naming import dataset_identity, job_name
from lineage_audit.capture.settings import CaptureSettings
from lineage_audit.capture.source_location import SourceLocation
from lineage_audit.capture.snapshot import CTAS, DatasetRef, QuerySnapshot

VERSION = "0.1.0"
PRODUCER = f"https://github.com/data-lineage-audit/data-lineage-audit/tree/v{VERSION}/lineage_audit/capture"
REPORTED_PROPERTIES = ("spark.master", "spark.app.name", "spark.app.id", "spark.sql.adaptive.enabled")


@attr.define
class SparkPropertiesRunFacet(RunFacet):
    """The Spark properties the official listener reports (a custom run facet)."""

    properties: dict[str, str] = attr.field(factory=dict)


@dataclass(frozen=True)
class Application:
    """The Spark application: the parent run of every query run."""

    name: str
    run_id: str
    spark_version: str
    properties: Mapping[str, str]
    namespace: str
    source: SourceLocation | None = None

    @property
    def job_name(self) -> str:
        from lineage_audit.capture.naming import snake_case

        return snake_case(self.name)


def _job_facets(app: Application, settings: CaptureSettings, job_type: str) -> dict[str, Any]:
    facets: dict[str, Any] = {"jobType": job_type_job.JobTypeJobFacet(
        processingType="BATCH", integration="SPARK", jobType=job_type)}
    if app.source is not None:
        facets["sourceCodeLocation"] = app.source.facet()
    return {k: v for k, v in facets.items() if settings.facet_enabled(k)}


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")


def _field(spark_field: Mapping[str, Any]) -> schema_dataset.SchemaDatasetFacetFields:
    data_type = spark_field["type"]
    nested = []
    if isinstance(data_type, dict):
        kind = data_type.get("type", "struct")
        element = data_type.get("elementType") if kind == "array" else data_type
        if isinstance(element, dict) and element.get("type") == "struct":
            nested = [_field(f) for f in element.get("fields", [])]
        type_name = kind
    else:
        type_name = str(data_type)
    return schema_dataset.SchemaDatasetFacetFields(name=spark_field["name"], type=type_name, fields=nested)


def schema_facet(schema_json: str | None) -> schema_dataset.SchemaDatasetFacet | None:
    if not schema_json:
        return None
    fields = json.loads(schema_json).get("fields", [])
    return schema_dataset.SchemaDatasetFacet(fields=[_field(f) for f in fields])


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


def _dataset_facets(ref: DatasetRef, settings: CaptureSettings) -> dict[str, Any]:
    namespace, _ = dataset_identity(ref.uri)
    facets: dict[str, Any] = {"dataSource": datasource_dataset.DatasourceDatasetFacet(name=namespace, uri=namespace)}
    schema = schema_facet(ref.schema_json)
    if schema is not None:
        facets["schema"] = schema
    if ref.table:
        facets["symlinks"] = symlinks_dataset.SymlinksDatasetFacet(identifiers=[
            symlinks_dataset.Identifier(namespace=ref.table[0], name=ref.table[1], type="TABLE")])
    return {k: v for k, v in facets.items() if settings.facet_enabled(k)}


def inputs_of(snapshot: QuerySnapshot, settings: CaptureSettings) -> list[InputDataset]:
    seen, inputs = set(), []
    for ref in snapshot.leaves:
        if ref is None:
            continue
        identity = dataset_identity(ref.uri)
        if identity in seen:
            continue
        seen.add(identity)
        inputs.append(InputDataset(namespace=identity[0], name=identity[1], facets=_dataset_facets(ref, settings)))
    return inputs


def output_of(snapshot: QuerySnapshot, settings: CaptureSettings, lineage: Mapping[str, Any] | None,
              complete: bool) -> OutputDataset:
    namespace, name = dataset_identity(snapshot.output.uri)
    facets = _dataset_facets(snapshot.output, settings)
    if lineage is not None and settings.facet_enabled("columnLineage"):
        facets["columnLineage"] = column_lineage_facet(lineage)
    state = ("CREATE" if snapshot.command == CTAS else
             "OVERWRITE" if (snapshot.mode or "").lower() == "overwrite" else None)
    if state and settings.facet_enabled("lifecycleStateChange"):
        facets["lifecycleStateChange"] = lifecycle_state_change_dataset.LifecycleStateChangeDatasetFacet(
            lifecycleStateChange=lifecycle_state_change_dataset.LifecycleStateChange[state])
    output_facets = {}
    if complete and snapshot.metrics and settings.facet_enabled("outputStatistics"):
        output_facets["outputStatistics"] = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
            rowCount=snapshot.metrics.get("numOutputRows"), size=snapshot.metrics.get("numOutputBytes"),
            fileCount=snapshot.metrics.get("numFiles"))
    return OutputDataset(namespace=namespace, name=name, facets=facets, outputFacets=output_facets)


def _run_facets(app: Application, settings: CaptureSettings, parent: tuple[str, str, str] | None) -> dict[str, Any]:
    facets: dict[str, Any] = {
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version=app.spark_version, name="spark", openlineageAdapterVersion=VERSION),
        "spark_properties": SparkPropertiesRunFacet(
            properties={k: v for k, v in app.properties.items() if k in REPORTED_PROPERTIES}),
    }
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
    return RunEvent(
        eventType=state, eventTime=iso(at_ms), producer=PRODUCER,
        run=Run(runId=app.run_id, facets=_run_facets(app, settings, application_parent(app, settings))),
        job=Job(namespace=settings.namespace, name=app.job_name, facets=_job_facets(app, settings, "APPLICATION")),
    )


def query_events(snapshot: QuerySnapshot, run_id: str, app: Application, settings: CaptureSettings,
                 lineage: Mapping[str, Any] | None, extraction_error: str | None = None) -> list[RunEvent]:
    """START and COMPLETE (or FAIL) for one write, the application run as their parent."""
    _, output_name = dataset_identity(snapshot.output.uri)
    job = Job(namespace=settings.namespace,
              name=job_name(app.name, snapshot.command, output_name, settings.append_dataset_name),
              facets=_job_facets(app, settings, "SQL_JOB"))
    facets = _run_facets(app, settings, (settings.namespace, app.job_name, app.run_id))
    end_facets = dict(facets)
    if snapshot.error is not None:
        end_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=snapshot.error, programmingLanguage="JAVA", stackTrace=snapshot.stack_trace)
    if extraction_error is not None:
        end_facets["extractionError"] = extraction_error_run.ExtractionErrorRunFacet(
            totalTasks=1, failedTasks=1, errors=[extraction_error_run.Error(errorMessage=extraction_error,
                                                                            task="columnLineage")])
    inputs = inputs_of(snapshot, settings)
    start = RunEvent(eventType=RunState.START, eventTime=iso(snapshot.started_ms), producer=PRODUCER,
                     run=Run(runId=run_id, facets=facets), job=job, inputs=inputs,
                     outputs=[output_of(snapshot, settings, lineage, complete=False)])
    end = RunEvent(eventType=RunState.FAIL if snapshot.error else RunState.COMPLETE,
                   eventTime=iso(snapshot.ended_ms), producer=PRODUCER, run=Run(runId=run_id, facets=end_facets),
                   job=job, inputs=inputs,
                   outputs=[output_of(snapshot, settings, lineage, complete=snapshot.error is None)])
    return [start, end]
