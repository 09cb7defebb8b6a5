"""Merchant health: the SQLite journal's SQL against the Python recomputation, and the
engine's label API end to end (pseudonymized entities, the latest label wins, known_by)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopguard.errors import InvalidLabel
from shopguard.labels import Label, event_money
from shopguard.state.memory import MemoryDecisionLog
from shopguard.state.protocol import LogRecord
from shopguard.state.sqlite import SqliteDecisionLog
from tests.conftest import event, make_engine

T0 = datetime(2025, 3, 1, 10, tzinfo=UTC).timestamp()
TYPES = ("payment", "order.create", "promo.redeem", "cabinet.session", "refund")


def _record(
    seq: int,
    tenant: str,
    merchant: str | None,
    at: float,
    kind: str,
    outcome: int,
    amount: float,
    success: bool,
) -> LogRecord:
    facts: dict[str, Any] = {"amount": amount, "success": success}
    if kind == "promo.redeem":
        facts["discount"] = round(amount / 4, 2)
    if merchant is not None:
        facts["merchant"] = merchant
    return LogRecord(seq, tenant, f"e{seq}", T0 + at, kind, outcome, facts, None)


records = st.lists(
    st.tuples(
        st.sampled_from(("t1", "t2")),
        st.sampled_from(("m1", "m2", "m3", None)),
        st.floats(0, 86400),
        st.sampled_from(TYPES),
        st.integers(0, 3),
        st.floats(0, 1000).map(lambda x: round(x, 2)),
        st.booleans(),
    ),
    max_size=40,
)
labels = st.lists(
    st.tuples(
        st.integers(1, 45),  # event seq (some not logged)
        st.sampled_from(("fraud", "chargeback", "theft", "legit")),
        st.floats(0, 2 * 86400),
        st.floats(0, 500).map(lambda x: round(x, 2)),
        st.sampled_from((None, "m2", "m9")),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(
    records,
    labels,
    st.floats(0, 43200),
    st.floats(43200, 2 * 86400),
    st.one_of(st.none(), st.floats(0, 2 * 86400)),
)
def test_sqlite_health_equals_the_recomputation(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[Any, ...]],
    cases: list[tuple[Any, ...]],
    since: float,
    until: float,
    known_by: float | None,
) -> None:
    sqlite = SqliteDecisionLog(tmp_path_factory.mktemp("h") / "d.db")
    memory = MemoryDecisionLog()
    for seq, row in enumerate(rows, 1):
        record = _record(seq, *row)
        sqlite.append(record)
        memory.append(record)
    sqlite.commit()
    for seq, kind, known, loss, merchant in cases:
        label = Label(
            tenant="t1",
            kind=kind,
            known_at=T0 + known,
            event_id=f"e{seq}",
            loss=loss,
            merchant=merchant,
        )
        sqlite.add_label(label)
        memory.add_label(label)
    args = ("t1", T0 + since, T0 + until, None if known_by is None else T0 + known_by)
    got, want = sqlite.merchant_health(*args), memory.merchant_health(*args)
    assert [h.merchant for h in got] == [h.merchant for h in want]
    for a, b in zip(got, want, strict=True):
        assert a.decided == b.decided and a.denied == b.denied and a.loss_cases == b.loss_cases
        assert a.gross_value == pytest.approx(b.gross_value, abs=0.02)
        assert a.blocked_value == pytest.approx(b.blocked_value, abs=0.02)
        assert a.confirmed_loss == pytest.approx(b.confirmed_loss, abs=0.02)
    sqlite.close()


def test_money_of_an_event() -> None:
    assert event_money("payment", {"amount": 80.0}) == (80.0, 80.0)
    assert event_money("payment", {"amount": 80.0, "success": False}) == (0.0, 80.0)
    assert event_money("promo.redeem", {"amount": 80.0, "discount": 20.0}) == (0.0, 20.0)
    owed = {"amount": 4.5, "unbilled_value": 9.0}
    assert event_money("cabinet.session", owed) == (4.5, 13.5)


def test_engine_labels_and_merchant_health(tmp_path: Path) -> None:
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path))
    for i in range(10):  # ten payments of 100 at m1; the last two come from one card burst
        engine.decide(
            event(
                "payment",
                f"p{i}",
                i * 60.0,
                account=f"a{i}",
                merchant="m1",
                amount=100.0,
                card="6222020000001111",
                order_id=f"o{i}",
            )
        )
    health = {h.merchant: h for h in engine.merchant_health("shop")}["m1"]
    assert health.decided == 10 and health.gross_value > 0 and health.confirmed_loss == 0
    blocked = health.challenged + health.denied
    assert health.blocked_value == 100.0 * blocked  # the card rule blocked the later ones

    engine.label(
        {
            "tenant": "shop",
            "kind": "chargeback",
            "event_id": "p0",
            "loss": 100.0,
            "known_at": T0 + 86400,
        }
    )
    engine.label(
        {"tenant": "shop", "kind": "fraud", "event_id": "p1", "loss": 100.0, "known_at": T0 + 86400}
    )
    engine.label({"tenant": "shop", "kind": "legit", "event_id": "p1", "known_at": T0 + 2 * 86400})
    engine.label(
        {
            "tenant": "shop",
            "kind": "theft",
            "entity_kind": "phone",
            "entity": "13812345678",
            "merchant": "m1",
            "loss": 30.0,
            "known_at": T0 + 60,
        }
    )
    now = engine.merchant_health("shop")[0]
    assert now.confirmed_loss == 130.0 and now.loss_cases == 2  # p1 was cleared later
    assert now.loss_rate == pytest.approx(130.0 / now.gross_value)
    then = engine.merchant_health("shop", known_by=T0 + 86400)[0]
    assert then.confirmed_loss == 230.0  # before the analyst cleared p1
    assert engine.merchant_health("other-tenant") == []
    stored = list(engine.log.labels("shop"))
    assert stored[-1].entity is not None and stored[-1].entity.startswith("k1.")
    engine.close()
    assert b"13812345678" not in (tmp_path / "decisions.db").read_bytes()


def test_bad_labels_name_the_field() -> None:
    engine = make_engine()
    with pytest.raises(InvalidLabel) as bad_kind:
        engine.label({"tenant": "shop", "kind": "stolen", "event_id": "x"})
    assert bad_kind.value.path == "$.kind"
    with pytest.raises(InvalidLabel) as negative:
        engine.label({"tenant": "shop", "kind": "fraud", "event_id": "x", "loss": -5})
    assert negative.value.path == "$.loss"
    with pytest.raises(InvalidLabel, match="event_id or an entity"):
        engine.label({"tenant": "shop", "kind": "fraud"})
    with pytest.raises(InvalidLabel, match="entity kind"):
        engine.label({"tenant": "shop", "kind": "fraud", "entity_kind": "aura", "entity": "x"})
