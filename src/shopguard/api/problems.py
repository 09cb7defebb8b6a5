"""Errors as RFC 9457 problem documents: ``application/problem+json`` with a type, a
title, the status, a detail, and ``field`` (a JSON path) where one field was wrong."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from shopguard.errors import ConfigError, InvalidEvent, StateUnavailable, StorageUnavailable

TYPE_BASE = "https://shopguard.dev/problems/"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    405: "Method not allowed",
    408: "Request timeout",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Overloaded",
}


class Problem(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str = ""
    instance: str = ""
    field: str | None = None


class ProblemError(Exception):
    """Raised by handlers: becomes a problem response with this status."""

    def __init__(
        self, status: int, slug: str, detail: str, field: str | None = None, **headers: str
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.detail, self.field = status, slug, detail, field
        self.headers = headers


_encode = msgspec.json.Encoder().encode


def problem(
    status: int,
    slug: str,
    detail: str,
    instance: str = "",
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Response:
    title = title or TITLES.get(status, "Error")
    body = Problem(TYPE_BASE + slug, title, status, detail, instance, field)
    return Response(_encode(body), status, headers=headers, media_type="application/problem+json")


async def on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    path = request.url.path
    return problem(exc.status, exc.slug, exc.detail, path, exc.field, exc.headers or None)


async def on_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidEvent)  # InvalidLabel too
    return problem(422, "invalid-input", str(exc), request.url.path, exc.path)


async def on_config(request: Request, exc: Exception) -> Response:
    return problem(400, "bad-request", str(exc), request.url.path)


async def on_storage(request: Request, exc: Exception) -> Response:
    """A write the journal could not make durable (disk full, locked): nothing was kept,
    so the caller may retry, after Retry-After seconds. Logged by state/health.py, once
    per kind per interval, never with a traceback per request."""
    assert isinstance(exc, StorageUnavailable)
    retry = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    detail = f"storage unavailable ({exc.kind}); nothing was recorded, retry later"
    title = "Storage unavailable"
    return problem(503, "storage-unavailable", detail, request.url.path, None, retry, title)


async def on_state(request: Request, exc: Exception) -> Response:
    """The shared state store is unreachable and ``state_unavailable`` is ``closed``:
    nothing was decided or kept; retry after Retry-After seconds."""
    assert isinstance(exc, StateUnavailable)
    retry = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    detail = "feature state unavailable; nothing was decided or recorded, retry later"
    return problem(
        503, "state-unavailable", detail, request.url.path, None, retry, "State unavailable"
    )


async def on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    slug = TITLES.get(exc.status_code, "error").lower().replace(" ", "-")
    return problem(exc.status_code, slug, str(exc.detail), request.url.path, None, exc.headers)


async def on_crash(request: Request, exc: Exception) -> Response:
    # Never leak internals: the detail is generic; the server log has the traceback.
    return problem(
        500, "internal-error", "the server failed to answer this request", request.url.path
    )


HANDLERS: dict[Any, Any] = {
    ProblemError: on_problem,
    InvalidEvent: on_invalid,
    StorageUnavailable: on_storage,
    StateUnavailable: on_state,
    ConfigError: on_config,
    HTTPException: on_http,
    Exception: on_crash,
}
