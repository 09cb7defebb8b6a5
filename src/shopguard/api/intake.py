"""``Intake``: every request's body is read whole, under a size cap and a deadline, before
anything inside (admission, handlers, console forms) sees the request.

A client that sends its body a byte a second then holds a connection for at most
``body_timeout`` and never a place in the in-flight budget, which only counts requests
that can be answered at once. Past the deadline: 408; past the size: 413; both close the
connection so the rest of the body is not read.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shopguard.api.problems import problem

_CLOSE = {"Connection": "close"}


class Intake:
    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float, metrics: Any) -> None:
        self.app, self.max_bytes, self.timeout, self.metrics = app, max_bytes, timeout, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return  # the client left; nobody to answer
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_bytes:
                        await self._too_large(scope, receive, send)
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            self.metrics.timeouts.labels("body").inc()
            detail = f"the body did not arrive within {self.timeout:g} s"
            await problem(408, "timeout", detail, scope["path"], None, _CLOSE)(scope, receive, send)
            return
        whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return whole
            return await receive()  # after the body: the disconnect, when it comes

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"bodies are limited to {self.max_bytes:,} bytes"
        await problem(413, "too-large", detail, scope["path"], None, _CLOSE)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.isdigit():
                return None
            return int(value) if len(value) < 19 else 1 << 62  # int() refuses 4,300 digits
    return None
