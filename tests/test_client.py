"""The SDK against a real server (uvicorn in a thread), and its fallback when ShopGuard is
unreachable: fail open, fail closed or challenge, but never on a 4xx."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from shopguard.api import KeyStore, create_app
from shopguard.client import AsyncShopGuard, ProblemError, ShopGuard, Unavailable
from tests.api.test_decisions import _event
from tests.conftest import make_engine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    data = tmp_path_factory.mktemp("served")
    keys = KeyStore(Path(data) / "access.db")
    _, secret = keys.create("shop", ["admin"])
    app = create_app(make_engine(decision_log="sqlite", data_dir=str(data)), keys)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", secret
    running.should_exit = True
    thread.join(10)


def test_decide_fetch_label_and_health(server: tuple[str, str]) -> None:
    url, key = server
    guard = ShopGuard(url, key, timeout=5)
    decision = guard.decide(_event("c1"))
    assert decision.outcome == "allow" and decision.event_id == "c1"
    assert guard.decide(_event("c1")) == decision  # idempotent by event_id
    assert guard.decision("c1") == decision and guard.decision("nope") is None
    batch = guard.decide_batch([_event("c2"), _event("c3")])
    assert [d.event_id for d in batch] == ["c2", "c3"]
    label = guard.label(kind="chargeback", event_id="c1", loss=120.0)
    assert label.tenant == "shop"
    assert guard.merchant_health("m1").confirmed_loss == 120.0
    guard.close()


def test_a_4xx_raises_and_never_falls_back(server: tuple[str, str]) -> None:
    url, key = server
    guard = ShopGuard(url, key, timeout=5, fallback="allow")
    with pytest.raises(ProblemError) as bad:
        guard.decide(_event("c9", amount=-1))
    assert bad.value.status == 422 and bad.value.field == "$.amount"
    with pytest.raises(ProblemError) as unauthorized:
        ShopGuard(url, "sg_x_y", timeout=5).decide(_event("c10"))
    assert unauthorized.value.status == 401


@pytest.mark.parametrize("fallback", ["allow", "deny", "challenge"])
def test_unreachable_answers_the_fallback(fallback: str) -> None:
    closed = f"http://127.0.0.1:{_free_port()}"
    guard = ShopGuard(closed, "sg_a_b", timeout=0.2, retries=1, backoff=0.01, fallback=fallback)  # type: ignore[arg-type]
    decision = guard.decide(_event("u1"))
    assert decision.outcome == fallback and decision.reasons[0].code == "SHOPGUARD_UNREACHABLE"
    assert decision.challenge == ("captcha" if fallback == "challenge" else None)
    strict = ShopGuard(closed, "sg_a_b", timeout=0.2, retries=0, fallback=None)
    with pytest.raises(Unavailable):
        strict.decide(_event("u2"))


def test_overload_and_server_errors_are_retried_with_backoff() -> None:
    answers = [503, 502, 200]
    seen: list[float] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(time.monotonic())
        status = answers[len(seen) - 1]
        if status != 200:
            return httpx.Response(status, json={"title": "Overloaded", "detail": "busy"})
        return httpx.Response(200, content=_ok_body())

    guard = ShopGuard(
        "http://sg", "k", retries=2, backoff=0.02, transport=httpx.MockTransport(respond)
    )
    assert guard.decide(_event("r1")).outcome == "allow"
    assert len(seen) == 3 and seen[2] - seen[1] >= 0.04  # 0.02 then 0.04
    answers[:] = [503, 503, 503]
    seen.clear()
    assert guard.decide(_event("r2")).reasons[0].code == "SHOPGUARD_UNREACHABLE"
    assert len(seen) == 3


def _ok_body() -> bytes:
    return (
        b'{"event_id":"r1","tenant":"shop","type":"payment","time":0,"outcome":"allow",'
        b'"score":0,"reasons":[],"ruleset_version":"x","engine_version":"x","latency_us":1}'
    )


def test_async_client(server: tuple[str, str]) -> None:
    url, key = server

    async def run() -> tuple[str, str]:
        guard = AsyncShopGuard(url, key, timeout=5)
        decision = await guard.decide(_event("a1"))
        closed = AsyncShopGuard(
            f"http://127.0.0.1:{_free_port()}", key, timeout=0.2, retries=0, fallback="deny"
        )
        fallback = await closed.decide(_event("a2"))
        await guard.aclose()
        await closed.aclose()
        return decision.outcome, fallback.outcome

    assert asyncio.run(run()) == ("allow", "deny")
