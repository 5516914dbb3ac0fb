"""ASGI middleware: request limits (size, content type) and the access log.

Both are plain ASGI so they see every request, including the ones they refuse, without
buffering bodies: a body is counted as it streams and refused the moment it passes the
limit.
"""

from __future__ import annotations

import json
import logging
import zlib
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pedigree.server import access_log

JSON_TYPES = ("application/json",)
MULTIPART_PATHS = ("/api/v1/verify",)
"""Endpoints that take file uploads (multipart/form-data) instead of JSON."""
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Requests answered only once their access-log row is committed."""

log = logging.getLogger("pedigree.server.access")


async def _send_json(send: Send, status: int, detail: str, error: str) -> None:
    body = json.dumps({"detail": detail, "error": error}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _TooLarge(HTTPException):
    """Raised from ``receive``: an HTTPException, so FastAPI's body reader passes it on
    (it turns other exceptions into a 400) and the app answers 413."""


class RequestLimits:
    """413 for a body over ``max_body_bytes`` (sent, or once a gzip body is inflated); 415
    for a body that is not JSON or is in an encoding other than gzip."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _too_large(self) -> str:
        return f"request body is larger than the limit of {self.max_body_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await _send_json(send, 400, "malformed Content-Length header", "bad_request")
                return
            if declared > self.max_body_bytes:
                await _send_json(send, 413, self._too_large(), "too_large")
                return
        has_body = chunked or (length is not None and int(length) > 0)
        if has_body:
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            if not (
                media in JSON_TYPES
                or (media.startswith("application/") and media.endswith("+json"))
                or (media == "multipart/form-data" and scope["path"] in MULTIPART_PATHS)
            ):
                await _send_json(
                    send,
                    415,
                    f"request body must be JSON (Content-Type: application/json), not {media or 'untyped'}",
                    "unsupported_media_type",
                )
                return
        encoding = headers.get("content-encoding", "identity").strip().lower() or "identity"
        if has_body and encoding not in ("identity", "gzip"):
            await _send_json(
                send,
                415,
                f"Content-Encoding {encoding} is not supported (send gzip or no encoding)",
                "unsupported_media_type",
            )
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _TooLarge(413, self._too_large())
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        body_source: Receive = counted
        if has_body and encoding == "gzip":
            body_source = self._gunzipped(counted)
        try:
            await self.app(scope, body_source, tracked)
        except _TooLarge:
            if not started:
                await _send_json(send, 413, self._too_large(), "too_large")

    def _gunzipped(self, receive: Receive) -> Receive:
        """The body of a gzip request, inflated; the limit applies to the inflated size too
        (a small bomb is refused as soon as it inflates past it)."""
        done = False

        async def inflated() -> Message:
            nonlocal done
            if done:
                return await receive()
            inflater = zlib.decompressobj(wbits=31)
            parts: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return message
                more = message.get("more_body", False)
                try:
                    part = inflater.decompress(
                        message.get("body", b""), self.max_body_bytes + 1 - size
                    )
                except zlib.error:
                    raise HTTPException(400, "request body is not valid gzip") from None
                size += len(part)
                parts.append(part)
                if size > self.max_body_bytes or inflater.unconsumed_tail:
                    raise _TooLarge(413, self._too_large() + " (once decompressed)")
            if not inflater.eof:
                raise HTTPException(400, "request body is truncated gzip")
            done = True
            return {"type": "http.request", "body": b"".join(parts), "more_body": False}

        return inflated


class AccessLogMiddleware:
    """Records each ``/api/`` request: who, what, which node, what status. A write is
    answered only once its row is committed (``AccessLogWriter.record_durably``); a read
    is logged after its answer."""

    def __init__(self, app: ASGIApp, *, writer: Any) -> None:
        self.app = app
        self.writer = writer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        status = 500
        recorded = False

        async def tracked(message: Message) -> None:
            nonlocal status, recorded
            if message["type"] == "http.response.start":
                status = message["status"]
                if (scope.get("state") or {}).get("access_logged"):
                    recorded = True  # written with the request's own transaction
                elif scope["method"] in WRITE_METHODS:
                    recorded = True
                    try:
                        await self.writer.record_durably(access_log.from_scope(scope, status))
                    except Exception as exc:  # the row stays queued; answer all the same
                        log.warning("access-log row not written yet (will retry): %s", exc)
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        finally:
            # (a request whose row goes with its own transaction is never logged here, even
            # when cancelled before answering: see ``GroupCommit.lost``)
            if not recorded and not (scope.get("state") or {}).get("access_logged"):
                self.writer.record(access_log.from_scope(scope, status))
