"""A label recorded with Engine.label about a journaled event enters the label features
from the time it became known, once, on either decision log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shopguard import Engine
from shopguard.errors import InvalidLabel
from tests.conftest import TEST_KEYS

START = datetime(2018, 7, 1, tzinfo=UTC)


def _payment(n: int, day: float, terminal: str = "T1", account: str = "C1") -> dict[str, object]:
    return {
        "type": "payment",
        "event_id": f"p{n}",
        "tenant": "shop",
        "time": START + timedelta(days=day),
        "account": account,
        "terminal": terminal,
        "card": "4111111111111111",
        "amount": 25.0,
    }


@pytest.fixture(params=["memory", "sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    return Engine.from_config(
        pack="cards",
        keys=TEST_KEYS,
        decision_log=request.param,
        data_dir=str(tmp_path),
        explain=True,
    )


def test_a_label_counts_from_when_it_became_known(engine: Engine) -> None:
    engine.decide(_payment(1, 0.0))
    before = engine.decide(_payment(2, 1.0, account="C2"))  # the case is not known yet
    known = (START + timedelta(days=2)).timestamp()
    label = engine.label({"tenant": "shop", "kind": "fraud", "event_id": "p1", "known_at": known})
    assert label.known_at == known
    after = engine.decide(_payment(3, 3.0, account="C3"))
    assert before.features["terminal_fraud_labels_30d"] == 0
    assert after.features["terminal_fraud_labels_30d"] == 1
    # the labelled customer's own history carries it too (its pseudonym, from the journal)
    assert engine.decide(_payment(4, 3.5)).features["account_fraud_labels_30d"] == 1


def test_the_same_label_twice_counts_once_and_legit_is_not_fraud(engine: Engine) -> None:
    engine.decide(_payment(1, 0.0))
    engine.decide(_payment(2, 0.1, terminal="T2", account="C2"))
    known = (START + timedelta(days=1)).timestamp()
    for _ in range(2):
        engine.label({"tenant": "shop", "kind": "chargeback", "event_id": "p1", "known_at": known})
    engine.label({"tenant": "shop", "kind": "legit", "event_id": "p2", "known_at": known})
    assert engine.decide(_payment(3, 2.0, account="C3")).features["terminal_fraud_labels_30d"] == 1
    t2 = engine.decide(_payment(4, 2.0, terminal="T2", account="C4"))
    assert t2.features["terminal_fraud_labels_30d"] == 0


def test_a_label_about_an_unknown_event_is_stored_only(engine: Engine) -> None:
    engine.label({"tenant": "shop", "kind": "fraud", "event_id": "never-decided"})
    assert engine.log.last_seq() == 0  # nothing decided, nothing fed back
    assert len(list(engine.log.labels("shop"))) == 1


def test_a_label_about_an_entity_counts_for_that_entity(engine: Engine) -> None:
    engine.decide(_payment(1, 0.0))
    known = (START + timedelta(days=1)).timestamp()
    case = {"tenant": "shop", "kind": "fraud", "entity_kind": "terminal", "entity": "T1"}
    for _ in range(2):
        engine.label({**case, "known_at": known})
    seen = engine.decide(_payment(2, 2.0, account="C2")).features
    assert seen["terminal_fraud_labels_30d"] == 1 and seen["account_fraud_labels_30d"] == 0


def test_a_label_from_the_future_is_refused(engine: Engine) -> None:
    engine.decide(_payment(1, 0.0))
    with pytest.raises(InvalidLabel) as refused:
        engine.label(
            {"tenant": "shop", "kind": "fraud", "event_id": "p1", "known_at": engine.clock() + 3600}
        )
    assert refused.value.path == "$.known_at"
    assert list(engine.log.labels("shop")) == []
