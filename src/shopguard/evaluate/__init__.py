"""Evaluate: what a pack catches on labelled traffic, and what it costs honest shoppers.

Reads decisions paired with their truth (from ``shopguard simulate`` or a labelled
replay) and reports, per attack, recall at the point of harm and money saved, and for
honest traffic the share reviewed, challenged and denied.
"""

from shopguard.evaluate.metrics import Scoreboard

__all__ = ["Scoreboard"]
