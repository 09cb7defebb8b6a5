"""Attacks on accounts and promotions: farms, stuffing, bots."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from shopguard.simulate.attacks.common import BOT_UAS, Raw, knob, pick, proxy_pool
from shopguard.simulate.world import MOBILE_UAS, phone, random_ip, sms_verify


def wool_party(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """A ring registers ``size`` accounts from a device farm to farm new-user gifts."""
    ring = rng.randrange(10**6)
    per_device = knob(rng, careful, 10, 1.2, 6)  # careful: drawn per campaign
    devices = [f"farm{ring}-{i}" for i in range(max(2, int(size // per_device)))]
    nets = proxy_pool(rng, pick(rng, careful, 3, (5, 10, 20, 40, 80)))
    drops = [
        f"{rng.randrange(1, 99)} Wuxing Rd, Room {rng.randrange(100, 999)}"
        for _ in range(pick(rng, careful, 3, (2, 3, 6, 12)))
    ]
    pace = knob(rng, careful, 40.0, 300, 5400)  # seconds between sign-ups
    virtual = knob(rng, careful, 1.0, 0.1, 0.8)  # share of virtual-operator numbers
    slow = knob(rng, careful, 1.0, 2, 8), knob(rng, careful, 1.0, 5, 60)
    t = start
    for i in range(size):
        t += rng.expovariate(1 / pace)
        who: dict[str, Any] = {
            "account": f"wool{ring}-{i}",
            "device": {"id": rng.choice(devices), "emulator": not careful and rng.random() < 0.6},
            "ip": f"{rng.choice(nets)}.{rng.randrange(1, 255)}",
            "phone": phone(rng, virtual=not careful or rng.random() < virtual),
            "user_agent": rng.choice(MOBILE_UAS),
        }
        sent = t
        yield sent, {"type": "sms.send", "purpose": "register", **who}
        signed = sent + rng.uniform(15, 45) * slow[0]
        verify = sms_verify(who["phone"])  # the farm receives its codes and enters them
        if verify is not None:
            yield signed - 5.0, {**verify, **who}
        yield signed, {"type": "account.register", **who}
        claimed = signed + rng.uniform(3, 20) * slow[1]
        yield (
            claimed,
            {
                "type": "promo.claim",
                "campaign": "newcomer",
                "coupon": "NEW-20",
                "value": 20.0,
                **who,
            },
        )
        yield (
            claimed + rng.uniform(600, 7200),
            {
                "type": "promo.redeem",
                "campaign": "newcomer",
                "coupon": "NEW-20",
                "amount": 25.0,
                "discount": 20.0,
                "address": rng.choice(drops),
                **who,
            },
        )


def credential_stuffing(
    rng: random.Random, start: float, size: int, careful: bool
) -> Iterator[Raw]:
    """Leaked username/password pairs tried against login from a proxy pool."""
    nets = proxy_pool(rng, pick(rng, careful, 2, (10, 25, 40, 80, 150)))
    span = knob(rng, careful, 1800, 4 * 3600, 24 * 3600)
    devices = pick(rng, careful, 5, (1, 1, 3, 20))  # 1: a new device id per attempt
    for i in range(size):
        yield (
            start + rng.uniform(0, span),
            {
                "type": "account.login",
                "account": f"u{rng.randrange(10**6)}",
                "method": "password",
                "success": rng.random() < 0.02,
                "ip": f"{rng.choice(nets)}.{rng.randrange(1, 255)}",
                "user_agent": rng.choice(MOBILE_UAS if careful else BOT_UAS),
                "device": {"id": f"stuff-{i % (max(1, size // devices) if careful else devices)}"},
            },
        )


def flashsale_bots(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """Scripts grab flash-sale stock the instant it opens, many accounts per device."""
    day = int(start // 86400)
    opens = day * 86400 + 20 * 3600
    per_device = pick(rng, careful, 25, (2, 3, 5, 10))
    devices = [f"bot-{rng.randrange(10**6)}" for _ in range(max(1, size // per_device))]
    nets = proxy_pool(rng, pick(rng, careful, 2, (3, 10, 30)))
    window = knob(rng, careful, 1.5, 5, 60)  # seconds after opening
    for i in range(size):
        delay = rng.uniform(0, window) if careful else rng.uniform(0.05, 1.5)
        yield (
            opens + delay,
            {
                "type": "flashsale.order",
                "campaign": f"flash-{day}",
                "sku": "phone-x",
                "quantity": 1,
                "amount": 999.0,
                "account": f"bot-acct-{day}-{i}",
                "device": {"id": rng.choice(devices), "emulator": not careful},
                "ip": f"{rng.choice(nets)}.{rng.randrange(1, 255)}",
                "user_agent": rng.choice(MOBILE_UAS if careful else BOT_UAS),
            },
        )


def lottery_bots(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """Farmed accounts spin the daily lucky draw from a few devices."""
    per_device = pick(rng, careful, 30, (2, 4, 8, 16))
    devices = [f"spin-{rng.randrange(10**6)}" for _ in range(max(1, size // per_device))]
    pace = knob(rng, careful, 1, 20, 200)
    t = start
    for i in range(size):
        t += rng.uniform(0.5, 3) * pace
        yield (
            t,
            {
                "type": "lottery.draw",
                "campaign": "daily-spin",
                "account": f"spin-acct-{i % (size // 2 + 1)}",
                "device": {"id": rng.choice(devices)},
                "ip": random_ip(rng),
            },
        )


def coupon_bug(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """A no-threshold coupon leaks and is redeemed ``size`` times within the hour."""
    code = f"BUG-{rng.randrange(10**4)}"
    span = knob(rng, careful, 3600, 2 * 3600, 10 * 3600)
    per_device = pick(rng, careful, 3, (1, 2, 3, 6))
    drops = pick(rng, careful, 40, (10, 40, 150))
    for i in range(size):
        t = start + rng.uniform(0, span)
        yield (
            t,
            {
                "type": "promo.redeem",
                "campaign": "spring-sale",
                "coupon": code,
                "amount": round(rng.uniform(30, 300), 2),
                "discount": 50.0,
                "account": f"bug-{code}-{i}",
                "device": {"id": f"bugdev-{code}-{i % (size // per_device + 1)}"},
                "ip": random_ip(rng),
                "address": f"{i % drops} Leak St",
            },
        )
