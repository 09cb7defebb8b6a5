"""Slow clients against a real `shopguard serve` (issue 13, hole 5): sockets trickling a
login body, a decision body (with a valid key) or their headers once held every place in
the in-flight budget, and every decision answered 503. Now they hold no place, decisions
and /healthz keep answering, and each slow socket is answered 408 and closed at its
deadline (short ones here, set the way an operator would, through the environment)."""

from __future__ import annotations

import select
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from shopguard.api import KeyStore
from tests.api.test_decisions import _event
from tests.api.test_serve import _free_port, _start, _wait_ready

SLOW = 64  # per kind; the budgets below are 16 (decisions) and 4 (everything else)


class Served:
    def __init__(self, port: int, key: str) -> None:
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        self.auth = {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("slow")
    keys = KeyStore(data / "access.db")
    key = keys.create("shop", ["decide"])[1]
    keys.close()
    port = _free_port()
    limits = {"header_timeout": "2s", "body_timeout": "2s", "max_inflight": "16"}
    server = _start(data, port, max_inflight_public="4", **limits)
    try:
        _wait_ready(port)
        yield Served(port, key)
    finally:
        server.terminate()
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def _now_event(event_id: str) -> dict[str, object]:
    return _event(event_id, time=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _open(port: int, first_bytes: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    if first_bytes:
        sock.sendall(first_bytes)
    return sock


def _body_start(path: str, auth: str = "") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: shop\r\nContent-Length: 400\r\n{auth}"
    head += "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
    return head.encode() + b"n"  # one byte of the body, the rest never comes


def _answer_then_close(sock: socket.socket) -> bytes:
    """What the server sends before it closes the connection (generous wait: the
    server's own deadline is what the test is about, not this one)."""
    sock.settimeout(30)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:  # a trickled byte crossed the server's close
        pass
    finally:
        sock.close()
    return received


def _nothing_answered(socks: list[socket.socket]) -> bool:
    readable, _, _ = select.select(socks, [], [], 0)
    return not readable


def _decisions_flow(served: Served, prefix: str) -> None:
    with httpx.Client(base_url=served.url, headers=served.auth, timeout=30) as client:
        statuses = [
            client.post("/v1/decisions", json=_now_event(f"{prefix}{n}")).status_code
            for n in range(20)
        ]
        assert statuses == [200] * 20
        assert client.get("/healthz").status_code == 200


def test_slow_bodies_hold_no_place_in_the_budget_and_get_408(served: Served) -> None:
    key = served.auth["Authorization"]
    logins = [_open(served.port, _body_start("/console/login")) for _ in range(SLOW)]
    decisions = [
        _open(served.port, _body_start("/v1/decisions", f"Authorization: {key}\r\n"))
        for _ in range(SLOW)
    ]
    slow = logins + decisions
    assert _nothing_answered(slow)  # all still waiting on their bodies ...
    _decisions_flow(served, "body")  # ... while a normal client decides
    for sock in slow:
        answer = _answer_then_close(sock)
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b"/problems/timeout" in answer


def test_slow_or_silent_headers_are_answered_408_and_closed(served: Served) -> None:
    partial = b"POST /v1/decisions HTTP/1.1\r\nHost: shop\r\nX-Pad: "
    trickling = [_open(served.port, partial) for _ in range(SLOW)]
    silent = [_open(served.port, b"") for _ in range(SLOW)]
    assert _nothing_answered(trickling + silent)
    _decisions_flow(served, "head")
    # a byte every 0.2 s would keep uvicorn's keep-alive timer from ever firing
    waiting, answers = list(trickling), []
    for _ in range(150):  # 30 s at most, well past the server's 2 s
        readable, _, _ = select.select(waiting, [], [], 0.2)
        for sock in readable:
            answers.append(_answer_then_close(sock))
        waiting = [sock for sock in waiting if sock not in readable]
        for sock in list(waiting):
            try:
                sock.send(b"a")
            except OSError:  # closed by the server, its 408 lost to our late byte
                waiting.remove(sock)
        if not waiting:
            break
    assert not waiting, f"{len(waiting)} trickling sockets still open"
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers if answer), answers[:3]
    for sock in silent:
        answer = _answer_then_close(sock)
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
