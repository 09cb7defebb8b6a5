"""Simulate: seeded retail traffic with ground truth, to measure what a pack catches.

Honest shoppers (households, offices, campuses, daily and weekly rhythms, promotion
peaks) and attacks described by *behaviour* (timing, reuse, volume), never by the rule
thresholds that should catch them: nothing here imports the engine, features or rules.
Every event carries its truth (label and attack name) beside it, never inside it.
"""

from shopguard.simulate.simulator import Truth, simulate

__all__ = ["Truth", "simulate"]
