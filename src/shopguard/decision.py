"""The decision: one outcome with its reasons, the values behind them, and a trace."""

from __future__ import annotations

from typing import Any

import msgspec

from shopguard.outcome import Outcome


class Reason(msgspec.Struct, omit_defaults=True):
    """Why a rule (or list) weighed in: ``code`` is stable across releases, for callers."""

    rule: str
    code: str
    action: str
    score: float
    reason: str
    tags: list[str] = []


class Decision(msgspec.Struct, omit_defaults=True):
    event_id: str
    tenant: str
    type: str
    time: float
    outcome: str  # allow | review | challenge | deny
    score: float
    reasons: list[Reason]
    ruleset_version: str
    engine_version: str
    latency_us: int
    challenge: str | None = None  # captcha | sms | face ... when outcome is challenge
    shadow: list[Reason] = []  # shadow-mode rules that fired: recorded, never enforced
    simulated_outcome: str | None = None  # set in simulation mode: what enforcing would do
    challenger_outcome: str | None = None  # what a ruleset running in shadow would answer
    features: dict[str, Any] = {}  # non-PII values the fired rules read
    display: dict[str, str] = {}  # masks for analysts: 138****5678
    model_score: float | None = None
    challenger_score: float | None = None  # a challenger model's score, in shadow
    recommendations: list[str] = []  # operator actions fired rules suggest: pause_campaign
    trace: list[str] = []  # rules or models that errored and were skipped

    @property
    def verdict(self) -> Outcome:
        return Outcome[self.outcome.upper()]


decision_encoder = msgspec.json.Encoder()
decision_decoder = msgspec.json.Decoder(Decision)
