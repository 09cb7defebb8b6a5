"""Redis killed mid-stream (a redis-server of the test's own, on its own port):
``state_unavailable: open`` decides without feature state, saying STATE_UNAVAILABLE,
never raising and without a timeout per event (the breakers fail at once between tries);
``closed`` answers 503 with Retry-After over HTTP. Redis started again: decisions are
back to normal on their own within about ``state_retry_every``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from shopguard.api import KeyStore, create_app
from shopguard.engine import Engine
from tests.servers import redis_server
from tests.state.shared_redis import worker

RETRY = 0.3  # state_retry_every (and the breakers' wait) in these tests


def sms(i: int) -> dict[str, Any]:
    second = f"2025-03-01T10:{i // 60:02d}:{i % 60:02d}Z"
    return {"type": "sms.send", "event_id": f"s{i}", "tenant": "shop", "time": second}


def on_phone(i: int) -> dict[str, Any]:
    return {**sms(i), "phone": "13812345678", "ip": "1.2.3.4"}


def codes(decision: Any) -> list[str]:
    return [r.code for r in decision.reasons]


def outage_engine(url: str, policy: str, **overrides: Any) -> Engine:
    return worker(
        "outage",
        url=url,
        state_unavailable=policy,
        state_retry_every=f"{RETRY}s",
        redis_timeout="0.2s",
        **overrides,
    )


def back_to_normal(decide: Any, first: int) -> int:
    """Events decided until one reads state again (STATE_UNAVAILABLE gone)."""
    deadline = time.monotonic() + 3 * RETRY + 2
    i = first
    while time.monotonic() < deadline:
        if "STATE_UNAVAILABLE" not in decide(i):
            return i
        i += 1
        time.sleep(RETRY / 10)
    raise AssertionError("decisions did not come back to normal on their own")


def test_open_decides_without_state_fast_and_recovers(tmp_path: Path) -> None:
    with redis_server(tmp_path) as server:
        engine = outage_engine(server.url, "open")
        other = outage_engine(server.url, "open")  # gets the list entry made in the outage
        assert [codes(engine.decide(on_phone(i))) for i in range(3)] == [[]] * 3
        server.kill()
        started = time.monotonic()
        down = [engine.decide(on_phone(i)) for i in range(3, 43)]
        batch = engine.decide_many([on_phone(i) for i in range(43, 53)])
        elapsed = time.monotonic() - started
        assert all("STATE_UNAVAILABLE" in codes(d) for d in [*down, *batch])
        # read as unseen: the phone's 5th code in an hour would be denied with state
        assert {d.outcome for d in down} == {"allow"}
        assert elapsed < 10 * 0.2  # fewer than one Redis timeout per ten events
        device = engine.entity_value("shop", "device", "dx", raw=True)
        engine.list_add("deny", "device", device, tenant="shop", raw=False)  # journaled
        server.start()
        decide = lambda i: codes(engine.decide(on_phone(i)))  # noqa: E731
        back = back_to_normal(decide, 100)
        # the folds made while Redis was up (3, written before it died) are lost with
        # its data (no persistence here); the events after it returned count again
        counted = [engine.decide(on_phone(i)).outcome for i in range(back + 1, back + 6)]
        assert "deny" in counted
        listed = other.decide({**sms(200), "device": {"id": "dx"}})
        assert codes(listed) == ["LIST_DENY"]
        engine.close()
        other.close()


def test_closed_answers_503_with_retry_after_and_recovers(tmp_path: Path) -> None:
    with redis_server(tmp_path) as server:
        engine = outage_engine(server.url, "closed", data_dir=str(tmp_path / "data"))
        keys = KeyStore(tmp_path / "access.db")
        auth = {"Authorization": f"Bearer {keys.create('shop', ['decide'])[1]}"}
        with TestClient(create_app(engine, keys), raise_server_exceptions=False) as client:
            post = lambda e: client.post("/v1/decisions", json=e, headers=auth)  # noqa: E731
            assert post(on_phone(0)).status_code == 200
            server.kill()
            answers = [post(on_phone(i)) for i in range(1, 21)]
            batch = client.post(
                "/v1/decisions:batch", json=[on_phone(i) for i in range(21, 26)], headers=auth
            )
            for answer in [*answers, batch]:
                assert answer.status_code == 503, answer.text
                assert int(answer.headers["Retry-After"]) >= 1
            server.start()

            def decide(i: int) -> list[str]:
                answer = post(on_phone(i))
                if answer.status_code == 503:
                    return ["STATE_UNAVAILABLE"]
                assert answer.status_code == 200, answer.text
                return [r["code"] for r in answer.json()["reasons"]]

            back_to_normal(decide, 100)
            # nothing refused was kept: the phone counts its codes from the restart on
            assert post(on_phone(0)).status_code == 200  # decided before: answered again
        engine.close()
