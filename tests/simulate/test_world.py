"""The honest world shares what rings share: addresses, networks, cards, phone blocks."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from typing import Any

import msgspec
import pytest

from shopguard.events import decode_event
from shopguard.simulate import simulate, world
from shopguard.simulate.addresses import TEMPLATES, Place, spellings, write
from shopguard.simulate.world import SALE_HOUR, population

DAY = 86400.0


@pytest.fixture(scope="module")
def honest() -> list[dict[str, Any]]:
    return [
        msgspec.json.decode(raw) for raw, truth in simulate(120_000, seed=21) if not truth.attack
    ]


def test_every_event_decodes_in_both_variants_with_device_models_and_code_entries() -> None:
    assert world.EMIT_DEVICE_MODEL and world.EMIT_SMS_VERIFY
    types: Counter[str] = Counter()
    models = 0
    for careful in (False, True):
        for raw, _ in simulate(40_000, seed=31, careful=careful):
            event = decode_event(raw)
            types[type(event).__name__] += 1
            models += event.device is not None and event.device.model is not None
    assert types["SmsVerify"] and models


def test_households_offices_and_dorms_share_addresses_networks_and_cards() -> None:
    people = population(random.Random(1), 6_000, 0.1, random.Random(2))
    by_place: dict[Place | None, set[str]] = defaultdict(set)
    for s in people:
        by_place[s.place].add(s.account)
    assert max(len(v) for v in by_place.values()) >= 10  # an office many ship to
    cards = Counter(s.card for s in people)
    assert sum(n > 1 for n in cards.values()) > 100  # family cards
    blocks = Counter(s.phone[:-3] for s in people if not s.phone.startswith("+"))
    assert max(blocks.values()) >= 3  # a company's numbers
    assert sum(s.phone.startswith("+") for s in people) > 30  # travellers, foreign residents
    assert 0.25 < sum(s.email is not None for s in people) / len(people) < 0.6


def test_honest_coupons_are_varied_and_mostly_modest(honest: list[dict[str, Any]]) -> None:
    redeems = [e for e in honest if e["type"] == "promo.redeem" and e.get("order_id")]
    assert len(redeems) > 300
    shares = sorted(e["discount"] / e["amount"] for e in redeems)
    assert shares[len(shares) // 2] < 0.3
    assert len({round(e["discount"]) for e in redeems}) > 20
    assert {e["campaign"] for e in redeems} >= {"newcomer", "spring-sale"}


def test_honest_shoppers_rush_the_sale_and_sometimes_retype_their_address(
    honest: list[dict[str, Any]],
) -> None:
    orders = [e for e in honest if e["type"] == "flashsale.order"]
    seconds = [decode_event(e).time.timestamp() % DAY - SALE_HOUR * 3600 for e in orders]
    assert sum(0 <= s <= 1 for s in seconds) >= 5
    spellings: dict[str, set[str]] = defaultdict(set)
    for e in honest:
        if "address" in e:
            spellings[e["account"]].add(e["address"])
    assert sum(len(v) > 1 for v in spellings.values()) > 20
    foreign = [e for e in honest if e["type"] == "sms.send" and e["phone"].startswith("+")]
    assert foreign


def test_the_flags_add_device_models_and_code_verifications(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(world, "EMIT_DEVICE_MODEL", True)
    monkeypatch.setattr(world, "EMIT_SMS_VERIFY", True)
    stream = [(msgspec.json.decode(raw), truth) for raw, truth in simulate(20_000, seed=5)]
    assert all("model" in e["device"] for e, _ in stream if "device" in e)  # attacks' too
    assert {t.attack for e, t in stream if e["type"] == "sms.verify"} >= {"", "wool_party"}
    honest_sent = sum(e["type"] == "sms.send" for e, t in stream if not t.attack)
    honest_used = sum(e["type"] == "sms.verify" for e, t in stream if not t.attack)
    assert 0.7 * honest_sent < honest_used < honest_sent
    assert all(e["type"] != "sms.verify" for e, t in stream if t.attack == "sms_pumping_intl")


def test_one_place_has_many_spellings() -> None:
    place = Place(12, "Renmin", 5, 305, 0)
    written = set(spellings(place))
    assert len(written) == len(TEMPLATES)
    assert write(place) == "12 Renmin Rd, Bldg 5, Room 305"
    assert "人民路12号5栋305室" in written and "人民路１２号５栋３０５室" in written
    assert (
        "Lane 8" in write(place._replace(lane=8)) and "8弄" in spellings(place._replace(lane=8))[5]
    )
