"""Lookups and paging shared by the route modules: ``limit``/``offset`` parameters, rows that answer
404 when missing, and the route class that keeps percent-encoded slashes inside a name.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import HTTPException, Query
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.engine import Connection, RowMapping
from starlette.routing import Match

from lineage_audit.service.db import (
    datasets,
    jobs,
    namespaces,
)



Limit = Annotated[int, Query(ge=0, le=10_000, description="The number of results to return from offset.")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="The initial position from which to return results.")]


def one_or_404(conn: Connection, statement: Any, message: str) -> RowMapping:
    row = conn.execute(statement).mappings().first()
    if row is None:
        raise HTTPException(404, message)
    return row


def namespace_row(conn: Connection, namespace: str) -> RowMapping:
    return one_or_404(conn, select(namespaces).where(namespaces.c.name == namespace),
                      f"Namespace '{namespace}' not found.")


def job_row(conn: Connection, namespace: str, job: str) -> RowMapping:
    namespace_row(conn, namespace)
    # a soft-deleted job is not found, as in Marquez (whose reads go through a view without them)
    return one_or_404(conn, select(jobs).where(jobs.c.namespace == namespace, jobs.c.name == job,
                                               jobs.c.is_hidden.is_(False)),
                      f"Job '{job}' not found in namespace '{namespace}'.")


def dataset_row(conn: Connection, namespace: str, dataset: str) -> RowMapping:
    namespace_row(conn, namespace)
    return one_or_404(conn, select(datasets).where(datasets.c.namespace == namespace, datasets.c.name == dataset,
                                                   datasets.c.is_hidden.is_(False)),
                      f"Dataset '{dataset}' not found in namespace '{namespace}'.")


_SLASH = "\ue000"  # stands for an encoded slash while a path is matched


def _segments_decoded(raw_path: bytes) -> str | None:
    try:
        text = raw_path.decode("ascii")
    except UnicodeDecodeError:
        return None
    return "/".join(unquote(part).replace("/", _SLASH) for part in text.split("/"))


class NameRoute(APIRoute):
    """A route whose names may hold slashes, sent percent-encoded (``%2F``), as Marquez's clients do.

    The server decodes ``%2F`` before routing, which would turn ``datasets/%2Ftmp%2Fx/versions``
    into more path segments. When the raw path holds an encoded slash, this route matches the raw
    path decoded segment by segment instead, so a name is one segment whatever it holds.
    """

    def matches(self, scope: Any) -> tuple[Match, Any]:
        raw = scope.get("raw_path") if scope.get("type") == "http" else None
        if raw and b"%2f" in raw.lower() and _SLASH not in scope["path"]:
            decoded = _segments_decoded(raw)
            if decoded is not None and decoded.replace(_SLASH, "/") == scope["path"]:
                match, child = super().matches({**scope, "path": decoded})
                if match != Match.NONE:
                    child["path_params"] = {key: value.replace(_SLASH, "/") if isinstance(value, str) else value
                                            for key, value in child["path_params"].items()}
                return match, child
        return super().matches(scope)
