"""Tenants never share feature state, lists or dedupe: one tenant's traffic cannot change
another's decisions, even where business ids (campaign, coupon, cabinet, terminal...)
are the same strings in both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopguard import Engine
from shopguard.config import load_pack
from shopguard.decision import Decision
from tests.conftest import event, make_engine

# The retail pack, a budget for campaign `newcomer` and rules on features keyed by clear
# business ids only, so any state shared between tenants changes an outcome.
PACK = load_pack(
    "tenants",
    texts={
        "pack.yaml": "name: tenants\nextends: retail\n",
        "campaigns.yaml": "campaigns:\n  - {campaign: newcomer, daily_budget: 100}\n",
        "features.yaml": """
features:
  - {name: cabinet_unlocks_1h, kind: count, key: [cabinet], on: [cabinet.unlock], window: 1h}
  - {name: terminal_pays_1d, kind: count, key: [terminal], on: [payment], window: 1d}
  - {name: terminal_amount_1d, kind: sum, key: [terminal], on: [payment], field: amount,
     window: 1d}
  - {name: merchant_orders_1h, kind: count, key: [merchant], on: [order.create], window: 1h}
  - {name: sku_orders_1h, kind: count, key: [sku], on: [flashsale.order], window: 1h}
  - {name: order_refunds_7d, kind: count, key: [order_id], on: [refund], window: 7d}
""",
        "rules.yaml": """
rules:
  - {id: cabinet_busy, on: [cabinet.unlock], when: cabinet_unlocks_1h >= 2, action: review,
     score: 15, reason: "{cabinet_unlocks_1h} unlocks of this cabinet in 1h"}
  - {id: terminal_busy, on: [payment], when: terminal_pays_1d >= 3, action: review,
     score: 20, reason: "{terminal_pays_1d} payments, {terminal_amount_1d} at this terminal"}
  - {id: coupon_reused, on: [promo.redeem], when: coupon_redemptions_1h >= 1, action: deny,
     score: 50, reason: "coupon redeemed {coupon_redemptions_1h} times in 1h",
     list: {add: deny, entity: coupon, ttl: 30m, escalate: [2h]}}
  - {id: merchant_burst, on: [order.create], when: merchant_orders_1h >= 3,
     action: "challenge:captcha", score: 10, reason: "{merchant_orders_1h} orders in 1h"}
  - {id: sku_burst, on: [flashsale.order], when: sku_orders_1h >= 2, action: review,
     score: 5, reason: "{sku_orders_1h} orders of this sku in 1h"}
  - {id: refund_again, on: [refund], when: order_refunds_7d >= 1, action: review,
     score: 25, reason: "{order_refunds_7d} refunds of this order already"}
""",
    },
)


OWN_ENTRIES = {"a": ("coupon", "C3"), "b": ("cabinet", "K2")}


def _engine(*tenants: str, **overrides: Any) -> Engine:
    """An engine with the list entries of ``tenants``, and a shared one (tenant "")."""
    engine = make_engine(pack=PACK, **overrides)
    for tenant in tenants:
        kind, value = OWN_ENTRIES[tenant]
        engine.list_add("deny", kind, value, tenant=tenant, reason="this tenant's own")
    engine.list_add("deny", "merchant", "M3", reason="every tenant")
    return engine


def _outcome(decision: Decision) -> Any:
    """Everything a caller is told, but the latency."""
    return msgspec.structs.replace(decision, latency_us=0)


_campaign = st.sampled_from(["newcomer", "spring"])
_account = st.sampled_from(["s0", "s1", "s2", "s3"])
_fields = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("promo.redeem"),
            "campaign": _campaign,
            "coupon": st.sampled_from(["C1", "C2", "C3"]),
            "discount": st.sampled_from([10, 30, 45]),
            "amount": st.just(99),
        }
    ),
    st.fixed_dictionaries(
        {"type": st.just("cabinet.unlock"), "cabinet": st.sampled_from(["K1", "K2"])}
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("payment"),
            "terminal": st.sampled_from(["T1", "T2"]),
            "amount": st.sampled_from([5, 120, 800]),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("order.create"),
            "merchant": st.sampled_from(["M1", "M2", "M3"]),
            "order_id": st.sampled_from(["O1", "O2"]),
            "amount": st.just(50),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("refund"),
            "order_id": st.sampled_from(["O1", "O2"]),
            "amount": st.just(50),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("flashsale.order"),
            "campaign": _campaign,
            "sku": st.sampled_from(["S1", "S2"]),
        }
    ),
)
_step = st.tuples(_fields, _account, st.sampled_from([0, 20, 600, 1900, 4000, 90_000]))
_stream = st.lists(_step, min_size=1, max_size=25)


def _events(tenant: str, steps: list[tuple[dict[str, Any], str, int]]) -> list[dict[str, Any]]:
    """A tenant's stream in its own time order; event ids are alike across tenants."""
    out, at = [], 0
    for i, (fields, account, gap) in enumerate(steps):
        at += gap
        fields = {**fields, "account": account, "device": {"id": f"d-{account}"}}
        out.append(event(fields.pop("type"), f"e{i}", at, tenant=tenant, **fields))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_stream, _stream, st.data())
