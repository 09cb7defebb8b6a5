"""Model stage: scorers registered by name; the score is a value rules and policy can read."""

from shopguard.model.scorer import SCORERS, NoScorer, Scorer, make_scorer

__all__ = ["SCORERS", "NoScorer", "Scorer", "make_scorer"]
