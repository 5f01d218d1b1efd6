"""The JSON of the diff routes (``routes/audit_diff.py``) as pydantic models, for the OpenAPI document only."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lineage_audit.service.models import DatasetId, JobId, _Shape


class DiffSide(_Shape):
    time: str | None = None
    runId: str | None = None
    state: str | None = None
    jobVersion: str | None = None
    datasetVersion: str | None = None


class DatasetIdChanges(_Shape):
    added: list[DatasetId]
    removed: list[DatasetId]
    unchanged: list[DatasetId]


class JobIdChanges(_Shape):
    added: list[JobId]
    removed: list[JobId]
    unchanged: list[JobId]


class DiffField(_Shape):
    name: str
    type: str | None = None


class RetypedField(_Shape):
    name: str
    fromType: str | None = None
    toType: str | None = None


class FieldChanges(_Shape):
    added: list[DiffField]
    removed: list[DiffField]
    retyped: list[RetypedField]


class InputField(_Shape):
    namespace: str
    name: str
    field: str


class Transformation(_Shape):
    type: str | None = None
    subtype: str | None = None
    description: str | None = None
    masking: bool


class LineageEdge(_Shape):
    field: str
    input: InputField
    transformations: list[Transformation]


class ChangedLineageEdge(_Shape):
    field: str
    input: InputField
    fromTransformations: list[Transformation]
    toTransformations: list[Transformation]


class LineageChanges(_Shape):
    added: list[LineageEdge]
    removed: list[LineageEdge]
    changed: list[ChangedLineageEdge]


class RowCounts(_Shape):
    from_: int | None = Field(None, alias="from")
    to: int | None = None


class DatasetChanges(_Shape):
    namespace: str
    name: str
    role: Literal["OUTPUT", "INPUT"]
    fromVersion: str | None = None
    toVersion: str | None = None
    fields: FieldChanges
    columnLineage: LineageChanges
    rowCount: RowCounts
    changed: bool


class Diff(_Shape):
    kind: Literal["runs", "dataset"]
    from_: DiffSide = Field(alias="from")
    to: DiffSide
    job: JobId | None = None
    dataset: DatasetId | None = None
    inputs: DatasetIdChanges
    outputs: DatasetIdChanges
    writers: JobIdChanges
    datasets: list[DatasetChanges]
    changed: bool
