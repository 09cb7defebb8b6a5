"""Which messages reach which endpoints: kinds, filters, tenants; recommendations and
list changes as their own message types; and nothing raw in any payload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from shopguard.config import load_pack
from shopguard.webhooks.endpoints import Filters
from tests.conftest import event
from tests.webhooks.conftest import Bench

URL = "https://partner.example/hooks"
BUDGETED = Path(__file__).parents[1] / "scenarios" / "packs" / "budgeted"


def _sent(bench: Bench, endpoint: str) -> list[dict[str, Any]]:
    """The payloads staged for one endpoint, oldest first."""
    found = bench.store.deliveries("shop", endpoint) + bench.store.deliveries("rival", endpoint)
    return [d.payload for d in sorted(found, key=lambda d: d.id)]


def test_filters_pick_by_outcome_tag_merchant_and_event_type(bench: Bench) -> None:
    every, _ = bench.endpoint(URL)
    denies, _ = bench.endpoint(URL, filters=Filters(outcomes=["deny"]))
    reviews, _ = bench.endpoint(URL, filters=Filters(outcomes=["review"]))
    bots, _ = bench.endpoint(URL, filters=Filters(tags=["bot"]))
    other_tag, _ = bench.endpoint(URL, filters=Filters(tags=["card_testing"]))
    m1, _ = bench.endpoint(URL, filters=Filters(merchants=["m1"]))
    logins, _ = bench.endpoint(URL, filters=Filters(event_types=["account.login"]))
    bench.alert("r1")
    bench.alert("r2", merchant="m1")
    bench.worker().fan_out()
    tags = _sent(bench, every.id)[0]["data"]["tags"]
    assert "bot" in tags, tags  # the starter pack's scripted-client rule
    assert [p["data"]["event_id"] for p in _sent(bench, every.id)] == ["r1", "r2"]
    assert len(_sent(bench, denies.id)) == 2 and _sent(bench, reviews.id) == []
    assert len(_sent(bench, bots.id)) == 2 and _sent(bench, other_tag.id) == []
    assert [p["data"]["event_id"] for p in _sent(bench, m1.id)] == ["r2"]
    assert _sent(bench, logins.id) == []


def test_a_tenants_messages_go_to_its_own_endpoints_only(bench: Bench) -> None:
    shop, _ = bench.endpoint(URL, kinds=["alerts", "list_changes"])
    rival, _ = bench.endpoint(URL, tenant="rival", kinds=["alerts", "list_changes"])
    bench.alert("s1")
    bench.alert("v1", tenant="rival")
    bench.engine.list_add("deny", "phone", "13812345678", tenant="shop")
    bench.worker().fan_out()
    assert {d.endpoint for d in bench.store.deliveries("shop")} == {shop.id}
    assert {d.endpoint for d in bench.store.deliveries("rival")} == {rival.id}
    assert {p["data"]["tenant"] for p in _sent(bench, shop.id)} == {"shop"}
    assert [p["data"].get("event_id") for p in _sent(bench, shop.id)] == ["s1", None]
    assert [p["data"]["event_id"] for p in _sent(bench, rival.id)] == ["v1"]
    assert bench.store.deliveries("rival", shop.id) == []
    assert bench.store.endpoint("rival", shop.id) is None


def test_list_changes_go_to_subscribers_of_that_list_and_kind(bench: Bench) -> None:
    lists, _ = bench.endpoint(URL, kinds=["list_changes"])
    phones, _ = bench.endpoint(URL, kinds=["list_changes"], filters=Filters(list_kinds=["phone"]))
    watch, _ = bench.endpoint(URL, kinds=["list_changes"], filters=Filters(lists=["watch"]))
    alerts_only, _ = bench.endpoint(URL)
    entry = bench.engine.list_add("deny", "phone", "13812345678", tenant="shop", reason="x")
    bench.engine.list_add("deny", "device", "d-1", tenant="shop")
    bench.engine.list_add("deny", "device", "shared-1")  # every tenant's: no one tenant's news
    assert bench.engine.list_remove("deny", "phone", entry.value, tenant="shop")
    bench.worker().fan_out()
    sent = _sent(bench, lists.id)
    assert [p["type"] for p in sent] == ["list.entry_added"] * 2 + ["list.entry_removed"]
    added = sent[0]["data"]
    assert added["value"] == entry.value and added["source"] == "api" and "reason" not in added
    assert [p["data"]["kind"] for p in _sent(bench, phones.id)] == ["phone", "phone"]
    assert _sent(bench, watch.id) == [] and _sent(bench, alerts_only.id) == []


def test_recommendations_are_their_own_message_type(tmp_path: Path) -> None:
    bench = Bench(tmp_path, pack=load_pack(str(BUDGETED)))
    try:
        campaign, _ = bench.endpoint(URL, kinds=["recommendations"])
        alerts, _ = bench.endpoint(URL)
        for i in range(10):  # a sixth of the day's budget within the hour: burn (allow)
            sent = event("promo.redeem", f"p{i}", i * 60.0, account=f"b-{i}", campaign="spring",
                         amount=60, discount=10)  # fmt: skip
            bench.engine.decide(sent)
        last = event("promo.redeem", "px", 600.0, account="b-x", campaign="spring", amount=60,
                     discount=10)  # fmt: skip
        assert bench.engine.decide(last).recommendations == ["pause_campaign"]
        bench.worker().fan_out()
        [message] = [p for p in _sent(bench, campaign.id) if p["data"]["event_id"] == "px"]
        assert message["type"] == "recommendation.pause_campaign"
        data = message["data"]
        assert data["campaign"] == "spring" and data["recommendation"] == "pause_campaign"
        assert data["outcome"] == "allow" and "CAMPAIGN_BUDGET_BURN" in data["codes"]
        assert _sent(bench, alerts.id) == []  # an allow is under the alert floor (deny)
    finally:
        bench.close()


RAW: dict[str, Any] = {
    "phone": "13812345678",
    "email": "li.lei@example.com",
    "ip": "203.0.113.77",
    "account": "lilei-1988",
    "device": {"id": "DEVICE-RAW-42", "model": "SM-G9910", "os": "android"},
    "address": "88 Jianguo Road, Chaoyang, Beijing",
}


def test_payloads_carry_masks_and_pseudonyms_never_raw_values(bench: Bench) -> None:
    every, _ = bench.endpoint(URL, kinds=["alerts", "list_changes"])
    fields = {k: v for k, v in RAW.items() if k != "account"}
    bench.alert("pii", account=RAW["account"], **fields)
    bench.engine.list_add("deny", "phone", RAW["phone"], tenant="shop", reason=RAW["email"])
    bench.engine.list_add("watch", "email", RAW["email"], tenant="shop")
    bench.worker().fan_out()
    bodies = b"".join(msgspec.json.encode(p) for p in _sent(bench, every.id))
    outbox = bench.column("outbox", "payload")
    raws = ["13812345678", "li.lei", "203.0.113.77", "lilei-1988", "DEVICE-RAW-42", "Jianguo"]
    for raw in raws:
        assert raw.encode() not in bodies and raw.encode() not in outbox, raw
    alert = _sent(bench, every.id)[0]["data"]
    assert set(alert["entities"]) >= {"phone", "email", "ip", "account", "device"}
    assert "****" in alert["display"].get("phone", "****")  # a mask, if any is shown


def test_an_erased_entity_leaves_the_outbox_and_every_delivery(bench: Bench) -> None:
    every, _ = bench.endpoint(URL, kinds=["alerts", "list_changes"])
    bench.alert("gone", phone=RAW["phone"])
    bench.alert("stays", phone="13900001111")
    bench.engine.list_add("deny", "phone", RAW["phone"], tenant="shop")
    bench.worker().fan_out()
    phone = _sent(bench, every.id)[0]["data"]["entities"]["phone"]
    assert bench.engine.erase("shop", "phone", phone)["decisions"] == 1
    outbox = bench.column("outbox", "payload")
    bodies = bench.column("webhook_deliveries", "body")
    assert phone.encode() not in outbox and phone.encode() not in bodies
    kept = [p["data"].get("event_id") for p in _sent(bench, every.id)]
    assert kept == ["gone", "stays", None]  # the messages stay, without the entity
