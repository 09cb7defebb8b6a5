"""Two delivery workers on one PostgreSQL journal (each with its own connection, on its
own thread and event loop, as two processes would be) deliver every message exactly
once to a real receiver, each endpoint's in order, while alerts keep coming."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from pathlib import Path

from tests.state.pg import pg_schema
from tests.webhooks.conftest import Bench, Receiver

ENDPOINTS = 12


def test_two_workers_deliver_each_message_exactly_once(tmp_path: Path, receiver: Receiver) -> None:
    with pg_schema("hooks2") as schema:
        bench = Bench(tmp_path / "data", schema)
        stores = [bench.store, bench.pg_store()]
        try:
            # a claim takes at most 8 endpoints (concurrency 1): the other worker gets the rest
            endpoints = [bench.endpoint(receiver.url) for _ in range(ENDPOINTS)]
            receiver.trust("\n".join(secret for _, secret in endpoints))
            receiver.start()
            for i in range(10):  # waiting before the workers start: both fan out at once
                bench.alert(f"a{i}", at=i)
            stop = threading.Event()
            workers = [bench.worker(store=store, concurrency=1) for store in stores]
            attempts = [0, 0]

            def deliver(n: int) -> None:
                async def loop() -> None:
                    while not stop.is_set():
                        made = await workers[n].pass_once()
                        attempts[n] += made
                        if not made:
                            await asyncio.sleep(0.01)
                    await workers[n].aclose()

                asyncio.run(loop())

            threads = [threading.Thread(target=deliver, args=(n,)) for n in (0, 1)]
            for thread in threads:
                thread.start()
            for i in range(10, 20):  # and more while they deliver
                bench.alert(f"a{i}", at=i)
            deadline = time.monotonic() + 30
            while bench.undelivered() and time.monotonic() < deadline:
                time.sleep(0.05)
            stop.set()
            for thread in threads:
                thread.join(10)
            assert bench.undelivered() == 0, "some alerts were never delivered"
            deliveries = bench.store.deliveries("shop", limit=1000)
            lines = receiver.lines()
        finally:
            for store in stores:
                store.close()
            bench.engine.close()
    assert len(deliveries) == 20 * ENDPOINTS and {d.status for d in deliveries} == {"delivered"}
    copies = Counter(line["id"] for line in lines)
    assert set(copies) == {d.webhook_id for d in deliveries}
    assert max(copies.values()) == 1, "a message was sent twice"
    assert sum(attempts) == 20 * ENDPOINTS and min(attempts) > 0, attempts  # both sent
    # one worker at a time holds an endpoint: its messages arrive in the order staged
    staged = {d.webhook_id: (d.endpoint, d.id) for d in deliveries}
    for endpoint, _ in endpoints:
        order = [staged[line["id"]][1] for line in lines if staged[line["id"]][0] == endpoint.id]
        assert order == sorted(order), f"endpoint {endpoint.id} out of order"


def test_workers_starting_at_once_migrate_the_store_once() -> None:
    from shopguard.webhooks.postgres import PgWebhookStore
    from tests.state.pg import DSN

    with pg_schema("hooks3") as schema:
        opened: list[PgWebhookStore] = []
        threads = [
            threading.Thread(target=lambda: opened.append(PgWebhookStore(DSN, schema, 5.0)))
            for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        try:
            assert len(opened) == 3  # none failed on a table another was creating
            db = opened[0].db()
            versions = db.execute(f'SELECT version FROM "{schema}".webhook_migrations').fetchall()
            assert versions == [(1,)]
            assert opened[1].endpoints() == []
        finally:
            for store in opened:
                store.close()


def test_an_endpoint_leased_to_one_worker_is_left_alone_by_another(
    tmp_path: Path,
) -> None:
    with pg_schema("hooks5") as schema:
        bench = Bench(tmp_path / "data", schema)
        ours, theirs = bench.store, bench.pg_store()
        try:
            first, _ = bench.endpoint("https://93.184.216.34/one")
            second, _ = bench.endpoint("https://93.184.216.34/two")
            bench.alert("x1")
            bench.alert("x2")
            bench.worker().fan_out()
            now = time.time()
            mine = ours.claim(now, 1, 60.0)  # one delivery: one endpoint's first
            (leased,) = {d.endpoint for d in mine}
            (other,) = {first.id, second.id} - {leased}
            # the other worker gets the other endpoint only, none of the leased one's
            others = theirs.claim(now, 10, 60.0)
            assert {d.endpoint for d in others} == {other} and len(others) == 2
            assert theirs.claim(now, 10, 60.0) == []
            ours.finish([leased])  # handed back: its due deliveries go to whoever asks
            again = theirs.claim(now, 10, 60.0)
            assert [d.endpoint for d in again] == [leased]  # x2's (x1's is leased)
            assert again[0].id != mine[0].id
            # a worker that dies holding a lease: it runs out, the message goes again
            assert {d.id for d in theirs.claim(now + 61, 10, 60.0)} >= {mine[0].id}
        finally:
            theirs.close()
            bench.close()
