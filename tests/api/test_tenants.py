"""Keys and tenants: every endpoint tried without a key, with too few scopes, and with
another tenant's key. A key never sees or changes another tenant's data."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from shopguard.api.app import ENDPOINTS
from tests.api.conftest import Api
from tests.api.test_decisions import _event


def test_every_endpoint_with_a_scope_needs_a_key(api: tuple[Api, TestClient]) -> None:
    _, client = api
    guarded = [e for e in ENDPOINTS if e.scope is not None]
    assert len(guarded) >= 18
    for e in guarded:
        path = re.sub(r"\{(\w+)\}", "1", e.path)
        for headers in ({}, {"Authorization": "Bearer sg_nope_nope"}, {"X-API-Key": "junk"}):
            response = client.request(e.method, path, json={}, headers=headers)
            assert response.status_code == 401, (e.method, path, headers)
            assert response.headers["www-authenticate"] == "Bearer"


def test_scopes(api: tuple[Api, TestClient]) -> None:
    served, client = api
    label_key, decide_key = served.auth(served.shop_label), served.auth(served.shop_decide)
    assert client.post("/v1/decisions", json=_event("s1"), headers=label_key).status_code == 403
    labelled = client.post(
        "/v1/labels", json={"kind": "fraud", "event_id": "s1"}, headers=decide_key
    )
    assert labelled.status_code == 403
    assert client.get("/v1/merchants/m1/health", headers=decide_key).status_code == 403
    admin = served.auth(served.shop_admin)  # admin implies every scope
    assert client.post("/v1/decisions", json=_event("s1"), headers=admin).status_code == 200
    assert client.get("/v1/merchants/m1/health", headers=admin).status_code == 200


def test_another_tenants_key_sees_and_changes_nothing(api: tuple[Api, TestClient]) -> None:
    served, client = api
    mine, theirs = served.auth(served.shop_admin), served.auth(served.rival)
    assert client.post("/v1/decisions", json=_event("t1"), headers=mine).status_code == 200
    # deciding for "shop" with rival's key
    forged = client.post("/v1/decisions", json=_event("t2"), headers=theirs)
    assert forged.status_code == 403 and forged.json()["field"] == "$.tenant"
    batch = client.post(
        "/v1/decisions:batch", json=[_event("t3", tenant="rival"), _event("t4")], headers=theirs
    )
    assert batch.status_code == 403 and batch.json()["field"] == "$[1].tenant"
    assert client.get("/v1/decisions/t3", headers=theirs).status_code == 404  # nothing applied
    # reading shop's decision and merchant with rival's key
    assert client.get("/v1/decisions/t1", headers=theirs).status_code == 404
    assert client.get("/v1/merchants/m1/health", headers=theirs).status_code == 404
    # labelling shop's event: refused when it names shop, harmless when it does not
    named = client.post(
        "/v1/labels",
        json={"tenant": "shop", "kind": "fraud", "event_id": "t1", "loss": 99},
        headers=theirs,
    )
    assert named.status_code == 403
    own = client.post(
        "/v1/labels", json={"kind": "fraud", "event_id": "t1", "loss": 99}, headers=theirs
    )
    assert own.status_code == 201 and own.json()["tenant"] == "rival"
    health = client.get("/v1/merchants/m1/health", headers=mine).json()
    assert health["confirmed_loss"] == 0  # rival's label is rival's alone


def test_overload_is_shed_with_retry_after(tmp_path: object) -> None:
    from pathlib import Path

    served = Api(Path(str(tmp_path)), max_inflight=0)
    with TestClient(served.app) as client:
        response = client.post(
            "/v1/decisions", json=_event("o1"), headers=served.auth(served.shop_decide)
        )
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        assert response.json()["type"].endswith("/overloaded")
        assert client.get("/healthz").status_code == 200  # probes are never shed
        assert "shopguard_shed_requests_total 1.0" in client.get("/metrics").text


def test_another_tenants_key_cannot_search_list_or_erase_mine(api: tuple[Api, TestClient]) -> None:
    served, client = api
    mine, theirs = served.auth(served.shop_admin), served.auth(served.rival)
    client.post("/v1/decisions", json=_event("t1", phone="13800000001"), headers=mine)
    entity = "phone:13800000001"
    found = client.get("/v1/decisions", params={"entity": entity, "raw": "1"}, headers=mine)
    assert [d["event_id"] for d in found.json()["decisions"]] == ["t1"]
    for params in ({}, {"entity": entity, "raw": "1"}):
        theirs_found = client.get("/v1/decisions", params=params, headers=theirs)
        assert theirs_found.json()["decisions"] == []
    entry = {"list": "deny", "kind": "campaign", "value": "spring", "reason": "abused"}
    assert client.post("/v1/lists", json=entry, headers=mine).status_code == 201
    assert client.get("/v1/lists", headers=theirs).json()["entries"] == []
    assert client.delete("/v1/lists/deny/campaign/spring", headers=theirs).status_code == 404
    assert len(client.get("/v1/lists", headers=mine).json()["entries"]) == 1
    erased = client.delete("/v1/entities/phone/13800000001?raw=1", headers=theirs).json()
    assert erased["decisions"] == 0 and erased["state"] == 0
    again = client.get("/v1/decisions", params={"entity": entity, "raw": "1"}, headers=mine)
    assert len(again.json()["decisions"]) == 1


def test_rulesets_are_the_operators_alone(api: tuple[Api, TestClient]) -> None:
    served, client = api
    theirs = served.auth(served.rival)  # an admin, of another tenant
    for e in ENDPOINTS:
        if e.path.startswith("/v1/rulesets"):
            path = re.sub(r"\{(\w+)\}", "1", e.path)
            response = client.request(e.method, path, json={"text": ""}, headers=theirs)
            assert response.status_code == 403, path
