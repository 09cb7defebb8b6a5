"""Distinct counts over a sliding window: exact up to a bound, then a sliding HyperLogLog.

Exact mode keeps each value's last-seen time in insertion order (re-seen values move to
the end), so expiry pops from the front. Past ``bound`` values the key switches to a
sliding HyperLogLog (Chabchoub & Hebrail): 256 registers, each a short list of
(time, rank) with ranks decreasing over time, so the maximum rank *within any window* is
the first entry newer than the window start. Standard error 1.04/sqrt(256) = 6.5%.
Hashes are blake2b, not ``hash()``, so a restarted process rebuilds identical sketches.
"""

from __future__ import annotations

import math
import secrets
from hashlib import blake2b
from typing import Any

REGISTERS = 256
_ALPHA = 0.7213 / (1 + 1.079 / REGISTERS)


def _hash64(value: Any) -> int:
    return int.from_bytes(blake2b(str(value).encode(), digest_size=8).digest(), "little")


class SlidingHLL:
    __slots__ = ("regs",)

    def __init__(self) -> None:
        self.regs: list[list[tuple[float, int]] | None] = [None] * REGISTERS

    def add(self, value: Any, t: float, retention: float) -> None:
        h = _hash64(value)
        idx = h & (REGISTERS - 1)
        rank = 57 - (h >> 8).bit_length()  # leading zeros of a 56-bit word, plus one
        entries = self.regs[idx]
        if entries is None:
            self.regs[idx] = [(t, rank)]
            return
        while entries and entries[-1][1] <= rank:
            entries.pop()
        entries.append((t, rank))
        cutoff = t - retention
        while len(entries) > 1 and entries[0][0] <= cutoff:
            del entries[0]

    def estimate(self, cutoff: float) -> int:
        total = 0.0
        zeros = 0
        for entries in self.regs:
            rank = 0
            if entries:
                for when, r in entries:
                    if when > cutoff:
                        rank = r
                        break
            if rank == 0:
                zeros += 1
            total += 2.0**-rank
        estimate = _ALPHA * REGISTERS * REGISTERS / total
        if estimate <= 2.5 * REGISTERS and zeros:
            estimate = REGISTERS * math.log(REGISTERS / zeros)
        return round(estimate)


class DistinctSeries:
    __slots__ = ("seen", "sketch")

    def __init__(self) -> None:
        self.seen: dict[Any, float] | None = {}
        self.sketch: SlidingHLL | None = None

    def add(self, value: Any, t: float, retention: float, bound: int) -> None:
        if self.sketch is not None:
            self.sketch.add(value, t, retention)
            return
        seen = self.seen
        assert seen is not None
        if seen:
            newest = next(reversed(seen.values()))
            if t < newest:
                t = newest  # late events count at the newest time, as in EventSeries
        seen.pop(value, None)
        seen[value] = t
        cutoff = t - retention
        stale = []
        for key, when in seen.items():
            if when > cutoff:
                break
            stale.append(key)
        for key in stale:
            del seen[key]
        if len(seen) > bound:
            sketch = SlidingHLL()
            for key, when in seen.items():
                sketch.add(key, when, retention)
            self.sketch, self.seen = sketch, None

    def forget(self, value: Any) -> bool:
        """Replace a member by a random stand-in (an erasure request): counts stay right,
        the pseudonym is gone. A sketch holds only hashes, so it keeps nothing to erase."""
        seen = self.seen
        if not seen or value not in seen:
            return False
        stand_in = f"erased:{secrets.token_hex(8)}"
        self.seen = {stand_in if k == value else k: when for k, when in seen.items()}
        return True

    def count(self, cutoff: float) -> int:
        if self.sketch is not None:
            return self.sketch.estimate(cutoff)
        seen = self.seen
        assert seen is not None
        if not seen or next(iter(seen.values())) > cutoff:
            return len(seen)  # the whole set is in the window: the usual case, O(1)
        n = 0
        for when in reversed(seen.values()):
            if when <= cutoff:
                break
            n += 1
        return n
