"""What only the Redis store does: rows expire after their group's longest window, an
entity's rows share a Cluster slot, two workers folding into one row lose no update, and
an unreachable Redis fails fast, is not hammered, and gets the owed folds once back."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.crc import key_slot

from shopguard.errors import StateUnavailable
from shopguard.features.distinct import DistinctSeries
from shopguard.features.series import EventSeries
from shopguard.state.memory import MemoryStateStore
from shopguard.state.redis import RedisStateStore
from shopguard.state.redis.keys import parse_key, row_key, tenant_head
from shopguard.state.redis.scripts import CAS
from tests.servers import RedisServer
from tests.state.redis_stores import clear, machine_redis, redis_store, unique_prefix

WIDTHS, TTLS = [2, 1], [3600.0, 86400.0]


@pytest.fixture
def shared() -> Iterator[tuple[str, str]]:
    url, prefix = machine_redis(), unique_prefix()
    yield url, prefix
    clear(url, prefix)


def worker(url: str, prefix: str, **options: Any) -> RedisStateStore:
    store = redis_store(url, prefix, **options)
    store.layout(WIDTHS, TTLS)
    return store


def count_and_devices(state: Any, facts: dict[str, Any], t: float) -> Any:
    state = state if state is not None else EventSeries(60, True, False)
    state.add(t, facts["amount"], 86400, 10_000)
    return state


def devices(state: Any, facts: dict[str, Any], t: float) -> Any:
    state = state if state is not None else DistinctSeries()
    state.add(facts["device"], t, 86400, 1000)
    return state


def one_event(store: Any, facts: dict[str, Any]) -> None:
    """Load the event's rows, fold it into both of its streams (as the engine does)."""
    (row,) = store.load("t", [(0, "a1")])
    states = row or [None, None]
    touched = [((0, "a1"), 0, states[0], count_and_devices), ((0, "a1"), 1, states[1], devices)]
    store.fold("t", facts, touched)


def test_rows_expire_after_their_groups_longest_window(shared: tuple[str, str]) -> None:
    url, prefix = shared
    store = worker(url, prefix)
    one_event(store, {"time": 1.0, "amount": 2.0, "device": "d1"})
    store.save("t", [((1, "a1|c1"), 0, EventSeries(60, False, False))])
    store.flush()
    client = redis.Redis.from_url(url)
    head = tenant_head(prefix, "t")
    for group, entity in [(0, "a1"), (1, "a1|c1")]:
        ttl_ms = client.pttl(row_key(head, group, entity))
        assert TTLS[group] * 1000 - 5000 < ttl_ms <= TTLS[group] * 1000
    client.close()


def test_an_entitys_rows_share_a_slot_and_names_read_back() -> None:
    head = tenant_head("sg", "shop:1")
    own, pair = row_key(head, 0, "a1"), row_key(head, 3, "a1|camp:{x}")
    assert key_slot(own.encode()) == key_slot(pair.encode())
    assert parse_key(head, pair) == (3, "a1|camp:{x}")
    assert parse_key(tenant_head("sg", "shop"), own) is None  # another tenant's head


def test_two_workers_on_one_row_lose_no_update(shared: tuple[str, str]) -> None:
    """Two stores (workers) fold interleaved events into the same row, each reading
    before the other writes: every event counts, as a sequential fold counts them."""
    url, prefix = shared
    a, b = worker(url, prefix), worker(url, prefix)
    rng = random.Random(5)
    events = [
        {"time": float(i), "amount": float(rng.randrange(1, 100)), "device": f"d{i % 7}"}
        for i in range(60)
    ]
    for first, second in zip(events[::2], events[1::2], strict=True):
        order = [(a, first), (b, second)] if rng.random() < 0.5 else [(b, first), (a, second)]
        for store, facts in order:
            one_event(store, facts)  # both read the row as it was before either wrote
        for store, _ in reversed(order) if rng.random() < 0.5 else order:
            store.flush()
    sequential = MemoryStateStore()
    sequential.layout(WIDTHS, TTLS)
    for facts in events:
        one_event(sequential, facts)
    (row,) = worker(url, prefix).load("t", [(0, "a1")])
    (alone,) = sequential.load("t", [(0, "a1")])
    assert row is not None and alone is not None
    # order-insensitive aggregates equal exactly; the order of times may differ
    assert row[0].count(-1) == alone[0].count(-1) == 60
    assert row[0].total(-1) == alone[0].total(-1)
    assert row[1].count(-1) == alone[1].count(-1) == 7
    assert a.conflicts + b.conflicts > 0  # the interleaving did make them collide


def test_a_lost_reply_is_recognised_by_its_version(shared: tuple[str, str]) -> None:
    """A write that landed though its reply did not: the retry sees its own version,
    not a conflict, and does not fold the events in twice."""
    url, prefix = shared
    store = worker(url, prefix)
    one_event(store, {"time": 1.0, "amount": 5.0, "device": "d1"})
    (row,) = store._rows.values()
    client = redis.Redis.from_url(url)
    client.eval(CAS, 1, row.key, *row.write_args(3_600_000))  # landed, the reply lost
    client.close()
    store.flush()  # the same write again: its version is there already
    (loaded,) = worker(url, prefix).load("t", [(0, "a1")])
    assert loaded is not None and loaded[0].count(-1) == 1


def test_an_unreachable_redis_fails_fast_and_owed_folds_land_when_it_returns(
    tmp_path: Path,
) -> None:
    # appendfsync always: what Redis acknowledged survives its SIGKILL
    server = RedisServer(tmp_path, None, "--appendonly", "yes", "--appendfsync", "always")
    server.start()
    try:
        store = worker(server.url, "sg", retry_every=0.3, timeout=0.5)
        one_event(store, {"time": 1.0, "amount": 5.0, "device": "d1"})
        store.flush()
        one_event(store, {"time": 2.0, "amount": 7.0, "device": "d2"})
        server.kill()
        with pytest.raises(StateUnavailable, match="write failed"):
            store.flush()  # the journal has the event: the store owes its fold
        with pytest.raises(StateUnavailable, match="unreachable") as refused:
            store.prefetch([("t", [(0, "a2")])])  # the breaker: Redis is not asked
        assert 0 < refused.value.retry_after <= 0.3
        server.start()
        for _ in range(100):
            try:
                store.load("t", [(0, "a3")])  # once retry_every has passed it answers
                break
            except StateUnavailable:
                time.sleep(0.05)
        one_event(store, {"time": 3.0, "amount": 100.0, "device": "d3"})
        store.drop()  # that batch was refused: its fold goes, the owed one stays
        store.flush()
        (row,) = worker(server.url, "sg").load("t", [(0, "a1")])
        assert row is not None and row[0].count(-1) == 2 and row[0].total(-1) == 12.0
    finally:
        server.stop()
