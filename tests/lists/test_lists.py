from __future__ import annotations

from shopguard.lists.store import AddEntry, ListEntry, ListStore, RemoveEntry
from tests.conftest import event, make_engine


def _entry(list_name: str, value: str, expires: float | None, source: str = "rule") -> AddEntry:
    return AddEntry(ListEntry(list_name, "device", value, expires, "why", source, 0.0))  # type: ignore[arg-type]


def test_entries_expire_at_now_and_can_be_removed() -> None:
    store = ListStore()
    store.apply(_entry("deny", "d1", expires=100.0))
    facts = {"tenant": "t", "device": "d1"}
    assert [e.value for e in store.check(facts, 99.0)] == ["d1"]
    assert store.check(facts, 100.0) == []
    assert len(store) == 1  # skipped when met, not dropped: one event's time drops nothing
    assert [e.value for e in store.check(facts, 99.0)] == ["d1"]
    assert store.expire(100.0) == 1
    store.apply(_entry("watch", "d2", expires=None))
    store.apply(RemoveEntry("watch", "device", "d2"))
    assert len(store) == 0  # d1 expired and was swept; d2 was removed


def test_expire_per_tenant_goes_by_each_tenants_own_time() -> None:
    store = ListStore()
    for tenant in ("a", "b", ""):
        entry = ListEntry("deny", "device", "d", 100.0, "why", "rule", 0.0, tenant)
        store.apply(AddEntry(entry))
    assert store.expire({"a": 500.0, "b": 50.0}) == 1  # a's; b's and the shared one live
    assert {e.tenant for e in store.entries()} == {"b", ""}
    assert store.expire({"a": 500.0, "b": 150.0}) == 2


def test_allow_sorts_before_deny_and_watch() -> None:
    store = ListStore()
    for name in ("watch", "deny", "allow"):
        store.apply(_entry(name, "d", None))
    assert [e.list for e in store.check({"tenant": "t", "device": "d"}, 0.0)] == [
        "allow",
        "deny",
        "watch",
    ]


def test_allow_entry_short_circuits_to_allow() -> None:
    engine = make_engine()
    engine.list_add("allow", "account", "vip", tenant="shop", reason="staff test account")
    decision = engine.decide(
        event("account.register", "r1", account="vip", user_agent="python-requests/2")
    )
    assert decision.outcome == "allow"
    assert [r.code for r in decision.reasons] == ["LIST_ALLOW"]


def test_deny_entry_added_through_api_by_raw_value() -> None:
    engine = make_engine()
    engine.list_add("deny", "phone", "13812345678", tenant="shop", reason="chargebacks")
    decision = engine.decide(event("sms.send", "s1", phone="+86 138 1234 5678"))
    assert decision.outcome == "deny" and decision.reasons[0].code == "LIST_DENY"


def test_rule_list_effect_escalates_for_repeat_offenders() -> None:
    engine = make_engine()
    day = 86400
    for round_, start in enumerate((0, 2 * day, 20 * day)):
        for i in range(4):
            engine.decide(
                event(
                    "account.register",
                    f"r{round_}-{i}",
                    start + i,
                    account=f"a{round_}-{i}",
                    device={"id": "farm"},
                )
            )
    entries = sorted(engine.lists.entries(), key=lambda e: e.added)
    durations = [round((e.expires or 0) - e.added) for e in entries if e.kind == "device"]
    # One entry per (list, entity): each re-listing replaces it with a longer TTL.
    assert durations == [30 * day]
    device = entries[0].value
    assert engine.lists.strikes("deny", "device", device, "shop") == 3


def test_a_tenants_entries_do_not_touch_another_tenant() -> None:
    engine = make_engine()
    engine.list_add("deny", "campaign", "spring", tenant="shop", reason="abused")
    engine.list_add("deny", "merchant", "m-bad", reason="shared: every tenant")
    mine = engine.decide(event("promo.claim", "c1", campaign="spring", account="a1"))
    theirs = engine.decide(
        event("promo.claim", "c2", campaign="spring", tenant="other", account="b1")
    )
    assert mine.outcome == "deny" and theirs.outcome != "deny"
    shared = engine.decide(
        event("order.create", "o1", order_id="o1", amount=5, tenant="other", merchant="m-bad")
    )
    assert shared.outcome == "deny"
    assert {e.value for e in engine.lists.entries(tenant="other")} == {"m-bad"}
    assert not engine.list_remove("deny", "campaign", "spring", tenant="other")
    assert engine.list_remove("deny", "campaign", "spring", tenant="shop")


def test_strikes_belong_to_one_tenant() -> None:
    store = ListStore()
    for _ in range(3):
        entry = ListEntry("deny", "coupon", "C1", 100.0, "why", "coupon_reused", 0.0, "b")
        store.apply(AddEntry(entry))
    assert store.strikes("deny", "coupon", "C1", "b") == 3
    assert store.strikes("deny", "coupon", "C1", "a") == 0  # a's first offence stays short


def test_only_rules_strike() -> None:
    """An operator's entries (api, api:<key id>, console:<user>, config) are not offences
    to escalate."""
    store = ListStore()
    for source in ("api", "api:k7", "console:ana", "config", "reg_device_farm"):
        store.apply(AddEntry(ListEntry("deny", "device", "d", None, "why", source, 0.0, "t")))
    assert store.strikes("deny", "device", "d", "t") == 1
