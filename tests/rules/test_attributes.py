"""Rules over custom attributes: an attribute is in the rule scope under its own name with
its declared type (checked at load), absent when not sent (a comparison with it is false),
and a ruleset published later reads them as the pack's own rules do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shopguard.config import load_pack
from shopguard.errors import ConfigError
from tests.conftest import event, make_engine

PACK = load_pack(Path(__file__).parents[1] / "scenarios" / "packs" / "selfcheckout")
RULE = """rules:
  - id: {id}
    on: [payment]
    when: {when}
    action: review
    score: 10
    reason: "{reason}"
"""


def _codes(rules: str, **attributes: Any) -> set[str]:
    engine = make_engine(pack=PACK)
    engine.rules = PACK.compile_rules(rules, "v-test")
    engine.plans = engine._plans()
    payment = event("payment", "p1", account="u1", terminal="t1", amount=5.0)
    if attributes:
        payment["attributes"] = attributes
    return {r.code for r in engine.decide(payment).reasons}


def test_a_rule_reads_each_attribute_type_under_its_own_name() -> None:
    rules = RULE.format(
        id="sco_mix",
        when='trust_level <= 1 and not audited and lane_type == "self_checkout"',
        reason="trust {trust_level} on {lane_type}",
    )
    assert _codes(rules, trust_level=1, audited=False, lane_type="self_checkout") == {"SCO_MIX"}
    assert _codes(rules, trust_level=2, audited=False, lane_type="self_checkout") == set()
    assert _codes(rules, trust_level=1, audited=True, lane_type="self_checkout") == set()
    assert _codes(rules, trust_level=1, audited=False, lane_type="staffed") == set()


def test_an_absent_attribute_makes_a_comparison_false() -> None:
    rules = RULE.format(id="low_trust", when="trust_level < 2", reason="trust {trust_level}")
    assert _codes(rules, trust_level=0) == {"LOW_TRUST"}
    assert _codes(rules) == set()
    assert _codes(rules, trust_level=None) == set()
    negated = RULE.format(id="not_low", when="not trust_level < 2", reason="-")
    assert _codes(negated) == {"NOT_LOW"}  # false is negated: write `trust_level >= 2`


def test_the_reason_shows_the_attribute() -> None:
    engine = make_engine(pack=PACK)
    payment = event(
        "payment",
        "p1",
        account="u1",
        terminal="t1",
        amount=5.0,
        attributes={"scans_without_registration": 4, "lane_type": "self_checkout"},
    )
    decision = engine.decide(payment)
    (skip,) = [r for r in decision.reasons if r.code == "SCO_SKIP_SCANS"]
    assert skip.reason == "4 unscanned items, not audited"
    assert decision.features["scans_without_registration"] == 4


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ('trust_level == "high"', "cannot compare num with str"),
        ("lane_type > 3", "cannot compare str with num"),
        ("audited + 1 > 2", "bool"),
        ("trust_levle < 2", "did you mean 'trust_level'"),
    ],
)
def test_an_attribute_used_against_its_type_is_refused_at_load(when: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        PACK.compile_rules(RULE.format(id="bad", when=when, reason="-"), "v")
    assert "rule bad" in str(refused.value)


def test_a_pack_without_the_attribute_refuses_a_rule_reading_it() -> None:
    retail = load_pack("retail")
    rules = RULE.format(id="low_trust", when="trust_level < 2", reason="-")
    with pytest.raises(ConfigError, match="unknown name 'trust_level'"):
        retail.compile_rules(rules, "v")
