"""uvicorn with the connection limits it lacks: a deadline on each request's line and
headers, and a cap on open connections.

uvicorn arms its keep-alive timer only between requests and cancels it at the first byte,
so a client trickling headers a byte a second holds its connection for ever (slowloris).
The protocols here start a timer when a connection opens and when a request's first byte
arrives, cancel it once the headers are complete, and on expiry answer 408 and close.
uvicorn's ``limit_concurrency`` is not used: it answers 503 to every request once open
connections reach it, which is the starvation itself; past ``max_connections`` a new
connection is closed instead, so the clients already served keep their connections.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import Callable
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from shopguard.api.limits import Limits

_DETAIL = b'{"type":"https://shopguard.dev/problems/timeout","title":"Request timeout",'
_DETAIL += b'"status":408,"detail":"the request\'s headers did not arrive in time"}'
LATE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/problem+json\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_DETAIL), _DETAIL)
)
Hook = Callable[[str], None]  # told "header-timeout" or "too-many-connections"


def _unheard(what: str) -> None:
    return None


class _Deadline:
    """What the httptools and h11 protocols share; the subclass says when headers start
    and end. Class attributes are set by :func:`protocol_class`."""

    limits: Limits = Limits()
    hook: Hook = _unheard
    _late: asyncio.TimerHandle | None = None
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    connections: set[Any]
    cycle: Any

    def _admit_connection(self) -> bool:
        if len(self.connections) > self.limits.max_connections:
            self._tell("too-many-connections")
            self.transport.close()
            return False
        self._arm()
        return True

    def _arm(self) -> None:
        if self._late is None:
            self._late = self.loop.call_later(self.limits.header_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self._late is not None:
            self._late.cancel()
            self._late = None

    def _headers_late(self) -> None:
        self._late = None
        if self.transport.is_closing():
            return
        self._tell("header-timeout")
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False  # a pipelined answer is being sent: end after it
            return
        self.transport.write(LATE)
        self.transport.close()

    def _tell(self, what: str) -> None:
        self.hook(what)


class _H11(_Deadline, H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._admit_connection()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.IDLE:
            self._arm()  # a request has begun and its headers are not all here
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def _httptools_class() -> type[asyncio.Protocol] | None:
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover  (httptools is in uvicorn[standard])
        return None

    class _HttpTools(_Deadline, HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._admit_connection()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return _HttpTools


def protocol_class(
    limits: Limits, hook: Hook | None = None, parser: str = "auto"
) -> type[asyncio.Protocol]:
    """The HTTP/1.1 protocol for uvicorn's ``http=``: httptools when installed (``auto``,
    as uvicorn picks), else h11; ``hook`` hears of every refused connection."""
    base = _httptools_class() if parser in ("auto", "httptools") else None
    if base is None and parser == "httptools":
        raise RuntimeError("httptools is not installed")
    base = base or _H11
    return type(
        "ShopGuardHTTP", (base,), {"limits": limits, "hook": staticmethod(hook or _unheard)}
    )


def fit_open_files(max_connections: int) -> int:
    """Raise this process's open-file limit to hold ``max_connections`` (plus room for the
    databases and logs) as far as the hard limit allows; the connections that fit."""
    spare = 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max_connections + spare
    if soft != resource.RLIM_INFINITY and soft < want:
        soft = want if hard == resource.RLIM_INFINITY else min(want, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        except (ValueError, OSError):
            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    fits = max_connections if soft == resource.RLIM_INFINITY else min(max_connections, soft - spare)
    if fits < max_connections:
        logging.getLogger("shopguard.serve").warning(
            "open-file limit %d holds %d connections, not max_connections %d",
            soft,
            fits,
            max_connections,
        )
    return max(fits, 1)
