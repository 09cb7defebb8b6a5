"""Backtests: a stretch of history through the champion and a candidate ruleset side by
side, every decision that changes reported (by outcome, by rule, with samples), with
recall and honest friction where labels exist. See docs/tuning-rules.md."""

from shopguard.backtest.compare import Comparison
from shopguard.backtest.report import markdown
from shopguard.backtest.run import (
    CLOSED_LOOP,
    OPEN_LOOP,
    backtest_engine,
    candidate_rules,
    closed_loop,
    over_file,
    over_journal,
)

__all__ = [
    "CLOSED_LOOP",
    "OPEN_LOOP",
    "Comparison",
    "backtest_engine",
    "candidate_rules",
    "closed_loop",
    "markdown",
    "over_file",
    "over_journal",
]
