"""Attacks on the SMS verification-code endpoint."""

from __future__ import annotations

import random
from collections.abc import Iterator

from shopguard.simulate.attacks.common import (
    PREMIUM_PREFIXES,
    Raw,
    knob,
    pick,
    proxy_pool,
    pumped_numbers,
)
from shopguard.simulate.world import MOBILE_UAS, device, phone, random_ip


def sms_bombing(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """Someone floods one victim's phone with verification codes."""
    victim = phone(rng)
    span = knob(rng, careful, 1800, 2 * 3600, 12 * 3600)
    devices = pick(rng, careful, 50, (3, 50, 500))
    for _ in range(size):
        yield (
            start + rng.uniform(0, span),
            {
                "type": "sms.send",
                "purpose": rng.choice(("register", "login", "reset")),
                "phone": victim,
                "ip": random_ip(rng),
                "device": {"id": f"bomb-{rng.randrange(devices)}"},
            },
        )


def sms_pumping(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """Codes asked for many premium international numbers from a handful of IPs."""
    ips = [random_ip(rng) for _ in range(pick(rng, careful, 3, (6, 12, 25, 50)))]
    span = knob(rng, careful, 3600, 3 * 3600, 18 * 3600)
    for _ in range(size):
        number = f"{rng.choice(PREMIUM_PREFIXES)}{rng.randrange(10**7):07d}"
        yield (
            start + rng.uniform(0, span),
            {"type": "sms.send", "purpose": "register", "phone": number, "ip": rng.choice(ips)},
        )


def sms_pumping_intl(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """Toll fraud: a script asks for sign-up codes to runs of consecutive premium
    international numbers (the pumper is paid per message delivered), spread over
    hundreds of residential proxy IPs at one or two requests each; no code is ever used."""
    if careful:
        per_ip = rng.choice((1, 1, 2))
        ranges, stride = rng.randrange(1, 5), rng.choice((1, 1, 2, 7))
        span = rng.uniform(2, 24) * 3600
        nets = proxy_pool(rng, rng.choice((0, 0, 30, 120)))
        agents = rng.sample(MOBILE_UAS, rng.randrange(1, len(MOBILE_UAS) + 1))
    else:
        per_ip, ranges, stride, span, nets, agents = 2, 2, 1, 3 * 3600.0, [], list(MOBILE_UAS)
    numbers = pumped_numbers(rng, size, ranges, stride)
    ip, exits = "", {""}
    for n, number in enumerate(numbers):
        while n % per_ip == 0 and ip in exits:  # the next proxy exit, never one used
            ip = f"{rng.choice(nets)}.{rng.randrange(1, 255)}" if nets else random_ip(rng)
        exits.add(ip)
        yield (
            start + span * n / size + rng.uniform(0, 30),
            {
                "type": "sms.send",
                "purpose": "register",
                "phone": number,
                "ip": ip,
                "user_agent": rng.choice(agents),
                "device": device(f"pd-{rng.randrange(10**12)}"),
            },
        )
