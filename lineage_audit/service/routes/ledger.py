"""``GET /audit/ledger``: the length and head hash of the tamper-evident event ledger.

An auditor notes both; ``lineage-audit verify --expect LENGTH:HASH`` later proves that no entry up to
that length changed since, even if whoever can write the database rewrote the chain after it.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel

from lineage_audit.service import ledger
from lineage_audit.service.models import documented

router = APIRouter(tags=["Audit"])


class LedgerHead(BaseModel):
    length: int
    headHash: str | None
    algorithm: str
    lastAppendedAt: str | None


@router.get("/audit/ledger", summary="The event ledger's length and head hash",
            responses=documented(LedgerHead, "The ledger's head (or its head at `length` entries)", 400, 404))
def ledger_head(request: Request,
                length: int | None = Query(None, ge=0, description="The head as it was at this many entries")
                ) -> dict:
    with request.app.state.engine.connect() as conn:
        found = ledger.head(conn, length)
    if found is None:
        raise HTTPException(404, f"length: the ledger has fewer than {length} entries")
    return found.as_json()
