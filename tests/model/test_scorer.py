from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from shopguard.errors import ConfigError
from shopguard.model import NoScorer, make_scorer
from tests.conftest import event, make_engine


def test_registry() -> None:
    assert isinstance(make_scorer("none"), NoScorer)
    with pytest.raises(ConfigError, match="unknown scorer 'xgb'"):
        make_scorer("xgb")


class Broken:
    name = "broken"
    features = ("device_accounts_24h",)
    event_types: frozenset[str] = frozenset()  # every type

    def score(self, values: Mapping[str, Any]) -> float | None:
        raise RuntimeError("model file corrupt")


class Constant:
    name = "constant"
    features = ("device_accounts_24h",)
    event_types: frozenset[str] = frozenset()  # every type

    def score(self, values: Mapping[str, Any]) -> float | None:
        return 0.97


def test_a_failing_model_is_traced_and_the_decision_goes_on() -> None:
    engine = make_engine(scorer=Broken())
    decision = engine.decide(event("account.register", "r1", account="a", device={"id": "d"}))
    assert decision.outcome == "allow" and decision.model_score is None
    assert decision.trace == ["model broken: RuntimeError: model file corrupt"]


def test_the_score_reaches_the_decision() -> None:
    engine = make_engine(scorer=Constant())
    decision = engine.decide(event("account.register", "r1", account="a", device={"id": "d"}))
    assert decision.model_score == 0.97
