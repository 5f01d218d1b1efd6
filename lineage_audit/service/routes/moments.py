"""``GET /api/v1/audit/moments``: the run events of the jobs around a node, the stops of the UI's "as of"
control (see ``service/moments.py``)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from lineage_audit.service.moments import MOST, moments
from lineage_audit.service.node_ids import LINEAGE_FORMS, NodeIdError, NodeNotFound

router = APIRouter(tags=["Audit"])

_MOMENTS = {"description": "The moments, oldest first", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"moments": {"type": "array", "items": {"type": "object", "properties": {
        "time": {"type": "string", "format": "date-time"},
        "eventType": {"type": "string", "enum": ["START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER"]},
        "runId": {"type": "string"},
        "job": {"type": "object", "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}}}}}}}}}}}


@router.get("/audit/moments", summary="The moments at which the lineage around a node changed",
            responses={200: _MOMENTS, 400: {"description": "Malformed nodeId or depth"},
                       401: {"description": "API key missing or wrong"},
                       404: {"description": "No such job or dataset, ever"}},
            description="The run events (START, RUNNING, COMPLETE, FAIL, ABORT, OTHER) of the jobs in the graph of "
                        "the node at that depth, the graph being the union of the graph over all time (jobs and "
                        "datasets deleted since too), oldest first: at most the newest "
                        f"{MOST}. Each is a moment to ask the graph `asOf`.")
def get_moments(request: Request, nodeId: str = Query(..., description=LINEAGE_FORMS),
                depth: int = Query(20, ge=0, description="Job steps from the node")) -> JSONResponse:
    try:
        with request.app.state.engine.connect() as conn:
            return JSONResponse(moments(conn, nodeId, depth))
    except NodeIdError as exc:
        raise HTTPException(400, str(exc)) from None
    except NodeNotFound as exc:
        raise HTTPException(404, str(exc)) from None
