"""Event time cannot be used as a weapon: served live it is bounded by the server clock,
and list expiry and dedupe never move on one event's claim (docs/events.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from shopguard import Engine
from shopguard.api import KeyStore, create_app
from shopguard.errors import InvalidEvent
from tests.conftest import event, make_engine

T0 = datetime(2025, 3, 1, 10, tzinfo=UTC).timestamp()  # conftest.event's at=0
DAY = 86400.0


def _clock(at: float = T0) -> Callable[[], float]:
    return lambda: at


def live(**overrides: Any) -> Engine:
    return make_engine(event_time="live", clock=_clock(), **overrides)


def replay(**overrides: Any) -> Engine:
    return make_engine(event_time="replay", clock=_clock(), **overrides)


def _login(event_id: str, at: float, **fields: Any) -> dict[str, Any]:
    return event("account.login", event_id, at, account="atk", device={"id": "farm-1"}, **fields)


def test_a_future_dated_event_is_refused_live_and_lifts_no_deny_entry() -> None:
    """The exploit: one event dated 60 days ahead passed a 30-day deny entry and deleted
    it for everyone."""
    engine = live()
    engine.list_add("deny", "device", "farm-1", tenant="shop", ttl="30d", reason="farm")
    with pytest.raises(InvalidEvent) as refused:
        engine.decide(_login("x1", 60 * DAY))
    assert refused.value.path == "$.time"
    with pytest.raises(InvalidEvent) as in_batch:
        engine.decide_many([_login("x2", 0), _login("x3", 60 * DAY)])
    assert in_batch.value.path == "$[1].time"
    assert engine.decide(_login("x4", 0)).reasons[0].code == "LIST_DENY"
    assert engine.decide(_login("x5", 299)).reasons[0].code == "LIST_DENY"  # within 5m ahead


def test_in_replay_a_far_event_skips_an_expired_entry_but_deletes_it_for_no_one() -> None:
    engine = replay()
    engine.list_add("deny", "device", "farm-1", tenant="shop", ttl="30d", reason="farm")
    engine.list_add("deny", "merchant", "m-bad", ttl="30d", reason="every tenant")
    # pure event time: 60 days on, the entries have expired for these events...
    assert engine.decide(_login("f1", 60 * DAY)).outcome != "deny"
    rival = event("order.create", "f2", 60 * DAY, tenant="rival", order_id="o", amount=5)
    assert engine.decide({**rival, "merchant": "m-bad"}).outcome != "deny"
    # ...but they were not deleted: events of the present still meet them
    assert engine.decide(_login("f3", 0)).reasons[0].code == "LIST_DENY"
    mine = event("order.create", "f4", 0, order_id="o", amount=5, merchant="m-bad")
    assert engine.decide(mine).reasons[0].code == "LIST_DENY"


def _sms(event_id: str, at: float, tenant: str = "shop") -> dict[str, Any]:
    return event("sms.send", event_id, at, tenant=tenant, phone="13812345678", ip="1.2.3.4")


def test_a_2099_event_does_not_wipe_other_tenants_dedupe() -> None:
    """The exploit: one event dated 2099 from any tenant made every tenant's next resend
    count twice."""
    engine = replay(explain=True)
    first = engine.decide(_sms("s1", 0))
    far = {**_sms("z1", 0, tenant="rival"), "time": "2099-01-01T00:00:00Z"}
    engine.decide(far)
    assert engine.decide(_sms("s1", 0)) == first  # the resend: answered from the journal
    after = engine.decide(_sms("s2", 60))
    assert after.features["phone_sms_1h"] == 1  # s1 counted once
    with pytest.raises(InvalidEvent) as refused:
        live().decide(far)
    assert refused.value.path == "$.time"


def test_day_spaced_forged_times_are_refused_live_and_velocity_still_counts() -> None:
    """The exploit: twelve codes to one phone, dated a day apart, evaded the 1h and 24h
    caps. Live, all but the present one are refused; spread over the whole allowed
    skew instead, the caps still fire."""
    assert all(replay().decide(_sms(f"d{k}", -k * DAY)).outcome == "allow" for k in range(12))
    engine = live()
    for k in range(1, 12):
        with pytest.raises(InvalidEvent):
            engine.decide(_sms(f"d{k}", -k * DAY))
    span = 3600 + 300  # max_event_behind + max_event_ahead
    outcomes = [engine.decide(_sms(f"w{i}", -3599 + i * span / 12)).outcome for i in range(12)]
    assert outcomes[-1] == "deny" and outcomes.count("deny") >= 2


def test_dedupe_ages_on_the_server_clock_when_live() -> None:
    """An event dated as far ahead as allowed does not age earlier ids out: the window
    runs on the clock (by event time, s2 at +5m would push s1 out of a 4m window)."""
    now = [T0]
    engine = make_engine(event_time="live", clock=lambda: now[0], dedupe_window="4m")
    first = engine.decide(_sms("s1", 0))
    engine.decide(_sms("s2", 300))
    assert engine.decide(_sms("s1", 0)) == first
    now[0] = T0 + 300  # the clock itself moves past the window: s1 is forgotten
    engine.decide(_sms("s3", 300))
    assert engine.dedupe.get("shop\x1fs1") is None


def test_the_skew_bounds_come_from_settings() -> None:
    engine = make_engine(event_time="live", clock=_clock(), max_event_behind="2d")
    assert engine.decide(_sms("late", -DAY)).outcome == "allow"
    with pytest.raises(InvalidEvent):
        engine.decide(_sms("later", -3 * DAY))


def test_the_api_answers_a_skewed_event_with_a_problem_naming_time(tmp_path: Path) -> None:
    engine = live(decision_log="sqlite", data_dir=str(tmp_path))
    keys = KeyStore(tmp_path / "access.db")
    auth = {"Authorization": f"Bearer {keys.create('shop', ['decide'])[1]}"}

    def sms(event_id: str, when: str) -> dict[str, Any]:
        return {**_sms(event_id, 0), "time": when}

    with TestClient(create_app(engine, keys), raise_server_exceptions=False) as client:
        ahead = sms("a1", "2025-04-30T10:00:00Z")  # 60 days on
        answer = client.post("/v1/decisions", json=ahead, headers=auth)
        assert answer.status_code == 422 and answer.json()["field"] == "$.time"
        behind = sms("a2", "2025-02-28T10:00:00Z")
        on_time = sms("a3", "2025-03-01T10:00:00Z")
        batch = client.post("/v1/decisions:batch", json=[on_time, behind], headers=auth)
        assert batch.status_code == 422 and batch.json()["field"] == "$[1].time"
        assert client.post("/v1/decisions", json=on_time, headers=auth).status_code == 200


def test_live_dedupe_memory_is_bounded_and_a_resend_still_counts_once() -> None:
    """Live, ids are kept ahead + behind (65 minutes), not the 7-day window: an event can
    only be resent within that, later it is refused for its time."""
    now = [T0]
    engine = make_engine(event_time="live", clock=lambda: now[0], explain=True)
    for minute in range(0, 6 * 60, 2):  # six hours of traffic, one event per 2 minutes
        now[0] = T0 + minute * 60
        engine.decide(event("sms.send", f"m{minute}", minute * 60, phone=f"139{minute:08d}"))
    assert len(engine.dedupe) <= 65 // 2 + 2  # about an hour of ids, not six hours
    first = engine.decide(_sms("late", 6 * 3600 - 3000))  # 50 minutes late: admitted
    now[0] = T0 + 6 * 3600 + 590  # the resend, just before its time runs out
    assert engine.decide(_sms("late", 6 * 3600 - 3000)) == first
    assert engine.decide(_sms("next", 6 * 3600)).features["phone_sms_1h"] == 1
    now[0] = T0 + 6 * 3600 + 700
    with pytest.raises(InvalidEvent):  # later still: refused, never counted twice
        engine.decide(_sms("late", 6 * 3600 - 3000))
