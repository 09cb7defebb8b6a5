from __future__ import annotations

from pathlib import Path

from shopguard.effects.dedupe import Dedupe
from tests.conftest import event, make_engine


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


def test_past_max_ids_the_oldest_go_early_and_are_marked_spilled() -> None:
    dedupe = Dedupe(window=1000.0, max_ids=3)
    for i in range(6):
        dedupe.remember("t", Dedupe.key("t", f"e{i}"), i + 1, float(i))
    assert len(dedupe) == 3  # e3, e4, e5: a bound whatever the window
    assert dedupe.get(Dedupe.key("t", "e0")) is None
    assert dedupe.spilled_after("t", 5.0)  # e0..e2 went early: misses ask the journal
    assert not dedupe.spilled_after("other", 5.0)
    assert not dedupe.spilled_after("t", 2000.0)  # every spilled id has aged out since


def test_a_resend_of_an_id_let_go_early_is_found_in_the_journal(tmp_path: Path) -> None:
    """The window is bounded by count, and an event sent twice is still counted once."""
    engine = make_engine(
        decision_log="sqlite", data_dir=str(tmp_path), dedupe_max_ids=2, explain=True
    )
    sms = [
        event("sms.send", f"s{i}", 60.0 * i, phone="13812345678", ip="1.2.3.4") for i in range(5)
    ]
    first = engine.decide(sms[0])
    for raw in sms[1:4]:
        engine.decide(raw)
    assert len(engine.dedupe) <= 2 and engine.dedupe.get(Dedupe.key("shop", "s0")) is None
    seq = engine.log.last_seq()
    assert engine.decide(sms[0]) == first  # answered from the journal, applied once
    assert engine.log.last_seq() == seq
    assert engine.decide(sms[4]).features["phone_sms_1h"] == 4  # s0..s3, s0 once
    engine.close()
