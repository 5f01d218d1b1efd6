"""The lineage service as an ASGI app: ``create_app(settings)``.

Routes live in ``routes/``, one module per resource, each exposing ``router`` (read routes, behind
the read key) and optionally ``write_router`` (behind the ingest key). Everything is under
``/api/v1``, as in Marquez, but for a module's ``beta_router``: under ``/api/v2beta`` (marquez-web's
advanced search), behind the read key. The service's own OpenAPI document is at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import hmac
import importlib
import logging
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from lineage_audit.service.db import make_engine, migrate
from lineage_audit.service.events import EventError
from lineage_audit.service.ingest import Ingester
from lineage_audit.service.settings import ServiceSettings
from lineage_audit.service.ui import UI_DIR, mount_ui

API = "/api/v1"
API_BETA = "/api/v2beta"
log = logging.getLogger(__name__)
# Resource modules, in the order their routes are matched.
# audit_diff and classifications before datasets: their ``datasets/{dataset}/diff`` and
# ``datasets/{dataset}/classifications`` would otherwise be read as a dataset's name.
ROUTE_MODULES = ("lineage_ingest", "namespaces", "sources", "jobs", "runs", "audit_diff", "classifications",
                 "datasets", "tags", "graph", "namespace_graph", "search", "search_beta", "events", "stats",
                 "ledger", "moments")


class AuthError(Exception):
    def __init__(self, which: str):
        self.which = which


def _key_check(setting: str):
    def check(request: Request) -> None:
        expected = getattr(request.app.state.settings, setting)
        if not expected:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        # the header arrives decoded as latin-1: compare the bytes the client sent with the key's UTF-8
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode("latin-1"), expected.encode()):
            raise AuthError("ingest" if setting == "ingest_api_key" else "read")
    return check


require_ingest_key = _key_check("ingest_api_key")
require_read_key = _key_check("read_api_key")


def _unavailable_errors() -> tuple[type[Exception], ...]:
    """Errors of a store that is down, locked or restarting: the client should retry (503)."""
    errors: list[type[Exception]] = [sa_exc.OperationalError, sa_exc.TimeoutError, sqlite3.OperationalError]
    try:
        import psycopg

        errors.append(psycopg.OperationalError)
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass
    return tuple(errors)


def create_app(settings: ServiceSettings, engine: Engine | None = None, ui_dir: Path = UI_DIR) -> FastAPI:
    """The service; ``ui_dir`` holds the built web UI served at ``/`` (see ``service/ui.py``)."""
    engine = engine or make_engine(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        migrate(engine)
        yield
        engine.dispose()

    app = FastAPI(title="data-lineage-audit lineage service", version="0.1.0", lifespan=lifespan,
                  openapi_url=f"{API}/openapi.json", docs_url=f"{API}/docs", redoc_url=None,
                  description="OpenLineage ingest and Marquez's read API (0.51), on SQLite or PostgreSQL.")
    app.state.settings = settings
    app.state.engine = engine
    app.state.ingester = Ingester(engine)

    @app.exception_handler(EventError)
    async def event_error(_request: Request, exc: EventError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(AuthError)
    async def auth_error(_request: Request, exc: AuthError) -> JSONResponse:
        return JSONResponse({"code": 401, "message": f"a valid {exc.which} API key is required "
                             "(Authorization: Bearer <key>)"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"code": exc.status_code, "message": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
        return JSONResponse({"code": 400, "message": f"{where}: {first.get('msg', 'invalid request')}",
                             "field": where}, status_code=400)

    async def store_unavailable(request: Request, exc: Exception) -> JSONResponse:
        inner = getattr(exc, "orig", None) or exc
        if isinstance(inner, sqlite3.OperationalError) and not any(
                word in str(inner).lower() for word in ("locked", "busy", "disk", "i/o", "unable to open")):
            return await server_error(request, exc)  # a bad statement, not a store that is away
        log.warning("%s %s: the store is unavailable: %s", request.method, request.url.path, exc)
        reason = (str(inner).strip().splitlines() or [type(inner).__name__])[0][:300]
        return JSONResponse({"code": 503, "message": f"the lineage store is unavailable, retry later: {reason}"},
                            status_code=503, headers={"Retry-After": "1"})

    for error in _unavailable_errors():
        app.add_exception_handler(error, store_unavailable)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return JSONResponse({"code": 500, "message": f"internal error: {type(exc).__name__}"}, status_code=500)

    @app.get(f"{API}/health", tags=["Service"], summary="Whether the service runs, and on which database")
    def health() -> dict:
        from lineage_audit.service.server import SERVICE_NAME

        return {"service": SERVICE_NAME, "status": "ok", "database": engine.dialect.name}

    mount_ui(app, ui_dir)

    for name in ROUTE_MODULES:
        module = importlib.import_module(f"lineage_audit.service.routes.{name}")
        if hasattr(module, "router"):
            app.include_router(module.router, prefix=API, dependencies=[Depends(require_read_key)])
        if hasattr(module, "beta_router"):
            app.include_router(module.beta_router, prefix=API_BETA, dependencies=[Depends(require_read_key)])
        if hasattr(module, "write_router"):
            app.include_router(module.write_router, prefix=API, dependencies=[Depends(require_ingest_key)])
    return app
