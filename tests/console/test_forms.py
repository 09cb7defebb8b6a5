"""The console's forms (issue 13, hole 9), replayed: a post missing a field, or with one
that is malformed, answers 400 with a message naming it; nothing is written."""

from __future__ import annotations

import pytest

from shopguard.lists.store import AddEntry, ListEntry
from tests.console.conftest import Console
from tests.rules.test_versions import DENY_SMS


@pytest.mark.parametrize(
    ("form", "named"),
    [
        ({}, "verdict: required"),
        ({"verdict": "deny"}, "entity: required"),
        ({"verdict": "deny", "entity": "account:abc"}, "events: required"),
        ({"verdict": "maybe", "entity": "account:abc", "events": "e1"}, "verdict: approve or deny"),
        ({"verdict": "deny", "entity": "abc", "events": "e1"}, "entity: kind:pseudonym"),
        ({"verdict": "deny", "entity": "account:a\x00", "events": "e1"}, "entity: kind:pseudonym"),
        ({"verdict": "deny", "entity": "account:abc", "events": "e\x001"}, "events: 1 to 500"),
        ({"verdict": "deny", "entity": "account:abc", "events": "e " * 501}, "events: 1 to 500"),
    ],
)
def test_a_review_post_without_its_fields_is_a_400(
    console: Console, form: dict[str, str], named: str
) -> None:
    csrf = console.login("ana")
    answer = console.client.post("/console/review", data={"csrf": csrf, **form})
    assert answer.status_code == 400
    assert named in answer.text and "<h1>Review queue</h1>" in answer.text
    assert list(console.served.engine.log.labels("shop")) == []
    assert not list(console.served.engine.lists.entries(tenant="shop"))


@pytest.mark.parametrize(
    ("form", "named"),
    [
        ({}, "list: required"),
        ({"list": "grey", "kind": "phone", "value": "1"}, "list: one of"),
        ({"list": "deny", "kind": "colour", "value": "1"}, "kind: one of"),
        ({"list": "deny", "kind": "phone"}, "value: required"),
        ({"list": "deny", "kind": "phone", "value": "1\x1b"}, "value: no control"),
        ({"list": "deny", "kind": "phone", "value": "1", "ttl": "99999999999999999999d"}, "ttl:"),
        ({"list": "deny", "kind": "phone", "value": "1", "ttl": "soon"}, "ttl:"),
        ({"list": "deny", "kind": "phone", "value": "1", "reason": "r" * 501}, "reason: at most"),
        ({"action": "remove", "list": "deny", "kind": "phone"}, "value: required"),
    ],
)
def test_a_list_post_with_a_bad_field_is_a_400(
    console: Console, form: dict[str, str], named: str
) -> None:
    csrf = console.login("ana")
    answer = console.client.post("/console/lists", data={"csrf": csrf, **form})
    assert answer.status_code == 400
    assert named in answer.text and "<h1>Lists</h1>" in answer.text
    assert not list(console.served.engine.lists.entries(tenant="shop"))


def test_a_ten_year_ttl_is_taken_and_the_page_still_renders(console: Console) -> None:
    csrf = console.login("ana")
    form = {"csrf": csrf, "list": "deny", "kind": "phone", "value": "13800000009", "ttl": "3650d"}
    assert console.client.post("/console/lists", data=form).status_code == 200
    absurd = ListEntry("deny", "account", "acct-x", 8.64e24, "stored before", "api", 0.0, "shop")
    console.served.engine.lists.apply(AddEntry(absurd))  # an entry from before TTLs were bounded
    page = console.client.get("/console/lists")
    assert page.status_code == 200 and "out of range" in page.text and "acct-x" in page.text


def test_a_refused_ruleset_is_a_400_naming_the_rule(console: Console) -> None:
    csrf = console.login("ana")
    nan = DENY_SMS.replace("action: deny", "action: deny\n    score: .nan")
    for text in (nan, "rules: []\n", DENY_SMS.replace("hour >= 0", "not " * 100_000 + "hour")):
        answer = console.client.post(
            "/console/rules", data={"csrf": csrf, "action": "upload", "text": text}
        )
        assert answer.status_code == 400 and "refused: " in answer.text
    assert (
        "rule deny_every_sms: score must be a number"
        in console.client.post(
            "/console/rules", data={"csrf": csrf, "action": "upload", "text": nan}
        ).text
    )
    assert console.served.rulesets.versions() == []
    for number in ("9" * 30, "x", ""):
        bad = {"csrf": csrf, "action": "publish", "number": number}
        assert console.client.post("/console/rules", data=bad).status_code == 400
    assert console.client.get("/console/rules", params={"a": "9" * 30, "b": "1"}).status_code == 200
