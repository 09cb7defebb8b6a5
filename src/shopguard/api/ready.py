"""Readiness per dependency: the journal, the shared feature state (Redis), the
PostgreSQL registries and the change feed, each ``up`` or ``down`` with a reason.

A check either runs on the event loop (cheap and not thread-safe: the journal's write
probe, a feed's listening flag) or in a thread with a deadline (a network round trip:
Redis ``PING``, PostgreSQL ``SELECT 1``), all at once. /readyz is public and never shed,
so one round of checks serves every caller for ``fresh`` seconds: a flood of probes
costs the dependencies nothing.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any, NamedTuple

Probe = Callable[[], str | None]  # why the dependency is down, or None when up


class Check(NamedTuple):
    name: str
    probe: Probe
    threaded: bool = False  # a network round trip: in a thread, within the deadline


class Status(NamedTuple):
    problem: str | None  # None: up
    retry_after: float = 1.0


class Readiness:
    def __init__(self, checks: list[Check], deadline: float = 1.0, fresh: float = 0.5) -> None:
        self.checks, self.deadline, self.fresh = checks, deadline, fresh
        self._last: tuple[float, dict[str, str | None]] | None = None
        self._round: asyncio.Future[dict[str, str | None]] | None = None

    def add(self, check: Check) -> None:
        self.checks.append(check)
        self._last = None

    async def _threaded(self, check: Check) -> str | None:
        try:
            return await asyncio.wait_for(asyncio.to_thread(check.probe), self.deadline)
        except TimeoutError:
            return f"no answer within {self.deadline:g}s"
        except Exception as exc:  # a probe's own failure is the dependency's
            return f"{type(exc).__name__}: {exc}"

    async def _run(self) -> dict[str, str | None]:
        threaded = [c for c in self.checks if c.threaded]
        answers = await asyncio.gather(*(self._threaded(c) for c in threaded))
        found = dict(zip([c.name for c in threaded], answers, strict=True))
        for check in self.checks:
            if not check.threaded:
                try:
                    found[check.name] = check.probe()
                except Exception as exc:  # reported, never raised
                    found[check.name] = f"{type(exc).__name__}: {exc}"
        return {c.name: found[c.name] for c in self.checks}

    async def report(self) -> dict[str, str | None]:
        """Each dependency's problem (None: up), at most ``fresh`` seconds old."""
        now = time.monotonic()
        if self._last is not None and now - self._last[0] < self.fresh:
            return self._last[1]
        if self._round is None:  # callers arriving meanwhile share this round
            self._round = asyncio.ensure_future(self._run())
        round_ = self._round
        try:
            found = await round_
        finally:
            if self._round is round_:
                self._round = None
        self._last = (time.monotonic(), found)
        return found


def body(found: dict[str, str | None]) -> dict[str, Any]:
    """The per-dependency part of /readyz's body."""
    return {
        name: {"status": "up"} if why is None else {"status": "down", "reason": why}
        for name, why in found.items()
    }


def retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def redis_probe(url: str, cluster: bool, timeout: float) -> Probe:
    """PING over a connection of the check's own (the store's may be busy on the loop)."""
    import redis
    from redis.cluster import RedisCluster

    options: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    held: list[Any] = []  # made at the first probe: a cluster client connects at once

    def probe() -> str | None:
        try:
            if not held:
                made = RedisCluster.from_url if cluster else redis.Redis.from_url
                held.append(made(url, **options))
            held[0].ping()
        except redis.RedisError as exc:
            if cluster:
                held.clear()
            return f"Redis unreachable: {exc}"
        return None

    return probe


def postgres_probe(dsn: str, timeout: float) -> Probe:
    """``SELECT 1`` on one kept connection, made again after a failure."""
    import psycopg

    held: list[psycopg.Connection[Any]] = []

    def probe() -> str | None:
        try:
            if not held:
                held.append(
                    psycopg.connect(
                        dsn, autocommit=True, connect_timeout=max(1, math.ceil(timeout))
                    )
                )
            held[0].execute("SELECT 1")
        except psycopg.Error as exc:
            for db in held:
                db.close()
            held.clear()
            return f"PostgreSQL unreachable: {str(exc).strip()}"
        return None

    return probe
