"""The ordered outcome of a decision and the actions rules ask for.

``allow < review < challenge < deny``: combining is taking the strongest action, a small
pure function kept here so policy, lists and tests share one definition.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import NamedTuple

from shopguard.errors import ConfigError

CHALLENGE_KINDS = frozenset({"captcha", "sms", "face", "password", "slider", "id"})


class Outcome(IntEnum):
    ALLOW = 0
    REVIEW = 1
    CHALLENGE = 2
    DENY = 3

    def __str__(self) -> str:
        return self.name.lower()


class Action(NamedTuple):
    """What a rule (or list, or threshold) asks for; ``challenge`` only for CHALLENGE."""

    outcome: Outcome
    challenge: str | None = None

    @classmethod
    def parse(cls, text: str) -> Action:
        """Parse ``allow``, ``review``, ``deny`` or ``challenge:<kind>``."""
        name, _, kind = text.partition(":")
        try:
            outcome = Outcome[name.strip().upper()]
        except KeyError:
            raise ConfigError(
                f"unknown action {text!r}; use allow, review, challenge:<kind> or deny"
            ) from None
        if outcome is Outcome.CHALLENGE:
            kind = kind.strip() or "captcha"
            if kind not in CHALLENGE_KINDS:
                raise ConfigError(
                    f"unknown challenge {kind!r}; one of {', '.join(sorted(CHALLENGE_KINDS))}"
                )
            return cls(outcome, kind)
        if kind:
            raise ConfigError(f"only challenge takes a kind, got {text!r}")
        return cls(outcome, None)

    def __str__(self) -> str:
        return f"challenge:{self.challenge}" if self.challenge else str(self.outcome)


ALLOW = Action(Outcome.ALLOW)


def combine(actions: Iterable[Action]) -> Action:
    """The strongest action; among challenges the first one asked for wins (rule order)."""
    best = ALLOW
    for action in actions:
        if action.outcome > best.outcome:
            best = action
    return best
