"""Benchmark: workers deciding one stream with memory state, Redis state, and Redis state
plus the PostgreSQL journal, with one and with two workers (processes), in one run.

    python bench/cluster.py                      # 40,000 events, batches of 256
    python bench/cluster.py --events 100000 --batch 256 --workers 1 2
    python bench/cluster.py --modes redis redis+postgres --postgres postgresql://127.0.0.1/test

Per mode and worker count: decisions/s (all workers, and per worker), CPU µs per decision
(the workers' own CPU time; Redis's and PostgreSQL's are beside it), Redis round trips
per batch (Redis's own command statistics: one script call per request, claims and the
change stream riding in it; and its socket reads, which a large request spans several
of), on a redis-server this run starts for itself so nothing else counts; Redis bytes
(``MEMORY USAGE`` of every key): feature rows per account in the stream, claims per
event (each keeps its decision for the dedupe window), and PostgreSQL bytes per decision
(the journal schema's relations over its decisions). The workers split the stream by
event (each decides every other batch), so they decide the same accounts at once.

Prints a table on stderr and JSON on stdout; README's sizing section quotes it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from harness import free_port, wait_port
from shopguard import Engine
from stream import generate

KEYS = {"k1": "bench-secret-key-0123456789abcdef"}
MODES = ("memory", "redis", "redis+postgres")


def _options(mode: str, redis_url: str, prefix: str, dsn: str, schema: str) -> dict[str, Any]:
    options: dict[str, Any] = {"keys": KEYS, "active_key": "k1", "event_time": "replay"}
    options["decision_log"] = "postgres" if mode == "redis+postgres" else "memory"
    options["state_store"] = "memory" if mode == "memory" else "redis"
    options.update(redis_url=redis_url, redis_prefix=prefix)
    options.update(postgres_dsn=dsn, postgres_schema=schema, snapshot_every=0)
    return options


def _worker(
    index: int,
    workers: int,
    events: list[bytes],
    batch: int,
    pack: str,
    options: dict[str, Any],
    start: Any,
    out: Any,
) -> None:
    """Decide every ``workers``-th batch from ``index``: all workers hit the same accounts."""
    if workers > 1 and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {index % (os.cpu_count() or 1)})
    engine = Engine.from_config(pack, writer=f"bench-{index}", **options)
    mine = [events[i : i + batch] for i in range(index * batch, len(events), workers * batch)]
    start.wait()
    cpu, wall = time.process_time(), time.perf_counter()
    decided = 0
    for chunk in mine:
        decided += len(engine.decide_many(chunk))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    engine.close()
    out.put({"worker": index, "decided": decided, "wall_s": wall, "cpu_s": cpu})


def _redis_stats(url: str) -> dict[str, int]:
    """Socket reads, commands (the scripts' own calls included) and EVALSHA calls: the
    store sends one script call per request (a read or a write; claims and the change
    stream ride along), so script calls count requests however many socket reads a
    large one spans."""
    import redis

    client = redis.Redis.from_url(url)
    info = client.info("stats")
    calls = client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
    cpu = client.info("cpu")
    return {
        "cpu_us": int((float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])) * 1e6),
        "reads": int(info["total_reads_processed"]),
        "commands": int(info["total_commands_processed"]),
        "requests": int(calls),
    }


def _redis_bytes(url: str, prefix: str) -> dict[str, int]:
    """``MEMORY USAGE`` of every key under ``prefix``: feature rows, event claims (each
    holds its decision for the dedupe window) and the change stream."""
    import redis

    client = redis.Redis.from_url(url)
    total = {"rows": 0, "claims": 0, "stream": 0}
    for raw in client.scan_iter(match=f"{prefix}*", count=1000):
        key = raw.decode()
        kind = "claims" if ":claim:" in key else "rows" if ":{" in key else "stream"
        total[kind] += int(client.memory_usage(raw, samples=0) or 0)
    return total


def _postgres_bytes(dsn: str, schema: str) -> int:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
            (schema,),
        ).fetchone()
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return int(row[0]) if row else 0


def run(
    mode: str, workers: int, events: list[bytes], args: argparse.Namespace, redis_url: str
) -> dict[str, Any]:
    prefix = f"bench{secrets.token_hex(3)}"
    schema = f"bench_{secrets.token_hex(3)}"
    options = _options(mode, redis_url, prefix, args.postgres, schema)
    before = _redis_stats(redis_url)
    ctx = mp.get_context("fork")
    start, out = ctx.Barrier(workers), ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker, args=(i, workers, events, args.batch, args.pack, options, start, out)
        )
        for i in range(workers)
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=3600) for _ in procs]
    for proc in procs:
        proc.join()
    after = _redis_stats(redis_url)
    decided = sum(r["decided"] for r in results)
    wall = max(r["wall_s"] for r in results)
    cpu = sum(r["cpu_s"] for r in results)
    batches = -(-len(events) // args.batch)
    row: dict[str, Any] = {
        "mode": mode,
        "workers": workers,
        "decisions": decided,
        "decisions_per_s": round(decided / wall),
        "per_worker_per_s": round(decided / wall / workers),
        "cpu_us_per_decision": round(cpu / decided * 1e6, 1),
    }
    if mode != "memory":
        reads = after["reads"] - before["reads"]
        requests = after["requests"] - before["requests"]
        row["redis_requests_per_batch"] = round(requests / batches, 2)
        row["redis_cpu_us_per_decision"] = round((after["cpu_us"] - before["cpu_us"]) / decided, 1)
        row["redis_socket_reads_per_batch"] = round(reads / batches, 2)
        commands = after["commands"] - before["commands"]  # scripts' own calls included
        row["redis_commands_per_event"] = round(commands / decided, 2)
        held = _redis_bytes(redis_url, prefix)
        row["redis_row_bytes_per_account"] = round(held["rows"] / args.accounts_seen)
        row["redis_claim_bytes_per_event"] = round(held["claims"] / decided)
        row["redis_stream_bytes"] = held["stream"]
    if mode == "redis+postgres":
        row["postgres_bytes_per_decision"] = round(_postgres_bytes(args.postgres, schema) / decided)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--pack", default="retail")
    parser.add_argument("--postgres", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    events = list(generate(args.events, accounts=max(1000, args.events // 4)))
    args.accounts_seen = len({json.loads(e)["account"] for e in events})
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        sys.exit("redis-server is not installed: this benchmark starts its own")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="shopguard-bench-redis-")
    server = subprocess.Popen(
        [redis_server, "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        url = f"redis://127.0.0.1:{port}/0"
        rows = [run(m, w, events, args, url) for m in args.modes for w in args.workers]
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    memory = {r["workers"]: r for r in rows if r["mode"] == "memory"}
    for r in rows:
        base = memory.get(r["workers"])
        if base is not None and r["mode"] != "memory":
            r["per_worker_vs_memory"] = round(r["per_worker_per_s"] / base["per_worker_per_s"], 3)
            r["cpu_vs_memory"] = round(r["cpu_us_per_decision"] / base["cpu_us_per_decision"], 3)
    table = Table(title=f"{args.events:,} events, batches of {args.batch}, pack {args.pack}")
    columns = ["mode", "workers", "decisions_per_s", "per_worker_per_s", "cpu_us_per_decision"]
    columns += ["per_worker_vs_memory", "cpu_vs_memory", "redis_requests_per_batch"]
    columns += ["redis_cpu_us_per_decision", "redis_row_bytes_per_account"]
    columns += ["redis_claim_bytes_per_event", "postgres_bytes_per_decision"]
    for column in columns:
        table.add_column(column.replace("_", " "), justify="right")
    for r in rows:
        table.add_row(*(str(r.get(c, "")) for c in columns))
    Console(stderr=True, width=200).print(table)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(
        json.dumps(
            {"events": args.events, "batch": args.batch, "load_1m": load, "rows": rows}, indent=2
        )
    )


if __name__ == "__main__":
    main()
