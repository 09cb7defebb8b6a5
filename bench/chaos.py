"""Chaos: decisions under slow clients, a full disk and a locked database, against a real
`shopguard serve` on 127.0.0.1.

    python bench/chaos.py                    # ~10 s per phase, under 3 minutes
    python bench/chaos.py --seconds 5 --out bench/out/chaos.json

The server runs pinned to CPU 0 with the shipped settings, the harness on CPU 1: a keyed
client (8 keep-alive connections, closed loop) decides fresh events through every phase
while a probe process asks /healthz every 20 ms and /readyz every 250 ms. Phases: a
fault-free baseline; 512 sockets trickling a byte a second into `POST /console/login`
(body, then headers) and into `POST /v1/decisions` with a valid key (body); the data
directory on a small tmpfs filled to the last byte, then freed; decisions.db held under
`BEGIN EXCLUSIVE` by another process, then released. Afterwards every event answered 200
must be in the journal and `shopguard audit verify` must pass. JSON on stdout (or --out),
a table on stderr. Every socket, request and subprocess has a timeout, the whole run an
alarm; the server is stopped and the tmpfs unmounted whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).parent))
from faults import (
    DbLock,
    Probe,
    SlowSockets,
    decide_body,
    fill,
    login_body,
    login_headers,
    settle,
    tmpfs,
)
from harness import create_key, free_port, pin, serve, stop
from load import Client, answers, first_ok, probed
from report import journal_check, log_growth, log_size, print_report, targets, verify
from stream import generate

TENANT = "default"
Span = tuple[str, float, Callable[[], Awaitable[None]] | None]


class Deadline(BaseException):
    """The run's alarm (or SIGTERM): not an error a phase may catch and go on after."""


