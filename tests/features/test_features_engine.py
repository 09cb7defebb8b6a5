"""Features through the engine: as-of-before semantics, live equals replay, YAML checks."""

from __future__ import annotations

import pytest

from shopguard.config import load_pack
from shopguard.errors import ConfigError
from tests.conftest import event, make_engine


def test_an_event_sees_the_state_before_itself() -> None:
    engine = make_engine(explain=True)
    first = engine.decide(event("account.register", "r1", 0, account="a1", device={"id": "d"}))
    second = engine.decide(event("account.register", "r2", 5, account="a2", device={"id": "d"}))
    assert first.features["device_accounts_24h"] == 0
    assert second.features["device_accounts_24h"] == 1


def test_live_and_replay_give_identical_features() -> None:
    events = [
        event(
            "payment",
            f"p{i}",
            i * 37.0,
            account=f"a{i % 7}",
            amount=float(i % 50),
            card=f"62220000{i % 11:08d}",
            device={"id": f"d{i % 5}"},
            success=i % 9 != 0,
        )
        for i in range(400)
    ]
    live = make_engine(explain=True)
    one_by_one = [live.decide(e) for e in events]
    batch = make_engine(explain=True).decide_many(events)
    assert [d.features for d in one_by_one] == [d.features for d in batch]
    assert [d.outcome for d in one_by_one] == [d.outcome for d in batch]


def test_unknown_key_entity_fails_at_load(tmp_path: pytest.TempPathFactory) -> None:
    texts = {
        "features.yaml": "features:\n  - {name: x, kind: count, key: [wallet], "
        "on: [payment], window: 1h}\n",
        "rules.yaml": "rules: []\n",
    }
    with pytest.raises(ConfigError, match="feature x: unknown key entity 'wallet'"):
        load_pack("inline", texts)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{name: x, kind: count, key: [account], on: [payment], window: 100d}", "between 1s"),
        ("{name: x, kind: sum, key: [account], on: [payment], window: 1h}", "needs `field`"),
        (
            "{name: x, kind: count, key: [account], on: [payment], window: 1h, where: 'amount +'}",
            "syntax error",
        ),
        ("{name: x, kind: count, key: [account], on: [teleport], window: 1h}", "teleport"),
        ("{name: X, kind: count, key: [account], on: [payment], window: 1h}", "lower_snake"),
        ("{name: x, kind: ratio, num: merchant, den: amount}", "nor a number fact"),
    ],
)
def test_bad_feature_declarations_name_the_feature(body: str, message: str) -> None:
    texts = {"features.yaml": f"features:\n  - {body}\n", "rules.yaml": "rules: []\n"}
    with pytest.raises(ConfigError, match=message):
        load_pack("inline", texts)


def test_a_ratio_may_put_a_number_fact_over_a_feature() -> None:
    from shopguard.engine import Engine

    engine = Engine.from_config(pack="cards", decision_log="memory", explain=True)
    base = {"type": "payment", "tenant": "t", "account": "c1", "terminal": "T1"}
    engine.decide({**base, "event_id": "a", "time": "2025-01-01T00:00:00Z", "amount": 10})
    second = {**base, "event_id": "b", "time": "2025-01-01T01:00:00Z", "amount": 50}
    features = engine.decide(second).features
    assert features["amount_vs_account_mean_7d"] == 5.0  # 50 against the earlier 10
    first = engine.decide(
        {**base, "event_id": "c", "account": "c2", "time": "2025-01-01T02:00:00Z", "amount": 5}
    )
    assert first.features["amount_vs_account_mean_7d"] is None  # no history: missing


def test_the_signup_pack_sees_a_ring_grow_on_one_device() -> None:
    from shopguard.engine import Engine

    engine = Engine.from_config(pack="signup", decision_log="memory", explain=True)
    seen = []
    for i, minute in enumerate((0, 3, 6)):
        base = {"tenant": "t", "account": f"u{i}", "device": {"id": "D"}, "ip": f"1.2.3.{i}"}
        at = f"2015-01-05T10:{minute:02d}:00Z"
        engine.decide({**base, "type": "account.register", "event_id": f"r{i}", "time": at})
        pay = {**base, "type": "payment", "event_id": f"p{i}", "time": at, "amount": 40 + i}
        seen.append(engine.decide(pay).features)
    # as of before each payment: the accounts signed up on the device so far, own included
    assert [f["device_accounts_90d"] for f in seen] == [1, 2, 3]
    assert [f["device_payments_90d"] for f in seen] == [0, 1, 2]
    assert seen[2]["device_since_last"] == 0.0  # its own sign-up, the same minute
    assert seen[2]["amount_vs_device_mean_90d"] == 42 / 40.5
    assert seen[0]["amount_vs_device_mean_90d"] is None  # nothing bought there before
