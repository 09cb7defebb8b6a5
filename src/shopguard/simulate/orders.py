"""A purchase as a shop's backend reports it, the same for honest shoppers and rings:
the order, the coupon it uses (if any), the payment; or a flash-sale order and its
payment."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

Raw = tuple[float, dict[str, Any]]


def checkout(
    rng: random.Random,
    t: float,
    who: dict[str, Any],
    order_id: str,
    amount: float,
    ship: dict[str, Any],
    card: str,
    coupon: dict[str, Any] | None = None,
    success: bool = True,
) -> Iterator[Raw]:
    """``ship`` names the merchant, the address and maybe the recipient's phone;
    ``coupon`` the campaign, the code (if any) and the discount."""
    order = {"type": "order.create", "order_id": order_id, "amount": amount, **ship, **who}
    paid = amount
    if coupon is not None and "coupon" in coupon:
        order["coupon"] = coupon["coupon"]
    yield t, order
    if coupon is not None:
        t += rng.uniform(1, 5)
        redeem = {"type": "promo.redeem", "order_id": order_id, "amount": amount, **coupon}
        yield t, {**redeem, **ship, **who}
        paid = round(amount - coupon["discount"], 2)
    payment = {"type": "payment", "order_id": order_id, "amount": paid, "card": card}
    yield (
        t + rng.uniform(5, 40),
        {**payment, "merchant": ship["merchant"], "success": success, **who},
    )


def flash_order(
    rng: random.Random,
    t: float,
    day: int,
    who: dict[str, Any],
    ship: dict[str, Any],
    card: str,
    order_id: str,
    success: bool = True,
) -> Iterator[Raw]:
    """One phone from the day's flash sale (one price), and its payment."""
    sale = {"type": "flashsale.order", "campaign": f"flash-{day}", "sku": "phone-x"}
    yield t, {**sale, "amount": 999.0, **ship, **who}
    payment = {"type": "payment", "order_id": order_id, "amount": 999.0, "card": card}
    yield (
        t + rng.uniform(3, 30),
        {**payment, "merchant": ship["merchant"], "success": success, **who},
    )
