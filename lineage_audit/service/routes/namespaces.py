"""Namespaces: ``GET /namespaces``, ``GET /namespaces/{namespace}``, ``PUT`` to create or update one, and
``DELETE`` to soft delete one with its jobs and datasets (as Marquez: it stays listed, ``isHidden`` true)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from lineage_audit.service.db import datasets, jobs, namespaces
from lineage_audit.service.lookups import Limit, NameRoute, Offset, namespace_row
from lineage_audit.service.models import CreatedNamespace, Namespace, NamespaceList, documented
from lineage_audit.service.views import namespace_view

router = APIRouter(tags=["Namespaces"], route_class=NameRoute)
write_router = APIRouter(tags=["Namespaces"], route_class=NameRoute)

# Marquez's rule for namespace names (letters, digits and _ - : / . and a few more), at most 1024 characters.
NAMESPACE_NAME = re.compile(r"[a-zA-Z0-9_\-:/.;=@+]{1,1024}")


@router.get("/namespaces", summary="List all namespaces", responses=documented(
    NamespaceList, "The namespaces, by name", 400))
def list_namespaces(request: Request, limit: Limit = 100, offset: Offset = 0) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(select(namespaces).order_by(namespaces.c.name).limit(limit).offset(offset)).mappings()
        body = [namespace_view(row) for row in rows]
        total = conn.execute(select(func.count()).select_from(namespaces)).scalar_one()
    return JSONResponse({"namespaces": body, "totalCount": total})


@router.get("/namespaces/{namespace}", summary="Retrieve a namespace", responses=documented(
    Namespace, "The namespace", 404))
def get_namespace(request: Request, namespace: str) -> JSONResponse:
    with request.app.state.engine.connect() as conn:
        return JSONResponse(namespace_view(namespace_row(conn, namespace)))


@write_router.put("/namespaces/{namespace}", summary="Create or update a namespace", responses=documented(
    Namespace, "The namespace as stored", 400))
def put_namespace(request: Request, namespace: str, body: CreatedNamespace) -> JSONResponse:
    if not NAMESPACE_NAME.fullmatch(namespace):
        raise HTTPException(400, "namespace: only letters, digits and _ - : / . ; = @ + are allowed, "
                                 "at most 1024 characters")
    engine = request.app.state.engine
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    now = datetime.now(timezone.utc)
    statement = insert(namespaces).values(name=namespace, owner_name=body.ownerName, description=body.description,
                                          created_at=now, updated_at=now)
    statement = statement.on_conflict_do_update(index_elements=["name"], set_={
        "owner_name": statement.excluded.owner_name, "description": statement.excluded.description,
        "updated_at": statement.excluded.updated_at, "is_hidden": False})  # undeletes it, as in Marquez
    with engine.begin() as conn:
        conn.execute(statement)
        row = namespace_row(conn, namespace)
    return JSONResponse(namespace_view(row))


@write_router.delete("/namespaces/{namespace}", summary="Soft delete a namespace and its jobs and datasets",
                     description="The namespace stays listed, with `isHidden` true; its jobs and datasets leave "
                                 "lists, search and graphs. An event naming the namespace (or a PUT) undeletes it, "
                                 "and the jobs and datasets a new event names come back. Answers with the "
                                 "namespace as it was, as Marquez does.",
                     responses=documented(Namespace, "The namespace as it was before the delete", 404))
def delete_namespace(request: Request, namespace: str) -> JSONResponse:
    with request.app.state.engine.begin() as conn:
        body = namespace_view(namespace_row(conn, namespace))
        conn.execute(update(datasets).where(datasets.c.namespace == namespace).values(is_hidden=True))
        conn.execute(update(jobs).where(jobs.c.namespace == namespace).values(is_hidden=True))
        conn.execute(update(namespaces).where(namespaces.c.name == namespace).values(is_hidden=True))
    return JSONResponse(body)
