"""The JSON of the classification and policy routes (``routes/classifications.py``) as pydantic models, for
the OpenAPI document only."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lineage_audit.service.models import DatasetId, JobId, _Shape


class FieldRef(_Shape):
    namespace: str
    dataset: str
    field: str


class Transformation(_Shape):
    type: Literal["DIRECT", "INDIRECT"]
    subtype: str | None = None
    masking: bool
    description: str | None = None


class Step(_Shape):
    job: JobId | None = Field(description="The job that wrote the step's output")
    from_: FieldRef = Field(alias="from")
    to: FieldRef
    transformation: Transformation


class ClassSource(FieldRef):
    origin: Literal["rule", "tag", "facet"]
    detail: str = Field(description="Which rule, tag or facet entry classified the source column")


class Carry(_Shape):
    class_: str = Field(alias="class")
    source: ClassSource
    path: list[Step] = Field(description="From the source column down to this field; empty at the source")
    maskedAt: Step | None = Field(None, description="In `masked`: the step that masked the class")


class FieldEntry(FieldRef):
    type: str | None = None
    carries: list[Carry] = Field(description="Classes the field holds in the clear")
    masked: list[Carry] = Field(description="Classes that reached the field only through a masking step")
    influencedBy: list[Carry] = Field(description="Classes of columns that filter, join, group or order it")


class DeclaredClass(_Shape):
    name: str
    description: str


class Classifications(_Shape):
    classes: list[DeclaredClass]
    fields: list[FieldEntry] = Field(description="The fields with any class, by dataset and schema order")
    storeVersion: int = Field(description="The ledger's length (events stored) the answer was computed at")


class DatasetClassifications(_Shape):
    id: DatasetId
    classes: list[str]
    maskedClasses: list[str]
    influencedByClasses: list[str]
    rowsInfluencedBy: list[Carry] = Field(description="Classes the dataset's rows depend on (filters, joins)")
    fields: list[FieldEntry] = Field(description="Every current field of the dataset")


class Violation(FieldRef):
    class_: str = Field(alias="class")
    source: ClassSource
    path: list[Step]


class PolicyCheck(_Shape):
    policy: str = Field(description="The policy file checked against")
    passed: bool
    checkedFields: int
    violations: list[Violation]
