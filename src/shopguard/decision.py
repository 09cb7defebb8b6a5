"""The decision: one outcome with its reasons, the values behind them, and a trace."""

from __future__ import annotations

import math
from typing import Any

import msgspec

from shopguard.outcome import Outcome

MAX_REASON = 1000  # characters of one reason's text: a longer one is cut, never stored whole


class Reason(msgspec.Struct, omit_defaults=True):
    """Why a rule (or list) weighed in: ``code`` is stable across releases, for callers."""

    rule: str
    code: str
    action: str
    score: float
    reason: str
    tags: list[str] = []

    def __post_init__(self) -> None:
        # No rule, list entry or model may make a decision unreadable: JSON has no NaN or
        # infinity (they would be stored as null), and a reason is shown, not archived.
        if not math.isfinite(self.score):
            self.score = 0.0
        if len(self.reason) > MAX_REASON:
            self.reason = self.reason[: MAX_REASON - 1] + "…"


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

    def __post_init__(self) -> None:
        if not math.isfinite(self.score):  # see Reason: stored as null, it could not be read
            self.trace = [*self.trace, f"score {self.score} was not finite: kept as 0"]
            self.score = 0.0
        if self.model_score is not None and not math.isfinite(self.model_score):
            self.model_score = None
        if self.challenger_score is not None and not math.isfinite(self.challenger_score):
            self.challenger_score = None

    @property
    def verdict(self) -> Outcome:
        return Outcome[self.outcome.upper()]


class _DecisionDecoder:
    """Stored decisions. One written before scores were checked (``"score": null`` where
    a rule scored NaN) is read with the missing numbers as 0 and a note in its trace,
    not refused: an unreadable decision would fail every search that meets it."""

    _strict = msgspec.json.Decoder(Decision)

    def decode(self, raw: bytes | str) -> Decision:
        try:
            return self._strict.decode(raw)
        except msgspec.ValidationError:
            fields = msgspec.json.decode(raw)
            if not isinstance(fields, dict):
                raise
            return msgspec.convert(_repaired(fields), Decision)


def _repaired(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    if out.get("score") is None:
        out["score"] = 0.0
        out["trace"] = [*(out.get("trace") or []), "score was stored as null: read as 0"]
    for name in ("reasons", "shadow"):
        reasons = out.get(name)
        if isinstance(reasons, list):
            out[name] = [
                {**r, "score": 0.0} if isinstance(r, dict) and r.get("score") is None else r
                for r in reasons
            ]
    return out


decision_encoder = msgspec.json.Encoder()
decision_decoder = _DecisionDecoder()
