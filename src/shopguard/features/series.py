"""Exact sliding windows over one key's events: times plus cumulative sums.

Reads are O(log n) (a bisect and two subtractions) and any number of windows share one
series. Memory is bounded: events older than the longest window are pruned, and a key
keeps at most ``max_events`` (beyond that its oldest events drop, so a long window on a
key hotter than that under-counts; see docs/features.md).

Late events (time earlier than the key's newest) are counted at the newest time: windows
never rewind. Window semantics: an event at time ``e`` is in the window of length ``w``
at time ``t`` when ``t - w < e <= t``.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right


class EventSeries:
    __slots__ = ("base", "cums", "first", "last", "times", "vals")

    # Defaults: a snapshot (state/snapshot.py) builds an empty series, then sets its fields.
    def __init__(
        self, retention: float = 0.0, with_sum: bool = False, with_max: bool = False
    ) -> None:
        # NaN until the first event. Plain floats, not Optional: the compiled build keeps
        # them unboxed in the object instead of allocating a float per update.
        self.first = math.nan
        self.last = math.nan
        self.times: array[float] | None = array("d") if retention > 0 else None
        self.cums: array[float] | None = array("d") if with_sum and retention > 0 else None
        self.vals: array[float] | None = array("d") if with_max and retention > 0 else None
        self.base = 0.0  # cumulative sum of the pruned prefix

    def add(self, t: float, value: float, retention: float, max_events: int) -> None:
        last = self.last
        if t < last:  # never true while last is NaN
            t = last
        if math.isnan(self.first):
            self.first = t
        self.last = t
        times = self.times
        if times is None:
            return
        times.append(t)
        cums = self.cums
        if cums is not None:
            cums.append((cums[-1] if cums else self.base) + value)
        if self.vals is not None:
            self.vals.append(value)
        if times[0] <= t - retention:
            cut = bisect_right(times, t - retention)
            if cut >= 16 or cut * 2 >= len(times):
                self._drop(cut)
        if len(times) > max_events:
            self._drop(len(times) - max_events)

    def _drop(self, n: int) -> None:
        assert self.times is not None
        del self.times[:n]
        if self.cums is not None:
            self.base = self.cums[n - 1]
            del self.cums[:n]
        if self.vals is not None:
            del self.vals[:n]

    def count(self, cutoff: float) -> int:
        times = self.times
        assert times is not None
        return len(times) - bisect_right(times, cutoff)

    def total(self, cutoff: float) -> float:
        times, cums = self.times, self.cums
        assert times is not None and cums is not None
        if not times:
            return 0.0
        i = bisect_right(times, cutoff)
        return cums[-1] - (cums[i - 1] if i else self.base)

    def mean(self, cutoff: float) -> float | None:
        n = self.count(cutoff)
        return self.total(cutoff) / n if n else None

    def maximum(self, cutoff: float) -> float | None:
        times, vals = self.times, self.vals
        assert times is not None and vals is not None
        i = bisect_right(times, cutoff)
        return max(vals[i:]) if i < len(vals) else None
