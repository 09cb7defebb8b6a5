"""The lean path of ``POST /v1/decisions``: one coroutine doing what ``Intake``,
``Admission``, the router and ``endpoints.decide`` do for it, with the same answers.

A decision is the one request a client sends thousands of times a second, and through
the middleware stack and router it spent about as long in Starlette (six ASGI layers, a
``Request``, two key checks, a ``Response``) as in the engine. Here, in the order the
stack applies them: the body read whole under the size cap and the body deadline (413,
408), the in-flight budgets shared with ``Admission`` (503), the key (401, 403), decode
and admission (422 naming the field), the tenant (403), the group commit (durable before
the answer; 503 when storage or state is unavailable), metrics, then the answer with its
headers built by hand. Errors are answered by the app's own exception handlers, so
every refusal is byte for byte the stack's (tests/api/test_lean.py compares them).

Only requests that look ordinary take this path: one Content-Length within the limit,
at most one Authorization and one X-API-Key, no root path. Anything else (chunked
bodies, oversized ones, duplicate headers) goes the long way, which answers it as before.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from shopguard.api.guard import allowed, presented, same_tenant
from shopguard.api.ops import Gate, overloaded
from shopguard.api.problems import HANDLERS, problem
from shopguard.events.decode import decode_event

PATH = "/v1/decisions"
_JSON = (b"content-type", b"application/json")
_CLOSE = {"Connection": "close"}
_encode = msgspec.json.Encoder().encode


class _Deadline:
    """Cancels the task reading a body once ``timeout`` passes (one timer handle: cheaper
    than ``asyncio.timeout`` on a path taken per request)."""

    __slots__ = ("handle", "late", "task")

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.task = asyncio.current_task()
        self.late = False
        self.handle = loop.call_later(timeout, self._expire)

    def _expire(self) -> None:
        self.late = True
        if self.task is not None:
            self.task.cancel()


class LeanDecide:
    """``claims(scope)`` says whether a request takes this path (its token, or None);
    ``serve`` answers it. ``app`` is the Starlette app: its state holds the engine, keys,
    metrics and group commit, and its handlers answer errors."""

    def __init__(self, app: Any, gate: Gate, max_bytes: int, timeout: float) -> None:
        self.app, self.gate, self.max_bytes, self.timeout = app, gate, max_bytes, timeout
        self.state = app.state
        self.answered = 0  # requests this path answered (the parity test checks it ran)

    def claims(self, scope: Scope) -> str | None:
        """The API key token ("" for none) when the request is ordinary; else None."""
        if scope.get("root_path"):
            return None
        declared = authorization = x_api_key = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                if declared is not None:
                    return None
                declared = value
            elif name == b"authorization":
                if authorization is not None:
                    return None
                authorization = value.decode("latin-1")
            elif name == b"x-api-key":
                if x_api_key is not None:
                    return None
                x_api_key = value.decode("latin-1")
            elif name == b"transfer-encoding":
                return None
        if declared is None or not declared.isdigit() or len(declared) > 18:
            return None
        if int(declared) > self.max_bytes:
            return None  # Intake refuses it before reading it
        return presented(authorization or "", x_api_key)

    async def serve(self, scope: Scope, receive: Receive, send: Send, token: str) -> None:
        scope["app"] = self.app
        body = await self._body(scope, receive, send)
        if body is None:
            return
        keys = self.state.keys
        key = keys.verify(token) if token else None
        gate = self.gate
        keyed = key is not None
        if gate.full(keyed):
            self.state.metrics.shed.inc()
            await overloaded(scope["path"])(scope, receive, send)
            return
        if keyed:
            gate.inflight += 1
        else:
            gate.public_inflight += 1
        self.answered += 1
        try:
            await self._decide(scope, receive, send, body, key)
        finally:
            if keyed:
                gate.inflight -= 1
            else:
                gate.public_inflight -= 1

    async def _body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body, as ``Intake`` reads it; None once answered (or the client left)."""
        deadline = _Deadline(asyncio.get_running_loop(), self.timeout)
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                message: Message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_bytes:
                    detail = f"bodies are limited to {self.max_bytes:,} bytes"
                    await problem(413, "too-large", detail, scope["path"], None, _CLOSE)(
                        scope, receive, send
                    )
                    return None
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        except asyncio.CancelledError:
            if not deadline.late:
                raise
            if deadline.task is not None:
                deadline.task.uncancel()
            self.state.metrics.timeouts.labels("body").inc()
            detail = f"the body did not arrive within {self.timeout:g} s"
            await problem(408, "timeout", detail, scope["path"], None, _CLOSE)(scope, receive, send)
            return None
        finally:
            deadline.handle.cancel()
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _decide(
        self, scope: Scope, receive: Receive, send: Send, body: bytes, key: Any
    ) -> None:
        state = self.state
        try:
            key = allowed(key, "decide")
            event = state.engine.admit(decode_event(body))
            same_tenant(key, event.tenant)
            decision = await state.commits.decide(event)  # durable before we answer
        except Exception as exc:
            await self._refuse(scope, receive, send, exc)
            return
        metrics = state.metrics
        metrics.decided(decision.type, decision.outcome).inc()
        metrics.latency.observe(decision.latency_us / 1e6)
        answer = _encode(decision)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"%d" % len(answer)), _JSON],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        """The answer the app's exception handlers give ``exc`` (problems.HANDLERS); an
        unexpected one is answered 500 and raised on, as Starlette's error middleware
        does, so the server logs its traceback."""
        handler = next(HANDLERS[c] for c in type(exc).__mro__ if c in HANDLERS)
        response = await handler(Request(scope, receive), exc)
        await response(scope, receive, send)
        if handler is HANDLERS[Exception]:
            raise exc


class ShopGuardApp(Starlette):
    """Starlette with the lean path of ``POST /v1/decisions`` (api/lean.py) in front of
    its middleware stack; every other request, and an unusual decision, goes through it."""

    lean: LeanDecide | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lean = self.lean
        if (
            lean is not None
            and scope["type"] == "http"
            and scope["path"] == PATH
            and scope["method"] == "POST"
        ):
            token = lean.claims(scope)
            if token is not None:
                await lean.serve(scope, receive, send, token)
                return
        await super().__call__(scope, receive, send)
