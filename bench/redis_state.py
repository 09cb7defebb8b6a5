"""Benchmark: feature state in Redis: bytes per active entity, round trips per batch and
decisions/s against the memory store.

    python bench/redis_state.py                        # 20,000 simulated events
    python bench/redis_state.py --events 100000 --sample 5000

Starts a redis-server of its own on a free port (nobody else's traffic in its counts),
decides the same simulated stream (shopguard.simulate) in ``decide_many`` batches on an
engine with the memory store and on one with the Redis store, then measures with
``MEMORY USAGE`` a random sample of the state rows (hashes): bytes per row, rows per
entity (an entity's own row and the pair rows it leads share a slot) and so bytes per
active entity, beside ``used_memory``'s growth per entity. Round trips are EVALSHA calls
from ``INFO commandstats`` (one read and one write script per batch on one node; the
first batch also loads the two scripts). Entities are those of every kind (accounts,
devices, IPs...) that have a row.
Prints a table on stderr and JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from rich.console import Console
from rich.table import Table

from shopguard import Engine
from shopguard.simulate import simulate
from shopguard.state.redis.keys import parse_key, tenant_head

KEYS = {"k1": "bench-secret-key-0123456789abcdef"}


@contextmanager
def own_redis() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as workdir:
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no"]
        proc = subprocess.Popen(argv, cwd=workdir, stdout=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        try:
            yield url
        finally:
            client.close()
            proc.terminate()
            proc.wait(10)


def run(engine: Engine, events: list[bytes], batch: int) -> dict[str, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(events), batch):
        engine.decide_many(events[start : start + batch])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"decisions_per_s": len(events) / wall, "cpu_us_per_decision": cpu / len(events) * 1e6}


def memory_per_entity(client: redis.Redis, prefix: str, tenant: str, sample: int) -> dict[str, Any]:
    head = tenant_head(prefix, tenant)
    keys = [k.decode() for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
    entities = set()
    for key in keys:
        parsed = parse_key(head, key)
        if parsed is not None:
            entities.add(parsed[1].split("|")[0])
    chosen = random.Random(1).sample(keys, min(sample, len(keys)))
    pipe = client.pipeline(transaction=False)
    for key in chosen:
        pipe.memory_usage(key, samples=0)
    sizes = [int(n) for n in pipe.execute()]
    per_row = sum(sizes) / len(sizes)
    return {
        "rows": len(keys),
        "entities": len(entities),
        "rows_per_entity": len(keys) / len(entities),
        "bytes_per_row": per_row,
        "bytes_per_entity": per_row * len(keys) / len(entities),
        "sampled_rows": len(chosen),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--sample", type=int, default=2_000, help="rows measured")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    events = [raw for raw, _ in simulate(args.events, seed=args.seed, days=7)]
    base = {"decision_log": "memory", "keys": KEYS, "active_key": "k1"}
    memory = run(Engine.from_config(**base), events, args.batch)
    with own_redis() as url:
        client = redis.Redis.from_url(url)
        used = client.info("memory")["used_memory"]
        engine = Engine.from_config(**base, state_store="redis", redis_url=url, redis_prefix="sg")
        calls = client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
        on_redis = run(engine, events, args.batch)
        calls = client.info("commandstats")["cmdstat_evalsha"]["calls"] - calls
        rows = memory_per_entity(client, "sg", "sim", args.sample)
        grown = client.info("memory")["used_memory"] - used
        client.close()
    batches = -(-len(events) // args.batch)
    result = {
        "events": len(events),
        "batch": args.batch,
        "memory": memory,
        "redis": on_redis,
        "redis_vs_memory_decisions_per_s": on_redis["decisions_per_s"] / memory["decisions_per_s"],
        "redis_vs_memory_cpu": on_redis["cpu_us_per_decision"] / memory["cpu_us_per_decision"],
        "round_trips_per_batch": calls / batches,
        **rows,
        "used_memory_per_entity": grown / rows["entities"],
    }
    table = Table(title=f"Redis state: {len(events):,} events, batches of {args.batch}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name in ("memory", "redis"):
        table.add_row(f"{name}: decisions/s", f"{result[name]['decisions_per_s']:,.0f}")
        table.add_row(f"{name}: CPU µs/decision", f"{result[name]['cpu_us_per_decision']:.1f}")
    table.add_row("round trips per batch (EVALSHA)", f"{result['round_trips_per_batch']:.2f}")
    table.add_row("rows / entities", f"{rows['rows']:,} / {rows['entities']:,}")
    table.add_row("bytes per row (MEMORY USAGE)", f"{rows['bytes_per_row']:,.0f}")
    table.add_row("bytes per active entity", f"{rows['bytes_per_entity']:,.0f}")
    table.add_row("used_memory growth per entity", f"{result['used_memory_per_entity']:,.0f}")
    Console(stderr=True).print(table)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
