from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopguard.errors import ConfigError
from shopguard.outcome import ALLOW, Action, Outcome, combine

ACTIONS = st.sampled_from(
    [Action.parse(a) for a in ("allow", "review", "challenge:sms", "challenge:face", "deny")]
)


def test_outcomes_are_ordered() -> None:
    assert Outcome.ALLOW < Outcome.REVIEW < Outcome.CHALLENGE < Outcome.DENY


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("deny", Action(Outcome.DENY)),
        ("challenge", Action(Outcome.CHALLENGE, "captcha")),
        ("challenge:face", Action(Outcome.CHALLENGE, "face")),
        ("review", Action(Outcome.REVIEW)),
    ],
)
def test_parse(text: str, action: Action) -> None:
    assert Action.parse(text) == action


@pytest.mark.parametrize("text", ["block", "challenge:retina", "deny:now"])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(ConfigError):
        Action.parse(text)


@given(st.lists(ACTIONS))
def test_combine_is_the_strongest_and_the_first_challenge_kind(actions: list[Action]) -> None:
    combined = combine(actions)
    assert combined.outcome == max((a.outcome for a in actions), default=Outcome.ALLOW)
    if combined.outcome is Outcome.CHALLENGE:
        assert combined == next(a for a in actions if a.outcome is Outcome.CHALLENGE)
    assert combine([]) == ALLOW
