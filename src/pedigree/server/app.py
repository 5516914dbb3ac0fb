"""The HTTP API: ``create_app`` builds it on a ledger (SQLite or PostgreSQL).

Error convention: every error is JSON ``{"detail": one line, "error": kind}``. A
``PedigreeError`` becomes a 4xx (``ERROR_STATUS``); malformed JSON is 400, a body that
does not match the endpoint's model 422, an unexpected exception a bare 500 whose
traceback goes to the server log only, under an id the response names.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pedigree import __version__
from pedigree.errors import (
    ConflictError,
    EvaluationError,
    FingerprintError,
    NotFoundError,
    PedigreeError,
    ProofError,
    RecordError,
    SigningKeyError,
    StoreError,
)
from pedigree.server import tokens
from pedigree.server.access_log import AccessLogWriter
from pedigree.server.group_commit import GroupCommit
from pedigree.server.middleware import AccessLogMiddleware, RequestLimits
from pedigree.store import Ledger, StoreLocation

log = logging.getLogger("pedigree.server")

DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024

ERROR_STATUS: tuple[tuple[type[PedigreeError], int, str], ...] = (
    (ConflictError, 409, "conflict"),
    (RecordError, 400, "invalid_record"),
    (NotFoundError, 404, "not_found"),
    (EvaluationError, 400, "bad_request"),
    (FingerprintError, 400, "bad_request"),
    (StoreError, 503, "store_unavailable"),
    (SigningKeyError, 500, "signing_key"),
    (ProofError, 500, "proof"),
)
"""First match wins (ConflictError is a RecordError)."""


@dataclass(frozen=True, slots=True)
class ServerSettings:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    access_log_interval: float = 0.1
    """Seconds between writes of the queued access-log rows."""
    token_cache_seconds: float = 1.0
    """How long an accepted token is remembered (``tokens.Authenticator``); 0: never."""
    group_commit_wait: float = 0.002
    """Longest an ingest commit waits for more concurrent requests (``GroupCommit``)."""

    @classmethod
    def from_env(cls) -> ServerSettings:
        return cls(
            group_commit_wait=float(
                os.environ.get("PEDIGREE_SERVER_GROUP_COMMIT_WAIT", cls.group_commit_wait)
            ),
            max_body_bytes=int(
                os.environ.get("PEDIGREE_SERVER_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
            ),
            token_cache_seconds=float(
                os.environ.get("PEDIGREE_SERVER_TOKEN_CACHE_SECONDS", cls.token_cache_seconds)
            ),
        )


def _error(status: int, detail: str, error: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": detail, "error": error, **extra}, status, headers=headers)


def _describe_validation(exc: RequestValidationError) -> tuple[int, str]:
    errors = exc.errors()
    for item in errors:
        if item.get("type") == "json_invalid":
            reason = (item.get("ctx") or {}).get("error", "")
            return 400, f"request body is not valid JSON{': ' + str(reason) if reason else ''}"
    parts = []
    for item in errors[:10]:
        loc = [str(p) for p in item.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path"):
            loc = loc[1:]
        where = ".".join(loc) or "body"
        if item.get("type") == "extra_forbidden":
            parts.append(f"unexpected field {where}")
        elif item.get("type") == "missing":
            parts.append(f"missing field {where}")
        else:
            parts.append(f"{where}: {item.get('msg')}")
    more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
    return 422, "; ".join(parts) + more


def _classify(exc: BaseException) -> tuple[int, str]:
    """The status and kind of error an exception is answered with (500: internal)."""
    if not isinstance(exc, PedigreeError):
        return 500, "internal"
    for cls, status, kind in ERROR_STATUS:
        if isinstance(exc, cls):
            return (500, "internal") if status >= 500 else (status, kind)
    return 400, "bad_request"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PedigreeError)
    async def pedigree_error(request: Request, exc: PedigreeError) -> JSONResponse:
        status, kind = _classify(exc)
        if status >= 500:
            return _internal(request, exc)
        return _error(status, str(exc), kind)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, detail = _describe_validation(exc)
        return _error(status, detail, "malformed_json" if status == 400 else "invalid_request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kinds = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            415: "unsupported_media_type",
        }
        response = _error(exc.status_code, str(exc.detail), kinds.get(exc.status_code, "error"))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(OverflowError)
    async def overflow(request: Request, exc: OverflowError) -> JSONResponse:
        # A number a route forgot to bound, too large for the database driver.
        return _error(400, "a number in the request is out of range", "bad_request")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _internal(request, exc)


def _internal(request: Request, exc: BaseException) -> JSONResponse:
    incident = uuid.uuid4().hex[:12]
    log.error(
        "internal error %s on %s %s", incident, request.method, request.url.path, exc_info=exc
    )
    return _error(
        500, f"internal server error (incident {incident}; see the server log)", "internal"
    )


def create_app(
    ledger_or_location: Ledger | StoreLocation | str | os.PathLike[str] | None = None,
    *,
    database_url: str | None = None,
    settings: ServerSettings | None = None,
) -> FastAPI:
    """The API on a ledger: an open ``Ledger`` (left open at shutdown), or a store
    location / directory (opened now, closed at shutdown)."""
    settings = settings or ServerSettings()
    if isinstance(ledger_or_location, Ledger):
        ledger, owned = ledger_or_location, False
    elif isinstance(ledger_or_location, StoreLocation):
        ledger = Ledger.open(ledger_or_location.path, ledger_or_location.database_url)
        owned = True
    else:
        ledger = Ledger.open(
            Path(ledger_or_location) if ledger_or_location is not None else None, database_url
        )
        owned = True
    writer = AccessLogWriter(ledger, interval=settings.access_log_interval)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        writer.start()
        try:
            yield
        finally:
            app.state.group_commit.close()
            writer.close()
            if owned:
                ledger.close()

    app = FastAPI(
        title="Pedigree",
        version=__version__,
        summary="A provenance ledger for synthetic data and the AI pipelines around it.",
        description=(
            "Every endpoint under /api/v1 takes a bearer token from `pedigree tokens create`. "
            "Errors are JSON `{detail, error}`. See docs/server.md."
        ),
        lifespan=lifespan,
    )
    app.state.ledger = ledger
    app.state.group_commit = GroupCommit(
        ledger,
        wait=settings.group_commit_wait,
        lost=lambda row, error: writer.record({**row, "status": _classify(error)[0]}),
    )
    app.state.authenticator = tokens.Authenticator(ledger, ttl=settings.token_cache_seconds)
    app.state.settings = settings
    app.state.access_log = writer
    _install_error_handlers(app)
    from pedigree.server.routes import capture, health, integrity, lineage, reads, records

    # (routes match in order: OpenLineage ingest, the busiest by far, first)
    for module in (lineage, health, reads, records, integrity, capture):
        app.include_router(module.router)
    from pedigree.server import ui
    from pedigree.server.routes import verify

    app.include_router(verify.router)
    ui.install(app)  # last: the web UI at / (every other GET outside /api)
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLogMiddleware, writer=writer)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` and ``pedigree serve --workers N``: the store
    from ``$PEDIGREE_HOME`` / ``$PEDIGREE_DATABASE_URL``."""
    return create_app(
        os.environ.get("PEDIGREE_HOME") or None,
        database_url=os.environ.get("PEDIGREE_DATABASE_URL") or None,
        settings=ServerSettings.from_env(),
    )
