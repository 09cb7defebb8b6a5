"""Label features see a confirmed case only from when it became known: recomputed from
scratch, a feature that counted a label before its time (leakage) fails this test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shopguard import Engine
from shopguard.errors import InvalidEvent
from shopguard.replay.labels import with_delayed_labels
from tests.conftest import TEST_KEYS

DAY = 86400.0
START = datetime(2018, 7, 1, tzinfo=UTC)


def _payments() -> list[tuple[dict[str, object], dict[str, str]]]:
    out = []
    for i in range(400):
        at = i * DAY / 6 + (i * 7919 % 8600) + 0.5  # six a day, never on a window's edge
        terminal = f"T{i % 3}"
        fraud = (terminal == "T0" and 150 <= i < 190) or i % 97 == 0
        event = {
            "type": "payment",
            "event_id": f"p{i}",
            "tenant": "fdh",
            "time": START + timedelta(seconds=at),
            "account": f"C{i % 11}",
            "terminal": terminal,
            "amount": 10.0 + i % 50,
        }
        out.append((event, {"TX_FRAUD": "1" if fraud else "0"}))
    return out


def _engine() -> Engine:
    return Engine.from_config(pack="cards", keys=TEST_KEYS, decision_log="memory", explain=True)


def _mismatches(fed_after: float, known_after: float) -> tuple[int, int]:
    """Feed labels ``fed_after`` each fraud; recompute, from scratch, what a feature that
    sees them only ``known_after`` each fraud must say. (mismatches, payments with labels)"""
    payments = _payments()
    engine = _engine()
    decided = {}
    for event, _ in with_delayed_labels(payments, "TX_FRAUD", fed_after):
        decision = engine.decide(event)
        decided[decision.event_id] = decision
    frauds = [
        (e["terminal"], e["time"].timestamp() + known_after)  # type: ignore[union-attr]
        for e, tags in payments
        if tags["TX_FRAUD"] == "1"
    ]
    wrong = seen = 0
    for event, _ in payments:
        t = event["time"].timestamp()  # type: ignore[union-attr]
        known = [k for term, k in frauds if term == event["terminal"] and t - 30 * DAY < k < t]
        features = decided[str(event["event_id"])].features
        wrong += features["terminal_fraud_labels_30d"] != len(known)
        seen += bool(known)
    return wrong, seen


def test_a_terminals_fraud_labels_count_only_once_known() -> None:
    wrong, seen = _mismatches(fed_after=7 * DAY, known_after=7 * DAY)
    assert wrong == 0 and seen > 50
    # The check catches leakage: labels fed at the fraud's own time disagree with it.
    leaked, _ = _mismatches(fed_after=0.0, known_after=7 * DAY)
    assert leaked > 50


def test_a_label_dated_in_the_future_is_refused() -> None:
    engine = Engine.from_config(
        pack="cards", keys=TEST_KEYS, decision_log="memory", clock=lambda: START.timestamp()
    )
    future = START + timedelta(days=1)
    label = {"type": "case.label", "event_id": "l1", "tenant": "fdh", "time": future}
    with pytest.raises(InvalidEvent) as refused:
        engine.decide({**label, "verdict": "fraud", "terminal": "T0"})
    assert refused.value.path == "$.time"
    fine = {**label, "event_id": "ok", "time": START, "verdict": "fraud"}
    with pytest.raises(InvalidEvent) as batch:
        engine.decide_many([fine, {**label, "verdict": "fraud"}])
    assert batch.value.path == "$[1].time"
    assert engine.log.last_seq() == 0  # nothing of the batch applied


def test_delayed_labels_name_only_the_labelled_types() -> None:
    """A source row becomes a sign-up and a purchase sharing one label: a case about the
    sign-up, known a week after it, would reach a purchase made weeks later before that
    purchase happened (leakage). Only the types a model learns about get cases."""
    signup = {"type": "account.register", "event_id": "r1", "tenant": "t", "account": "u1"}
    purchase = {"type": "payment", "event_id": "p1", "tenant": "t", "account": "u1"}
    pairs = [
        ({**signup, "time": START}, {"class": "1"}),
        ({**purchase, "time": START + timedelta(days=30), "amount": 9.0}, {"class": "1"}),
    ]
    both = [e["type"] for e, _ in with_delayed_labels(pairs, "class", 7 * DAY)]
    assert both == ["account.register", "case.label", "payment", "case.label"]
    cases = list(with_delayed_labels(pairs, "class", 7 * DAY, {"payment"}))
    labels = [e for e, _ in cases if e["type"] == "case.label"]
    assert [c["labelled_event"] for c in labels] == ["p1"]
    assert labels[0]["time"] == START + timedelta(days=37)
