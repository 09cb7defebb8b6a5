"""The investigation pages over HTTP: the queue grouped and paged with bulk verdicts, the
ring page and its one action, the entity page, search; per tenant, masked, CSRF."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from tests.console import world
from tests.console.conftest import Console


@pytest.fixture
def built(journal_console: Console) -> Console:
    """The world over either journal (SQLite, PostgreSQL)."""
    world.build(journal_console.served.engine)
    return journal_console


def _cases(html: str) -> list[str]:
    return re.findall(r'class="card case" data-entity="([^"]+)"', html)


def test_the_queue_groups_by_ring_campaign_and_rule_with_counts(built: Console) -> None:
    built.login("ana")
    get = built.client.get
    by_ring = get("/console/review", params={"by": "ring"}).text
    assert re.search(rf'data-group="{world.RING_ID}">.*?<td>6</td><td>6</td>', by_ring, re.S)
    assert re.search(r'data-group="-">.*?<td>30</td><td>30</td>', by_ring, re.S)
    assert world.RIVAL_RING not in by_ring  # the rival's ring and case are not ours
    by_campaign = get("/console/review", params={"by": "campaign"}).text
    assert re.search(r'data-group="newbie-gift">.*?<td>6</td>', by_campaign, re.S)
    by_rule = get("/console/review", params={"by": "rule"}).text
    assert re.search(r'data-group="review_big_payment">.*?<td>30</td>', by_rule, re.S)
    ring = get("/console/review", params={"by": "ring", "group": world.RING_ID}).text
    party = {f"account:{world.pseudonym(built.served.engine, 'account', a)}" for a in world.PARTY}
    assert set(_cases(ring)) == party
    backend = built.served.engine.settings.decision_log  # the journal's own queries
    assert type(built.served.app.state.console_queries).__name__.lower().startswith(backend)


def test_the_queue_pages_and_a_bulk_verdict_decides_every_ticked_case(built: Console) -> None:
    csrf = built.login("ana")
    first = built.client.get("/console/review").text
    second = built.client.get("/console/review", params={"page": "2"}).text
    assert len(_cases(first)) == 20 and len(_cases(second)) == 16
    assert not set(_cases(first)) & set(_cases(second)) and "page 2 of 2" in second
    ticked = re.findall(r'name="case" form="bulk" value="([^"]+)"', first)[:5]
    form = {"csrf": csrf, "bulk": "1", "verdict": "deny", "case": ticked}
    answer = built.client.post("/console/review", data=form, follow_redirects=False)
    assert answer.status_code == 303
    engine = built.served.engine
    labels = [lb for lb in engine.log.labels("shop") if lb.event_id]
    assert len(labels) == 5 and {(lb.kind, lb.source) for lb in labels} == {
        ("fraud", "console:ana")
    }
    for value in ticked:
        kind, _, pseudonym = value.split(" ")[0].partition(":")
        entry = engine.lists.get("deny", kind, pseudonym, 0.0, "shop")
        assert entry is not None and entry.source == "console:ana"
    assert len(_cases(built.client.get("/console/review", params={"page": "2"}).text)) == 11
    bad = {**form, "case": ["account:x \x00"]}
    assert built.client.post("/console/review", data=bad).status_code == 400
    assert len([lb for lb in engine.log.labels("shop") if lb.event_id]) == 5


def test_denying_the_ring_lists_and_labels_every_member(built: Console) -> None:
    csrf = built.login("ana")
    engine = built.served.engine
    page = built.client.get(f"/console/rings/{world.RING_ID}").text
    assert '<svg class="ring"' in page and page.count('class="account"') == 6
    assert "88***" in page and world.ADDRESS not in page and world.DEVICE not in page
    assert "6 open review event(s)" in page
    form = {"csrf": csrf, "verdict": "deny", "ttl": "7d"}
    done = built.client.post(f"/console/rings/{world.RING_ID}", data=form)
    assert done.status_code == 200 and "deny: 6 accounts listed and labelled" in done.text
    members = [world.pseudonym(engine, "account", a) for a in world.PARTY]
    for member in members:
        entry = engine.lists.get("deny", "account", member, 0.0, "shop")
        assert entry is not None and entry.source == "console:ana"
        assert world.RING_ID in entry.reason
    labels = list(engine.log.labels("shop"))
    assert {lb.entity for lb in labels if lb.entity} == set(members)
    assert {(lb.kind, lb.source) for lb in labels} == {("fraud", "console:ana")}
    assert len([lb for lb in labels if lb.event_id]) == 6  # their open claims
    by_ring = built.client.get("/console/review", params={"by": "ring"}).text
    assert world.RING_ID not in by_ring
    assert (
        built.client.post(f"/console/rings/{world.RING_ID}", data={"verdict": "deny"}).status_code
        == 403
    )


def test_the_entity_page_shows_its_timeline_and_linked_entities(built: Console) -> None:
    built.login("ana")
    engine = built.served.engine
    me = world.pseudonym(engine, "account", "wool-0")
    page = built.client.get(f"/console/entities/account/{me}").text
    assert re.findall(r'<tr data-event="([^"]+)"', page) == ["pay-wool-0", "claim-wool-0"]
    assert page.count('data-linked="device"') == 1 and page.count('data-linked="card"') == 1
    card = world.pseudonym(engine, "card", world.CARD)
    assert f"/console/entities/card/{card}" in page and "622202******4242" in page
    assert world.CARD not in page and world.RING_ID in page
    shared = built.client.get(f"/console/entities/card/{card}").text
    assert len(re.findall(r"<tr data-event=", shared)) == 6  # the party paid with it
    built.login("rex")  # the rival's analyst sees nothing of it
    assert "no decisions" in built.client.get(f"/console/entities/account/{me}").text


def test_a_searched_raw_value_is_kept_nowhere(
    built: Console, caplog: pytest.LogCaptureFixture
) -> None:
    csrf = built.login("ana")
    caplog.set_level(logging.DEBUG)
    raw = "13912345678"
    form = {"csrf": csrf, "q": raw, "kind": "phone"}
    answer = built.client.post("/console/search", data=form, follow_redirects=False)
    phone = world.pseudonym(built.served.engine, "phone", raw)
    assert answer.headers["location"] == f"/console/entities/phone/{phone}"
    page = built.client.get(answer.headers["location"]).text
    assert raw not in page and raw not in caplog.text
    built.served.engine.commit()
    data = Path(built.served.engine.settings.data_dir)
    for path in data.rglob("*"):
        assert not path.is_file() or raw.encode() not in path.read_bytes(), path


def test_search_finds_events_raw_values_rings_and_rules(built: Console) -> None:
    csrf = built.login("ana")
    engine = built.served.engine

    def search(q: str, kind: str = "auto") -> tuple[int, str]:
        form = {"csrf": csrf, "q": q, "kind": kind}
        answer = built.client.post("/console/search", data=form, follow_redirects=False)
        return answer.status_code, answer.headers.get("location", answer.text)

    assert search("claim-wool-1") == (303, "/console/decisions/claim-wool-1")
    assert search(world.RING_ID) == (303, f"/console/rings/{world.RING_ID}")
    assert search("review_big_payment") == (303, "/console/rule/review_big_payment")
    card = world.pseudonym(engine, "card", world.CARD)
    assert search(world.CARD) == (303, f"/console/entities/card/{card}")
    status, where = search(world.ADDRESS)
    assert status == 303 and where.startswith("/console/entities/address/k1.")
    status, where = search("payer-03", "account")
    assert where == f"/console/entities/account/{world.pseudonym(engine, 'account', 'payer-03')}"
    status, page = search("no such thing anywhere")
    assert status == 200 and "nothing in this tenant matches" in page
    assert search("rival-claim") == (200, search("nothing")[1])  # the rival's event
    refused = built.client.post("/console/search", data={"q": world.CARD})
    assert refused.status_code == 403  # no CSRF token
    rule = built.client.get("/console/rule/review_big_payment").text
    assert len(re.findall(r"<tr data-event=", rule)) == 20 and "older" in rule


def test_allowing_the_ring_and_another_tenants_ring(built: Console) -> None:
    built.login("rex")  # the rival's analyst: our ring does not exist for them
    assert "No such ring" in built.client.get(f"/console/rings/{world.RING_ID}").text
    assert world.RING_ID not in built.client.get("/console/rings").text
    csrf = built.login("ana")
    assert world.RIVAL_RING not in built.client.get("/console/rings").text
    form = {"csrf": csrf, "verdict": "allow"}
    done = built.client.post(f"/console/rings/{world.RING_ID}", data=form)
    assert "allow: 6 accounts listed and labelled" in done.text
    engine = built.served.engine
    for account in world.PARTY:
        member = world.pseudonym(engine, "account", account)
        entry = engine.lists.get("allow", "account", member, 0.0, "shop")
        assert entry is not None and entry.source == "console:ana"
    assert {lb.kind for lb in engine.log.labels("shop")} == {"legit"}
    bad = built.client.post(f"/console/rings/{world.RING_ID}", data={**form, "verdict": "x"})
    assert bad.status_code == 400
