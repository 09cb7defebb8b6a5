"""Put the honest world and the attacks on one timeline and write it out as events.

``simulate`` yields ``(event JSON, truth)`` in time order: events are exactly what a
retailer would send ShopGuard; the truth (label and attack name) travels beside them.
Honest traffic is organised in sessions (sign-up, browse, buy, claim, cabinet visits)
whose start times follow the daily and weekly rhythm, with a flash-sale peak each day.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

import msgspec

from shopguard.simulate.attacks import ATTACKS
from shopguard.simulate.reviews import honest_reviews
from shopguard.simulate.sessions import flash_sale, session
from shopguard.simulate.world import HOURLY, model_of, population

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


def simulate(
    events: int = 1_000_000,
    seed: int = 7,
    days: int = 7,
    careful: bool = False,
    attacks: dict[str, int] | None = None,
    tenant: str = "sim",
) -> Iterator[tuple[bytes, Truth]]:
    """About ``events`` events over ``days``, honest and attack, in time order. Honest
    shoppers review what they paid for only when ``attacks`` names ``fake_reviews`` (an
    attack outside the default set: the default traffic of every seed stays as it was)."""
    rng = random.Random(seed)
    # What the world has always drawn comes from rng, the added detail from its own
    # stream: today's attack traffic keeps its seeds.
    detail = random.Random(f"{seed}:detail")
    shoppers = population(rng, max(100, events // 12), new_share=0.1, detail=detail)
    sizes = {name: attack.size for name, attack in ATTACKS.items() if attack.default}
    if attacks is not None:
        sizes = {name: attacks[name] for name in attacks}
    scale = events / 1_000_000
    timeline: list[tuple[float, int, dict[str, Any], Truth]] = []
    for name, size in sizes.items():
        generate, aged = ATTACKS[name].generate, ATTACKS[name].aged_days
        truth = Truth(1, name)
        for _ in range(max(1, round(days / 3))):  # a few campaigns of each attack
            start = rng.uniform(min(aged, days - 1) * DAY, (days - 1) * DAY)
            for t, fields in generate(rng, start, max(1, round(size * scale)), careful):
                stake = fields.pop("_stake", 0.0)  # ground truth only: never sent as event
                model_of(fields)
                timeline.append(
                    (t, len(timeline), fields, Truth(1, name, stake) if stake else truth)
                )
    for day in range(days):
        for t, fields in flash_sale(rng, shoppers, day, max(10, events // 400)):
            timeline.append((t, len(timeline), fields, HONEST))
    while len(timeline) < events:
        shopper = rng.choice(shoppers)
        for t, fields in session(rng, shopper, _session_start(rng, days)):
            timeline.append((t, len(timeline), fields, HONEST))
    if "fake_reviews" in sizes:  # from their own stream: the rest keeps its draws
        paid = [(t, f) for t, _, f, truth in timeline if truth is HONEST and f["type"] == "payment"]
        for t, fields in list(honest_reviews(random.Random(f"{seed}:reviews"), paid)):
            timeline.append((t, len(timeline), fields, HONEST))
    # Whatever runs past the last day (a campaign, a late session) is cut off there.
    timeline = [item for item in timeline if item[0] < days * DAY]
    timeline.sort(key=lambda item: (item[0], item[1]))
    encode = msgspec.json.encode
    for i, (t, _, fields, truth) in enumerate(timeline):
        fields.update(event_id=f"{tenant}-{i}", tenant=tenant, time=START + timedelta(seconds=t))
        yield encode(fields), truth
