"""What another worker (or the command line) changed, brought into this worker: list
entries, API keys, ruleset standings, model publications.

One task per server runs every ``propagate_every`` and whenever a change feed says
something moved: it asks each followed registry whether its version moved and, if so,
reloads it. A feed only brings the news sooner (PostgreSQL LISTEN/NOTIFY from
``shopguard.registries``, Redis pub/sub from the list replication): a worker that missed
a notice (its feed was down, the notice was sent before it listened) still catches up at
the next poll, so a change reaches every worker within ``propagate_every`` at worst.

A feed is anything with ``subscribe(callback, stores)`` whose callback runs on any
thread; a followed registry is an async ``catch_up() -> bool`` (True: something was
reloaded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from starlette.concurrency import run_in_threadpool

from shopguard.rules import swap

if TYPE_CHECKING:
    from shopguard.engine import Engine
    from shopguard.model.registry import Models

CatchUp = Callable[[], Awaitable[bool]]
log = logging.getLogger("shopguard.propagate")


class Feed(Protocol):
    """A source of change notices (``shopguard.registries.ChangeFeed`` is one)."""

    def subscribe(self, callback: Callable[[Any], None], stores: Any = None) -> Any: ...
    def close(self) -> None: ...


class Follower:
    """Catches up with every followed registry every ``every`` seconds, sooner when
    woken by a feed. ``caught_up`` counts reloads per registry (metrics, tests)."""

    def __init__(self, every: float = 1.0) -> None:
        self.every = every
        self._followed: dict[str, CatchUp] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None
        self.caught_up: dict[str, int] = {}
        self.last_round = 0.0  # monotonic time the last round ended
        self.failures: dict[str, str] = {}  # registry -> why its last catch-up failed
        self.feeds: list[Any] = []  # the feeds it hears, closed with it

    def follow(self, name: str, catch_up: CatchUp) -> None:
        self._followed[name] = catch_up
        self.caught_up.setdefault(name, 0)

    def hear(self, feed: Feed, stores: Any = None) -> None:
        """Wake up when ``feed`` tells of a change (of ``stores``; None: any); the feed
        is closed with the follower."""
        feed.subscribe(lambda change: self.wake(), stores)
        self.feeds.append(feed)

    def close(self) -> None:
        for feed in self.feeds:
            feed.close()

    def wake(self) -> None:
        """Catch up now rather than at the next poll; safe from any thread."""
        loop, woken = self._loop, self._woken
        if loop is not None and woken is not None and not loop.is_closed():
            loop.call_soon_threadsafe(woken.set)

    async def round(self) -> None:
        """Ask every followed registry once; a failure is logged and retried next time."""
        for name, catch_up in self._followed.items():
            try:
                if await catch_up():
                    self.caught_up[name] += 1
                self.failures.pop(name, None)
            except Exception as exc:  # a failed look is logged and retried next time
                if name not in self.failures:
                    log.exception("following %s failed", name)
                self.failures[name] = f"{type(exc).__name__}: {exc}"
        self.last_round = time.monotonic()

    async def run(self) -> None:
        self._loop, self._woken = asyncio.get_running_loop(), asyncio.Event()
        while True:
            with contextlib.suppress(TimeoutError):  # no news: poll anyway
                await asyncio.wait_for(self._woken.wait(), self.every)
            self._woken.clear()
            await self.round()

    def problem(self) -> str | None:
        """Why this worker may be behind: a feed is not listening, rounds have stopped,
        or a registry fails."""
        for feed in self.feeds:
            listening = getattr(feed, "listening", None)
            if listening is not None and not listening.is_set():
                return "change feed not listening (PostgreSQL unreachable?)"
        if self.last_round and time.monotonic() - self.last_round > 5 * self.every + 5:
            return "catching up has stalled"
        if self.failures:
            return "; ".join(f"{name}: {why}" for name, why in sorted(self.failures.items()))
        return None


def rulesets(state: Any, engine: Engine) -> CatchUp:
    """The ruleset trail's champion, challenger and rollout (rules/swap.py)."""

    async def catch_up() -> bool:
        return await swap.follow(state, engine, state.rulesets)

    return catch_up


def models(engine: Engine, registry: Models) -> CatchUp:
    """The model registry's champion and challenger (``model: registry``): a newly
    published model is checked and loaded off the loop, then swapped in between two
    events."""
    from shopguard.model.registry import registered_scorers

    running = [registry.standing()]

    async def catch_up() -> bool:
        now = await run_in_threadpool(registry.standing)
        if now == running[0]:
            return False
        champion, challenger = await run_in_threadpool(registered_scorers, registry)
        engine.use_models(champion, challenger)
        running[0] = now
        return True

    return catch_up


def lists(engine: Engine) -> CatchUp:
    """The other workers' list changes (and link facts) from the shared change stream
    (state/changes.py). A decision folds them in anyway before it is judged; this makes
    a worker that decides nothing list them too (GET /v1/lists, the console). One round
    trip, on the engine's thread (the event loop)."""

    async def catch_up() -> bool:
        return engine.catch_up_peers()

    return catch_up
