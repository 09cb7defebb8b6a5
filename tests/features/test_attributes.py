"""Features over custom attributes (packs/selfcheckout): an attribute as the value summed,
as the key (a personal one, by its pseudonym), and in a filter; each as of before the
event, and an event without the attribute leaves the feature alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shopguard import Engine
from shopguard.config import load_pack
from tests.conftest import event, make_engine

PACK = load_pack(Path(__file__).parents[1] / "scenarios" / "packs" / "selfcheckout")


@pytest.fixture
def engine() -> Engine:
    return make_engine(pack=PACK, explain=True)


def _pay(engine: Engine, n: int, account: str, at: float, **attributes: Any) -> dict[str, Any]:
    payment = event(
        "payment",
        f"p{n}",
        at,
        account=account,
        terminal="lane-1",
        amount=9.0,
        attributes=attributes,
    )
    return engine.decide(payment).features


def test_a_number_attribute_is_summed_per_account_over_its_window(engine: Engine) -> None:
    assert _pay(engine, 1, "a", 0, voided_items=3)["voided_items_24h"] == 0.0
    assert _pay(engine, 2, "a", 60, voided_items=4)["voided_items_24h"] == 3.0
    assert _pay(engine, 3, "a", 120)["voided_items_24h"] == 7.0  # none sent: adds nothing
    assert _pay(engine, 4, "a", 180, voided_items=1)["voided_items_24h"] == 7.0
    assert _pay(engine, 5, "b", 240, voided_items=1)["voided_items_24h"] == 0.0
    assert _pay(engine, 6, "a", 86_400 + 61)["voided_items_24h"] == 1.0  # the first two aged out


def test_distinct_accounts_per_personal_loyalty_card(engine: Engine) -> None:
    seen = [
        _pay(engine, i, f"acct-{i % 3}", i * 60, loyalty_id="LOY-1")["loyalty_accounts_24h"]
        for i in range(5)
    ]
    assert seen == [0, 1, 2, 3, 3]
    other = _pay(engine, 9, "acct-0", 600, loyalty_id="LOY-2")
    assert other["loyalty_accounts_24h"] == 0
    # a payment without a card has no key: the feature is missing, not zero
    assert _pay(engine, 10, "acct-0", 660).get("loyalty_accounts_24h") is None


def test_a_filter_on_an_attribute_counts_only_the_events_it_admits(engine: Engine) -> None:
    counts = [
        _pay(engine, i, "c", i * 60, trust_level=level)["low_trust_sessions_24h"]
        for i, level in enumerate([1, 3, 0, 2, 1])
    ]
    assert counts == [0, 1, 1, 2, 2]
    assert _pay(engine, 9, "c", 600)["low_trust_sessions_24h"] == 3  # none sent: not counted


def test_a_filter_on_a_category_attribute(engine: Engine) -> None:
    lanes = ["self_checkout", "staffed", "self_checkout"]
    skips = [
        _pay(engine, i, f"d{i}", i * 60, scans_without_registration=2, lane_type=lane)
        for i, lane in enumerate(lanes)
    ]
    assert [s["skip_scans_7d"] for s in skips] == [0.0, 2.0, 2.0]
    assert _pay(engine, 9, "d9", 600)["skip_scans_7d"] == 4.0  # by lane: terminal lane-1


def test_state_keyed_by_an_attribute_survives_a_restart(tmp_path: Path) -> None:
    options: dict[str, Any] = {
        "pack": PACK,
        "explain": True,
        "decision_log": "sqlite",
        "data_dir": str(tmp_path),
    }
    first = make_engine(**options)
    for i in range(3):
        _pay(first, i, f"acct-{i}", i * 60, loyalty_id="LOY-9", voided_items=2)
    first.close()
    again = make_engine(**options)
    values = _pay(again, 3, "acct-0", 300, loyalty_id="LOY-9")
    assert (values["loyalty_accounts_24h"], values["voided_items_24h"]) == (3, 2.0)
    again.close()
