"""Fake reviews: a merchant hires a review farm, which brushes (places orders it never
receives, for next to nothing or refunded off the books) and posts five stars."""

from __future__ import annotations

import random
from collections.abc import Iterator

from shopguard.simulate.attacks.common import Raw, knob, pick
from shopguard.simulate.world import random_ip

DAY = 86400.0


def fake_reviews(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """``size`` five-star reviews of one merchant's products by fresh farm accounts on a
    few phones: some after a brushed order (near-free, or paid in full and refunded),
    the rest with no order at all. Careful farms pay full price, wait days before
    writing, write longer texts with photos and mix in four stars."""
    merchant = f"m-rev-{rng.randrange(1000)}"
    accounts = [
        f"rev-{merchant}-{i}" for i in range(max(3, size // pick(rng, careful, 2, (1, 2, 3))))
    ]
    phones = [f"revdev-{merchant}-{i}" for i in range(pick(rng, careful, 3, (4, 8, 16, 30)))]
    skus = [f"{merchant}-p{i}" for i in range(pick(rng, careful, 3, (2, 5, 12)))]
    pace = knob(rng, careful, 1, 0.5, 6)
    brushed = knob(rng, careful, 0.5, 0.2, 0.9)  # share of reviews behind an order
    wait_days = knob(rng, careful, 1, 2, 6)
    t = start
    for account in accounts:  # the farm's accounts join a little before the campaign
        who = {"account": account, "device": {"id": rng.choice(phones)}, "ip": random_ip(rng)}
        yield max(0.0, t - rng.uniform(600, 2 * DAY)), {"type": "account.register", **who}
    for i in range(size):
        t += rng.uniform(120, 1800) * pace
        who = {
            "account": rng.choice(accounts),
            "device": {"id": rng.choice(phones)},
            "ip": random_ip(rng),
            "merchant": merchant,
        }
        sku = rng.choice(skus)
        review = {
            "type": "review.post",
            "sku": sku,
            "rating": 5 if not careful or rng.random() < 0.8 else 4,
            "text_length": int(rng.lognormvariate(5, 0.6) if careful else rng.uniform(5, 30)),
            "media_count": rng.choice((0, 1, 2)) if careful else 0,
            **who,
        }
        at = t
        if rng.random() < brushed:
            order, price = f"ro-{merchant}-{i}", round(rng.uniform(20, 300), 2)
            paid = price if careful else round(rng.uniform(0.5, 2.0), 2)
            items = [{"sku": sku, "price": price}]
            yield (
                t,
                {"type": "order.create", "order_id": order, "amount": paid, "items": items, **who},
            )
            yield (
                t + rng.uniform(5, 60),
                {"type": "payment", "order_id": order, "amount": paid, **who},
            )
            if careful:  # the farm is paid back off the platform: the order is refunded
                refund = {"type": "refund", "order_id": order, "amount": paid, "reason": "other"}
                yield t + rng.uniform(0.5, 1.5) * wait_days * DAY, {**refund, **who}
            at = t + rng.uniform(0.3, 1.0) * wait_days * DAY
            review["order_id"] = order
            review["verified_purchase"] = True
        yield at, review
