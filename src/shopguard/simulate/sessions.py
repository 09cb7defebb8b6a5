"""Honest visits: what one shopper does in one session, and the daily flash sale.

A session is a handful of events seconds to minutes apart: sign-up (code, gift), login,
browsing, an order (often with a coupon: the new-user gift, a spring-sale coupon, a
store's own), a cabinet visit, a draw. Shoppers sometimes type their address another
way, enter the codes they are sent, and some are at their phones the second a flash
sale opens.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from typing import Any

from shopguard.simulate.addresses import write
from shopguard.simulate.orders import checkout, flash_order
from shopguard.simulate.world import (
    SALE_HOUR,
    SPRING_DISCOUNT,
    Shopper,
    device,
    sms_verify,
)

DAY = 86400.0
Raw = tuple[float, dict[str, Any]]
GIFT = {"campaign": "newcomer", "coupon": "NEW-20"}


def who(s: Shopper) -> dict[str, Any]:
    return {
        "account": s.account,
        "device": device(s.device, s.model, rooted=s.rooted),
        "ip": s.ip,
        "user_agent": s.user_agent,
    }


def _code(
    rng: random.Random, s: Shopper, t: float, purpose: str, fields: dict[str, Any]
) -> Iterator[Raw]:
    """A code sent, and (most of the time) entered back a little later."""
    yield t, {"type": "sms.send", "purpose": purpose, "phone": s.phone, **fields}
    verify = sms_verify(s.phone, rng.random() > 0.05)
    if verify is not None and rng.random() < 0.9:
        yield t + rng.uniform(8, 40), {**verify, **fields}


def _ship_to(rng: random.Random, s: Shopper) -> str:
    if s.place is not None and rng.random() < 0.06:  # the same place typed another way
        return write(s.place, rng)
    return s.address


def _coupon(rng: random.Random, s: Shopper, amount: float, t: float) -> dict[str, Any] | None:
    """The coupon an honest order uses, if any: usually a modest one."""
    if s.gift and amount > 20:
        s.gift = False
        return {**GIFT, "discount": 20.0}
    roll = rng.random()
    if roll < 0.10 and amount > 40:
        code = "SPRING15" if rng.random() < 0.3 else f"SPRING-{rng.randrange(10**6):06d}"
        discount = min(amount - 1, round(SPRING_DISCOUNT * rng.uniform(0.6, 1.4)))
        return {"campaign": "spring-sale", "coupon": code, "discount": float(discount)}
    if roll < 0.16:
        share = rng.choice((0.05, 0.1, 0.1, 0.15, 0.2, 0.3, 0.5 if rng.random() < 0.1 else 0.2))
        week = int(t // (7 * DAY))
        return {"campaign": f"store-{week}", "discount": round(amount * share, 2)}
    return None


def order(rng: random.Random, s: Shopper, t: float, merchant: str) -> Iterator[Raw]:
    """An order, its coupon if one is used, and its payment."""
    amount = round(rng.lognormvariate(4.2, 0.8), 2)
    ship: dict[str, Any] = {"merchant": merchant, "address": _ship_to(rng, s)}
    if rng.random() < 0.8:
        ship["phone"] = s.phone  # the recipient's number on the parcel
    coupon = _coupon(rng, s, amount, t)
    paid = rng.random() > 0.02
    order_id = f"o-{s.account}-{int(t)}"
    yield from checkout(rng, t, who(s), order_id, amount, ship, s.card, coupon, paid)


def session(rng: random.Random, s: Shopper, t: float) -> Iterator[Raw]:
    """One visit by one honest shopper: a handful of events seconds to minutes apart."""
    me = who(s)
    merchant = f"m{zlib.crc32(s.account.encode()) % 20}"  # stable across runs, unlike hash()
    if not s.registered:
        s.registered = True
        yield from _code(rng, s, t, "register", me)
        t += rng.uniform(20, 90)
        register: dict[str, Any] = {"type": "account.register", "phone": s.phone, **me}
        if s.email is not None:
            register["email"] = s.email
        yield t, register
        if rng.random() < 0.7:  # most newcomers take the gift at once
            t += rng.uniform(5, 120)
            s.gift = True
            yield t, {"type": "promo.claim", "value": 20.0, "phone": s.phone, **GIFT, **me}
        return
    kind = rng.random()
    if rng.random() < 0.15:
        yield from _code(rng, s, t, "login", me)
        t += rng.uniform(10, 60)
    yield t, {"type": "account.login", "method": "password", "success": rng.random() > 0.03, **me}
    for _ in range(rng.randrange(1, 4)):
        t += rng.uniform(2, 40)
        yield t, {"type": "http.request", "path": f"/item/{rng.randrange(5000)}", **me}
        yield t + 0.2, {"type": "http.request", "path": "/static/app.js", "is_static": True, **me}
    if kind < 0.45:
        yield from order(rng, s, t + rng.uniform(20, 300), merchant)
    elif kind < 0.60:
        t += rng.uniform(5, 60)
        campaign = f"weekly-{int(t // (7 * DAY))}"
        yield t, {"type": "promo.claim", "campaign": campaign, "value": 10.0, **me}
        if rng.random() < 0.5:
            t += rng.uniform(60, 3600)
            yield (
                t,
                {
                    "type": "promo.redeem",
                    "campaign": f"weekly-{int(t // (7 * DAY))}",
                    "amount": round(rng.uniform(40, 200), 2),
                    "discount": 10.0,
                    "address": _ship_to(rng, s),
                    **me,
                },
            )
    elif kind < 0.72:
        yield from _cabinet(rng, s, t, me)
    elif kind < 0.80:
        yield t + 5, {"type": "lottery.draw", "campaign": "daily-spin", **me}
    elif kind < 0.85:
        yield (
            t + 5,
            {
                "type": "product.verify",
                "product_code": f"pc-{rng.randrange(10**12)}",  # each product has its own code
                "region": rng.choice(("Shanghai", "Beijing", "Hangzhou", "Chengdu")),
                **me,
            },
        )


def _cabinet(rng: random.Random, s: Shopper, t: float, me: dict[str, Any]) -> Iterator[Raw]:
    cabinet = f"cab{rng.randrange(200)}"
    yield t, {"type": "cabinet.unlock", "cabinet": cabinet, **me}
    items = rng.randrange(1, 4)
    yield (
        t + rng.uniform(15, 120),
        {
            "type": "cabinet.session",
            "cabinet": cabinet,
            "session_id": f"s-{s.account}-{int(t)}",
            "billed": [{"sku": "cola-330", "price": 4.5}] * items,
            "rfid_missing": [f"cola-330:{rng.randrange(10**9)}" for _ in range(items)],
            "shelves": [{"shelf": 1, "weight_delta_g": round(rng.gauss(345, 4) * items, 1)}],
            "amount": 4.5 * items,
            "paid": True,
            **me,
        },
    )


def flash_sale(rng: random.Random, shoppers: list[Shopper], day: int, n: int) -> Iterator[Raw]:
    """The 20:00 flash sale: honest shoppers pile in within the first minutes, the keenest
    (alarm set, app open, often after weeks away) within the first seconds."""
    opens = day * DAY + SALE_HOUR * 3600
    for _ in range(n):
        s = rng.choice(shoppers)
        if not s.registered:
            continue
        me = who(s)
        keen = rng.random() < 0.2
        if keen:
            yield (
                opens - rng.uniform(20, 900),
                {"type": "account.login", "method": "password", "success": True, **me},
            )
        t = opens + (rng.uniform(0.1, 3.0) if keen else rng.expovariate(1 / 90))
        ship: dict[str, Any] = {"merchant": "m-flash", "address": _ship_to(rng, s)}
        if rng.random() < 0.8:
            ship["phone"] = s.phone
        paid = rng.random() > 0.05
        yield from flash_order(rng, t, day, me, ship, s.card, f"fs-{s.account}-{day}", paid)
