"""Rings that work with aged accounts: coupon-bug rushes and flash-sale scalping.

Account sellers and scalping crews keep ("养号") accounts for weeks before using them:
they log in now and then, browse, buy something small, so that on the day the account
looks like any regular shopper. On the day, they act together: a leaked coupon worth
five times the campaign's usual discount is spent on near-free orders at one merchant in
the night, or the crew's accounts order a flash sale's stock within a second of opening.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from shopguard.simulate.addresses import random_place, write
from shopguard.simulate.attacks.common import Raw, proxy_pool, sim_pool
from shopguard.simulate.orders import checkout, flash_order
from shopguard.simulate.sites import DEVICE_MODELS
from shopguard.simulate.world import (
    MOBILE_UAS,
    SALE_HOUR,
    SPRING_DISCOUNT,
    card,
    device,
    phone,
    random_ip,
)

DAY = 86400.0


class Crew:
    """The accounts of one ring and which of their links are shared (the leaks)."""

    def __init__(self, rng: random.Random, name: str, size: int, leaks: dict[str, int]) -> None:
        def pool(kind: str) -> range:  # a shared pool where the link leaks, else one each
            return range(leaks.get(kind) or size)

        self.devices = [f"ad-{name}-{rng.randrange(10**9)}" for _ in pool("device")]
        self.models = [rng.choice(DEVICE_MODELS) for _ in self.devices]
        self.cards = [card(rng) for _ in pool("card")]
        self.places = [random_place(rng) for _ in pool("address")]
        nets = proxy_pool(rng, leaks["net"]) if leaks.get("net") else []
        self.ips = [
            f"{rng.choice(nets)}.{rng.randrange(1, 255)}" if nets else random_ip(rng)
            for _ in range(size)
        ]
        block = leaks.get("phone_block", 0)
        self.phones = sim_pool(rng, size) if block else [phone(rng) for _ in range(size)]
        self.accounts = [f"{name}-{i}" for i in range(size)]
        self.uas = [rng.choice(MOBILE_UAS) for _ in range(size)]
        self.rng = rng

    def who(self, i: int) -> dict[str, Any]:
        n = len(self.devices)
        return {
            "account": self.accounts[i],
            "device": device(self.devices[i % n], self.models[i % n]),
            "ip": self.ips[i],
            "user_agent": self.uas[i],
        }

    def card(self, i: int) -> str:
        return self.cards[i % len(self.cards)]

    def address(self, i: int, retype: float) -> str:
        place = self.places[i % len(self.places)]
        return write(place, self.rng) if self.rng.random() < retype else write(place)


def history(rng: random.Random, crew: Crew, i: int, until: float) -> Iterator[Raw]:
    """Weeks of looking honest, as far as the window shows: logins, browsing, a small
    order now and then, from the account's own device and network."""
    who = crew.who(i)
    visits = rng.randrange(2, 7)
    span = max(1.0, until - 3600) / visits
    for k in range(visits):  # spread over the days before, as a regular's visits are
        t = rng.uniform(k * span, (k + 1) * span)
        yield t, {"type": "account.login", "method": "password", "success": True, **who}
        for _ in range(rng.randrange(1, 4)):
            t += rng.uniform(5, 60)
            yield t, {"type": "http.request", "path": f"/item/{rng.randrange(5000)}", **who}
            yield (
                t + 0.3,
                {"type": "http.request", "path": "/static/app.js", "is_static": True, **who},
            )
        if rng.random() < 0.4:
            amount = round(rng.lognormvariate(3.3, 0.5), 2)
            ship = {"merchant": f"m{rng.randrange(20)}", "address": crew.address(i, 0.0)}
            order = f"o-{who['account']}-{int(t)}"
            yield from checkout(
                rng, t + rng.uniform(30, 300), who, order, amount, ship, crew.card(i)
            )


def _leaks(rng: random.Random, careful: bool, size: int, default: dict[str, int]) -> dict[str, int]:
    """Which links a crew shares, and how widely: fixed by default, drawn when careful
    (never all hidden: a crew that shares nothing is a crowd of strangers)."""
    if not careful:
        return default
    kinds = ("device", "card", "address", "net", "phone_block")
    chosen = rng.sample(kinds, rng.randrange(1, 4))
    return {k: (1 if k == "phone_block" else rng.randrange(2, max(3, size // 4))) for k in chosen}


def coupon_rush(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """A leaked coupon worth ~5x the campaign's usual discount, spent at night on
    near-free orders at one merchant by aged accounts (``size`` redemptions)."""
    per_account = rng.uniform(1.5, 4) if careful else 2.5
    members = max(2, round(size / per_account))
    leaks = _leaks(rng, careful, members, {"address": 6, "card": max(2, members // 10)})
    crew = Crew(rng, f"cr{rng.randrange(10**6)}", members, leaks)
    multiple = rng.uniform(3.5, 7) if careful else 5.0
    discount = round(SPRING_DISCOUNT * multiple, 2)
    merchant = f"m{rng.randrange(20)}"
    night = int(start // DAY) * DAY + (rng.uniform(0, 5) if careful else 1.5) * 3600
    span = rng.uniform(1, 5) * 3600 if careful else 2 * 3600
    code = f"SPRING-{rng.randrange(10**6):06d}"
    # A misconfigured template hands each claimer a code of their own; a leaked code is one.
    own_codes = careful and rng.random() < 0.5
    for i in range(members):
        yield from history(rng, crew, i, night)
    for n in range(size):
        i = n % members
        who = crew.who(i)
        t = night + rng.uniform(0, span)
        amount = round(discount + rng.uniform(0.5, 12), 2)  # just above the coupon: near free
        coupon = f"SPRING-{rng.randrange(10**6):06d}" if own_codes else code
        ship = {"merchant": merchant, "address": crew.address(i, 0.3 if careful else 0.0)}
        spring = {"campaign": "spring-sale", "coupon": coupon, "discount": discount}
        yield from checkout(rng, t, who, f"o-{code}-{n}", amount, ship, crew.card(i), spring)


def scalpers(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """A crew's aged accounts order the 20:00 flash sale within a second of opening."""
    day = int(start // DAY)
    opens = day * DAY + SALE_HOUR * 3600
    leaks = _leaks(rng, careful, size, {"card": 3, "address": 3, "device": max(2, size // 8)})
    crew = Crew(rng, f"sc{rng.randrange(10**6)}", size, leaks)
    for i in range(size):
        yield from history(rng, crew, i, opens - 3600)
    for i in range(size):
        who = crew.who(i)
        woke = opens - rng.uniform(30, 600)
        yield woke, {"type": "account.login", "method": "password", "success": True, **who}
        for k in range(rng.choice((1, 1, 2)) if careful else 1):
            t = opens + rng.uniform(0.05, 1.0)
            ship = {
                "merchant": "m-flash",
                "address": crew.address(i, 0.5 if careful else 0.0),
                "phone": crew.phones[i],
            }
            order_id = f"fs-{who['account']}-{k}"
            yield from flash_order(rng, t, day, who, ship, crew.card(i), order_id)