def test_two_tenants_interleaved_decide_as_each_alone(
    a: list[Any], b: list[Any], data: st.DataObject
) -> None:
    streams = {"a": _events("a", a), "b": _events("b", b)}
    alone = {}
    for tenant, events in streams.items():
        engine = _engine(tenant)
        alone[tenant] = [_outcome(engine.decide(e)) for e in events]
    together = _engine("a", "b")
    got: dict[str, list[Any]] = {"a": [], "b": []}
    while len(got["a"]) < len(streams["a"]) or len(got["b"]) < len(streams["b"]):
        left = [t for t in ("a", "b") if len(got[t]) < len(streams[t])]
        tenant = left[0] if len(left) == 1 else data.draw(st.sampled_from(left))
        got[tenant].append(_outcome(together.decide(streams[tenant][len(got[tenant])])))
    assert got == alone


def _redeem(tenant: str, event_id: str, at: float, shopper: str) -> dict[str, Any]:
    return event(
        "promo.redeem",
        event_id,
        at,
        tenant=tenant,
        campaign="newcomer",
        account=shopper,
        device={"id": f"phone-of-{shopper}"},
        amount=99,
        discount=30,
    )


def test_another_tenants_redemptions_do_not_spend_this_tenants_campaign(tmp_path: Path) -> None:
    """The exploit: three redemptions of `newcomer` by tenant B (90 of a 100 budget, had
    they been one tenant's) made tenant A's next shopper `deny CAMPAIGN_BUDGET_SPENT`."""
    engine = make_engine(pack=PACK, decision_log="sqlite", data_dir=str(tmp_path))
    for i in range(3):
        assert engine.decide(_redeem("b", f"r{i}", i * 60, f"b{i}")).outcome == "allow"
    engine.log.close()  # a crash: no snapshot; the restart folds the journal back
    engine = make_engine(pack=PACK, decision_log="sqlite", data_dir=str(tmp_path))
    shopper = engine.decide(_redeem("a", "r0", 300, "a0"))
    assert "CAMPAIGN_BUDGET_SPENT" not in [r.code for r in shopper.reasons]
    assert shopper.outcome == "allow"
    fourth = engine.decide(_redeem("b", "r3", 360, "b3"))  # B's own budget still holds
    assert fourth.outcome == "deny" and "CAMPAIGN_BUDGET_SPENT" in [r.code for r in fourth.reasons]
    engine.close()


def test_a_restart_rebuilds_each_tenants_own_rows(tmp_path: Path) -> None:
    """Recovery folds the journal into the same per-tenant rows, from a snapshot or not."""
    from tests.state.test_durability import state_digest

    steps = [({"type": "cabinet.unlock", "cabinet": "K1"}, f"s{i % 3}", 30) for i in range(6)]
    steps += [({"type": "payment", "terminal": "T1", "amount": 9}, "s1", 60)] * 4
    streams = [*_events("a", steps), *_events("b", steps[:5])]
    for snapshot_every in (0, 7):
        data = tmp_path / str(snapshot_every)
        engine = make_engine(
            pack=PACK, decision_log="sqlite", data_dir=str(data), snapshot_every=snapshot_every
        )
        for e in streams:
            engine.decide(e)
        before = state_digest(engine)
        assert set(engine.store._data) == {"a", "b"}  # type: ignore[attr-defined]
        engine.log.close()  # a crash: only the journal (and any snapshot) is left
        again = make_engine(pack=PACK, decision_log="sqlite", data_dir=str(data))
        assert state_digest(again) == before
        again.close()
