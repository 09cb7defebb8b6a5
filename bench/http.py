"""Benchmark: the HTTP decision API under load, against a bare msgspec endpoint.

    python bench/http.py                     # 20 s per run, 64 connections
    python bench/http.py --seconds 5

Starts `shopguard serve` (durable SQLite journal, starter pack) and, for comparison, a
bare uvicorn app that only decodes the event with msgspec and answers a fixed JSON; each
server runs pinned to CPU 0, the load generator (raw asyncio HTTP/1.1 keep-alive
connections, closed loop) to CPU 1. Then an overload run offers twice the measured
sustainable rate (open loop) and reports how many requests were shed with 503 and the
latency of the admitted ones. Prints a table on stderr and JSON on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from harness import (
    HOST,
    create_key,
    free_port,
    pin,
    post,
    quantile_ms,
    read_response,
    serve,
    stop,
    wait_port,
)
from stream import generate

BARE = """
import msgspec
from shopguard.events.catalog import Event
decoder = msgspec.json.Decoder(Event)
ANSWER = b'{"outcome":"allow"}'
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    decoder.decode(body)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(ANSWER)).encode())]})
    await send({"type": "http.response.body", "body": ANSWER})
"""


def _requests(events: list[bytes], path: str, key: str) -> list[bytes]:
    return [post(path, e, key) for e in events]


async def _connection(
    port: int,
    requests: list[bytes],
    start: int,
    step: int,
    until: float,
    lat: list[float],
    statuses: dict[int, int],
    pace: float | None,
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    i, next_at = start, time.perf_counter()
    while time.perf_counter() < until:  # event ids repeat only if the stream runs out
        i %= len(requests)
        if pace:
            next_at += pace
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        t0 = time.perf_counter()
        writer.write(requests[i])
        status, _ = await asyncio.wait_for(read_response(reader), 30)
        if status == 200:  # latency of the requests answered, not of the ones shed
            lat.append(time.perf_counter() - t0)
        statuses[status] = statuses.get(status, 0) + 1
        i += step
    writer.close()


def _load(
    port: int, requests: list[bytes], seconds: float, conns: int, rate: float | None = None
) -> dict[str, Any]:
    lat: list[float] = []
    statuses: dict[int, int] = {}
    pace = conns / rate if rate else None

    async def run() -> None:
        until = time.perf_counter() + seconds
        await asyncio.gather(
            *(
                _connection(port, requests, c, conns, until, lat, statuses, pace)
                for c in range(conns)
            )
        )

    started = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - started
    ok = sorted(lat)
    return {
        "requests": sum(statuses.values()),
        "per_s": round(len(lat) / elapsed),
        "p50_ms": quantile_ms(ok, 0.5),
        "p99_ms": quantile_ms(ok, 0.99),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    console = Console(stderr=True)
    events = list(generate(400_000))
    result: dict[str, Any] = {"cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        bare_file = Path(tmp) / "bare.py"
        bare_file.write_text(BARE)
        port = free_port()
        bare = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bare:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=tmp,
            preexec_fn=lambda: pin(0),
        )
        wait_port(port)
        pin(1)
        with console.status("bare msgspec endpoint"):
            result["bare"] = _load(
                port, _requests(events, "/", "x"), args.seconds, args.connections
            )
        bare.terminate()
        bare.wait()
        port = free_port()
        env = {
            **os.environ,
            "SHOPGUARD_KEYS": "k1:bench-secret-key-0123456789abcdef",
            "SHOPGUARD_DEFAULT_TENANT": "bench",
            "SHOPGUARD_MAX_INFLIGHT": "64",
            # the seeded stream is dated March 2025: a live server would refuse it
            "SHOPGUARD_EVENT_TIME": "replay",
        }
        data = Path(tmp) / "data"
        key = create_key(data, "bench", env)
        with open(Path(tmp) / "serve.log", "wb") as log:
            served = serve(data, port, env, log)
            requests = _requests(events, "/v1/decisions", key)
            try:
                with console.status("shopguard /v1/decisions"):
                    result["shopguard"] = _load(port, requests, args.seconds, args.connections)
                rate = 2 * result["shopguard"]["per_s"]
                with console.status(f"overload: {rate:,}/s offered"):
                    result["overload"] = {
                        "offered_per_s": rate,
                        **_load(port, requests[len(requests) // 2 :], args.seconds, 256, rate),
                    }
            finally:
                stop(served)
    result["ratio_vs_bare"] = round(result["shopguard"]["per_s"] / result["bare"]["per_s"], 3)
    table = Table(title="ShopGuard HTTP benchmark (server on CPU 0, load on CPU 1)")
    for col in ("run", "requests/s", "p50 ms", "p99 ms", "statuses"):
        table.add_column(col)
    for name in ("bare", "shopguard", "overload"):
        r = result[name]
        table.add_row(
            name, f"{r['per_s']:,}", str(r["p50_ms"]), str(r["p99_ms"]), json.dumps(r["statuses"])
        )
    console.print(table)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
