"""A key's own normal rate: an exponentially weighted average of its count per window.

Windows are fixed buckets of ``window`` seconds; when a bucket closes its count is folded
into the average with weight ``alpha`` (from the half-life), and every empty bucket in
between decays it. A campaign or coupon is then compared with *its own* history, so a
spike means "unusual for this coupon", not "above a global threshold".
"""

from __future__ import annotations


def alpha_for(window: float, half_life: float) -> float:
    """The per-bucket weight that halves an old bucket's influence every ``half_life``."""
    return float(1 - 0.5 ** (window / half_life))


class RateBaseline:
    __slots__ = ("bucket", "count", "ewma", "seen")

    def __init__(self) -> None:
        self.bucket = -1
        self.count = 0
        self.ewma = 0.0
        self.seen = 0  # closed buckets folded in so far

    def _rolled(self, bucket: int, alpha: float) -> tuple[float, int]:
        if self.bucket < 0 or bucket <= self.bucket:
            return self.ewma, self.seen
        ewma = self.count if self.seen == 0 else alpha * self.count + (1 - alpha) * self.ewma
        empty = bucket - self.bucket - 1
        if empty:
            ewma *= (1 - alpha) ** empty
        return ewma, self.seen + 1 + empty

    def value(self, t: float, window: float, alpha: float, warmup: int) -> float | None:
        """The baseline as of ``t`` (before its event); missing until ``warmup`` buckets."""
        ewma, seen = self._rolled(int(t // window), alpha)
        return ewma if seen >= warmup else None

    def add(self, t: float, window: float, alpha: float) -> None:
        bucket = int(t // window)
        if bucket > self.bucket:
            self.ewma, self.seen = self._rolled(bucket, alpha)
            self.bucket, self.count = bucket, 0
        self.count += 1  # a late event counts in the current bucket: windows never rewind
