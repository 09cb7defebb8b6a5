"""The proxy-farm wool party, as rings selling "new-user gift" services run it.

Public accounts of these rings (phone farms with racks of identical handsets, "接码"
SIM-pool platforms, residential proxy subscriptions) describe the same chain: each fake
account gets a fresh device id and its own residential proxy exit, a real mobile number
from a SIM pool (bought as a batch of consecutive numbers), sometimes a scripted e-mail,
takes the new-user gift minutes after signing up and spends it on an order shipped to
one of a handful of drop addresses, each typed a little differently, paid with one of a
few cards the ring controls. The careful variant draws its habits per campaign.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from shopguard.simulate.addresses import ROADS, Place, write
from shopguard.simulate.attacks.common import (
    BULK_DOMAINS,
    Raw,
    generated_mailbox,
    proxy_pool,
    sim_pool,
)
from shopguard.simulate.orders import checkout
from shopguard.simulate.sites import DEVICE_MODELS
from shopguard.simulate.world import (
    MOBILE_UAS,
    card,
    device,
    random_ip,
    sms_verify,
)

GIFT = {"campaign": "newcomer", "coupon": "NEW-20"}


class FarmHabits:
    """What one ring does: drawn per campaign when careful, today's defaults otherwise."""

    def __init__(self, rng: random.Random, careful: bool, size: int) -> None:
        if not careful:
            self.pace, self.claim_delay = 90.0, (60.0, 600.0)
            self.redeem_delay = (900.0, 4 * 3600.0)
            self.drops, self.cards, self.variants = 4, 3, 0.8
            self.email, self.phone_batches, self.phone_stride = 0.6, 1, 1
            self.device_reuse, self.proxy_nets, self.models = 0.0, 0, 2
            return
        self.pace = rng.uniform(120, 3600)  # seconds between sign-ups
        self.claim_delay = (rng.uniform(30, 300), rng.uniform(600, 3 * 3600))
        self.redeem_delay = (rng.uniform(600, 3600), rng.uniform(4, 48) * 3600)
        # Which links leak: each ring reuses some of what it owns, never all of it.
        self.drops = rng.choice((2, 3, 5, 8, 12, size))  # size: one address per account
        self.cards = rng.choice((1, 2, 4, 8, size))  # size: gift cards, one each
        self.variants = rng.uniform(0.2, 1.0)  # share of orders with a retyped address
        self.email = rng.choice((0.0, 0.3, 0.9))
        self.phone_batches = rng.choice((1, 2, 5, size))  # size: numbers from everywhere
        self.phone_stride = rng.choice((1, 1, 3, 17))  # consecutive, or every n-th
        self.device_reuse = rng.choice((0.0, 0.0, 0.1, 0.3))  # a handset reset, not wiped
        self.proxy_nets = rng.choice((0, 0, 4, 12))  # 0: a new residential exit each time
        self.models = rng.choice((1, 2, 4, len(DEVICE_MODELS)))
        if self.hides_everything(size):  # a ring that shares nothing is a crowd of strangers
            self.drops = rng.choice((3, 5, 8))

    def hides_everything(self, size: int) -> bool:
        return (self.drops, self.cards, self.phone_batches) == (size, size, size) and not (
            self.email or self.device_reuse or self.proxy_nets
        )


def _drop_places(rng: random.Random, count: int) -> list[Place]:
    roads = tuple(ROADS)
    return [
        Place(
            rng.randrange(1, 400),
            rng.choice(roads),
            rng.randrange(1, 30),
            rng.choice((101, 203, 305, 402, 506, 1201)) + rng.randrange(3),
            rng.choice((0, 0, rng.randrange(10, 900))),
        )
        for _ in range(count)
    ]


def proxy_wool_farm(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """``size`` fake accounts, each signing up, claiming the gift and spending it."""
    ring = rng.randrange(10**6)
    habits = FarmHabits(rng, careful, size)
    batch = -(-size // habits.phone_batches)
    phones = [
        number
        for _ in range(habits.phone_batches)
        for number in sim_pool(rng, batch, stride=habits.phone_stride)
    ][:size]
    rng.shuffle(phones)  # the platform hands numbers out in no particular order
    drops = _drop_places(rng, habits.drops)
    cards = [card(rng) for _ in range(habits.cards)]
    nets = proxy_pool(rng, habits.proxy_nets) if habits.proxy_nets else []
    domain, shape = rng.choice(BULK_DOMAINS), rng.choice(("aaaaaa9999", "aaaa99999", "aaaaaaaa"))
    models = rng.sample(DEVICE_MODELS, habits.models)
    used: dict[str, str] = {}  # device id -> its model
    t = start
    for i in range(size):
        t += rng.expovariate(1 / habits.pace)
        if used and rng.random() < habits.device_reuse:
            device_id = rng.choice(list(used))
        else:
            device_id = f"dv{ring:06d}{i:05d}{rng.randrange(10**6):06d}"
            used[device_id] = rng.choice(models)
        ip = f"{rng.choice(nets)}.{rng.randrange(1, 255)}" if nets else random_ip(rng)
        phone = phones[i]
        who: dict[str, Any] = {
            "account": f"wf{ring}-{i}",
            "device": device(device_id, used[device_id]),
            "ip": ip,
            "user_agent": rng.choice(MOBILE_UAS),
        }
        yield t, {"type": "sms.send", "purpose": "register", "phone": phone, **who}
        t_reg = t + rng.uniform(20, 90)
        verify = sms_verify(phone)
        if verify is not None:
            yield t_reg - rng.uniform(2, 10), {**verify, **who}
        register: dict[str, Any] = {"type": "account.register", "phone": phone, **who}
        if rng.random() < habits.email:
            register["email"] = generated_mailbox(rng, shape, domain)
        yield t_reg, register
        claimed = t_reg + rng.uniform(*habits.claim_delay)
        yield claimed, {"type": "promo.claim", "value": 20.0, "phone": phone, **GIFT, **who}
        yield from _spend(rng, habits, who, phone, claimed, drops, cards, f"wf{ring}-{i}")


def _spend(
    rng: random.Random,
    habits: FarmHabits,
    who: dict[str, Any],
    phone: str,
    claimed: float,
    drops: list[Place],
    cards: list[str],
    order: str,
) -> Iterator[Raw]:
    """The gift spent on an order to a drop address, the rest paid with a ring card."""
    t = claimed + rng.uniform(*habits.redeem_delay)
    place = rng.choice(drops)
    address = write(place, rng) if rng.random() < habits.variants else write(place)
    amount = round(rng.uniform(22, 45), 2)
    merchant = f"m{rng.randrange(20)}"
    ship = {"merchant": merchant, "address": address, "phone": phone}
    gift = {**GIFT, "discount": 20.0}
    yield from checkout(rng, t, who, f"o-{order}", amount, ship, rng.choice(cards), gift)
