"""Attacks on physical goods: smart-cabinet theft, counterfeit product codes."""

from __future__ import annotations

import random
from collections.abc import Iterator

from shopguard.simulate.attacks.common import Raw, knob, pick
from shopguard.simulate.world import random_ip


def cabinet_theft(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """A few repeat offenders take more from smart cabinets than they pay for."""
    per_thief = pick(rng, careful, 8, (2, 4, 8))
    thieves = [f"thief-{rng.randrange(10**6)}" for _ in range(max(1, size // per_thief))]
    pace = knob(rng, careful, 1, 2, 8)
    t = start
    for i in range(size):
        t += rng.uniform(3600, 6 * 3600) * pace
        who = rng.choice(thieves)
        cabinet = f"cab{rng.randrange(200)}"
        yield (
            t,
            {
                "type": "cabinet.unlock",
                "account": who,
                "cabinet": cabinet,
                "device": {"id": f"{who}-phone"},
            },
        )
        taken = rng.randrange(2, 6)
        billed = 0 if rng.random() < 0.3 else 1
        paid = rng.random() > 0.5
        yield (
            t + rng.uniform(20, 90),
            {
                "type": "cabinet.session",
                "account": who,
                "cabinet": cabinet,
                "session_id": f"s-{who}-{i}",
                "device": {"id": f"{who}-phone"},
                "billed": [{"sku": "cola-330", "price": 4.5}] * billed,
                "rfid_missing": [f"cola-330:{i}-{k}" for k in range(taken)],
                "shelves": [{"shelf": 1, "weight_delta_g": 345.0 * taken}],
                "amount": 4.5 * billed,
                "paid": paid,
                "_stake": 4.5 * (taken - billed * paid),  # what leaves without being paid for
            },
        )


def counterfeit_codes(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """One genuine anti-counterfeit code, copied onto fakes, verified everywhere."""
    code = f"pc-genuine-{rng.randrange(10**6)}"
    cities = ("Guangzhou", "Wuhan", "Xi'an", "Shenyang", "Kunming", "Harbin", "Nanning")
    pace = knob(rng, careful, 1, 1.5, 6)
    t = start
    for i in range(size):
        t += rng.uniform(600, 7200) * pace
        yield (
            t,
            {
                "type": "product.verify",
                "product_code": code,
                "sku": "serum-50ml",
                "region": rng.choice(cities),
                "account": f"buyer-{code}-{i}",
                "device": {"id": f"buyerdev-{code}-{i}"},
                "ip": random_ip(rng),
            },
        )
