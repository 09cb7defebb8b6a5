"""Feature kinds: one object per kind, in one registry by name.

Each kind checks its spec, finds or makes the stream (shared state) it reads, makes and
folds that state, and says how a feature of its kind is read and what a key never seen
reads (base.py). Kinds keeping one kind of state share a module: series.py (count, sum,
mean, max, first_seen, since_last, followed_by over an event series), runs.py
(silence_before, run_age over runs of activity). A new kind is one
module here, listed below; features/spec.py, plan.py and access.py only use the registry.
"""

from shopguard.features.kinds import (
    baseline,
    distinct,
    outstanding,
    pending,
    ratio,
    runs,
    series,
)
from shopguard.features.kinds.base import Kind

KINDS: dict[str, Kind] = {
    kind.name: kind
    for module in (series, distinct, pending, baseline, outstanding, runs, ratio)
    for kind in module.KINDS
}

__all__ = ["KINDS", "Kind"]
