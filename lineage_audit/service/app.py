"""The lineage service as an ASGI app: ``create_app(settings)``.

Routes live in ``routes/``, one module per resource, each exposing ``router`` (read routes, behind
the read key) and optionally ``write_router`` (behind the ingest key). Everything is under
``/api/v1``, as in Marquez; the service's own OpenAPI document is at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import hmac
import importlib
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from lineage_audit.service.db import make_engine, migrate
from lineage_audit.service.ingest import EventError, Ingester
from lineage_audit.service.settings import ServiceSettings

API = "/api/v1"
# Resource modules, in the order their routes are matched.
ROUTE_MODULES = ("lineage_ingest", "namespaces", "sources", "jobs", "runs", "datasets", "tags", "graph", "search",
                 "events", "stats")


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
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
            raise AuthError("ingest" if setting == "ingest_api_key" else "read")
    return check


require_ingest_key = _key_check("ingest_api_key")
require_read_key = _key_check("read_api_key")


def create_app(settings: ServiceSettings, engine: Engine | None = None) -> FastAPI:
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

    @app.get(f"{API}/health", tags=["Service"], summary="Whether the service runs, and on which database")
    def health() -> dict:
        from lineage_audit.service.server import SERVICE_NAME

        return {"service": SERVICE_NAME, "status": "ok", "database": engine.dialect.name}

    for name in ROUTE_MODULES:
        module = importlib.import_module(f"lineage_audit.service.routes.{name}")
        if hasattr(module, "router"):
            app.include_router(module.router, prefix=API, dependencies=[Depends(require_read_key)])
        if hasattr(module, "write_router"):
            app.include_router(module.write_router, prefix=API, dependencies=[Depends(require_ingest_key)])
    return app
