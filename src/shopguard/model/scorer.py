"""The scorer protocol. Gradient-boosted models plug in here (a later issue); an error in
a scorer is traced and the decision goes on without a score."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol


class Scorer(Protocol):
    name: str
    features: tuple[str, ...]  # names the model reads; the engine computes them
    # the event types it was trained on and scores (empty: every type); other types
    # neither pay for its features nor get a score
    event_types: frozenset[str]

    def score(self, values: Mapping[str, Any]) -> float | None: ...


class NoScorer:
    """No model configured: rules that read ``score`` see it as missing."""

    name = "none"
    features: tuple[str, ...] = ()
    event_types: frozenset[str] = frozenset()

    def score(self, values: Mapping[str, Any]) -> float | None:
        return None


def scores(scorer: Scorer, event_type: str) -> bool:
    """Does ``scorer`` score events of ``event_type``?"""
    return bool(scorer.features) and (not scorer.event_types or event_type in scorer.event_types)


SCORERS: dict[str, Callable[..., Scorer]] = {"none": NoScorer}


def make_scorer(name: str, **options: Any) -> Scorer:
    try:
        factory = SCORERS[name]
    except KeyError:
        from shopguard.errors import ConfigError

        raise ConfigError(f"unknown scorer {name!r}; registered: {sorted(SCORERS)}") from None
    return factory(**options)
