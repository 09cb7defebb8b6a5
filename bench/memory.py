"""Benchmark: resident memory under steady traffic from a bounded population.

    python bench/memory.py                          # 5M events through the engine
    python bench/memory.py --http --events 1000000  # through the HTTP app, in process
    python bench/memory.py --events 600000 --trace 300000,500000   # what is retained

The engine is built as `shopguard serve` builds it: Engine.from_config with the default
settings (durable SQLite journal in a temporary data directory, explain off,
gc_freeze_every, snapshot_every), fed in decide_many batches as the API's group commit
does. ``--http`` sends every event as its own POST /v1/decisions through the Starlette
app (called in process as uvicorn calls it, ``--concurrency`` requests at a time, so the
group commit batches them), with a resend, a malformed event, a decision read, a search,
a console live-stream poll and a /metrics scrape every ``--every-extra`` requests.

The population is bounded (``--population`` accounts, devices, IPs and phones; farm
phones drawn from a pool) and event time advances ``--per-day`` events a day, so every
window (the longest is 90 days), list TTL and the dedupe window expire within the
warm-up: from then on the state per entity should plateau. RSS (psutil) is sampled every
``--sample`` events; the slope is a least-squares fit over the samples after warm-up, in
bytes per event. ``--trace A,B`` takes tracemalloc snapshots at events A and B and prints
what grew in between, by traceback (slow: use it on small runs).
Prints a table on stderr and JSON on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import psutil
import yaml
from rich.console import Console
from rich.table import Table

# bench/http.py would shadow the standard library's http (Starlette imports it): bench/
# goes last on the path, not first.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE)]
from shopguard import Engine  # noqa: E402
from shopguard.version import build  # noqa: E402
from stream import generate  # noqa: E402

KEYS = {"k1": "bench-secret-key-0123456789abcdef"}
TENANT = "bench"


def stream(args: argparse.Namespace) -> Iterator[bytes]:
    return generate(
        args.events,
        accounts=args.population,
        seed=args.seed,
        span_days=args.events / args.per_day,
        farm_phones=max(1, args.population // 10),
        wool=max(1, args.population // 2),
    )


class Sampler:
    """RSS and what the engine holds, every ``every`` events; tracemalloc at two points."""

    def __init__(self, engine: Engine, every: int, trace: tuple[int, int] | None) -> None:
        self.engine, self.every, self.trace = engine, every, trace
        self.process = psutil.Process()
        self.samples: list[dict[str, Any]] = []
        self.snapshots: list[tracemalloc.Snapshot] = []
        self.started = time.perf_counter()
        self._next = every

    def seen(self, done: int) -> None:
        if self.trace and len(self.snapshots) < 2 and done >= self.trace[len(self.snapshots)]:
            gc.collect()
            self.snapshots.append(tracemalloc.take_snapshot())
        if done < self._next:
            return
        self._next += self.every
        engine = self.engine
        self.samples.append(
            sample := {
                "events": done,
                "rss_mb": round(self.process.memory_info().rss / 2**20, 1),
                "seconds": round(time.perf_counter() - self.started, 1),
                "dedupe_ids": len(engine.dedupe.seen),
                "entities": sum(  # rows: per tenant, per key group
                    len(table)
                    for tables in getattr(engine.store, "_data", {}).values()
                    for table in tables
                ),
                "frozen_objects": gc.get_freeze_count(),
            }
        )
        print(json.dumps(sample), file=sys.stderr, flush=True)  # a long run's curve so far

    def grown(self, top: int = 15) -> list[dict[str, Any]]:
        if len(self.snapshots) < 2:
            return []
        diff = self.snapshots[1].compare_to(self.snapshots[0], "traceback")
        out = []
        for stat in diff[:top]:
            frames = [f"{f.filename.split('/src/')[-1]}:{f.lineno}" for f in stat.traceback]
            out.append(
                {"kib": round(stat.size_diff / 1024), "blocks": stat.count_diff, "at": frames}
            )
        return out


def batches(args: argparse.Namespace, size: int) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for raw in stream(args):
        batch.append(raw)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_engine(engine: Engine, args: argparse.Namespace, sampler: Sampler) -> None:
    """decide_many batches, as the group commit makes them, with one resend per batch."""
    done = 0
    for batch in batches(args, args.batch):
        engine.decide_many([*batch, batch[0]])  # a client's retry: answered from dedupe
        done += len(batch)
        sampler.seen(done)


class Client:
    """Calls the ASGI app in process with one complete request each (what uvicorn hands
    it), keeping cookies: httpx's ASGI transport costs more than the app itself."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.cookies: dict[str, str] = {}

    async def call(
        self, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        path, _, query = target.partition("?")
        head = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if self.cookies:
            cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            head.append((b"cookie", cookie.encode()))
        head.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": head,
            "client": ("127.0.0.1", 40000),
            "server": ("bench", 80),
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        status, chunks = 0, []

        async def receive() -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name == b"set-cookie":
                        pair = value.decode().split(";", 1)[0]
                        key, _, val = pair.partition("=")
                        self.cookies[key] = val.strip('"')
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


async def _login(client: Client) -> None:
    """A console session for the live-stream poll (user made in run_http)."""
    await client.call("GET", "/console/login")
    form = f"csrf={client.cookies.get('sg_login', '')}&name=bench&password=bench-password-123"
    kind = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _ = await client.call("POST", "/console/login", form.encode(), kind)
    if status != 303:
        raise RuntimeError(f"console login answered {status}")


async def _http(app: Any, secret: str, args: argparse.Namespace, sampler: Sampler) -> None:
    auth = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    client = Client(app)
    await _login(client)
    call = client.call
    done = extra = 0
    for batch in batches(args, args.concurrency):
        answers = await asyncio.gather(*(call("POST", "/v1/decisions", r, auth) for r in batch))
        if any(status != 200 for status, _ in answers):
            raise RuntimeError(f"answer {answers[0][0]}: {answers[0][1][:200]!r}")
        done += len(batch)
        if done // args.every_extra > extra:
            extra = done // args.every_extra
            event_id = msgspec.json.decode(batch[0])["event_id"]
            for method, target, body in (
                ("POST", "/v1/decisions", batch[0]),  # a resend
                ("POST", "/v1/decisions", b'{"type": "payment", "event_id": 1}'),  # a 422
                ("GET", f"/v1/decisions/{event_id}", b""),
                ("GET", "/v1/decisions?limit=30", b""),
                ("GET", "/console/live.json", b""),
                ("GET", "/metrics", b""),
            ):
                status, _ = await call(method, target, body, auth)
                if status >= 500:
                    raise RuntimeError(f"{method} {target} answered {status}")
        sampler.seen(done)


def run_http(engine: Engine, data: Path, args: argparse.Namespace, sampler: Sampler) -> None:
    from shopguard.api import KeyStore, create_app
    from shopguard.console import UserStore
    from shopguard.settings import Settings

    defaults = Settings()
    keys = KeyStore(data / "access.db")
    _, secret = keys.create(TENANT, ["decide", "label", "admin"], "bench")
    users = UserStore(data / "access.db")
    users.create("bench", TENANT, "analyst", "bench-password-123")
    app = create_app(
        engine,
        keys,
        defaults.max_body_bytes,
        defaults.max_batch,
        defaults.max_inflight,
        operator_tenant=TENANT,
        users=users,
    )
    asyncio.run(_http(app, secret, args, sampler))


def slope(samples: list[dict[str, Any]]) -> float:
    """Least squares, bytes of RSS per event."""
    if len(samples) < 2:
        return 0.0
    xs = [float(s["events"]) for s in samples]
    ys = [float(s["rss_mb"]) * 2**20 for s in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--population", type=int, default=10_000, help="accounts")
    parser.add_argument("--per-day", type=int, default=10_000, help="events a day")
    parser.add_argument("--warmup-days", type=float, default=100, help="longest window + 10%%")
    parser.add_argument("--batch", type=int, default=64, help="events per decide_many")
    parser.add_argument("--sample", type=int, default=100_000, help="events between samples")
    parser.add_argument("--http", action="store_true", help="through the HTTP app")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--every-extra", type=int, default=10_000)
    parser.add_argument("--trace", help="A,B: tracemalloc diff between events A and B")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--set", action="append", default=[], help="a setting, e.g. gc_freeze_every=0"
    )
    args = parser.parse_args()
    trace = tuple(int(x) for x in args.trace.split(",")) if args.trace else None
    if trace:
        tracemalloc.start(12)
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory() as tmp:
        overrides = {k: yaml.safe_load(v) for k, v in (o.split("=", 1) for o in args.set)}
        engine = Engine.from_config(keys=KEYS, data_dir=tmp, **overrides)
        sampler = Sampler(engine, args.sample, trace)  # type: ignore[arg-type]
        with console.status(f"{args.events:,} events ({'HTTP' if args.http else 'engine'})"):
            if args.http:
                run_http(engine, Path(tmp), args, sampler)
            else:
                run_engine(engine, args, sampler)
        engine.close()
    warm = int(args.warmup_days * args.per_day)
    after = [s for s in sampler.samples if s["events"] >= warm]
    result = {
        "build": build(),
        "path": "http" if args.http else "engine",
        "events": args.events,
        "population": args.population,
        "per_day": args.per_day,
        "settings": args.set,
        "warmup_events": warm,
        "rss_mb_after_warmup": after[0]["rss_mb"] if after else None,
        "rss_mb_end": sampler.samples[-1]["rss_mb"] if sampler.samples else None,
        "slope_bytes_per_event": round(slope(after), 2),
        "entities_after_warmup": after[0]["entities"] if after else None,
        "entities_end": sampler.samples[-1]["entities"] if sampler.samples else None,
        "per_s": round(args.events / (time.perf_counter() - sampler.started)),
        "samples": sampler.samples,
        "grown": sampler.grown(),
    }
    _table(console, result)
    print(json.dumps(result, indent=2))


def _table(console: Console, r: dict[str, Any]) -> None:
    title = (
        f"RSS under steady traffic ({r['path']}, {r['build']} build): "
        f"{r['slope_bytes_per_event']} B/event after warm-up ({r['warmup_events']:,} events)"
    )
    table = Table(title=title)
    for col in ("events", "RSS MB", "s", "dedupe ids", "entities", "frozen objects"):
        table.add_column(col, justify="right")
    for s in r["samples"]:
        table.add_row(
            f"{s['events']:,}",
            str(s["rss_mb"]),
            str(s["seconds"]),
            f"{s['dedupe_ids']:,}",
            f"{s['entities']:,}",
            f"{s['frozen_objects']:,}",
        )
    console.print(table)
    if r["grown"]:
        grown = Table(title="grown between the --trace points (KiB, blocks, where)")
        for col in ("KiB", "blocks", "allocated at (innermost last)"):
            grown.add_column(col)
        for g in r["grown"]:
            grown.add_row(str(g["kib"]), f"{g['blocks']:,}", "\n".join(g["at"][-6:]))
        console.print(grown)


if __name__ == "__main__":
    main()
