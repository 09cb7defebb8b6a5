"""A decision can always be stored and read back (issue 13, hole 8): JSON has no NaN or
infinity, so none may reach a stored score, and a reason is bounded."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from shopguard.decision import MAX_REASON, Decision, Reason, decision_decoder, decision_encoder
from tests.conftest import event, make_engine


class NanModel:
    """A model that answers NaN (a division by zero in its features, say)."""

    name = "nan-model"
    features = ("account_age",)
    event_types = frozenset({"sms.send"})

    def score(self, values: Mapping[str, Any]) -> float | None:
        return math.nan


def test_non_finite_scores_are_never_stored() -> None:
    reason = Reason("r", "R", "deny", math.inf, "x" * 10 * MAX_REASON)
    decision = Decision("e1", "t", "sms.send", 1.0, "deny", math.nan, [reason], "v", "e", 1)
    assert (decision.score, reason.score, len(reason.reason)) == (0.0, 0.0, MAX_REASON)
    assert decision.trace == ["score nan was not finite: kept as 0"]
    again = decision_decoder.decode(decision_encoder.encode(decision))
    assert again.score == 0.0 and again.reasons[0].score == 0.0


def test_a_model_answering_nan_leaves_a_readable_decision(tmp_path: Path) -> None:
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path), scorer=NanModel())
    decided = engine.decide(event("sms.send", "s1", phone="13800000001"))
    assert math.isfinite(decided.score) and decided.model_score is None
    found = engine.find("shop", "s1")
    assert found is not None and found.score == decided.score
    engine.close()


def test_a_decision_stored_with_null_scores_reads_as_zero() -> None:
    reason = Reason("r", "R", "deny", 60.0, "why")
    stored = msgspec.json.decode(
        decision_encoder.encode(
            Decision("e1", "t", "sms.send", 1.0, "deny", 60.0, [reason], "v", "e", 1)
        )
    )
    stored["score"] = stored["reasons"][0]["score"] = None  # what a NaN rule left behind
    read = decision_decoder.decode(msgspec.json.encode(stored))
    assert read.score == 0.0 and read.reasons[0].score == 0.0 and read.outcome == "deny"
    assert read.trace == ["score was stored as null: read as 0"]
