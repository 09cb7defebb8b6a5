"""Attacks with money: stolen cards and brushing with refunds."""

from __future__ import annotations

import random
from collections.abc import Iterator

from shopguard.simulate.attacks.common import Raw, knob, pick
from shopguard.simulate.world import card, random_ip


def stolen_cards(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """A carder tests and uses stolen cards across a few accounts and devices."""
    cards = [card(rng) for _ in range(max(2, size // 4))]
    devices = [f"carder-{rng.randrange(10**6)}" for _ in range(pick(rng, careful, 3, (4, 10, 25)))]
    mules, pace = pick(rng, careful, 6, (3, 6, 15)), knob(rng, careful, 1, 5, 40)
    t = start
    for i in range(size):
        t += rng.uniform(5, 60) * pace
        yield (
            t,
            {
                "type": "payment",
                "account": f"card-mule-{i % mules}",
                "card": rng.choice(cards),
                "device": {"id": rng.choice(devices)},
                "ip": random_ip(rng),
                "amount": round(rng.uniform(300, 4000), 2),
                "success": rng.random() > 0.4,
            },
        )


def fake_orders(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """Brushing: colluding accounts buy from one merchant and are refunded soon after."""
    merchant = f"m-brush-{rng.randrange(1000)}"
    accounts = [f"brush-{merchant}-{i}" for i in range(max(2, size // 5))]
    devices = [f"brushdev-{merchant}-{i}" for i in range(pick(rng, careful, 3, (6, 12, 24)))]
    pace = knob(rng, careful, 1, 3, 12)
    refund_days = knob(rng, careful, 3, 1, 6)
    t = start
    for i in range(size):
        t += rng.uniform(60, 600) * pace
        who = {
            "account": rng.choice(accounts),
            "device": {"id": rng.choice(devices)},
            "ip": random_ip(rng),
            "merchant": merchant,
        }
        order, amount = f"bo-{merchant}-{i}", round(rng.uniform(50, 400), 2)
        yield (
            t,
            {
                "type": "order.create",
                "order_id": order,
                "amount": amount,
                "address": "1 Brush Ln",
                **who,
            },
        )
        yield (
            t + rng.uniform(5, 30),
            {"type": "payment", "order_id": order, "amount": amount, **who},
        )
        refund_after = rng.uniform(3600, refund_days * 86400) if careful else rng.uniform(300, 3600)
        yield (
            t + refund_after,
            {
                "type": "refund",
                "order_id": order,
                "amount": amount,
                "reason": "not_received",
                **who,
            },
        )
