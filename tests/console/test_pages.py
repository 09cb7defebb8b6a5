"""The console over HTTP: sign-in, CSRF, each page, review verdicts, rulesets, tenants."""

from __future__ import annotations

from tests.api.test_decisions import _event
from tests.console.conftest import PASSWORD, Console
from tests.rules.test_versions import DENY_SMS, REVIEW_SMS


def _decide(console: Console, event_id: str, **fields: object) -> dict[str, object]:
    key = console.served.auth(console.served.shop_admin)
    answer = console.client.post("/v1/decisions", json=_event(event_id, **fields), headers=key)
    assert answer.status_code == 200
    result: dict[str, object] = answer.json()
    return result


def test_pages_need_a_session_and_a_right_password(console: Console) -> None:
    client = console.client
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/login"
    page = client.get("/console/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    wrong = client.post("/console/login", data={"name": "ana", "password": "nope", "csrf": csrf})
    assert wrong.status_code == 401 and "wrong name or password" in wrong.text
    forged = client.post("/console/login", data={"name": "ana", "password": PASSWORD})
    assert forged.status_code == 403  # no CSRF token
    console.login("ana")
    cookie = client.cookies.get("sg_console")
    assert cookie and len(cookie) > 30


def test_every_page_renders(journal_console: Console) -> None:
    console = journal_console
    console.login("ana")
    _decide(console, "p1")
    for path in (
        "/console",
        "/console/live",
        "/console/review",
        "/console/rules",
        "/console/lists",
        "/console/merchants",
        "/console/decisions/p1",
    ):
        answer = console.client.get(path)
        assert answer.status_code == 200, path
        assert "<h1>" in answer.text
    rows = console.client.get("/console/live.json").json()
    assert [r["event_id"] for r in rows] == ["p1"]


def test_posts_without_the_csrf_token_are_refused(console: Console) -> None:
    console.login("ana")
    refused = console.client.post("/console/lists", data={"list": "deny", "kind": "ip"})
    assert refused.status_code == 403


def test_a_review_verdict_writes_labels_and_a_deny_entry(console: Console) -> None:
    csrf = console.login("ana")
    engine = console.served.engine
    # a brand-new account paying a large sum on a fresh card: held for review/challenge
    held = [_decide(console, f"h{i}", account="newbie", amount=9000.0 + i) for i in range(3)]
    assert any(d["outcome"] in ("review", "challenge") for d in held), held
    queue = console.client.get("/console/review").text
    assert "Nothing to review" not in queue
    entity = queue.split('name="entity" value="')[1].split('"')[0]
    events = queue.split('name="events" value="')[1].split('"')[0]
    form = {"csrf": csrf, "entity": entity, "events": events, "verdict": "deny"}
    assert console.client.post("/console/review", data=form).status_code == 200
    labels = list(engine.log.labels("shop"))
    assert {lb.kind for lb in labels} == {"fraud"} and labels[0].source == "console:ana"
    kind, _, value = entity.partition(":")
    assert engine.lists.get("deny", kind, value, 0.0, "shop") is not None
    assert "Nothing to review" in console.client.get("/console/review").text


def test_rulesets_from_the_console(console: Console) -> None:
    csrf = console.login("ana")
    form = {"csrf": csrf, "action": "upload", "text": DENY_SMS, "note": "block SMS"}
    uploaded = console.client.post("/console/rules", data=form)
    assert "uploaded version 1" in uploaded.text
    published = console.client.post(
        "/console/rules", data={"csrf": csrf, "action": "publish", "number": "1"}
    )
    assert "publish: now running r1+" in published.text
    assert console.served.engine.rules.version.startswith("r1+")
    diff = console.client.get("/console/rules", params={"a": "pack", "b": "1"}).text
    assert "+  - id: deny_every_sms" in diff
    two = {"csrf": csrf, "action": "upload", "text": REVIEW_SMS}
    console.client.post("/console/rules", data=two)
    console.client.post("/console/rules", data={"csrf": csrf, "action": "shadow", "number": "2"})
    sms = {"type": "sms.send", "event_id": "sms-1", "tenant": "shop", "phone": "13800000001"}
    key = console.served.auth(console.served.shop_admin)
    console.client.post("/v1/decisions", json={**sms, "time": "2025-03-01T10:00:00Z"}, headers=key)
    assert "review_every_sms@r2+" in console.client.get("/console/rules").text  # shadow hits
    overview = console.client.get("/console").text
    assert "deny_every_sms</td><td>1</td>" in overview  # top rules
    bad = {"csrf": csrf, "action": "upload", "text": DENY_SMS.replace("hour", "nothing")}
    assert "refused: rule deny_every_sms" in console.client.post("/console/rules", data=bad).text


def test_another_tenants_user_sees_none_of_it(console: Console) -> None:
    _decide(console, "mine")
    console.login("rex")
    assert console.client.get("/console/live.json").json() == []
    assert "No such decision" in console.client.get("/console/decisions/mine").text
    assert console.client.get("/console/rules").status_code == 403  # not the operator's admin
    assert "no merchant events yet" in console.client.get("/console/merchants").text
