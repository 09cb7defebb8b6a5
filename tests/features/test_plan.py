"""The plan's general tools for population signals, each checked against a from-scratch
recomputation over the raw events: keys on string facts (the tenant, a country), a
``where`` reading features as of before the event, field expressions, ratios of ratios,
``then`` lists; and the refusals at load."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopguard.errors import ConfigError
from shopguard.events.catalog import EVENT_TYPES
from shopguard.features.plan import FeaturePlan
from shopguard.features.spec import FeatureSpec
from shopguard.state.memory import MemoryStateStore
from tests.conftest import event, make_engine

Facts = dict[str, Any]
NEW_IP = "ip_version > 0 and coalesce(ip_known_for, -1) < 0"


def values_over(specs: list[FeatureSpec], events: list[Facts]) -> list[Facts]:
    """Each event's feature values, as of before it, through the generated reads."""
    plan = FeaturePlan(specs)
    plans = plan.compile({t: set(plan.specs) for t in EVENT_TYPES})
    store = MemoryStateStore()
    store.layout(plan.widths)
    out = []
    for facts in events:
        type_plan = plans[facts["type"]]
        values, touched = type_plan.read(facts, store.load)
        store.save(facts["tenant"], type_plan.apply(facts, touched))
        out.append(values)
    return out


steps = st.lists(st.sampled_from([0, 1, 60, 299, 300, 301, 900]), min_size=1, max_size=60)
who = st.tuples(
    st.sampled_from(["sms.send", "http.request"]),
    st.sampled_from(["a", "b"]),  # tenants
    st.sampled_from([None, "ip1", "ip2", "ip3", "ip4"]),
)


@given(steps, st.data())
def test_a_population_count_of_requests_from_never_seen_ips(
    deltas: list[int], data: st.DataObject
) -> None:
    specs = [
        FeatureSpec("ip_known_for", "first_seen", ["ip"], ["sms.send", "http.request"]),
        FeatureSpec("sms_new_ips", "count", ["tenant"], ["sms.send"], "300s", where=NEW_IP),
        FeatureSpec("sms_all", "count", ["tenant"], ["sms.send"], "300s"),
    ]
    kinds = data.draw(st.lists(who, min_size=len(deltas), max_size=len(deltas)))
    events, t = [], 0
    for delta, (type_, tenant, ip) in zip(deltas, kinds, strict=True):
        t += delta
        facts: Facts = {"type": type_, "tenant": tenant, "time": float(t)}
        if ip is not None:
            facts.update(ip=ip, ip_version=4)
        events.append(facts)
    got = values_over(specs, events)
    for i, facts in enumerate(events):
        if facts["type"] != "sms.send":
            continue
        t, tenant = facts["time"], facts["tenant"]

        def new_ip(j: int) -> bool:  # was event j's IP never seen before it, in its tenant?
            ip = events[j].get("ip")
            same = events[j]["tenant"]
            return ip is not None and all(
                e.get("ip") != ip for e in events[:j] if e["tenant"] == same
            )

        earlier = [
            j
            for j in range(i)
            if events[j]["type"] == "sms.send"
            and events[j]["tenant"] == tenant
            and t - 300 < events[j]["time"] <= t
        ]
        assert got[i]["sms_new_ips"] == sum(new_ip(j) for j in earlier), i
        assert got[i]["sms_all"] == len(earlier)


redeems = st.lists(
    st.tuples(
        st.sampled_from([0, 1, 30, 59, 60, 61]),
        st.sampled_from(["c1", "c2"]),
        st.sampled_from([0.0, 10.0, 50.0, 100.0]),
        st.sampled_from([0.0, 0.25, 0.5, 1.0]),  # discount as a share of the amount
    ),
    min_size=1,
    max_size=50,
)


