"""The HTTP protocols of api/server.py on both of uvicorn's parsers: headers that do not
arrive in time get 408 and a closed connection, prompt requests on the same connection
are untouched, and connections past ``max_connections`` are closed at once."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from shopguard.api.limits import Limits
from shopguard.api.server import protocol_class
from tests.api.test_serve import _free_port


async def _hello(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hi"})


class Running:
    def __init__(self, parser: str, limits: Limits) -> None:
        self.heard: list[str] = []
        http = protocol_class(limits, self.heard.append, parser)
        self.port = _free_port()
        config = uvicorn.Config(_hello, port=self.port, http=http, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.settimeout(30)
        return sock

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture(params=["h11", "httptools"])
def parser(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def running(parser: str) -> Iterator[Running]:
    served = Running(parser, Limits(header_timeout=0.5))
    yield served
    served.stop()


@pytest.fixture
def crowded(parser: str) -> Iterator[Running]:
    served = Running(parser, Limits(header_timeout=30, max_connections=8))
    yield served
    served.stop()


def _until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    sock.close()
    return received


def test_headers_late_get_408_and_prompt_ones_are_answered(running: Running) -> None:
    silent, partial, prompt = running.connect(), running.connect(), running.connect()
    partial.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    for _ in range(3):  # several requests on one kept-alive connection, each in time
        prompt.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert prompt.recv(65536).startswith(b"HTTP/1.1 200 ")
    for sock in (silent, partial):
        assert _until_closed(sock).startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    # the second request of a kept-alive connection has its own deadline
    prompt.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    assert _until_closed(prompt).startswith(b"HTTP/1.1 408 ")
    assert running.heard.count("header-timeout") == 3


def test_connections_past_the_cap_are_closed_at_once(crowded: Running) -> None:
    running = crowded
    held = [running.connect() for _ in range(8)]
    time.sleep(0.1)  # let the server take them all before the next knocks
    extra = running.connect()
    assert _until_closed(extra) == b""  # closed without a word
    assert running.heard == ["too-many-connections"]
    held[0].sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert held[0].recv(65536).startswith(b"HTTP/1.1 200 ")  # those inside are served
    for sock in held:
        sock.close()
