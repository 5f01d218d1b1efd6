"""Datasets: the datasets of a namespace, one dataset, its versions; tagging a dataset or one of its fields.

Dataset names are often paths (``/data/outputs/orders``). Clients send them percent-encoded
(``%2Fdata%2Foutputs%2Forders``) and :class:`~lineage_audit.service.lookups.NameRoute` keeps such a
name one path segment; a name sent with bare slashes works too, as the ``{dataset:path}`` routes
take the rest of the path (the ``/versions`` and ``/tags`` routes come first). Proxies often merge
the ``//`` of such a path: a name not found is looked up again with its leading slash restored. A name
no dataset has may be a symlink of one (``service/symlinks.py``): that dataset answers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from lineage_audit.service import lookups
from lineage_audit.service.db import dataset_fields, dataset_tags, dataset_versions, datasets
from lineage_audit.service.routes.tags import upsert_tag
from lineage_audit.service.lookups import Limit, NameRoute, Offset, namespace_row, one_or_404
from lineage_audit.service.models import Dataset, DatasetList, DatasetVersion, DatasetVersionList, documented
from lineage_audit.service.symlinks import symlink_target
from lineage_audit.service.views import dataset_version_rows, dataset_versions_view, dataset_view, datasets_view

router = APIRouter(tags=["Datasets"], route_class=NameRoute)
write_router = APIRouter(tags=["Datasets"], route_class=NameRoute)
DatasetName = Annotated[str, PathParam(description="The dataset's name, its slashes percent-encoded (%2F) or not")]


def dataset_row(conn: Connection, namespace: str, dataset: str) -> RowMapping:
    """The dataset named so, or the one named with a leading slash it lost to a merged ``//``, or the one
    with this name among its symlinks."""
    try:
        return lookups.dataset_row(conn, namespace, dataset)
    except HTTPException:
        row = None
        if not dataset.startswith("/"):
            row = conn.execute(select(datasets).where(datasets.c.namespace == namespace,
                                                      datasets.c.name == "/" + dataset)).mappings().first()
        row = row or symlink_target(conn, namespace, dataset)
        if row is None:
            raise
        return row


@router.get("/namespaces/{namespace}/datasets", summary="List the datasets of a namespace", responses=documented(
    DatasetList, "The datasets, by name, with fields, facets and column lineage", 400, 404))
def list_datasets(request: Request, namespace: str, limit: Limit = 100, offset: Offset = 0) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        namespace_row(conn, namespace)
        rows = list(conn.execute(select(datasets).where(datasets.c.namespace == namespace)
                                 .order_by(datasets.c.name).limit(limit).offset(offset)).mappings())
        total = conn.execute(select(func.count()).select_from(datasets)
                             .where(datasets.c.namespace == namespace)).scalar_one()
        return JSONResponse({"datasets": datasets_view(conn, rows), "totalCount": total})


@router.get("/namespaces/{namespace}/datasets/{dataset:path}/versions/{version}",
            summary="Retrieve a version of a dataset",
            responses=documented(DatasetVersion, "The version, with the run that wrote it", 404))
def get_dataset_version(request: Request, namespace: str, dataset: DatasetName, version: str) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        row = dataset_row(conn, namespace, dataset)
        found = one_or_404(conn, select(dataset_versions).where(dataset_versions.c.dataset_id == row["id"],
                                                                dataset_versions.c.uuid == version),
                           f"Version '{version}' of dataset '{dataset}' not found.")
        return JSONResponse(dataset_versions_view(conn, row, [found])[0])


@router.get("/namespaces/{namespace}/datasets/{dataset:path}/versions", summary="List the versions of a dataset",
            description="One version per run that wrote the dataset, newest first.",
            responses=documented(DatasetVersionList, "The versions, newest first", 400, 404))
def list_dataset_versions(request: Request, namespace: str, dataset: DatasetName, limit: Limit = 100,
                          offset: Offset = 0) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        row = dataset_row(conn, namespace, dataset)
        versions = dataset_versions_view(conn, row, dataset_version_rows(conn, row["id"], limit, offset))
        total = conn.execute(select(func.count()).select_from(dataset_versions)
                             .where(dataset_versions.c.dataset_id == row["id"])).scalar_one()
        return JSONResponse({"versions": versions, "totalCount": total})


@router.get("/namespaces/{namespace}/datasets/{dataset:path}", summary="Retrieve a dataset", responses=documented(
    Dataset, "The dataset, with fields, facets and column lineage", 404))
def get_dataset(request: Request, namespace: str, dataset: DatasetName) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        return JSONResponse(dataset_view(conn, dataset_row(conn, namespace, dataset)))


def _tag(request: Request, namespace: str, dataset: str, field: str, tag: str) -> JSONResponse:
    engine = request.app.state.engine
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    with engine.begin() as conn:
        row = dataset_row(conn, namespace, dataset)
        if field and conn.execute(select(dataset_fields.c.name).where(
                dataset_fields.c.dataset_id == row["id"], dataset_fields.c.name == field)).first() is None:
            raise HTTPException(404, f"Field '{field}' not found in dataset '{dataset}'.")
        upsert_tag(conn, tag, None, keep_description=True)
        conn.execute(insert(dataset_tags).values(dataset_id=row["id"], field=field, tag=tag)
                     .on_conflict_do_nothing(index_elements=["dataset_id", "field", "tag"]))
        return JSONResponse(dataset_view(conn, row))


@write_router.post("/namespaces/{namespace}/datasets/{dataset:path}/fields/{field}/tags/{tag}",
                   summary="Tag a field of a dataset", description="The tag is created if it does not exist.",
                   responses=documented(Dataset, "The dataset, with the field's tags", 400, 404))
def tag_field(request: Request, namespace: str, dataset: DatasetName, field: str, tag: str) -> JSONResponse:
    return _tag(request, namespace, dataset, field, tag)


@write_router.post("/namespaces/{namespace}/datasets/{dataset:path}/tags/{tag}", summary="Tag a dataset",
                   description="The tag is created if it does not exist.",
                   responses=documented(Dataset, "The dataset, with its tags", 400, 404))
def tag_dataset(request: Request, namespace: str, dataset: DatasetName, tag: str) -> JSONResponse:
    return _tag(request, namespace, dataset, "", tag)
