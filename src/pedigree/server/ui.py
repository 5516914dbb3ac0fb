"""The web UI: the front end's build (``make ui`` writes it to ``server/static/``) served
at ``/``, with the single-page app's fallback.

Every GET of a path outside ``/api`` that is not a built file answers ``index.html``, so
a deep link (``/lineage?node=…``) opens the app, which routes it. Hashed assets under
``/assets/`` are cached for good; ``index.html`` never is (a new build is picked up at
the next load). Without a build, ``/`` answers 503 naming the command that makes one
(HTML for a browser, JSON otherwise), and the API keeps working.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""Where ``make ui`` (``npm run build`` in ui/) writes the build."""

RESERVED = ("/api", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz")
"""Paths the UI never answers: the API's own (unknown ones stay JSON 404/405)."""

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

NOT_BUILT = (
    "The Pedigree web UI is not built. Run `make ui` (npm ci && npm run build in ui/) "
    "in the source tree, then reload. The API under /api/v1 works without it."
)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pedigree: UI not built</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;color:#1f2933}}
code{{background:#eef2f6;padding:.1rem .3rem;border-radius:4px}}</style></head>
<body><h1>Pedigree</h1><p>{message}</p><p>API documentation: <a href="/docs">/docs</a>.</p>
</body></html>"""


def _reserved(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in RESERVED)


class _UiRoute(Route):
    """Matches every GET/HEAD except the reserved API paths, so those keep the API's
    own 404 and 405 answers."""

    def matches(self, scope: Scope) -> tuple[Match, dict[str, Any]]:
        if scope.get("type") == "http" and _reserved(scope.get("path", "")):
            return Match.NONE, {}
        return super().matches(scope)


def _file(static: Path, path: str) -> Path | None:
    """The built file ``path`` names, never one outside ``static``."""
    relative = path.lstrip("/")
    if not relative:
        return None
    candidate = (static / relative).resolve()
    try:
        candidate.relative_to(static)
    except ValueError:
        return None
    return candidate if candidate.is_file() else None


def _not_built(request: Request) -> Response:
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(_PAGE.format(message=NOT_BUILT.replace("`", "")), 503)
    return JSONResponse({"detail": NOT_BUILT, "error": "ui_not_built"}, 503)


def install(app: FastAPI, static_dir: str | os.PathLike[str] | None = None) -> None:
    """Serve the UI build on ``app`` (call after every API router is included)."""
    static = Path(static_dir or os.environ.get("PEDIGREE_UI_DIR") or STATIC_DIR).resolve()

    async def serve(request: Request) -> Response:
        index = static / "index.html"
        if not index.is_file():
            return _not_built(request)
        found = _file(static, request.url.path)
        if found is not None and found != index:
            media_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
            immutable = found.parent.name == "assets"
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return FileResponse(
                found,
                media_type=media_type,
                headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"},
            )
        if request.url.path.startswith("/assets/"):  # a stale hashed asset: no HTML for it
            return JSONResponse({"detail": "no such asset", "error": "not_found"}, 404)
        return FileResponse(
            index,
            media_type="text/html",
            headers={"Cache-Control": "no-cache", **SECURITY_HEADERS},
        )

    app.router.routes.append(
        _UiRoute("/{path:path}", serve, methods=["GET", "HEAD"], include_in_schema=False)
    )
