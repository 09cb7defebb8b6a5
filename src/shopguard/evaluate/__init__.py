"""Evaluate: what a pack catches on labelled traffic, and what it costs honest shoppers.

Reads decisions paired with their truth (from ``shopguard simulate`` or a labelled
replay) and reports, per attack, recall at the point of harm, ring accounts stopped
before their second harm and money saved, and for honest traffic the share of events
reviewed, challenged and denied and of accounts ever denied, against the targets; over
several seeds, one summary (tuning seeds versus held-out seeds: ``summary``).
"""

from shopguard.evaluate.metrics import Scoreboard

__all__ = ["Scoreboard"]