@given(redeems)
def test_a_mean_of_an_expression_and_a_ratio_of_ratios(rows: list[Any]) -> None:
    specs = [
        FeatureSpec(
            "share_mean",
            "mean",
            ["campaign"],
            ["promo.redeem"],
            "60s",
            field="discount / amount",
        ),
        FeatureSpec("share", "ratio", num="discount", den="amount"),
        FeatureSpec("relative_share", "ratio", num="share", den="share_mean"),
    ]
    events, t = [], 0
    for delta, campaign, amount, share in rows:
        t += delta
        facts = {"type": "promo.redeem", "tenant": "a", "time": float(t), "campaign": campaign}
        events.append({**facts, "amount": amount, "discount": amount * share})
    got = values_over(specs, events)
    for i, facts in enumerate(events):
        t, amount = facts["time"], facts["amount"]
        shares = [  # a zero amount has no share: it adds nothing to the mean
            e["discount"] / e["amount"]
            for e in events[:i]
            if e["campaign"] == facts["campaign"] and t - 60 < e["time"] <= t and e["amount"]
        ]
        mean = sum(shares) / len(shares) if shares else None
        assert got[i]["share_mean"] == pytest.approx(mean)
        share = facts["discount"] / amount if amount else None
        assert got[i]["share"] == share
        want = None if share is None or not mean else share / mean
        assert got[i]["relative_share"] == pytest.approx(want)


def test_any_event_type_of_a_then_list_settles() -> None:
    spec = FeatureSpec(
        "unused",
        "not_followed_by",
        ["ip"],
        window="1h",
        first="sms.send",
        then=["sms.verify", "account.register"],
        within="60s",
    )
    sends = [{"type": "sms.send", "tenant": "a", "ip": ip, "time": 0.0} for ip in "xyz"]
    after = [
        {"type": "sms.verify", "tenant": "a", "ip": "x", "time": 10.0},
        {"type": "account.register", "tenant": "a", "ip": "y", "time": 10.0},
        {"type": "account.login", "tenant": "a", "ip": "z", "time": 10.0},  # not in the list
    ]
    probes = [{"type": "sms.send", "tenant": "a", "ip": ip, "time": 100.0} for ip in "xyz"]
    got = values_over([spec], [*sends, *after, *probes])
    assert [v["unused"] for v in got[-3:]] == [0, 0, 1]


def test_a_country_is_a_key() -> None:
    spec = FeatureSpec("country_sms", "count", ["phone_country"], ["sms.send"], "1h")
    events = [
        {"type": "sms.send", "tenant": "a", "time": float(i), "phone_country": c}
        for i, c in enumerate(["GB", "GB", "CN", "GB", None])
    ]
    assert [v["country_sms"] for v in values_over([spec], events)] == [0, 1, 0, 2, None]


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([FeatureSpec("x", "count", ["event_id"], ["sms.send"], "1h")], "unknown key entity"),
        (
            [
                FeatureSpec("r", "ratio", num="amount", den="amount"),
                FeatureSpec("x", "count", ["tenant"], ["payment"], "1h", where="r > 1"),
            ],
            "`where` reads 'r'",
        ),
        (
            [
                FeatureSpec("n", "count", ["ip"], ["payment"], "1h", where="amount > 0"),
                FeatureSpec("m", "count", ["tenant"], ["payment"], "1h", where="n > 1"),
                FeatureSpec("x", "count", ["tenant"], ["payment"], "1h", where="m > 1"),
            ],
            "`where` reads 'm'",
        ),
        (
            [
                FeatureSpec("a", "ratio", num="amount", den="b"),
                FeatureSpec("b", "ratio", num="amount", den="a"),
            ],
            "a ratio made of itself",
        ),
        (
            [FeatureSpec("x", "sum", ["ip"], ["payment"], "1h", field="currency")],
            "not a numeric fact",
        ),
    ],
)
def test_refused_at_load(specs: list[FeatureSpec], message: str) -> None:
    for spec in specs:
        spec.validate()
    with pytest.raises(ConfigError, match=message):
        FeaturePlan(specs)


def test_explain_lists_every_population_feature() -> None:
    engine = make_engine(pack="retail", explain=True)
    decision = engine.decide(
        event("sms.send", "s1", 0, phone="+447700900123", ip="203.0.113.9", account="a1")
    )
    features = decision.features
    assert features["country_sms_1h"] == 0 and features["sms_new_ips_10m"] == 0
    assert "ip_sms_unverified_share_1h" in features and "account_dormant_before" in features
    later = engine.decide(
        event("sms.send", "s2", 5, phone="+447700900124", ip="203.0.113.10", account="a2")
    )
    assert later.features["country_sms_1h"] == 1 and later.features["sms_new_ips_10m"] == 1
    assert later.features["sms_new_ip_share_10m"] == 1.0
    redeem = engine.decide(
        event("promo.redeem", "p1", 9, campaign="c", amount=10.0, discount=9.0, account="a1")
    )
    assert math.isclose(redeem.features["redeem_discount_share"], 0.9)
    assert redeem.features["merchant_near_free_orders_1h"] is None  # no merchant
