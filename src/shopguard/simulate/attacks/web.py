"""Attacks on the web front: crawlers."""

from __future__ import annotations

import random
from collections.abc import Iterator

from shopguard.simulate.attacks.common import BOT_UAS, Raw, knob, pick
from shopguard.simulate.world import MOBILE_UAS, random_ip


def crawler(rng: random.Random, start: float, size: int, careful: bool) -> Iterator[Raw]:
    """A scraper walks product pages from datacenter addresses, fetching no static files."""
    ips = [random_ip(rng) for _ in range(pick(rng, careful, 2, (8, 20, 60)))]
    rate = knob(rng, careful, 0.15, 0.4, 3)  # seconds between requests
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
