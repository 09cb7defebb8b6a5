"""Shared pieces of attack generators: the raw event type, bot agents, proxy pools."""

from __future__ import annotations

import random
from typing import Any

from shopguard.simulate.world import random_ip

Raw = tuple[float, dict[str, Any]]
BOT_UAS = (
    "python-requests/2.31",
    "okhttp/2.7.5",
    "Mozilla/5.0 HeadlessChrome/121.0",
    "Go-http-client/1.1",
    "curl/8.4.0",
)
PREMIUM_PREFIXES = ("+44 70", "+234 80", "+880 17", "+63 90", "+62 81", "+92 30")


def proxy_pool(rng: random.Random, networks: int) -> list[str]:
    return [random_ip(rng).rsplit(".", 1)[0] for _ in range(networks)]
