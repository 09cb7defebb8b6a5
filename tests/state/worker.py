"""Subprocess for the kill -9 test: decides events and acknowledges each on stdout."""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from shopguard import Engine

KEYS = {"k1": "test-secret-key-0123456789abcdef"}


def events(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        kind = rng.choice(["account.register", "sms.send", "payment", "promo.claim"])
        ev: dict[str, Any] = {
            "type": kind,
            "event_id": f"e{i}",
            "tenant": "shop",
            "time": (start + timedelta(seconds=i * 7)).isoformat(),
            "account": f"a{rng.randrange(60)}",
            "device": {"id": f"d{rng.randrange(12)}"},
            "ip": f"10.0.{rng.randrange(4)}.{rng.randrange(9)}",
            "phone": f"1380000{rng.randrange(40):04d}",
        }
        if kind == "payment":
            ev["amount"] = round(rng.uniform(1, 900), 2)
            ev["card"] = f"62220000{rng.randrange(30):08d}"
        if kind == "promo.claim":
            ev["campaign"] = "spring"
        out.append(ev)
    return out


def main() -> None:
    data_dir, n, snapshot_every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    engine = Engine.from_config(data_dir=data_dir, keys=KEYS, snapshot_every=snapshot_every)
    out = sys.stdout.buffer
    for ev in events(n):
        decision = engine.decide(ev)
        out.write(msgspec.json.encode(decision) + b"\n")  # the acknowledgement
        out.flush()


if __name__ == "__main__":
    main()
