"""Slow clients and a login flood against a real `shopguard serve` (issue 13, hole 5).

Phases, each ``--seconds`` long, on loopback: decisions alone; decisions while
``--slow`` sockets trickle a byte a second (half a login body, half a decision body with a
valid key, reopened when the server closes them); /healthz while 8 clients sign in over
and over. Prints decisions/s per phase (and as a share of the first), answers by status,
/healthz p50/p99, and how many slow connections were opened in all. JSON on stdout.

  python bench/slow_clients.py --seconds 5 --slow 512
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).parent.resolve()]
import httpx  # noqa: E402  (bench/http.py would shadow the standard library's http)

from shopguard.api import KeyStore  # noqa: E402
from shopguard.console import UserStore  # noqa: E402

PASSWORD = "bench password 1"
_IDS = itertools.count()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _event(n: int) -> dict[str, Any]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "type": "payment",
        "event_id": f"b{n}",
        "tenant": "bench",
        "time": now,
        "account": f"u{n % 500}",
        "merchant": "m1",
        "order_id": f"o{n}",
        "amount": 12.5,
    }


async def _decide(url: str, key: str, seconds: float, workers: int) -> dict[str, Any]:
    statuses: Counter[int] = Counter()
    stop = time.monotonic() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        while time.monotonic() < stop:
            answer = await client.post("/v1/decisions", json=_event(next(_IDS)))
            statuses[answer.status_code] += 1

    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        start = time.monotonic()
        await asyncio.gather(*(worker(client) for _ in range(workers)))
        elapsed = time.monotonic() - start
    return {"per_s": round(statuses[200] / elapsed), "statuses": dict(statuses)}


async def _probe(url: str, seconds: float) -> dict[str, float]:
    took: list[float] = []
    stop = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while time.monotonic() < stop:
            start = time.perf_counter()
            await client.get("/healthz")
            took.append(time.perf_counter() - start)
            await asyncio.sleep(0.01)
    took.sort()
    return {
        "healthz_p50_ms": round(took[len(took) // 2] * 1e3, 2),
        "healthz_p99_ms": round(took[int(len(took) * 0.99)] * 1e3, 2),
    }


async def _trickle(port: int, head: bytes, stop: float, opened: list[int]) -> None:
    while time.monotonic() < stop:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head)
            while time.monotonic() < stop and not reader.at_eof():
                await asyncio.sleep(1)
                writer.write(b"x")
                await writer.drain()
        except OSError:
            pass
        opened[0] += 1
        await asyncio.sleep(0.1)


async def _flood_logins(url: str, stop: float) -> int:
    done = 0

    async def one() -> None:
        nonlocal done
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            while time.monotonic() < stop:
                page = await client.get("/console/login")
                csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
                form = {"name": "ana", "password": PASSWORD, "csrf": csrf.group(1) if csrf else ""}
                await client.post("/console/login", data=form)
                done += 1

    await asyncio.gather(*(one() for _ in range(8)))
    return done


def _slow_process(port: int, key: str, count: int, seconds: float) -> None:
    """The slow sockets, in their own process so they do not slow the load generator."""
    login = b"POST /console/login HTTP/1.1\r\nHost: b\r\nContent-Length: 100000\r\n\r\n"
    decision = b"POST /v1/decisions HTTP/1.1\r\nHost: b\r\nContent-Length: 100000\r\n"
    decision += f"Authorization: Bearer {key}\r\n\r\n".encode()
    opened = [0]

    async def run() -> None:
        stop = time.monotonic() + seconds
        await asyncio.gather(
            *(_trickle(port, login if n % 2 else decision, stop, opened) for n in range(count))
        )

    asyncio.run(run())
    print(json.dumps({"slow_connections_opened": opened[0]}), file=sys.stderr)


async def _phases(url: str, port: int, key: str, args: argparse.Namespace) -> dict[str, Any]:
    quiet, probe = await asyncio.gather(
        _decide(url, key, args.seconds, args.workers), _probe(url, args.seconds)
    )
    quiet.update(probe)
    slow = multiprocessing.Process(
        target=_slow_process, args=(port, key, args.slow, args.seconds + 3)
    )
    slow.start()
    await asyncio.sleep(2)  # all connected and trickling before the load starts
    loaded, probe = await asyncio.gather(
        _decide(url, key, args.seconds, args.workers), _probe(url, args.seconds)
    )
    loaded.update(probe)
    slow.join()
    loaded["share_of_quiet"] = round(loaded["per_s"] / max(quiet["per_s"], 1), 3)
    flood_stop = time.monotonic() + args.seconds
    logins, flood = await asyncio.gather(_flood_logins(url, flood_stop), _probe(url, args.seconds))
    return {
        "quiet": quiet,
        f"slow_{args.slow}": loaded,
        "login_flood_8": {"logins": logins, **flood},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--slow", type=int, default=512)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        keys = KeyStore(Path(tmp) / "access.db")
        key = keys.create("bench", ["decide"])[1]
        keys.close()
        UserStore(Path(tmp) / "access.db").create("ana", "bench", "analyst", PASSWORD)
        port = _port()
        env = {
            **os.environ,
            "SHOPGUARD_KEYS": "k1:bench-secret-key-0123456789abcdef",
            "SHOPGUARD_DEFAULT_TENANT": "bench",
        }
        command = [
            sys.executable,
            "-m",
            "shopguard.cli",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            tmp,
        ]
        served = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            result = asyncio.run(_phases(url, port, key, args))
        finally:
            served.terminate()
            served.wait(30)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
