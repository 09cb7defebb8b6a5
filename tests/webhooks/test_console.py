"""The console's Webhooks page: the tenant's endpoints and deliveries, admin actions
behind the session's CSRF token, a secret shown once."""

from __future__ import annotations

import re

from shopguard.webhooks import service
from shopguard.webhooks.worker import Schedule, Worker, WorkerConfig
from tests.conftest import event
from tests.console.conftest import Console

PUBLIC = "https://93.184.216.34/hooks"


def test_admins_add_rotate_and_redeliver_analysts_only_look(journal_console: Console) -> None:
    console = journal_console  # over the SQLite journal, and the PostgreSQL one
    csrf = console.login("ana")
    client = console.client
    assert "no endpoints yet" in client.get("/console/webhooks").text
    form = {"action": "add", "url": PUBLIC, "kind_alerts": "1", "outcomes": "deny"}
    assert client.post("/console/webhooks", data=form).status_code == 403  # no CSRF token
    added = client.post("/console/webhooks", data={**form, "csrf": csrf})
    assert added.status_code == 200, added.text
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", added.text)
    assert secret is not None
    page = client.get("/console/webhooks").text
    assert PUBLIC in page and "outcomes: deny" in page and secret.group(0) not in page
    refused = client.post("/console/webhooks", data={**form, "url": "https://127.0.0.1/x",
                                                     "csrf": csrf})  # fmt: skip
    assert refused.status_code == 400 and "loopback" in refused.text
    endpoint = re.search(r"ep_[0-9a-f]+", page)
    assert endpoint is not None
    rotated = client.post("/console/webhooks", data={"action": "rotate", "csrf": csrf,
                                                     "endpoint": endpoint.group(0)})  # fmt: skip
    assert "new secret" in rotated.text and secret.group(0) not in rotated.text
    engine = console.served.engine
    engine.decide(event("account.register", "c1", account="bot", user_agent="curl/8"))
    store = service.store_of(console.served.app.state)
    Worker(store, WorkerConfig(Schedule((5.0,), 60.0, 0.0), 1.0, 1.0, 1, False)).fan_out()
    page = client.get("/console/webhooks?status=pending").text
    assert "decision.alert" in page and "Redeliver" in page
    [delivery] = store.deliveries("shop")
    again = client.post("/console/webhooks", data={"action": "redeliver", "csrf": csrf,
                                                   "delivery": str(delivery.id)})  # fmt: skip
    assert "sent again" in again.text
    assert "no deliveries" in client.get("/console/webhooks?status=dead").text

    client.cookies.clear()
    rex = console.login("rex")  # an analyst of another tenant
    theirs = client.get("/console/webhooks").text
    assert PUBLIC not in theirs and "Add an endpoint" not in theirs
    denied = client.post("/console/webhooks", data={"action": "delete", "csrf": rex,
                                                    "endpoint": endpoint.group(0)})  # fmt: skip
    assert denied.status_code == 400 and "only admins" in denied.text
    assert store.endpoint("shop", endpoint.group(0)) is not None
