"""Replay: event sources (JSONL, CSV through a column mapping) for the same engine.

Replays, backtests and training-set builds read history through these sources and call
``Engine.decide_many``: there is no second pipeline.
"""

from shopguard.replay.sources import Mapping, find_bad_row, iter_events, load_mapping

__all__ = ["Mapping", "find_bad_row", "iter_events", "load_mapping"]
