"""What every request passes before a handler: its key (tenant, scopes) and a bounded body."""

from __future__ import annotations

from starlette.requests import Request

from shopguard.api.keys import ApiKey, Keys
from shopguard.api.problems import ProblemError


def authorize(request: Request, scope: str) -> ApiKey:
    """The request's API key, which must carry ``scope`` (admin implies every scope).

    Keys come as ``Authorization: Bearer sg_...`` or ``X-API-Key: sg_...``."""
    keys: Keys = request.app.state.keys
    token = presented(request.headers.get("authorization", ""), request.headers.get("x-api-key"))
    key = keys.verify(token) if token else None
    if key is None:
        raise ProblemError(
            401,
            "unauthorized",
            "a valid API key is required",
            None,
            **{"WWW-Authenticate": "Bearer"},
        )
    if not key.allows(scope):
        raise ProblemError(403, "forbidden", f"this key lacks the {scope!r} scope")
    return key


def presented(authorization: str, x_api_key: str | None) -> str:
    """The key a request carries: ``Authorization: Bearer ...``, else ``X-API-Key``."""
    token = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
    return token or x_api_key or ""


def same_tenant(key: ApiKey, tenant: str, field: str = "$.tenant") -> None:
    if tenant != key.tenant:
        raise ProblemError(403, "forbidden", "this key cannot act for another tenant", field)


async def body(request: Request) -> bytes:
    """The request body, refused with 413 as soon as it passes the configured limit
    (whether or not Content-Length announced it). Served, ``Intake`` has already read it
    under the body deadline; these checks keep the handler safe on its own."""
    limit: int = request.app.state.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        if int(declared) > limit:
            raise ProblemError(413, "too-large", f"bodies are limited to {limit:,} bytes")
        return await request.body()  # the server enforces the declared length
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProblemError(413, "too-large", f"bodies are limited to {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
