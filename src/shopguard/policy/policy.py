"""Score thresholds and enforcement mode, and the pure function that combines actions."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import msgspec

from shopguard.errors import ConfigError
from shopguard.outcome import ALLOW, Action, Outcome, combine

# Finite and bounded: a NaN threshold would never be reached, an infinite weight would
# make every total infinite (JSON has no infinity: the decision could not be read back).
Points = Annotated[float, msgspec.Meta(ge=-1e9, le=1e9)]
Share = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]


class Thresholds(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    review: Points = 40.0
    challenge: Points = 70.0
    deny: Points = 100.0


class ModelThresholds(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Model score (0..1) cut-offs; the score adds ``weight`` x score to the total."""

    weight: Annotated[float, msgspec.Meta(ge=-1e6, le=1e6)] = 0.0
    review: Share | None = None
    challenge: Share | None = None
    deny: Share | None = None


class Policy(msgspec.Struct, forbid_unknown_fields=True):
    thresholds: Thresholds = Thresholds()
    model: ModelThresholds = ModelThresholds()
    default_challenge: str = "captcha"
    # enforce: outcomes as computed. simulate: every outcome returned as allow and the
    # would-be outcome recorded (CrowdSec's simulation mode) to trial a pack safely.
    mode: Literal["enforce", "simulate"] = "enforce"
    alert_at: Literal["review", "challenge", "deny", "never"] = "deny"

    def __post_init__(self) -> None:
        t = self.thresholds
        if not all(map(math.isfinite, (t.review, t.challenge, t.deny, self.model.weight))):
            raise ConfigError("policy thresholds and the model weight must be finite numbers")
        if not t.review <= t.challenge <= t.deny:
            raise ConfigError("policy thresholds must satisfy review <= challenge <= deny")
        Action.parse(f"challenge:{self.default_challenge}")

    def by_score(self, total: float, model_score: float | None) -> Action:
        t = self.thresholds
        actions = [ALLOW]
        if total >= t.deny:
            actions.append(Action(Outcome.DENY))
        elif total >= t.challenge:
            actions.append(Action(Outcome.CHALLENGE, self.default_challenge))
        elif total >= t.review:
            actions.append(Action(Outcome.REVIEW))
        m = self.model
        if model_score is not None:
            if m.deny is not None and model_score >= m.deny:
                actions.append(Action(Outcome.DENY))
            elif m.challenge is not None and model_score >= m.challenge:
                actions.append(Action(Outcome.CHALLENGE, self.default_challenge))
            elif m.review is not None and model_score >= m.review:
                actions.append(Action(Outcome.REVIEW))
        return combine(actions)

    def decide(self, rule_actions: list[Action], total: float, model_score: float | None) -> Action:
        """The outcome: the strongest of what the rules asked for and what the scores say."""
        if not rule_actions and model_score is None and total < self.thresholds.review:
            return ALLOW  # the common case, kept cheap
        return combine([*rule_actions, self.by_score(total, model_score)])

    def alerts(self, outcome: Outcome, recommended: bool = False) -> bool:
        """Does this decision go to the alerts outbox: at or above the floor, or with a
        recommendation (pause_campaign...) an operator must see whatever the outcome."""
        floor = ALERT_FLOOR[self.alert_at]
        return recommended or (floor is not None and outcome >= floor)


ALERT_FLOOR: dict[str, Outcome | None] = {
    "review": Outcome.REVIEW,
    "challenge": Outcome.CHALLENGE,
    "deny": Outcome.DENY,
    "never": None,
}


def load_policy(doc: Any, source: str = "policy") -> Policy:
    body = doc.get("policy", {}) if isinstance(doc, dict) else None
    if not isinstance(body, dict):
        raise ConfigError("expected a top-level `policy:` mapping", source)
    try:
        return msgspec.convert(body, Policy)
    except (msgspec.ValidationError, ConfigError) as exc:
        raise ConfigError(str(exc), source) from None
