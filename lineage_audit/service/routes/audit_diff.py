"""What changed: between two runs of a job (``/audit/diff/runs``), or in a dataset between two moments
(``/namespaces/{namespace}/datasets/{dataset}/diff``). Both answer :mod:`lineage_audit.service.diff`'s JSON.

Registered before the dataset routes: ``/datasets/{dataset:path}`` would take ``<name>/diff`` for a name.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.engine import Connection, RowMapping

from lineage_audit.service.db import datasets
from lineage_audit.service.diff import dataset_diff, run_row, runs_diff
from lineage_audit.service.diff_models import Diff
from lineage_audit.service.diff_moments import parse_moment
from lineage_audit.service.lookups import NameRoute
from lineage_audit.service.models import documented
from lineage_audit.service.routes.datasets import DatasetName
from lineage_audit.service.symlinks import symlink_target

router = APIRouter(tags=["Audit"], route_class=NameRoute)


def _run_id(value: str, parameter: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise HTTPException(400, f"{parameter}: '{value}' is not a UUID") from None


@router.get("/audit/diff/runs", summary="What changed between two runs of a job",
            description="Inputs and outputs added and removed; per dataset the run read or wrote (with its child "
                        "runs), fields added, removed or retyped, column-lineage edges added, removed or with other "
                        "transformations, and row counts before and after. Both runs must be of the same job.",
            responses=documented(Diff, "The diff, from the first run to the second", 400, 404))
def diff_runs(request: Request,
              from_: Annotated[str, Query(alias="from", description="The earlier run's id")],
              to: Annotated[str, Query(description="The later run's id")]) -> JSONResponse:
    before, after = _run_id(from_, "from"), _run_id(to, "to")
    with request.app.state.engine.connect() as conn:
        return JSONResponse(runs_diff(conn, run_row(conn, before, "from"), run_row(conn, after, "to")))


@router.get("/namespaces/{namespace}/datasets/{dataset:path}/diff",
            summary="What changed in a dataset between two moments",
            description="The dataset as the events up to each moment (by eventTime) left it: its current version "
                        "then (fields, column lineage, row count), the jobs writing it and their inputs. 404 when "
                        "it did not exist at `to`; when it did not at `from`, everything is added.",
            responses=documented(Diff, "The diff, from the first moment to the second", 400, 404))
def diff_dataset(request: Request, namespace: str, dataset: DatasetName,
                 from_: Annotated[str, Query(alias="from", description="The earlier moment (ISO 8601)")],
                 to: Annotated[str | None, Query(description="The later moment (ISO 8601); now when absent")] = None
                 ) -> JSONResponse:
    since = parse_moment(from_, "from")
    until = parse_moment(to, "to") if to is not None else datetime.now(timezone.utc)
    with request.app.state.engine.connect() as conn:
        return JSONResponse(dataset_diff(conn, _dataset(conn, namespace, dataset), since, until))


def _dataset(conn: Connection, namespace: str, name: str) -> RowMapping:
    """The dataset named so (soft-deleted ones too: they existed), or named with the leading slash a merged
    ``//`` lost, or having the name among its symlinks."""
    for candidate in (name, "/" + name):
        row = conn.execute(select(datasets).where(datasets.c.namespace == namespace, datasets.c.name == candidate)
                           ).mappings().first()
        if row is not None:
            return row
    row = symlink_target(conn, namespace, name)
    if row is None:
        raise HTTPException(404, f"Dataset '{name}' not found in namespace '{namespace}'.")
    return row
