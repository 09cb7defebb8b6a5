"""Honest reviews: some shoppers review what they paid for, days after the payment, with
the ratings real shops see (mostly four and five stars, a tail of ones)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from typing import Any

DAY = 86400.0
RATINGS = (1, 2, 3, 4, 5)
RATING_WEIGHTS = (0.08, 0.04, 0.08, 0.22, 0.58)
REVIEW_SHARE = 0.1  # of paid orders


def honest_reviews(
    rng: random.Random, payments: Iterable[tuple[float, dict[str, Any]]]
) -> Iterator[tuple[float, dict[str, Any]]]:
    """Reviews of some of these honest payments, each a few days after it."""
    for t, paid in payments:
        if not paid.get("success", True) or "order_id" not in paid or "merchant" not in paid:
            continue
        if rng.random() >= REVIEW_SHARE:
            continue
        review: dict[str, Any] = {
            "type": "review.post",
            "sku": f"{paid['merchant']}-p{rng.randrange(200)}",
            "rating": rng.choices(RATINGS, weights=RATING_WEIGHTS)[0],
            "text_length": int(rng.lognormvariate(4.5, 1.0)),
            "media_count": rng.choice((0, 0, 0, 0, 1, 2, 3)),
            **{
                k: paid[k]
                for k in ("account", "device", "ip", "user_agent", "merchant")
                if k in paid
            },
        }
        if rng.random() < 0.85:  # some platforms do not say which order a review is about
            review["order_id"] = paid["order_id"]
            review["verified_purchase"] = True
        yield t + rng.uniform(1.5, 8) * DAY, review
