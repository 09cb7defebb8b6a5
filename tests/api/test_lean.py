"""The lean path of POST /v1/decisions (api/lean.py) answers exactly what the middleware
stack and handler answer: the same requests, sent as raw ASGI to an app with it and to
one without, get the same status, headers and body (latency_us aside), leave the same
metrics, and unusual requests (no Content-Length, duplicate headers) go the long way."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Message

from shopguard.api import KeyStore, create_app
from shopguard.api.limits import Limits
from tests.api.test_decisions import _event
from tests.conftest import make_engine

Request = tuple[list[tuple[bytes, bytes]], list[bytes]]  # headers, body chunks ("..." stalls)
Answer = tuple[Any, ...]


class Pair:
    """Two apps over two like engines (same pack, keys, order of events): lean and not."""

    def __init__(self, tmp: Path, max_inflight: int = 512, public: int = 32) -> None:
        self.keys = KeyStore(tmp / "access.db")
        self.decide = self.keys.create("shop", ["decide"])[1]
        self.admin = self.keys.create("shop", ["admin"])[1]
        self.label = self.keys.create("shop", ["label"])[1]
        self.rival = self.keys.create("rival", ["decide"])[1]
        limits = Limits(body_timeout=0.2, max_inflight_public=public)
        self.apps = [
            create_app(
                make_engine(decision_log="sqlite", data_dir=str(tmp / name)),
                self.keys,
                max_body_bytes=2_000,
                max_inflight=max_inflight,
                limits=limits,
                lean=lean,
            )
            for name, lean in (("stack", False), ("lean", True))
        ]

    def both(self, request: Request) -> tuple[Answer, Answer]:
        stack, lean = (asyncio.run(_call(app, request)) for app in self.apps)
        return stack, lean

    def metrics(self) -> list[list[str]]:
        """Each app's metric samples, but the latency histogram's (engine time varies)."""
        from prometheus_client import generate_latest

        return [
            [
                line
                for line in generate_latest(app.state.metrics.registry).decode().splitlines()
                if "shopguard_decide_seconds" not in line and "_created" not in line
            ]
            for app in self.apps
        ]


async def _call(app: Any, request: Request) -> Answer:
    headers, chunks = request
    parts = list(chunks)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/decisions",
        "raw_path": b"/v1/decisions",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"shop"), *headers],
        "client": ("127.0.0.1", 4000),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> Message:
        if parts:
            chunk = parts.pop(0)
            if chunk == b"...":  # a client that stops sending
                await asyncio.Event().wait()
            if chunk == b"gone":
                return {"type": "http.disconnect"}
            return {"type": "http.request", "body": chunk, "more_body": bool(parts)}
        await asyncio.Event().wait()
        raise AssertionError

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    try:
        await app(scope, receive, send)
        raised = None
    except Exception as exc:  # a 500 is answered, then raised on for the server's log
        raised = type(exc).__name__
    if not sent:
        return (None, raised)
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    if start["status"] == 200:
        decision = json.loads(body)
        decision.pop("latency_us")
        # the length may differ only by the digits of latency_us
        headers = [(k, b"-" if k == b"content-length" else v) for k, v in start["headers"]]
        return (200, headers, decision, raised)
    return (start["status"], start["headers"], body, raised)


def _post(
    event: dict[str, Any] | bytes, *headers: tuple[bytes, bytes], length: bool = True
) -> Request:
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    sized = [(b"content-length", str(len(body)).encode())] if length else []
    return [*headers, *sized], [body]


def _bearer(key: str) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {key}".encode())


def test_the_lean_path_answers_what_the_stack_answers(tmp_path: Path) -> None:
    pair = Pair(tmp_path)
    decide, admin = _bearer(pair.decide), _bearer(pair.admin)
    body = json.dumps(_event("split")).encode()
    requests: list[Request] = [
        _post(_event("p1"), decide),
        _post(_event("p1"), decide),  # a resend: the first decision
        _post(_event("p2", amount=9_000.0), admin),
        _post(_event("p3"), (b"x-api-key", pair.decide.encode())),
        _post(_event("p4"), (b"authorization", f"bEaReR {pair.decide}".encode())),
        _post(_event("p5")),  # no key
        _post(_event("p6"), _bearer("sg_nothere_wrong")),
        _post(_event("p7"), _bearer(pair.label)),  # lacks the decide scope
        _post(_event("p8"), _bearer(pair.rival)),  # another tenant's event
        _post(b"{not json", decide),
        _post(_event("p9", colour="red"), decide),
        _post(_event("p10", time="2025-03-01T10:00:00"), decide),
        _post(_event("p11", ip="999.1.1.1"), decide),
        _post(_event("p12", type="no.such"), decide),
        _post(_event("p13", account="a" * 3_000), decide),  # announced too large
        _post(_event("p14", account="a" * 3_000), decide, length=False),  # found too large
        ([decide, (b"content-length", b"10")], [b"x" * 1_500, b"x" * 1_500]),
        ([decide, (b"content-length", str(len(body)).encode())], [body[:9], body[9:]]),
        _post(_event("p15"), decide, length=False),  # no Content-Length: the long way
        _post(_event("p16"), decide, (b"authorization", b"Bearer sg_x_y")),  # two keys
        ([decide, (b"content-length", b"40")], [b"{", b"..."]),  # a stalled body: 408
        ([decide, (b"content-length", b"40")], [b"gone"]),  # the client left
    ]
    for request in requests:
        stack, lean = pair.both(request)
        assert lean == stack, request
    assert pair.apps[1].lean is not None and pair.apps[1].lean.answered >= 12
    assert pair.apps[0].lean is None
    stack_metrics, lean_metrics = pair.metrics()
    assert lean_metrics == stack_metrics
    assert any(m.startswith("shopguard_decisions_total{") for m in lean_metrics)
    assert 'shopguard_timeouts_total{phase="body"} 1.0' in lean_metrics


def test_the_lean_path_sheds_and_fails_as_the_stack_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = Pair(tmp_path / "full", max_inflight=0, public=0)  # every budget spent
    for request in (_post(_event("f1"), _bearer(full.decide)), _post(_event("f2"))):
        stack, lean = full.both(request)
        assert lean == stack and stack[0] == 503, stack
    assert full.metrics()[1] == full.metrics()[0]
    broken = Pair(tmp_path / "broken")
    for app in broken.apps:

        def crash(event: Any) -> Any:
            raise RuntimeError("a bug")

        monkeypatch.setattr(app.state.engine, "admit", crash)
    stack, lean = broken.both(_post(_event("c1"), _bearer(broken.decide)))
    assert lean == stack and stack[0] == 500 and stack[3] == "RuntimeError"
