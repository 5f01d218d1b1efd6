"""Datasets: the datasets of a namespace, one dataset, its versions; tagging a dataset or one of its fields
and removing those tags; soft delete; and ``PUT`` of Marquez's older write API (see ``legacy_writes``).

Dataset names are often paths (``/data/outputs/orders``). Clients send them percent-encoded
(``%2Fdata%2Foutputs%2Forders``) and :class:`~lineage_audit.service.lookups.NameRoute` keeps such a
name one path segment; a name sent with bare slashes works too, as the ``{dataset:path}`` routes
take the rest of the path (the ``/versions`` and ``/tags`` routes come first). Proxies often merge
the ``//`` of such a path: a name not found is looked up again with its leading slash restored. A name
no dataset has may be a symlink of one (``service/symlinks.py``): that dataset answers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from lineage_audit.service import legacy_writes, lookups
from lineage_audit.service.as_of_views import dataset_row_at, dataset_versions_at, dataset_view_at
from lineage_audit.service.db import dataset_fields, dataset_tags, dataset_versions, datasets, runs, sources
from lineage_audit.service.legacy_writes import CreatedDataset
from lineage_audit.service.routes.graph import AS_OF_DESCRIPTION, moment
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
                                                      datasets.c.name == "/" + dataset,
                                                      datasets.c.is_hidden.is_(False))).mappings().first()
        row = row or symlink_target(conn, namespace, dataset)
        if row is None:
            raise
        return row


@router.get("/namespaces/{namespace}/datasets", summary="List the datasets of a namespace", responses=documented(
    DatasetList, "The datasets, by name, with fields, facets and column lineage", 400, 404))
def list_datasets(request: Request, namespace: str, limit: Limit = 100, offset: Offset = 0) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        namespace_row(conn, namespace)
        listed = (datasets.c.namespace == namespace, datasets.c.is_hidden.is_(False))
        rows = list(conn.execute(select(datasets).where(*listed)
                                 .order_by(datasets.c.name).limit(limit).offset(offset)).mappings())
        total = conn.execute(select(func.count()).select_from(datasets).where(*listed)).scalar_one()
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
            description="One version per run that wrote the dataset, newest first; with asOf, those it had then.",
            responses=documented(DatasetVersionList, "The versions, newest first", 400, 404))
def list_dataset_versions(request: Request, namespace: str, dataset: DatasetName, limit: Limit = 100,
                          offset: Offset = 0,
                          asOf: str | None = Query(None, description=AS_OF_DESCRIPTION)) -> JSONResponse:
    at = moment(asOf)
    with request.app.state.engine.connect() as conn:
        if at is not None:
            return JSONResponse(dataset_versions_at(conn, dataset_row_at(conn, namespace, dataset, at), at, limit,
                                                    offset))
        row = dataset_row(conn, namespace, dataset)
        versions = dataset_versions_view(conn, row, dataset_version_rows(conn, row["id"], limit, offset))
        total = conn.execute(select(func.count()).select_from(dataset_versions)
                             .where(dataset_versions.c.dataset_id == row["id"])).scalar_one()
        return JSONResponse({"versions": versions, "totalCount": total})


@router.get("/namespaces/{namespace}/datasets/{dataset:path}", summary="Retrieve a dataset", responses=documented(
    Dataset, "The dataset, with fields, facets and column lineage (as of a moment with asOf)", 400, 404))
def get_dataset(request: Request, namespace: str, dataset: DatasetName,
                asOf: str | None = Query(None, description=AS_OF_DESCRIPTION)) -> JSONResponse:
    at = moment(asOf)
    with request.app.state.engine.connect() as conn:
        if at is not None:
            return JSONResponse(dataset_view_at(conn, dataset_row_at(conn, namespace, dataset, at), at))
        return JSONResponse(dataset_view(conn, dataset_row(conn, namespace, dataset)))


def _tag(request: Request, namespace: str, dataset: str, field: str, tag: str, add: bool = True) -> JSONResponse:
    """Tag a dataset (``field`` "") or one of its fields, or remove that tag (``add`` false).

    As Marquez does, a field's tag is upper-cased (both ways), a dataset's tag is kept as it is."""
    tag = tag.upper() if field else tag
    engine = request.app.state.engine
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    with engine.begin() as conn:
        row = dataset_row(conn, namespace, dataset)
        if field and conn.execute(select(dataset_fields.c.name).where(
                dataset_fields.c.dataset_id == row["id"], dataset_fields.c.name == field)).first() is None:
            raise HTTPException(404, f"Field '{field}' not found in dataset '{dataset}'.")
        if add:
            upsert_tag(conn, tag, None, keep_description=True)
            conn.execute(insert(dataset_tags).values(dataset_id=row["id"], field=field, tag=tag)
                         .on_conflict_do_nothing(index_elements=["dataset_id", "field", "tag"]))
        else:
            conn.execute(delete(dataset_tags).where(dataset_tags.c.dataset_id == row["id"],
                                                    dataset_tags.c.field == field, dataset_tags.c.tag == tag))
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


@write_router.delete("/namespaces/{namespace}/datasets/{dataset:path}/fields/{field}/tags/{tag}",
                     summary="Remove a tag from a field of a dataset",
                     description="A tag the field does not have is no error: the dataset is answered unchanged.",
                     responses=documented(Dataset, "The dataset, with the field's tags", 404))
def untag_field(request: Request, namespace: str, dataset: DatasetName, field: str, tag: str) -> JSONResponse:
    return _tag(request, namespace, dataset, field, tag, add=False)


@write_router.delete("/namespaces/{namespace}/datasets/{dataset:path}/tags/{tag}",
                     summary="Remove a tag from a dataset",
                     description="A tag the dataset does not have is no error: the dataset is answered unchanged.",
                     responses=documented(Dataset, "The dataset, with its tags", 404))
def untag_dataset(request: Request, namespace: str, dataset: DatasetName, tag: str) -> JSONResponse:
    return _tag(request, namespace, dataset, "", tag, add=False)


@write_router.delete("/namespaces/{namespace}/datasets/{dataset:path}", summary="Soft delete a dataset",
                     description="The dataset leaves lists, search and lineage graphs, and its reads answer 404, "
                                 "until a new event names it. Answers with the dataset as it was, as Marquez does.",
                     responses=documented(Dataset, "The dataset as it was before the delete", 404))
def delete_dataset(request: Request, namespace: str, dataset: DatasetName) -> JSONResponse:
    with request.app.state.engine.begin() as conn:
        row = dataset_row(conn, namespace, dataset)
        body = dataset_view(conn, row)
        conn.execute(update(datasets).where(datasets.c.id == row["id"]).values(is_hidden=True))
    return JSONResponse(body)


@write_router.put("/namespaces/{namespace}/datasets/{dataset:path}",
                  summary="Create or update a dataset (Marquez's older API)",
                  description="Recorded as the DatasetEvent that says the same (schema, dataSource and "
                              "documentation facets), then tagged as the body says. The namespace and the source "
                              "must exist (404), as in Marquez.",
                  responses=documented(Dataset, "The dataset as stored", 400, 404))
def put_dataset(request: Request, namespace: str, dataset: DatasetName, body: CreatedDataset) -> JSONResponse:
    engine = request.app.state.engine
    with engine.connect() as conn:
        namespace_row(conn, namespace)
        source = one_or_404(conn, select(sources).where(sources.c.name == body.sourceName),
                            f"Source '{body.sourceName}' not found.")
        if body.runId is not None:
            one_or_404(conn, select(runs.c.uuid).where(runs.c.uuid == body.runId), f"Run '{body.runId}' not found.")
    legacy_writes.ingest(request.app.state.ingester, legacy_writes.dataset_event(
        namespace, dataset, body, source["connection_url"] or body.sourceName))
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    with engine.begin() as conn:
        row = lookups.dataset_row(conn, namespace, dataset)
        conn.execute(update(datasets).where(datasets.c.id == row["id"]).values(type=body.type))
        field_tags = [(f.name, f.tags if isinstance(f.tags, list) else [f.tags]) for f in body.fields if f.tags]
        for field, tag in [("", tag) for tag in body.tags] + [(f, t) for f, ts in field_tags for t in ts]:
            upsert_tag(conn, tag, None, keep_description=True)
            conn.execute(insert(dataset_tags).values(dataset_id=row["id"], field=field, tag=tag)
                         .on_conflict_do_nothing(index_elements=["dataset_id", "field", "tag"]))
        return JSONResponse(dataset_view(conn, lookups.dataset_row(conn, namespace, dataset)))
