"""Shared pieces of attack generators: the raw event type, bot agents, proxy pools, and
the resources rings buy in bulk (SIM pools, residential proxies, generated mailboxes)."""

from __future__ import annotations

import random
import string
from typing import Any

from shopguard.simulate.world import HONEST_SEGMENTS, VIRTUAL_SEGMENTS, random_ip

Raw = tuple[float, dict[str, Any]]
BOT_UAS = (
    "python-requests/2.31",
    "okhttp/2.7.5",
    "Mozilla/5.0 HeadlessChrome/121.0",
    "Go-http-client/1.1",
    "curl/8.4.0",
)
PREMIUM_PREFIXES = ("+44 70", "+234 80", "+880 17", "+63 90", "+62 81", "+92 30")
# International ranges SMS pumpers are paid on (revenue-share or high-termination-rate
# mobile ranges), written as a caller types them: country code, then the range.
PUMPED_RANGES = (
    ("+44 7911", 6),
    ("+234 803", 7),
    ("+880 171", 7),
    ("+63 917", 7),
    ("+62 812", 8),
    ("+92 300", 7),
    ("+998 90", 7),
    ("+7 901", 7),
    ("+371 29", 6),
    ("+255 71", 7),
    ("+964 750", 7),
    ("+252 61", 7),
)
BULK_DOMAINS = ("163.com", "126.com", "sina.com", "yeah.net", "outlook.com", "mailfast.cc")


def proxy_pool(rng: random.Random, networks: int) -> list[str]:
    return [random_ip(rng).rsplit(".", 1)[0] for _ in range(networks)]


def sim_pool(rng: random.Random, size: int, virtual: bool = False, stride: int = 1) -> list[str]:
    """``size`` numbers bought as one batch: consecutive (or every ``stride``-th) numbers
    of one mainland range, so they share all but their last digits."""
    segment = rng.choice(VIRTUAL_SEGMENTS if virtual else HONEST_SEGMENTS)
    first = rng.randrange(10**8 - size * stride)
    return [f"{segment}{first + i * stride:08d}" for i in range(size)]


def pumped_numbers(rng: random.Random, size: int, ranges: int, stride: int) -> list[str]:
    """Numbers a pumper walks through: runs of consecutive numbers in premium ranges."""
    prefixes = rng.sample(PUMPED_RANGES, ranges)
    numbers: list[str] = []
    per_range = -(-size // ranges)
    for prefix, width in prefixes:
        first = rng.randrange(10**width - per_range * stride)
        numbers += [f"{prefix}{first + i * stride:0{width}d}" for i in range(per_range)]
    return numbers[:size]


def generated_mailbox(rng: random.Random, shape: str, domain: str) -> str:
    """A mailbox from a registration script: ``shape`` says letters (a) and digits (9)."""
    local = "".join(
        rng.choice(string.ascii_lowercase) if ch == "a" else rng.choice(string.digits)
        for ch in shape
    )
    return f"{local}@{domain}"


def knob(rng: random.Random, careful: bool, default: float, low: float, high: float) -> float:
    """Today's fixed value, or (careful) one drawn for this campaign: no fixed signature."""
    return rng.uniform(low, high) if careful else default


def pick(rng: random.Random, careful: bool, default: int, choices: tuple[int, ...]) -> int:
    return rng.choice(choices) if careful else default
