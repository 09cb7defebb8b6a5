"""Attacks on the SMS verification-code endpoint."""

from __future__ import annotations

import random
from collections.abc import Iterator

from shopguard.simulate.attacks.common import PREMIUM_PREFIXES, Raw
from shopguard.simulate.world import phone, random_ip


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
