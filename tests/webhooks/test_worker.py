"""Retries on the schedule until the window, then the dead letter; 410 Gone; targets
refused at connect time; redelivery with the same webhook-id. Time is the test's clock
(days pass in no time); the receiver is a real process answering what it is told."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from shopguard.webhooks.worker import Schedule
from tests.webhooks.conftest import Bench, Receiver

DAY = 86_400.0


def test_the_schedule_repeats_its_last_delay_and_ends_at_the_window() -> None:
    schedule = Schedule((5.0, 300.0, 1800.0), 3 * DAY, 0.2)
    assert schedule.next_due(1, 0.0, 0.0, lambda: 0.0) == 5.0
    assert schedule.next_due(2, 0.0, 10.0, lambda: 1.0) == 10.0 + 300.0 * 1.2  # jitter: +20 %
    assert schedule.next_due(9, 0.0, 100.0, lambda: 0.0) == 100.0 + 1800.0  # the last repeats
    assert schedule.next_due(9, 0.0, 3 * DAY - 1, lambda: 0.0) is not None
    assert schedule.next_due(9, 0.0, 3 * DAY, lambda: 0.0) is None  # dead letter


def test_failures_retry_with_backoff_for_three_days_then_dead_letter(
    bench: Bench, receiver: Receiver
) -> None:
    _endpoint, secret = bench.endpoint(receiver.url)
    receiver.trust(secret)
    receiver.start("--status", "503", "--any-time")
    bench.alert("down")
    worker = bench.worker(delays=(5.0, 300.0, 1800.0, 7200.0, 36_000.0), window=3 * DAY,
                          jitter=0.2, clock=True)  # fmt: skip
    start = bench.clock.now
    attempts_at: list[float] = []

    async def drive() -> None:
        while True:
            made = await worker.pass_once()
            assert made <= 1
            if made:
                attempts_at.append(bench.clock.now)
            [delivery] = bench.store.deliveries("shop")
            if delivery.status != "pending":
                return
            assert delivery.next_attempt is not None
            assert await worker.pass_once() == 0 or bench.clock.now >= delivery.next_attempt
            bench.clock.now = delivery.next_attempt  # nothing is tried before it is due

    asyncio.run(drive())
    [delivery] = bench.store.deliveries("shop")
    assert delivery.status == "dead" and delivery.last_code == 503
    gaps = [b - a for a, b in itertools.pairwise(attempts_at)]
    assert gaps[:5] == pytest.approx([5 * 1.1, 300 * 1.1, 1800 * 1.1, 7200 * 1.1, 36_000 * 1.1])
    assert all(g == pytest.approx(36_000 * 1.1) for g in gaps[4:])
    assert attempts_at[-1] - start >= 3 * DAY  # retried for at least the window
    assert attempts_at[-2] - start < 3 * DAY
    assert len(bench.store.delivery("shop", delivery.id).attempt_log) == len(attempts_at)  # type: ignore[union-attr]
    assert bench.undelivered() == 0  # dead-lettered: the outbox row is done with
    lines = receiver.lines()
    assert len(lines) == len(attempts_at) and not [x for x in lines if "error" in x]


def test_410_gone_disables_the_endpoint(bench: Bench, receiver: Receiver) -> None:
    endpoint, secret = bench.endpoint(receiver.url)
    receiver.trust(secret)
    receiver.start("--status", "410")
    bench.alert("g1")
    bench.alert("g2")
    worker = bench.worker()
    asyncio.run(worker.pass_once())
    found = bench.store.endpoint("shop", endpoint.id)
    assert found is not None and found.status == "disabled" and "410" in found.disabled_reason
    assert {d.status for d in bench.store.deliveries("shop")} == {"dead"}
    assert len(receiver.lines()) == 1  # the second message was never sent
    bench.alert("g3")
    asyncio.run(worker.pass_once())
    assert len(bench.store.deliveries("shop")) == 2  # nothing staged for a disabled endpoint
    assert bench.undelivered() == 0


def test_a_loopback_target_is_refused_at_connect_time(bench: Bench, receiver: Receiver) -> None:
    _endpoint, secret = bench.endpoint(receiver.url)  # stored directly: no API check
    receiver.trust(secret)
    receiver.start()
    bench.alert("ssrf")
    asyncio.run(bench.worker(allow_private=False).pass_once())
    [delivery] = bench.store.deliveries("shop")
    assert delivery.status == "pending" and "loopback" in delivery.last_error
    assert receiver.lines() == []


def test_redelivery_sends_the_same_webhook_id_again(bench: Bench, receiver: Receiver) -> None:
    _endpoint, secret = bench.endpoint(receiver.url)
    receiver.trust(secret)
    receiver.start()
    bench.alert("again")
    worker = bench.worker()
    asyncio.run(worker.pass_once())
    [delivery] = bench.store.deliveries("shop")
    assert delivery.status == "delivered"
    again = bench.store.redeliver("shop", delivery.id, bench.clock.now)
    assert again is not None and again.status == "pending"
    assert bench.store.redeliver("rival", delivery.id, bench.clock.now) is None
    asyncio.run(worker.pass_once())
    first, second = receiver.lines()
    assert first["id"] == second["id"] == delivery.webhook_id
    assert first["payload"] == second["payload"]
