"""Marquez's JSON shapes as pydantic models, for this service's OpenAPI document only.

Routes return the dicts that :mod:`lineage_audit.service.views` builds; these models describe them
(``responses={200: {"model": ...}}``), with extra keys allowed as Marquez allows them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field




class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


class Namespace(_Shape):
    name: str
    createdAt: datetime
    updatedAt: datetime
    ownerName: str
    description: str | None = None
    isHidden: bool = False


class NamespaceList(_Shape):
    namespaces: list[Namespace]
    totalCount: int


class CreatedNamespace(BaseModel):
    ownerName: str = Field(min_length=1, max_length=256, description="The owner of the namespace.")
    description: str | None = Field(None, description="The description of the namespace.")


class Source(_Shape):
    type: str
    name: str
    createdAt: datetime
    updatedAt: datetime
    connectionUrl: str | None = None
    description: str | None = None


class SourceList(_Shape):
    sources: list[Source]
    totalCount: int


class DatasetId(_Shape):
    namespace: str
    name: str


class JobId(_Shape):
    namespace: str
    name: str


class VersionId(_Shape):
    namespace: str
    name: str
    version: str | None = None


class RunDatasetVersion(_Shape):
    datasetVersionId: VersionId
    facets: dict[str, Any]


class Run(_Shape):
    id: str
    createdAt: datetime
    updatedAt: datetime
    nominalStartTime: datetime | None = None
    nominalEndTime: datetime | None = None
    state: Literal["NEW", "RUNNING", "COMPLETED", "FAILED", "ABORTED"]
    startedAt: datetime | None = None
    endedAt: datetime | None = None
    durationMs: int | None = None
    args: dict[str, Any]
    jobVersion: VersionId | None = None
    inputDatasetVersions: list[RunDatasetVersion]
    outputDatasetVersions: list[RunDatasetVersion]
    context: dict[str, Any]
    facets: dict[str, Any]
    parentRunUuid: str | None = None


class RunList(_Shape):
    runs: list[Run]
    totalCount: int


class FacetsResult(_Shape):
    runId: str
    facets: dict[str, Any]


class Job(_Shape):
    id: JobId
    type: str
    name: str
    simpleName: str
    parentJobName: str | None = None
    parentJobUuid: str | None = None
    createdAt: datetime
    updatedAt: datetime
    namespace: str
    inputs: list[DatasetId]
    outputs: list[DatasetId]
    location: str | None = None
    description: str | None = None
    latestRun: Run | None = None
    latestRuns: list[Run]
    facets: dict[str, Any]
    currentVersion: str | None = None
    labels: list[str]
    tags: list[str]


class JobList(_Shape):
    jobs: list[Job]
    totalCount: int


class JobVersion(_Shape):
    id: VersionId
    name: str
    version: str
    createdAt: datetime
    namespace: str
    inputs: list[DatasetId]
    outputs: list[DatasetId]
    location: str | None = None
    latestRun: Run | None = None
    facets: dict[str, Any]


class JobVersionList(_Shape):
    versions: list[JobVersion]
    totalCount: int


class DatasetField(_Shape):
    name: str
    type: str | None = None
    tags: list[str]
    description: str | None = None


class ColumnLineageInputField(_Shape):
    namespace: str
    dataset: str
    field: str
    transformationDescription: str | None = None
    transformationType: str | None = None
    transformations: list[dict[str, Any]]


class ColumnLineage(_Shape):
    name: str
    inputFields: list[ColumnLineageInputField]


class Dataset(_Shape):
    id: DatasetId
    type: str
    name: str
    physicalName: str
    createdAt: datetime
    updatedAt: datetime
    namespace: str
    sourceName: str
    fields: list[DatasetField]
    tags: list[str]
    lastModifiedAt: datetime | None = None
    lastLifecycleState: str | None = None
    description: str | None = None
    facets: dict[str, Any]
    currentVersion: str | None = None
    columnLineage: list[ColumnLineage] | None = None
    deleted: bool


class DatasetList(_Shape):
    datasets: list[Dataset]
    totalCount: int


class DatasetVersion(_Shape):
    id: VersionId
    type: str
    name: str
    physicalName: str
    createdAt: datetime
    version: str
    namespace: str
    sourceName: str
    fields: list[DatasetField]
    tags: list[str]
    lifecycleState: str | None = None
    description: str | None = None
    createdByRun: Run | None = None
    facets: dict[str, Any]


class DatasetVersionList(_Shape):
    versions: list[DatasetVersion]
    totalCount: int


class Tag(_Shape):
    name: str
    description: str | None = None


class TagList(_Shape):
    tags: list[Tag]
    totalCount: int


class CreatedTag(BaseModel):
    description: str | None = Field(None, description="The description of the tag.")


class SearchResult(_Shape):
    type: Literal["DATASET", "JOB"]
    name: str
    updatedAt: datetime
    namespace: str
    nodeId: str


class SearchResultList(_Shape):
    totalCount: int
    results: list[SearchResult]


class UpstreamJob(_Shape):
    namespace: str
    name: str
    version: str | None = None


class UpstreamRunSummary(_Shape):
    id: str
    start: datetime | None = None
    end: datetime | None = None
    status: str


class UpstreamInput(_Shape):
    namespace: str
    name: str
    version: str | None = None
    producedByRunId: str | None = None


class UpstreamRun(_Shape):
    job: UpstreamJob
    run: UpstreamRunSummary
    inputs: list[UpstreamInput]


class UpstreamRunLineage(_Shape):
    runs: list[UpstreamRun]


class LineageEventList(_Shape):
    events: list[dict[str, Any]]
    totalCount: int


class IntervalMetric(_Shape):
    startInterval: datetime
    endInterval: datetime
    count: int


class LineageMetric(_Shape):
    startInterval: datetime
    endInterval: datetime
    count: int = Field(description="Events of any type in the interval")
    start: int
    complete: int
    fail: int
    abort: int


def documented(model: type[BaseModel], description: str, *errors: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route: its 200 body, and the errors it may answer with."""
    reasons = {400: "A parameter is invalid", 401: "API key missing or wrong", 404: "Not found"}
    responses: dict[int | str, dict[str, Any]] = {200: {"model": model, "description": description}}
    for code in (*errors, 401):
        responses[code] = {"description": reasons[code], "content": {"application/json": {"schema": {
            "type": "object", "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}}}}}
    return responses
