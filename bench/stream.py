"""A seeded retail event stream for benchmarks: honest shoppers plus some abuse.

Shoppers have their own account, phone, card and (mostly) device, and share home or
office IPs; a slice of traffic comes from device farms, SMS bombers and card testers so
rules fire and lists fill as they would in production.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import msgspec

from shopguard import Engine

START = datetime(2025, 3, 1, tzinfo=UTC)
TYPES = (
    ["account.login"] * 30
    + ["payment"] * 22
    + ["account.register"] * 10
    + ["sms.send"] * 12
    + ["promo.claim"] * 14
    + ["cabinet.unlock"] * 12
)


def generate(
    n: int,
    accounts: int = 120_000,
    seed: int = 42,
    span_days: float = 14,
    farm_phones: int = 0,
    wool: int = 20_000,
) -> Iterator[bytes]:
    """``n`` events over ``span_days`` of event time. Farm phones are fresh random numbers
    unless ``farm_phones`` bounds them to that many; ``wool`` farm accounts share them."""
    rng = random.Random(seed)
    encode = msgspec.json.encode
    step = span_days * 86400 / n
    for i in range(n):
        when = (START + timedelta(seconds=i * step)).isoformat()
        kind = TYPES[rng.randrange(len(TYPES))]
        a = rng.randrange(accounts)
        event: dict[str, object] = {
            "type": kind,
            "event_id": f"b{i}",
            "tenant": "bench",
            "time": when,
            "account": f"acct{a}",
            "device": {"id": f"dev{a % (accounts - 9_000)}"},
            "ip": f"10.{a % 200}.{(a // 200) % 200}.{a % 7}",
            "phone": f"13{a % 10}{a:08d}",
        }
        roll = rng.random()
        if roll < 0.02:  # device farm / wool party
            farm = rng.randrange(50)
            event["device"] = {"id": f"farm{farm}", "emulator": rng.random() < 0.5}
            event["phone"] = f"170{rng.randrange(farm_phones or 10**8):08d}"
            event["account"] = f"wool{rng.randrange(wool)}"
            event["ip"] = f"172.16.{farm}.{rng.randrange(250)}"
        elif roll < 0.025:  # bursts at one victim phone or from one IP
            event["phone"] = f"1390000{rng.randrange(30):04d}"
        if kind == "payment":
            event["amount"] = round(rng.lognormvariate(4, 1), 2)
            event["card"] = f"6222{a:012d}" if roll > 0.01 else f"6225{rng.randrange(200):012d}"
            event["success"] = rng.random() > 0.03
        elif kind == "account.login":
            event["success"] = rng.random() > 0.05
        elif kind == "promo.claim":
            event["campaign"] = f"camp{rng.randrange(5)}"
        elif kind == "cabinet.unlock":
            event["cabinet"] = f"cab{rng.randrange(2_000)}"
        elif kind == "sms.send":
            event["purpose"] = "login"
        yield encode(event)


def shoppers(n: int) -> Iterator[bytes]:
    """``n`` active shoppers, each with its own account, device, phone and card, doing
    what a shopper does once: sign up, ask a code, log in, pay (4 events, 4 entities)."""
    encode = msgspec.json.encode
    clock = 0.0
    for i in range(n):
        base = {
            "tenant": "bench",
            "account": f"acct{i}",
            "device": {"id": f"dev{i}"},
            "phone": f"138{i:08d}",
            "ip": f"10.{i % 250}.{(i // 250) % 250}.1",
        }
        for kind, extra in (
            ("account.register", {}),
            ("sms.send", {}),
            ("account.login", {}),
            ("payment", {"amount": 42.0, "card": f"6222{i:012d}"}),
        ):
            clock += 0.25
            when = (START + timedelta(seconds=clock)).isoformat()
            yield encode({"type": kind, "event_id": f"s{i}-{kind}", "time": when, **base, **extra})


def decide_all(engine: Engine, events: Sequence[bytes], batch: int) -> float:
    """Seconds to decide ``events`` durably: one commit each (``batch`` 1), or
    ``decide_many`` batches of ``batch`` (what the API's group commit does)."""
    started = time.perf_counter()
    if batch == 1:
        for raw in events:
            engine.decide(raw)
    else:
        for i in range(0, len(events), batch):
            engine.decide_many(events[i : i + batch])
    return time.perf_counter() - started
