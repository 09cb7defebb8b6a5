"""The faults `bench/chaos.py` inflicts on a running server, each bounded and undone by
its caller: slow sockets, a full filesystem, a database locked by another process, and
the probe that watches `/healthz` and `/readyz` meanwhile."""

from __future__ import annotations

import asyncio
import errno
import json
import multiprocessing
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from harness import HOST

PROBE_TIMEOUT = 1.0  # as an orchestrator's default: a slower probe fails, counted at this


@dataclass
class Slow:
    """A request that never completes: ``head`` at once, then ``trickle`` a byte at a time."""

    head: bytes
    trickle: bytes


def login_body() -> Slow:
    head = (
        "POST /console/login HTTP/1.1\r\nHost: chaos\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
    )
    return Slow(head.encode(), b"name=ana&csrf=x&password=" + b"p" * 64)


def login_headers() -> Slow:
    return Slow(b"POST /console/login HTTP/1.1\r\nHost: chaos\r\n", b"X-Slow: " + b"h" * 64)


def decide_body(key: str) -> Slow:
    head = (
        f"POST /v1/decisions HTTP/1.1\r\nHost: chaos\r\nAuthorization: Bearer {key}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    )
    return Slow(head.encode(), b'{"type": "payment", "event_id": "slow", ' + b" " * 64)


@dataclass
class SlowSockets:
    """``count`` sockets, each sending one byte every ``interval`` seconds; one the server
    closes or answers is opened again after a pause, as a patient attacker would."""

    port: int
    slow: Slow
    count: int
    interval: float = 1.0
    open: int = 0
    opened: int = 0
    refused: int = 0
    open_at_start: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Future[list[None]] | None = None

    async def start(self, ramp: float = 15) -> None:
        """Open them; return once all are open (or after ``ramp`` seconds)."""
        self._task = asyncio.gather(*(self._one(i, self._stop) for i in range(self.count)))
        self._task.add_done_callback(lambda done: done.cancelled() or done.exception())
        deadline = time.monotonic() + ramp
        while self.open < self.count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self.open_at_start = self.open

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=10)
            self._task.cancel()

    async def _one(self, index: int, stop: asyncio.Event) -> None:
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.sleep(index * self.interval / self.count)  # spread the writes
        try:
            while not stop.is_set():
                await self._connection(stopped)
                await asyncio.wait({stopped}, timeout=0.5)
        finally:
            stopped.cancel()

    async def _connection(self, stopped: asyncio.Future[Any]) -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, self.port), 5)
        except (OSError, TimeoutError):
            self.refused += 1
            return
        self.open += 1
        self.opened += 1
        reply = asyncio.ensure_future(reader.readline())
        try:
            writer.write(self.slow.head)
            i = 0
            while not stopped.done():
                await asyncio.wait({reply, stopped}, timeout=self.interval)
                if reply.done():
                    self.answers[_answer(reply)] += 1
                    return
                if not stopped.done():
                    writer.write(self.slow.trickle[i % len(self.slow.trickle)].to_bytes())
                    i += 1
                    await asyncio.wait_for(writer.drain(), 5)
        except (OSError, TimeoutError):
            self.answers["reset"] += 1
        finally:
            self.open -= 1
            reply.cancel()
            writer.close()


def _answer(reply: asyncio.Future[bytes]) -> str:
    if reply.cancelled() or reply.exception() is not None:
        return "reset"
    line = reply.result()
    return line.split()[1].decode() if line.startswith(b"HTTP/") else "closed"


