"""``GET /namespaces/{namespace}/lineage`` and ``/namespaces/{namespace}/column-lineage``: the whole graph of a
job namespace (see ``service/namespace_graph.py``). Marquez has no such routes: they are this service's
extension, in the shapes of Marquez's ``/lineage`` and ``/column-lineage``, and change no Marquez route."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from lineage_audit.service.graph import paused_gc, to_json
from lineage_audit.service.lookups import NameRoute
from lineage_audit.service.namespace_graph import NamespaceNotFound, namespace_column_lineage, namespace_lineage_json
from lineage_audit.service.routes.graph import GRAPH_RESPONSE

router = APIRouter(tags=["Lineage (extension)"], route_class=NameRoute)

_ERRORS = {401: {"description": "API key missing or wrong"}, 404: {"description": "No such namespace"}}


def _answer(build, request: Request, namespace: str) -> Response:
    try:
        with paused_gc(), request.app.state.engine.connect() as conn:
            body = build(conn, namespace)
    except NamespaceNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return Response(body if isinstance(body, bytes) else to_json(body), media_type="application/json")


@router.get(
    "/namespaces/{namespace}/lineage", summary="Get the lineage graph of a whole job namespace (extension)",
    responses={200: GRAPH_RESPONSE, **_ERRORS},
    description="Not in Marquez's API. Every job of the namespace with all its current inputs and outputs, and "
                "those datasets (of any namespace), as the JOB and DATASET nodes of `/lineage`. Edges join nodes "
                "of the graph only: a job of another namespace sharing a dataset is not in it. A namespace "
                "without jobs gives an empty graph.")
def get_namespace_lineage(request: Request, namespace: str) -> Response:
    return _answer(namespace_lineage_json, request, namespace)


@router.get(
    "/namespaces/{namespace}/column-lineage", responses={200: GRAPH_RESPONSE, **_ERRORS},
    summary="Get the column lineage graph of a whole job namespace (extension)",
    description="Not in Marquez's API. DATASET_FIELD nodes, as `/column-lineage` gives them: every field of the "
                "datasets of the namespace's lineage graph, with the column lineage of each dataset a job of the "
                "namespace writes (edges from a field to the fields it is computed from, with their "
                "transformations). Dataset-level dependencies are left out, as in `/column-lineage`.")
def get_namespace_column_lineage(request: Request, namespace: str) -> Response:
    return _answer(namespace_column_lineage, request, namespace)
