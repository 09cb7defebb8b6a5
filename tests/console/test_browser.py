"""End to end in headless Chromium (Debian's, driven by Playwright): sign in, watch a
decision arrive on the live page, review a case, publish a ruleset (screenshots under
test-artifacts/console/, CI keeps them); investigate a ring, an entity, search and the
grouped queue (screenshots under $SHOPGUARD_SCREENSHOTS)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.api.conftest import Api
from tests.api.test_decisions import _event
from tests.console import world
from tests.console.conftest import PASSWORD
from tests.rules.test_versions import DENY_SMS

ARTIFACTS = Path(os.environ.get("SHOPGUARD_ARTIFACTS", "test-artifacts")) / "console"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Closed network: no background fetches, no component updates, no sync.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _need_browser() -> None:
    missing = ""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "the playwright package"
    if not missing and not Path(CHROMIUM).is_file():
        missing = f"Chromium at {CHROMIUM} (apt-get install chromium)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser test needs {missing}")
        pytest.skip(f"browser test needs {missing}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Api, str]]:
    api = Api(tmp_path)
    api.users.create("ana", "shop", "admin", PASSWORD)
    yield from _serve(api)


def _serve(api: Api) -> Iterator[tuple[Api, str]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(api.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield api, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _signed_in(p: Any, base: str) -> tuple[Any, Any]:
    """A headless Chromium signed in as ana: (browser, page)."""
    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/console")
    page.get_by_label("Name").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return browser, page


def test_sign_in_watch_review_and_publish(served: tuple[Api, str]) -> None:
    _need_browser()
    from playwright.sync_api import expect, sync_playwright

    api, base = served
    key = {"Authorization": f"Bearer {api.shop_admin}"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def decide(event: dict[str, object]) -> None:
        httpx.post(f"{base}/v1/decisions", json=event, headers=key).raise_for_status()

    for i in range(6):
        decide(_event(f"warm-{i}", account=f"u{i}", card=f"62220200000{i:05d}"))
    with sync_playwright() as p:
        browser, page = _signed_in(p, base)
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        page.screenshot(path=ARTIFACTS / "1-overview.png", full_page=True)

        page.get_by_role("link", name="Live").click()
        decide(_event("arrives-live", account="u-live", card="6222020000099999"))
        expect(page.locator('tr[data-event="arrives-live"]')).to_be_visible(timeout=10_000)
        page.screenshot(path=ARTIFACTS / "2-live.png", full_page=True)

        for i in range(3):  # a new account paying large sums: held for review
            decide(_event(f"held-{i}", account="newbie", amount=9000.0 + i))
        page.get_by_role("link", name="Review").click()
        case = page.locator("section.case").first
        expect(case).to_be_visible()
        page.screenshot(path=ARTIFACTS / "3-review.png", full_page=True)
        case.get_by_role("button", name="Deny").click()
        expect(page.get_by_text("Nothing to review")).to_be_visible()

        page.get_by_role("link", name="Rules").click()
        page.get_by_label("rules.yaml").fill(DENY_SMS)
        page.get_by_label("Note").fill("deny every SMS (drill)")
        page.get_by_role("button", name="Upload").click()
        expect(page.get_by_role("status")).to_contain_text("uploaded version 1")
        page.get_by_role("row", name="deny every SMS").get_by_role("button", name="Publish").click()
        expect(page.locator("#running")).to_contain_text("r1+")
        page.get_by_role("link", name="diff").first.click()
        expect(page.locator("pre.diff")).to_contain_text("deny_every_sms")
        page.screenshot(path=ARTIFACTS / "4-rules.png", full_page=True)

        sms = {"type": "sms.send", "event_id": "sms-1", "tenant": "shop"}
        decide({**sms, "time": "2025-03-01T10:00:00Z", "phone": "13800000001"})
        page.goto(f"{base}/console/decisions/sms-1")
        expect(page.get_by_role("cell", name="DENY_EVERY_SMS", exact=True)).to_be_visible()
        page.screenshot(path=ARTIFACTS / "5-decision.png", full_page=True)
        page.get_by_role("link", name="Merchants").click()
        expect(page.get_by_role("heading", name="Merchant health")).to_be_visible()
        page.screenshot(path=ARTIFACTS / "6-merchants.png", full_page=True)
        browser.close()

    labels = list(api.engine.log.labels("shop"))
    assert labels and {(lb.kind, lb.source) for lb in labels} == {("fraud", "console:ana")}
    assert api.engine.rules.version.startswith("r1+")
    assert sorted(p.name for p in ARTIFACTS.glob("*.png"))[0] == "1-overview.png"


@pytest.fixture
def investigated(tmp_path: Path) -> Iterator[tuple[Api, str]]:
    api = Api(tmp_path / "data")
    api.users.create("ana", "shop", "admin", PASSWORD)
    world.build(api.engine)  # before the server: the engine is not shared across threads
    yield from _serve(api)


def test_investigate_a_ring_an_entity_search_and_the_grouped_queue(
    investigated: tuple[Api, str], tmp_path: Path
) -> None:
    """The ring page (drawing, deny the ring), the entity page, search by raw value, event
    id and ring, and the queue grouped and paged with a bulk verdict; full-page
    screenshots under $SHOPGUARD_SCREENSHOTS (default: the test's tmp dir)."""
    _need_browser()
    from playwright.sync_api import expect, sync_playwright

    api, base = investigated
    shots = Path(os.environ.get("SHOPGUARD_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser, page = _signed_in(p, base)

        def search(text: str, kind: str = "auto") -> None:
            page.get_by_label("Search for").select_option(kind)
            page.get_by_label("Search", exact=True).fill(text)
            page.get_by_role("button", name="Search").click()

        # the queue, grouped by ring; the 30 payers' group paged; three denied at once
        page.get_by_role("link", name="Review").click()
        page.get_by_role("link", name="ring", exact=True).click()
        ring_row = page.locator(f'tr[data-group="{world.RING_ID}"]')
        expect(ring_row).to_contain_text("6")
        page.screenshot(path=shots / "queue-groups.png", full_page=True)
        page.locator('tr[data-group="-"]').get_by_role("link", name="none").click()
        expect(page.locator("section.case")).to_have_count(20)
        page.get_by_role("link", name="next").first.click()
        expect(page.locator("section.case")).to_have_count(10)
        page.get_by_role("link", name="previous").first.click()
        boxes = page.locator('input[name="case"]')
        for i in range(3):
            boxes.nth(i).check()
        page.screenshot(path=shots / "queue.png", full_page=True)
        page.get_by_role("button", name="Deny ticked").click()
        expect(page.get_by_text("1–20 of 27").first).to_be_visible()

        # search by event id, by raw value (pseudonymized on the fly), by ring
        search("claim-wool-0")
        expect(page.get_by_role("heading", name="Decision claim-wool-0")).to_be_visible()
        search(world.CARD)
        expect(page.get_by_role("heading", name=re.compile("^card k1"))).to_be_visible()
        expect(page.locator("tr[data-event]")).to_have_count(6)
        page.goto(f"{base}/console/search")
        page.get_by_label("Kind").select_option("auto")
        page.get_by_label("Value").fill("nothing at all")
        page.get_by_role("button", name="Find").click()
        expect(page.get_by_text("nothing in this tenant matches")).to_be_visible()
        page.screenshot(path=shots / "search.png", full_page=True)
        search(world.RING_ID, "ring")

        # the ring page: the drawing, then deny the whole ring
        expect(page.get_by_role("heading", name=f"Ring {world.RING_ID}")).to_be_visible()
        drawing = page.locator("svg.ring")
        expect(drawing).to_be_visible()
        expect(drawing.locator("a.account")).to_have_count(6)
        expect(drawing.locator("g.link")).to_have_count(3)
        page.screenshot(path=shots / "ring.png", full_page=True)
        page.get_by_role("button", name="Deny the ring").click()
        expect(page.get_by_role("status")).to_contain_text("deny: 6 accounts listed and labelled")
        expect(drawing.locator('circle[fill="#c0392b"]')).to_have_count(6)

        # an account of the drawing: its entity page, then a linked entity's
        drawing.locator("a.account").first.click()
        expect(page.get_by_role("heading", name=re.compile("^account k1"))).to_be_visible()
        expect(page.locator('tr[data-event^="claim-wool-"]')).to_have_count(1)
        expect(page.locator('tr[data-event^="pay-wool-"]')).to_have_count(1)
        expect(page.locator('tr[data-linked="card"]')).to_contain_text("622202******4242")
        page.screenshot(path=shots / "entity.png", full_page=True)
        page.locator('tr[data-linked="device"]').get_by_role("link").click()
        expect(page.get_by_role("heading", name=re.compile("^device k1"))).to_be_visible()
        browser.close()

    engine = api.engine
    members = [world.pseudonym(engine, "account", a) for a in world.PARTY]
    assert all(engine.lists.get("deny", "account", m, 0.0, "shop") for m in members)
    labels = list(engine.log.labels("shop"))
    assert {lb.entity for lb in labels if lb.entity} == set(members)
    assert len([lb for lb in labels if lb.event_id]) == 3 + 6  # the bulk verdict, the claims
    assert {(lb.kind, lb.source) for lb in labels} == {("fraud", "console:ana")}
    assert {p.name for p in shots.glob("*.png")} >= {"ring.png", "entity.png", "search.png"}