def fill(path: Path) -> int:
    """Append to ``path`` until its filesystem has not one byte left; bytes written."""
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 20, 4096, 1):
            chunk = bytes(size)
            while True:
                try:
                    written += os.write(fd, chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return written


@contextmanager
def tmpfs(path: Path, megabytes: int) -> Iterator[str | None]:
    """A tmpfs of ``megabytes`` at ``path``, unmounted after; yields None, or why it could
    not be mounted (not root, no CAP_SYS_ADMIN in a container...)."""
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={megabytes}m,mode=0700"
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        yield f"mount -t tmpfs failed: {exc}"
        return
    if mounted.returncode != 0:
        yield f"mount -t tmpfs failed: {mounted.stderr.strip() or mounted.returncode}"
        return
    try:
        yield None
    finally:
        for command in (["umount", str(path)], ["umount", "-l", str(path)]):
            with suppress(OSError, subprocess.TimeoutExpired):
                if subprocess.run(command, capture_output=True, timeout=30).returncode == 0:
                    break


LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()  # until told, or until the harness is gone
db.execute("ROLLBACK")
"""


class DbLock:
    """Another process holding ``BEGIN EXCLUSIVE`` on a SQLite database."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.proc: subprocess.Popen[str] | None = None

    def acquire(self, seconds: float = 30) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LOCKER, str(self.db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], seconds)
        if not ready or self.proc.stdout.readline().strip() != "locked":
            self.release()
            raise RuntimeError(f"could not lock {self.db} within {seconds:.0f} s")

    def release(self) -> None:
        if self.proc is None:
            return
        with suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.write("\n")
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


def _get(port: int, path: str) -> tuple[int, bytes]:
    with socket.create_connection((HOST, port), PROBE_TIMEOUT) as s:
        s.settimeout(PROBE_TIMEOUT)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def settle(port: int, seconds: float = 15, quick: float = 0.05) -> float | None:
    """Seconds until /healthz answers within ``quick`` (None: not within ``seconds``), so
    that what a fault leaves behind is not blamed on the next phase."""
    start = time.monotonic()
    while (t := time.monotonic()) - start < seconds:
        with suppress(OSError, ValueError, IndexError):
            if _get(port, "/healthz")[0] == 200 and time.monotonic() - t < quick:
                return round(t - start, 2)
        time.sleep(0.02)
    return None


def _probe(port: int, conn: Connection) -> None:
    """A probe on a fresh connection every 20 ms, as an orchestrator's would; /readyz
    every 250 ms. Times are CLOCK_MONOTONIC, which every process on the host shares."""
    for signum in (signal.SIGTERM, signal.SIGALRM):  # not the harness's handlers
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the harness stops it
    healthz: list[tuple[float, float]] = []
    readyz: list[tuple[float, str]] = []
    failed: list[float] = []
    next_ready, end = 0.0, time.monotonic() + 900
    while not conn.poll() and time.monotonic() < end:
        t = time.monotonic()
        try:
            status, _ = _get(port, "/healthz")
            if status != 200:
                failed.append(t)
            healthz.append((t, time.monotonic() - t))
        except (OSError, ValueError, IndexError):
            failed.append(t)
            healthz.append((t, PROBE_TIMEOUT))
        if t >= next_ready:
            next_ready = t + 0.25
            try:
                status, body = _get(port, "/readyz")
                readyz.append((t, f"{status} {json.loads(body).get('status', '?')}"))
            except (OSError, ValueError, IndexError):
                readyz.append((t, "no answer"))
        time.sleep(0.02)
    conn.send({"healthz": healthz, "failed": failed, "readyz": readyz})


class Probe:
    """`_probe` in its own process, so the load generator's event loop cannot delay it."""

    def __init__(self, port: int) -> None:
        context = multiprocessing.get_context("fork")
        self.conn, child = context.Pipe()
        self.proc = context.Process(target=_probe, args=(port, child), daemon=True)
        self.proc.start()

    def finish(self) -> dict[str, Any]:
        data: dict[str, Any] = {"healthz": [], "failed": [], "readyz": []}
        with suppress(OSError, EOFError):
            self.conn.send("stop")
            if self.conn.poll(PROBE_TIMEOUT * 3):
                data = self.conn.recv()
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)
        return data
