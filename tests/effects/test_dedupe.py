from __future__ import annotations

from shopguard.effects.dedupe import Dedupe


def test_ids_expire_by_time_and_report_their_sequences() -> None:
    dedupe = Dedupe(window=100.0)
    assert dedupe.remember("t", Dedupe.key("t", "a"), 1, 0.0) == []
    assert dedupe.remember("t", Dedupe.key("t", "b"), 2, 50.0) == []
    assert dedupe.get(Dedupe.key("t", "a")) == 1
    assert dedupe.remember("t", Dedupe.key("t", "c"), 3, 120.0) == [1]  # "a" fell out
    assert dedupe.get(Dedupe.key("t", "a")) is None
    assert dedupe.get(Dedupe.key("t", "b")) == 2
    assert Dedupe.key("t1", "x") != Dedupe.key("t2", "x")  # ids are per tenant


def test_one_tenants_time_never_ages_another_tenants_ids() -> None:
    dedupe = Dedupe(window=100.0)
    dedupe.remember("a", Dedupe.key("a", "x"), 1, 0.0)
    assert dedupe.remember("b", Dedupe.key("b", "y"), 2, 4_000_000_000.0) == []  # "2096"
    assert dedupe.get(Dedupe.key("a", "x")) == 1
    assert dedupe.latest() == {"a": 0.0, "b": 4_000_000_000.0}


def test_ids_sharing_a_second_leave_together_never_before_the_window() -> None:
    dedupe = Dedupe(window=100.0)
    dedupe.remember("t", Dedupe.key("t", "a"), 1, 0.0)
    dedupe.remember("t", Dedupe.key("t", "b"), 2, 0.9)  # the same one-second bucket
    assert dedupe.remember("t", Dedupe.key("t", "c"), 3, 100.8) == []  # b is 99.9 s old
    assert dedupe.remember("t", Dedupe.key("t", "d"), 4, 102.0) == [1, 2]
    assert len(dedupe) == 2
