"""Attacks, each described by behaviour: who acts, from what, how fast, how often.

Every function yields ``(time, event fields)`` for one campaign of the attack starting
near ``start``; ``size`` scales it and ``careful`` slows it down and makes it look more
like honest traffic. None of this knows what any rule looks for.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from shopguard.simulate.world import MOBILE_UAS, card, phone, random_ip

Raw = tuple[float, dict[str, Any]]
BOT_UAS = (
    "python-requests/2.31",
    "okhttp/2.7.5",
    "Mozilla/5.0 HeadlessChrome/121.0",
    "Go-http-client/1.1",
    "curl/8.4.0",
)
PREMIUM_PREFIXES = ("+44 70", "+234 80", "+880 17", "+63 90", "+62 81", "+92 30")


def _proxy_pool(rng: random.Random, networks: int) -> list[str]:
    return [random_ip(rng).rsplit(".", 1)[0] for _ in range(networks)]


def wool_party(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """A ring registers ``size`` accounts from a device farm to farm new-user gifts."""
    ring = rng.randrange(10**6)
    devices = [f"farm{ring}-{i}" for i in range(max(2, size // (2 if careful else 10)))]
    nets = _proxy_pool(rng, 20 if careful else 3)
    drops = [f"{rng.randrange(1, 99)} Wuxing Rd, Room {rng.randrange(100, 999)}" for _ in range(3)]
    pace = 1800.0 if careful else 40.0  # seconds between sign-ups
    t = start
    for i in range(size):
        t += rng.expovariate(1 / pace)
        who = {
            "account": f"wool{ring}-{i}",
            "device": {"id": rng.choice(devices), "emulator": not careful and rng.random() < 0.6},
            "ip": f"{rng.choice(nets)}.{rng.randrange(1, 255)}",
            "phone": phone(rng, virtual=not careful or rng.random() < 0.6),
            "user_agent": rng.choice(MOBILE_UAS),
        }
        sent = t
        yield sent, {"type": "sms.send", "purpose": "register", **who}
        signed = sent + rng.uniform(15, 45) * (4 if careful else 1)
        yield signed, {"type": "account.register", **who}
        claimed = signed + rng.uniform(3, 20) * (30 if careful else 1)
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


def coupon_bug(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """A no-threshold coupon leaks and is redeemed ``size`` times within the hour."""
    code = f"BUG-{rng.randrange(10**4)}"
    for i in range(size):
        t = start + rng.uniform(0, 3600 * (4 if careful else 1))
        yield (
            t,
            {
                "type": "promo.redeem",
                "campaign": "spring-sale",
                "coupon": code,
                "amount": round(rng.uniform(30, 300), 2),
                "discount": 50.0,
                "account": f"bug-{code}-{i}",
                "device": {"id": f"bugdev-{code}-{i % (size // 3 + 1)}"},
                "ip": random_ip(rng),
                "address": f"{i % 40} Leak St",
            },
        )


def sms_bombing(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """Someone floods one victim's phone with verification codes."""
    victim = phone(rng)
    span = 4 * 3600 if careful else 1800
    for _ in range(size):
        yield (
            start + rng.uniform(0, span),
            {
                "type": "sms.send",
                "purpose": rng.choice(("register", "login", "reset")),
                "phone": victim,
                "ip": random_ip(rng),
                "device": {"id": f"bomb-{rng.randrange(50)}"},
            },
        )


def sms_pumping(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """Codes asked for many premium international numbers from a handful of IPs."""
    ips = [random_ip(rng) for _ in range(12 if careful else 3)]
    span = 6 * 3600 if careful else 3600
    for _ in range(size):
        number = f"{rng.choice(PREMIUM_PREFIXES)}{rng.randrange(10**7):07d}"
        yield (
            start + rng.uniform(0, span),
            {"type": "sms.send", "purpose": "register", "phone": number, "ip": rng.choice(ips)},
        )


def credential_stuffing(
    rng: random.Random, start: float, size: int, careful: bool
) -> Iterator[Raw]:
    """Leaked username/password pairs tried against login from a proxy pool."""
    nets = _proxy_pool(rng, 40 if careful else 2)
    span = 12 * 3600 if careful else 1800
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
                "device": {"id": f"stuff-{i % (size if careful else 5)}"},
            },
        )


def stolen_cards(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """A carder tests and uses stolen cards across a few accounts and devices."""
    cards = [card(rng) for _ in range(max(2, size // 4))]
    devices = [f"carder-{rng.randrange(10**6)}" for _ in range(3 if not careful else 10)]
    t = start
    for i in range(size):
        t += rng.uniform(5, 60) * (20 if careful else 1)
        yield (
            t,
            {
                "type": "payment",
                "account": f"card-mule-{i % 6}",
                "card": rng.choice(cards),
                "device": {"id": rng.choice(devices)},
                "ip": random_ip(rng),
                "amount": round(rng.uniform(300, 4000), 2),
                "success": rng.random() > 0.4,
            },
        )


def crawler(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """A scraper walks product pages from datacenter addresses, fetching no static files."""
    ips = [random_ip(rng) for _ in range(20 if careful else 2)]
    rate = 0.8 if careful else 0.15  # seconds between requests
    t = start
    for _ in range(size):
        t += rng.expovariate(1 / rate)
        yield (
            t,
            {
                "type": "http.request",
                "path": f"/item/{rng.randrange(10**6)}",
                "ip": rng.choice(ips),
                "status": 200,
                "user_agent": rng.choice(MOBILE_UAS if careful else BOT_UAS),
            },
        )


def cabinet_theft(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """A few repeat offenders take more from smart cabinets than they pay for."""
    thieves = [f"thief-{rng.randrange(10**6)}" for _ in range(max(1, size // 8))]
    t = start
    for i in range(size):
        t += rng.uniform(3600, 6 * 3600) * (4 if careful else 1)
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
        yield (
            t + rng.uniform(20, 90),
            {
                "type": "cabinet.session",
                "account": who,
                "cabinet": cabinet,
                "session_id": f"s-{who}-{i}",
                "device": {"id": f"{who}-phone"},
                "billed": [{"sku": "cola", "price": 4.5}] * billed,
                "rfid_missing": [f"tag-{i}-{k}" for k in range(taken)],
                "shelves": [{"shelf": 1, "weight_delta_g": 330.0 * taken}],
                "amount": 4.5 * billed,
                "paid": rng.random() > 0.5,
            },
        )


AttackFn = Callable[[random.Random, float, int, bool], Iterator[Raw]]
ATTACKS: dict[str, tuple[AttackFn, int]] = {  # name -> (generator, default size)
    "wool_party": (wool_party, 300),
    "coupon_bug": (coupon_bug, 1500),
    "sms_bombing": (sms_bombing, 60),
    "sms_pumping": (sms_pumping, 400),
    "credential_stuffing": (credential_stuffing, 1500),
    "stolen_cards": (stolen_cards, 120),
    "crawler": (crawler, 4000),
    "cabinet_theft": (cabinet_theft, 40),
}
