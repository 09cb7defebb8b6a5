"""Benchmark: the HTTP decision API against its composed bound.

    python bench/http.py                     # 15 s per run, 64 connections, 10k/s offered
    python bench/http.py --seconds 5 --rate 10000 --no-overload

What one run reports (servers pinned to CPU 0, the load generator to CPU 1):
- bare: a uvicorn app that only decodes the event with msgspec and answers a fixed JSON,
  closed loop (each keep-alive connection sends its next request once answered);
- durable in-process: ``Engine.decide_many`` in batches of 256 on CPU 0, with the
  server's settings and a SQLite journal in a temporary data directory (what the group
  commit does with the engine, no HTTP);
- bound: 1 / (1/bare + 1/durable), what a decision over HTTP would reach if it cost a
  bare request plus a durable decision and nothing else;
- shopguard: `shopguard serve` closed loop, its decisions/s and ratio to the bound;
- fixed load: an open-loop generator offering ``--rate`` requests/s (each due on
  schedule whatever became of the others, sent on the first of 64 keep-alive
  connections free; latency counted from its due time, so a slow server cannot hide its
  queue) to the bare app and to shopguard, with p50/p90/p99/p99.9;
- overload: twice shopguard's closed-loop rate from 256 paced connections (503 shed).

The machine may be shared: the server's CPU µs per request (from /proc, whatever else
runs) are reported with each run, and a CPU ratio (bare CPU + engine CPU) / shopguard CPU
beside the rate ratio: less sensitive to other load than rates are. Table on stderr,
JSON on stdout.
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

import psutil
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
ENV = {
    "SHOPGUARD_KEYS": "k1:bench-secret-key-0123456789abcdef",
    "SHOPGUARD_DEFAULT_TENANT": "bench",
    "SHOPGUARD_MAX_INFLIGHT": "64",
    # the seeded stream is dated March 2025: a live server would refuse it
    "SHOPGUARD_EVENT_TIME": "replay",
}


def _requests(events: list[bytes], path: str, key: str) -> list[bytes]:
    return [post(path, e, key) for e in events]


class CpuMeter:
    """CPU seconds a server process spent between ``start`` and ``stop``."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.started = 0.0

    def _now(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def start(self) -> None:
        self.started = self._now()

    def stop(self, requests: int) -> float | None:
        """CPU µs per request."""
        return round((self._now() - self.started) / requests * 1e6, 1) if requests else None


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


def _summary(lat: list[float], statuses: dict[int, int], elapsed: float) -> dict[str, Any]:
    ok = sorted(lat)
    return {
        "requests": sum(statuses.values()),
        "per_s": round(len(lat) / elapsed),
        "p50_ms": quantile_ms(ok, 0.5),
        "p90_ms": quantile_ms(ok, 0.9),
        "p99_ms": quantile_ms(ok, 0.99),
        "p999_ms": quantile_ms(ok, 0.999),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def closed_loop(
    port: int, requests: list[bytes], seconds: float, conns: int, rate: float | None = None
) -> dict[str, Any]:
    """``conns`` connections, each sending its next request once answered (paced to
    ``rate`` in all when given)."""
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
    _run(run())
    return _summary(lat, statuses, time.perf_counter() - started)


def open_loop(
    port: int, requests: list[bytes], seconds: float, rate: float, conns: int = 64
) -> dict[str, Any]:
    """Request i falls due at start + i/rate, whatever became of the earlier ones; the
    first of ``conns`` keep-alive connections free sends it (``conns`` = the server's
    in-flight budget, so none is shed for want of room). Its latency runs from its due
    time, so the time it waited for a free connection counts: a server that falls
    behind shows its queue. Requests still unanswered 10 s after the last one fell due
    count under status 0."""
    lat: list[float] = []
    lag: list[float] = []  # how late the generator noticed a request was due
    statuses: dict[int, int] = {}
    last = [0.0]  # when the last answer came

    async def connection(due: asyncio.Queue[tuple[float, bytes]], until: float) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while True:
                at, request = await due.get()
                writer.write(request)
                status, _ = await read_response(reader)
                last[0] = time.perf_counter()
                if status == 200:
                    lat.append(last[0] - at)
                statuses[status] = statuses.get(status, 0) + 1
                if time.perf_counter() > until:
                    return
        finally:
            writer.close()

    async def run() -> float:
        due: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        total = int(seconds * rate)
        until = time.perf_counter() + seconds + 10
        workers = [asyncio.create_task(connection(due, until)) for _ in range(conns)]
        start, sent = time.perf_counter(), 0
        while sent < total:
            now = time.perf_counter()
            due_now = min(total, int((now - start) * rate) + 1)
            if due_now > sent:
                lag.append(now - (start + sent / rate))
            while sent < due_now:
                due.put_nowait((start + sent / rate, requests[sent % len(requests)]))
                sent += 1
            await asyncio.sleep(0.0005)
        while sum(statuses.values()) < total and time.perf_counter() < until:
            await asyncio.sleep(0.01)
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        missing = total - sum(statuses.values())
        if missing:
            statuses[0] = missing
        return max(last[0], start + seconds) - start

    elapsed = _run(run())
    lag.sort()
    return {
        "offered_per_s": round(rate),
        **_summary(lat, statuses, elapsed),
        "send_lag_p99_ms": quantile_ms(lag, 0.99),
    }


def _answered(run: dict[str, Any]) -> int:
    return int(run["statuses"].get("200", 0))


def _run(coro: Any) -> Any:
    try:
        import uvloop  # the generator's own overhead, halved
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)
    return uvloop.run(coro)


def durable_in_process(events: list[bytes], batch: int = 256) -> dict[str, Any]:
    """``decide_many`` batches on CPU 0 with the server's settings and a fresh journal."""
    from shopguard.cli.app import settings_for
    from shopguard.engine import Engine

    pin(0)
    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update(ENV)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = settings_for(None, Path(tmp), None).serving()
            engine = Engine.from_config(settings=settings)
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(0, len(events), batch):
                engine.decide_many(events[i : i + batch])
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            engine.close()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        pin(1)
    return {
        "events": len(events),
        "batch": batch,
        "per_s": round(len(events) / wall),
        "cpu_us": round(cpu / len(events) * 1e6, 1),
    }


def _bare(tmp: str) -> tuple[subprocess.Popen[bytes], int]:
    Path(tmp, "bare.py").write_text(BARE)
    port = free_port()
    args = ["-m", "uvicorn", "bare:app", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(
        [sys.executable, *args, "--no-access-log"], cwd=tmp, preexec_fn=lambda: pin(0)
    )
    wait_port(port)
    return proc, port


def measure(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    events = list(generate(400_000))
    result: dict[str, Any] = {"cpu_count": os.cpu_count(), "load_average": os.getloadavg()}
    pin(1)
    with tempfile.TemporaryDirectory() as tmp:
        bare, port = _bare(tmp)
        meter, bare_requests = CpuMeter(bare.pid), _requests(events, "/", "x")
        with console.status("bare msgspec endpoint"):
            meter.start()
            result["bare"] = closed_loop(port, bare_requests, args.seconds, args.connections)
            result["bare"]["cpu_us"] = meter.stop(_answered(result["bare"]))
        with console.status(f"bare, {args.rate:,.0f}/s offered"):
            meter.start()
            result["bare_fixed"] = open_loop(port, bare_requests, args.seconds, args.rate)
            result["bare_fixed"]["cpu_us"] = meter.stop(_answered(result["bare_fixed"]))
        stop(bare)
        with console.status("durable in-process decide_many"):
            result["durable"] = durable_in_process(events[-args.engine_events :])
        port = free_port()
        env = {**os.environ, **ENV}
        data = Path(tmp) / "data"
        key = create_key(data, "bench", env)
        with open(Path(tmp) / "serve.log", "wb") as log:
            served = serve(data, port, env, log)
            meter = CpuMeter(served.pid)
            # each run its own events: a resend would be answered from the dedupe window
            third = (len(events) - args.engine_events) // 3
            parts = [events[i * third : (i + 1) * third] for i in range(3)]
            try:
                with console.status("shopguard /v1/decisions"):
                    requests = _requests(parts[0], "/v1/decisions", key)
                    meter.start()
                    ours = closed_loop(port, requests, args.seconds, args.connections)
                    ours["cpu_us"] = meter.stop(_answered(ours))
                    result["shopguard"] = ours
                with console.status(f"shopguard, {args.rate:,.0f}/s offered"):
                    requests = _requests(parts[1], "/v1/decisions", key)
                    meter.start()
                    fixed = open_loop(port, requests, args.seconds, args.rate)
                    fixed["cpu_us"] = meter.stop(_answered(fixed))
                    result["shopguard_fixed"] = fixed
                if args.overload:
                    rate = 2 * result["shopguard"]["per_s"]
                    with console.status(f"overload: {rate:,}/s offered"):
                        requests = _requests(parts[2], "/v1/decisions", key)
                        loaded = closed_loop(port, requests, args.seconds, 256, rate)
                        result["overload"] = {"offered_per_s": rate, **loaded}
            finally:
                stop(served)
    result["load_average_after"] = os.getloadavg()
    return result


def compose(result: dict[str, Any]) -> None:
    """The bound and our share of it, by rate and by CPU."""
    bare, durable, ours = result["bare"], result["durable"], result["shopguard"]
    bound = 1 / (1 / bare["per_s"] + 1 / durable["per_s"])
    result["bound_per_s"] = round(bound)
    result["ratio_vs_bound"] = round(ours["per_s"] / bound, 3)
    result["ratio_vs_bare"] = round(ours["per_s"] / bare["per_s"], 3)
    if bare.get("cpu_us") and ours.get("cpu_us"):
        result["bound_cpu_us"] = round(bare["cpu_us"] + durable["cpu_us"], 1)
        result["cpu_ratio_vs_bound"] = round(result["bound_cpu_us"] / ours["cpu_us"], 3)
    fixed = result["shopguard_fixed"]
    answered = fixed["statuses"].get("200", 0) == fixed["requests"]
    result["targets"] = {
        "ratio_vs_bound >= 0.8": result["ratio_vs_bound"] >= 0.8,
        f"p99 <= 10 ms at {fixed['offered_per_s']:,}/s": bool(
            answered and fixed["p99_ms"] is not None and fixed["p99_ms"] <= 10
        ),
    }


def report(result: dict[str, Any], console: Console) -> None:
    table = Table(title="ShopGuard HTTP benchmark (servers on CPU 0, load on CPU 1)")
    cols = (
        "run",
        "per s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "CPU µs",
        "send lag",
        "statuses",
    )
    for col in cols:
        table.add_column(col)
    for name in ("bare", "bare_fixed", "shopguard", "shopguard_fixed", "overload"):
        r = result.get(name)
        if r is None:
            continue
        label = f"{name} ({r['offered_per_s']:,}/s offered)" if "offered_per_s" in r else name
        keys = ("p50_ms", "p90_ms", "p99_ms", "p999_ms", "cpu_us", "send_lag_p99_ms")
        cells = [r.get(k) for k in keys]
        shown = [label, f"{r['per_s']:,}", *("" if c is None else str(c) for c in cells)]
        table.add_row(*shown, json.dumps(r["statuses"]))
    d = result["durable"]
    table.add_row("durable in-process", f"{d['per_s']:,}", *[""] * 4, str(d["cpu_us"]), "", "")
    table.add_row("composed bound", f"{result['bound_per_s']:,}", *[""] * 7)
    console.print(table)
    console.print(
        f"shopguard / bound: {result['ratio_vs_bound']} by rate,"
        f" {result.get('cpu_ratio_vs_bound')} by CPU; / bare: {result['ratio_vs_bare']};"
        f" load average {result['load_average']} -> {result['load_average_after']}"
    )
    for target, met in result["targets"].items():
        console.print(f"  {target}: {'met' if met else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=10_000, help="offered requests/s")
    parser.add_argument("--engine-events", type=int, default=60_000)
    parser.add_argument("--overload", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    console = Console(stderr=True, width=150)
    result = measure(args, console)
    compose(result)
    report(result, console)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
