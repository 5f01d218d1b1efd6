"""``GET /api/v1/lineage`` and ``GET /api/v1/column-lineage``: Marquez's lineage graphs (see ``service/graph.py``
and ``service/column_lineage.py``)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from lineage_audit.service.as_of import MomentError, parse_moment
from lineage_audit.service.as_of_columns import column_lineage_graph_at
from lineage_audit.service.as_of_graph import lineage_graph_json_at
from lineage_audit.service.column_versions import split_version, versioned_column_lineage
from lineage_audit.service.column_lineage import column_lineage_graph
from lineage_audit.service.graph import lineage_graph_json, paused_gc, to_json
from lineage_audit.service.node_ids import COLUMN_FORMS, LINEAGE_FORMS, NodeIdError, NodeNotFound

router = APIRouter()

GRAPH_RESPONSE = {"description": "The graph", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"graph": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "string"}, "type": {"type": "string"}, "data": {"type": "object"},
        "inEdges": {"type": "array", "items": {"type": "object"}},
        "outEdges": {"type": "array", "items": {"type": "object"}}}}}}}}}}
_ERRORS = {400: {"description": "Malformed nodeId or depth"}, 401: {"description": "API key missing or wrong"},
           404: {"description": "No such job, dataset or field"}}


AS_OF_DESCRIPTION = ("A moment (ISO 8601; without a zone, UTC): the answer as the events with an eventTime up to "
                     "then described it, including jobs, datasets and edges that no longer exist")


def moment(as_of: str | None):
    """The ``asOf`` parameter as a moment (None: now); 400 when it is not one."""
    if as_of is None:
        return None
    try:
        return parse_moment(as_of)
    except MomentError as exc:
        raise HTTPException(400, str(exc)) from None


def _column_lineage(conn, node_id: str, depth: int, with_downstream: bool, at=None) -> dict:
    """The current column lineage, or the lineage at a version when the nodeId ends with ``#<version>``, or as
    of a moment."""
    base, version = split_version(node_id)
    if version is not None:
        if at is not None:
            raise NodeIdError("asOf is not supported with a versioned nodeId: a version is already a moment")
        return versioned_column_lineage(conn, base, version, depth, with_downstream)
    if at is not None:
        return column_lineage_graph_at(conn, node_id, depth, with_downstream, at)
    return column_lineage_graph(conn, node_id, depth, with_downstream)


def _lineage(conn, node_id: str, depth: int, at=None) -> bytes:
    return lineage_graph_json(conn, node_id, depth) if at is None else lineage_graph_json_at(conn, node_id, depth, at)


def _answer(build, request: Request, *args) -> Response:
    try:
        with paused_gc(), request.app.state.engine.connect() as conn:
            body = build(conn, *args)
            return Response(body if isinstance(body, bytes) else to_json(body), media_type="application/json")
    except NodeIdError as exc:
        raise HTTPException(400, str(exc)) from None
    except NodeNotFound as exc:
        raise HTTPException(404, str(exc)) from None


@router.get(
    "/lineage", tags=["Lineage"], summary="Get a lineage graph", responses={200: GRAPH_RESPONSE, **_ERRORS},
    description="The jobs and datasets around a node, as Marquez's LineageGraph. Two jobs are neighbours when "
                "they share a dataset (two readers of one dataset too, as in Marquez); `depth` counts job steps "
                "from the node (a dataset starts from the job that writes it, else one that reads it). Each job "
                "comes with all its inputs and outputs; a job's latestRun has no facets or dataset versions.")
def get_lineage(request: Request,
                nodeId: str = Query(..., description=f"{LINEAGE_FORMS}"),
                depth: int = Query(20, ge=0, description="Job steps from the node"),
                asOf: str | None = Query(None, description=AS_OF_DESCRIPTION)) -> Response:
    at = moment(asOf)
    return _answer(_lineage, request, nodeId, depth, at)


@router.get(
    "/column-lineage", tags=["Column lineage"], summary="Get a column lineage graph",
    responses={200: GRAPH_RESPONSE, **_ERRORS},
    description="DATASET_FIELD nodes: for a dataset, all its fields; for a job, the fields of its outputs; "
                "edges from a field to the fields it is computed from (with their transformations), `depth` "
                "edges deep, upstream only unless `withDownstream`. Dataset-level dependencies (fields that "
                "only filter or join rows) are left out, as in Marquez. A known node without fields gives an "
                "empty graph. A dataset or field nodeId ending with `#<version>` gives the lineage as it was at "
                "that dataset version, every node id with its version (upstream only: `withDownstream` is a 400).")
def get_column_lineage(request: Request,
                       nodeId: str = Query(..., description=f"{COLUMN_FORMS}, optionally ending with "
                                                            "#<dataset version>"),
                       depth: int = Query(20, ge=0, description="Edges from the starting fields"),
                       withDownstream: bool = Query(False, description="Also follow the fields computed from "
                                                                       "the starting fields"),
                       asOf: str | None = Query(None, description=AS_OF_DESCRIPTION)) -> Response:
    at = moment(asOf)
    return _answer(_column_lineage, request, nodeId, depth, withDownstream, at)
