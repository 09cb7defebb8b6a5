"""Keeping the engine's long-lived state out of the cyclic collector's sight without
trapping the host's garbage (the ``gc_freeze_every`` setting).

``gc.freeze()`` moves every object the collector tracks into a permanent generation it
never scans: millions of feature states stop being re-scanned. But it is process-wide:
whatever the host holds at that moment is frozen too (an HTTP server's in-flight requests,
their tasks, scopes, exceptions and tracebacks), and what of it later dies in a
reference cycle is never collected. Measured through the HTTP app: every freeze kept one
group-commit batch of requests for good, RSS grew with traffic.

So once the frozen objects have grown by ``GROWTH`` since the last full collection, they
are thawed, collected once and frozen again. Trapped garbage never exceeds that share of
the frozen objects, however many requests are in flight when a freeze falls; the full
collections stay as rare as that growth (a steady state with no host garbage never
needs one), the same amortized rule CPython applies to its oldest generation.
"""

from __future__ import annotations

import gc

GROWTH = 0.25  # the share of frozen objects that may be garbage before a full collection
# gc.get_freeze_count() walks the whole permanent generation (25 ms at 800k objects), so
# the growth is looked at every CHECK_EVERY freezes, not at each: at the default
# gc_freeze_every that is once per 160k events, well under a microsecond per event.
CHECK_EVERY = 16


class Freezer:
    def __init__(self, growth: float = GROWTH, check_every: int = CHECK_EVERY) -> None:
        self.growth = growth
        self.check_every = check_every
        self.baseline = 0  # objects frozen right after the last full collection
        self.collections = 0
        self.freezes = 0

    def freeze(self) -> None:
        gc.freeze()
        self.freezes += 1
        if self.freezes % self.check_every:
            return
        if gc.get_freeze_count() > self.baseline * (1 + self.growth):
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self.baseline = gc.get_freeze_count()
            self.collections += 1


FREEZER = Freezer()  # the permanent generation is process-wide: so is its bookkeeping
