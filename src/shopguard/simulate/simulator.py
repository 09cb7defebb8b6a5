"""Put the honest world and the attacks on one timeline and write it out as events.

``simulate`` yields ``(event JSON, truth)`` in time order: events are exactly what a
retailer would send ShopGuard; the truth (label and attack name) travels beside them.
Honest traffic is organised in sessions (sign-up, browse, buy, claim, cabinet visits)
whose start times follow the daily and weekly rhythm, with a flash-sale peak each day.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

import msgspec

from shopguard.simulate.attacks import ATTACKS
from shopguard.simulate.world import HOURLY, Shopper, population

START = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday
DAY = 86400.0
_HOURS = list(accumulate(HOURLY))


class Truth(msgspec.Struct, frozen=True, omit_defaults=True):
    label: int  # 1: part of an attack
    attack: str  # "" for honest traffic
    stake: float = 0.0  # money the attacker takes with this event, where the event hides it


HONEST = Truth(0, "")
Raw = tuple[float, dict[str, Any]]


def _session_start(rng: random.Random, days: int) -> float:
    day = rng.randrange(days)
    if day % 7 in (5, 6) and rng.random() < 0.25:  # weekends are busier: move some there
        day = day - day % 7 + 5 + rng.randrange(2)
    hour = rng.choices(range(24), cum_weights=_HOURS)[0]
    return min(day, days - 1) * DAY + hour * 3600 + rng.uniform(0, 3600)


def _who(s: Shopper) -> dict[str, Any]:
    return {
        "account": s.account,
        "device": {"id": s.device, "rooted": s.rooted},
        "ip": s.ip,
        "user_agent": s.user_agent,
    }


def _session(rng: random.Random, s: Shopper, t: float) -> Iterator[Raw]:
    """One visit by one honest shopper: a handful of events seconds to minutes apart."""
    who = _who(s)
    merchant = f"m{zlib.crc32(s.account.encode()) % 20}"  # stable across runs, unlike hash()
    if not s.registered:
        s.registered = True
        yield t, {"type": "sms.send", "purpose": "register", "phone": s.phone, **who}
        t += rng.uniform(20, 90)
        yield t, {"type": "account.register", "phone": s.phone, **who}
        if rng.random() < 0.7:  # most newcomers take the gift at once
            t += rng.uniform(5, 120)
            yield (
                t,
                {
                    "type": "promo.claim",
                    "campaign": "newcomer",
                    "coupon": "NEW-20",
                    "value": 20.0,
                    "phone": s.phone,
                    **who,
                },
            )
        return
    kind = rng.random()
    if rng.random() < 0.15:
        yield t, {"type": "sms.send", "purpose": "login", "phone": s.phone, **who}
        t += rng.uniform(10, 60)
    yield t, {"type": "account.login", "method": "password", "success": rng.random() > 0.03, **who}
    for _ in range(rng.randrange(1, 4)):
        t += rng.uniform(2, 40)
        yield t, {"type": "http.request", "path": f"/item/{rng.randrange(5000)}", **who}
        yield t + 0.2, {"type": "http.request", "path": "/static/app.js", "is_static": True, **who}
    if kind < 0.45:
        amount = round(rng.lognormvariate(4.2, 0.8), 2)
        order = f"o-{s.account}-{int(t)}"
        t += rng.uniform(20, 300)
        yield (
            t,
            {
                "type": "order.create",
                "order_id": order,
                "amount": amount,
                "merchant": merchant,
                "address": s.address,
                **who,
            },
        )
        t += rng.uniform(5, 60)
        yield (
            t,
            {
                "type": "payment",
                "order_id": order,
                "amount": amount,
                "card": s.card,
                "merchant": merchant,
                "success": rng.random() > 0.02,
                **who,
            },
        )
    elif kind < 0.60:
        t += rng.uniform(5, 60)
        yield (
            t,
            {
                "type": "promo.claim",
                "campaign": f"weekly-{int(t // (7 * DAY))}",
                "value": 10.0,
                **who,
            },
        )
        if rng.random() < 0.5:
            t += rng.uniform(60, 3600)
            yield (
                t,
                {
                    "type": "promo.redeem",
                    "campaign": f"weekly-{int(t // (7 * DAY))}",
                    "amount": round(rng.uniform(40, 200), 2),
                    "discount": 10.0,
                    "address": s.address,
                    **who,
                },
            )
    elif kind < 0.72:
        cabinet = f"cab{rng.randrange(200)}"
        yield t, {"type": "cabinet.unlock", "cabinet": cabinet, **who}
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
                **who,
            },
        )
    elif kind < 0.80:
        yield t + 5, {"type": "lottery.draw", "campaign": "daily-spin", **who}
    elif kind < 0.85:
        yield (
            t + 5,
            {
                "type": "product.verify",
                "product_code": f"pc-{rng.randrange(10**12)}",  # each product has its own code
                "region": rng.choice(("Shanghai", "Beijing", "Hangzhou", "Chengdu")),
                **who,
            },
        )


def _flash_sale(rng: random.Random, shoppers: list[Shopper], day: int, n: int) -> Iterator[Raw]:
    """The 20:00 flash sale: honest shoppers pile in within the first minutes."""
    opens = day * DAY + 20 * 3600
    for _ in range(n):
        s = rng.choice(shoppers)
        if s.registered:
            yield (
                opens + rng.expovariate(1 / 90),
                {
                    "type": "flashsale.order",
                    "campaign": f"flash-{day}",
                    "sku": "phone-x",
                    "amount": 999.0,
                    **_who(s),
                },
            )


def simulate(
    events: int = 1_000_000,
    seed: int = 7,
    days: int = 7,
    careful: bool = False,
    attacks: dict[str, int] | None = None,
    tenant: str = "sim",
) -> Iterator[tuple[bytes, Truth]]:
    """About ``events`` events over ``days``, honest and attack, in time order."""
    rng = random.Random(seed)
    shoppers = population(rng, max(100, events // 12), new_share=0.1)
    sizes = {name: attack.size for name, attack in ATTACKS.items()}
    if attacks is not None:
        sizes = {name: attacks[name] for name in attacks}
    scale = events / 1_000_000
    timeline: list[tuple[float, int, dict[str, Any], Truth]] = []
    for name, size in sizes.items():
        generate = ATTACKS[name].generate
        truth = Truth(1, name)
        for _ in range(max(1, round(days / 3))):  # a few campaigns of each attack
            start = rng.uniform(0, (days - 1) * DAY)
            for t, fields in generate(rng, start, max(1, round(size * scale)), careful):
                stake = fields.pop("_stake", 0.0)  # ground truth only: never sent as event
                timeline.append(
                    (t, len(timeline), fields, Truth(1, name, stake) if stake else truth)
                )
    for day in range(days):
        for t, fields in _flash_sale(rng, shoppers, day, max(10, events // 400)):
            timeline.append((t, len(timeline), fields, HONEST))
    while len(timeline) < events:
        shopper = rng.choice(shoppers)
        for t, fields in _session(rng, shopper, _session_start(rng, days)):
            timeline.append((t, len(timeline), fields, HONEST))
    # Whatever runs past the last day (a campaign, a late session) is cut off there.
    timeline = [item for item in timeline if item[0] < days * DAY]
    timeline.sort(key=lambda item: (item[0], item[1]))
    encode = msgspec.json.encode
    for i, (t, _, fields, truth) in enumerate(timeline):
        fields.update(event_id=f"{tenant}-{i}", tenant=tenant, time=START + timedelta(seconds=t))
        yield encode(fields), truth
