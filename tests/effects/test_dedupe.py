from __future__ import annotations

from shopguard.effects.dedupe import Dedupe


def test_ids_expire_by_event_time_and_report_their_sequences() -> None:
    dedupe = Dedupe(window=100.0)
    assert dedupe.remember(Dedupe.key("t", "a"), 1, 0.0) == []
    assert dedupe.remember(Dedupe.key("t", "b"), 2, 50.0) == []
    assert dedupe.get(Dedupe.key("t", "a")) == 1
    assert dedupe.remember(Dedupe.key("t", "c"), 3, 120.0) == [1]  # "a" fell out
    assert dedupe.get(Dedupe.key("t", "a")) is None
    assert dedupe.get(Dedupe.key("t", "b")) == 2
    assert Dedupe.key("t1", "x") != Dedupe.key("t2", "x")  # ids are per tenant
