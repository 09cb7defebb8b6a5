"""`/v1/webhooks`: endpoints per tenant (admin keys), a secret shown once, rotation, the
delivery log and redelivery."""

from __future__ import annotations

from starlette.testclient import TestClient

from shopguard.webhooks import service
from shopguard.webhooks.worker import Schedule, Worker, WorkerConfig
from tests.api.conftest import Api
from tests.conftest import event

PUBLIC = "https://93.184.216.34/hooks"  # an address literal: nothing to resolve


def _made(client: TestClient, key: str, **body: object) -> dict[str, object]:
    answer = client.post("/v1/webhooks/endpoints", json={"url": PUBLIC, **body},
                         headers=Api.auth(key))  # fmt: skip
    assert answer.status_code == 201, answer.text
    made: dict[str, object] = answer.json()
    return made


def test_endpoints_are_an_admin_tenants_own(api: tuple[Api, TestClient]) -> None:
    served, client = api
    made = _made(client, served.shop_admin, kinds=["alerts", "list_changes"],
                 filters={"outcomes": ["deny"], "merchants": ["m1"]})  # fmt: skip
    secret, endpoint = made["secret"], made["endpoint"]
    assert isinstance(secret, str) and secret.startswith("whsec_")
    assert isinstance(endpoint, dict)
    path = f"/v1/webhooks/endpoints/{endpoint['id']}"
    shop = Api.auth(served.shop_admin)
    listed = client.get("/v1/webhooks/endpoints", headers=shop).json()["endpoints"]
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert secret not in client.get("/v1/webhooks/endpoints", headers=shop).text
    assert secret not in client.get(path, headers=shop).text  # shown once, at creation
    assert client.get(path, headers=Api.auth(served.rival)).status_code == 404
    assert client.get("/v1/webhooks/endpoints", headers=Api.auth(served.rival)).json() == {
        "endpoints": []
    }
    assert client.delete(path, headers=Api.auth(served.rival)).status_code == 404
    assert client.get(path, headers=Api.auth(served.shop_decide)).status_code == 403
    changed = client.patch(path, json={"status": "disabled"}, headers=shop)
    assert changed.status_code == 200 and changed.json()["status"] == "disabled"
    assert client.delete(path, headers=shop).status_code == 204
    assert client.get(path, headers=shop).status_code == 404


def test_private_targets_and_plain_http_are_refused(api: tuple[Api, TestClient]) -> None:
    served, client = api
    shop = Api.auth(served.shop_admin)
    for url, why in (
        ("https://127.0.0.1/hooks", "loopback"),
        ("https://10.0.0.8/hooks", "private"),
        ("https://169.254.169.254/latest", "link-local"),
        ("http://93.184.216.34/hooks", "https only"),
    ):
        answer = client.post("/v1/webhooks/endpoints", json={"url": url}, headers=shop)
        assert answer.status_code == 422 and why in answer.json()["detail"], answer.text
        assert answer.json()["field"] == "$.url"
    made = _made(client, served.shop_admin)
    endpoint = made["endpoint"]
    assert isinstance(endpoint, dict)
    moved = client.patch(f"/v1/webhooks/endpoints/{endpoint['id']}",
                         json={"url": "https://127.0.0.1/x"}, headers=shop)  # fmt: skip
    assert moved.status_code == 422


def test_rotation_gives_a_new_secret_once_and_the_old_one_overlaps(
    api: tuple[Api, TestClient],
) -> None:
    served, client = api
    made = _made(client, served.shop_admin)
    endpoint = made["endpoint"]
    assert isinstance(endpoint, dict)
    path = f"/v1/webhooks/endpoints/{endpoint['id']}:rotate"
    rotated = client.post(path, headers=Api.auth(served.shop_admin))
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert body["secret"].startswith("whsec_") and body["secret"] != made["secret"]
    assert body["endpoint"]["rotating_until"] is not None
    assert client.post(path, headers=Api.auth(served.rival)).status_code == 404


def test_the_delivery_log_filters_and_redelivers(api: tuple[Api, TestClient]) -> None:
    served, client = api
    made = _made(client, served.shop_admin)
    endpoint = made["endpoint"]
    assert isinstance(endpoint, dict)
    sent = {**event("account.register", "d1", account="bot", user_agent="curl/8")}
    sent["time"] = sent["time"].isoformat()
    assert (
        client.post("/v1/decisions", json=sent, headers=Api.auth(served.shop_decide)).json()[
            "outcome"
        ]
        == "deny"
    )
    store = service.store_of(served.app.state)
    config = WorkerConfig(Schedule((5.0,), 60.0, 0.0), 1.0, 1.0, 1, False)
    Worker(store, config).fan_out()
    shop = Api.auth(served.shop_admin)
    log = client.get(f"/v1/webhooks/deliveries?endpoint={endpoint['id']}&status=pending",
                     headers=shop).json()["deliveries"]  # fmt: skip
    assert [d["payload"]["data"]["event_id"] for d in log] == ["d1"]
    assert log[0]["payload"]["type"] == "decision.alert"
    assert client.get("/v1/webhooks/deliveries?status=dead", headers=shop).json() == {
        "deliveries": []
    }
    assert client.get("/v1/webhooks/deliveries?status=lost", headers=shop).status_code == 400
    assert client.get("/v1/webhooks/deliveries", headers=Api.auth(served.rival)).json() == {
        "deliveries": []
    }
    one = f"/v1/webhooks/deliveries/{log[0]['id']}"
    assert client.get(one, headers=shop).json()["webhook_id"] == log[0]["webhook_id"]
    assert client.get(one, headers=Api.auth(served.rival)).status_code == 404
    again = client.post(one + ":redeliver", headers=shop)
    assert again.status_code == 200 and again.json()["webhook_id"] == log[0]["webhook_id"]
    assert client.post(one + ":redeliver", headers=Api.auth(served.rival)).status_code == 404
