"""A small investigation world for the console's tests: a wool party of six accounts
sharing a device and an address (held on their gift claims, written into a ring book as
the batch run would), 30 more accounts held for large payments, and a rival tenant with
its own held case and ring."""

from __future__ import annotations

from pathlib import Path

from shopguard.engine import Engine
from shopguard.rings.book import Ring, RingBook, RingLink, book_path, save_book
from tests.conftest import event

RULES = """
rules:
  - id: review_gift_claim
    on: [promo.claim]
    when: value >= 0
    action: review
    reason: gift claimed (test)
  - id: review_big_payment
    on: [payment]
    when: amount >= 5000
    action: review
    reason: large payment (test)
"""
RING_ID, RIVAL_RING = "R-wool01", "R-rival1"
PARTY = [f"wool-{i}" for i in range(6)]
PAYERS = [f"payer-{i:02d}" for i in range(30)]
DEVICE, ADDRESS, CARD = "dev-farm-0001", "88 Changning Rd, Room 1201", "6222020000004242"
START = 1_740_823_200.0  # 2025-03-01T10:00:00Z, where tests.conftest.event starts


def build(engine: Engine) -> None:
    """Decide the world's events and write its ring book."""
    engine.use_rules(engine.pack.compile_rules(RULES, "test-1"))
    at = 0.0
    for account in PARTY:
        at += 60
        common = {"account": account, "device": {"id": DEVICE}, "address": ADDRESS}
        claim = {**common, "campaign": "newbie-gift", "value": 20.0}
        engine.decide(event("promo.claim", f"claim-{account}", at, **claim))
        engine.decide(event("payment", f"pay-{account}", at + 5, **common, amount=30.0, card=CARD))
    for i, account in enumerate(PAYERS):
        paid = {"account": account, "amount": 9000.0 + i, "card": f"62220200001{i:05d}"}
        engine.decide(event("payment", f"big-{account}", 4000 + at + i, **paid))
    rival = {"tenant": "rival", "account": "rival-1", "campaign": "newbie-gift", "value": 5.0}
    engine.decide(event("promo.claim", "rival-claim", at, **rival))
    engine.commit()
    write_book(engine)


def pseudonym(engine: Engine, kind: str, raw: str, tenant: str = "shop") -> str:
    return engine.desensitize.entity(tenant, kind, raw)


def write_book(engine: Engine) -> Path:
    members = [pseudonym(engine, "account", a) for a in PARTY]
    everyone = list(range(len(members)))
    links = [
        RingLink("device", pseudonym(engine, "device", DEVICE), everyone),
        RingLink("address", pseudonym(engine, "address", ADDRESS), everyone[:4], "88***"),
        RingLink("card", pseudonym(engine, "card", CARD), everyone[2:], "622202******4242"),
    ]
    ring = Ring(
        RING_ID, "shop", 0.93, members, links, START + 60, START + 365,
        new_accounts_24h=6, growth=1.0, events=12, harm_events=6, harm_money=120.0,
        link_types={"device": 1, "address": 1, "card": 1},
    )  # fmt: skip
    rival = Ring(
        RIVAL_RING, "rival", 0.5, [pseudonym(engine, "account", "rival-1", "rival")], [],
        START + 60, START + 60,
    )  # fmt: skip
    path = book_path(engine.settings.data_dir)
    save_book(path, RingBook(START + 7200, START, START + 7200, [ring, rival]))
    return path
