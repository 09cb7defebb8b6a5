"""Admission's two budgets and Intake's body gate, driven as ASGI (issue 13, hole 5):
requests without a valid key (console sign-in, wrong keys) fill only their own small
budget, and a request is admitted only once its whole body is in."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from shopguard.api.intake import Intake
from shopguard.api.keys import KeyStore
from shopguard.api.ops import Admission, Metrics


class Held:
    """An app that keeps every request it is given until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.inside = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.inside += 1
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _scope(path: str, key: str = "") -> dict[str, Any]:
    headers = [(b"authorization", f"Bearer {key}".encode())] if key else []
    return {"type": "http", "path": path, "method": "POST", "headers": headers}


async def _call(app: Any, scope: dict[str, Any], body: list[bytes] | None = None) -> int:
    parts = list(body or [b""])
    statuses: list[int] = []

    async def receive() -> Message:
        if parts:
            chunk = parts.pop(0)
            if chunk == b"...":  # a client that stops sending
                await asyncio.Event().wait()
            return {"type": "http.request", "body": chunk, "more_body": bool(parts)}
        await asyncio.Event().wait()
        raise AssertionError

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0]


def test_keyless_requests_fill_their_own_budget_not_the_decisions(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "access.db")
    good = keys.create("shop", ["decide"])[1]
    held = Held()
    gate = Admission(held, limit=2, metrics=Metrics(), keys=keys, public_limit=2)

    async def run() -> list[int]:
        waiting = [
            asyncio.create_task(_call(gate, _scope("/console/login")))
            for _ in range(2)  # sign-ins filling the public budget
        ]
        waiting.append(asyncio.create_task(_call(gate, _scope("/v1/decisions", "sg_x_wrong"))))
        waiting.append(asyncio.create_task(_call(gate, _scope("/v1/decisions", good))))
        await asyncio.sleep(0.05)
        assert held.inside == 3  # two sign-ins and the keyed decision; the wrong key shed
        shed_keyless = await _call(gate, _scope("/console/login"))
        decided = asyncio.create_task(_call(gate, _scope("/v1/decisions", good)))
        await asyncio.sleep(0.05)
        assert held.inside == 4  # the second keyed request still found room
        held.release.set()
        return [shed_keyless, *await asyncio.gather(*waiting, decided)]

    assert asyncio.run(run()) == [503, 200, 200, 503, 200, 200]
    keys.close()


def test_a_request_counts_against_the_budget_only_once_its_body_is_in(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "access.db")
    good = keys.create("shop", ["decide"])[1]
    held, stats = Held(), Metrics()
    app = Intake(Admission(held, 1, stats, keys), max_bytes=1000, timeout=0.2, metrics=stats)

    async def run() -> list[int]:
        stalled = [
            asyncio.create_task(_call(app, _scope("/v1/decisions", good), [b"{", b"..."]))
            for _ in range(5)
        ]
        whole = asyncio.create_task(_call(app, _scope("/v1/decisions", good), [b"{", b"}"]))
        await asyncio.sleep(0.05)
        assert held.inside == 1  # the one whose body arrived, though five came first
        held.release.set()
        return [await whole, *await asyncio.gather(*stalled)]

    assert asyncio.run(run()) == [200, 408, 408, 408, 408, 408]
    assert stats.timeouts.labels("body")._value.get() == 5
    keys.close()


def test_a_body_past_the_limit_is_refused_before_it_is_all_read() -> None:
    stats = Metrics()
    app = Intake(Held(), max_bytes=10, timeout=5, metrics=stats)
    announced = _scope("/v1/decisions")
    announced["headers"].append((b"content-length", b"9" * 5000))
    streamed = asyncio.run(_call(app, _scope("/v1/decisions"), [b"x" * 6, b"x" * 6, b"..."]))
    assert (asyncio.run(_call(app, announced, [b"..."])), streamed) == (413, 413)
