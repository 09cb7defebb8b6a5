"""The /v1 decision and label endpoints: answers, durability, problems, limits."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from tests.api.conftest import Api


def _event(event_id: str, **fields: object) -> dict[str, object]:
    base = {
        "type": "payment",
        "event_id": event_id,
        "tenant": "shop",
        "time": "2025-03-01T10:00:00Z",
        "account": "u1",
        "merchant": "m1",
        "order_id": f"o-{event_id}",
        "amount": 120.0,
        "card": "6222020000001111",
    }
    return {**base, **fields}


def test_decide_answers_durably_and_a_resend_gets_the_same_decision(
    api: tuple[Api, TestClient],
) -> None:
    served, client = api
    auth = served.auth(served.shop_decide)
    first = client.post("/v1/decisions", json=_event("p1"), headers=auth)
    assert first.status_code == 200, first.text
    decision = first.json()
    assert decision["outcome"] == "allow" and decision["event_id"] == "p1"
    assert decision["display"]["card"].endswith("1111") and "6222020000001111" not in first.text
    again = client.post("/v1/decisions", json=_event("p1"), headers=auth)
    assert again.json() == decision
    fetched = client.get("/v1/decisions/p1", headers=auth)
    assert fetched.status_code == 200 and fetched.json() == decision
    assert served.engine.log.find("shop", "p1") is not None  # on disk, not only in memory


def test_batch_is_all_or_nothing_and_errors_name_the_field(api: tuple[Api, TestClient]) -> None:
    served, client = api
    auth = served.auth(served.shop_decide)
    bad = [_event("b1"), _event("b2", amount=-5)]
    response = client.post("/v1/decisions:batch", json=bad, headers=auth)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["field"] == "$[1].amount" and problem["status"] == 422
    assert problem["type"].endswith("/invalid-input")
    assert client.get("/v1/decisions/b1", headers=auth).status_code == 404  # nothing applied
    good = client.post("/v1/decisions:batch", json=[_event("b1"), _event("b3")], headers=auth)
    assert [d["event_id"] for d in good.json()["decisions"]] == ["b1", "b3"]


def test_bad_input_is_a_problem_naming_the_field(api: tuple[Api, TestClient]) -> None:
    served, client = api
    auth = served.auth(served.shop_decide)
    unknown = client.post("/v1/decisions", json=_event("x", colour="red"), headers=auth)
    assert unknown.status_code == 422 and unknown.json()["field"] == "$.colour"
    broken = client.post("/v1/decisions", content=b"{not json", headers=auth)
    assert broken.status_code == 422 and broken.json()["field"] == "$"
    naive = client.post("/v1/decisions", json=_event("y", time="2025-03-01T10:00:00"), headers=auth)
    assert naive.status_code == 422 and naive.json()["field"] == "$.time"


def test_size_limits(api: tuple[Api, TestClient]) -> None:
    served, client = api
    auth = served.auth(served.shop_decide)
    huge = _event("h1", account="a" * 70_000)
    response = client.post("/v1/decisions", content=json.dumps(huge), headers=auth)
    assert response.status_code == 413 and response.json()["type"].endswith("/too-large")
    many = [_event(f"m{i}") for i in range(51)]
    response = client.post("/v1/decisions:batch", json=many, headers=auth)
    assert response.status_code == 413 and "50" in response.json()["detail"]


def test_labels_and_merchant_health(api: tuple[Api, TestClient]) -> None:
    served, client = api
    client.post("/v1/decisions", json=_event("p9"), headers=served.auth(served.shop_decide))
    label = {"kind": "chargeback", "event_id": "p9", "loss": 120.0}
    created = client.post("/v1/labels", json=label, headers=served.auth(served.shop_label))
    assert created.status_code == 201, created.text
    assert created.json()["tenant"] == "shop" and created.json()["source"].startswith("api:")
    bad = client.post(
        "/v1/labels", json={**label, "kind": "stolen"}, headers=served.auth(served.shop_label)
    )
    assert bad.status_code == 422 and bad.json()["field"] == "$.kind"
    health = client.get("/v1/merchants/m1/health", headers=served.auth(served.shop_label))
    assert health.status_code == 200
    assert health.json()["confirmed_loss"] == 120.0 and health.json()["loss_rate"] == 1.0
    since = client.get(
        "/v1/merchants/m1/health?since=2025-03-02", headers=served.auth(served.shop_label)
    )
    assert since.status_code == 404
    wrong = client.get("/v1/merchants/m1/health?since=soon", headers=served.auth(served.shop_label))
    assert wrong.status_code == 400 and wrong.json()["field"] == "$.query.since"


def test_probes_metrics_and_openapi(api: tuple[Api, TestClient]) -> None:
    served, client = api
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    client.post("/v1/decisions", json=_event("q1"), headers=served.auth(served.shop_decide))
    text = client.get("/metrics").text
    assert 'shopguard_decisions_total{outcome="allow",type="payment"} 1.0' in text
    assert "shop" not in text.replace("shopguard", "")  # no tenant in metrics
    doc = client.get("/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.1") and "/v1/decisions:batch" in doc["paths"]
