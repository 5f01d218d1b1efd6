"""The web UI at ``/``: the single-page app built from ``lineage_audit/web`` (``make ui``), and its assets.

The app is a client of the JSON API under ``/api/v1`` only; these routes just hand out its files. The
HTML comes with a Content-Security-Policy that allows nothing but this origin (no inline script or style,
no CDN), so a name from an event that looks like markup can do no more than show as text. Assets have
content hashes in their names and are cached for good; the HTML is revalidated on every load, so a new
build shows at the next reload. Without a build, ``/`` says how to make one (503) instead of a blank page.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, PlainTextResponse, Response

UI_DIR = Path(__file__).resolve().parents[1] / "web" / "dist"
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HTML_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
ASSET_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
NOT_BUILT = ("The web UI is not built: run `make ui` (it needs Node.js 20.19+ and npm), then reload this page.\n"
             "The lineage API works meanwhile: /api/v1 (documentation at /api/v1/docs).\n")


def _inside(base: Path, relative: str) -> Path | None:
    """``base/relative`` if it is a file inside ``base`` (no ``..`` or links out of it), else None."""
    try:
        path = (base / relative).resolve()
        base = base.resolve()
    except (OSError, ValueError):
        return None
    return path if path.is_relative_to(base) and path.is_file() else None


def mount_ui(app: FastAPI, ui_dir: Path = UI_DIR) -> None:
    """Serve the built UI of ``ui_dir`` (``index.html``, ``favicon.svg``, ``assets/``) at ``/``."""

    @app.get("/", include_in_schema=False)
    def ui_index() -> Response:
        index = ui_dir / "index.html"
        if not index.is_file():
            return PlainTextResponse(NOT_BUILT, status_code=503, headers={"Retry-After": "60"})
        return FileResponse(index, media_type="text/html; charset=utf-8", headers=HTML_HEADERS)

    @app.get("/favicon.svg", include_in_schema=False)
    def ui_icon() -> Response:
        return _asset(ui_dir, "favicon.svg")

    @app.get("/assets/{name:path}", include_in_schema=False)
    def ui_asset(name: str) -> Response:
        return _asset(ui_dir / "assets", name)


def _asset(base: Path, name: str) -> Response:
    path = _inside(base, name)
    if path is None:
        raise HTTPException(404, f"no UI asset {name!r}")
    return FileResponse(path, headers=ASSET_HEADERS)
