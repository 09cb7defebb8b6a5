"""The ring attacks of issue 14: the shapes public accounts describe, in both variants."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from typing import Any

import pytest

from shopguard.simulate.attacks import ATTACKS
from shopguard.simulate.attacks.aged import coupon_rush, scalpers
from shopguard.simulate.attacks.farms import proxy_wool_farm
from shopguard.simulate.attacks.messaging import sms_pumping_intl
from shopguard.simulate.world import SALE_HOUR, SPRING_DISCOUNT

DAY = 86400.0
START = 3.4 * DAY
Raw = list[tuple[float, dict[str, Any]]]


def run(attack: Any, seed: int, careful: bool, size: int = 120) -> Raw:
    return list(attack(random.Random(seed), START, size, careful))


def by_type(events: Raw, kind: str) -> Raw:
    return [(t, e) for t, e in events if e["type"] == kind]


@pytest.mark.parametrize("careful", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_sms_pumping_asks_at_most_twice_per_ip_for_runs_of_international_numbers(
    seed: int, careful: bool
) -> None:
    sends = run(sms_pumping_intl, seed, careful, size=400)
    assert len(sends) == 400 and all(e["type"] == "sms.send" for _, e in sends)
    per_ip = Counter(e["ip"] for _, e in sends)
    assert max(per_ip.values()) <= 2 and len(per_ip) >= 200
    numbers = [e["phone"].replace(" ", "") for _, e in sends]
    assert all(n.startswith("+") and not n.startswith("+86") for n in numbers)
    blocks = Counter(n[:-3] for n in numbers)  # consecutive numbers: few blocks, well filled
    assert len(blocks) < len(numbers) / 10
    assert all("account" not in e for _, e in sends)  # no one signs up: codes never used


@pytest.mark.parametrize("careful", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scalpers_order_within_a_second_of_opening_from_aged_accounts(
    seed: int, careful: bool
) -> None:
    events = run(scalpers, seed, careful, size=40)
    opens = int(START // DAY) * DAY + SALE_HOUR * 3600
    orders = by_type(events, "flashsale.order")
    assert orders and all(0 < t - opens <= 1.0 for t, _ in orders)
    first_order = {e["account"]: t for t, e in reversed(orders)}
    before: dict[str, list[float]] = defaultdict(list)
    for t, e in events:
        if t < first_order[e["account"]] - 3600:
            before[e["account"]].append(t)
    assert set(before) == set(first_order)  # every scalper has a past
    assert all(len(ts) >= 3 and min(ts) < opens - DAY for ts in before.values())


def test_coupon_rush_is_five_times_the_usual_discount_near_free_at_one_merchant_at_night() -> None:
    events = run(coupon_rush, 3, False, size=200)
    redeems = by_type(events, "promo.redeem")
    assert len(redeems) == 200
    assert {e["discount"] for _, e in redeems} == {5 * SPRING_DISCOUNT}
    assert len({e["merchant"] for _, e in redeems}) == 1
    assert all(e["amount"] - e["discount"] < 0.2 * e["amount"] for _, e in redeems)
    assert all((t % DAY) / 3600 < 6 for t, _ in redeems)
    harmed = {e["account"] for _, e in redeems}
    history = {e["account"] for t, e in events if t < min(t for t, _ in redeems) - DAY}
    assert harmed <= history  # aged: each account has days of history before the rush


def test_careful_coupon_rush_draws_its_discount_and_night_per_campaign() -> None:
    shapes = set()
    for seed in range(6):
        redeems = by_type(run(coupon_rush, seed, True, size=60), "promo.redeem")
        assert all(3 * SPRING_DISCOUNT <= e["discount"] <= 7 * SPRING_DISCOUNT for _, e in redeems)
        shapes.add((redeems[0][1]["discount"], len({e["coupon"] for _, e in redeems}) > 1))
    assert len(shapes) == 6


def test_proxy_wool_farm_fresh_device_and_exit_per_account_phone_block_drop_addresses() -> None:
    events = run(proxy_wool_farm, 7, False, size=150)
    registers = by_type(events, "account.register")
    assert len(registers) == 150
    assert len({e["device"]["id"] for _, e in registers}) == 150
    assert len({e["ip"] for _, e in registers}) == 150
    assert len({e["ip"].rsplit(".", 1)[0] for _, e in registers}) > 140  # not one /24
    phones = [e["phone"] for _, e in registers]
    assert len(set(phones)) == 150 and len({p[:-3] for p in phones}) <= 2  # one SIM batch
    mails = [e["email"] for _, e in registers if "email" in e]
    assert mails and len({m.split("@")[1] for m in mails}) == 1
    claimed = {e["account"]: t for t, e in by_type(events, "promo.claim")}
    signed = {e["account"]: t for t, e in registers}
    assert all(0 < claimed[a] - signed[a] <= 600 for a in signed)  # minutes after sign-up
    redeems = by_type(events, "promo.redeem")
    spellings = {e["address"] for _, e in redeems}
    assert len(spellings) > 4 * 3  # four drops, typed many ways
    payments = by_type(events, "payment")
    assert len({e["card"] for _, e in payments}) == 3


def test_careful_wool_farms_leak_different_links_per_seed() -> None:
    def leaks(seed: int) -> tuple[int, int, int, int]:
        events = run(proxy_wool_farm, seed, True, size=100)
        registers = by_type(events, "account.register")
        return (
            len({e["device"]["id"] for _, e in registers}),
            len({e["card"] for _, e in by_type(events, "payment")}),
            len({e["phone"][:-3] for _, e in registers}),
            sum("email" in e for _, e in registers),
        )

    drawn = {leaks(seed) for seed in range(8)}
    assert len(drawn) >= 7
    for links in zip(*drawn, strict=True):  # each link leaks in some seeds, not in others
        assert len(set(links)) > 1


def test_new_attacks_name_their_harm() -> None:
    assert ATTACKS["proxy_wool_farm"].harm == {"promo.claim", "promo.redeem", "payment"}
    assert ATTACKS["coupon_rush"].harm == {"promo.redeem"}
    assert ATTACKS["sms_pumping_intl"].harm == {"sms.send"}
    assert ATTACKS["scalpers"].harm == {"flashsale.order"}
    assert ATTACKS["scalpers"].aged_days and ATTACKS["coupon_rush"].aged_days