def _attempt(name: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A phase's result, or what stopped it (the next phase still runs)."""
    print(f"chaos: {name}", file=sys.stderr, flush=True)
    try:
        return run()
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


async def _phase(
    args: argparse.Namespace, client: Client, spans: list[Span], slow: SlowSockets | None = None
) -> dict[str, Any]:
    """Run the client through ``spans`` (name, seconds, what to do as it begins) while the
    probe watches; ``slow``, if a span's action opened it, is closed at the end."""
    result: dict[str, Any] = {}
    bounds: list[tuple[str, float, float]] = []
    logged = log_size(client.log)
    probe = Probe(client.port)
    try:
        client.until = float("inf")
        load = [asyncio.ensure_future(client.connection(10)) for _ in range(args.connections)]
        for name, seconds, action in spans:
            if action is not None:
                await action()
            start = time.monotonic()
            await asyncio.sleep(seconds)
            bounds.append((name, start, time.monotonic()))
        client.until = time.monotonic()
        if slow:
            result["slow_sockets_open"] = {"at_start": slow.open_at_start, "at_end": slow.open}
        _, late = await asyncio.wait(load, timeout=3)
        for task in late:  # still waiting on an answer: neither counted nor acknowledged
            task.cancel()
    finally:
        if slow:
            await slow.close()
        seen = probe.finish()
    result["settled_after_s"] = await asyncio.to_thread(settle, client.port)
    result["server_log"] = log_growth(client.log, logged)
    return result | _spans(client, bounds, seen, slow)


def _spans(
    client: Client,
    bounds: list[tuple[str, float, float]],
    seen: dict[str, Any],
    slow: SlowSockets | None,
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, start, end in bounds:
        result[name] = {**answers(client.records, start, end), **probed(seen, start, end)}
        result[name]["started_s"] = round(start - bounds[0][1], 2)
    if len(bounds) > 2:  # before, fault, recovery
        result["first_200_after_recovery_s"] = first_ok(client.records, bounds[2][1])
    if slow:
        result["slow_sockets"] = {
            "count": slow.count,
            "opened": slow.opened,
            "refused": slow.refused,
            "answers": dict(slow.answers),
        }
    return result


def _slow_phases(args: argparse.Namespace, client: Client, key: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, slow in (
        ("slow_login_body", login_body()),
        ("slow_login_headers", login_headers()),
        ("slow_decide_body", decide_body(key)),
    ):
        sockets = SlowSockets(client.port, slow, args.slow_sockets)
        spans: list[Span] = [("before", 2, None), ("fault", args.seconds, sockets.start)]
        found[name] = _attempt(name, partial(asyncio.run, _phase(args, client, spans, sockets)))
    return found


def _locked(args: argparse.Namespace, client: Client, db: Path) -> dict[str, Any]:
    lock = DbLock(db)

    async def acquire() -> None:
        await asyncio.to_thread(lock.acquire)

    async def release() -> None:
        await asyncio.to_thread(lock.release)

    spans: list[Span] = [
        ("before", 2, None),
        ("fault", args.seconds, acquire),
        ("recovery", args.recover_seconds, release),
    ]
    try:
        return asyncio.run(_phase(args, client, spans))
    finally:
        lock.release()


def _full_disk(args: argparse.Namespace, client: Client, mount: Path) -> dict[str, Any]:
    filler = mount / "filler"
    filled: list[int] = []
    keep_full: list[asyncio.Task[None]] = []

    async def top_up() -> None:  # whatever the server frees (a deleted WAL...) is taken again
        while True:
            filled.append(await asyncio.to_thread(fill, filler))
            await asyncio.sleep(0.5)

    async def brim() -> None:
        filled.append(await asyncio.to_thread(fill, filler))
        keep_full.append(asyncio.ensure_future(top_up()))

    async def free() -> None:
        keep_full[0].cancel()
        await asyncio.wait(keep_full, timeout=5)
        filler.unlink(missing_ok=True)

    spans: list[Span] = [
        ("before", 2, None),
        ("fault", args.seconds, brim),
        ("recovery", args.recover_seconds, free),
    ]
    try:
        result = asyncio.run(_phase(args, client, spans))
    finally:
        filler.unlink(missing_ok=True)
    result["filled_bytes"] = sum(filled)
    result["free_bytes_at_end"] = shutil.disk_usage(mount).free  # a fast server fills it anew
    return result


def _served(
    args: argparse.Namespace,
    stack: ExitStack,
    data: Path,
    log: Path,
    name: str,
    phases: Callable[[Client, str, Path], dict[str, Any]],
) -> dict[str, Any]:
    """One server on ``data``: the phases, a GET of some acknowledged ids, then (stopped)
    the journal check and `audit verify`."""
    env = {**os.environ, "SHOPGUARD_KEYS": "k1:chaos-secret-key-0123456789abcdef"}
    key = create_key(data, TENANT, env, "chaos")
    port = free_port()
    proc = serve(data, port, env, stack.enter_context(log.open("wb")))
    stack.callback(stop, proc)
    client = Client(port, key, TENANT, args.templates, name)
    client.log = log
    found: dict[str, Any] = {}
    try:
        found = phases(client, key, data)
        found["lookup_sample"] = dict(asyncio.run(client.lookup(args.lookups)))
    finally:
        found["server_exit"] = proc.poll()
        stop(proc)
        found["server_log_bytes"] = log.stat().st_size
    found["journal"] = journal_check(data / "decisions.db", TENANT, client.acked)
    found["verify"] = verify(data, env)
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"cpu_count": os.cpu_count(), "settings": dict(vars(args))}
    args.templates = [msgspec.json.decode(e) for e in generate(20_000)]

    def main_server(client: Client, key: str, data: Path) -> dict[str, Any]:
        warm: Span = ("warm-up", 3, None)
        spans = [warm, ("fault-free", args.seconds, None)]
        found = {"baseline": _attempt("baseline", lambda: asyncio.run(_phase(args, client, spans)))}
        found |= _slow_phases(args, client, key)
        found["db_locked"] = _attempt(
            "db_locked", lambda: _locked(args, client, data / "decisions.db")
        )
        return found

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="shopguard-chaos-")))
        logs = args.logs or tmp
        logs.mkdir(parents=True, exist_ok=True)
        result["main"] = _served(args, stack, tmp / "data", logs / "main.log", "main", main_server)
        mount = tmp / "tmpfs"
        why_not = stack.enter_context(tmpfs(mount, args.tmpfs_mb))
        if why_not:
            result["disk_full"] = {"skipped": why_not}
        else:

            def disk(client: Client, key: str, data: Path) -> dict[str, Any]:
                return {"disk_full": _attempt("disk_full", lambda: _full_disk(args, client, mount))}

            try:
                result["tmpfs"] = _served(
                    args, stack, mount / "data", logs / "tmpfs.log", "tmpfs", disk
                )
            except Exception as exc:  # e.g. no server would start on it: say so, go on
                result["disk_full"] = {"error": f"{type(exc).__name__}: {exc}"}
    result["targets"] = targets(result)
    return result


def _limits(args: argparse.Namespace) -> None:
    """Room for the slow sockets (the server inherits the limit) and an alarm for the run."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4 * args.slow_sockets + 1024
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    def give_up(signum: int, frame: object) -> None:
        raise Deadline(f"chaos run stopped by signal {signum} (deadline {args.deadline} s)")

    signal.signal(signal.SIGALRM, give_up)
    signal.signal(signal.SIGTERM, give_up)
    signal.alarm(args.deadline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="per phase")
    parser.add_argument("--recover-seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=8, help="of the deciding client")
    parser.add_argument("--slow-sockets", type=int, default=512)
    parser.add_argument("--tmpfs-mb", type=int, default=64)
    parser.add_argument("--lookups", type=int, default=200, help="acknowledged ids to GET")
    parser.add_argument("--deadline", type=int, default=600, help="hard stop, seconds")
    parser.add_argument("--out", type=Path, help="write the JSON here, not to stdout")
    parser.add_argument("--logs", type=Path, help="keep the servers' output in this folder")
    args = parser.parse_args()
    _limits(args)
    pin(1)
    try:
        result = run(args)
    except Deadline as stopped:  # the servers are stopped and the tmpfs unmounted by now
        print(f"{stopped}: no result", file=sys.stderr)
        sys.exit(2)
    print_report(result)
    text = json.dumps(result, indent=2, default=str)
    if args.out:
        args.out.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
