"""Sequence state: "A not followed by B within N seconds" for one key.

Each A event leaves a pending time; any B event for the key settles every pending A at or
before it. The feature counts pending A events older than ``within`` (they timed out with
no B) that still fall inside the window. "A followed by B within N" needs no state of its
own: it is the time since the key's last A, read on a B event (see plan.py).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right


class PendingSeries:
    __slots__ = ("pending",)

    def __init__(self) -> None:
        self.pending: array[float] = array("d")

    def first_seen(self, t: float, retention: float, max_events: int) -> None:
        pending = self.pending
        if pending and t < pending[-1]:
            t = pending[-1]
        pending.append(t)
        cut = bisect_right(pending, t - retention)
        if len(pending) - cut > max_events:
            cut = len(pending) - max_events
        if cut:
            del pending[:cut]

    def settle(self, t: float) -> None:
        del self.pending[: bisect_right(self.pending, t)]

    def timed_out(self, t: float, within: float, window: float) -> int:
        pending = self.pending
        return bisect_right(pending, t - within) - bisect_right(pending, t - window)
