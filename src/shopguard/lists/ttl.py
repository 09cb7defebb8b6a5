"""How long a list entry lives: a duration (``30d``, ``24h``) from one second to ten years.

A TTL beyond that is a typo or an attack: ``99999999999999999999d`` would give an expiry no
clock can show (and ``1e400``-style values one that is not even a number)."""

from __future__ import annotations

from shopguard.errors import ConfigError
from shopguard.features.spec import parse_duration

MAX_TTL_S = 10 * 365 * 86400.0


def parse_ttl(text: str) -> float:
    """Seconds an entry lives; ConfigError names the bound when ``text`` is outside it."""
    if len(text) > 32:
        raise ConfigError(f"bad duration {text[:32]!r}...; use e.g. 30s, 15m, 24h, 90d")
    seconds = parse_duration(text)
    if not 1.0 <= seconds <= MAX_TTL_S:  # NaN fails too
        raise ConfigError(f"duration {text!r} out of range: from 1s to 10 years (3650d)")
    return seconds
