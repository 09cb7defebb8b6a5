"""Search, lists, erasure and ruleset versions over HTTP."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.conftest import Api
from tests.api.test_decisions import _event
from tests.rules.test_versions import DENY_SMS, REVIEW_SMS


def _sms(event_id: str, phone: str = "13800000001") -> dict[str, object]:
    return {
        "type": "sms.send",
        "event_id": event_id,
        "tenant": "shop",
        "time": "2025-03-01T10:00:00Z",
        "phone": phone,
    }


def test_search_filters_and_pages(api: tuple[Api, TestClient]) -> None:
    served, client = api
    admin = served.auth(served.shop_admin)
    for i in range(5):
        client.post("/v1/decisions", json=_event(f"p{i}", account=f"u{i % 2}"), headers=admin)
    page = client.get("/v1/decisions", params={"limit": 2}, headers=admin).json()
    assert [d["event_id"] for d in page["decisions"]] == ["p4", "p3"]
    rest = client.get("/v1/decisions", params={"before": page["next_before"]}, headers=admin)
    assert [d["event_id"] for d in rest.json()["decisions"]] == ["p2", "p1", "p0"]
    by_account = client.get(
        "/v1/decisions", params={"entity": "account:u1", "raw": "true"}, headers=admin
    )
    assert [d["event_id"] for d in by_account.json()["decisions"]] == ["p3", "p1"]
    bad = client.get("/v1/decisions", params={"outcome": "maybe"}, headers=admin)
    assert bad.status_code == 400 and bad.json()["field"] == "$.query.outcome"
    late = client.get("/v1/decisions", params={"since": "2030-01-01T00:00:00Z"}, headers=admin)
    assert late.json()["decisions"] == []


def test_list_entries_are_created_listed_and_removed(api: tuple[Api, TestClient]) -> None:
    served, client = api
    label = served.auth(served.shop_label)
    entry = {"list": "deny", "kind": "phone", "value": "13800000009", "ttl": "7d"}
    created = client.post("/v1/lists", json=entry, headers=label)
    assert created.status_code == 201
    pseudonym = created.json()["value"]
    assert pseudonym != "13800000009" and created.json()["expires"] is not None
    denied = client.post("/v1/decisions", json=_sms("s1", "13800000009"), headers=label)
    assert denied.status_code == 403  # label keys do not decide
    admin = served.auth(served.shop_admin)
    decision = client.post("/v1/decisions", json=_sms("s1", "13800000009"), headers=admin)
    assert decision.json()["outcome"] == "deny"
    assert client.get("/v1/lists", params={"list": "deny"}, headers=admin).json()["entries"]
    bad = client.post("/v1/lists", json={**entry, "ttl": "soon"}, headers=label)
    assert bad.status_code == 422 and bad.json()["field"] == "$.ttl"
    unknown = client.post("/v1/lists", json={**entry, "colour": "red"}, headers=label)
    assert unknown.status_code == 422 and unknown.json()["field"] == "$.colour"
    gone = client.delete(f"/v1/lists/deny/phone/{pseudonym}", headers=label)
    assert gone.status_code == 204
    assert client.delete(f"/v1/lists/deny/phone/{pseudonym}", headers=label).status_code == 404


def test_erasure_over_http(api: tuple[Api, TestClient]) -> None:
    served, client = api
    admin = served.auth(served.shop_admin)
    client.post("/v1/decisions", json=_sms("e1"), headers=admin)
    erased = client.delete("/v1/entities/phone/13800000001?raw=true", headers=admin)
    assert erased.status_code == 200 and erased.json()["decisions"] == 1
    label = served.auth(served.shop_label)
    assert client.delete("/v1/entities/phone/x", headers=label).status_code == 403
    wrong = client.delete("/v1/entities/merchant/m1", headers=admin)
    assert wrong.status_code == 400


def test_ruleset_lifecycle_over_http(api: tuple[Api, TestClient]) -> None:
    served, client = api
    admin = served.auth(served.shop_admin)
    broken = DENY_SMS.replace("hour >= 0", "nonsense_value > 1")
    refused = client.post("/v1/rulesets", json={"text": broken}, headers=admin)
    assert refused.status_code == 422 and refused.json()["field"] == "$.text"
    assert "deny_every_sms" in refused.json()["detail"]
    checked = client.post("/v1/rulesets:validate", json={"text": DENY_SMS}, headers=admin)
    assert checked.json()["valid"] is True
    one = client.post("/v1/rulesets", json={"text": DENY_SMS, "note": "v1"}, headers=admin)
    two = client.post("/v1/rulesets", json={"text": REVIEW_SMS}, headers=admin)
    assert (one.status_code, one.json()["number"], two.json()["number"]) == (201, 1, 2)
    assert client.post("/v1/rulesets/1:publish", headers=admin).json()["champion"] == 1
    assert client.post("/v1/decisions", json=_sms("r1"), headers=admin).json()["outcome"] == "deny"
    assert client.post("/v1/rulesets/2:shadow", headers=admin).json()["challenger"] == 2
    shadowed = client.post("/v1/decisions", json=_sms("r2", "13800000002"), headers=admin).json()
    assert shadowed["challenger_outcome"] == "review"
    assert client.post("/v1/rulesets:promote", headers=admin).json()["champion"] == 2
    assert client.post("/v1/rulesets:rollback", headers=admin).json()["champion"] == 1
    conflict = client.post("/v1/rulesets:promote", headers=admin)
    assert conflict.status_code == 409
    assert client.post("/v1/rulesets/9:publish", headers=admin).status_code == 409
    listing = client.get("/v1/rulesets", headers=admin).json()
    actions = [c["action"] for c in listing["changes"]]
    assert actions == ["upload", "upload", "publish", "shadow", "promote", "rollback"]
    assert all(c["actor"].startswith("key:") for c in listing["changes"])
    assert client.get("/v1/rulesets/1", headers=admin).json()["text"] == DENY_SMS
    assert served.rulesets.verify().ok


def test_a_label_event_from_the_future_is_refused(api: tuple[Api, TestClient]) -> None:
    served, client = api
    admin = served.auth(served.shop_admin)
    label = {"type": "case.label", "event_id": "l1", "tenant": "shop", "verdict": "fraud"}
    future = client.post(
        "/v1/decisions", json={**label, "time": "2099-01-01T00:00:00Z"}, headers=admin
    )
    assert future.status_code == 422 and future.json()["field"] == "$.time"
    batch = client.post(
        "/v1/decisions:batch",
        json=[{**label, "time": "2025-01-01T00:00:00Z"}, {**label, "time": "2099-01-01T00:00:00Z"}],
        headers=admin,
    )
    assert batch.status_code == 422 and batch.json()["field"] == "$[1].time"
    known = client.post(
        "/v1/decisions", json={**label, "time": "2025-01-01T00:00:00Z"}, headers=admin
    )
    assert known.status_code == 200 and known.json()["outcome"] == "allow"
