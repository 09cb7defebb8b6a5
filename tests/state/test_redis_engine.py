"""An engine on Redis decides as one on memory, in one round trip each way per event or
per batch (counted by Redis itself), and on a three-node Redis Cluster too."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.crc import key_slot

from shopguard import Engine
from shopguard.decision import Decision
from shopguard.simulate import simulate
from shopguard.state.redis.keys import parse_key, tenant_head
from tests.conftest import make_engine
from tests.servers import redis_cluster, redis_server
from tests.state.redis_stores import clear, machine_redis, unique_prefix

SINGLY = 500  # the first events one at a time, the rest in batches of 256


def stream(events: int, seed: int = 11) -> list[bytes]:
    return [raw for raw, _ in simulate(events, seed=seed, days=2)]


def run(engine: Engine, events: list[bytes]) -> list[Decision]:
    out = [engine.decide(e) for e in events[:SINGLY]]
    for start in range(SINGLY, len(events), 256):
        out += engine.decide_many(events[start : start + 256])
    return out


def shown(decisions: list[Decision]) -> list[tuple[Any, ...]]:
    return [(d.outcome, d.reasons, d.features, d.score) for d in decisions]


@pytest.fixture
def prefix() -> Iterator[str]:
    url, name = machine_redis(), unique_prefix()
    yield name
    clear(url, name)


def test_an_engine_on_redis_decides_as_one_on_memory(prefix: str) -> None:
    events = stream(3000)
    memory = make_engine()
    on_redis = make_engine(state_store="redis", redis_prefix=prefix, redis_timeout="2s")
    expected, got = run(memory, events), run(on_redis, events)
    assert shown(got) == shown(expected)
    assert sum(bool(d.reasons) for d in expected) > 5  # rules did fire on features
    assert len(on_redis.store) == len(memory.store) > 1000


# what the scripts run inside; INFO is the test's own
_INSIDE = {"hgetall", "hget", "hset", "pexpire", "info"}


def _stats(client: redis.Redis) -> tuple[int, dict[str, int]]:
    """(socket reads, calls per command) so far, from one INFO."""
    info: dict[str, Any] = client.info("everything")
    calls = {k.removeprefix("cmdstat_"): v["calls"] for k, v in info.items() if "cmdstat_" in k}
    return info["total_reads_processed"], calls


def _delta(client: redis.Redis, before: tuple[int, dict[str, int]]) -> tuple[int, int, set[str]]:
    """Since ``before``: socket reads (but the INFO's own), EVALSHA calls, and the other
    commands sent outside a script."""
    reads, calls = _stats(client)
    evalsha = calls.get("evalsha", 0) - before[1].get("evalsha", 0)
    others = {c for c, n in calls.items() if n != before[1].get(c, 0)} - _INSIDE - {"evalsha"}
    return reads - before[0] - 1, evalsha, others


def test_one_round_trip_to_read_and_one_to_write_per_event_and_per_batch(
    tmp_path: Path,
) -> None:
    """Counted by a Redis of the test's own (nobody else's traffic): one script call
    reads every row of an event or of a batch, one writes them, nothing else is sent."""
    events = stream(2000, seed=3)
    with redis_server(tmp_path) as server:
        engine = make_engine(state_store="redis", redis_url=server.url, redis_timeout="2s")
        client = redis.Redis.from_url(server.url)
        run(engine, events[: SINGLY + 256])  # the scripts are loaded, rows exist
        seen = []
        for event in events[SINGLY + 256 : SINGLY + 276]:
            before = _stats(client)
            engine.decide(event)
            seen.append(_delta(client, before))
        # one request to read, one to write (none when the event reads no row)
        assert all(d in [(2, 2, set()), (0, 0, set())] for d in seen), seen
        assert seen.count((2, 2, set())) > 15
        before = _stats(client)
        engine.decide_many(events[SINGLY + 266 : SINGLY + 266 + 256])
        _, evalsha, others = _delta(client, before)  # a big request takes several reads
        assert (evalsha, others) == (2, set())
        client.close()


def test_a_three_node_cluster_decides_as_memory_with_an_entitys_rows_in_one_slot(
    tmp_path: Path,
) -> None:
    events = stream(1200, seed=5)
    with redis_cluster(tmp_path) as nodes:
        options = {"redis_url": nodes[0].url, "redis_cluster": True, "redis_timeout": "2s"}
        on_cluster = make_engine(state_store="redis", redis_prefix="sgc", **options)
        assert shown(run(on_cluster, events)) == shown(run(make_engine(), events))
        by_entity: dict[str, list[str]] = defaultdict(list)
        per_node = []
        head = tenant_head("sgc", "sim")
        for node in nodes:
            client = redis.Redis.from_url(node.url)
            keys = [k.decode() for k in client.scan_iter(match="sgc:*", count=1000)]
            per_node.append(len(keys))
            for key in keys:
                parsed = parse_key(head, key)
                assert parsed is not None
                by_entity[parsed[1].split("|")[0]].append(key)
            client.close()
        assert all(per_node)  # every node holds rows
        shared = [keys for keys in by_entity.values() if len(keys) > 1]
        assert shared
        for keys in shared:
            assert len({key_slot(k.encode()) for k in keys}) == 1
