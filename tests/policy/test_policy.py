from __future__ import annotations

import pytest

from shopguard.errors import ConfigError
from shopguard.outcome import Action, Outcome
from shopguard.policy import load_policy


def test_score_thresholds_and_rule_actions_combine() -> None:
    policy = load_policy({"policy": {"thresholds": {"review": 10, "challenge": 20, "deny": 30}}})
    assert policy.decide([], 5, None) == Action(Outcome.ALLOW)
    assert policy.decide([], 12, None) == Action(Outcome.REVIEW)
    assert policy.decide([], 25, None) == Action(Outcome.CHALLENGE, "captcha")
    assert policy.decide([Action(Outcome.REVIEW)], 31, None) == Action(Outcome.DENY)
    assert policy.decide([Action(Outcome.DENY)], 0, None) == Action(Outcome.DENY)


def test_model_thresholds() -> None:
    policy = load_policy({"policy": {"model": {"review": 0.5, "deny": 0.9}}})
    assert policy.decide([], 0, 0.6) == Action(Outcome.REVIEW)
    assert policy.decide([], 0, 0.95) == Action(Outcome.DENY)
    assert policy.decide([], 0, 0.1) == Action(Outcome.ALLOW)


def test_alerts_floor() -> None:
    assert load_policy({"policy": {"alert_at": "challenge"}}).alerts(Outcome.CHALLENGE)
    assert not load_policy({"policy": {"alert_at": "deny"}}).alerts(Outcome.CHALLENGE)
    assert not load_policy({"policy": {"alert_at": "never"}}).alerts(Outcome.DENY)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"thresholds": {"review": 50, "challenge": 40}}, "review <= challenge <= deny"),
        ({"mode": "yolo"}, "mode"),
        ({"default_challenge": "retina"}, "unknown challenge"),
    ],
)
def test_bad_policy_is_refused(body: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_policy({"policy": body})


def test_recommendations_always_alert() -> None:
    assert load_policy({"policy": {"alert_at": "never"}}).alerts(Outcome.ALLOW, recommended=True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"thresholds": {"deny": float("nan")}}, "$.thresholds.deny"),
        ({"thresholds": {"review": float("-inf")}}, "$.thresholds.review"),
        ({"model": {"weight": float("inf")}}, "$.model.weight"),
        ({"model": {"deny": float("nan")}}, "$.model.deny"),
    ],
)
def test_thresholds_and_weights_must_be_finite(body: dict[str, object], field: str) -> None:
    # A NaN threshold is never reached; an infinite weight makes every total infinite.
    with pytest.raises(ConfigError, match=field.replace("$", r"\$")):
        load_policy({"policy": body})
