"""The must-show: a real receiver, verifying every signature with the reference
``standardwebhooks`` package, dies mid-stream (once between recording a message and
answering it, once killed outright) while the worker delivers a stream of alerts, and a
secret is rotated on the way. Every alert arrives at least once, a duplicate carries the
same webhook-id as the first copy, and every request verifies (during the rotation,
against both secrets: two signatures)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from typing import Any

from shopguard.webhooks import signing
from tests.webhooks.conftest import Bench, Receiver

_DEADLINE = 120.0  # seconds: a guard against hanging, not a measurement


async def _until(test: object, what: str) -> None:
    deadline = time.monotonic() + _DEADLINE
    while not test():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


def test_every_alert_arrives_through_crashes_and_a_rotation(
    bench: Bench, receiver: Receiver
) -> None:
    endpoint, secret = bench.endpoint(receiver.url)
    receiver.trust(secret)
    worker = bench.worker(delays=(0.05, 0.1, 0.2))

    async def stream() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        # 1. the receiver records its 7th message, then dies without answering it
        receiver.start("--die-after", "7")
        for i in range(20):
            bench.alert(f"a{i}", at=i)
        assert receiver.process is not None
        await asyncio.to_thread(receiver.process.wait)
        # 2. alerts go on while it is down; the worker keeps failing and retrying
        for i in range(20, 35):
            bench.alert(f"a{i}", at=i)
        await _until(lambda: _failed(bench) >= 3, "failed attempts while the receiver is down")
        receiver.start()
        await _until(lambda: len(receiver.lines()) >= 12, "deliveries after the restart")
        # 3. killed outright, mid-stream
        receiver.kill()
        for i in range(35, 45):
            bench.alert(f"a{i}", at=i)
        receiver.start()
        # 4. the secret is rotated: the old one still signs beside the new
        rotated = signing.new_secret()
        assert bench.store.rotate("shop", endpoint.id, rotated, time.time() + 3600)
        receiver.trust(f"{secret}\n{rotated}")
        for i in range(45, 60):
            bench.alert(f"a{i}", at=i)
        await _until(lambda: bench.undelivered() == 0, "every alert delivered")
        stop.set()
        await task

    asyncio.run(stream())
    lines = receiver.lines()
    assert not [line for line in lines if "error" in line], "a request failed verification"
    ids_of: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        ids_of[line["payload"]["data"]["event_id"]].add(line["id"])
    assert set(ids_of) == {f"a{i}" for i in range(60)}  # every alert, at least once
    assert all(len(ids) == 1 for ids in ids_of.values())  # one webhook-id per message
    copies = Counter(line["id"] for line in lines)
    assert max(copies.values()) >= 2  # the message the receiver died on came again
    assert any(line["signatures"] == 2 and line["secrets"] == 2 for line in lines)
    assert {line["payload"]["type"] for line in lines} == {"decision.alert"}


def _failed(bench: Bench) -> int:
    store: Any = bench.store
    if bench.schema is not None:
        query = f"SELECT COUNT(*) FROM {store.s}.webhook_attempts WHERE code IS NULL"
        return int(store.db().execute(query).fetchone()[0])
    db = store._db
    return int(db.execute("SELECT COUNT(*) FROM webhook_attempts WHERE code IS NULL").fetchone()[0])
